"""The pytest plugin for adapter authors: test an adapter against the standard in a few lines.

pytest loads this module in every run where plugshare is installed (the
``pytest11`` entry point ``plugshare``), so an adapter package's tests use the
fixtures below without importing anything::

    def test_the_sample_converts(plugshare_adapter):
        adapter = plugshare_adapter(CashReceiptsAdapter, council="E07000991")
        adapter.assert_output_validates("samples/receipts.csv")

    def test_the_bad_record_is_rejected(plugshare_adapter):
        plugshare_adapter(CashReceiptsAdapter).assert_rejects("samples/bad.csv", "payment method", count=1)

    def test_nothing_is_lost(plugshare_adapter, tmp_path):
        plugshare_adapter(CashReceiptsAdapter).assert_round_trip("samples/receipts.csv", tmp_path)

    def test_what_cannot_be_written_is_reported(plugshare_adapter, tmp_path):
        plugshare_adapter(CashReceiptsAdapter).assert_reports_loss("samples/canonical.ndjson", tmp_path)

Fixtures (named ``plugshare_*`` so that they never shadow a project's own):

``plugshare_adapter(adapter, **options)``
    an :class:`AdapterHarness` for an adapter class, or the key of an installed
    adapter; ``council`` and ``as_at`` default to :data:`DEFAULT_OPTIONS`.
``plugshare_validator``
    one :class:`~plugshare.validation.validator.MessageValidator` for the session.
``plugshare_host(*plugins, load_entry_points=False)``
    a plugin host built with :func:`plugshare.plugins.make_host`; a plugin that
    fails to load fails the test, naming it.
``plugshare_entry_points(name="package.plugin", ...)``
    makes the ``plugshare`` command see these entry points, as if the package
    were installed, for a command-line test before installing it.

The same checks are plain functions and a class for use outside fixtures:
:class:`AdapterHarness`, :func:`assert_valid`, :func:`assert_registered` and
:func:`canonical_view`. Each ``assert_*`` raises ``AssertionError`` with a
message that says which record, which requirement and why (personal data
masked), and returns what it checked so that a test can go on asserting.

Importing this module costs only pytest and the standard library: plugshare's
own modules are imported when a fixture or helper is first used.
"""


from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from plugshare.testing.checks import (
    DEFAULT_OPTIONS,
    ENVELOPE_IDENTITY,
    assert_registered,
    assert_valid,
    canonical_view,
    load_canonical,
)
from plugshare.testing.harness import AdapterHarness, Conversion

if TYPE_CHECKING:
    from plugshare.adapters.contract import Adapter
    from plugshare.plugins import PluginHost
    from plugshare.validation.validator import MessageValidator

__all__ = ["DEFAULT_OPTIONS", "ENVELOPE_IDENTITY", "AdapterHarness", "Conversion", "assert_registered",
           "assert_valid", "canonical_view", "load_canonical", "plugshare_adapter", "plugshare_entry_points",
           "plugshare_host", "plugshare_validator"]


# --- fixtures ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def plugshare_validator() -> MessageValidator:
    """One validator (published schemas and business rules) shared by the session."""
    from plugshare.validation.validator import MessageValidator

    return MessageValidator()


@pytest.fixture
def plugshare_adapter(plugshare_validator) -> Callable[..., AdapterHarness]:
    """A factory: ``plugshare_adapter(AdapterClass or "key", **options)`` -> :class:`AdapterHarness`."""

    def make(adapter: type[Adapter] | str, /, **options: str) -> AdapterHarness:
        return AdapterHarness(adapter, options, validator=plugshare_validator)

    return make


@pytest.fixture
def plugshare_host() -> Callable[..., PluginHost]:
    """A factory: ``plugshare_host(*plugins, load_entry_points=False, allow_failures=False)`` -> PluginHost.

    Built-in adapters are always there; ``plugins`` are modules (or objects) with hook
    implementations, such as an adapter package's ``plugin`` module before it is installed.
    Entry points are off unless asked for, so that what else is installed cannot change a test.
    """

    def make(*plugins: Any, load_entry_points: bool = False, allow_failures: bool = False) -> PluginHost:
        __tracebackhide__ = True
        from plugshare.plugins import make_host

        host = make_host(load_entry_points=load_entry_points, extra_plugins=plugins)
        if host.failures and not allow_failures:
            raise AssertionError("plugins failed to load:\n" + "\n".join(f"  {f}" for f in host.failures))
        return host

    return make


@pytest.fixture
def plugshare_entry_points(monkeypatch) -> Callable[..., None]:
    """A function: ``plugshare_entry_points(name="package.plugin", ...)`` declares the ``plugshare`` entry points.

    For the rest of the test, plugshare (the plugin host, so the ``plugshare`` command too) sees
    exactly these entry points, as if their packages were installed and nothing else were, and
    ``PLUGSHARE_DISABLE_PLUGIN_AUTOLOAD`` is unset: a package's tests can run ``plugshare convert
    --from its-key`` through ``click.testing.CliRunner`` before the package is installed.
    """

    def declare(**plugins: str) -> None:
        from importlib import import_module
        from importlib.metadata import EntryPoint

        host = import_module("plugshare.plugins")  # the module in sys.modules, which the command imports

        declared = [EntryPoint(name=name, value=value, group=host.ENTRY_POINT_GROUP) for name, value in plugins.items()]
        monkeypatch.setattr(host, "entry_points", lambda group: [ep for ep in declared if ep.group == group])
        monkeypatch.delenv(host.AUTOLOAD_ENV, raising=False)

    return declare

