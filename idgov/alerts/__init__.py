"""Alerts: an outbox written with the event, delivered by the worker (ALERT-1)."""
