"""The read side of access reviews: what pages and the API show (read-only, REV-5)."""
