"""The built-in checks, registered through the plugin host like any council's local checks."""

from __future__ import annotations

from plugshare.hookspecs import hookimpl


@hookimpl
def plugshare_register_checks(register) -> None:
    from plugshare.conformance.checks import all_checks

    for check in all_checks():
        register(check)
