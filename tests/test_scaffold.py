"""``plugshare new-adapter``: a package with an entry point, a sample, and tests that pass as generated."""

import ast
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from importlib import resources
from pathlib import Path

import pytest
from click.testing import CliRunner

import plugshare.cli
from plugshare.conformance import suite
from plugshare.conformance.model import Verdict
from plugshare.plugins import make_host
from plugshare.samples import run_sample, sample_conversions
from plugshare.scaffold import FILES, Names, new_adapter, normalise_name


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    return new_adapter("acme-hr", tmp_path_factory.mktemp("scaffold") / "plugshare-acme-hr")


def run_tests(package: Path, cwd: Path) -> subprocess.CompletedProcess:
    """The generated tests, in a subprocess with the current interpreter and the package's src on the path."""
    env = {**os.environ, "PYTHONPATH": str(package / "src"), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PLUGSHARE_DISABLE_PLUGIN_AUTOLOAD", None)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(package)], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=600)


def test_the_generated_tests_pass_as_generated(generated, tmp_path):
    result = run_tests(generated, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "13 passed" in result.stdout and "skipped" not in result.stdout


def test_the_package_has_its_files_and_the_entry_point(generated):
    made = sorted(str(p.relative_to(generated)) for p in generated.rglob("*") if p.is_file())
    assert made == ["README.md", "pyproject.toml", "src/plugshare_acme_hr/__init__.py",
                    "src/plugshare_acme_hr/plugin.py", "src/plugshare_acme_hr/samples/bad-unit-type.csv",
                    "src/plugshare_acme_hr/samples/org-units.csv", "src/plugshare_acme_hr/samples/samples.json",
                    "tests/test_adapter.py"]
    project = tomllib.loads((generated / "pyproject.toml").read_text())
    assert project["project"]["name"] == "plugshare-acme-hr"
    assert "plugshare>=0.1,<1" in project["project"]["dependencies"]
    assert project["project"]["entry-points"]["plugshare"] == {"acme_hr": "plugshare_acme_hr.plugin"}
    assert project["build-system"]["build-backend"] == "hatchling.build"


def test_the_generated_code_is_python_with_no_placeholder_left(generated):
    for path in generated.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            assert "{{" not in text, path
            if path.suffix == ".py":
                ast.parse(text, str(path))
    plugin = (generated / "src" / "plugshare_acme_hr" / "plugin.py").read_text()
    assert 'KEY = "acme-hr"' in plugin and "class AcmeHrAdapter(Adapter):" in plugin


def test_the_samples_are_csv_with_crlf_lines(generated):
    sample = (generated / "src" / "plugshare_acme_hr" / "samples" / "org-units.csv").read_bytes()
    assert sample.startswith(b"unit_code,unit_name,unit_type,") and sample.endswith(b"\r\n")
    assert sample.count(b"\r\n") == sample.count(b"\n") == 9


def test_the_generated_code_passes_the_projects_lint(generated):
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent))
    if ruff is None:
        pytest.skip("ruff is not installed beside this interpreter")
    result = subprocess.run([ruff, "check", "--no-cache", "--isolated", "--line-length", "120", "--select",
                             "E,F,W,B,I,UP", "--target-version", "py311", "."], cwd=generated, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_manifest_declares_the_samples_the_suite_reads(generated):
    manifest = json.loads((generated / "src" / "plugshare_acme_hr" / "samples" / "samples.json").read_text())
    assert manifest["adapter"] == "acme-hr"
    conversions = {c.name: c for c in sample_conversions(generated / "src" / "plugshare_acme_hr")}
    assert {"good", "one-bad-record"} <= set(conversions)
    assert all(c.input.is_file() and c.options["council"] == "E07000991" for c in conversions.values())


# --- through the conformance suite, in this process ------------------------------------------------


def scaffolded_plugin(name: str, directory: Path, monkeypatch):
    """A freshly generated package's plugin module, imported from its source as ``PYTHONPATH=src`` would."""
    package = new_adapter(name, directory)
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    monkeypatch.syspath_prepend(str(package / "src"))
    return package, importlib.import_module(f"{Names(name).package}.plugin")


def test_a_scaffolded_adapter_conforms_to_the_profiles_it_declares(tmp_path, monkeypatch):
    package, plugin = scaffolded_plugin("acme-units", tmp_path / "units", monkeypatch)
    host = make_host(extra_plugins=(plugin,), load_entry_points=False)
    declared = host.adapter("acme-units").conformance_profiles
    assert set(declared) == {"hr-core", "portability"}
    for conversion in sample_conversions(package / "src" / "plugshare_acme_units"):
        assert run_sample(conversion, tmp_path / "samples", host).ok, conversion.label
    report, context = suite.run_adapter("acme-units", host=host)
    not_passed = {r.check.id: r.summary for r in report.results
                  if r.check.level == "MUST" and r.verdict is not Verdict.PASS}
    assert not not_passed, not_passed
    assert report.conforms and report.exit_code == 0 and set(report.profiles) == set(declared)
    assert {"PSC-ADP-002", "PSC-EXP-001", "PSC-EXP-002", "PSC-ADP-001"} <= {r.check.id for r in report.results}
    # the corpus's own org units make the round trip (their codes are in lower case): all ten come back
    trip = context.round_trip()
    assert trip.source == "corpus" and len(trip.pairs) == 10 and all(back for _, back in trip.pairs)
    assert not trip.rejections and not trip.extra


def test_without_its_manifest_a_scaffolded_adapter_cannot_show_its_bad_record_handling(tmp_path, monkeypatch):
    package, plugin = scaffolded_plugin("acme-sites", tmp_path / "sites", monkeypatch)
    (package / "src" / "plugshare_acme_sites" / "samples" / "samples.json").unlink()
    report, _ = suite.run_adapter("acme-sites", host=make_host(extra_plugins=(plugin,), load_entry_points=False))
    (skipped,) = [r for r in report.results if r.check.id == "PSC-ADP-002"]
    assert skipped.verdict is Verdict.SKIPPED and "samples/samples.json" in skipped.reason
    assert not report.conforms and report.exit_code == 1


def test_every_template_ships_with_plugshare():
    templates = resources.files("plugshare") / "scaffold_templates"
    for template, _ in FILES:
        assert (templates / template).is_file(), template


# --- names -----------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "key"), [
    ("acme-hr", "acme-hr"), ("Acme_HR", "acme-hr"), ("CIVICA", "civica"), ("plugshare-acme", "acme"),
    ("icon2", "icon2"),
])
def test_names_are_normalised_to_a_key(name, key):
    assert normalise_name(name) == key


@pytest.mark.parametrize(("name", "says"), [
    ("", "the adapter needs a name"),
    ("   ", "the adapter needs a name"),
    ("acme hr", "'acme hr' has spaces; an adapter's name is one word with hyphens, e.g. 'acme-hr'"),
    ("Acme\tHR", "has spaces"),
    ("9lives", "start"),
    ("acme--hr", "single hyphens"),
    ("acme-", "single hyphens"),
    ("acmé", "letters, digits and single hyphens"),
    ("acme.hr", "letters, digits and single hyphens"),
    ("a" * 41, "41 characters"),
    ("canonical", "'canonical' is reserved"),
])
def test_a_bad_name_is_a_clear_error_and_writes_nothing(tmp_path, name, says):
    with pytest.raises(ValueError, match=re.escape(says)):
        new_adapter(name, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_taken_key_is_refused_and_writes_nothing(tmp_path):
    with pytest.raises(ValueError, match="'hr-csv' is the key of an adapter built into plugshare"):
        new_adapter("HR_CSV", tmp_path / "out", taken={"hr-csv"})
    assert not (tmp_path / "out").exists()
    assert normalise_name("hr-csv-acme", taken={"hr-csv"}) == "hr-csv-acme"


BUILTIN_KEYS = sorted(make_host(load_entry_points=False).adapters())


@pytest.mark.parametrize("key", BUILTIN_KEYS)
def test_the_command_refuses_the_key_of_a_builtin_adapter(tmp_path, monkeypatch, key):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(plugshare.cli.main, ["new-adapter", key])
    assert result.exit_code == 1
    assert f"Error: {key!r} is the key of an adapter built into plugshare" in result.output
    assert list(tmp_path.iterdir()) == []


def test_a_name_in_upper_case_makes_a_lower_case_package(tmp_path):
    made = new_adapter("Acme_HR", tmp_path / "plugshare-Acme_HR")
    assert made == tmp_path / "plugshare-acme-hr"
    assert (made / "src" / "plugshare_acme_hr" / "plugin.py").is_file()
    assert not (tmp_path / "plugshare-Acme_HR").exists()


def test_an_existing_directory_is_refused_unless_empty(tmp_path):
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="already exists and is not an empty directory"):
        new_adapter("acme", taken)
    assert [p.name for p in taken.iterdir()] == ["notes.txt"]
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="already exists"):
        new_adapter("acme", tmp_path / "file")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert (new_adapter("acme", empty) / "pyproject.toml").is_file()


# --- the command ------------------------------------------------------------------------------


def test_the_command_prints_what_it_made_and_the_next_steps(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(plugshare.cli.main, ["new-adapter", "Acme_HR"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["created plugshare-acme-hr",
                                          "next: pip install -e 'plugshare-acme-hr[test]' && pytest plugshare-acme-hr"]
    assert (tmp_path / "plugshare-acme-hr" / "tests" / "test_adapter.py").is_file()
    again = runner.invoke(plugshare.cli.main, ["new-adapter", "acme-hr"])
    assert again.exit_code == 1 and "plugshare-acme-hr already exists" in again.output


def test_the_command_takes_a_directory_and_reports_a_bad_name(tmp_path):
    runner = CliRunner()
    result = runner.invoke(plugshare.cli.main, ["new-adapter", "payments", "--directory", str(tmp_path / "p")])
    assert result.exit_code == 0 and f"created {tmp_path / 'p'}" in result.output
    result = runner.invoke(plugshare.cli.main, ["new-adapter", "my payments"])
    assert result.exit_code == 1
    assert "Error: 'my payments' has spaces; an adapter's name is one word with hyphens, e.g. 'my-payments'" in \
        result.output
