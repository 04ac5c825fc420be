"""What a conformance run is reported as: report.json, junit.xml and report.html, with personal data masked.

report.json is the record (its schema is published as spec/conformance/report.schema.json, so a buyer's
tools can read it without the suite); junit.xml lets any CI show the checks as tests; report.html is what a
procurement officer reads and prints, verdict first. All three are made from the one masked document that
:func:`to_json` builds, so nothing reaches a file that did not pass through :func:`mask_json`: NI numbers,
birth dates, bank account numbers, sort codes and tokens never leave the run.
"""

from __future__ import annotations

import functools
import html
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from plugshare import __version__
from plugshare.atomic import write_atomic
from plugshare.conformance.model import PASSING, CheckResult, Finding, RunReport, RunSettings, Verdict
from plugshare.identifiers import mask_nino, normalise_nino
from plugshare.models.canonical import canonical_digest
from plugshare.models.version import STANDARD_VERSION
from plugshare.standard.paths import spec_dir
from plugshare.standard.report_schema import REPORT_SCHEMA, REPORT_SCHEMA_FILE, REPORT_SCHEMA_ID
from plugshare.standard.requirements import by_id
from plugshare.validation.schemas import SENSITIVE_FIELDS

WITHHELD = "[withheld]"
TOKEN = "[token]"

REPORT_JSON = "report.json"
JUNIT_XML = "junit.xml"
REPORT_HTML = "report.html"

#: worst first: a requirement or a profile takes the worst verdict of its checks
SEVERITY = (Verdict.FAIL, Verdict.ERROR, Verdict.SKIPPED, Verdict.WARNING, Verdict.PASS, Verdict.NOT_APPLICABLE)
#: the verdicts the report lists one by one with their evidence
ISSUES = (Verdict.FAIL, Verdict.ERROR, Verdict.SKIPPED, Verdict.WARNING)

CONFORMS, DOES_NOT_CONFORM, INCOMPLETE = "conforms", "does_not_conform", "incomplete"


class ReportError(ValueError):
    """A file that cannot be read as a conformance report, or a report that would not be valid."""


# --- masking ----------------------------------------------------------------------------------------------

_NINO_KEYS = frozenset({"ni_number", "nino", "national_insurance_number", "ninumber"})
_WITHHELD_KEYS = frozenset({*(SENSITIVE_FIELDS - {"ni_number"}), "sort_code", "sortcode", "date_of_birth",
                            "dateofbirth", "dob", "birthdate", "accountnumber", "bank_account_number", "iban",
                            "roll_number"})
_TOKEN_KEYS = frozenset({"authorization", "proxy-authorization", "token", "tokens", "access_token", "password",
                         "secret", "cookie", "set-cookie", "x-api-key"})

#: the header's value: a scheme and its credential, or a bare credential
_AUTHORIZATION = re.compile(
    r"""(?i)(\b(?:proxy-)?authorization\\?["']?\s*[:=]\s*\\?["']?)((?:[a-z][\w-]*[ \t]+)?[^\s"'\\,;})\]]+)""")
#: a bearer credential (token68), not an auth-param of a challenge such as ``Bearer realm="plugshare"``
_BEARER = re.compile(r"(?i)\b(bearer\s+)(?![\w-]+=[^=\s,])([A-Za-z0-9\-._~+/]{12,}=*)")
_PSK = re.compile(r"psk_[A-Za-z0-9_\-]*")
#: ``name: value``, ``name=value`` and JSON members, also inside JSON held in a string (escaped quotes); an
#: unquoted value holds a digit ("birth_date: expected ..." introduces words, not a value)
_KEYED = re.compile(
    r"""(?i)(?P<key>\b(?P<name>""" + "|".join(sorted(_NINO_KEYS | _WITHHELD_KEYS, key=len, reverse=True))
    + r""")\\?["']?\s*[:=]\s*)(?P<value>\\?"(?:[^"\\]|\\.)*?\\?"|'[^'\n]*'|[^\s,;&}\])]*[0-9][^\s,;&}\])]*)""")
_NINO = re.compile(r"(?i)\b[A-Z]{2}\s?[0-9]{2}\s?[0-9]{2}\s?[0-9]{2}\s?[A-D]\b")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_SORT_CODE = re.compile(r"\b[0-9]{2}-[0-9]{2}-[0-9]{2}\b")
_DATE = r"(?<![\w-])(?:[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{1,2}/[0-9]{1,2}/[0-9]{2,4})(?![\w-])"
_ACCOUNT_NUMBER = r"(?<![\w-])[0-9]{8}(?![\w-])"
_SIX_DIGITS = r"(?<![\w-])[0-9]{6}(?![\w-])"
#: a label in free text, and the values of its kind that follow it on its line within a few characters (all of
#: them: "birth_date: expected 1989-03-21, got 1989-03-22" shows two)
_LABELLED = tuple((re.compile(f"(?i){label}"), re.compile(value)) for label, value in (
    (r"(?:birth|\bdob\b|\bborn\b)", _DATE),
    (r"(?:account[\s_-]?(?:number|no\b)|\broll[\s_-]?number|\bbank[\s_-]?(?:account|details))", _ACCOUNT_NUMBER),
    (r"sort[\s_-]?code", _SIX_DIGITS),
))
_NEAR = 48
#: an IBAN, compact or in groups of four
_IBAN = re.compile(r"\b[A-Z]{2}[0-9]{2}(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){3,7}(?: [A-Z0-9]{1,3})?)\b")
#: a credential given as a JSON member, a query or form parameter, or an API key header
_CREDENTIAL = re.compile(
    r"""(?i)((?:\\?["'](?:access_token|refresh_token|id_token|token|api_key|apikey|password|client_secret|secret)"""
    r"""\\?["']\s*:\s*\\?["']?)|(?:\b(?:access_token|refresh_token|token|api_key|apikey|password|client_secret)=)"""
    r"""|(?:\bx-api-key\s*:\s*))(?!\[token\])([^\s"'\\,;&}\])]+)""")
#: evidence split from its label (a finding's expected and actual): withheld when the finding is about one
_BY_TOPIC = tuple((re.compile(topic), re.compile(value)) for topic, value in (
    (r"(?i)birth|\bdob\b", _DATE),
    (r"(?i)account|roll", _ACCOUNT_NUMBER),
    (r"(?i)sort", _SIX_DIGITS),
))


def _mask_keyed(match: re.Match[str]) -> str:
    value = match.group("value")
    quote = next((q for q in ('\\"', '"', "'") if value.startswith(q)), "")
    inner = value[len(quote):]
    if quote and inner.endswith(quote):
        inner = inner[: -len(quote)]
    if not quote and inner.lower() in ("null", "none"):
        return match.group(0)
    masked = mask_nino(normalise_nino(inner)) if match.group("name").lower() in _NINO_KEYS else WITHHELD
    return match.group("key") + quote + masked + quote


#: the run's own credentials (the tokens it was given), masked wherever they appear whatever their form
_SECRETS: set[str] = set()
#: a shorter value is too likely to occur in ordinary text to be replaced everywhere
MIN_SECRET_CHARS = 8


def withhold(secrets: Iterable[str]) -> None:
    """Mask these exact values (the tokens a run was given) in everything masked from now on: a supplier's
    tokens need not look like plugshare's ``psk_`` ones, and a server may echo one back in a body."""
    for secret in secrets:
        if isinstance(secret, str) and len(secret.strip()) >= MIN_SECRET_CHARS:
            _SECRETS.add(secret.strip())


def mask_text(text: str) -> str:
    """``text`` with personal data and credentials masked: NI numbers as ``AB*******``, birth dates, account
    numbers, sort codes and e-mail addresses withheld, tokens and Authorization values as ``[token]``.

    Works on free text, JSON and truncated excerpts alike, because evidence is often cut mid-record.
    """
    if not text:
        return text
    for secret in sorted(_SECRETS, key=len, reverse=True):
        text = text.replace(secret, TOKEN)
    text = _AUTHORIZATION.sub(lambda m: m.group(1) + TOKEN, text)
    text = _BEARER.sub(lambda m: m.group(1) + TOKEN, text)
    text = _PSK.sub(TOKEN, text)
    text = _KEYED.sub(_mask_keyed, text)
    text = _NINO.sub(lambda m: mask_nino(normalise_nino(m.group(0))), text)
    text = _CREDENTIAL.sub(lambda m: m.group(1) + TOKEN, text)
    text = _EMAIL.sub(WITHHELD, text)
    text = _IBAN.sub(WITHHELD, text)
    text = _SORT_CODE.sub(WITHHELD, text)
    for label, value in _LABELLED:
        text = _withhold_near(text, label, value)
    return text


def _withhold_near(text: str, label: re.Pattern[str], value: re.Pattern[str]) -> str:
    """Withhold each ``value`` that starts on a ``label``'s line within a few characters after it."""
    zones = []
    for match in label.finditer(text):
        line_end = text.find("\n", match.end())
        zones.append((match.end(), min(match.end() + _NEAR, len(text) if line_end < 0 else line_end)))
    if not zones:
        return text
    return value.sub(lambda m: WITHHELD if any(a <= m.start() < b for a, b in zones) else m.group(0), text)


def mask_evidence(value: str | None, about: str) -> str | None:
    """A finding's expected or actual value, masked; when the finding is ``about`` a birth date, an account
    number or a sort code, bare values of that form are withheld too, since no label shows what they are."""
    if value is None:
        return None
    value = mask_text(value)
    for topic, pattern in _BY_TOPIC:
        if topic.search(about):
            value = pattern.sub(WITHHELD, value)
    return value


def _mask_field(key: Any, value: Any) -> Any:
    name = key.lower() if isinstance(key, str) else key
    if value is None:
        return None
    if name in _NINO_KEYS:
        return mask_nino(normalise_nino(value)) if isinstance(value, str) else WITHHELD
    if name in _WITHHELD_KEYS:
        return WITHHELD
    if name in _TOKEN_KEYS:
        return TOKEN
    return mask_json(value)


def mask_json(obj: Any) -> Any:
    """A copy of ``obj`` with the values of sensitive keys masked or withheld and every string masked."""
    if isinstance(obj, dict):
        return {key: _mask_field(key, value) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [mask_json(item) for item in obj]
    if isinstance(obj, str):
        return mask_text(obj)
    return obj


# --- report.json ------------------------------------------------------------------------------------------

def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _headers(headers: dict[str, Any] | None) -> dict[str, str]:
    return {str(k): str(v) for k, v in (headers or {}).items() if str(k).lower() not in _TOKEN_KEYS}


def _finding(finding: Finding) -> dict[str, Any]:
    exchange = finding.exchange
    about = f"{finding.message} {finding.requirement or ''}"
    return {
        "message": str(finding.message),
        "expected": mask_evidence(_text(finding.expected), about),
        "actual": mask_evidence(_text(finding.actual), about),
        "requirement": _text(finding.requirement),
        "exchange": None if exchange is None else {
            "method": str(exchange.method), "url": str(exchange.url),
            "request_headers": _headers(exchange.request_headers),
            "request_excerpt": str(exchange.request_excerpt or ""),
            "status": int(exchange.status) if exchange.status is not None else None,
            "response_headers": _headers(exchange.response_headers),
            "response_excerpt": str(exchange.response_excerpt or ""),
            "elapsed_ms": float(exchange.elapsed_ms) if exchange.elapsed_ms is not None else None,
        },
    }


def _result(result: CheckResult) -> dict[str, Any]:
    check = result.check
    return {
        "id": check.id, "title": check.title, "level": check.level, "requirements": list(check.requirements),
        "profiles": list(check.profiles), "source": check.source, "verdict": Verdict(result.verdict).value,
        "summary": str(result.summary), "reason": _text(result.reason),
        "findings": [_finding(f) for f in result.findings],
        "duration_ms": round(max(result.duration_ms or 0.0, 0.0), 1),
    }


def _settings(settings: RunSettings) -> dict[str, Any]:
    retries = []
    for entry in settings.retry_log:
        if isinstance(entry, dict):
            retries.append({str(k): v for k, v in entry.items() if v is not None})
        else:
            retries.append({"error": str(entry)})
    return {"timeout_seconds": settings.timeout_seconds, "bulk_timeout_seconds": settings.bulk_timeout_seconds,
            "retries": settings.retries,
            "backoff_seconds": settings.backoff_seconds, "page_size": settings.page_size, "retry_log": retries}


def _target(target: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in target.items() if str(k).lower() not in _TOKEN_KEYS}
    if isinstance(out.get("councils"), list):
        out["councils"] = [str(c.get("code")) if isinstance(c, dict) else str(c) for c in out["councils"]]
    if isinstance(out.get("options"), dict):
        out["options"] = sorted(out["options"])  # option values may be secrets or paths to personal data
    return out


def _readiness(entry: dict[str, Any]) -> dict[str, Any]:
    return {"check": str(entry.get("check", "")), "need": str(entry.get("need", "")),
            "met": bool(entry.get("met")), "detail": _text(entry.get("detail"))}


def _counts(verdicts: Iterable[str]) -> dict[str, int]:
    counts = {v.value: 0 for v in Verdict}
    for verdict in verdicts:
        counts[verdict] += 1
    return counts


def _worst(verdicts: Iterable[str]) -> str:
    present = set(verdicts)
    return next((v.value for v in SEVERITY if v.value in present), Verdict.NOT_APPLICABLE.value)


_IN_WORDS = {Verdict.FAIL.value: "failed", Verdict.ERROR.value: "could not finish",
             Verdict.SKIPPED.value: "was skipped"}


def _judge(results: list[dict[str, Any]], complete: bool) -> tuple[str, str | None]:
    """A profile's verdict by the rules of RunReport.overall, and why, in plain words, when it does not conform:
    a MUST check that did not pass, or no MUST check passed at all (every one not applicable)."""
    passing = {v.value for v in PASSING}
    must = [r for r in results if r["level"] == "MUST"]
    faults = [r for r in must if r["verdict"] not in passing]
    if faults:
        return DOES_NOT_CONFORM, "required checks did not pass: " + "; ".join(
            f"{r['id']} ({r['title']}) {_IN_WORDS[r['verdict']]}" for r in faults)
    if not complete:
        return INCOMPLETE, "only some of its checks were run"
    if not any(r["verdict"] == Verdict.PASS.value for r in must):
        if must:
            return DOES_NOT_CONFORM, ("none of its required checks applied to this target, so it showed nothing "
                                      "of the profile")
        return DOES_NOT_CONFORM, "it has no required check for this kind of target, so nothing was shown"
    return CONFORMS, None


def _profile_summaries(report: RunReport, results: list[dict[str, Any]], complete: bool) -> list[dict[str, Any]]:
    out = []
    for profile in report.profiles:
        own = [r for r in results if profile in r["profiles"]]
        verdict, reason = _judge(own, complete)
        out.append({"profile": profile, "declared": profile in report.declared_profiles,
                    "verdict": verdict, "reason": reason, "counts": _counts(r["verdict"] for r in own),
                    "checks": [r["id"] for r in own]})
    return out


@functools.cache
def _catalogue() -> dict[str, Any]:
    return by_id()


def _requirement_order(requirement_id: str) -> tuple[int, str]:
    order = {rid: n for n, rid in enumerate(_catalogue())}
    return order.get(requirement_id, len(order)), requirement_id


def _requirement_summaries(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    checks: dict[str, dict[str, str]] = {}
    findings: dict[str, int] = {}
    for result in results:
        for requirement in result["requirements"]:
            checks.setdefault(requirement, {})[result["id"]] = result["verdict"]
        for finding in result["findings"]:
            if finding["requirement"]:
                checks.setdefault(finding["requirement"], {})[result["id"]] = result["verdict"]
                findings[finding["requirement"]] = findings.get(finding["requirement"], 0) + 1
    catalogue = _catalogue()
    out = []
    for requirement in sorted(checks, key=_requirement_order):
        known = catalogue.get(requirement)
        by_check = checks[requirement]
        out.append({"requirement": requirement, "level": known.level if known else None,
                    "text": known.text if known else None, "verdict": _worst(by_check.values()),
                    "checks": [{"id": cid, "verdict": verdict} for cid, verdict in sorted(by_check.items())],
                    "findings": findings.get(requirement, 0)})
    return out


def to_json(report: RunReport) -> dict[str, Any]:
    """The report.json document: masked, valid against spec/conformance/report.schema.json."""
    results = [_result(r) for r in report.results]
    complete = report.complete
    verdict = report.overall
    declaration_sha256 = report.declaration_sha256
    if declaration_sha256 is None and report.declaration is not None:
        declaration_sha256 = canonical_digest(report.declaration)
    document = {
        "$schema": REPORT_SCHEMA_ID,
        "suite_version": report.suite_version or __version__,
        "standard_version": report.standard_version,
        "started_at": report.started_at,
        "finished_at": report.finished_at,
        "target": _target(report.target),
        "profiles": list(report.profiles),
        "declared_profiles": list(report.declared_profiles),
        "complete": complete,
        "selected": list(report.selected),
        "settings": _settings(report.settings),
        "declaration": report.declaration,
        "declaration_sha256": declaration_sha256,
        "readiness": [_readiness(entry) for entry in report.readiness],
        "results": results,
        "counts": _counts(r["verdict"] for r in results),
        "profile_summaries": _profile_summaries(report, results, complete),
        "requirement_summaries": _requirement_summaries(results),
        "verdict": verdict,
        # a partial run never certifies, so it never exits 0
        "exit_code": report.exit_code,
    }
    return mask_json(document)


@functools.cache
def _validator() -> Draft202012Validator:
    published = spec_dir() / REPORT_SCHEMA_FILE
    schema = json.loads(published.read_text(encoding="utf-8")) if published.is_file() else REPORT_SCHEMA
    return Draft202012Validator(schema)


def report_problem(document: Any) -> str | None:
    """Why ``document`` is not a valid report.json (the most relevant schema error), or None."""
    error = best_match(_validator().iter_errors(document))
    if error is None:
        return None
    where = "/" + "/".join(str(part) for part in error.absolute_path)
    message = mask_text(error.message)
    return f"at {where}: {message if len(message) <= 200 else message[:197] + '...'}"


def read_report(path: Path | str, *, suite_version: str | None = None,
                standard_version: str | None = None) -> dict[str, Any]:
    """A report.json written by the suite (e.g. for --rerun-failed); ReportError if it is not one.

    With ``suite_version`` / ``standard_version``, a report written by another version of the suite or for
    another version of the standard is refused, before its form is checked: its checks and verdicts may mean
    something else, and its form may differ."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReportError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise ReportError(f"{path} is not a conformance report: it is not UTF-8 text") from None
    except OSError as error:
        raise ReportError(f"{path} cannot be read: {error.strerror}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ReportError(f"{path} is not a conformance report: not JSON ({error.msg} at line {error.lineno})") \
            from None
    if not isinstance(document, dict) or "results" not in document or "verdict" not in document:
        raise ReportError(f"{path} is not a conformance report: expected the report.json a conformance run "
                          "writes (an object with 'results' and 'verdict')")
    for name, ours, what in (("suite_version", suite_version, "suite"),
                             ("standard_version", standard_version, "standard")):
        theirs = document.get(name)
        if ours is not None and theirs != ours:
            raise ReportError(f"{path} was written by a run of {what} version {mask_text(str(theirs))}, and this is "
                              f"{what} version {ours}: its checks may differ, so run the whole suite again")
    problem = report_problem(document)
    if problem:
        written_for = document.get("standard_version")
        hint = (f" (it was written for standard {mask_text(written_for)}, and this is {STANDARD_VERSION})"
                if isinstance(written_for, str) and written_for != STANDARD_VERSION else "")
        raise ReportError(f"{path} is not a valid conformance report{hint}: {problem}")
    return document


# --- junit.xml --------------------------------------------------------------------------------------------

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml(text: Any) -> str:
    return _NOT_XML.sub("\ufffd", "" if text is None else str(text))


def _evidence(result: dict[str, Any]) -> str:
    """A result's findings as plain text, for CI logs."""
    lines = [result["summary"]]
    if result["reason"]:
        lines.append(f"reason: {result['reason']}")
    lines.append(f"requirements: {', '.join(result['requirements']) or '-'}")
    for finding in result["findings"]:
        lines.append(f"- {finding['message']}")
        for label in ("requirement", "expected", "actual"):
            if finding[label] is not None:
                lines.append(f"  {label}: {finding[label]}")
        exchange = finding["exchange"]
        if exchange:
            lines.append(f"  exchange: {exchange['method']} {exchange['url']} -> {exchange['status']}")
    return "\n".join(lines)


def _testcase(parent: ET.Element, result: dict[str, Any], suite: str) -> None:
    case = ET.SubElement(parent, "testcase", classname=_xml(f"plugshare.{suite}"),
                         name=_xml(f"{result['id']} {result['title']}"), time=f"{result['duration_ms'] / 1000:.3f}")
    verdict, summary = result["verdict"], _xml(result["summary"])
    if verdict == Verdict.FAIL.value:
        ET.SubElement(case, "failure", message=summary, type=result["id"]).text = _xml(_evidence(result))
    elif verdict == Verdict.ERROR.value:
        ET.SubElement(case, "error", message=summary, type=result["id"]).text = _xml(_evidence(result))
    elif verdict == Verdict.SKIPPED.value:
        ET.SubElement(case, "skipped", message=_xml(result["reason"] or result["summary"]))
    elif verdict == Verdict.NOT_APPLICABLE.value:
        ET.SubElement(case, "skipped", message=_xml(f"not applicable: {result['reason'] or result['summary']}"))
    elif verdict == Verdict.WARNING.value:
        ET.SubElement(case, "system-out").text = _xml(f"WARNING (SHOULD)\n{_evidence(result)}")


def _tally(results: list[dict[str, Any]]) -> dict[str, str]:
    verdicts = [r["verdict"] for r in results]
    return {"tests": str(len(results)), "failures": str(verdicts.count(Verdict.FAIL.value)),
            "errors": str(verdicts.count(Verdict.ERROR.value)),
            "skipped": str(verdicts.count(Verdict.SKIPPED.value) + verdicts.count(Verdict.NOT_APPLICABLE.value)),
            "time": f"{sum(r['duration_ms'] for r in results) / 1000:.3f}"}


def render_junit(document: dict[str, Any]) -> str:
    """junit.xml: one testsuite per chosen profile (a check of two profiles is in both), one testcase per check."""
    suites: list[tuple[str, list[dict[str, Any]]]] = [
        (profile, [r for r in document["results"] if profile in r["profiles"]]) for profile in document["profiles"]]
    placed = {r["id"] for _, own in suites for r in own}
    rest = [r for r in document["results"] if r["id"] not in placed]
    if rest:
        suites.append(("plugshare", rest))
    everything = [r for _, own in suites for r in own]
    profile_verdicts = {p["profile"]: p["verdict"] for p in document["profile_summaries"]}
    # JUnit's schema wants a timestamp without a zone: the run's times are UTC, given whole as a property
    timestamp = str(document["started_at"]).removesuffix("Z")
    root = ET.Element("testsuites", name="plugshare conformance", **_tally(everything))
    for name, own in suites:
        suite = ET.SubElement(root, "testsuite", name=_xml(name), timestamp=_xml(timestamp), **_tally(own))
        properties = ET.SubElement(suite, "properties")
        for key, value in (("suite_version", document["suite_version"]),
                           ("standard_version", document["standard_version"]),
                           ("target", _target_line(document["target"])), ("started_at", document["started_at"]),
                           ("verdict", document["verdict"]), ("profile_verdict", profile_verdicts.get(name))):
            if value is not None:
                ET.SubElement(properties, "property", name=key, value=_xml(value))
        for result in own:
            _testcase(suite, result, name)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# --- report.html ------------------------------------------------------------------------------------------

def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _target_line(target: dict[str, Any]) -> str:
    if target.get("kind") == "adapter":
        options = target.get("options") or []
        return f"adapter {target.get('adapter', '?')}" + (f" (options: {', '.join(options)})" if options else "")
    councils = ", ".join(target.get("councils") or [])
    return f"API {target.get('url', '?')}" + (f" for councils {councils}" if councils else "")


def headline(document: dict[str, Any]) -> str:
    """The verdict as one line, e.g. ``CONFORMS to hr-core, payroll-core``."""
    profiles = ", ".join(document["profiles"]) or "no profile"
    if document["verdict"] == CONFORMS:
        return f"CONFORMS to {profiles}"
    if document["verdict"] == INCOMPLETE:
        return f"NO VERDICT: a partial run of {profiles}"
    return f"DOES NOT CONFORM to {profiles}"


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Arial,sans-serif;color:#1b1b1b;margin:2rem auto;max-width:64rem;
padding:0 1rem;line-height:1.45}
h1{font-size:2.4rem;margin:0 0 .3rem}h2{margin-top:2.2rem;border-bottom:2px solid #ccc;padding-bottom:.2rem}
.verdict{padding:1.2rem 1.5rem;border:4px solid;border-radius:6px}
.verdict.conforms{border-color:#00703c;background:#e6f4ec}.verdict.does_not_conform{border-color:#d4351c;
background:#fbeae7}.verdict.incomplete{border-color:#b58800;background:#fff7e0}
table{border-collapse:collapse;width:100%;margin:.6rem 0}th,td{border:1px solid #bbb;padding:.3rem .5rem;
text-align:left;vertical-align:top}th{background:#f3f2f1}td.n{text-align:right}
.v{font-weight:bold;white-space:nowrap}.v-pass,.v-conforms{color:#00703c}.v-fail,.v-error,.v-does_not_conform{color:#d4351c}
.v-warning,.v-skipped,.v-incomplete{color:#8a5a00}.v-not_applicable{color:#505a5f}
article{border:1px solid #bbb;border-left:6px solid #d4351c;padding:.4rem 1rem;margin:1rem 0}
article.warning,article.skipped{border-left-color:#b58800}
pre{background:#f6f6f6;border:1px solid #ddd;padding:.5rem;white-space:pre-wrap;word-break:break-all;font-size:.85rem}
dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}dt{font-weight:bold}dd{margin:0}
.quote{border-left:3px solid #bbb;padding-left:.6rem;color:#333}
@media print{body{margin:0;max-width:none;font-size:10pt}h2{break-after:avoid}article,tr,pre{break-inside:avoid}
.verdict{background:none}}
"""


def _verdict(value: str) -> str:
    return f'<span class="v v-{_e(value)}">{_e(value.replace("_", " ").upper())}</span>'


def _exchange_text(exchange: dict[str, Any]) -> tuple[str, str]:
    request = [f"{exchange['method']} {exchange['url']}"]
    request += [f"{k}: {v}" for k, v in exchange["request_headers"].items()]
    if exchange["request_excerpt"]:
        request += ["", exchange["request_excerpt"]]
    elapsed = f" ({exchange['elapsed_ms']:.0f} ms)" if exchange["elapsed_ms"] is not None else ""
    response = [f"HTTP {exchange['status'] if exchange['status'] is not None else '(no response)'}{elapsed}"]
    response += [f"{k}: {v}" for k, v in exchange["response_headers"].items()]
    if exchange["response_excerpt"]:
        response += ["", exchange["response_excerpt"]]
    return "\n".join(request), "\n".join(response)


def _requirement_quote(requirement_id: str, texts: dict[str, dict[str, Any]]) -> str:
    known = texts.get(requirement_id)
    if known and known["text"]:
        return (f'<p class="quote"><strong>{_e(requirement_id)}</strong> ({_e(known["level"])}): '
                f"{_e(known['text'])}</p>")
    return f'<p class="quote"><strong>{_e(requirement_id)}</strong></p>'


def _issue(result: dict[str, Any], texts: dict[str, dict[str, Any]]) -> list[str]:
    level = "required (MUST)" if result["level"] == "MUST" else "recommended (SHOULD)"
    out = [f'<article class="{_e(result["verdict"])}" id="{_e(result["id"])}">',
           f"<h3>{_e(result['id'])} {_e(result['title'])}: {_verdict(result['verdict'])}</h3>",
           f"<p>A {level} check. {_e(result['summary'])}</p>"]
    if result["reason"]:
        out.append(f"<p><strong>Reason:</strong> {_e(result['reason'])}</p>")
    quoted = set(result["requirements"])
    out += [_requirement_quote(rid, texts) for rid in result["requirements"]]
    for n, finding in enumerate(result["findings"], 1):
        out.append(f"<h4>Finding {n}: {_e(finding['message'])}</h4>")
        if finding["requirement"] and finding["requirement"] not in quoted:
            quoted.add(finding["requirement"])
            out.append(_requirement_quote(finding["requirement"], texts))
        if finding["expected"] is not None or finding["actual"] is not None:
            out.append("<table><tr><th>Expected</th><th>Actual</th></tr>"
                       f"<tr><td>{_e(finding['expected'])}</td><td>{_e(finding['actual'])}</td></tr></table>")
        if finding["exchange"]:
            request, response = _exchange_text(finding["exchange"])
            out += ["<p><strong>Request</strong></p>", f"<pre>{_e(request)}</pre>",
                    "<p><strong>Response</strong></p>", f"<pre>{_e(response)}</pre>"]
    out.append("</article>")
    return out


_MEANINGS = (
    (CONFORMS, "every required (MUST) check of the profile passed, and at least one of them applied"),
    (DOES_NOT_CONFORM, "a required check failed, could not finish or was skipped, or none of the profile's "
                       "required checks applied to this target"),
    (INCOMPLETE, "only some checks were run, so the report certifies nothing"),
    (Verdict.PASS.value, "the check found nothing wrong"),
    (Verdict.FAIL.value, "a required (MUST) check found the product at fault"),
    (Verdict.WARNING.value, "a recommended (SHOULD) check found the product at fault; it does not stop conformance"),
    (Verdict.SKIPPED.value, "the check could not run, for the reason given (often data the product did not "
                            "hold or accept); a skipped required check stops conformance"),
    (Verdict.NOT_APPLICABLE.value, "the check does not apply to this product, for the reason given"),
    (Verdict.ERROR.value, "the check could not finish (the product broke the conversation, did not answer in "
                          "time, or the check itself failed); it stops conformance"),
)


def render_html(document: dict[str, Any]) -> str:
    """report.html: self-contained and printable, the verdict first, then profiles, requirements and evidence."""
    title = headline(document)
    texts = {r["requirement"]: r for r in document["requirement_summaries"]}
    verdicts = [v.value for v in Verdict]
    head = "".join(f"<th>{_e(v.replace('_', ' '))}</th>" for v in verdicts)
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{_e(title)}: plugshare conformance report</title>", f"<style>{_CSS}</style>", "</head>",
           "<body>",
           f'<header class="verdict {_e(document["verdict"])}"><h1>{_e(title)}</h1>',
           f"<p>{_e(_target_line(document['target']))}, tested {_e(document['started_at'])} with the plugshare "
           f"conformance suite {_e(document['suite_version'])} against standard {_e(document['standard_version'])}."
           "</p>"]
    if document["verdict"] == CONFORMS:
        out.append("<p>Every required (MUST) check of each profile passed. Warnings, if any, are listed below; "
                   "they do not stop conformance.</p>")
    elif document["verdict"] == DOES_NOT_CONFORM:
        out.append("<p>Why:</p><ul>")
        out += [f"<li><strong>{_e(p['profile'])}</strong>: {_e(p['reason'])}</li>"
                for p in document["profile_summaries"] if p["verdict"] != CONFORMS and p["reason"]]
        out.append("</ul>")
    if not document["complete"]:
        out.append(f"<p>Only these checks were run: {_e(', '.join(document['selected']))}. A partial run never "
                   "certifies conformance.</p>")
    out.append("</header>")

    out += ['<section id="profiles"><h2>Profiles</h2>',
            f"<table><tr><th>profile</th><th>declared by the target</th><th>verdict</th><th>why</th>{head}</tr>"]
    for summary in document["profile_summaries"]:
        counts = "".join(f'<td class="n">{summary["counts"][v]}</td>' for v in verdicts)
        out.append(f"<tr><td>{_e(summary['profile'])}</td><td>{'yes' if summary['declared'] else 'no'}</td>"
                   f"<td>{_verdict(summary['verdict'])}</td><td>{_e(summary['reason'] or '')}</td>{counts}</tr>")
    out.append("</table>")
    if document["declared_profiles"]:
        out.append(f"<p>The target declares: {_e(', '.join(document['declared_profiles']))}.</p>")
    out.append("<h3>What the verdicts mean</h3><dl>")
    out += [f"<dt>{_verdict(v)}</dt><dd>{_e(meaning)}</dd>" for v, meaning in _MEANINGS]
    out.append("</dl></section>")

    out += ['<section id="requirements"><h2>Requirements</h2>',
            "<table><tr><th>requirement</th><th>level</th><th>text</th><th>checks</th><th>verdict</th></tr>"]
    for summary in document["requirement_summaries"]:
        checks = "<br>".join(f'<a href="#check-{_e(c["id"])}">{_e(c["id"])}</a> {_verdict(c["verdict"])}'
                             for c in summary["checks"])
        out.append(f"<tr><td>{_e(summary['requirement'])}</td><td>{_e(summary['level'] or '')}</td>"
                   f"<td>{_e(summary['text'] or '')}</td><td>{checks}</td><td>{_verdict(summary['verdict'])}</td></tr>")
    out.append("</table></section>")

    order = {v.value: n for n, v in enumerate(ISSUES)}
    issues = sorted((r for r in document["results"] if r["verdict"] in order),
                    key=lambda r: (order[r["verdict"]], r["id"]))
    out.append('<section id="issues"><h2>Failures, errors, skips and warnings</h2>')
    if not issues:
        out.append("<p>None: every check passed or did not apply.</p>")
    for result in issues:
        out += _issue(result, texts)
    out.append("</section>")

    out += ['<section id="checks"><h2>Every check</h2>',
            "<table><tr><th>check</th><th>title</th><th>level</th><th>verdict</th><th>summary</th>"
            "<th>time</th></tr>"]
    for result in document["results"]:
        summary = result["summary"] + (f" ({result['reason']})" if result["reason"] else "")
        out.append(f'<tr id="check-{_e(result["id"])}"><td>{_e(result["id"])}</td><td>{_e(result["title"])}</td>'
                   f"<td>{_e(result['level'])}</td><td>{_verdict(result['verdict'])}</td><td>{_e(summary)}</td>"
                   f'<td class="n">{result["duration_ms"] / 1000:.1f} s</td></tr>')
    out.append("</table></section>")

    settings = document["settings"]
    rows = [("Target", _target_line(document["target"])), ("Suite version", document["suite_version"]),
            ("Standard version", document["standard_version"]), ("Started", document["started_at"]),
            ("Finished", document["finished_at"]), ("Timeout (s)", settings["timeout_seconds"]),
            ("Import and export timeout (s)", settings.get("bulk_timeout_seconds")),
            ("Retries", settings["retries"]), ("Backoff (s)", settings["backoff_seconds"]),
            ("Page size", settings["page_size"]), ("Retries made", len(settings["retry_log"])),
            ("Declaration sha256", document["declaration_sha256"]), ("Exit code", document["exit_code"])]
    out += ['<section id="run"><h2>How the run was made</h2><dl>']
    out += [f"<dt>{_e(k)}</dt><dd>{_e('not set' if v is None else v)}</dd>" for k, v in rows]
    out.append("</dl>")
    if settings["retry_log"]:
        out.append(f"<pre>{_e(chr(10).join(json.dumps(r, ensure_ascii=False) for r in settings['retry_log']))}</pre>")
    unmet = [r for r in document["readiness"] if not r["met"]]
    if unmet:
        out.append("<h3>Data the target did not have</h3><table><tr><th>check</th><th>need</th><th>detail</th></tr>")
        out += [f"<tr><td>{_e(r['check'])}</td><td>{_e(r['need'])}</td><td>{_e(r['detail'] or '')}</td></tr>"
                for r in unmet]
        out.append("</table>")
    out += ["</section>", "</body>", "</html>", ""]
    return "\n".join(out)


# --- writing ----------------------------------------------------------------------------------------------

def write_reports(report: RunReport, out: Path) -> dict[str, Path]:
    """Write report.json, junit.xml and report.html into ``out`` (created); return them by format."""
    document = to_json(report)
    problem = report_problem(document)
    if problem:
        raise ReportError(f"the report would not be valid against {REPORT_SCHEMA_FILE}: {problem}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / REPORT_JSON, "junit": out / JUNIT_XML, "html": out / REPORT_HTML}
    write_atomic(paths["json"], json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    write_atomic(paths["junit"], render_junit(document))
    write_atomic(paths["html"], render_html(document))
    return paths
