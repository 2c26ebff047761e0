"""How commands reach their services: an object the root group (`idgov.cli.main`) puts on
click's context, built by the composition root on first use, once per command run."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import click

from idgov.wiring import Services


class CommandServices:
    """The services of one command run, built lazily so `idgov --help` needs no settings."""

    def __init__(self, build: Callable[[Mapping[str, object] | None], Services]) -> None:
        self._build = build
        self._built: Services | None = None

    def get(self, options: Mapping[str, object] | None = None) -> Services:
        """Built on the first call, with that call's `options` over the settings."""
        if self._built is None:
            self._built = self._build(options)
        return self._built


def command_services(options: Mapping[str, object] | None = None) -> Services:
    """The running command's services (the root group put their builder on the context);
    `options` ("section.key": value) from the command line go over the settings."""
    holder = click.get_current_context().find_object(CommandServices)
    if holder is None:
        raise RuntimeError("idgov commands run under the root group, idgov.cli.main")
    return holder.get(options)
