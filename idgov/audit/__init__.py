"""Hash-chained, append-only audit trail (21 CFR 11.10(e))."""
