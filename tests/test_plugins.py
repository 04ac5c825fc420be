"""The plugin host: built-ins and entry points on one road, broken plugins reported by name."""

import inspect
import sys
import textwrap
from importlib.metadata import EntryPoint

import pytest

from plugshare import hookspecs, plugins
from plugshare.adapters.contract import Adapter
from plugshare.plugins import BUILTIN_PLUGINS, PluginError, make_host


@pytest.fixture
def plugin_dir(tmp_path, monkeypatch):
    """A directory on sys.path for throwaway plugin modules, and a way to declare them as entry points."""
    monkeypatch.syspath_prepend(str(tmp_path))
    declared: list[EntryPoint] = []

    def add(module: str, source: str) -> None:
        (tmp_path / f"{module}.py").write_text(textwrap.dedent(source))
        declared.append(EntryPoint(name=module, value=module, group=plugins.ENTRY_POINT_GROUP))

    monkeypatch.setattr(plugins, "entry_points", lambda group: [ep for ep in declared if ep.group == group])
    yield add
    for entry in declared:
        sys.modules.pop(entry.value, None)


GOOD_PLUGIN = """
    from plugshare.adapters.contract import Adapter
    from plugshare.hookspecs import hookimpl

    class LocalAdapter(Adapter):
        key = "local-{n}"
        title = "A council's local format"
        reads = ("hr.person",)

    @hookimpl
    def plugshare_register_adapters(register):
        register(LocalAdapter)
"""


def test_the_host_is_built_by_a_factory_and_not_at_import_time():
    module_source = inspect.getsource(plugins)
    assert "make_host()" not in module_source.split("def make_host")[0]
    assert make_host(load_entry_points=False).manager is not make_host(load_entry_points=False).manager


def test_every_hook_is_prefixed_and_documented():
    hooks = [name for name in dir(hookspecs) if name.startswith("plugshare_")]
    assert hooks, "no hooks declared"
    for name in hooks:
        function = getattr(hookspecs, name)
        assert function.__doc__ and len(function.__doc__.split()) > 20, f"{name} is not documented"
        assert "Called" in function.__doc__ and "Returns" in function.__doc__, name


def test_builtin_adapters_come_through_the_same_hook_as_third_party_ones(plugin_dir):
    plugin_dir("council_plugin", GOOD_PLUGIN.format(n=1))
    host = make_host(load_entry_points=True)
    impls = host.manager.hook.plugshare_register_adapters.get_hookimpls()
    names = {impl.plugin_name for impl in impls}
    assert "council_plugin" in names
    assert {name for name in BUILTIN_PLUGINS} <= set(host.plugins)
    entry = host.adapters()["local-1"]
    assert entry.plugin.name == "council_plugin" and not entry.plugin.builtin


def test_a_plugin_that_fails_to_import_is_named_and_the_others_still_load(plugin_dir):
    plugin_dir("broken_plugin", "raise RuntimeError('the vendor library is missing')\n")
    plugin_dir("council_plugin", GOOD_PLUGIN.format(n=2))
    host = make_host(load_entry_points=True)
    assert [f.name for f in host.failures] == ["broken_plugin"]
    assert "the vendor library is missing" in str(host.failures[0])
    assert "local-2" in host.adapters()


def test_a_misspelled_hook_is_an_error_naming_the_plugin_and_the_hook(plugin_dir):
    plugin_dir("typo_plugin", """
        from plugshare.hookspecs import hookimpl

        @hookimpl
        def plugshare_register_adaptors(register):
            pass
    """)
    host = make_host(load_entry_points=True)
    assert len(host.failures) == 1
    failure = str(host.failures[0])
    assert "typo_plugin" in failure and "plugshare_register_adaptors" in failure and "misspelling" in failure
    assert "typo_plugin" not in host.plugins


def test_a_hook_with_arguments_the_spec_lacks_is_refused(plugin_dir):
    plugin_dir("bad_args_plugin", """
        from plugshare.hookspecs import hookimpl

        @hookimpl
        def plugshare_register_adapters(register, council):
            pass
    """)
    host = make_host(load_entry_points=True)
    assert [f.name for f in host.failures] == ["bad_args_plugin"]
    assert "council" in str(host.failures[0])


def test_the_environment_variable_turns_entry_point_loading_off(plugin_dir, monkeypatch):
    plugin_dir("council_plugin", GOOD_PLUGIN.format(n=3))
    monkeypatch.setenv(plugins.AUTOLOAD_ENV, "1")
    host = make_host()
    assert "council_plugin" not in host.plugins and "local-3" not in host.adapters()
    monkeypatch.setenv(plugins.AUTOLOAD_ENV, "0")
    assert "local-3" in make_host().adapters()


def test_two_adapters_with_one_key_are_an_error_naming_both_plugins(plugin_dir):
    plugin_dir("first_plugin", GOOD_PLUGIN.format(n=4))
    plugin_dir("second_plugin", GOOD_PLUGIN.format(n=4))
    with pytest.raises(PluginError, match="first_plugin.*second_plugin"):
        make_host(load_entry_points=True).adapters()


def test_an_adapter_naming_a_message_type_outside_the_standard_is_refused():
    class Wrong(Adapter):
        key = "wrong"
        title = "wrong"
        reads = ("hr.employee",)

    class Plugin:
        @hookspecs.hookimpl
        def plugshare_register_adapters(self, register):
            register(Wrong)

    host = make_host(load_entry_points=False, extra_plugins=(Plugin(),))
    with pytest.raises(PluginError, match="hr.employee"):
        host.adapters()


def test_an_unknown_adapter_key_lists_the_installed_ones():
    host = make_host(load_entry_points=False)
    with pytest.raises(PluginError, match="no adapter 'nope'; installed adapters:"):
        host.adapter("nope")
