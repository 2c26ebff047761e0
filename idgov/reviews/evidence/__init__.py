"""The evidence pack: each item's record, totals and integrity checks, as JSON, CSV, PDF (REV-5)."""
