"""Policies: versioned documents (CHG-1) and pure rule evaluators."""
