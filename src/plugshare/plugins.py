"""The plugin host: one pluggy manager, built by a factory, never at import time.

Built-in adapters are plugins listed in :data:`BUILTIN_PLUGINS` and registered
through the same hooks as third-party plugins, which are found through the
``plugshare`` entry point group. A plugin that fails to import, whose hook
implementations do not match the specifications, or that implements a hook
that does not exist (a misspelling) is left out and reported by name; the
others still load. ``PLUGSHARE_DISABLE_PLUGIN_AUTOLOAD=1`` turns entry-point
loading off, for reproducible runs and tests.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pluggy

from plugshare import __version__, hookspecs

if TYPE_CHECKING:
    from plugshare.adapters.contract import Adapter

ENTRY_POINT_GROUP = "plugshare"
AUTOLOAD_ENV = "PLUGSHARE_DISABLE_PLUGIN_AUTOLOAD"

BUILTIN_PLUGINS: tuple[str, ...] = (
    "plugshare.adapters.hr_csv",
    "plugshare.adapters.hr_rest",
    "plugshare.adapters.rti_fps",
    "plugshare.adapters.bacs18",
    "plugshare.adapters.ctax_fixed",
    "plugshare.adapters.voa_list",
    "plugshare.conformance.builtin",
)


class PluginError(Exception):
    """The plugin setup cannot work: two adapters claim one key, or an adapter's declaration is wrong."""


@dataclass(frozen=True)
class PluginInfo:
    """Where a plugin came from: its name, the distribution that installed it, and its version."""

    name: str
    distribution: str
    version: str
    builtin: bool


@dataclass(frozen=True)
class PluginFailure:
    """A plugin that was left out, and why."""

    name: str
    distribution: str | None
    reason: str

    def __str__(self) -> str:
        origin = f" (from {self.distribution})" if self.distribution else ""
        return f"plugin {self.name!r}{origin} was not loaded: {self.reason}"


@dataclass(frozen=True)
class AdapterEntry:
    adapter: type[Adapter]
    plugin: PluginInfo

    def describe(self) -> dict[str, Any]:
        return {**self.adapter.describe(), "plugin": self.plugin.name, "distribution": self.plugin.distribution,
                "distribution_version": self.plugin.version, "builtin": self.plugin.builtin}


@dataclass
class PluginHost:
    """The loaded plugins and what they contribute; a typed facade over the hooks."""

    manager: pluggy.PluginManager
    plugins: dict[str, PluginInfo] = field(default_factory=dict)
    failures: list[PluginFailure] = field(default_factory=list)
    _adapters: dict[str, AdapterEntry] | None = None

    def adapters(self) -> dict[str, AdapterEntry]:
        """Every adapter by key, built-in first, then third-party in load order."""
        if self._adapters is None:
            self._adapters = {}
            # get_hookimpls() lists implementations in registration order (pluggy calls them in reverse)
            for impl in self.manager.hook.plugshare_register_adapters.get_hookimpls():
                for adapter in _collect(impl.function):
                    self._add_adapter(adapter, self.plugins[impl.plugin_name])
        return self._adapters

    def contributions(self, hook_name: str) -> list[tuple[Any, PluginInfo]]:
        """What every plugin registered through ``hook_name`` (a ``register`` hook), in registration order,
        each with the plugin that contributed it, for layers that validate their own kind of contribution."""
        hook = getattr(self.manager.hook, hook_name)
        return [(item, self.plugins[impl.plugin_name]) for impl in hook.get_hookimpls()
                for item in _collect(impl.function)]

    def adapter(self, key: str) -> type[Adapter]:
        adapters = self.adapters()
        if key not in adapters:
            known = ", ".join(sorted(adapters)) or "none"
            raise PluginError(f"no adapter {key!r}; installed adapters: {known} (see 'plugshare adapters list')")
        return adapters[key].adapter

    def _add_adapter(self, adapter: Any, info: PluginInfo) -> None:
        from plugshare.adapters.contract import Adapter
        from plugshare.models import MESSAGE_TYPES

        if not (isinstance(adapter, type) and issubclass(adapter, Adapter)):
            raise PluginError(f"plugin {info.name!r} registered {adapter!r}, which is not an Adapter subclass")
        for attribute in ("key", "title"):
            if not isinstance(getattr(adapter, attribute, None), str):
                raise PluginError(f"plugin {info.name!r}: adapter {adapter.__name__} declares no {attribute}")
        unknown = [t for t in (*adapter.reads, *adapter.writes) if t not in MESSAGE_TYPES]
        if unknown:
            raise PluginError(f"plugin {info.name!r}: adapter {adapter.key!r} names message types the standard "
                              f"does not have: {', '.join(unknown)}")
        assert self._adapters is not None
        if adapter.key in self._adapters:
            other = self._adapters[adapter.key].plugin
            raise PluginError(f"adapter key {adapter.key!r} is registered by both plugin {other.name!r} "
                              f"({other.distribution}) and plugin {info.name!r} ({info.distribution}); "
                              "uninstall one of them")
        self._adapters[adapter.key] = AdapterEntry(adapter, info)


def _collect(hook) -> list[Any]:
    found: list[Any] = []
    hook(register=found.append)
    return found


def autoload_enabled() -> bool:
    return os.environ.get(AUTOLOAD_ENV, "").strip().lower() not in {"1", "true", "yes", "on"}


def make_host(*, load_entry_points: bool | None = None, extra_plugins: tuple[Any, ...] = ()) -> PluginHost:
    """Build the plugin host: built-ins, then entry points (unless disabled), then ``extra_plugins``."""
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    host = PluginHost(manager)
    for module_name in BUILTIN_PLUGINS:
        _register(host, module_name, lambda name=module_name: importlib.import_module(name),
                  PluginInfo(module_name, "plugshare", __version__, builtin=True))
    if load_entry_points is None:
        load_entry_points = autoload_enabled()
    if load_entry_points:
        for entry_point in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name):
            dist = entry_point.dist
            info = PluginInfo(entry_point.name, dist.name if dist else "unknown", dist.version if dist else "",
                              builtin=False)
            _register(host, entry_point.name, _loader(entry_point), info)
    for plugin in extra_plugins:
        name = getattr(plugin, "__name__", None) or type(plugin).__name__
        _register(host, name, lambda plugin=plugin: plugin, PluginInfo(name, "(registered in code)", "", False))
    return host


def _loader(entry_point: EntryPoint):
    return entry_point.load


def _register(host: PluginHost, name: str, load, info: PluginInfo) -> None:
    if name in host.plugins or host.manager.has_plugin(name):
        host.failures.append(PluginFailure(name, info.distribution, "a plugin of that name is already loaded"))
        return
    try:
        plugin = load()
    except Exception as exc:  # one broken plugin must not take down the rest
        host.failures.append(PluginFailure(name, info.distribution, f"it failed to import: {exc!r}"))
        return
    try:
        host.manager.register(plugin, name=name)
    except (pluggy.PluginValidationError, ValueError) as exc:
        host.failures.append(PluginFailure(name, info.distribution, f"its hooks do not match: {exc}"))
        return
    try:
        host.manager.check_pending()
    except pluggy.PluginValidationError as exc:
        host.manager.unregister(name=name)
        unknown = [hook for hook in dir(plugin) if hook.startswith("plugshare_")
                   and getattr(getattr(host.manager.hook, hook, None), "spec", None) is None]
        reason = (f"it implements hooks plugshare does not have: {', '.join(unknown)} (a misspelling?)"
                  if unknown else str(exc))
        host.failures.append(PluginFailure(name, info.distribution, reason))
        return
    host.plugins[name] = info


def plugin_module(name: str) -> ModuleType | None:
    """A built-in plugin's module, for tests and documentation."""
    return importlib.import_module(name) if name in BUILTIN_PLUGINS else None
