"""`plugshare migrate`: a council's data moved between two suppliers through the standard API, then verified.

Two reference servers on loopback (in this process, real HTTP), the synthetic shared service in the source;
a gateway over an adapter as a source; interruptions by a progress callback and by SIGKILL of the command.
"""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import anyio
import pytest

from plugshare.api.app import make_app
from plugshare.api.server import running
from plugshare.api.store import Store, open_store
from plugshare.api.tokens import Credential, create_token
from plugshare.client import PlugshareClient
from plugshare.migration import (
    CHECKPOINT,
    EQUAL,
    MIGRATION_HTML,
    MIGRATION_JSON,
    NOT_EQUAL,
    Comparison,
    Difference,
    MigrationError,
    api_root,
    differing_fields,
    migrate,
    next_steps,
    summary_lines,
)
from plugshare.models import message_type_of
from plugshare.synthetic import generate

FENMOOR, ASHCOMBE = "E07000991", "E07000992"
ROOT = Path(__file__).resolve().parents[1]
HR_CSV = ROOT / "src" / "plugshare" / "adapters" / "samples" / "hr-csv"
PLUGSHARE = [sys.executable, "-m", "plugshare"]
ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}


def expected_counts(council: str = FENMOOR) -> Counter:
    return Counter(message_type_of(m["type"]) for m in generate() if m["council"] == council)


class Gate:
    """Holds the target's second and later imports until opened, so a command can be killed mid-migration."""

    def __init__(self, app):
        self.app = app
        self.imports = 0
        self.arrived = _event()
        self.opened = _event()

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"].endswith("/import"):
            self.imports += 1
            if self.imports >= 2:
                self.arrived.set()
                while not self.opened.is_set():
                    await anyio.sleep(0.01)
        await self.app(scope, receive, send)


def _event():
    import threading

    return threading.Event()


@dataclass
class Pair:
    source_url: str
    target_url: str
    source_token: str
    target_token: str
    source_store: Store
    target_store: Store
    gate: Gate | None = None

    def clients(self) -> tuple[PlugshareClient, PlugshareClient]:
        return (PlugshareClient(self.source_url, self.source_token, council=FENMOOR),
                PlugshareClient(self.target_url, self.target_token, council=FENMOOR))

    def target_records(self) -> list[dict]:
        return list(self.target_store.tenant(Credential("t", frozenset({FENMOOR}), None), FENMOOR).export())

    def source_tenant(self):
        return self.source_store.tenant(Credential("s", frozenset({FENMOOR}), None), FENMOOR)

    def cli(self, *args: str, out: Path, env: dict | None = None) -> list[str]:
        return [*PLUGSHARE, "migrate", "--from", self.source_url, "--from-token", self.source_token,
                "--to", self.target_url, "--to-token", self.target_token, "--council", FENMOOR,
                "--out", str(out), *args]


@contextmanager
def two_servers(gated: bool = False, target_read_only: bool = False) -> Iterator[Pair]:
    source_store, target_store = open_store(":memory:"), open_store(":memory:")
    source_store.load(generate())  # the three councils of the shared service: only Fenmoor's may move
    source_token = create_token(source_store, [FENMOOR])
    target_token = create_token(target_store, [FENMOOR])
    target_app = make_app(target_store, read_only=target_read_only)
    gate = Gate(target_app) if gated else None
    with running(make_app(source_store)) as source, running(gate or target_app) as target:
        pair = Pair(source.url, target.url, source_token, target_token, source_store, target_store, gate)
        try:
            yield pair
        finally:
            if gate is not None:
                gate.opened.set()  # a request held at the gate finishes, so the server can stop


@pytest.fixture
def pair() -> Iterator[Pair]:
    with two_servers() as made:
        yield made


def files_of(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


# --- a whole migration ------------------------------------------------------------------------------------


def test_a_migration_between_two_reference_servers_moves_everything_and_reports_equal(pair, tmp_path):
    source, target = pair.clients()
    seen = []
    with source, target:
        report = migrate(source, target, FENMOOR, tmp_path, progress=seen.append, chunk_size=50)
    expected = expected_counts()
    total = sum(expected.values())
    assert report.verdict == EQUAL and report.exit_code == 0
    assert {name: counts for name, counts in report.comparison.counts.items()} == {
        name: [n, n] for name, n in expected.items()}
    assert report.comparison.compared == report.comparison.equal == total
    assert report.moved == report.sent == total and report.changes == {"created": total}
    assert [p.moved for p in seen if p.phase == "moving"] == [min(50 * k, total) for k in range(1, -(-total // 50) + 1)]

    records = pair.target_records()
    assert len(records) == total and {m["council"] for m in records} == {FENMOOR}  # no other council's data
    assert sorted(json.dumps(m, sort_keys=True) for m in records) == sorted(
        json.dumps(m, sort_keys=True) for m in pair.source_tenant().export())

    document = json.loads((tmp_path / MIGRATION_JSON).read_text())
    assert document["verdict"] == "equal" and document["council"] == FENMOOR
    assert document["counts"] == {name: {"source": n, "target": n, "equal": True} for name, n in expected.items()}
    assert document["records"]["differences"] == [] and document["moved"]["records"] == total
    page = (tmp_path / MIGRATION_HTML).read_text()
    assert page.startswith("<!DOCTYPE html>") and "EQUAL: the target holds exactly" in page and "hr.person" in page
    assert not (tmp_path / CHECKPOINT).exists()  # finished: nothing to resume
    written = files_of(tmp_path)
    assert pair.source_token.encode() not in written and pair.target_token.encode() not in written
    assert b"SS162457D" not in written  # no record's values reach the report


def test_running_it_again_sends_everything_again_and_duplicates_nothing(pair, tmp_path):
    source, target = pair.clients()
    with source, target:
        first = migrate(source, target, FENMOOR, tmp_path)
        again = migrate(source, target, FENMOOR, tmp_path)
    total = sum(expected_counts().values())
    assert first.changes == {"created": total}
    assert again.verdict == EQUAL and again.changes == {"unchanged": total} and again.resumed_after == 0
    assert len(pair.target_records()) == total


# --- what is not equal --------------------------------------------------------------------------------------


def test_a_record_only_in_the_target_makes_it_not_equal_and_is_named_by_type_and_id(pair, tmp_path):
    person = next(m for m in generate() if m["council"] == FENMOOR and m["type"] == "uk.plugshare.hr.person")
    stray = copy.deepcopy(person)
    stray["id"] = str(uuid.uuid4())
    stray["data"]["id"] = stray["subject"] = f"{FENMOOR}-p99999"
    pair.target_store.load([stray])
    source, target = pair.clients()
    with source, target:
        report = migrate(source, target, FENMOOR, tmp_path)
    assert report.verdict == NOT_EQUAL and report.exit_code == 1
    people = expected_counts()["hr.person"]
    assert report.comparison.counts["hr.person"] == [people, people + 1]
    assert [(d.kind, d.type, d.id) for d in report.comparison.differences] == [
        ("extra", "hr.person", f"{FENMOOR}-p99999")]
    document = json.loads((tmp_path / MIGRATION_JSON).read_text())
    assert document["verdict"] == "not_equal"
    assert document["counts"]["hr.person"] == {"source": people, "target": people + 1, "equal": False}
    assert document["records"]["differences"] == [{"kind": "extra", "type": "hr.person", "id": f"{FENMOOR}-p99999"}]
    assert any("hr.person" in p for p in document["problems"])
    assert f"{FENMOOR}-p99999" in (tmp_path / MIGRATION_HTML).read_text()


def test_a_record_the_target_changed_is_named_with_its_fields_never_its_values(pair, tmp_path):
    record_id = f"{FENMOOR}-p00001"
    original = pair.source_tenant().get("hr.person", record_id).message
    total = sum(expected_counts().values())
    target_tenant = pair.target_store.tenant(Credential("t", frozenset({FENMOOR}), None), FENMOOR)

    def change_it_once_moved(progress):
        if progress.phase == "moving" and progress.moved == total:  # as a target that rewrites what it stored
            changed = copy.deepcopy(original)
            changed["data"]["birth_date"] = "1970-01-02"
            changed["data"]["name"]["family_name"] = "Zzyzx"
            target_tenant.put("hr.person", record_id, changed)

    source, target = pair.clients()
    with source, target:
        report = migrate(source, target, FENMOOR, tmp_path, progress=change_it_once_moved)
    assert report.verdict == NOT_EQUAL
    assert report.comparison.counts_equal  # the same numbers of records, yet not the same data
    [difference] = report.comparison.differences
    assert (difference.kind, difference.type, difference.id) == ("different", "hr.person", record_id)
    assert difference.pointers == ("/data/birth_date", "/data/name/family_name")
    written = files_of(tmp_path).decode()
    assert record_id in written and "/data/birth_date" in written
    for value in ("1970-01-02", "Zzyzx", original["data"]["birth_date"], original["data"]["name"]["family_name"],
                  original["data"]["ni_number"]):
        assert value not in written


def test_a_record_the_target_refused_is_reported_missing_without_its_values(pair, tmp_path):
    record_id = f"{FENMOOR}-p00002"
    tenant = pair.source_tenant()
    broken = tenant.get("hr.person", record_id).message
    broken["data"]["ni_number"] = "QQ123456Z"  # not an NI number: the target's validation refuses it
    pair.source_store.load([broken])  # a source that stored what it should not have
    source, target = pair.clients()
    with source, target:
        report = migrate(source, target, FENMOOR, tmp_path)
    assert report.verdict == NOT_EQUAL and report.rejected_count == 1
    [refused] = report.rejected
    assert (refused["type"], refused["id"]) == ("hr.person", record_id) and refused["requirements"]
    assert [(d.kind, d.id) for d in report.comparison.differences] == [("missing", record_id)]
    assert b"QQ123456Z" not in files_of(tmp_path)


def test_differing_fields_names_members_by_json_pointer():
    a = {"data": {"id": "x", "name": {"given_name": "A", "family_name": "B"}, "tags": ["p", "q"], "a/b": 1}}
    b = {"data": {"id": "x", "name": {"given_name": "A"}, "tags": ["p", "r"], "a/b": 2, "new": None}}
    assert differing_fields(a, b) == ["/data/a~1b", "/data/name/family_name", "/data/new", "/data/tags/1"]
    assert differing_fields(a, a) == []
    assert differing_fields({"x": [1]}, {"x": [1, 2]}) == ["/x"]


# --- interrupted and rerun ----------------------------------------------------------------------------------


def test_interrupted_after_the_first_chunk_a_rerun_resumes_from_the_checkpoint(pair, tmp_path):
    def stop_after_first_chunk(progress):
        if progress.phase == "moving":
            raise KeyboardInterrupt

    source, target = pair.clients()
    with source, target:
        with pytest.raises(KeyboardInterrupt):
            migrate(source, target, FENMOOR, tmp_path, progress=stop_after_first_chunk, chunk_size=50)
        checkpoint = json.loads((tmp_path / CHECKPOINT).read_text())
        assert sum(checkpoint["acknowledged"].values()) == 50 and not checkpoint["moved_all"]
        assert len(pair.target_records()) == 50
        assert pair.source_token not in json.dumps(checkpoint) and pair.target_token not in json.dumps(checkpoint)
        report = migrate(source, target, FENMOOR, tmp_path, chunk_size=50)
    total = sum(expected_counts().values())
    assert report.verdict == EQUAL
    assert report.resumed_after == 50 and report.sent == total - 50 and report.moved == total
    assert report.changes == {"created": total}  # nothing acknowledged was sent twice
    assert any("resumed from the checkpoint" in note for note in report.notes)
    assert len(pair.target_records()) == total
    assert not (tmp_path / CHECKPOINT).exists()


def test_interrupted_while_verifying_a_rerun_only_verifies(pair, tmp_path):
    def stop_when_verifying(progress):
        if progress.phase == "verifying":
            raise KeyboardInterrupt

    total = sum(expected_counts().values())
    source, target = pair.clients()
    with source, target:
        with pytest.raises(KeyboardInterrupt):
            migrate(source, target, FENMOOR, tmp_path, progress=stop_when_verifying)
        assert json.loads((tmp_path / CHECKPOINT).read_text())["moved_all"] is True
        report = migrate(source, target, FENMOOR, tmp_path)
    assert report.verdict == EQUAL and report.sent == 0 and report.resumed_after == total
    assert report.moved == total and report.changes == {"created": total}


def test_a_checkpoint_the_source_no_longer_matches_sends_everything_again(pair, tmp_path):
    def stop_after_first_chunk(progress):
        raise KeyboardInterrupt

    source, target = pair.clients()
    with source, target:
        with pytest.raises(KeyboardInterrupt):
            migrate(source, target, FENMOOR, tmp_path, progress=stop_after_first_chunk, chunk_size=50)
        last_type, last_id = json.loads((tmp_path / CHECKPOINT).read_text())["last"]
        newcomer = pair.source_tenant().get(last_type, last_id).message  # a record now sorts before the last one
        newcomer["id"] = str(uuid.uuid4())
        newcomer["data"]["id"] = newcomer["subject"] = f"{FENMOOR}-0"
        pair.source_store.load([newcomer])
        report = migrate(source, target, FENMOOR, tmp_path, chunk_size=50)
    total = sum(expected_counts().values()) + 1
    assert report.verdict == EQUAL and report.resumed_after == 0 and report.sent == total
    assert report.changes == {"created": total - 50, "unchanged": 50}
    assert any("no longer matched" in note for note in report.notes)
    assert not any("resumed from the checkpoint" in note for note in report.notes)


def test_a_checkpoint_of_another_migration_is_not_used(pair, tmp_path):
    (tmp_path / CHECKPOINT).write_text(json.dumps({
        "plugshare_migration_checkpoint": 1, "source": "http://127.0.0.1:1", "target": "http://127.0.0.1:2",
        "council": ASHCOMBE, "acknowledged": {"hr.absence": 3}, "last": ["hr.absence", "x"], "changes": {},
        "rejected": [], "rejected_count": 0, "moved_all": True}))
    source, target = pair.clients()
    with source, target:
        report = migrate(source, target, FENMOOR, tmp_path)
    assert report.verdict == EQUAL and report.resumed_after == 0
    assert any("other servers or of another council" in note for note in report.notes)


def test_a_migrate_command_killed_mid_way_is_rerun_and_resumes_without_duplicates(tmp_path):
    out = tmp_path / "out"
    with two_servers(gated=True) as pair:
        env = {**ENV, "PLUGSHARE_FROM_TOKEN": pair.source_token, "PLUGSHARE_TO_TOKEN": pair.target_token}
        command = [*PLUGSHARE, "migrate", "--from", pair.source_url, "--to", pair.target_url, "--council", FENMOOR,
                   "--out", str(out), "--chunk-size", "50", "--progress"]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        try:
            assert pair.gate.arrived.wait(60), process.stderr.read() if process.poll() is not None else "no import"
            shown = process.stderr.readline()  # written before the second chunk was sent
            assert "moved 50 of ? records" in shown
            process.send_signal(signal.SIGKILL)
            assert process.wait(30) == -signal.SIGKILL
        finally:
            if process.poll() is None:
                process.kill()
            process.stdout.close()
            process.stderr.close()
        checkpoint = json.loads((out / CHECKPOINT).read_text())
        assert sum(checkpoint["acknowledged"].values()) == 50 and not checkpoint["moved_all"]
        pair.gate.opened.set()

        rerun = subprocess.run(command[:-1], capture_output=True, text=True, env=env, timeout=120)
        assert rerun.returncode == 0, rerun.stderr
        assert rerun.stdout.startswith("EQUAL") and "resumed after 50" in rerun.stdout
        total = sum(expected_counts().values())
        records = pair.target_records()
        assert len(records) == total and len({(m["type"], m["data"]["id"]) for m in records}) == total
        document = json.loads((out / MIGRATION_JSON).read_text())
        assert document["verdict"] == "equal" and document["moved"]["resumed_after"] == 50
        assert document["moved"]["records"] == total
        # the chunk cut off by the kill may have been stored: sent again, it is "unchanged", never a second copy
        assert sum(document["moved"]["changes"].values()) == total
        assert set(document["moved"]["changes"]) <= {"created", "unchanged"}
        for text in (rerun.stdout, rerun.stderr, files_of(out).decode()):
            assert pair.source_token not in text and pair.target_token not in text


# --- from a gateway over an adapter -------------------------------------------------------------------------


class Gateway:
    """`plugshare serve --adapter hr-csv`, read-only, on a free loopback port."""

    def __init__(self, sample: str):
        self.process = subprocess.Popen(
            [*PLUGSHARE, "serve", "--host", "127.0.0.1", "--port", "0", "--no-access-log", "--adapter", "hr-csv",
             "--adapter-source", str(HR_CSV / sample), "--adapter-option", f"council={FENMOOR}",
             "--adapter-option", "as_at=2025-09-30T17:00:00Z", "--token-for", FENMOOR],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
        self.url = self.token = ""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not self.url:
            line = self.process.stdout.readline()
            if not line:
                break
            if line.startswith("token for "):
                self.token = line.split(": ", 1)[1].strip()
            if " listening on " in line:
                self.url = line.split(" listening on ")[1].split()[0]
        if not self.url:
            self.stop()
            raise AssertionError("the gateway did not start")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        self.process.wait(30)
        self.process.stdout.close()
        self.process.stderr.close()


def test_migrating_from_a_gateway_over_an_adapter_to_a_reference_server_is_equal(tmp_path):
    gateway = Gateway("good")
    target_store = open_store(":memory:")
    target_token = create_token(target_store, [FENMOOR])
    try:
        with running(make_app(target_store)) as target:
            result = subprocess.run(
                [*PLUGSHARE, "migrate", "--from", gateway.url, "--from-token", gateway.token, "--to", target.url,
                 "--to-token", target_token, "--council", FENMOOR, "--out", str(tmp_path)],
                capture_output=True, text=True, env=ENV, timeout=120)
            assert result.returncode == 0, result.stdout + result.stderr
            assert result.stdout.startswith("EQUAL")
            with PlugshareClient(gateway.url, gateway.token, council=FENMOOR) as served:
                exported = Counter(message_type_of(m["type"]) for m in served.export())
            document = json.loads((tmp_path / MIGRATION_JSON).read_text())
            assert exported and set(exported) <= {"hr.person", "hr.employment", "hr.position", "hr.org-unit",
                                                  "hr.absence"}
            assert document["counts"] == {name: {"source": n, "target": n, "equal": True}
                                          for name, n in exported.items()}
            assert document["source"]["product"] == "plugshare gateway over hr-csv"
            stored = target_store.tenant(Credential("t", frozenset({FENMOOR}), None), FENMOOR)
            assert Counter(message_type_of(m["type"]) for m in stored.export()) == exported

            into_gateway = subprocess.run(
                [*PLUGSHARE, "migrate", "--from", target.url, "--from-token", target_token, "--to", gateway.url,
                 "--to-token", gateway.token, "--council", FENMOOR, "--out", str(tmp_path / "back")],
                capture_output=True, text=True, env=ENV, timeout=120)
            assert into_gateway.returncode == 2 and "does not take writes" in into_gateway.stderr
            assert "Traceback" not in into_gateway.stderr
    finally:
        gateway.stop()


# --- the command's answers ----------------------------------------------------------------------------------


def test_the_command_exits_1_when_the_data_is_not_equal(pair, tmp_path):
    stray = pair.source_tenant().get("hr.absence", f"{FENMOOR}-ab00003").message
    stray["data"]["id"] = stray["subject"] = f"{FENMOOR}-ab99999"
    pair.target_store.load([stray])
    result = subprocess.run(pair.cli(out=tmp_path), capture_output=True, text=True, env=ENV, timeout=120)
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith("NOT EQUAL")
    assert f"only in the target: hr.absence {FENMOOR}-ab99999" in result.stdout
    assert "hr.absence: 3 in the source, 4 in the target" in result.stdout


def test_a_source_that_refuses_the_token_is_a_clear_error_without_a_traceback(pair, tmp_path):
    wrong = create_token(pair.target_store, [FENMOOR])  # a real token, but of the other server
    with PlugshareClient(pair.source_url, wrong, council=FENMOOR) as source, pair.clients()[1] as target:
        with pytest.raises(MigrationError) as refused:
            migrate(source, target, FENMOOR, tmp_path)
    assert refused.value.side == "source" and "refused the token" in str(refused.value)
    assert pair.target_records() == []  # nothing moved

    command = pair.cli(out=tmp_path)
    command[command.index("--from-token") + 1] = wrong
    result = subprocess.run(command, capture_output=True, text=True, env=ENV, timeout=120)
    assert result.returncode == 2
    assert "error: the source refused the token (401" in result.stderr and "Traceback" not in result.stderr
    assert wrong not in result.stdout + result.stderr


def test_a_token_of_another_council_is_named_as_such(pair, tmp_path):
    other = create_token(pair.target_store, [ASHCOMBE])
    with pair.clients()[0] as source, PlugshareClient(pair.target_url, other, council=FENMOOR) as target:
        with pytest.raises(MigrationError) as refused:
            migrate(source, target, FENMOOR, tmp_path)
    assert refused.value.side == "target" and "not bound to council E07000991 (403" in str(refused.value)


def test_a_target_that_cannot_be_reached_or_a_bad_option_exits_2(pair, tmp_path):
    with running(make_app(open_store(":memory:"))) as gone:
        closed = gone.url  # a port that nothing listens on once the block is left
    command = pair.cli(out=tmp_path)
    command[command.index("--to") + 1] = closed
    unreachable = subprocess.run(command, capture_output=True, text=True, env=ENV, timeout=120)
    assert unreachable.returncode == 2
    assert "error: the target could not be reached" in unreachable.stderr and "Traceback" not in unreachable.stderr

    command = pair.cli(out=tmp_path)
    command[command.index("--council") + 1] = "X123"
    usage = subprocess.run(command, capture_output=True, text=True, env=ENV, timeout=120)
    assert usage.returncode == 2 and "GSS code" in usage.stderr and "Traceback" not in usage.stderr

    command = pair.cli(out=tmp_path)
    command[command.index("--from") + 1] = "ftp://example.org"
    address = subprocess.run(command, capture_output=True, text=True, env=ENV, timeout=120)
    assert address.returncode == 2 and "not an http:// or https:// address" in address.stderr


def test_api_root_takes_the_root_or_v1_and_refuses_credentials_in_the_address():
    assert api_root("http://127.0.0.1:8080/v1/", "source") == "http://127.0.0.1:8080"
    assert api_root("https://api.example.org", "target") == "https://api.example.org"
    for bad in ("https://user:secret@api.example.org", "https://api.example.org?token=abcdefgh", "api.example.org"):
        with pytest.raises(MigrationError) as refused:
            api_root(bad, "target")
        assert "secret" not in str(refused.value) and "abcdefgh" not in str(refused.value)


def test_a_read_only_target_is_refused_before_anything_is_sent(tmp_path):
    with two_servers(target_read_only=True) as pair:
        source, target = pair.clients()
        with source, target, pytest.raises(MigrationError) as refused:
            migrate(source, target, FENMOOR, tmp_path)
    assert refused.value.side == "target" and "does not take writes" in str(refused.value)
    assert not (tmp_path / CHECKPOINT).exists()


def test_the_progress_line_rewrites_itself_on_a_terminal_and_writes_lines_elsewhere():
    import io

    from plugshare.migration import Progress, ProgressLine

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    line = ProgressLine(terminal)
    line.update(Progress("moving", 500, 0, 1))
    line.update(Progress("moving", 1000, 0, 2))
    line.update(Progress("verifying", 1000, 0, 2, verified=500))
    line.finish()
    text = terminal.getvalue()
    assert "\n" not in text and text.count("\r") == 5 and text.endswith("\r")
    assert "moved 1,000 of ? records (2 chunk(s)" in text and "verifying: compared 500 records" in text

    piped = io.StringIO()
    ProgressLine(piped).update(Progress("moving", 500, 0, 1))
    assert piped.getvalue() == ""  # not a terminal: nothing unless asked
    asked = ProgressLine(piped, show=True)
    asked.update(Progress("moving", 500, 200, 1))
    asked.finish()
    assert piped.getvalue().startswith("  moved 500 of ? records (1 chunk(s), 200 before this run")
    assert piped.getvalue().endswith("\n") and "\r" not in piped.getvalue()


def test_what_to_do_next_is_said_for_each_kind_of_difference():
    assert next_steps(Comparison()) == []
    changed = Comparison()
    changed.add(Difference("different", "hr.person", "x"))
    [step] = next_steps(changed)
    assert "run the same command again" in step
    refused = Comparison()
    refused.add(Difference("missing", "hr.person", "x"))
    [step] = next_steps(refused, rejected=1)  # missing only because the target refused it: rerunning cannot help
    assert "refused" in step and "run the same command again" not in step
    extra = Comparison()
    extra.add(Difference("extra", "hr.person", "y"))
    [step] = next_steps(extra)
    assert "never deletes" in step


def test_a_report_that_is_not_equal_says_what_to_do_next(pair, tmp_path):
    person = next(m for m in generate() if m["council"] == FENMOOR and m["type"] == "uk.plugshare.hr.person")
    stray = copy.deepcopy(person)
    stray["id"] = str(uuid.uuid4())
    stray["data"]["id"] = stray["subject"] = f"{FENMOOR}-p99998"
    pair.target_store.load([stray])
    source, target = pair.clients()
    with source, target:
        report = migrate(source, target, FENMOOR, tmp_path)
    assert report.verdict == NOT_EQUAL
    assert any("never deletes" in line for line in summary_lines(report))
    assert "never deletes" in (tmp_path / MIGRATION_HTML).read_text()
