"""Campaigns: definitions, schedules and scope, the frozen population and who reviews each item,
reminders, escalation and moves, and closing (REV-1, REV-2, REV-5)."""
