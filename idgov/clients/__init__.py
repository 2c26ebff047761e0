"""Host clients: registered systems that call idgov with OAuth 2.0 client credentials (DEV-1)."""
