"""Access reviews: campaigns, intake, decisions, remediation, evidence and queries (REV-1..6).

The tables shared by all of them are in models.py."""
