"""The conformance reports: report.json against its published schema, junit.xml for CI, report.html for buyers,
and no personal data or token in any of them."""

import json
import xml.etree.ElementTree as ET
from dataclasses import replace
from html.parser import HTMLParser

import pytest
from jsonschema import Draft202012Validator

from plugshare.conformance.model import (
    Check,
    CheckResult,
    Exchange,
    Finding,
    RunReport,
    RunSettings,
    Verdict,
)
from plugshare.conformance.report import (
    ReportError,
    headline,
    mask_json,
    mask_text,
    read_report,
    render_html,
    to_json,
    withhold,
    write_reports,
)
from plugshare.standard import export
from plugshare.standard.report_schema import REPORT_SCHEMA_FILE, VERDICTS, render_report_schema
from plugshare.standard.requirements import by_id

NINO = "AB123456C"
BIRTH_DATE = "1989-03-21"
ACCOUNT_NUMBER = "65905026"
SORT_CODE = "089833"
TOKEN = "psk_Q2xvdWRzAb3_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"
SECRETS = (NINO, BIRTH_DATE, ACCOUNT_NUMBER, SORT_CODE, TOKEN, "psk_")


def no_findings(context):
    return []


def make_check(check_id, title, level="MUST", requirements=("PS-API-011",), profiles=("api-core",)):
    return Check(id=check_id, title=title, level=level, requirements=requirements, profiles=profiles,
                 targets=frozenset({"api"}), run=no_findings)


def person_exchange() -> Exchange:
    body = json.dumps({"type": "uk.plugshare.hr.person", "data": {
        "id": "E07000991-p00001", "ni_number": NINO, "birth_date": BIRTH_DATE}})
    return Exchange(method="PUT", url="https://hr.example.test/v1/councils/E07000991/hr/people/E07000991-p00001",
                    request_headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
                    request_excerpt=body, status=500,
                    response_headers={"Content-Type": "application/problem+json"},
                    response_excerpt=json.dumps({"title": "Internal error", "detail": f"token {TOKEN} failed"}),
                    elapsed_ms=12.5)


def bank_exchange() -> Exchange:
    body = json.dumps({"data": {"id": "E07000991-ba00001", "sort_code": SORT_CODE, "account_number": ACCOUNT_NUMBER}})
    return Exchange(method="GET", url="https://hr.example.test/v1/councils/E07000991/payroll/bank-accounts",
                    status=200, response_headers={"Content-Type": "application/json"},
                    response_excerpt=json.dumps({"items": [json.loads(body)["data"]]})[:70])


def results() -> list[CheckResult]:
    """One result of every verdict; PSC-RUL-001 belongs to two chosen profiles."""
    paging = make_check("PSC-PAG-001", "paging returns every record exactly once")
    upsert = make_check("PSC-UPS-001", "upsert is idempotent", requirements=("PS-API-009",))
    rules = make_check("PSC-RUL-001", "business rules hold on returned records", requirements=("PS-HR-009",),
                       profiles=("hr-core", "payroll-core"))
    should = make_check("PSC-RUL-002", "no SHOULD-level rule is broken", level="SHOULD", requirements=("PS-HR-004",),
                        profiles=("hr-core",))
    tenants = make_check("PSC-TEN-001", "tenant isolation", requirements=("PS-API-003",))
    limits = make_check("PSC-CAP-002", "declared limits are enforced", requirements=("PS-API-016",))
    return [
        CheckResult(paging, Verdict.PASS, "every record came back exactly once", duration_ms=400.0),
        CheckResult(upsert, Verdict.ERROR, "the target broke the conversation",
                    reason=f"RemoteProtocolError: server closed the connection (Authorization: Bearer {TOKEN})",
                    findings=[Finding("PUT answered 500", expected="201 or 200", actual="500",
                                      exchange=person_exchange())], duration_ms=80.0),
        CheckResult(rules, Verdict.FAIL, "2 records break business rules", findings=[
            Finding(f"birth date {BIRTH_DATE} of {NINO} is in the future <script>alert('x')</script>",
                    expected="a date in the past", actual=BIRTH_DATE, requirement="PS-HR-009",
                    exchange=person_exchange()),
            Finding("/data/account_number differs from what was loaded", expected=ACCOUNT_NUMBER,
                    actual="65905027", requirement="PS-HR-009", exchange=bank_exchange()),
        ], duration_ms=1500.0),
        CheckResult(should, Verdict.WARNING, "1 record breaks a SHOULD rule", findings=[
            Finding("spine point 99 is not on the NJC scale", requirement="PS-HR-004")], duration_ms=10.0),
        CheckResult(tenants, Verdict.SKIPPED, "not run", reason="needs two councils, each with its own token"),
        CheckResult(limits, Verdict.NOT_APPLICABLE, "does not apply", reason="the target declares no limits"),
    ]


def make_report(**changes) -> RunReport:
    report = RunReport(
        suite_version="1.2.3", standard_version="1.0.0", started_at="2026-05-09T10:00:00Z",
        finished_at="2026-05-09T10:01:30Z",
        target={"kind": "api", "url": "https://hr.example.test/v1", "councils": ["E07000991"], "token": TOKEN},
        profiles=["hr-core", "payroll-core", "api-core"], declared_profiles=["hr-core", "api-core"],
        settings=RunSettings(timeout_seconds=30.0, retries=3, backoff_seconds=0.5, page_size=3, retry_log=[
            {"method": "GET", "path": "/v1/councils/E07000991/hr/people", "status": 503, "delay": 1.0}]),
        results=results(), declaration={"product": {"name": "Acme HR", "version": "4.1"}},
        declaration_sha256="ab" * 32,
        readiness=[{"check": "PSC-TEN-001", "need": "councils:2", "met": False, "detail": "one council given"},
                   {"check": "PSC-PAG-001", "need": "records:hr.person", "met": True, "detail": None}])
    return replace(report, **changes)


@pytest.fixture
def written(tmp_path):
    paths = write_reports(make_report(), tmp_path / "out" / "run")
    return {kind: path.read_text(encoding="utf-8") for kind, path in paths.items()}, paths


def published_validator(spec) -> Draft202012Validator:
    return Draft202012Validator(json.loads((spec / REPORT_SCHEMA_FILE).read_text(encoding="utf-8")))


def test_report_json_validates_against_the_published_schema(spec):
    document = to_json(make_report())
    errors = [e.message for e in published_validator(spec).iter_errors(document)]
    assert errors == []
    assert document["suite_version"] == "1.2.3" and document["standard_version"] == "1.0.0"
    assert "token" not in document["target"] and document["target"]["councils"] == ["E07000991"]
    assert document["counts"] == {v: 1 for v in VERDICTS}
    assert document["verdict"] == "does_not_conform" and document["exit_code"] == 1
    assert document["settings"]["retries"] == 3 and document["settings"]["retry_log"][0]["status"] == 503
    assert document["declaration_sha256"] == "ab" * 32
    assert [r["met"] for r in document["readiness"]] == [False, True]
    failed = next(r for r in document["results"] if r["id"] == "PSC-RUL-001")
    assert failed["verdict"] == "fail" and failed["findings"][0]["requirement"] == "PS-HR-009"
    assert failed["findings"][0]["exchange"]["status"] == 500
    assert "Authorization" not in failed["findings"][0]["exchange"]["request_headers"]


def test_summaries_per_profile_and_per_requirement():
    document = to_json(make_report())
    profiles = {p["profile"]: p for p in document["profile_summaries"]}
    assert profiles["hr-core"]["counts"]["fail"] == 1 and profiles["hr-core"]["counts"]["warning"] == 1
    assert profiles["hr-core"]["verdict"] == "does_not_conform" and profiles["hr-core"]["declared"]
    assert profiles["payroll-core"]["checks"] == ["PSC-RUL-001"] and not profiles["payroll-core"]["declared"]
    assert profiles["api-core"]["counts"] == {"pass": 1, "fail": 0, "warning": 0, "skipped": 1,
                                              "not_applicable": 1, "error": 1}
    requirements = {r["requirement"]: r for r in document["requirement_summaries"]}
    assert requirements["PS-HR-009"]["verdict"] == "fail" and requirements["PS-HR-009"]["findings"] == 2
    assert requirements["PS-HR-009"]["text"] == by_id()["PS-HR-009"].text
    assert requirements["PS-API-011"]["checks"] == [{"id": "PSC-PAG-001", "verdict": "pass"}]
    ids = [r["requirement"] for r in document["requirement_summaries"]]
    catalogue_order = list(by_id())
    assert ids == sorted(ids, key=catalogue_order.index)


def test_conforms_only_for_a_complete_run_whose_must_checks_passed():
    passing = [r for r in results() if r.verdict in (Verdict.PASS, Verdict.NOT_APPLICABLE)]
    warned = [r for r in results() if r.verdict is Verdict.WARNING]
    document = to_json(make_report(results=passing + warned, profiles=["api-core"]))
    assert (document["verdict"], document["exit_code"]) == ("conforms", 0)
    assert headline(document) == "CONFORMS to api-core"
    assert document["profile_summaries"][0]["reason"] is None
    partial = to_json(make_report(results=passing, selected=["PSC-PAG-001"]))
    assert (partial["verdict"], partial["exit_code"], partial["complete"]) == ("incomplete", 1, False)
    skipped = [r for r in results() if r.verdict is Verdict.SKIPPED]
    assert to_json(make_report(results=passing + skipped))["verdict"] == "does_not_conform"


def test_a_profile_that_showed_nothing_does_not_conform():
    """hr-core's only result is a SHOULD warning and payroll-core has none: neither had a MUST check pass."""
    passing = [r for r in results() if r.verdict in (Verdict.PASS, Verdict.NOT_APPLICABLE, Verdict.WARNING)]
    document = to_json(make_report(results=passing, profiles=["hr-core", "payroll-core", "api-core"]))
    assert (document["verdict"], document["exit_code"]) == ("does_not_conform", 1)
    profiles = {p["profile"]: p for p in document["profile_summaries"]}
    assert profiles["api-core"]["verdict"] == "conforms"
    assert profiles["hr-core"]["verdict"] == "does_not_conform"
    assert "no required check for this kind of target" in profiles["payroll-core"]["reason"]
    only_not_applicable = [r for r in results() if r.verdict is Verdict.NOT_APPLICABLE]
    document = to_json(make_report(results=only_not_applicable, profiles=["api-core"]))
    assert (document["verdict"], document["exit_code"]) == ("does_not_conform", 1)
    assert "none of its required checks applied" in document["profile_summaries"][0]["reason"]
    assert headline(document) == "DOES NOT CONFORM to api-core"
    assert "none of its required checks applied" in render_html(document)


def test_report_round_trips_through_read_report(written):
    _, paths = written
    assert read_report(paths["json"]) == json.loads(json.dumps(to_json(make_report())))
    assert sorted(p.name for p in paths["json"].parent.iterdir()) == ["junit.xml", "report.html", "report.json"]


def test_read_report_refuses_what_is_not_a_report(tmp_path):
    message = tmp_path / "person.json"
    message.write_text(json.dumps({"type": "uk.plugshare.hr.person", "data": {"ni_number": NINO}}))
    with pytest.raises(ReportError, match="is not a conformance report"):
        read_report(message)
    garbled = tmp_path / "garbled.json"
    garbled.write_text("{not json")
    with pytest.raises(ReportError, match="not JSON"):
        read_report(garbled)
    broken = tmp_path / "broken.json"
    document = to_json(make_report())
    document["results"][0]["verdict"] = "maybe"
    broken.write_text(json.dumps(document))
    with pytest.raises(ReportError, match="not a valid conformance report.*results/0/verdict"):
        read_report(broken)
    with pytest.raises(ReportError, match="no such file"):
        read_report(tmp_path / "absent.json")


def test_read_report_refuses_a_report_of_another_version(written):
    _, paths = written
    with pytest.raises(ReportError, match="suite version 1.2.3, and this is suite version 9.9.9"):
        read_report(paths["json"], suite_version="9.9.9", standard_version="1.0.0")
    with pytest.raises(ReportError, match="standard version 1.0.0, and this is standard version 2.0.0"):
        read_report(paths["json"], suite_version="1.2.3", standard_version="2.0.0")
    assert read_report(paths["json"], suite_version="1.2.3", standard_version="1.0.0")["suite_version"] == "1.2.3"


def test_the_runs_own_tokens_are_masked_whatever_their_form():
    secret = "sk-live-0123456789abcdef"
    withhold([secret, "E0799"])
    assert mask_text(f"key {secret} refused") == "key [token] refused"
    assert mask_json({"detail": f"unknown key {secret}"}) == {"detail": "unknown key [token]"}
    assert mask_text("council E07999001") == "council E07999001", "a short value is never masked by value"


def test_schema_refuses_a_token_in_the_target(spec):
    document = to_json(make_report())
    document["target"]["token"] = "[token]"
    assert any("token" in str(e.instance) for e in published_validator(spec).iter_errors(document))


def test_junit_has_a_suite_per_profile_with_counts_that_add_up(written):
    texts, _ = written
    root = ET.fromstring(texts["junit"])
    assert root.tag == "testsuites"
    suites = {suite.get("name"): suite for suite in root.findall("testsuite")}
    assert list(suites) == ["hr-core", "payroll-core", "api-core"]
    for name, suite in suites.items():
        cases = suite.findall("testcase")
        assert int(suite.get("tests")) == len(cases)
        assert int(suite.get("failures")) == sum(c.find("failure") is not None for c in cases)
        assert int(suite.get("errors")) == sum(c.find("error") is not None for c in cases)
        assert int(suite.get("skipped")) == sum(c.find("skipped") is not None for c in cases)
        assert {c.get("classname") for c in cases} == {f"plugshare.{name}"}
    names = {name: [c.get("name") for c in suite.findall("testcase")] for name, suite in suites.items()}
    rule_check = "PSC-RUL-001 business rules hold on returned records"
    assert rule_check in names["hr-core"] and rule_check in names["payroll-core"]
    assert int(root.get("tests")) == sum(int(s.get("tests")) for s in suites.values()) == 7
    api = {c.get("name").split()[0]: c for c in suites["api-core"].findall("testcase")}
    assert api["PSC-UPS-001"].find("error").get("message") == "the target broke the conversation"
    assert api["PSC-CAP-002"].find("skipped").get("message").startswith("not applicable")
    assert list(api["PSC-PAG-001"]) == []
    warning = next(c for c in suites["hr-core"].findall("testcase") if c.get("name").startswith("PSC-RUL-002"))
    assert warning.find("failure") is None and "spine point 99" in warning.find("system-out").text
    assert float(api["PSC-PAG-001"].get("time")) == pytest.approx(0.4)
    properties = {p.get("name"): p.get("value") for p in suites["api-core"].find("properties")}
    assert properties["suite_version"] == "1.2.3" and properties["standard_version"] == "1.0.0"
    assert properties["profile_verdict"] == "does_not_conform" and properties["started_at"] == "2026-05-09T10:00:00Z"
    assert suites["api-core"].get("timestamp") == "2026-05-09T10:00:00"


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.in_body = False
        self.text: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.in_body = self.in_body or tag == "body"
        self.tags.append(tag)

    def handle_data(self, data):
        if self.in_body and data.strip():
            self.text.append(data.strip())


def test_html_puts_the_verdict_first_and_escapes_evidence(written):
    texts, _ = written
    page = _Text()
    page.feed(texts["html"])
    assert page.text[0] == "DOES NOT CONFORM to hr-core, payroll-core, api-core"
    assert "script" not in page.tags and "<script" not in texts["html"]
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in texts["html"]
    body = " ".join(page.text)
    assert body.index("Profiles") < body.index("Requirements") < body.index("Failures, errors")
    assert by_id()["PS-HR-009"].text in body
    assert "a date in the past" in body and "HTTP 500 (12 ms)" in body
    assert "needs two councils, each with its own token" in body
    assert "What the verdicts mean" in body and "@media print" in texts["html"]
    why = body.index("Why:")
    assert body.index("PSC-RUL-001 (business rules hold on returned records) failed") > why
    assert body.index("PSC-UPS-001 (upsert is idempotent) could not finish") > why
    assert body.index("Why:") < body.index("Profiles")


def test_no_personal_data_or_token_in_any_file(written):
    texts, _ = written
    for kind, text in texts.items():
        leaked = [secret for secret in SECRETS if secret in text]
        assert leaked == [], f"{kind} shows {leaked}"
        assert "AB*******" in text, f"{kind} lost the masked NI number"
    assert "E07000991-p00001" in texts["json"], "identifiers of records are evidence and stay"


def test_masking_keeps_evidence_that_is_not_personal():
    challenge = 'WWW-Authenticate: Bearer realm="plugshare", error="invalid_token"'
    assert mask_text(challenge) == challenge
    kept = '{"id": "E07000991-payrun-2025-26-M06-00001", "account_reference": "9910000001", "uprn": 100023336956}'
    assert mask_text(kept) == kept
    assert mask_text(f"Authorization: Bearer {TOKEN}") == "Authorization: [token]"
    assert mask_text(f"closed (Authorization: Bearer {TOKEN}) after 3 s") == "closed (Authorization: [token]) after 3 s"
    headers = f'{{"authorization": "{TOKEN}", "accept": "*/*"}}'
    assert mask_text(headers) == '{"authorization": "[token]", "accept": "*/*"}'
    assert mask_text("NI ab 12 34 56 c, birth date 1989-03-21, sort code 08-98-33") == (
        "NI AB*******, birth date [withheld], sort code [withheld]")
    assert mask_text(f'"account_number": "{ACCOUNT_NUMBER[:5]}') == '"account_number": "[withheld]"'
    assert mask_json({"ni_number": NINO, "birth_date": None, "headers": {"authorization": "Bearer x"},
                      "notes": [f"token {TOKEN}"]}) == {
        "ni_number": "AB*******", "birth_date": None, "headers": {"authorization": "[token]"},
        "notes": ["token [token]"]}


@pytest.mark.parametrize("text, secrets", [
    (f"/data/birth_date: expected {BIRTH_DATE}, got 1989-03-22", (BIRTH_DATE, "1989-03-22")),
    (f"a person born {BIRTH_DATE}", (BIRTH_DATE,)),
    ("paid to GB29NWBK60161331926819 or to GB29 NWBK 6016 1331 9268 19", ("60161331926819", "6016 1331")),
    ("GET /v1/councils/E07000991/export?token=abcdef123456&types=hr.person", ("abcdef123456",)),
    ('{"access_token": "eyJhbGciOi.payload.signature"}', ("eyJhbGciOi",)),
    ("X-Api-Key: k-123-secret", ("k-123-secret",)),
    (f"bank details {ACCOUNT_NUMBER} / 08-98-33", (ACCOUNT_NUMBER, "08-98-33")),
])
def test_masking_catches_personal_data_and_credentials_in_other_forms(text, secrets):
    masked = mask_text(text)
    assert not [secret for secret in secrets if secret in masked], masked
    assert "E07000991" in mask_text("council E07000991 answered 401: a wrong token: expected 401")


def test_reports_are_replaced_whole(tmp_path):
    first = write_reports(make_report(), tmp_path)
    write_reports(make_report(results=results()[:1]), tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junit.xml", "report.html", "report.json"]
    assert len(read_report(first["json"])["results"]) == 1


def test_verdicts_of_the_schema_are_those_of_the_model():
    assert set(VERDICTS) == {v.value for v in Verdict}


def test_committed_report_schema_is_fresh(spec):
    assert REPORT_SCHEMA_FILE not in export.stale(spec), "regenerate with 'plugshare spec export' and commit"
    assert (spec / REPORT_SCHEMA_FILE).read_text(encoding="utf-8") == render_report_schema()
