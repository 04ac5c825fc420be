"""The API checks against the reference server on loopback, and against variants of it: deliberately defective
ones (each must fail the check meant to catch it), legitimate ones (each must pass every profile) and hostile
ones (whatever they answer, findings, never a crash). Every run goes through the runner with the checks of
every profile an API can certify for, as ``plugshare conformance run`` does."""

from __future__ import annotations

import contextlib
import copy
import json
import socket
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import pytest
from defective_suppliers import _COLLECTION, _EXPORT, LEGITIMATE, SUPPLIERS, RewriteResponses, _ok
from starlette.types import ASGIApp, Receive, Scope, Send

from plugshare.api.app import make_app
from plugshare.api.server import running
from plugshare.api.store import Store, open_store
from plugshare.api.tokens import create_token
from plugshare.conformance import registry, runner, targets
from plugshare.conformance.checks import api as api_checks
from plugshare.conformance.checks.api import CHECKS, differences
from plugshare.conformance.context import RunContext
from plugshare.conformance.corpus import load
from plugshare.conformance.model import Check, Finding, Verdict
from plugshare.conformance.prepare import TargetUnreachable, council_map, prepare, rewrite_council
from plugshare.conformance.profiles import choose, load_profiles, types_under_test
from plugshare.conformance.targets import PAGING_LIMIT, LiveApiContext, excerpt, open_api_context
from plugshare.models import message_type_of
from plugshare.models.canonical import canonical_json
from plugshare.plugins import make_host

A, B = "E07000991", "E07000992"
API_CHECK_IDS = {check.id for check in CHECKS}
#: every profile an API target can certify for
API_PROFILES = [p.id for p in load_profiles().values() if "api" in p.targets]


@pytest.fixture(scope="module")
def corpus() -> Any:
    return load()


@pytest.fixture(scope="module")
def profiles() -> list:
    return choose(API_PROFILES, "api")


@pytest.fixture(scope="module")
def suite() -> list[Check]:
    """The checks a run of every API profile lists, registered through the plugin host as the command does."""
    return registry.applicable(registry.checks(make_host()), API_PROFILES, "api")


@contextlib.contextmanager
def target(factory: Callable[[Store], ASGIApp], corpus: Any, profiles: list, checks: list[Check], *,
           councils: tuple[str, ...] = (A, B), timeout: float = 10.0, retries: int = 1,
           fill: Callable[[Store], None] | None = None, **options: Any,
           ) -> Iterator[tuple[LiveApiContext, list[dict[str, Any]], dict[str, str]]]:
    """A server made by ``factory`` on loopback, tokens bound each to one council, and a prepared context."""
    store = open_store(":memory:")
    tokens = {council: create_token(store, [council], label=council) for council in councils}
    if fill is not None:
        fill(store)
    with running(factory(store)) as where:
        ctx = open_api_context(where.url, list(tokens.items()), timeout=timeout, retries=retries,
                               profiles=profiles, types=types_under_test(profiles), corpus=corpus,
                               sleep=lambda s: None, **options)
        try:
            rows = prepare(ctx, checks)
            yield ctx, rows, tokens
        finally:
            ctx.close()


def verdicts(report: Any) -> dict[str, Verdict]:
    return {result.check.id: result.verdict for result in report.results}


def result_of(report: Any, check_id: str) -> Any:
    return next(r for r in report.results if r.check.id == check_id)


def not_passed(report: Any) -> dict[str, Any]:
    return {r.check.id: (r.verdict.value, r.summary, [f.as_dict() for f in r.findings[:2]]) for r in report.results
            if r.verdict is not Verdict.PASS}


def held(ctx: LiveApiContext, council: str) -> dict[tuple[str, str], str]:
    """What the target holds for a council, by (type, id), as canonical JSON."""
    return {(message_type_of(m["type"]), m["data"]["id"]): canonical_json(m)
            for m in ctx.client(council).export(types=ctx.types)}


# --- the reference server ---------------------------------------------------------------------------------------


def test_the_reference_server_passes_every_profile(corpus: Any, profiles: list, suite: list[Check]) -> None:
    with target(make_app, corpus, profiles, suite) as (ctx, rows, tokens):
        assert rows and all(row["met"] for row in rows), [row for row in rows if not row["met"]]
        report = runner.run(ctx, suite)
        assert not not_passed(report), not_passed(report)
        assert set(verdicts(report)) == {c.id for c in suite} and API_CHECK_IDS <= set(verdicts(report))
        assert {"PSC-SCH-002", "PSC-RUL-001"} <= set(verdicts(report))  # the data checks run on the same path
        assert report.results[-1].check.id == "PSC-SCH-001"  # it looks at every exchange, so it runs last
        assert len(ctx.exchanges) > 100
        assert all(record.complete for record in ctx.exchanges if record.exchange.status == 200)
        # what was accepted is what the corpus holds for each council (rewritten to nothing: same codes)
        for council in (A, B):
            wanted = {(message_type_of(m["type"]), m["data"]["id"]) for m in corpus.messages(council=council)}
            got = {(t, i) for t, records in ctx.loaded[council].items() for i in records}
            assert got == wanted
            # every check that wrote put the records back: the target holds exactly what was loaded
            assert held(ctx, council) == {(t, i): canonical_json(m) for t, records in ctx.loaded[council].items()
                                          for i, m in records.items()}
        assert ctx.settings.page_size == PAGING_LIMIT and ctx.settings.timeout_seconds == 10.0
        assert ctx.settings.retry_log == []
        evidence = json.dumps([r.exchange.as_dict() for r in ctx.exchanges])
        for token in tokens.values():
            assert token not in evidence
        assert "Bearer psk_" not in evidence
    slow = {r.check.id: round(r.duration_ms) for r in report.results if r.duration_ms > 10_000}
    assert not slow, f"each check takes well under ten seconds on the small corpus: {slow}"


def test_evidence_never_shows_personal_data(corpus: Any, profiles: list, suite: list[Check]) -> None:
    people = [m["data"] for m in corpus.messages(council=A, types=["hr.person"])]
    accounts = [m["data"] for m in corpus.messages(council=A, types=["payroll.bank-account"])]
    with target(make_app, corpus, profiles, suite) as (ctx, _, _):
        runner.run(ctx, suite, only=["PSC-EXP-001", "PSC-UPS-001"])
        for record in (people[0], accounts[0]):
            message_type = "hr.person" if "ni_number" in record else "payroll.bank-account"
            ctx.client().get(message_type, record["id"])
            ctx.client().put(ctx.loaded[A][message_type][record["id"]])
        evidence = json.dumps([r.exchange.as_dict() for r in ctx.exchanges])
    assert "ni_number" in evidence and "account_number" in evidence  # the records are there, masked
    for person in people:
        assert person["ni_number"] not in evidence and person["birth_date"] not in evidence
    for account in accounts:
        assert account["account_number"] not in evidence


# --- defective suppliers ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SUPPLIERS))
def test_a_defective_supplier_fails_the_check_meant_to_catch_it(name: str, corpus: Any, profiles: list,
                                                                 suite: list[Check]) -> None:
    factory, expected = SUPPLIERS[name]
    with target(factory, corpus, profiles, suite) as (ctx, _, _):
        report = runner.run(ctx, suite)
    assert set(verdicts(report)) == {c.id for c in suite}
    result = result_of(report, expected)
    assert result.verdict is Verdict.FAIL, (result.summary, result.reason)
    assert all(f.exchange is not None and f.exchange.status is not None for f in result.findings), \
        "each finding shows the exchange that proved it"
    errors = {r.check.id: r.reason for r in report.results if r.verdict is Verdict.ERROR}
    assert not errors, f"a faulty target must give findings, never crash a check: {errors}"
    for found in report.results:
        for finding in found.findings:
            assert finding.message and finding.expected and finding.actual, (found.check.id, finding)
            if found.check.id in API_CHECK_IDS:
                assert finding.exchange is not None, (found.check.id, finding.message)


def test_the_findings_say_what_was_expected_and_what_came_back(corpus: Any, profiles: list,
                                                               suite: list[Check]) -> None:
    factory, _ = SUPPLIERS["money rounded on export"]
    with target(factory, corpus, profiles, suite) as (ctx, _, _):
        report = runner.run(ctx, suite, only=["PSC-EXP-002"])
    finding = report.results[0].findings[0]
    assert "differs" in finding.message or "different" in finding.message
    assert finding.expected and finding.actual and finding.expected != finding.actual
    assert "/data/" in finding.expected
    assert finding.exchange.url.endswith("/export")


@pytest.mark.parametrize(("supplier", "check_id"), [("data.id taken from the path", "PSC-INV-002"),
                                                    ("invalid NI numbers accepted", "PSC-INV-001")])
def test_what_a_faulty_target_should_have_refused_is_put_right_again(supplier: str, check_id: str, corpus: Any,
                                                                    profiles: list, suite: list[Check]) -> None:
    factory, _ = SUPPLIERS[supplier]
    with target(factory, corpus, profiles, suite) as (ctx, _, _):
        before = held(ctx, A)
        report = runner.run(ctx, suite, only=[check_id])
        after = held(ctx, A)
    assert verdicts(report) == {check_id: Verdict.FAIL}
    assert any("can be read" in f.message or "no longer as loaded" in f.message for f in report.results[0].findings)
    assert after == before  # stray records deleted, changed ones put back: later checks see the target as loaded


# --- legitimate differences ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(LEGITIMATE))
def test_a_supplier_that_differs_only_where_the_standard_allows_passes(name: str, corpus: Any, profiles: list,
                                                                        suite: list[Check]) -> None:
    with target(LEGITIMATE[name], corpus, profiles, suite) as (ctx, rows, _):
        assert all(row["met"] for row in rows), [row for row in rows if not row["met"]]
        report = runner.run(ctx, suite)
    assert not not_passed(report), not_passed(report)


def test_paging_asks_for_no_more_than_the_declared_largest_page(corpus: Any, profiles: list,
                                                                suite: list[Check]) -> None:
    with target(LEGITIMATE["a smaller largest page"], corpus, profiles, suite) as (ctx, _, _):
        runner.run(ctx, suite, only=["PSC-PAG-001"])
        asked = {r.exchange.url.split("limit=")[1].split("&")[0] for r in ctx.exchanges if "limit=" in r.exchange.url}
    assert asked == {"2"} and ctx.settings.page_size == 2  # the report says what was asked for


def _slow_bulk(store: Store) -> ASGIApp:
    """Imports and exports that take longer than any one request may, as a large council's would."""
    app = make_app(store)

    async def slow(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].endswith(("/import", "/export")):
            await anyio.sleep(0.7)
        await app(scope, receive, send)

    return slow


def test_imports_and_exports_have_a_timeout_of_their_own(corpus: Any) -> None:
    hr_core = choose(["hr-core", "portability"], "api")
    checks = [c for c in CHECKS if c.id in ("PSC-EXP-001", "PSC-IMP-001")]
    with target(_slow_bulk, corpus, hr_core, checks, councils=(A,), timeout=0.4, retries=0,
                bulk_timeout=20) as (ctx, rows, _):
        assert all(row["met"] for row in rows), rows
        report = runner.run(ctx, checks)
    assert not not_passed(report), not_passed(report)
    with target(_slow_bulk, corpus, hr_core, checks, councils=(A,), timeout=0.3, retries=0,
                bulk_timeout=0.4) as (ctx, rows, _):
        unmet = [row for row in rows if row["check"] == "PSC-EXP-001" and not row["met"]]
        assert unmet and "the bulk import failed: ReadTimeout" in unmet[0]["detail"], unmet
        ctx.readiness = []
        report = runner.run(ctx, checks, only=["PSC-EXP-001"])
    finding = report.results[0].findings[0]
    assert "did not answer in time (the import and export timeout 0.4 s, 0 retries)" in finding.message
    assert finding.exchange.url.endswith("/export") and finding.exchange.status is None


# --- data readiness -----------------------------------------------------------------------------------------------


class _BrokenPayslips:
    """The corpus, except that council A's payslips are off by a penny (PS-PAY-003), so a server refuses them."""

    def __init__(self, corpus: Any):
        self.corpus, self.councils = corpus, corpus.councils

    def messages(self, council: str | None = None, types: Any = None) -> Iterator[dict[str, Any]]:
        for message in self.corpus.messages(council=council, types=types):
            if message["council"] == A and message["type"].endswith("payroll.payslip"):
                message = copy.deepcopy(message)
                net = message["data"]["net_pay"]
                message["data"]["net_pay"] = f"{float(net) + 0.01:.2f}"
            yield message

    def invalid(self, council: str | None = None) -> list:
        return self.corpus.invalid(council=council)


def test_a_type_the_target_refused_is_skipped_naming_why(corpus: Any, profiles: list) -> None:
    with target(make_app, _BrokenPayslips(corpus), profiles, CHECKS) as (ctx, rows, _):
        unmet = [row for row in rows if not row["met"]]
        assert unmet and {row["need"] for row in unmet} == {"records:payroll.payslip"}
        detail = unmet[0]["detail"]
        assert "no payroll.payslip records for E07000991" in detail and "rejected" in detail
        assert "PS-PAY-" in detail
        report = runner.run(ctx, CHECKS, only=["PSC-PAG-001", "PSC-CAP-001"])
    assert verdicts(report) == {"PSC-PAG-001": Verdict.SKIPPED, "PSC-CAP-001": Verdict.PASS}
    assert "payroll.payslip" in result_of(report, "PSC-PAG-001").reason


def test_tenant_isolation_needs_two_councils_with_their_own_tokens(corpus: Any, profiles: list) -> None:
    with target(make_app, corpus, profiles, CHECKS, councils=(A,)) as (ctx, rows, _):
        row = next(r for r in rows if r["check"] == "PSC-TEN-001")
        assert not row["met"] and "2 councils" in row["detail"]
        report = runner.run(ctx, CHECKS, only=["PSC-TEN-001"])
    assert verdicts(report)["PSC-TEN-001"] is Verdict.SKIPPED

    store = open_store(":memory:")
    shared = create_token(store, [A, B])
    with running(make_app(store)) as where:
        ctx = open_api_context(where.url, [(A, shared), (B, shared)], profiles=profiles, corpus=corpus)
        rows = prepare(ctx, CHECKS)
        ctx.close()
    row = next(r for r in rows if r["check"] == "PSC-TEN-001")
    assert not row["met"] and "same token" in row["detail"]


def test_a_read_only_target_is_read_not_loaded(corpus: Any, profiles: list) -> None:
    def fill(store: Store) -> None:
        store.load(corpus.messages(council=A))

    factory = lambda store: make_app(store, read_only=True)  # noqa: E731
    with target(factory, corpus, profiles, CHECKS, councils=(A,), fill=fill) as (ctx, rows, _):
        assert ctx.read_only and ctx.import_acks[A] == []
        assert sum(len(r) for r in ctx.loaded[A].values()) == sum(1 for _ in corpus.messages(council=A))
        report = runner.run(ctx, CHECKS, only=["PSC-PAG-001", "PSC-EXP-001", "PSC-EXP-002", "PSC-UPS-001",
                                               "PSC-CAP-001", "PSC-CAP-002"])
    got = verdicts(report)
    assert got["PSC-PAG-001"] is got["PSC-EXP-001"] is got["PSC-EXP-002"] is got["PSC-CAP-002"] is Verdict.PASS
    assert got["PSC-UPS-001"] is Verdict.SKIPPED and "read-only" in result_of(report, "PSC-UPS-001").reason
    # a read-only gateway declares neither upserts nor bulk import, which api-core needs
    messages = [f.message for f in result_of(report, "PSC-CAP-001").findings]
    assert any("bulk-import" in m for m in messages) and any("upsert" in m for m in messages)


def test_a_target_without_bulk_import_is_loaded_one_put_at_a_time(corpus: Any) -> None:
    from plugshare.api.app import reference_capabilities

    declared = reference_capabilities()
    declared["features"] = [f for f in declared["features"] if f not in ("bulk-import", "bulk-export")]
    factory = lambda store: make_app(store, capabilities=declared)  # noqa: E731
    hr_core = choose(["hr-core"], "api")
    with target(factory, corpus, hr_core, CHECKS, councils=(A,)) as (ctx, rows, _):
        assert ctx.types == ("hr.absence", "hr.employment", "hr.org-unit", "hr.person", "hr.position")
        methods = {r.exchange.method for r in ctx.exchanges}
        assert "POST" not in methods and "PUT" in methods
        sent = list(corpus.messages(council=A, types=ctx.types))
        assert [a["status"] for a in ctx.import_acks[A]] == ["accepted"] * len(sent)
        assert sum(len(r) for r in ctx.loaded[A].values()) == len(sent)
        report = runner.run(ctx, CHECKS, only=["PSC-PAG-001", "PSC-CAP-001"])
    got = verdicts(report)
    assert got["PSC-PAG-001"] is Verdict.PASS
    assert got["PSC-CAP-001"] is Verdict.PASS  # hr-core needs no bulk feature


# --- targets that break the conversation ---------------------------------------------------------------------------


def _slow_lists(store: Store) -> ASGIApp:
    app = make_app(store)

    async def slow(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and b"limit=3" in scope.get("query_string", b""):
            await anyio.sleep(1.5)
        await app(scope, receive, send)

    return slow


def test_a_target_that_does_not_answer_in_time_gets_a_finding(corpus: Any, profiles: list) -> None:
    with target(_slow_lists, corpus, profiles, CHECKS, timeout=0.3, retries=0) as (ctx, _, _):
        report = runner.run(ctx, CHECKS, only=["PSC-PAG-001"])
    result = report.results[0]
    assert result.verdict is Verdict.FAIL
    finding = result.findings[0]
    assert "did not answer in time" in finding.message and "0.3 s" in finding.message
    assert finding.exchange.status is None and "ReadTimeout" in finding.exchange.response_excerpt


def _garbled_lists(store: Store) -> ASGIApp:
    return RewriteResponses(make_app(store), lambda s: s["method"] == "GET" and b"limit=" in s["query_string"],
                            lambda scope, status, headers, body: (200, [(b"content-type", b"text/html")],
                                                                  b"<html>Service temporarily down</html>"))


def test_a_body_that_is_not_json_is_a_finding_not_a_crash(corpus: Any, profiles: list) -> None:
    with target(_garbled_lists, corpus, profiles, CHECKS) as (ctx, _, _):
        report = runner.run(ctx, CHECKS, only=["PSC-PAG-001", "PSC-CAP-002", "PSC-SCH-001"])
    got = verdicts(report)
    assert got == {"PSC-PAG-001": Verdict.FAIL, "PSC-CAP-002": Verdict.FAIL, "PSC-SCH-001": Verdict.FAIL}
    finding = result_of(report, "PSC-PAG-001").findings[0]
    assert "not JSON" in finding.actual and finding.exchange.status == 200
    assert any("Content-Type" in f.message for f in result_of(report, "PSC-SCH-001").findings)


def _html_errors(store: Store) -> ASGIApp:
    """Every error answered by a proxy's HTML page instead of a problem."""
    page = b"<html><body><h1>Bad Gateway</h1><p>The upstream server failed.</p></body></html>"
    return RewriteResponses(make_app(store), lambda s: s["path"].startswith("/v1/councils/"),
                            lambda scope, status, headers, body: (status, [(b"content-type", b"text/html")], page)
                            if status >= 400 else (status, headers, body))


def _cut_exports(store: Store) -> ASGIApp:
    """Exports that stop half way through a line."""
    return RewriteResponses(make_app(store), lambda s: bool(_EXPORT.match(s["path"])),
                            lambda scope, status, headers, body: (status, headers, body[: len(body) // 2]))


def _cut_imports(store: Store) -> ASGIApp:
    """Import answers that stop half way, with no summary line."""
    return RewriteResponses(make_app(store), lambda s: s["path"].endswith("/import"),
                            lambda scope, status, headers, body: (status, headers, body[: len(body) // 2]))


def _wrong_json_types(store: Store) -> ASGIApp:
    """JSON of the wrong shapes everywhere: capabilities, pages, records, acknowledgements and problems."""
    def reshape(scope: Scope, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> tuple:
        path = scope["path"]
        if path == "/v1/capabilities":
            declared = json.loads(body)
            declared.update(features="all", limits=[1], product="x", profiles=5, message_types={"hr.person": 1})
            return status, headers, json.dumps(declared).encode()
        if path.endswith("/import") and _ok(status):
            acks = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
            for ack in acks:
                if "summary" in ack:
                    ack["summary"] = [1]
                else:
                    ack.update(line=[ack.get("line")], errors="bad", change={"x": 1}, status=3)
            return status, headers, "".join(json.dumps(a) + "\n" for a in acks).encode()
        if _COLLECTION.match(path) and _ok(status):
            page = json.loads(body)
            page.update(watermark=5, next_cursor=None, items=[*page["items"], 7, "x", None, {"type": 3}])
            return status, headers, json.dumps(page).encode()
        if scope["method"] in ("GET", "PUT") and _ok(status) and not _EXPORT.match(path):
            return status, [(k, v) for k, v in headers if k.lower() != b"etag"] + [(b"etag", b'W/"x"')], b"[1,2,3]"
        if status >= 400:
            return status, headers, json.dumps({"status": "bad", "title": 5, "errors": {"a": 1},
                                                "requirement": [1]}).encode()
        return status, headers, body

    return RewriteResponses(make_app(store), lambda scope: True, reshape)


def _huge_records(store: Store) -> ASGIApp:
    """A record read answered by a body far larger than any record (here, than the lowered cap)."""
    return RewriteResponses(make_app(store), lambda s: s["method"] == "GET" and s["path"].count("/") == 6,
                            lambda scope, status, headers, body: (
                                200, [(b"content-type", b"application/json")], b"[" + b"1," * 300_000 + b"1]"))


def _bad_coding(store: Store) -> ASGIApp:
    """Pages said to be gzip-compressed that are not."""
    return RewriteResponses(make_app(store), lambda s: bool(_COLLECTION.match(s["path"])) and s["method"] == "GET",
                            lambda scope, status, headers, body: (status, [*headers, (b"content-encoding", b"gzip")],
                                                                  b"this is not gzip"))


@pytest.mark.parametrize(("factory", "failed"), [
    (_html_errors, {"PSC-HTTP-001", "PSC-INV-002", "PSC-TEN-001", "PSC-SCH-001"}),
    (_cut_exports, {"PSC-EXP-001", "PSC-EXP-002", "PSC-SCH-001"}),
    (_cut_imports, {"PSC-INV-001", "PSC-SCH-001"}),
    (_wrong_json_types, {"PSC-CAP-001", "PSC-PAG-001", "PSC-UPS-001", "PSC-IMP-001", "PSC-INV-001", "PSC-SCH-001"}),
    (_huge_records, {"PSC-UPS-001", "PSC-UPS-002", "PSC-HTTP-001"}),
    (_bad_coding, {"PSC-PAG-001", "PSC-CAP-002", "PSC-TEN-001"}),
], ids=["html error pages", "exports cut short", "import answers cut short", "wrong JSON types", "huge bodies",
        "a content coding that is not"])
def test_whatever_a_hostile_target_answers_is_a_finding_never_a_crash(
        factory: Callable[[Store], ASGIApp], failed: set[str], corpus: Any, profiles: list,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(targets, "MAX_BODY_BYTES", 512 * 1024)
    with target(factory, corpus, profiles, CHECKS) as (ctx, rows, _):
        report = runner.run(ctx, CHECKS)
    got = verdicts(report)
    errors = {check_id: result_of(report, check_id).reason for check_id, v in got.items() if v is Verdict.ERROR}
    assert not errors, errors
    assert {check_id for check_id in failed if got[check_id] is not Verdict.FAIL} == set(), got
    for result in report.results:
        for finding in result.findings:
            assert finding.expected and finding.actual and finding.exchange is not None, (result.check.id, finding)


def test_a_body_past_the_cap_is_not_read_to_its_end(corpus: Any, profiles: list,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(targets, "MAX_BODY_BYTES", 512 * 1024)
    with target(_huge_records, corpus, profiles, CHECKS) as (ctx, _, _):
        report = runner.run(ctx, CHECKS, only=["PSC-UPS-002"])
        kept = [r for r in ctx.exchanges if r.exchange.method == "GET" and r.exchange.url.count("/") == 8]
    finding = report.results[0].findings[0]
    assert "far larger" in finding.message and "524,288 bytes" in finding.actual
    assert kept and not kept[-1].complete and len(kept[-1].exchange.response_excerpt) < 10_000


def _echoes_credentials(store: Store) -> ASGIApp:
    """A gateway that takes tokens of its own form (not psk_...) and echoes the one it was given, in a header of
    every answer and in the detail of every problem."""
    app = make_app(store)
    aliases: dict[bytes, bytes] = {}

    async def gateway(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        given = dict(scope.get("headers", [])).get(b"authorization", b"").removeprefix(b"Bearer ")
        inner = [(k, b"Bearer " + aliases.get(given, given) if k == b"authorization" else v)
                 for k, v in scope.get("headers", [])]

        def echo(scope: Scope, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> tuple:
            if status >= 400:
                problem = json.loads(body)
                problem["detail"] += f" (credential {given.decode()} at {scope['path']})"
                body = json.dumps(problem).encode()
            return status, [*headers, (b"x-seen-credential", given)], body

        await RewriteResponses(app, lambda s: True, echo)({**scope, "headers": inner}, receive, send)

    gateway.aliases = aliases  # type: ignore[attr-defined]
    return gateway


def test_tokens_of_any_form_stay_out_of_the_evidence(corpus: Any, profiles: list, tmp_path: Any) -> None:
    from plugshare.conformance.report import write_reports

    store = open_store(":memory:")
    app = _echoes_credentials(store)
    opaque = {A: "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LWZvci1h.Kx3", B: "opaque-council-b-credential-7731"}
    for council, alias in opaque.items():
        app.aliases[alias.encode()] = create_token(store, [council]).encode()  # type: ignore[attr-defined]
    with running(app) as where:
        ctx = open_api_context(where.url, list(opaque.items()), timeout=10, retries=0, profiles=profiles,
                               types=types_under_test(profiles), corpus=corpus)
        with ctx:
            prepare(ctx, CHECKS)
            report = runner.run(ctx, CHECKS, only=["PSC-HTTP-001", "PSC-TEN-001", "PSC-INV-002", "PSC-CAP-001"])
            evidence = json.dumps([r.exchange.as_dict() for r in ctx.exchanges])
    assert verdicts(report)["PSC-TEN-001"] is Verdict.PASS  # the aliases work: the run did talk to the server
    assert "x-seen-credential" in evidence and "[token]" in evidence
    written = write_reports(report, tmp_path)
    shown = evidence + json.dumps([r.as_dict() for r in report.results]) + "".join(
        path.read_text(encoding="utf-8") for path in written.values())
    for alias in opaque.values():
        assert alias not in shown


@pytest.mark.parametrize(("url", "words"), [("https://user:hunter2@api.example.org", "user name or password"),
                                           ("https://api.example.org/?api_key=hunter2", "without a query")])
def test_an_address_that_would_carry_a_secret_is_refused(url: str, words: str, corpus: Any) -> None:
    with pytest.raises(ValueError, match=words) as refused:
        open_api_context(url, [(A, "psk_secret_value")], corpus=corpus)
    assert "hunter2" not in str(refused.value)


def test_imports_and_exports_wait_longer_than_one_request(corpus: Any) -> None:
    ctx = open_api_context("https://api.example.org", [(A, "psk_secret_value")], timeout=5, corpus=corpus)
    client = ctx.client()
    assert (client.timeout.read, client.bulk_timeout.read) == (5, targets.BULK_TIMEOUT)
    ctx.close()
    ctx = open_api_context("https://api.example.org", [(A, "psk_secret_value")], timeout=5, bulk_timeout=90,
                           corpus=corpus)
    assert ctx.client().bulk_timeout.read == 90 and ctx.bulk_timeout == 90
    ctx.close()


def _no_challenge(store: Store) -> ASGIApp:
    return RewriteResponses(make_app(store), lambda s: True, lambda scope, status, headers, body: (
        status, [(k, v) for k, v in headers if k.lower() != b"www-authenticate"], body))


def test_a_missing_challenge_header_fails_authentication(corpus: Any, profiles: list) -> None:
    with target(_no_challenge, corpus, profiles, CHECKS) as (ctx, _, _):
        report = runner.run(ctx, CHECKS, only=["PSC-HTTP-001", "PSC-SCH-001"])
    assert verdicts(report) == {"PSC-HTTP-001": Verdict.FAIL, "PSC-SCH-001": Verdict.FAIL}
    assert all("WWW-Authenticate" in f.expected for f in result_of(report, "PSC-HTTP-001").findings)
    assert len(result_of(report, "PSC-HTTP-001").findings) == 6  # list, get, export x no token, unknown token


def test_an_unreachable_target_is_a_usage_error(corpus: Any, profiles: list) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ctx = open_api_context(f"http://127.0.0.1:{port}", [(A, "psk_x")], timeout=2, retries=0, profiles=profiles,
                           corpus=corpus)
    with pytest.raises(TargetUnreachable, match="cannot reach"):
        prepare(ctx, CHECKS)
    ctx.close()


@pytest.mark.parametrize(("url", "councils", "words"), [
    ("ftp://example.org", [(A, "t")], "http"),
    ("https://example.org", [], "at least one council"),
    ("https://example.org", [("E05000001", "t")], "GSS code"),
    ("https://example.org", [(A, "t"), (A, "u")], "twice"),
    ("https://example.org", [(A, " ")], "no token"),
])
def test_open_api_context_refuses_what_cannot_be_run(url: str, councils: list, words: str, corpus: Any) -> None:
    with pytest.raises(ValueError, match=words):
        open_api_context(url, councils, corpus=corpus)


def test_the_context_keeps_tokens_out_of_its_repr_and_strips_v1(corpus: Any) -> None:
    ctx = open_api_context("https://api.example.org/v1/", [(A, "psk_secret_value")], corpus=corpus)
    assert ctx.base_url == "https://api.example.org"
    assert "psk_secret_value" not in repr(ctx)
    assert ctx.describe_target() == {"kind": "api", "url": "https://api.example.org", "councils": [A]}
    ctx.close()


def test_retries_are_recorded_in_the_settings(corpus: Any, profiles: list) -> None:
    calls = {"n": 0}

    def busy_once(store: Store) -> ASGIApp:
        app = make_app(store)

        async def busy(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http" and scope["path"] == "/v1/capabilities" and not calls["n"]:
                calls["n"] += 1
                await send({"type": "http.response.start", "status": 503,
                            "headers": [(b"content-type", b"application/problem+json"), (b"retry-after", b"0")]})
                await send({"type": "http.response.body", "body": json.dumps(
                    {"type": "https://plugshare.uk/problems/service-unavailable", "title": "Service unavailable",
                     "status": 503, "detail": "busy", "instance": "/v1/capabilities"}).encode()})
                return
            await app(scope, receive, send)

        return busy

    with target(busy_once, corpus, profiles, CHECKS) as (ctx, _, _):
        assert ctx.capabilities["standard_version"]
        assert ctx.settings.retry_log == [{"method": "GET", "path": "/v1/capabilities", "delay": 0.0,
                                           "status": 503}]
        assert [r.exchange.status for r in ctx.exchanges[:2]] == [503, 200]


# --- pieces ---------------------------------------------------------------------------------------------------------


def test_exchange_excerpts_are_masked_and_cut() -> None:
    person = {"data": {"ni_number": "QQ123456C", "birth_date": "1980-01-02", "name": "Alex"}}
    shown = excerpt(json.dumps(person).encode(), "application/json")
    assert "123456" not in shown and "1980-01-02" not in shown and "Alex" in shown
    lines = "".join(json.dumps({"n": i}) + "\n" for i in range(20)).encode()
    assert "20 lines in all" in excerpt(lines, "application/x-ndjson")
    assert excerpt(b"x" * 5000, "text/plain").endswith("(5,000 characters in all)")
    assert excerpt(b"Authorization: Bearer psk_abcdefghijkl_mnop", "text/plain").count("psk_") == 0


def test_moving_corpus_data_to_another_council(corpus: Any) -> None:
    message = next(corpus.messages(council=A, types=["hr.person"]))
    moved = rewrite_council(message, A, "E07000123")
    assert moved["council"] == "E07000123" and moved["data"]["id"].startswith("E07000123-")
    assert A not in json.dumps(moved) and message["council"] == A
    ctx = LiveApiContext(councils=["E07000123", B], corpus=corpus)
    assert council_map(ctx) == {B: B, "E07000123": A}


def test_differences_point_at_what_changed() -> None:
    before = {"data": {"id": "x", "pay": "10.00", "lines": [1, 2]}, "id": "e"}
    after = {"data": {"id": "x", "pay": "10.10", "lines": [1, 3]}}
    found = {pointer for pointer, _, _ in differences(before, after)}
    assert found == {"/data/pay", "/data/lines/1", "/id"}


def test_export_checks_hand_an_adapter_to_the_adapter_side(monkeypatch: pytest.MonkeyPatch) -> None:
    from plugshare.conformance import adapter_target

    said = [Finding("from the adapter side")]
    monkeypatch.setattr(adapter_target, "exp_completeness", lambda ctx: said)
    monkeypatch.setattr(adapter_target, "exp_fidelity", lambda ctx: said + said)
    checks = {c.id: c for c in api_checks.CHECKS}
    ctx = RunContext(kind="adapter")
    assert checks["PSC-EXP-001"].run(ctx) == said
    assert checks["PSC-EXP-002"].run(ctx) == said + said
    assert checks["PSC-EXP-001"].targets == {"api", "adapter"}
    assert all(c.targets == {"api"} for c in api_checks.CHECKS if not c.id.startswith("PSC-EXP"))


def test_every_check_cites_requirements_of_the_catalogue() -> None:
    from plugshare.standard.requirements import by_id

    known = by_id()
    for check in CHECKS:
        assert check.requirements and all(r in known for r in check.requirements), check.id
        assert check.level == "MUST" and check.description
    invalid = next(c for c in CHECKS if c.id == "PSC-INV-001")
    assert {"PS-API-004", "PS-ID-001", "PS-PAY-003"} <= set(invalid.requirements)
    assert "PS-HR-006" not in invalid.requirements  # a cycle shows only across messages
