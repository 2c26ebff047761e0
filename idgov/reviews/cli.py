"""`idgov campaigns`: define, start, follow and report access-review campaigns."""

from __future__ import annotations

import click


@click.group()
def campaigns() -> None:
    """Access-review campaigns (REV-1..6)."""
