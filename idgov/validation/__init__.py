"""The validation package (VAL-1): IQ, OQ, traceability matrix, comparison and signed report."""
