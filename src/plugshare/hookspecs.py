"""The hooks a plugshare plugin can implement.

A plugin is a module or object with functions named after these hooks and
marked with :data:`hookimpl`. Built-in adapters are plugins too, registered
through the same hooks as third-party ones. Hooks receive a ``register``
callable rather than returning lists, so that a plugin can contribute any
number of things and the host can say which plugin contributed each.

Third-party plugins are found through the ``plugshare`` entry point group::

    [project.entry-points.plugshare]
    my_adapter = "my_package.plugin"
"""

from __future__ import annotations

from collections.abc import Callable

import pluggy

PROJECT = "plugshare"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def plugshare_register_adapters(register: Callable[[type], None]) -> None:
    """Contribute adapters between a native format or API and the standard.

    Called once when the plugin host is built, for every plugin. Call
    ``register(AdapterClass)`` once for each adapter the plugin provides (a
    subclass of :class:`plugshare.adapters.contract.Adapter`); the
    class declares its key, title, message types and options (see
    :class:`plugshare.adapters.contract.Adapter`). Two adapters with the same
    key are an error naming both plugins. Returns nothing.
    """


@hookspec
def plugshare_register_checks(register: Callable[[object], None]) -> None:
    """Contribute conformance checks, so a council or a certification body can add local ones.

    Called once per plugin when the suite collects its checks. Call ``register(check)`` once for each
    :class:`plugshare.conformance.model.Check` the plugin provides. A check's id is stable (``PSC-`` plus an
    area and a number; local checks use their own area) and is never reused once retired; two checks with
    the same id are an error naming both plugins. Returns nothing.
    """
