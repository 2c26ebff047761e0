"""Tokens (TOTP), periodic token testing and loss management (11.300(c), (e))."""
