"""Validation evidence: the validation report and the certification letter (VAL-1, CERT-1)."""
