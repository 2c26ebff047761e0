"""A person's whole record, read for the console's person page (issue 15 item 2)."""
