"""Shared pytest configuration: the real-server harness and the database fixtures."""

pytest_plugins = ["tests.harness.fixtures", "tests.harness.database"]
