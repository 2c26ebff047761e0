"""Access reviews: campaigns over entitlements, decisions, sign-off, remediation, evidence."""
