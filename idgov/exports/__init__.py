"""Pieces shared by the exports (EXP-1): streamed CSV/JSON, HTML templates, PDF layout."""
