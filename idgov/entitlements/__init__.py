"""Entitlements: who holds which directory group or host-system role, with its source (REV-1)."""
