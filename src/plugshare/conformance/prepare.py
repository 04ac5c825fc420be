"""Before any check: read the target's declaration, load the corpus into it, and say what each check will have.

For an API target, ``prepare`` reads the capabilities (recorded like every exchange), settles the
message types under test (the chosen profiles' types, or else every type the target declares), and,
unless the target is read-only, loads each configured council's corpus messages of those types
(only that council's): by bulk import when the target declares it, else one PUT per message. What
the target accepted becomes ``ctx.loaded``, the reference every later comparison is made against;
the acknowledgements go to ``ctx.import_acks``. A read-only target is read instead (its lists).

Then readiness: each check's ``needs`` is checked and listed, so that a check the data cannot support
is reported as skipped with the reason ("the target holds no payroll.payslip records for E07000991
and its import accepted none: 3 lines rejected, first: [PS-PAY-003] ..."), not as a vague failure.

Needs understood: ``records`` (every type under test has records for the primary council; one
readiness row per type), ``records:<type>``, ``councils:<n>`` (n councils, each with its own token),
``writable`` (the target takes writes) and ``exchanges`` (runs last, over the recorded exchanges).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from typing import Any

import httpx

from plugshare.client import ApiError, UnexpectedResponse
from plugshare.conformance.context import ApiContext, RunContext
from plugshare.conformance.model import Check
from plugshare.conformance.report import mask_text
from plugshare.conformance.targets import PAGING_LIMIT
from plugshare.models import MESSAGE_TYPES, record_key
from plugshare.models.canonical import canonical_json

#: the cache key of what preparation found out (errors, what was sent and refused, what was held before)
PREPARED = "prepare"


class TargetUnreachable(Exception):
    """The target could not be reached at all: a usage error (exit 2), not a verdict."""


# --- messages -----------------------------------------------------------------------------------------------------


def rewrite_council(value: Any, old: str, new: str) -> Any:
    """A copy of a message with council ``old`` replaced by ``new`` wherever it is written (ids, sources)."""
    if old == new:
        return copy.deepcopy(value)
    if isinstance(value, dict):
        return {key: rewrite_council(item, old, new) for key, item in value.items()}
    if isinstance(value, list):
        return [rewrite_council(item, old, new) for item in value]
    if isinstance(value, str):
        return value.replace(old, new).replace(old.lower(), new.lower())
    return value


def ack_line(ack: Any) -> int | None:
    """The line number an acknowledgement gives, or None when it gives none that is a whole number."""
    line = ack.get("line") if isinstance(ack, dict) else None
    return line if isinstance(line, int) and not isinstance(line, bool) else None


def ack_errors(ack: Any) -> list[dict[str, Any]]:
    """The errors of an acknowledgement that are objects (a target may send anything there)."""
    errors = ack.get("errors") if isinstance(ack, dict) else None
    return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []


def declared_types(capabilities: Any) -> dict[str, set[str]]:
    """The message types a capabilities document declares, each with its operations; what is malformed is
    left out (PSC-CAP-001 says so; SCH-001 shows the shape)."""
    entries = capabilities.get("message_types") if isinstance(capabilities, dict) else None
    declared: dict[str, set[str]] = {}
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("type"), str):
            operations = entry.get("operations")
            declared[entry["type"]] = ({o for o in operations if isinstance(o, str)} if isinstance(operations, list)
                                       else set())
    return declared


def declared_limit(value: Any) -> int | None:
    """A limit as the capabilities declare it, if it is a positive whole number."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 1 else None


def paging_limit(ctx: ApiContext) -> int:
    """The page size the paging checks ask for: PAGING_LIMIT, or the declared max_page_size when smaller (a
    supplier may serve smaller pages than the suite would like)."""
    limits = ctx.capabilities.get("limits") if isinstance(ctx.capabilities.get("limits"), dict) else {}
    largest = declared_limit(limits.get("max_page_size"))
    return min(PAGING_LIMIT, largest) if largest is not None else PAGING_LIMIT


def council_map(ctx: ApiContext) -> dict[str, str]:
    """Which corpus council's data each configured council is loaded with: its own if the corpus has it,
    else the corpus councils not taken, in order."""
    corpus_councils = list(ctx.corpus.councils) if ctx.corpus is not None else []
    mapping = {council: council for council in ctx.councils if council in corpus_councils}
    free = [council for council in corpus_councils if council not in mapping.values()]
    for council in ctx.councils:
        if council not in mapping and free:
            mapping[council] = free.pop(0)
    return mapping


def corpus_messages(ctx: ApiContext, council: str, types: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """The corpus messages meant for ``council`` (rewritten to its code), of the types under test by default."""
    source = council_map(ctx).get(council)
    if source is None or ctx.corpus is None:
        return []
    chosen = list(types) if types is not None else list(ctx.types)
    return [rewrite_council(m, source, council) for m in ctx.corpus.messages(council=source, types=chosen)]


def invalid_messages(ctx: ApiContext) -> list[tuple[Any, str]]:
    """The corpus's invalid messages with their requirement, moved to the primary council (unless the council
    is what a message breaks: the corpus knows which)."""
    if ctx.corpus is None:
        return []
    try:
        return list(ctx.corpus.invalid(council=ctx.council))  # type: ignore[call-arg]
    except TypeError:  # a corpus that cannot move them: they are written for its first council
        pass
    source = ctx.corpus.councils[0] if ctx.corpus.councils else ctx.council
    return [(m if isinstance(m, str) else rewrite_council(m, source, ctx.council), r) for m, r in ctx.corpus.invalid()]


# --- preparation --------------------------------------------------------------------------------------------------


def prepare(ctx: RunContext, checks: Sequence[Check] = ()) -> list[dict[str, Any]]:
    """Ready the target for the checks and return the readiness rows (also kept in ``ctx.readiness``)."""
    if isinstance(ctx, ApiContext):
        prepare_api(ctx)
    ctx.readiness = readiness(ctx, checks)
    return ctx.readiness


def prepare_api(ctx: ApiContext) -> None:
    """Capabilities, types under test, then the corpus loaded (or, read-only, the target's records read)."""
    state: dict[str, Any] = ctx.cache.setdefault(PREPARED, {"errors": {}, "sent": {}, "held_before": {}})
    read_capabilities(ctx, state)
    ctx.settings.page_size = paging_limit(ctx)
    if not ctx.types:
        declared = declared_types(ctx.capabilities)
        ctx.types = tuple(t for t in MESSAGE_TYPES if t in declared)
    for council in ctx.councils:
        if ctx.read_only:
            ctx.loaded[council] = read_held(ctx, council, state)
            ctx.import_acks[council] = []
            continue
        state["held_before"][council] = read_held(ctx, council, state)
        load(ctx, council, state)


def read_capabilities(ctx: ApiContext, state: dict[str, Any]) -> None:
    try:
        capabilities = ctx.client().capabilities()
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        raise TargetUnreachable(f"cannot reach the target at {ctx.base_url}: {type(exc).__name__}"
                                f"{': ' + str(exc) if str(exc) else ''}") from None
    except (ApiError, UnexpectedResponse, httpx.HTTPError) as exc:
        if isinstance(exc, httpx.HTTPError):
            record_failure(ctx, exc)
        state["capabilities_error"] = said(ctx, exc)
        capabilities = {}
    state["capabilities_exchange"] = ctx.last_exchange()
    if not isinstance(capabilities, dict):
        state["capabilities_error"] = "the capabilities document is not a JSON object"
        capabilities = {}
    ctx.capabilities = capabilities
    ctx.declaration = capabilities or None
    ctx.read_only = capabilities.get("read_only") is True
    declared = capabilities.get("profiles")
    ctx.declared_profiles = [p for p in declared if isinstance(p, str)] if isinstance(declared, list) else []


def redacted(ctx: Any, text: str) -> str:
    """``text`` masked, and without the run's tokens when the context knows them (a supplier's tokens need not
    look like the reference server's psk_..., and a target may echo one back in an error)."""
    redact = getattr(ctx, "redact", None)
    return redact(text) if callable(redact) else mask_text(text)


def said(ctx: Any, error: Exception) -> str:
    """What went wrong, in one line: a transport error by its kind (a timeout says so), an answer by its text."""
    text = " ".join(str(error).split())
    if isinstance(error, httpx.TransportError | httpx.DecodingError):
        text = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return redacted(ctx, text or type(error).__name__)


def record_failure(ctx: ApiContext, error: httpx.HTTPError) -> None:
    keep = getattr(ctx, "record_failure", None)
    if keep is not None:
        keep(error)


def features(ctx: ApiContext) -> set[str]:
    found = ctx.capabilities.get("features")
    return {f for f in found if isinstance(f, str)} if isinstance(found, list) else set()


def read_held(ctx: ApiContext, council: str, state: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """What the target holds of the types under test for ``council``: by export if declared, else by list."""
    held: dict[str, dict[str, dict[str, Any]]] = {t: {} for t in ctx.types}
    client = ctx.client(council)
    try:
        if "bulk-export" in features(ctx):
            messages: Iterable[dict[str, Any]] = client.export(types=ctx.types)
        else:
            messages = (m for t in ctx.types for m in client.list(t))
        for message in messages:
            key = record_key(message)
            if key is not None and key[0] in held and message.get("action") != "delete":
                held[key[0]][key[1]] = message
    except (ApiError, UnexpectedResponse, httpx.HTTPError) as exc:
        if isinstance(exc, httpx.HTTPError):
            record_failure(ctx, exc)
        state["errors"].setdefault(council, []).append(
            f"reading what the target holds failed: {said(ctx, exc)}")
    return held


def load(ctx: ApiContext, council: str, state: dict[str, Any]) -> None:
    """Load ``council``'s corpus messages; what was accepted goes to ``ctx.loaded``, acknowledgements to
    ``ctx.import_acks`` (one PUT per message, acknowledged alike, when bulk import is not declared)."""
    messages = corpus_messages(ctx, council)
    state["sent"][council] = {}
    for message in messages:
        key = record_key(message)
        if key is not None:
            state["sent"][council][key[0]] = state["sent"][council].get(key[0], 0) + 1
    loaded: dict[str, dict[str, dict[str, Any]]] = {t: {} for t in ctx.types}
    ctx.loaded[council] = loaded
    acks: list[dict[str, Any]] = []
    ctx.import_acks[council] = acks
    if not messages:
        return
    client = ctx.client(council)
    if "bulk-import" in features(ctx):
        lines = [canonical_json(message) for message in messages]
        for failure in import_lines(ctx, council, lines, acks):
            state["errors"].setdefault(council, []).append(f"the bulk import failed: {failure}")
        by_line = {ack_line(ack): ack for ack in acks}
        for number, message in enumerate(messages, start=1):
            ack = by_line.get(number)
            if isinstance(ack, dict) and ack.get("status") == "accepted":
                _apply(loaded, message)
        return
    for number, message in enumerate(messages, start=1):
        key = record_key(message)
        ack: dict[str, Any] = {"line": number, "type": key[0] if key else None, "id": key[1] if key else None}
        try:
            if message.get("action") == "delete" and key is not None:
                client.delete(key[0], key[1])
            else:
                client.put(message)
            ack["status"] = "accepted"
            _apply(loaded, message)
        except ApiError as exc:
            ack.update(status="rejected", errors=exc.errors or [{"requirement": exc.requirement or "",
                                                                  "reason": redacted(ctx, str(exc))}])
        except (UnexpectedResponse, httpx.HTTPError) as exc:
            if isinstance(exc, httpx.HTTPError):
                record_failure(ctx, exc)
            ack.update(status="rejected", errors=[{"reason": said(ctx, exc)}])
        acks.append(ack)


def import_lines(ctx: ApiContext, council: str, lines: Sequence[str], acks: list[dict[str, Any]],
                 exchanges: dict[int, Any] | None = None) -> list[str]:
    """Import NDJSON ``lines`` in as few imports as the declared max_import_bytes allows, adding each
    acknowledgement to ``acks`` with its line numbered in ``lines`` (1-based), and, if ``exchanges`` is given,
    the exchange of each line's import by line number. Returns why imports failed (acknowledgements read before
    a failure are kept)."""
    client = ctx.client(council)
    limits = ctx.capabilities.get("limits") if isinstance(ctx.capabilities.get("limits"), dict) else {}
    largest = declared_limit(limits.get("max_import_bytes"))
    batches: list[list[str]] = [[]]
    size = 0
    for line in lines:
        length = len(line.encode("utf-8")) + 1
        if batches[-1] and largest is not None and size + length > largest:
            batches.append([])
            size = 0
        batches[-1].append(line)
        size += length
    failures: list[str] = []
    offset = 0
    for batch in batches:
        if not batch:
            continue
        got: list[dict[str, Any]] = []
        try:
            with client.import_messages(batch) as result:
                for ack in result:
                    got.append(ack)
        except (ApiError, UnexpectedResponse, httpx.HTTPError) as exc:
            if isinstance(exc, httpx.HTTPError):
                record_failure(ctx, exc)
            failures.append(said(ctx, exc))
        exchange = ctx.last_exchange()
        for ack in got:
            line = ack_line(ack)
            acks.append({**ack, "line": line + offset} if line is not None and offset else ack)
        if exchanges is not None:
            exchanges.update({offset + number: exchange for number in range(1, len(batch) + 1)})
        offset += len(batch)
    return failures


def _apply(loaded: dict[str, dict[str, dict[str, Any]]], message: dict[str, Any]) -> None:
    key = record_key(message)
    if key is None or key[0] not in loaded:
        return
    if message.get("action") == "delete":
        loaded[key[0]].pop(key[1], None)
    else:
        loaded[key[0]][key[1]] = message


# --- readiness ----------------------------------------------------------------------------------------------------


def expand(ctx: RunContext, needs: Iterable[str]) -> list[str]:
    """The needs of a check with ``records`` spelled out as ``records:<type>`` for every type under test."""
    out: list[str] = []
    for need in needs:
        if need == "records":
            out += [f"records:{t}" for t in ctx.types] or ["records"]
        else:
            out.append(need)
    return out


def readiness(ctx: RunContext, checks: Sequence[Check]) -> list[dict[str, Any]]:
    """One row per (check, need): ``{"check", "need", "met", "detail"}``."""
    rows = []
    for check in checks:
        for need in expand(ctx, check.needs):
            met, detail = assess(ctx, need)
            rows.append({"check": check.id, "need": need, "met": met, "detail": redacted(ctx, detail)})
    return rows


def unmet(rows: Iterable[dict[str, Any]], check_id: str) -> list[dict[str, Any]]:
    """The readiness rows of a check that are not met (the check is then skipped with their details)."""
    return [row for row in rows if row["check"] == check_id and not row["met"]]


def assess(ctx: RunContext, need: str) -> tuple[bool, str]:
    """Whether one need is met, and why in words."""
    if need == "exchanges":
        return True, "runs last, over every exchange recorded during the run"
    if need == "records":
        return False, "there are no message types under test: the target declares none of the chosen profiles'"
    if need == "writable":
        if isinstance(ctx, ApiContext) and ctx.read_only:
            return False, "the target declares itself read-only (capabilities read_only: true), so it takes no writes"
        return True, "the target takes writes"
    if need.startswith("councils:"):
        wanted = int(need.split(":", 1)[1]) if need.split(":", 1)[1].isdigit() else 2
        councils = list(getattr(ctx, "councils", []))
        if len(councils) < wanted:
            return False, (f"{wanted} councils are needed, each with a token bound to it alone; "
                           f"{len(councils)} {'was' if len(councils) == 1 else 'were'} given")
        distinct = getattr(ctx, "tokens_distinct", None)
        if distinct is not None and not distinct():
            return False, ("the councils were given the same token; give each council a token bound to it alone, "
                           "so that one council's token can be seen to be refused by another")
        return True, f"{len(councils)} councils with their own tokens: {', '.join(councils)}"
    if need.startswith("records:"):
        message_type = need.split(":", 1)[1]
        if isinstance(ctx, ApiContext):
            return _api_records(ctx, message_type)
        if ctx.corpus is None:
            return False, "there is no corpus to take records from"
        count = sum(1 for _ in ctx.corpus.messages(types=[message_type]))
        return (count > 0, f"the corpus has {count} {message_type} messages" if count
                else f"the corpus has no {message_type} messages")
    return False, f"the suite does not know the need {need!r}"


def _api_records(ctx: ApiContext, message_type: str) -> tuple[bool, str]:
    council = ctx.council
    have = len(ctx.loaded.get(council, {}).get(message_type, {}))
    if have:
        return True, f"{have} {message_type} records for {council}"
    state = ctx.cache.get(PREPARED, {})
    if ctx.read_only:
        return False, f"the target holds no {message_type} records for {council} (it is read-only, so none were loaded)"
    errors = state.get("errors", {}).get(council, [])
    sent = state.get("sent", {}).get(council, {}).get(message_type, 0)
    start = f"the target holds no {message_type} records for {council}"
    if not sent:
        return False, f"{start}: the corpus has no {message_type} messages for it"
    refused = [ack for ack in ctx.import_acks.get(council, [])
               if isinstance(ack, dict) and ack.get("type") == message_type and ack.get("status") == "rejected"]
    how = "its import" if "bulk-import" in features(ctx) else "its PUTs"
    if refused:
        first = (ack_errors(refused[0]) or [{}])[0]
        said = first.get("reason")
        said = said if isinstance(said, str) and said else "no reason given"
        reason = f"[{first.get('requirement')}] {said}" if isinstance(first.get("requirement"), str) else said
        return False, (f"{start} and {how} accepted none: {len(refused)} of {sent} lines rejected, "
                       f"first: {reason}"[:400])
    if errors:
        return False, f"{start}: {'; '.join(errors)}"[:600]
    return False, f"{start}: {sent} were sent but none was acknowledged as accepted"
