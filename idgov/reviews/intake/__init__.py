"""What host systems push: full entitlement snapshots, checked before anything changes (REV-1)."""
