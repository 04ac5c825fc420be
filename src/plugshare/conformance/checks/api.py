"""The API checks: what a supplier's REST API must do, each check tied to the requirements it verifies.

Every check talks to the target through the context (``ctx.client`` or ``ctx.raw``), so every request
and response is kept as evidence, and reports findings a reader can act on: what was expected, what
came back, and the exchange that showed it. The target is never trusted: a 500, a body that is not
JSON, a missing header or no answer at all becomes a finding, never a crash of the run. A check that
writes puts the target's data back as it found it, so the checks after it compare against what was
loaded.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import json
import secrets
import uuid
from collections import Counter
from collections.abc import Callable, Collection, Iterable
from typing import Any

import httpx

from plugshare.client import ApiError, UnexpectedResponse
from plugshare.conformance.context import ApiContext
from plugshare.conformance.model import Check, CheckSkipped, Exchange, Finding
from plugshare.conformance.prepare import (
    PREPARED,
    ack_errors,
    ack_line,
    corpus_messages,
    declared_limit,
    declared_types,
    features,
    import_lines,
    invalid_messages,
    paging_limit,
    record_failure,
    record_key,
    redacted,
)
from plugshare.conformance.report import mask_json, mask_text
from plugshare.conformance.targets import PAGING_LIMIT, ResponseTooLarge
from plugshare.models import MESSAGE_TYPES, api_path, message_type_of
from plugshare.models.canonical import canonical_json
from plugshare.models.version import STANDARD_MAJOR
from plugshare.standard.paths import spec_dir
from plugshare.standard.requirements import by_id
from plugshare.validation.reader import MAX_MESSAGE_BYTES
from plugshare.validation.schemas import SENSITIVE_FIELDS

JSON = "application/json"
NDJSON = "application/x-ndjson"
PROBLEM = "application/problem+json"
API = frozenset({"api"})
API_AND_ADAPTER = frozenset({"api", "adapter"})
#: findings of one kind listed one by one before the rest are counted
LISTED = 20
#: how many differences of one record EXP-002 names
DIFFERENCES_SHOWN = 5
#: a body larger than this is not sent to test max_message_bytes (the limit is then taken on trust)
LARGEST_PROBE = 16 * 1024 * 1024
#: the cache key of the export the EXP checks share: {council: (messages, exchange)}
EXPORT_CACHE = "api.export"
#: the cache key of the records the target returned to these checks, which PSC-SCH-002 and PSC-RUL-* also judge
RETURNED = "returned"
#: a change feed from this time holds every change a target has made
EPOCH = "2000-01-01T00:00:00Z"
#: an id no corpus record has, for requests that must be refused before any record is looked up
ABSENT_ID = "conformance-absent-record"
WITHHELD = "(withheld: personal data)"

Out = list[Finding]


# --- evidence -----------------------------------------------------------------------------------------------------


def _finding(ctx: Any, message: str, *, expected: str | None = None, actual: str | None = None,
             requirement: str | None = None, exchange: Exchange | None = None) -> Finding:
    """A finding with its texts masked (and the run's tokens withheld) and, unless given, the latest exchange
    as its evidence."""
    return Finding(redacted(ctx, message), redacted(ctx, expected) if expected is not None else None,
                   redacted(ctx, actual) if actual is not None else None, requirement,
                   exchange if exchange is not None else ctx.last_exchange())


def _body(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return None


def _media(response: httpx.Response) -> str:
    return response.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def _named(problem: Any) -> list[str]:
    """The requirement ids a problem document names: its own, then its errors'."""
    if not isinstance(problem, dict):
        return []
    found = [problem.get("requirement")]
    errors = problem.get("errors")
    if isinstance(errors, list):
        found += [e.get("requirement") for e in errors if isinstance(e, dict)]
    return list(dict.fromkeys(r for r in found if isinstance(r, str) and r))


def _answer(response: httpx.Response) -> str:
    """What a response said, in one line: status, media type, and the problem's title and detail or a body excerpt."""
    text = f"{response.status_code} {_media(response) or '(no Content-Type)'}"
    body = _body(response)
    if isinstance(body, dict) and ("title" in body or "detail" in body):
        parts = [str(body.get(k)) for k in ("title", "detail") if body.get(k)]
        text += ": " + ": ".join(parts)
        if _named(body):
            text += f" [naming {', '.join(_named(body))}]"
    elif response.content:
        shown = json.dumps(mask_json(body), ensure_ascii=False)[:1000] if body is not None else response.text[:1000]
        text += ": " + " ".join(shown.split())[:200]
    return mask_text(text[:400])


def _problem_faults(response: httpx.Response, statuses: Collection[int] | None) -> list[str]:
    """How an answer falls short of an error answer: the status, the problem+json media type and document."""
    faults = []
    status = response.status_code
    if statuses is None:
        if not 400 <= status < 500:
            faults.append(f"the status is {status}, not a 4xx")
    elif status not in statuses:
        faults.append(f"the status is {status}, not {' or '.join(map(str, sorted(statuses)))}")
    if _media(response) != PROBLEM:
        faults.append(f"the Content-Type is {_media(response) or 'missing'}, not {PROBLEM}")
    body = _body(response)
    if not isinstance(body, dict) or body.get("status") != status:
        faults.append("the body is not a problem document (RFC 9457) carrying the response's status")
    return faults


def _expect_problem(ctx: ApiContext, out: Out, response: httpx.Response, what: str, *,
                    statuses: Collection[int] | None, requirement: str | None = None,
                    cited: str | None = None) -> bool:
    """Add a finding unless ``response`` is a problem+json with one of ``statuses`` (None: any 4xx) naming
    ``requirement`` (if given). ``cited`` is the requirement the finding is reported against."""
    faults = _problem_faults(response, statuses)
    if requirement and response.status_code < 500 and requirement not in _named(_body(response)):
        faults.append(f"the problem does not name {requirement}")
    if not faults:
        return True
    wanted = " or ".join(map(str, sorted(statuses))) if statuses else "a 4xx"
    expected = f"{wanted} {PROBLEM}" + (f" naming {requirement}" if requirement else "")
    out.append(_finding(ctx, f"{what}: {'; '.join(faults)}", expected=expected, actual=_answer(response),
                        requirement=cited or requirement))
    return False


def _listed(ctx: Any, out: Out, findings: list[Finding], what: str) -> None:
    """Add findings, the first LISTED one by one and the rest as a count."""
    out.extend(findings[:LISTED])
    if len(findings) > LISTED:
        rest = findings[LISTED:]
        requirements = sorted({f.requirement for f in rest if f.requirement})
        out.append(_finding(ctx, f"... and {len(rest)} more {what}", expected="none of these faults",
                            actual=f"{len(rest)} more, the first: {rest[0].message}"[:400],
                            requirement=requirements[0] if len(requirements) == 1 else None,
                            exchange=rest[0].exchange))


def _guarded(body: Callable[[Any, Out], None]) -> Callable[[Any], list[Finding]]:
    """A check's run function: the findings ``body`` adds, plus one for a target that broke the conversation
    (an error where success was needed, an answer that is not what the contract promises, no answer in time).
    Skips pass through; a target that cannot be reached at all is left to be an error verdict."""

    @functools.wraps(body)
    def run(ctx: Any) -> list[Finding]:
        out: Out = []
        try:
            body(ctx, out)
        except ApiError as exc:
            out.append(_finding(ctx, f"{exc.method} {exc.path} was refused where the check needed it to succeed",
                                expected="a successful answer", actual=str(exc)[:600]))
        except UnexpectedResponse as exc:
            out.append(_finding(ctx, "the target answered with something the API contract does not allow",
                                expected="an answer as spec/openapi.yaml declares it", actual=str(exc)[:600]))
        except httpx.TimeoutException as exc:
            record_failure(ctx, exc)
            out.append(_finding(ctx, "the target did not answer in time" + _timeout_said(ctx, exc),
                                expected="an answer within the timeout", actual=f"no answer: {type(exc).__name__}"))
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            record_failure(ctx, exc)
            out.append(_finding(ctx, "the target broke off the conversation", expected="a complete HTTP answer",
                                actual=f"{type(exc).__name__}: {str(exc)[:300]}"))
        except ResponseTooLarge as exc:
            out.append(_finding(ctx, "the target sent an answer far larger than the request could need",
                                expected="an answer of a size the request calls for", actual=str(exc)[:300]))
        except httpx.DecodingError as exc:
            out.append(_finding(ctx, "the target sent a body that cannot be decoded",
                                expected="a body in the content coding it declares (the suite asks for identity)",
                                actual=f"{type(exc).__name__}: {str(exc)[:300]}"))
        return out

    return run


def _timeout_said(ctx: Any, exc: httpx.TimeoutException) -> str:
    """Which timeout ran out, and with how many retries: an import or export has its own, longer one."""
    try:
        path = exc.request.url.path
    except RuntimeError:
        path = ""
    bulk = path.endswith(("/import", "/export"))
    seconds = getattr(ctx, "bulk_timeout" if bulk else "timeout", None)
    if not seconds:
        return ""
    kind = "the import and export timeout" if bulk else "timeout"
    return f" ({kind} {seconds:g} s, {getattr(ctx, 'retries', 0)} retries)"


# --- data helpers -------------------------------------------------------------------------------------------------


def _collection(council: str, message_type: str) -> str:
    return f"/v1/councils/{council}/{api_path(message_type)}"


def _item(council: str, message_type: str, record_id: str) -> str:
    from urllib.parse import quote

    return f"{_collection(council, message_type)}/{quote(record_id, safe='')}"


def _records(ctx: ApiContext, council: str | None = None) -> dict[str, dict[str, dict[str, Any]]]:
    return ctx.loaded.get(council or ctx.council, {})


def _held(ctx: ApiContext, council: str | None = None) -> dict[str, dict[str, dict[str, Any]]]:
    return ctx.cache.get(PREPARED, {}).get("held_before", {}).get(council or ctx.council, {})


def _first_record(ctx: ApiContext, council: str | None = None, *, at_least: int = 1,
                  skip: int = 0) -> tuple[str, str, dict[str, Any]]:
    """(type, id, message) of a loaded record, from the first type under test with enough records."""
    for message_type in ctx.types:
        records = _records(ctx, council).get(message_type, {})
        if len(records) >= max(at_least, skip + 1):
            record_id = sorted(records)[skip]
            return message_type, record_id, records[record_id]
    raise CheckSkipped(f"the target holds no type under test with {max(at_least, skip + 1)} loaded record(s) "
                       f"for {council or ctx.council}")


def revised(message: dict[str, Any]) -> dict[str, Any]:
    """The same record in a new, still valid message (a fresh envelope id): a change when stored."""
    changed = copy.deepcopy(message)
    changed["id"] = str(uuid.uuid4())
    return changed


def _equal(a: Any, b: Any) -> bool:
    return canonical_json(a) == canonical_json(b)


def _shown(pointer: str, value: Any) -> str:
    if value is _ABSENT:
        return f"{pointer or '/'} absent"
    if pointer.rsplit("/", 1)[-1] in SENSITIVE_FIELDS:
        return f"{pointer} = {WITHHELD}"
    text = json.dumps(mask_json(value), ensure_ascii=False)
    return f"{pointer or '/'} = {text if len(text) <= 80 else text[:77] + '...'}"


_ABSENT = object()


def differences(expected: Any, actual: Any, pointer: str = "") -> list[tuple[str, Any, Any]]:
    """Where two JSON values differ: (pointer, expected, actual), ``_ABSENT`` for a missing member."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        out = []
        for key in sorted(set(expected) | set(actual)):
            child = f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}"
            out += differences(expected.get(key, _ABSENT), actual.get(key, _ABSENT), child)
        return out
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        return [d for i, (e, a) in enumerate(zip(expected, actual, strict=True))
                for d in differences(e, a, f"{pointer}/{i}")]
    if expected is _ABSENT or actual is _ABSENT or canonical_json(expected) != canonical_json(actual):
        return [(pointer, expected, actual)]
    return []


def _tombstone(message: dict[str, Any], record_id: str, council: str) -> dict[str, Any]:
    """A delete message for a record, built as the standard describes one."""
    return {"specversion": "1.0", "id": str(uuid.uuid4()), "source": message.get("source"),
            "time": message.get("time"), "datacontenttype": "application/json", "subject": record_id,
            "council": council, "action": "delete", "schemaversion": message.get("schemaversion"),
            "type": message.get("type")}


def _restore(ctx: ApiContext, council: str, messages: Iterable[dict[str, Any]]) -> None:
    """Put loaded records back as they were loaded; one that cannot be is no longer counted as loaded."""
    client = ctx.client(council)
    for message in messages:
        try:
            client.put(message)
        except (ApiError, UnexpectedResponse, httpx.HTTPError):
            key = record_key(message)
            if key is not None:
                _records(ctx, council).get(key[0], {}).pop(key[1], None)


def _readable(response: httpx.Response) -> str:
    """How a read that should have found nothing went: the record is there, or the answer was not 404."""
    if response.status_code == 200:
        return "can be read"
    return f"is answered {response.status_code}, not 404"


def _remove(ctx: ApiContext, council: str, keys: Iterable[tuple[str, str]]) -> None:
    """Delete records a faulty target stored although it should have refused them, so that the checks after
    this one see the target as it was loaded (a removal that fails is left: the finding stands either way)."""
    client = ctx.client(council)
    for message_type, record_id in keys:
        try:
            client.delete(message_type, record_id)
        except (ApiError, UnexpectedResponse, httpx.HTTPError, ValueError):
            pass


def _json_text(value: Any, limit: int = 200) -> str:
    """A JSON value as a finding shows it: masked, on one line, cut to ``limit`` characters."""
    text = json.dumps(mask_json(value), ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _parse_time(text: Any) -> dt.datetime | None:
    if not isinstance(text, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


# --- PSC-CAP-001 --------------------------------------------------------------------------------------------------


def _capabilities_complete(ctx: ApiContext, out: Out) -> None:
    state = ctx.cache.get(PREPARED, {})
    exchange = state.get("capabilities_exchange")

    def add(message: str, expected: str, actual: str) -> None:
        out.append(_finding(ctx, message, expected=expected, actual=actual, requirement="PS-API-015",
                            exchange=exchange))

    caps = ctx.capabilities
    if not caps:
        add("the capabilities document could not be read",
            "GET /v1/capabilities answers 200 with the capability declaration (a JSON object)",
            state.get("capabilities_error", "an empty document"))
        return
    product = caps.get("product")
    for part in ("name", "version", "supplier"):
        value = product.get(part) if isinstance(product, dict) else None
        if not isinstance(value, str) or not value.strip():
            add(f"the declaration does not give the product's {part}", f"product.{part}: a non-empty text",
                _json_text(value))
    version = caps.get("standard_version")
    if not isinstance(version, str) or version.split(".")[0] != STANDARD_MAJOR:
        add("the declared standard version is not of the version this suite tests",
            f"standard_version {STANDARD_MAJOR}.x.y", _json_text(version))
    declared = declared_types(caps)
    if not isinstance(caps.get("message_types"), list):
        add("the declaration gives no list of message types", "message_types: [{type, operations}, ...]",
            _json_text(caps.get("message_types")))
    declared_features = features(ctx)
    for profile in ctx.profiles:
        wanted = list(profile.message_types or ctx.types)
        absent = [t for t in wanted if t not in declared]
        if absent:
            add(f"profile {profile.id} needs {len(absent)} message type(s) the declaration does not list: "
                f"{', '.join(absent)}", f"message_types holding {', '.join(wanted)}"
                + (f", each with operations {', '.join(profile.operations)}" if profile.operations else ""),
                f"declared types: {', '.join(sorted(declared)) or 'none'}")
        short = {t: [o for o in profile.operations if o not in declared[t]] for t in wanted if t in declared}
        short = {t: lacking for t, lacking in short.items() if lacking}
        if short:
            lacking = sorted({o for ops in short.values() for o in ops})
            add(f"profile {profile.id} needs {', '.join(lacking)} on {len(short)} type(s) that do not declare it: "
                f"{', '.join(short)}", f"the operations of each include {', '.join(profile.operations)}",
                "; ".join(f"{t} declares {', '.join(sorted(declared[t])) or 'none'}" for t in short))
        missing_features = [f for f in profile.features if f not in declared_features]
        if missing_features:
            add(f"profile {profile.id} needs the feature(s) {', '.join(missing_features)}, which are not declared",
                f"features include {', '.join(profile.features)}",
                f"declared: {', '.join(sorted(declared_features)) or 'none'}")
    limits = caps.get("limits")
    names = ("default_page_size", "max_page_size", "max_message_bytes", "max_import_bytes")
    if not isinstance(limits, dict):
        add("the declaration gives no limits", f"limits with {', '.join(names)}", _json_text(limits))
        return
    for name in names:
        value = limits.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            add(f"the limit {name} is not declared as a positive whole number", f"limits.{name}: an integer >= 1",
                _json_text(value))
    default, largest = limits.get("default_page_size"), limits.get("max_page_size")
    if isinstance(default, int) and isinstance(largest, int) and default > largest:
        add("the default page size is larger than the largest page allowed",
            "default_page_size <= max_page_size", f"{default} > {largest}")


# --- PSC-CAP-002 --------------------------------------------------------------------------------------------------


def _capabilities_exchange(ctx: ApiContext) -> Exchange | None:
    return ctx.cache.get(PREPARED, {}).get("capabilities_exchange")


def _limits_enforced(ctx: ApiContext, out: Out) -> None:
    if not ctx.types:
        raise CheckSkipped("there is no message type under test to list")
    limits = ctx.capabilities.get("limits") if isinstance(ctx.capabilities.get("limits"), dict) else {}
    _page_limit_enforced(ctx, out, limits.get("max_page_size"))
    if ctx.read_only:
        return  # a read-only target takes no bodies
    _message_limit_enforced(ctx, out, limits.get("max_message_bytes"))
    if "bulk-import" in features(ctx):
        _import_limit_enforced(ctx, out, limits.get("max_import_bytes"))


def _page_limit_enforced(ctx: ApiContext, out: Out, declared: Any) -> None:
    largest = declared_limit(declared)
    if largest is None:
        out.append(_finding(ctx, "no max_page_size is declared, so its enforcement cannot be tested",
                            expected="limits.max_page_size in the capabilities", actual=_json_text(declared),
                            requirement="PS-API-016", exchange=_capabilities_exchange(ctx)))
        return
    path = _collection(ctx.council, ctx.types[0])
    response = ctx.raw("GET", path, params={"limit": str(largest + 1)})
    _expect_problem(ctx, out, response, f"a list asking for {largest + 1} records a page, one more than the "
                    f"declared max_page_size {largest}, was not refused", statuses={400}, cited="PS-API-016")
    response = ctx.raw("GET", path, params={"limit": str(largest)})
    if response.status_code != 200:
        out.append(_finding(ctx, f"a list asking for the declared max_page_size ({largest}) was refused",
                            expected="200 with a page of at most that many records", actual=_answer(response),
                            requirement="PS-API-016"))
        return
    page = _body(response)
    items = page.get("items") if isinstance(page, dict) else None
    if isinstance(items, list) and len(items) > largest:
        out.append(_finding(ctx, f"a page holds more records than limit={largest}",
                            expected=f"at most {largest} items", actual=f"{len(items)} items",
                            requirement="PS-API-016"))


def _message_limit_enforced(ctx: ApiContext, out: Out, declared: Any) -> None:
    size = declared_limit(declared)
    if size is None:
        out.append(_finding(ctx, "no max_message_bytes is declared, so its enforcement cannot be tested",
                            expected="limits.max_message_bytes in the capabilities", actual=_json_text(declared),
                            requirement="PS-API-016", exchange=_capabilities_exchange(ctx)))
        return
    if size >= LARGEST_PROBE:
        return
    try:
        message_type, record_id, message = _first_record(ctx)
    except CheckSkipped:
        messages = corpus_messages(ctx, ctx.council)
        if not messages or record_key(messages[0]) is None:
            return
        message = messages[0]
        message_type, record_id = record_key(message)  # type: ignore[misc]
    text = canonical_json(message).encode("utf-8")
    padded = text + b" " * max(size + 1 - len(text), 0)  # still the same message: JSON allows trailing spaces
    response = ctx.raw("PUT", _item(ctx.council, message_type, record_id), headers={"Content-Type": JSON},
                       content=padded)
    _expect_problem(ctx, out, response, f"a PUT body of {len(padded):,} bytes, over the declared max_message_bytes "
                    f"({size:,}), was not refused as too large", statuses={413}, cited="PS-API-016")
    if response.status_code in (200, 201) and record_id not in _records(ctx).get(message_type, {}):
        out.append(_finding(ctx, "the over-large message was stored", expected="nothing stored",
                            actual=_answer(response), requirement="PS-API-016"))
        _remove(ctx, ctx.council, [(message_type, record_id)])


def _import_limit_enforced(ctx: ApiContext, out: Out, declared: Any) -> None:
    """An import one byte over max_import_bytes, one blank line (which stores nothing even if taken), is refused
    with 413: sent only when the declared limit is small enough to send."""
    size = declared_limit(declared)
    if size is None:
        out.append(_finding(ctx, "no max_import_bytes is declared, so its enforcement cannot be tested",
                            expected="limits.max_import_bytes in the capabilities", actual=_json_text(declared),
                            requirement="PS-API-016", exchange=_capabilities_exchange(ctx)))
        return
    if size >= LARGEST_PROBE:
        return
    response = ctx.raw("POST", f"/v1/councils/{ctx.council}/import", headers={"Content-Type": NDJSON},
                       content=b" " * size + b"\n")
    _expect_problem(ctx, out, response, f"an import of {size + 1:,} bytes, over the declared max_import_bytes "
                    f"({size:,}), was not refused as too large", statuses={413}, cited="PS-API-016")


# --- PSC-HTTP-001 -------------------------------------------------------------------------------------------------


def _authentication(ctx: ApiContext, out: Out) -> None:
    if not ctx.types:
        raise CheckSkipped("there is no message type under test to read")
    message_type = ctx.types[0]
    ids = sorted(_records(ctx).get(message_type, {}))
    record_id = ids[0] if ids else ABSENT_ID
    wrong = f"psk_{secrets.token_urlsafe(9)}_{secrets.token_urlsafe(32)}"
    where = (("list", _collection(ctx.council, message_type)), ("get", _item(ctx.council, message_type, record_id)),
             ("export", f"/v1/councils/{ctx.council}/export"))
    for operation, path in where:
        for label, token in (("no token", None), ("an unknown token", wrong)):
            response = ctx.raw("GET", path, token=token)
            what = f"{operation} ({path}) with {label} was not refused as unauthenticated"
            if _expect_problem(ctx, out, response, what, statuses={401}, cited="PS-API-002"):
                challenge = response.headers.get("www-authenticate", "")
                if not challenge.strip().lower().startswith("bearer"):
                    out.append(_finding(ctx, f"{operation} with {label}: the 401 carries no bearer challenge",
                                        expected='WWW-Authenticate: Bearer realm="plugshare"',
                                        actual=f"WWW-Authenticate: {challenge or '(absent)'}",
                                        requirement="PS-API-002"))


# --- PSC-SCH-001 --------------------------------------------------------------------------------------------------


def _responses_conform(ctx: ApiContext, out: Out) -> None:
    records = list(ctx.exchanges)
    if not records:
        raise CheckSkipped("no exchange with the target was recorded")
    found = []
    for record in records:
        for violation in getattr(record, "violations", ()):
            exchange = record.exchange
            got = f"{exchange.status} {exchange.response_headers.get('content-type', '(no Content-Type)')}"
            found.append(Finding(mask_text(violation), expected="a response as spec/openapi.yaml declares it "
                                 "(status, Content-Type, headers, body)", actual=got, requirement="PS-API-001",
                                 exchange=exchange))
    _listed(ctx, out, found, "responses that break spec/openapi.yaml")


# --- PSC-PAG-001 --------------------------------------------------------------------------------------------------


def _paging(ctx: ApiContext, out: Out) -> None:
    found: Out = []
    try:
        _page_through(ctx, found)
    finally:
        _listed(ctx, out, found, "paging faults")


def _page_through(ctx: ApiContext, out: Out) -> None:
    client = ctx.client()
    returned = ctx.cache.setdefault(RETURNED, [])
    limit = paging_limit(ctx)
    for message_type in ctx.types:
        expected = set(_records(ctx).get(message_type, {})) | set(_held(ctx).get(message_type, {}))
        seen: Counter[str] = Counter()
        pages, most = 0, len(expected) // limit + 10
        exchange = None
        try:
            for page in client.pages(message_type, limit=limit):
                pages += 1
                exchange = ctx.last_exchange()
                returned.extend(page.items)
                if len(page.items) > limit:
                    out.append(_finding(ctx, f"a page of {message_type} holds more records than asked for",
                                        expected=f"at most {limit} items (limit={limit})",
                                        actual=f"{len(page.items)} items", requirement="PS-API-011"))
                for item in page.items:
                    key = record_key(item)
                    if key is None:
                        out.append(_finding(ctx, f"a page of {message_type} holds an item that is not a message "
                                            "naming a record", expected="messages of the standard",
                                            actual=_json_text(item), requirement="PS-API-011"))
                        continue
                    if isinstance(item, dict) and item.get("action") == "delete":
                        out.append(_finding(ctx, f"the list of {message_type} shows {key[1]} as a tombstone",
                                            expected="current records only (a list holds no tombstones)",
                                            actual=f"a delete message for {key[1]}", requirement="PS-API-011"))
                    elif seen[key[1]] == 0:
                        _as_stored(ctx, out, "the list", message_type, key[1], item)
                    seen[key[1]] += 1
                if pages > most:
                    out.append(_finding(ctx, f"paging {message_type} did not end after {pages} pages",
                                        expected=f"about {len(expected) // limit + 1} pages of {limit} "
                                        f"for {len(expected)} records", actual="next_cursor on every page",
                                        requirement="PS-API-011"))
                    break
        except UnexpectedResponse as exc:
            out.append(_finding(ctx, f"paging {message_type} went wrong", expected="a cursor leading on to the "
                                "next page until the last", actual=str(exc)[:400], requirement="PS-API-011"))
            continue
        repeated = sorted(i for i, n in seen.items() if n > 1)
        if repeated:
            out.append(_finding(ctx, f"paging {message_type} returned {len(repeated)} record(s) more than once",
                                expected="every record exactly once", actual=f"repeated: {', '.join(repeated[:10])}",
                                requirement="PS-API-011", exchange=exchange))
        missing = sorted(expected - set(seen))
        if missing:
            out.append(_finding(ctx, f"paging {message_type} with limit={limit} skipped {len(missing)} of "
                                f"{len(expected)} record(s)", expected="every loaded record once",
                                actual=f"missing: {', '.join(missing[:10])}", requirement="PS-API-011",
                                exchange=exchange))
        extra = sorted(set(seen) - expected)
        if extra:
            out.append(_finding(ctx, f"paging {message_type} returned {len(extra)} record(s) that were neither "
                                "loaded nor held before the run", expected="only the council's records",
                                actual=f"unexpected: {', '.join(extra[:10])}", requirement="PS-API-011",
                                exchange=exchange))


def _as_stored(ctx: ApiContext, out: Out, where: str, message_type: str, record_id: str, item: Any) -> None:
    """A record a list returns is the message stored: what was loaded (or held before the run)."""
    stored = _records(ctx).get(message_type, {}).get(record_id) or _held(ctx).get(message_type, {}).get(record_id)
    if stored is None or _equal(item, stored):
        return
    diffs = differences(stored, item)
    out.append(_finding(ctx, f"{where} gives {message_type} {record_id} otherwise than it was stored, at "
                        f"{len(diffs)} place(s)", expected="; ".join(_shown(p, e) for p, e, _ in
                                                                    diffs[:DIFFERENCES_SHOWN]),
                        actual="; ".join(_shown(p, a) for p, _, a in diffs[:DIFFERENCES_SHOWN]),
                        requirement="PS-API-011"))


# --- PSC-CHG-001 --------------------------------------------------------------------------------------------------


def _change_feed(ctx: ApiContext, out: Out) -> None:
    message_type, changed_id, original = _first_record(ctx, at_least=2)
    deleted_id = sorted(_records(ctx)[message_type])[1]
    deleted = _records(ctx)[message_type][deleted_id]
    client = ctx.client()
    first = next(iter(client.pages(message_type, limit=1)))
    start = first.watermark
    if _parse_time(start) is None:
        out.append(_finding(ctx, f"the list of {message_type} gave no usable watermark to start a change feed from",
                            expected="watermark: an RFC 3339 date-time", actual=_json_text(start),
                            requirement="PS-API-012"))
        return
    changed = revised(original)
    try:
        client.put(changed)
        client.delete(message_type, deleted_id)
        _deleted_gone(ctx, out, message_type, deleted_id)
        feed = client.changes(message_type, start, limit=1)
        items = []
        for item in feed:
            items.append(item)
            if len(items) > 50:
                break
        exchange = ctx.last_exchange()
        ctx.cache.setdefault(RETURNED, []).extend(items)
        _judge_feed(ctx, out, message_type, items, changed, deleted_id, exchange)
        later = feed.watermark
        if _parse_time(later) is None or _parse_time(later) <= _parse_time(start):  # type: ignore[operator]
            out.append(_finding(ctx, "the change feed's watermark did not move on past the changes",
                                expected=f"a watermark later than {start}", actual=_json_text(later),
                                requirement="PS-API-012", exchange=exchange))
        else:
            again = list(client.changes(message_type, later, limit=paging_limit(ctx)))
            if again:
                keys = [record_key(m) for m in again]
                out.append(_finding(ctx, "the change feed from its own latest watermark repeats changes",
                                    expected="nothing (no change was made since)",
                                    actual=f"{len(again)} item(s): " + ", ".join(k[1] for k in keys if k)[:200],
                                    requirement="PS-API-012"))
    finally:
        _restore(ctx, ctx.council, [original, deleted])


def _deleted_gone(ctx: ApiContext, out: Out, message_type: str, deleted_id: str) -> None:
    """Once deleted, a record is read as absent, and neither listed nor exported (only the feed shows it)."""
    response = ctx.raw("GET", _item(ctx.council, message_type, deleted_id))
    if response.status_code != 404:
        out.append(_finding(ctx, f"{message_type} {deleted_id} can still be read after it was deleted",
                            expected="404: a deleted record is absent", actual=_answer(response),
                            requirement="PS-API-012"))
    client = ctx.client()
    for page in client.pages(message_type):
        listed = [item for item in page.items if record_key(item) == (message_type, deleted_id)]
        if listed:
            out.append(_finding(ctx, f"the list of {message_type} still holds {deleted_id} after it was deleted",
                                expected="current records only: no deleted record, no tombstone",
                                actual=f"{deleted_id} listed, {_as_what(listed[0])}", requirement="PS-API-011"))
            break
    if "bulk-export" in features(ctx):
        exported = [m for m in client.export(types=[message_type]) if record_key(m) == (message_type, deleted_id)]
        if exported:
            out.append(_finding(ctx, f"the export still holds {message_type} {deleted_id} after it was deleted",
                                expected="every current record, and no deleted one",
                                actual=f"{deleted_id} exported, {_as_what(exported[0])}", requirement="PS-API-014"))


def _as_what(message: dict[str, Any]) -> str:
    return "as its tombstone" if message.get("action") == "delete" else "as it was before the delete"


def _judge_feed(ctx: ApiContext, out: Out, message_type: str, items: list[Any], changed: dict[str, Any],
                deleted_id: str, exchange: Exchange | None) -> None:
    changed_id = changed["data"]["id"]
    keys = [record_key(item) for item in items]
    where_changed = [i for i, k in enumerate(keys) if k == (message_type, changed_id)]
    where_deleted = [i for i, k in enumerate(keys) if k == (message_type, deleted_id)]
    listed = ", ".join(f"{k[1]} ({items[i].get('action')})" if k else "(not a message)"
                       for i, k in enumerate(keys))[:300] or "nothing"

    def add(message: str, expected: str) -> None:
        out.append(_finding(ctx, message, expected=expected, actual=f"the feed held: {listed}",
                            requirement="PS-API-012", exchange=exchange))

    if not where_changed:
        add(f"the change to {message_type} {changed_id} is missing from the change feed",
            f"{changed_id} with its new message")
    elif not _equal(items[where_changed[-1]], changed):
        add(f"the change feed shows {changed_id}, but not as the message that was stored",
            f"the stored message (envelope id {changed['id']})")
    if not where_deleted:
        add(f"the deletion of {message_type} {deleted_id} is missing from the change feed",
            f"a delete message with subject {deleted_id}")
    elif items[where_deleted[-1]].get("action") != "delete" or items[where_deleted[-1]].get("subject") != deleted_id:
        add(f"the deletion of {deleted_id} is not shown as a delete message", f"action delete, subject {deleted_id}")
    if where_changed and where_deleted and where_changed[0] > where_deleted[0]:
        add("the change feed is not oldest first", f"{changed_id} (changed first) before {deleted_id} (deleted next)")
    if len(where_changed) > 1 or len(where_deleted) > 1:
        add("the change feed shows one change more than once", "each change once")
    others = sorted({k[1] if k else "(not a message)" for k in keys} - {changed_id, deleted_id})
    if others:
        add(f"the change feed holds {len(others)} record(s) that did not change", "only the two changed records")


# --- PSC-UPS-001 --------------------------------------------------------------------------------------------------


def _strong(etag: str | None) -> bool:
    return bool(etag) and etag.startswith('"') and etag.endswith('"') and len(etag) > 2  # type: ignore[union-attr]


def _idempotent_upsert(ctx: ApiContext, out: Out) -> None:
    message_type, record_id, original = _first_record(ctx)
    path = _item(ctx.council, message_type, record_id)
    try:
        before = _put_twice(ctx, out, path, record_id, "the record as loaded", original, created=False)
        after = _put_twice(ctx, out, path, record_id, "a changed copy of the record", revised(original),
                           created=False)
        if before is None or after is None:
            return
        if before == after:
            out.append(_finding(ctx, f"the ETag of {record_id} stayed {before} although the record changed",
                                expected="a new ETag once the message stored changes", actual=f"ETag {after}",
                                requirement="PS-API-010"))
        response = ctx.raw("DELETE", path)
        if response.status_code != 204:
            out.append(_finding(ctx, f"DELETE of {record_id}, which exists, answered {response.status_code}",
                                expected="204 with no body", actual=_answer(response), requirement="PS-API-009"))
            return
        _put_twice(ctx, out, path, record_id, "the record after it was deleted", original, created=True)
    finally:
        _restore(ctx, ctx.council, [original])
    count = sum(1 for item in ctx.client().list(message_type) if record_key(item) == (message_type, record_id))
    if count != 1:
        out.append(_finding(ctx, f"after the PUTs the list of {message_type} holds {record_id} {count} time(s)",
                            expected="the record once", actual=f"{count} times", requirement="PS-API-009"))


def _put_twice(ctx: ApiContext, out: Out, path: str, record_id: str, label: str, message: dict[str, Any], *,
               created: bool) -> str | None:
    """PUT ``message`` twice: the first answered 201 with Location when it ``created`` the record, else 200; the
    second 200; both with one strong ETag and the message as stored, which GET then gives back. The ETag, or
    None when the answers went so wrong that the check cannot go on."""
    tags = []
    for attempt in (1, 2):
        response = ctx.raw("PUT", path, headers={"Content-Type": JSON}, content=canonical_json(message))
        wanted = 201 if created and attempt == 1 else 200
        if response.status_code != wanted:
            if wanted == 201:
                why = "201 with Location: the record did not exist"
            else:
                why = "200: the record exists, so it is replaced" if attempt == 1 else \
                    "200: the same message again changes nothing"
            out.append(_finding(ctx, f"PUT number {attempt} of {label} ({record_id}) answered "
                                f"{response.status_code}", expected=why, actual=_answer(response),
                                requirement="PS-API-009"))
            return None
        if wanted == 201 and not response.headers.get("location", "").strip():
            out.append(_finding(ctx, f"PUT of {label} created it without saying where",
                                expected="201 with a Location header", actual="no Location header",
                                requirement="PS-API-009"))
        etag = response.headers.get("etag")
        if not _strong(etag):
            out.append(_finding(ctx, f"PUT of {label} gave no strong ETag", expected='ETag: "<tag>"',
                                actual=f"ETag: {etag or '(absent)'}", requirement="PS-API-010"))
        if not _equal(_body(response), message):
            out.append(_finding(ctx, f"PUT of {label} did not answer with the message stored",
                                expected="the body equal to the message sent, after canonicalisation",
                                actual=_answer(response), requirement="PS-API-009"))
        tags.append(etag)
    if tags[0] != tags[1]:
        out.append(_finding(ctx, f"PUT of {label} twice gave two ETags", expected=f"the same ETag {tags[0]}",
                            actual=f"{tags[0]} then {tags[1]}", requirement="PS-API-009"))
    got = ctx.raw("GET", path)
    if got.status_code != 200 or not _equal(_body(got), message):
        out.append(_finding(ctx, f"GET after PUT of {label} does not give the message stored",
                            expected="200 with the message as PUT, after canonicalisation",
                            actual=_answer(got), requirement="PS-API-009"))
    elif got.headers.get("etag") != tags[-1]:
        out.append(_finding(ctx, "GET gives another ETag than the PUT that stored the record",
                            expected=f"ETag {tags[-1]}", actual=f"ETag {got.headers.get('etag')}",
                            requirement="PS-API-010"))
    return tags[-1]


# --- PSC-UPS-002 --------------------------------------------------------------------------------------------------


def _conditional_requests(ctx: ApiContext, out: Out) -> None:
    message_type, record_id, original = _first_record(ctx)
    path = _item(ctx.council, message_type, record_id)
    got = ctx.raw("GET", path)
    etag = got.headers.get("etag")
    if got.status_code != 200 or not _strong(etag):
        out.append(_finding(ctx, f"GET of {record_id} gave no strong ETag to make conditional requests with",
                            expected='200 with ETag: "<tag>"', actual=f"{_answer(got)}; ETag: {etag or '(absent)'}",
                            requirement="PS-API-010"))
        return
    wrong = '"' + ("0" * 32 if etag != '"' + "0" * 32 + '"' else "1" * 32) + '"'
    changed = revised(original)
    body = canonical_json(changed)
    probes = (("PUT with If-Match naming another ETag", "PUT", {"Content-Type": JSON, "If-Match": wrong}, body),
              ("PUT with If-None-Match: * over an existing record", "PUT", {"Content-Type": JSON, "If-None-Match": "*"},
               body),
              ("DELETE with If-Match naming another ETag", "DELETE", {"If-Match": wrong}, None))
    try:
        for what, method, headers, content in probes:
            response = ctx.raw(method, path, headers=headers, content=content)
            _expect_problem(ctx, out, response, f"{what} was not refused", statuses={412}, cited="PS-API-010")
            after = ctx.raw("GET", path)
            if after.status_code != 200 or not _equal(_body(after), original) or after.headers.get("etag") != etag:
                out.append(_finding(ctx, f"the record changed although the {what} was to be refused",
                                    expected=f"200, the record as loaded, ETag {etag}",
                                    actual=f"{_answer(after)}; ETag: {after.headers.get('etag')}",
                                    requirement="PS-API-010"))
                _restore(ctx, ctx.council, [original])
                after = ctx.raw("GET", path)
                etag = after.headers.get("etag") or etag
        response = ctx.raw("PUT", path, headers={"Content-Type": JSON, "If-Match": etag}, content=body)
        if response.status_code != 200:
            out.append(_finding(ctx, "a PUT with If-Match naming the current ETag was refused",
                                expected="200 (the condition holds)", actual=_answer(response),
                                requirement="PS-API-010"))
            return
        _stale_tag_refused(ctx, out, path, record_id, original, changed, etag, response.headers.get("etag"))
    finally:
        _restore(ctx, ctx.council, [original])


def _stale_tag_refused(ctx: ApiContext, out: Out, path: str, record_id: str, original: dict[str, Any],
                       changed: dict[str, Any], stale: str, current: str | None) -> None:
    """The lost update If-Match is for: a write naming the ETag the record had before its last change is
    refused, and the change stands."""
    if current == stale:
        out.append(_finding(ctx, f"the ETag of {record_id} stayed {stale} although the record changed, so "
                            "If-Match cannot tell one version from the next", expected="a new ETag once the "
                            "message stored changes", actual=f"ETag {current}", requirement="PS-API-010"))
        return
    probes = (("PUT with If-Match naming the ETag the record had before its last change", "PUT",
               {"Content-Type": JSON, "If-Match": stale}, canonical_json(original)),
              ("DELETE with If-Match naming the ETag the record had before its last change", "DELETE",
               {"If-Match": stale}, None))
    for what, method, headers, content in probes:
        response = ctx.raw(method, path, headers=headers, content=content)
        _expect_problem(ctx, out, response, f"{what} was not refused: a lost update", statuses={412},
                        cited="PS-API-010")
        after = ctx.raw("GET", path)
        if after.status_code != 200 or not _equal(_body(after), changed) or after.headers.get("etag") != current:
            out.append(_finding(ctx, f"the record changed although the {what} was to be refused",
                                expected=f"200, the record as last changed, ETag {current}",
                                actual=f"{_answer(after)}; ETag: {after.headers.get('etag')}",
                                requirement="PS-API-010"))
            current = ctx.client().put(changed).etag


# --- PSC-INV-001 --------------------------------------------------------------------------------------------------


def _invalid_examples_with_requirement() -> tuple[str, ...]:
    """The MUST requirements of messages with an invalid example a server can see in one message."""
    catalogue = by_id()
    found = set()
    try:
        names = [p.name for p in (spec_dir() / "examples" / "invalid").iterdir()]
    except OSError:
        return ()
    for name in names:
        requirement = name.split("--", 1)[0]
        known = catalogue.get(requirement)
        if known is None or known.level != "MUST" or known.enforced_by not in ("reader", "schema", "rule"):
            continue
        if known.enforced_by == "rule" and not name.endswith(".json"):
            continue  # a rule over several messages (a stream rule): not something one write can show
        found.add(requirement)
    return tuple(sorted(found))


def _testable_invalid(ctx: ApiContext) -> tuple[list[tuple[Any, str]], list[str]]:
    """The invalid corpus lines one write can show to be invalid, and the requirements left out (and why)."""
    catalogue = by_id()
    kept, left_out = [], []
    for message, requirement in invalid_messages(ctx):
        known = catalogue.get(requirement)
        if known is not None and known.level != "MUST":
            continue
        if known is None or known.enforced_by != "reader":
            if not isinstance(message, dict) or ctx.validator is None:
                continue
            _, problems = ctx.validator.check(message)
            if not any(p.requirement == requirement and p.level == "MUST" for p in problems):
                left_out.append(requirement)  # broken only together with other messages
                continue
        kept.append((message, requirement))
    return kept, sorted(set(left_out))


def _over_long_line(ctx: ApiContext) -> str | None:
    """A line one byte over the longest message the target takes (PS-ENV-002: the standard's 1 MiB, or the
    target's smaller max_message_bytes), made here rather than kept in the corpus: a valid message padded with
    spaces, so that only its length is wrong. None when the declared max_import_bytes leaves no room for it."""
    limits = ctx.capabilities.get("limits") if isinstance(ctx.capabilities.get("limits"), dict) else {}
    longest = min(MAX_MESSAGE_BYTES, declared_limit(limits.get("max_message_bytes")) or MAX_MESSAGE_BYTES)
    messages = corpus_messages(ctx, ctx.council) or [m for m, _ in invalid_messages(ctx) if isinstance(m, dict)]
    text = canonical_json(messages[0]) if messages else "{}"
    line = text + " " * max(longest + 1 - len(text.encode("utf-8")), 0)
    room = declared_limit(limits.get("max_import_bytes"))
    return line if room is None or len(line) + 1 <= room else None


def _line(message: Any) -> str:
    return message if isinstance(message, str) else canonical_json(message)


def _target_of(message: Any) -> tuple[str, str] | None:
    """(type, id) a PUT of this message would go to, when its path can be formed."""
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        return None
    message_type = message_type_of(message["type"])
    data = message.get("data")
    record_id = data.get("id") if isinstance(data, dict) else None
    record_id = record_id if isinstance(record_id, str) and record_id else message.get("subject")
    if message_type not in MESSAGE_TYPES or not isinstance(record_id, str) or not record_id:
        return None
    return message_type, record_id


def _invalid_refused(ctx: ApiContext, out: Out) -> None:
    items, _ = _testable_invalid(ctx)
    if not items:
        raise CheckSkipped("the corpus has no invalid messages to send")
    over_long = None if any(requirement == "PS-ENV-002" for _, requirement in items) else _over_long_line(ctx)
    if over_long is not None:
        items.append((over_long, "PS-ENV-002"))
    prior = _prior(ctx, items)
    acks: list[dict[str, Any]] = []
    exchanges: dict[int, Exchange | None] = {}
    failures = import_lines(ctx, ctx.council, [_line(m) for m, _ in items], acks, exchanges)
    found: list[Finding] = []
    if failures:
        found.append(_finding(ctx, "the import of invalid messages failed", expected="one acknowledgement per line",
                              actual="; ".join(failures)[:600], requirement="PS-API-013"))
    by_line = {ack_line(ack): ack for ack in acks}
    if len(acks) != len(items):
        found.append(_finding(ctx, "the import of invalid messages was not acknowledged line by line",
                              expected=f"{len(items)} acknowledgements", actual=f"{len(acks)}",
                              requirement="PS-API-013", exchange=exchanges.get(len(items))))
    for number, (_, requirement) in enumerate(items, start=1):
        exchange = exchanges.get(number)
        ack = by_line.get(number)
        named = [e.get("requirement") for e in ack_errors(ack)]
        if not isinstance(ack, dict):
            found.append(_finding(ctx, f"line {number} (an example breaking {requirement}) has no acknowledgement",
                                  expected="rejected, naming " + requirement, actual="no acknowledgement",
                                  requirement=requirement, exchange=exchange))
        elif ack.get("status") != "rejected":
            found.append(_finding(ctx, f"line {number}, a message breaking {requirement}, was accepted by the import",
                                  expected=f"rejected, naming {requirement}",
                                  actual=f"{_json_text(ack.get('status'))} ({_json_text(ack.get('change', ''))})",
                                  requirement=requirement, exchange=exchange))
        elif requirement not in named:
            found.append(_finding(ctx, f"line {number} was rejected without naming {requirement}, the requirement "
                                  "it breaks", expected=f"errors naming {requirement}",
                                  actual=f"errors naming {', '.join(str(n) for n in named) or 'nothing'}",
                                  requirement=requirement, exchange=exchange))
    for message, requirement in items:
        target = _target_of(message)
        if target is None:
            continue
        statuses = {413, 422} if requirement == "PS-ENV-002" else {422}
        response = ctx.raw("PUT", _item(ctx.council, *target), headers={"Content-Type": JSON},
                           content=_line(message))
        _expect_problem(ctx, found, response, f"a PUT of a message breaking {requirement} ({target[1]}) was not "
                        "refused as invalid", statuses=statuses,
                        requirement=None if response.status_code == 413 else requirement, cited=requirement)
    _nothing_stored(ctx, found, [(m, r) for m, r in items if _target_of(m) is not None], prior)
    _listed(ctx, out, found, "invalid messages not refused as the standard requires")


def _prior(ctx: ApiContext, items: list[tuple[Any, str]]) -> dict[tuple[str, str], dict[str, Any]]:
    """What the target holds, before the invalid messages are sent, at each id they name: a record may be there
    from an earlier run of other profiles, whose types this run neither loaded nor read."""
    prior: dict[tuple[str, str], dict[str, Any]] = {}
    for message, _ in items:
        target = _target_of(message)
        if target is None or target in prior:
            continue
        response = ctx.raw("GET", _item(ctx.council, *target))
        body = _body(response) if response.status_code == 200 else None
        if isinstance(body, dict):
            prior[target] = body
    return prior


def _nothing_stored(ctx: ApiContext, out: Out, items: list[tuple[Any, str]],
                    prior: dict[tuple[str, str], dict[str, Any]] | None = None) -> None:
    """None of the invalid messages can be read back: their ids answer 404, or the record held before."""
    for message, requirement in items:
        message_type, record_id = _target_of(message)  # type: ignore[misc]
        before = (_records(ctx).get(message_type, {}).get(record_id) or _held(ctx).get(message_type, {}).get(record_id)
                  or (prior or {}).get((message_type, record_id)))
        response = ctx.raw("GET", _item(ctx.council, message_type, record_id))
        if before is None and response.status_code != 404:
            out.append(_finding(ctx, f"{message_type} {record_id}, named only by a message breaking {requirement}, "
                                + _readable(response), expected="404: nothing was stored", actual=_answer(response),
                                requirement="PS-API-004"))
            _remove(ctx, ctx.council, [(message_type, record_id)])
        elif before is not None and (response.status_code != 200 or not _equal(_body(response), before)):
            out.append(_finding(ctx, f"{message_type} {record_id} is no longer as loaded after a message breaking "
                                f"{requirement} was sent for it", expected="the record as loaded: nothing stored",
                                actual=_answer(response), requirement="PS-API-004"))
            _restore(ctx, ctx.council, [before])


# --- PSC-INV-002 --------------------------------------------------------------------------------------------------


def _malformed_refused(ctx: ApiContext, out: Out) -> None:
    message_type, record_id, original = _first_record(ctx)
    path = _item(ctx.council, message_type, record_id)
    text = canonical_json(original)
    others = [m for m in corpus_messages(ctx, ctx.council, [t for t in MESSAGE_TYPES if t != message_type])
              if m.get("action") == "upsert" and _target_of(m) is not None]
    probes: list[tuple[str, str, dict[str, str], str, set[int] | None, str | None]] = [
        ("a body that is not JSON", path, {"Content-Type": JSON}, text[: len(text) // 2], None, None),
        ("a JSON array", path, {"Content-Type": JSON}, "[" + text + "]", None, None),
        ("a message sent as text/plain", path, {"Content-Type": "text/plain"}, text, None, None),
        ("a delete message on PUT", path, {"Content-Type": JSON},
         canonical_json(_tombstone(original, record_id, ctx.council)), {422}, "PS-API-006"),
        ("a message whose data.id is not the id in the path",
         _item(ctx.council, message_type, record_id + "-other"), {"Content-Type": JSON}, text, {422}, "PS-API-007"),
    ]
    absent = [(message_type, record_id + "-other")]
    if others:
        other = others[0]
        other_id = _target_of(other)[1]  # type: ignore[index]
        probes.insert(3, (f"a {message_type_of(other['type'])} message on the {message_type} path",
                          _item(ctx.council, message_type, other_id), {"Content-Type": JSON}, canonical_json(other),
                          {422}, "PS-API-005"))
        if other_id not in _records(ctx).get(message_type, {}) and other_id not in _held(ctx).get(message_type, {}):
            absent.append((message_type, other_id))
    try:
        for what, target, headers, content, statuses, requirement in probes:
            response = ctx.raw("PUT", target, headers=headers, content=content)
            if response.status_code >= 500:
                out.append(_finding(ctx, f"{what} made the target fail ({response.status_code})",
                                    expected="a 4xx problem+json" + (f" naming {requirement}" if requirement else ""),
                                    actual=_answer(response), requirement=requirement or "PS-API-001"))
                continue
            _expect_problem(ctx, out, response, f"{what} was not refused as it should be", statuses=statuses,
                            requirement=requirement, cited=requirement or "PS-API-001")
        after = ctx.raw("GET", path)
        if after.status_code != 200 or not _equal(_body(after), original):
            out.append(_finding(ctx, f"{record_id} changed although every write to it was malformed",
                                expected="the record as loaded", actual=_answer(after), requirement="PS-API-004"))
        for absent_type, absent_id in absent:
            response = ctx.raw("GET", _item(ctx.council, absent_type, absent_id))
            if response.status_code != 404:
                out.append(_finding(ctx, f"{absent_type} {absent_id}, named only by a write that was to be refused, "
                                    + _readable(response), expected="404: nothing was stored",
                                    actual=_answer(response), requirement="PS-API-004"))
                _remove(ctx, ctx.council, [(absent_type, absent_id)])
    finally:
        _restore(ctx, ctx.council, [original])


# --- PSC-TEN-001 --------------------------------------------------------------------------------------------------


def _tenant_isolation(ctx: ApiContext, out: Out) -> None:
    if len(ctx.councils) < 2:
        raise CheckSkipped("tenant isolation needs two councils, each with a token bound to it alone; "
                           f"{len(ctx.councils)} was given")
    distinct = getattr(ctx, "tokens_distinct", None)
    if distinct is not None and not distinct():
        raise CheckSkipped("the two councils were given the same token; give each a token bound to it alone")
    a, b = ctx.councils[:2]
    b_records = _records(ctx, b)
    message_type = next((t for t in ctx.types if b_records.get(t)), ctx.types[0] if ctx.types else None)
    if message_type is None:
        raise CheckSkipped("there is no message type under test")
    b_ids = sorted(b_records.get(message_type, {}))
    b_id = b_ids[0] if b_ids else ABSENT_ID
    b_message = b_records.get(message_type, {}).get(b_id)
    if b_message is None:
        candidates = [m for m in corpus_messages(ctx, b, [message_type]) if _target_of(m)]
        b_message = candidates[0] if candidates else None
    secrets_of_b = {i for t in b_records.values() for i in t}

    def refused(what: str, response: httpx.Response) -> None:
        if response.status_code < 300:
            out.append(_finding(ctx, f"with {a}'s token, {what} of council {b} was allowed",
                                expected=f"403 {PROBLEM} naming PS-API-003", actual=_answer(response),
                                requirement="PS-API-003"))
        else:
            _expect_problem(ctx, out, response, f"with {a}'s token, {what} of council {b} was not refused as "
                            "forbidden", statuses={403}, cited="PS-API-003")
        asked = response.request.url.path  # a problem's instance repeats the path asked for: not a leak
        shown = sorted(i for i in secrets_of_b if i in response.text and i not in asked)
        if shown:
            out.append(_finding(ctx, f"the answer to {what} of council {b} shows {b}'s records",
                                expected=f"none of {b}'s data", actual=f"record ids shown: {', '.join(shown[:5])}",
                                requirement="PS-API-003"))

    base = _collection(b, message_type)
    refused("the list", ctx.raw("GET", base, council=a))
    refused("the change feed", ctx.raw("GET", base, council=a, params={"updated_since": EPOCH}))
    refused("a record", ctx.raw("GET", _item(b, message_type, b_id), council=a))
    refused("a record that does not exist", ctx.raw("GET", _item(b, message_type, ABSENT_ID), council=a))
    refused("the export", ctx.raw("GET", f"/v1/councils/{b}/export", council=a))
    if not ctx.read_only and b_message is not None:
        body = canonical_json(b_message)
        refused("writing a record", ctx.raw("PUT", _item(b, message_type, _target_of(b_message)[1]), council=a,
                                            headers={"Content-Type": JSON}, content=body))
        refused("deleting a record", ctx.raw("DELETE", _item(b, message_type, b_id), council=a))
        refused("an import", ctx.raw("POST", f"/v1/councils/{b}/import", council=a,
                                     headers={"Content-Type": NDJSON}, content=body + "\n"))
        _b_untouched(ctx, out, b, message_type, b_id)
        _claims_other_council(ctx, out, a, b, message_type, b_message)
    _only_own(ctx, out, a)


def _b_untouched(ctx: ApiContext, out: Out, b: str, message_type: str, b_id: str) -> None:
    loaded = _records(ctx, b).get(message_type, {}).get(b_id)
    if loaded is None:
        return
    response = ctx.raw("GET", _item(b, message_type, b_id), council=b)
    if response.status_code != 200 or not _equal(_body(response), loaded):
        out.append(_finding(ctx, f"council {b}'s record {b_id} changed after another council's token tried to write "
                            "or delete it", expected="the record as loaded", actual=_answer(response),
                            requirement="PS-API-003"))
        _restore(ctx, b, [loaded])


def _claims_other_council(ctx: ApiContext, out: Out, a: str, b: str, message_type: str,
                          b_message: dict[str, Any]) -> None:
    """A message of council B sent under A's path, by PUT and by import, is refused and not stored in A."""
    record_id = _target_of(b_message)[1]  # type: ignore[index]
    path = _item(a, message_type, record_id)
    response = ctx.raw("PUT", path, council=a, headers={"Content-Type": JSON}, content=canonical_json(b_message))
    _expect_problem(ctx, out, response, f"a message claiming council {b} written under {a}'s path was not refused",
                    statuses={422}, requirement="PS-API-008")
    with ctx.client(a).import_messages([b_message]) as result:
        acks = list(result)
    ack = acks[0] if acks else {}
    named = [e.get("requirement") for e in ack_errors(ack)]
    if ack.get("status") != "rejected" or "PS-API-008" not in named:
        said = (f"{_json_text(ack.get('status', 'no acknowledgement'))}, naming "
                f"{', '.join(map(_json_text, named)) or 'nothing'}")
        out.append(_finding(ctx, f"a message claiming council {b} imported into {a} was not rejected naming "
                            "PS-API-008", expected="rejected, naming PS-API-008", actual=said,
                            requirement="PS-API-008"))
    if record_id not in _records(ctx, a).get(message_type, {}) and record_id not in _held(ctx, a).get(message_type, {}):
        response = ctx.raw("GET", path, council=a)
        if response.status_code != 404:
            out.append(_finding(ctx, f"{b}'s record {record_id}, under council {a}, " + _readable(response),
                                expected="404: it was never stored for " + a, actual=_answer(response),
                                requirement="PS-API-008"))
            _remove(ctx, a, [(message_type, record_id)])


def _only_own(ctx: ApiContext, out: Out, a: str) -> None:
    """A's lists, change feeds (from the beginning) and export hold only council A's records."""
    client = ctx.client(a)
    feeds = "change-feed" in features(ctx)
    for message_type in ctx.types:
        views = [("list", client.pages(message_type))]
        if feeds:
            views.append(("change feed", client.pages(message_type, updated_since=EPOCH)))
        for what, pages in views:
            for page in pages:
                foreign = [m for m in page.items if isinstance(m, dict) and m.get("council") != a]
                if foreign:
                    out.append(_finding(ctx, f"council {a}'s {what} of {message_type} holds records of another "
                                        "council", expected=f"only council {a}'s records",
                                        actual="records of " + ", ".join(sorted({_json_text(m.get("council"))
                                                                                 for m in foreign})),
                                        requirement="PS-API-003"))
                    break
    if "bulk-export" in features(ctx):
        exported = _exported(ctx, a)[0]
        foreign = [m for m in exported if m.get("council") != a]
        if foreign:
            out.append(_finding(ctx, f"council {a}'s export holds {len(foreign)} record(s) of another council",
                                expected=f"only council {a}'s records",
                                actual=", ".join(sorted({str(m.get('council')) for m in foreign})),
                                requirement="PS-API-003", exchange=_exported(ctx, a)[1]))


# --- PSC-IMP-001 --------------------------------------------------------------------------------------------------


def _import_acknowledged(ctx: ApiContext, out: Out) -> None:
    message_type, _, _ = _first_record(ctx)
    records = _records(ctx)[message_type]
    chosen = [records[i] for i in sorted(records)[:4]]
    first = chosen[0]
    lines = [canonical_json(revised(first)), *(canonical_json(m) for m in chosen[1:2]), "", "{not json",
             *(canonical_json(m) for m in chosen[2:])]
    numbered = [(n, line) for n, line in enumerate(lines, start=1) if line.strip()]
    valid_ids = {n: record_key(json.loads(line)) for n, line in numbered if line.startswith("{\"")}
    client = ctx.client()
    try:
        for run in (1, 2):
            with client.import_messages(lines) as result:
                acks = list(result)
                summary = result.summary
            _judge_acks(ctx, out, run, numbered, valid_ids, acks, summary)
    finally:
        _restore(ctx, ctx.council, [first])
    listed = Counter(record_key(m) for m in client.list(message_type))
    twice = sorted(k[1] for k, n in listed.items() if k and n > 1)
    if twice:
        out.append(_finding(ctx, f"after importing the same lines twice, the list of {message_type} holds records "
                            "more than once", expected="each record once", actual=", ".join(twice[:10]),
                            requirement="PS-API-013"))
    if "bulk-export" in features(ctx):
        exported = Counter(record_key(m) for m in client.export(types=[message_type]))
        twice = sorted(k[1] for k, n in exported.items() if k and n > 1)
        if twice:
            out.append(_finding(ctx, f"after importing the same lines twice, the export of {message_type} holds "
                                "records more than once", expected="each record once", actual=", ".join(twice[:10]),
                                requirement="PS-API-013"))


def _judge_acks(ctx: ApiContext, out: Out, run: int, numbered: list[tuple[int, str]],
                valid_ids: dict[int, tuple[str, str] | None], acks: list[dict[str, Any]],
                summary: dict[str, Any] | None) -> None:
    exchange = ctx.last_exchange()
    where = "the first import" if run == 1 else "the same import again"

    def add(message: str, expected: str, actual: str) -> None:
        out.append(_finding(ctx, f"{where}: {message}", expected=expected, actual=actual, requirement="PS-API-013",
                            exchange=exchange))

    got = [ack.get("line") for ack in acks]
    wanted = [n for n, _ in numbered]
    if got != wanted:
        add("the acknowledgements do not match the non-blank lines in order",
            f"one acknowledgement per non-blank line, lines {wanted}", f"lines {got}")
    for ack in acks:
        number = ack_line(ack)
        if number not in valid_ids:
            if number in wanted:  # the line that is not JSON
                errors = ack_errors(ack)
                if ack.get("status") != "rejected" or not errors:
                    add(f"line {number}, which is not JSON, was not rejected with its reason",
                        "rejected, with errors naming PS-ENV-001", _json_text(ack))
                elif not all(isinstance(e.get("requirement"), str) and e.get("requirement")
                             and isinstance(e.get("reason"), str) and e.get("reason") for e in errors):
                    add(f"line {number} was rejected without a requirement and reason for each error",
                        "errors: [{requirement, reason}]", _json_text(errors))
            continue
        key = valid_ids[number]
        if ack.get("status") != "accepted":
            add(f"line {number} ({key[1] if key else '?'}) was not accepted", "accepted",
                _json_text(ack))
            continue
        if key and ack.get("id") not in (None, key[1]):
            add(f"line {number} is acknowledged for another record", f"id {key[1]}", f"id {ack.get('id')}")
        change = ack.get("change")
        if run == 2 and change != "unchanged":
            add(f"line {number} ({key[1] if key else '?'}) changed something when imported again",
                'change "unchanged"', f"change {_json_text(change)}")
        if run == 1 and number == wanted[0] and change not in ("updated", "created"):
            add(f"line {number}, a changed copy of a stored record, was not stored as a change",
                'change "updated"', f"change {_json_text(change)}")
    if not isinstance(summary, dict):
        add("the answer has no summary line", '{"summary": {"lines", "accepted", "rejected"}}', "none")
        return
    counted = {"lines": len(acks), "accepted": sum(a.get("status") == "accepted" for a in acks),
               "rejected": sum(a.get("status") == "rejected" for a in acks)}
    wrong = {k: summary.get(k) for k, v in counted.items() if summary.get(k) != v}
    if wrong:
        add("the summary does not add up to the acknowledgements", json.dumps(counted), _json_text(summary))


# --- PSC-EXP-001 / PSC-EXP-002 ------------------------------------------------------------------------------------


def _exported(ctx: ApiContext, council: str) -> tuple[list[dict[str, Any]], Exchange | None]:
    """The council's export (read once and shared by the checks) and its exchange."""
    cache = ctx.cache.setdefault(EXPORT_CACHE, {})
    if council not in cache:
        messages = [m for m in ctx.client(council).export() if isinstance(m, dict)]
        cache[council] = (messages, ctx.last_exchange())
    return cache[council]


def _export_complete(ctx: ApiContext, out: Out) -> None:
    messages, exchange = _exported(ctx, ctx.council)
    loaded, held = _records(ctx), _held(ctx)
    found = Counter(k for k in (record_key(m) for m in messages) if k is not None and k[0] in ctx.types)
    findings: list[Finding] = []
    for message_type in ctx.types:
        for record_id in sorted(loaded.get(message_type, {})):
            if (message_type, record_id) not in found:
                findings.append(_finding(ctx, f"{message_type} {record_id} was loaded but is missing from the export",
                                         expected="every loaded record in the export", actual="absent",
                                         requirement="PS-API-014", exchange=exchange))
    for (message_type, record_id), count in sorted(found.items()):
        if count > 1:
            findings.append(_finding(ctx, f"{message_type} {record_id} is in the export {count} times",
                                     expected="each record once", actual=f"{count} times",
                                     requirement="PS-API-014", exchange=exchange))
        if record_id not in loaded.get(message_type, {}) and record_id not in held.get(message_type, {}):
            findings.append(_finding(ctx, f"the export holds {message_type} {record_id}, which was neither loaded "
                                     "nor held before the run", expected="only the council's current records",
                                     actual="an extra record", requirement="PS-API-014", exchange=exchange))
    _listed(ctx, out, findings, "records missing from or extra in the export")


def _export_faithful(ctx: ApiContext, out: Out) -> None:
    messages, exchange = _exported(ctx, ctx.council)
    exported = {}
    for message in messages:
        key = record_key(message)
        if key is not None:
            exported.setdefault(key, message)
    findings: list[Finding] = []
    compared = 0
    for message_type in ctx.types:
        for record_id, loaded in sorted(_records(ctx).get(message_type, {}).items()):
            got = exported.get((message_type, record_id))
            if got is None:
                continue  # missing records are PSC-EXP-001's
            compared += 1
            if _equal(got, loaded):
                continue
            diffs = differences(loaded, got)
            findings.append(_finding(
                ctx, f"{message_type} {record_id} comes out of the export different from what was loaded, at "
                f"{len(diffs)} place(s)", expected="; ".join(_shown(p, e) for p, e, _ in diffs[:DIFFERENCES_SHOWN]),
                actual="; ".join(_shown(p, a) for p, _, a in diffs[:DIFFERENCES_SHOWN]),
                requirement="PS-API-014", exchange=exchange))
    if not compared and not findings:
        raise CheckSkipped("no loaded record came back in the export to compare (see PSC-EXP-001)")
    _listed(ctx, out, findings, "records that differ in the export")


def _dispatch(api_body: Callable[[Any, Out], None], adapter_function: str) -> Callable[[Any], list[Finding]]:
    """One check for both kinds of target: the API side here, the adapter side in adapter_target."""
    api_run = _guarded(api_body)

    def run(ctx: Any) -> list[Finding]:
        if ctx.kind == "adapter":
            from plugshare.conformance import adapter_target

            return getattr(adapter_target, adapter_function)(ctx)
        return api_run(ctx)

    run.__name__ = api_body.__name__
    return run


# --- the checks ---------------------------------------------------------------------------------------------------


def _check(check_id: str, title: str, requirements: tuple[str, ...], profiles: tuple[str, ...],
           body: Callable[[Any, Out], None], description: str, needs: tuple[str, ...] = ()) -> Check:
    return Check(id=check_id, title=title, level="MUST", requirements=requirements, profiles=profiles, targets=API,
                 run=_guarded(body), description=description, needs=needs)


CHECKS: list[Check] = [
    _check("PSC-CAP-001", "capability declaration complete for the chosen profiles", ("PS-API-015",), ("api-core",),
           _capabilities_complete,
           "GET /v1/capabilities names the product and its version, a standard version of the same major version as "
           "this suite, every message type of each chosen profile with the profile's operations, the profile's "
           "features, and the limits."),
    _check("PSC-CAP-002", "declared limits are enforced", ("PS-API-016",), ("api-core",), _limits_enforced,
           "A list asking for one more record a page than max_page_size is refused with 400, while max_page_size "
           "itself is served; a PUT body one byte over max_message_bytes is refused with 413."),
    _check("PSC-HTTP-001", "requests without a valid token are refused", ("PS-API-002", "PS-API-001"), ("api-core",),
           _authentication,
           "List, get and export without a token and with an unknown token are each answered 401 with a "
           "problem+json body and a WWW-Authenticate: Bearer challenge."),
    _check("PSC-SCH-001", "every response conforms to spec/openapi.yaml", ("PS-API-001",), ("api-core",),
           _responses_conform,
           "Runs last: every response the target gave during the run is held to the published OpenAPI document "
           "(status, Content-Type, headers and body schema).", needs=("exchanges",)),
    _check("PSC-PAG-001", "paging returns every record exactly once", ("PS-API-011",), ("api-core",), _paging,
           f"Each type under test is listed {PAGING_LIMIT} records a page (fewer if the target declares a smaller "
           "max_page_size) following next_cursor: no record twice, none of those loaded missing, nothing else, no "
           "tombstone, no page longer than asked, and each record as it was stored.", needs=("records",)),
    _check("PSC-CHG-001", "the change feed returns every change, oldest first",
           ("PS-API-012", "PS-API-011", "PS-API-014"), ("api-core",),
           _change_feed,
           "From a list's watermark, one record is changed and another deleted; the change feed from that watermark "
           "holds both, the deletion as a delete message, oldest first, nothing unchanged, and a later watermark "
           "from which nothing is repeated. Meanwhile the deleted record is absent: GET answers 404, and neither "
           "the list nor the export holds it. The records are put back afterwards.", needs=("writable", "records")),
    _check("PSC-UPS-001", "upsert is idempotent", ("PS-API-009", "PS-API-010"), ("api-core",), _idempotent_upsert,
           "A stored record PUT twice as loaded, then twice changed, is answered 200 each time with one strong "
           "ETag per content (a new one once the content changes), GET gives it back equal after "
           "canonicalisation with that ETag; deleted and PUT again, it is answered 201 with Location, then 200; "
           "the list holds the record once. The record is put back as loaded.", needs=("writable", "records")),
    _check("PSC-UPS-002", "conditional requests are honoured", ("PS-API-010",), ("api-core",), _conditional_requests,
           "PUT with If-Match naming another ETag, PUT with If-None-Match: * over an existing record and DELETE "
           "with a wrong If-Match are refused with 412 and change nothing; a PUT with If-Match naming the current "
           "ETag succeeds and gives a new ETag, after which PUT and DELETE naming the old one are refused with "
           "412 (a lost update). The record is put back as loaded.",
           needs=("writable", "records")),
    _check("PSC-INV-001", "invalid messages are refused naming the requirement, and nothing is stored",
           ("PS-API-004", *_invalid_examples_with_requirement()), ("api-core",), _invalid_refused,
           "Every invalid example of the standard is sent by bulk import (each line rejected naming its requirement) "
           "and, where its path can be formed, by PUT (422 problem naming it); none can be read afterwards. "
           "Examples that break a rule only together with other messages are not sent.", needs=("writable",)),
    _check("PSC-INV-002", "malformed input gets a 4xx problem, never a 5xx",
           ("PS-API-001", "PS-API-005", "PS-API-006", "PS-API-007"), ("api-core",), _malformed_refused,
           "A body that is not JSON, a JSON array, the wrong Content-Type, a message of another type on the path "
           "(PS-API-005), a delete message on PUT (PS-API-006) and a data.id that is not the path's id (PS-API-007) "
           "are each refused with a 4xx problem+json, and nothing changes.", needs=("writable", "records")),
    _check("PSC-TEN-001", "tenant isolation", ("PS-API-003", "PS-API-008"), ("api-core",), _tenant_isolation,
           "With council A's token, council B's list, change feed, records, writes, deletes, import and export are "
           "each refused with 403 and show none of B's data; a message claiming council B under A's path is "
           "rejected (PUT and import); A's lists, change feeds and export hold only council A.",
           needs=("councils:2",)),
    _check("PSC-IMP-001", "bulk import acknowledges every line and reruns change nothing", ("PS-API-013",),
           ("portability",), _import_acknowledged,
           "An import of valid lines, a blank line and a line that is not JSON is acknowledged line by line in "
           "order, the summary adds up, and importing the same lines again reports every record unchanged with no "
           "duplicate in the list or the export.", needs=("writable", "records")),
    Check(id="PSC-EXP-001", title="export is complete", level="MUST", requirements=("PS-API-014",),
          profiles=("portability",), targets=API_AND_ADAPTER, run=_dispatch(_export_complete, "exp_completeness"),
          description="API: every record loaded comes back in the council's export, once, per type and id, and "
          "nothing extra. Adapter: the corpus written by the adapter and read back comes back whole.",
          needs=("records",)),
    Check(id="PSC-EXP-002", title="export is faithful", level="MUST", requirements=("PS-API-014", "PS-ADP-001"),
          profiles=("portability",), targets=API_AND_ADAPTER, run=_dispatch(_export_faithful, "exp_fidelity"),
          description="API: each exported record is equal, after canonicalisation, to what was loaded. Adapter: "
          "each record read back equals what was written, except the values the writer reported lost and the "
          "envelope attributes an adapter makes afresh.", needs=("records",)),
]
