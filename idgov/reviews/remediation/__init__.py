"""Carrying out signed revocations in directories and hosts, and verifying them (REV-4)."""
