"""`plugshare serve` and `plugshare tokens` for real: a uvicorn process on a loopback port, over TCP.

PS-API-002 (bearer tokens) and PS-API-003 (tenancy) through the real server; the gateway (an adapter's
source served read-only, refreshed into the change feed); clean shutdown on SIGTERM.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from plugshare.api.tokens import split_token
from plugshare.models.canonical import canonical_json
from plugshare.validation.responses import ResponseChecker

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "spec" / "examples" / "valid"
HR_CSV = ROOT / "src" / "plugshare" / "adapters" / "samples" / "hr-csv"
PLUGSHARE = [sys.executable, "-m", "plugshare"]
FENMOOR, ASHCOMBE = "E07000991", "E07000992"


def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([*PLUGSHARE, *args], capture_output=True, text=True, timeout=60)
    if check:
        assert result.returncode == 0, result.stderr
    return result


class Server:
    """A `plugshare serve` process; its stdout is read until it says where it listens."""

    def __init__(self, *args: str):
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen([*PLUGSHARE, "serve", "--host", "127.0.0.1", "--port", "0",
                                         "--no-access-log", *args],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self.lines: list[str] = []
        self.url = ""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            self.lines.append(line.strip())
            if " listening on " in line:
                self.url = line.split(" listening on ")[1].split()[0]
                return
        self.stop()
        raise AssertionError(f"the server did not start: {self.lines} {self.process.stderr.read()}")

    def token(self) -> str:
        return next(line.split(": ", 1)[1] for line in self.lines if line.startswith("token for "))

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        finally:
            self.process.stdout.close()
            self.process.stderr.close()


@pytest.fixture
def checked():
    """An httpx client over TCP whose every response is checked against spec/openapi.yaml."""
    checker = ResponseChecker.published()
    violations: list[str] = []

    def check(response: httpx.Response) -> None:
        response.read()
        violations.extend(checker.check_httpx(response))

    with httpx.Client(timeout=30, event_hooks={"response": [check]}) as client:
        yield client
    assert not violations, "\n".join(violations)


def example(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text())


def test_tokens_create_prints_only_the_token_and_stores_it_hashed(tmp_path):
    db = tmp_path / "server.sqlite"
    token = run("tokens", "create", "--db", str(db), "--council", FENMOOR, "--label", "payroll bureau").stdout.strip()
    assert token.startswith("psk_") and "\n" not in token
    token_id, secret = split_token(token)  # the id and the secret may hold "_" themselves
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith(db.name))
    assert token_id.encode() in stored  # the search would find the token if it were there
    assert token.encode() not in stored and secret.encode() not in stored
    listed = run("tokens", "list", "--db", str(db)).stdout
    assert FENMOOR in listed and "payroll bureau" in listed and "active" in listed
    assert token not in listed


def test_tokens_revoke_given_the_whole_token_never_prints_its_secret(tmp_path):
    db = tmp_path / "server.sqlite"
    token = run("tokens", "create", "--db", str(db), "--council", FENMOOR).stdout.strip()
    token_id, secret = split_token(token)
    revoked = run("tokens", "revoke", "--db", str(db), token)
    assert revoked.stdout.strip() == f"revoked {token_id}"
    again = run("tokens", "revoke", "--db", str(db), token, check=False)
    assert again.returncode == 1 and token_id in again.stderr
    assert secret not in revoked.stdout + revoked.stderr + again.stdout + again.stderr
    assert "revoked" in run("tokens", "list", "--db", str(db)).stdout


def test_tokens_create_refuses_a_code_that_is_not_a_council(tmp_path):
    result = run("tokens", "create", "--db", str(tmp_path / "s.sqlite"), "--council", "X123", check=False)
    assert result.returncode == 2
    assert "GSS code" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("command", ["list", "revoke"])
def test_tokens_list_and_revoke_refuse_a_database_that_does_not_exist(tmp_path, command):
    db = tmp_path / "typo.sqlite"
    result = run("tokens", command, "--db", str(db), *(["abcdefghijkl"] if command == "revoke" else []), check=False)
    assert result.returncode == 1 and "no such database file" in result.stderr and "Traceback" not in result.stderr
    assert not db.exists()  # a typo makes no new, empty database


def test_serve_refuses_the_database_of_another_application_in_plain_words(tmp_path):
    db = tmp_path / "payroll.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE employees (ni_number TEXT)")
    result = run("serve", "--db", str(db), "--port", "0", check=False)
    assert result.returncode == 1 and "not of a plugshare server" in result.stderr
    assert "Traceback" not in result.stderr
    with sqlite3.connect(db) as conn:
        assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master")] == ["employees"]


def test_serve_refuses_options_that_a_gateway_would_ignore_or_misread():
    mixed = run("serve", "--adapter", "hr-csv", "--adapter-source", str(HR_CSV / "good"), "--synthetic",
                "--port", "0", check=False)
    assert mixed.returncode == 2 and "--load and --synthetic" in mixed.stderr
    garbled = run("serve", "--adapter", "hr-csv", "--adapter-source", str(HR_CSV / "good"),
                  "--adapter-option", "council", "--port", "0", check=False)
    assert garbled.returncode == 2 and "--adapter-option" in garbled.stderr and "NAME=VALUE" in garbled.stderr


def test_serve_reports_a_failure_to_load_as_such_not_as_an_address_in_use(monkeypatch):
    from plugshare import cli

    def unreadable(*args):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(cli, "_load", unreadable)
    result = CliRunner().invoke(cli.main, ["serve", "--port", "0"])
    assert isinstance(result.exception, PermissionError) and "cannot listen" not in result.output


def test_the_real_server_over_tcp_serves_one_council_per_token_and_stops_cleanly(tmp_path, checked):
    db = tmp_path / "server.sqlite"
    fenmoor = run("tokens", "create", "--db", str(db), "--council", FENMOOR).stdout.strip()
    ashcombe = run("tokens", "create", "--db", str(db), "--council", ASHCOMBE).stdout.strip()
    server = Server("--db", str(db))
    try:
        assert server.url.startswith("http://127.0.0.1:")
        base = server.url + "/v1"
        assert checked.get(f"{base}/health").json() == {"status": "ok"}
        assert checked.get(f"{base}/capabilities").json()["standard_version"]
        person = example("hr.person.json")
        record_id = person["data"]["id"]
        item = f"{base}/councils/{FENMOOR}/hr/person/{record_id}"
        put = checked.put(item, json=person, headers={"Authorization": f"Bearer {fenmoor}"})
        assert put.status_code == 201 and put.headers["ETag"]
        got = checked.get(item, headers={"Authorization": f"Bearer {fenmoor}"})
        assert got.status_code == 200 and canonical_json(got.json()) == canonical_json(person)
        assert checked.get(item).status_code == 401
        assert checked.get(item, headers={"Authorization": f"Bearer {ashcombe}"}).status_code == 403
        listed = checked.get(f"{base}/councils/{FENMOOR}/hr/person", headers={"Authorization": f"Bearer {fenmoor}"})
        assert [m["data"]["id"] for m in listed.json()["items"]] == [record_id]
    finally:
        assert server.stop() == 0  # SIGTERM: requests finish, the store closes, exit status 0
    with sqlite3.connect(db) as conn:  # what was written survived the shutdown
        assert conn.execute("SELECT count(*) FROM records WHERE council = ?", (FENMOOR,)).fetchone()[0] == 1


def test_serve_with_token_for_and_synthetic_data_in_memory(checked):
    server = Server("--token-for", FENMOOR, "--synthetic")
    try:
        token = server.token()
        page = checked.get(f"{server.url}/v1/councils/{FENMOOR}/hr/person", params={"limit": 5},
                           headers={"Authorization": f"Bearer {token}"})
        assert page.status_code == 200 and len(page.json()["items"]) == 5
        assert all(m["council"] == FENMOOR for m in page.json()["items"])
        other = checked.get(f"{server.url}/v1/councils/{ASHCOMBE}/hr/person",
                            headers={"Authorization": f"Bearer {token}"})
        assert other.status_code == 403
    finally:
        assert server.stop() == 0


def test_serve_reports_a_port_in_use_without_a_traceback():
    blocker = Server("--token-for", FENMOOR)
    try:
        port = blocker.url.rsplit(":", 1)[1]
        result = subprocess.run([*PLUGSHARE, "serve", "--port", port], capture_output=True, text=True, timeout=60)
        assert result.returncode == 1
        assert f"cannot listen on 127.0.0.1:{port}" in result.stderr and "Traceback" not in result.stderr
    finally:
        blocker.stop()


def canonical_sample(name: str) -> list[dict]:
    """What `plugshare convert --from hr-csv --to canonical` makes of a sample."""
    from plugshare.conversion import ConversionSummary, read_valid
    from plugshare.plugins import make_host

    adapter = make_host(load_entry_points=False).adapter("hr-csv")({"council": FENMOOR,
                                                                     "as_at": "2025-09-30T17:00:00Z"})
    return list(read_valid(adapter, str(HR_CSV / name), ConversionSummary()))


def test_the_gateway_serves_an_hr_flat_file_export_read_only_over_tcp(checked):
    server = Server("--adapter", "hr-csv", "--adapter-source", str(HR_CSV / "one-bad-record"),
                    "--adapter-option", f"council={FENMOOR}", "--adapter-option", "as_at=2025-09-30T17:00:00Z",
                    "--token-for", FENMOOR)
    try:
        auth = {"Authorization": f"Bearer {server.token()}"}
        capabilities = checked.get(f"{server.url}/v1/capabilities").json()
        assert capabilities["read_only"] is True
        assert {t["type"] for t in capabilities["message_types"]} <= {"hr.person", "hr.employment", "hr.position",
                                                                       "hr.org-unit", "hr.absence"}
        read = {canonical_json(m): m for m in canonical_sample("one-bad-record")}  # a person with two jobs: once
        expected = [m for m in read.values() if m["type"] == "uk.plugshare.hr.person"]
        served = checked.get(f"{server.url}/v1/councils/{FENMOOR}/hr/person", params={"limit": 1000},
                             headers=auth).json()["items"]
        assert sorted(canonical_json(m) for m in served) == sorted(read.keys() & {canonical_json(m) for m in expected})
        exported = checked.get(f"{server.url}/v1/councils/{FENMOOR}/export", headers=auth)
        assert sorted(canonical_json(json.loads(line)) for line in exported.text.splitlines()) == sorted(read)
        refused = checked.put(f"{server.url}/v1/councils/{FENMOOR}/hr/person/{expected[0]['data']['id']}",
                              json=expected[0], headers=auth)
        assert refused.status_code == 405 and "read-only" in refused.json()["detail"]
    finally:
        assert server.stop() == 0


def test_a_refreshing_gateway_stops_cleanly(tmp_path):
    server = Server("--adapter", "hr-csv", "--adapter-source", str(HR_CSV / "good"), "--refresh", "0.05",
                    "--adapter-option", f"council={FENMOOR}", "--adapter-option", "as_at=2025-09-30T17:00:00Z",
                    "--db", str(tmp_path / "gateway.sqlite"))
    time.sleep(1.0)  # several refreshes
    stderr_file = server.process.stderr
    status = server.process.send_signal(signal.SIGTERM) or server.process.wait(timeout=30)
    errors = stderr_file.read()
    server.stop()
    assert status == 0
    assert re.search(r"^gateway refresh: read [0-9]+ record\(s\): [0-9]+ unchanged$", errors, re.MULTILINE)
    assert "Traceback" not in errors and "refresh failed" not in errors


def test_the_refresh_thread_outlives_a_failed_refresh_and_ends_quietly_when_the_server_stops(monkeypatch, capsys):
    import threading

    from plugshare import cli
    from plugshare.api import gateway
    from plugshare.api.store import StoreError, open_store

    stopping, calls = threading.Event(), []
    real = gateway.refresh

    def flaky(store, adapter, source, quarantine=None):
        calls.append(len(calls))
        if len(calls) == 2:
            raise RuntimeError(f"broke on {FENMOOR}-p00001 with QQ123456C")  # an unexpected failure, once
        if len(calls) == 4:
            stopping.set()
            raise StoreError("the store is closed")  # what a refresh meets once serve has closed the store
        return real(store, adapter, source, quarantine)

    monkeypatch.setattr(gateway, "refresh", flaky)
    store = open_store(":memory:")
    _, refresher = cli._gateway_app(store, "hr-csv", str(HR_CSV / "good"),
                                    (f"council={FENMOOR}", "as_at=2025-09-30T17:00:00Z"), 0.01, None, stopping)
    refresher.join(30)
    store.close()
    errors = capsys.readouterr().err
    assert not refresher.is_alive() and len(calls) == 4
    assert "gateway refresh failed (RuntimeError), still serving the last copy" in errors
    assert "QQ123456C" not in errors and "Traceback" not in errors and "closed" not in errors


def test_each_gateway_refresh_rewrites_the_quarantine(tmp_path):
    import threading

    from plugshare import cli
    from plugshare.api.store import open_store

    quarantine, stopping = tmp_path / "quarantine.ndjson", threading.Event()
    store = open_store(":memory:")
    _, refresher = cli._gateway_app(store, "hr-csv", str(HR_CSV / "one-bad-record"),
                                    (f"council={FENMOOR}", "as_at=2025-09-30T17:00:00Z"), 0.01, quarantine, stopping)
    try:
        first = quarantine.read_text().splitlines()
        assert len(first) == 1  # the sample's one bad record, from the read at start
        quarantine.unlink()
        deadline = time.monotonic() + 30
        while not quarantine.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        stopping.set()
        refresher.join(30)  # the refresh under way finishes its quarantine first
        store.close()
    assert quarantine.read_text().splitlines() == first  # a later refresh wrote it again


def test_a_gateway_refresh_turns_records_gone_from_the_source_into_tombstones(tmp_path):
    from plugshare.api.gateway import refresh
    from plugshare.api.store import open_store
    from plugshare.api.tokens import Credential
    from plugshare.plugins import make_host

    source = tmp_path / "export"
    shutil.copytree(HR_CSV / "good", source)
    adapter = make_host(load_entry_points=False).adapter("hr-csv")({"council": FENMOOR,
                                                                     "as_at": "2025-09-30T17:00:00Z"})
    store = open_store(":memory:")
    first = refresh(store, adapter, str(source))
    distinct = {canonical_json(m) for m in canonical_sample("good")}  # a person with two jobs is read twice
    assert first.summary.quarantined == 0 and first.changes.get("created") == len(distinct)
    tenant = store.tenant(Credential("t", frozenset({FENMOOR}), None), FENMOOR)
    since = tenant.snapshot_time()
    again = refresh(store, adapter, str(source))
    assert set(again.changes) <= {"unchanged"}, again.changes  # nothing changed: nothing in the feed
    assert tenant.changes("hr.absence", since, 100) == []

    absences = (source / "absences.csv").read_text().splitlines(keepends=True)
    (source / "absences.csv").write_text("".join(absences[:-1]))  # the legacy system deleted one absence
    third = refresh(store, adapter, str(source))
    assert third.changes.get("deleted") == 1
    feed = tenant.changes("hr.absence", since, 100)
    assert len(feed) == 1 and feed[0].deleted and feed[0].message["action"] == "delete"
    tombstone = feed[0].message
    assert tombstone["source"] == f"urn:plugshare:{FENMOOR}:gateway" and tombstone["time"] == feed[0].changed_at
    assert refresh(store, adapter, str(source)).changes.get("deleted") is None  # deleted once, not again
    store.close()
