"""Loss management: report, deauthorize, re-verify, temporary and replacement (LOSS-1/2)."""
