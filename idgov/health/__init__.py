"""Operator health: configuration gaps that silently defeat a rule (`idgov check`)."""
