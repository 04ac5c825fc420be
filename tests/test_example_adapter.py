"""The example third-party adapter package: its own tests pass, and installed beside plugshare it is found.

The slow test is the whole road a council's IT team takes: plugshare from its wheel in a fresh
virtual environment, the example package installed beside it, ``plugshare adapters list`` naming
it with its distribution, a conversion and a validation through the command, and
``PLUGSHARE_DISABLE_PLUGIN_AUTOLOAD=1`` hiding it again.
"""

import ast
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from plugshare.conformance import suite
from plugshare.conformance.model import Verdict
from plugshare.plugins import make_host
from plugshare.samples import MANIFEST, run_sample, sample_conversions
from tests.test_wheel import fresh_environment

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "plugshare-cash-receipts"
PACKAGE = EXAMPLE / "src" / "plugshare_cash_receipts"
SAMPLE = PACKAGE / "samples" / "receipts-2025-04-01.csv"


def test_the_examples_own_tests_pass(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(EXAMPLE / "src"), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PLUGSHARE_DISABLE_PLUGIN_AUTOLOAD", None)
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(EXAMPLE)],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"\b[0-9]+ passed\b", result.stdout) and "skipped" not in result.stdout


def test_the_example_declares_its_entry_point_and_documents_every_column():
    project = tomllib.loads((EXAMPLE / "pyproject.toml").read_text())
    assert project["project"]["entry-points"]["plugshare"] == {"cash_receipts": "plugshare_cash_receipts.plugin"}
    assert any(dependency.startswith("plugshare") for dependency in project["project"]["dependencies"])
    docstring = ast.get_docstring(ast.parse((PACKAGE / "__init__.py").read_text()))
    columns = SAMPLE.read_text().splitlines()[0].split(",")
    assert all(f" {column} " in docstring for column in columns)
    for section in ("The format\n", "Reading\n", "Writing\n", "Not supported: "):
        assert section in docstring


def test_the_examples_samples_are_synthetic_and_for_a_fictional_council():
    for sample in (PACKAGE / "samples").iterdir():
        text = sample.read_text(encoding="utf-8")
        assert re.search(r"\b(E0700099[1-3]|991[0-9]{7}|R991[0-9]{6})\b", text), sample


# --- the samples manifest and the conformance suite, in this process ------------------------------


@pytest.fixture
def example_plugin(monkeypatch):
    """The example's plugin module, imported from its source as its own tests do (``PYTHONPATH=src``)."""
    monkeypatch.syspath_prepend(str(EXAMPLE / "src"))
    return importlib.import_module("plugshare_cash_receipts.plugin")


def test_the_examples_manifest_declares_the_samples_the_suite_reads_and_each_holds(example_plugin, tmp_path):
    conversions = {c.name: c for c in sample_conversions(PACKAGE)}
    assert (PACKAGE / "samples" / MANIFEST).is_file()
    assert {"good", "one-bad-record"} <= set(conversions)
    assert {c.adapter for c in conversions.values()} == {"cash-receipts"}
    host = make_host(extra_plugins=(example_plugin,), load_entry_points=False)
    for name, conversion in conversions.items():
        result = run_sample(conversion, tmp_path / name, host)
        assert result.ok, (conversion.label, result.failures)
    bad = run_sample(conversions["one-bad-record"], tmp_path / "again", host).summary
    assert (bad.read, bad.converted, bad.quarantined) == (13, 12, 1)


def test_the_example_conforms_to_the_profiles_it_declares(example_plugin):
    host = make_host(extra_plugins=(example_plugin,), load_entry_points=False)
    declared = host.adapter("cash-receipts").conformance_profiles
    assert set(declared) == {"council-tax", "business-rates", "portability"}
    report, context = suite.run_adapter("cash-receipts", host=host)
    not_passed = {r.check.id: r.summary for r in report.results
                  if r.check.level == "MUST" and r.verdict is not Verdict.PASS}
    assert not not_passed, not_passed
    assert report.conforms and report.exit_code == 0 and set(report.profiles) == set(declared)
    assert {"PSC-ADP-002", "PSC-EXP-001", "PSC-EXP-002", "PSC-ADP-001"} <= {r.check.id for r in report.results}
    # receipts are keyed by their numbers, which the corpus's payments lack: every one is refused with that
    # reason, and the round trip compares the good sample's thirteen payments instead, as the report says
    trip = context.round_trip()
    assert trip.source == "its sample 'good'" and len(trip.pairs) == 13 and all(back for _, back in trip.pairs)
    assert trip.corpus_rejections and all("<council>-rcpt-<receipt_no>" in r["reason"]
                                          for r in trip.corpus_rejections)
    assert any("sample 'good' instead" in str(entry.get("detail")) for entry in report.readiness)


# --- installed beside plugshare, in a fresh environment ------------------------------------------


@pytest.fixture(scope="module")
def environment(tmp_path_factory):
    """plugshare's wheel and the example (with its test extra) installed in a new virtual environment."""
    work = tmp_path_factory.mktemp("example")
    _, bin_dir = fresh_environment(work)
    copy = work / EXAMPLE.name  # installed from a copy, so that the build leaves nothing in the repository
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache", ".hypothesis",
                                                                  ".ruff_cache", "*.egg-info", "build", "dist"))
    subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "--quiet", f"{copy}[test]"], check=True)
    return bin_dir, copy, work


def plugshare(bin_dir: Path, cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(bin_dir / "plugshare"), *args], cwd=cwd, capture_output=True, text=True,
                          env={"PATH": str(bin_dir), "HOME": str(cwd), **env})


def normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@pytest.mark.slow
def test_installed_the_adapter_is_listed_converts_and_validates_and_autoload_off_hides_it(environment, tmp_path):
    bin_dir, copy, _ = environment
    listed = plugshare(bin_dir, tmp_path, "adapters", "list", "--format", "json")
    assert listed.returncode == 0, listed.stdout + listed.stderr
    adapters = {entry["key"]: entry for entry in json.loads(listed.stdout)}
    mine = adapters["cash-receipts"]
    assert normalised(mine["distribution"]) == "plugshare-cash-receipts"
    assert mine["distribution_version"] == "0.1.0" and mine["plugin"] == "cash_receipts"
    assert not mine["builtin"] and mine["reads"] == mine["writes"] == ["revenues.payment"]
    assert adapters["bacs18"]["builtin"] and adapters["bacs18"]["distribution"] == "plugshare"

    sample = copy / "src" / "plugshare_cash_receipts" / "samples" / SAMPLE.name
    converted = plugshare(bin_dir, tmp_path, "convert", "--from", "cash-receipts", "--to", "canonical", str(sample),
                          "out.ndjson", "--option", "council=E07000991")
    assert converted.returncode == 0, converted.stdout + converted.stderr
    assert "13 converted, 0 quarantined" in converted.stdout
    validated = plugshare(bin_dir, tmp_path, "validate", "out.ndjson")
    assert validated.returncode == 0, validated.stdout + validated.stderr

    hidden = plugshare(bin_dir, tmp_path, "adapters", "list", "--format", "json",
                       PLUGSHARE_DISABLE_PLUGIN_AUTOLOAD="1")
    assert hidden.returncode == 0, hidden.stderr
    keys = [entry["key"] for entry in json.loads(hidden.stdout)]
    assert "cash-receipts" not in keys and "bacs18" in keys
    refused = plugshare(bin_dir, tmp_path, "convert", "--from", "cash-receipts", "--to", "canonical", str(sample),
                        "again.ndjson", "--option", "council=E07000991", PLUGSHARE_DISABLE_PLUGIN_AUTOLOAD="1")
    assert refused.returncode == 2 and "no adapter 'cash-receipts'" in refused.stderr


@pytest.mark.slow
def test_installed_the_examples_tests_pass_with_the_plugin_from_the_wheel(environment, tmp_path):
    bin_dir, copy, _ = environment
    result = subprocess.run([str(bin_dir / "python"), "-m", "pytest", "-p", "no:cacheprovider", str(copy)],
                            cwd=tmp_path, capture_output=True, text=True, timeout=900,
                            env={"PATH": str(bin_dir), "HOME": str(tmp_path), "PYTHONDONTWRITEBYTECODE": "1"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "plugshare-0.1.0" in result.stdout and "skipped" not in result.stdout


@pytest.mark.slow
def test_a_scaffolded_package_installs_beside_the_example(environment, tmp_path):
    bin_dir, _, _ = environment
    made = plugshare(bin_dir, tmp_path, "new-adapter", "acme-hr")
    assert made.returncode == 0, made.stdout + made.stderr
    subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "--quiet", str(tmp_path / "plugshare-acme-hr")],
                   check=True)
    listed = plugshare(bin_dir, tmp_path, "adapters", "list", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    keys = [entry["key"] for entry in json.loads(listed.stdout)]
    assert {"acme-hr", "cash-receipts", "bacs18"} <= set(keys)
