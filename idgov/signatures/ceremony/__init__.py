"""The hosted signing ceremony: a host asks, the person re-authenticates at idgov and signs."""
