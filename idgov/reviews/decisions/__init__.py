"""Reviewers' work: certify or revoke each item, then sign off with an e-signature (REV-3)."""
