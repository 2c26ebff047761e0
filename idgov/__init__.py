"""idgov: identity and access-governance sidecar for FDA 21 CFR Part 11."""

__version__ = "0.1.0"
