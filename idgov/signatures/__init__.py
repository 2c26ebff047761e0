"""Step-up electronic signatures for host systems (21 CFR 11.50, 11.70, 11.200)."""
