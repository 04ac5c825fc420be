"""The suite's self-test: the reference server and every built-in adapter pass the profiles they declare.

The first test is the issue's own: `plugshare conformance run` against `plugshare serve` on a loopback
port, for all profiles, exits 0 and writes report.json, junit.xml and report.html. The defective
suppliers, each failed by its expected check, are in tests/test_conformance_api.py.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from test_api_server import Server, run

from plugshare.conformance import suite
from plugshare.conformance.adapter_target import derived_profiles
from plugshare.conformance.model import Verdict
from plugshare.conformance.profiles import load_profiles
from plugshare.conformance.report import read_report
from plugshare.plugins import make_host
from plugshare.standard.requirements import catalogue

PLUGSHARE = [sys.executable, "-m", "plugshare"]
HOST = make_host(load_entry_points=False)
FENMOOR, ASHCOMBE = "E07000991", "E07000992"


def test_the_suite_run_against_plugshare_serve_for_all_profiles_passes_and_writes_three_reports(tmp_path):
    db = tmp_path / "server.sqlite"
    fenmoor = run("tokens", "create", "--db", str(db), "--council", FENMOOR).stdout.strip()
    ashcombe = run("tokens", "create", "--db", str(db), "--council", ASHCOMBE).stdout.strip()
    server = Server("--db", str(db))
    profiles = [arg for profile in sorted(load_profiles()) for arg in ("--profile", profile)]
    try:
        result = subprocess.run([*PLUGSHARE, "conformance", "run", "--target", server.url,
                                 "--council", FENMOOR, "--token", fenmoor, "--council", ASHCOMBE, "--token", ashcombe,
                                 *profiles, "--out", str(tmp_path / "reports")],
                                capture_output=True, text=True, timeout=300)
    finally:
        assert server.stop() == 0
    assert result.returncode == 0, result.stdout + result.stderr
    assert "CONFORMS to" in result.stdout and "Traceback" not in result.stderr
    written = {path.name for path in (tmp_path / "reports").iterdir()}
    assert {"report.json", "junit.xml", "report.html"} <= written
    report = read_report(tmp_path / "reports" / "report.json")  # validates against the published schema
    assert report["verdict"] == "conforms" and report["exit_code"] == 0
    assert sorted(report["profiles"]) == sorted(load_profiles())
    assert all(r["verdict"] in ("pass", "not_applicable") for r in report["results"] if r["level"] == "MUST")
    for name in written:
        text = (tmp_path / "reports" / name).read_text(encoding="utf-8")
        assert fenmoor not in text and ashcombe not in text and "psk_" not in text


BUILTIN = [key for key, entry in HOST.adapters().items() if entry.plugin.builtin]


@pytest.mark.parametrize("key", BUILTIN)
def test_each_builtin_adapter_passes_every_profile_it_declares(key):
    assert derived_profiles(HOST.adapter(key)), f"{key} declares no profile"
    report, _ = suite.run_adapter(key, host=HOST)
    failed = {r.check.id: (r.verdict.value, r.summary, r.reason) for r in report.results
              if r.check.level == "MUST" and r.verdict not in (Verdict.PASS, Verdict.NOT_APPLICABLE)}
    assert not failed, failed
    assert report.exit_code == 0
    assert any(r.verdict is Verdict.PASS for r in report.results)


def test_conformance_requirements_covers_or_explains_every_must_requirement():
    result = subprocess.run([*PLUGSHARE, "conformance", "requirements", "--format", "json"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    rows = rows["requirements"] if isinstance(rows, dict) else rows
    by_id = {row["requirement"]: row for row in rows}
    for requirement in catalogue():
        assert requirement.id in by_id, f"{requirement.id} is not listed"
        if requirement.level == "MUST":
            row = by_id[requirement.id]
            assert row["checks"] or row["reason"], f"{requirement.id} has neither a check nor a reason"


def test_runs_of_different_profiles_one_after_another_on_one_server_each_pass():
    """A server keeps what an earlier run loaded: records of types this run does not test must not count
    against it (an invalid example naming an id an earlier run stored is refused, and the record stays)."""
    from plugshare.api.app import make_app
    from plugshare.api.server import running
    from plugshare.api.store import open_store
    from plugshare.api.tokens import create_token

    store = open_store(":memory:")
    councils = [(code, create_token(store, [code])) for code in (FENMOOR, ASHCOMBE)]
    with store, running(make_app(store)) as where:
        for profiles in (["hr-core", "api-core"], ["payroll-core", "api-core"], ["hr-core", "api-core"]):
            report = suite.run_api(where.url, councils, profiles, host=HOST)
            failed = [(r.check.id, r.summary) for r in report.results if r.verdict not in (Verdict.PASS,
                                                                                           Verdict.NOT_APPLICABLE)]
            assert not failed and report.exit_code == 0, (profiles, failed)
