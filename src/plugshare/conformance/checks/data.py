"""Checks on the records a target gives back: they must pass the published schemas and the business rules.

An API target is judged on each council's export of the types under test (or, where the export is refused,
their lists) and on every other record it returned to the other checks (``ctx.cache["returned"]``); an
adapter on what it reads: its own output read back in the round trip, and its samples. The records go
through the same validator as ``plugshare validate``, and each problem becomes a finding naming the record
by type and id, where it came from, the pointer and the requirement, never a personal value.

Records are streamed: an export is validated line by line as it arrives, and only a digest of each record
(to judge it once) and the names of the records at fault are kept. Each export, sample or read back is one
stream, so the rules across records (an org-unit cycle, pay-run totals) see one whole set of a council's
records; the records returned one by one during the run, which may be older versions of exported records,
are judged message by message only.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from plugshare.adapters.contract import AdapterError, Converted
from plugshare.client import ApiError, UnexpectedResponse
from plugshare.conformance.context import AdapterContext, ApiContext, RunContext
from plugshare.conformance.model import Check, CheckNotApplicable, CheckSkipped, Finding
from plugshare.models import message_type_of
from plugshare.models.canonical import canonical_json
from plugshare.standard.requirements import catalogue
from plugshare.validation.problems import Location, Problem
from plugshare.validation.reader import Entry
from plugshare.validation.schemas import SENSITIVE_FIELDS
from plugshare.validation.validator import MessageValidator, validate_entries

DOMAIN_PROFILES = ("hr-core", "payroll-core", "council-tax", "business-rates")
BOTH = frozenset({"api", "adapter"})
#: the cache key of what the three checks judge (:class:`Judged`)
RECORDS = "data.records"
#: the cache key other checks put the records a target returned under (a list of messages, or dicts of them)
RETURNED = "returned"
MAX_FINDINGS = 50
#: fields whose values a finding never repeats, even inside a validator's reason
PERSONAL = frozenset({*SENSITIVE_FIELDS, "sort_code", "account_name", "roll_number", "iban"})
WITHHELD = "(withheld: personal data)"

_CATALOGUE = catalogue()
SCHEMA_REQUIREMENTS = tuple(r.id for r in _CATALOGUE if r.enforced_by in ("reader", "schema"))
RULE_MUST = tuple(r.id for r in _CATALOGUE if r.enforced_by == "rule" and r.level == "MUST")
RULE_SHOULD = tuple(r.id for r in _CATALOGUE if r.enforced_by == "rule" and r.level == "SHOULD")
_RULE_SET = frozenset(RULE_MUST) | frozenset(RULE_SHOULD)


@dataclass
class Judged:
    """What the data checks found, computed once per run: how many records were judged from each source,
    each problem with the record it is about, and findings about getting the records at all."""

    counts: dict[str, int] = field(default_factory=dict)
    problems: list[tuple[str, str, Problem]] = field(default_factory=list)  # (record, where, problem)
    fetched: list[Finding] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


# --- the records ---------------------------------------------------------------------------------------------


def _messages_in(value: Any) -> Iterator[dict[str, Any]]:
    """The messages in what a check cached: a message, or lists and dicts holding messages."""
    if isinstance(value, dict):
        if "specversion" in value or ("type" in value and "council" in value):
            yield value
        else:
            for item in value.values():
                yield from _messages_in(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _messages_in(item)


def _of_types(message: dict[str, Any], types: Iterable[str]) -> bool:
    kind = message.get("type")
    return isinstance(kind, str) and message_type_of(kind) in set(types)


def record_label(message: dict[str, Any]) -> str:
    """``hr.person E07000991-p00001 of E07000991``: a record named by type and id, never by personal values."""
    kind = message.get("type")
    short = message_type_of(kind) if isinstance(kind, str) else None
    data = message.get("data") if isinstance(message.get("data"), dict) else {}
    council = message.get("council")
    return f"{short or kind or 'a message'} {data.get('id') or message.get('subject') or '?'}" + (
        f" of {council}" if isinstance(council, str) else "")


def _export(ctx: ApiContext, council: str) -> tuple[str, Iterable[Any]]:
    """The council's export of the types under test, streamed; its lists when the export is refused."""
    client = ctx.client(council)
    try:
        exported = iter(client.export(council=council, types=ctx.types or None))
        first = next(exported, None)
    except ApiError:
        return f"the lists of {council}", (m for t in ctx.types for m in client.list(t, council=council))
    return f"the export of {council}", itertools.chain(() if first is None else (first,), exported)


def _api_streams(ctx: ApiContext) -> Iterator[tuple[str, Iterable[Any], bool]]:
    """(where, messages, as one stream): each council's export, then the records returned during the run."""
    for council in ctx.councils:
        where, messages = _export(ctx, council)
        yield where, messages, True
    returned = (m for m in _messages_in(ctx.cache.get(RETURNED, [])) if not ctx.types or _of_types(m, ctx.types))
    yield "returned during the run", returned, False


def _adapter_streams(ctx: AdapterContext, judged: Judged) -> Iterator[tuple[str, Iterable[Any], bool]]:
    trip = ctx.round_trip()
    if not getattr(trip, "not_applicable", None) and not getattr(trip, "failure", None):
        yield "its own output read back", (m for m in trip.read_back if _of_types(m, ctx.types)), True
    names = ctx.reading_samples() if hasattr(ctx, "reading_samples") else ["good"]
    for name in names:
        try:
            outcomes = ctx.read_sample(name)
        except CheckSkipped:
            continue
        except AdapterError as exc:
            judged.fetched.append(Finding(f"reading its sample {name!r} failed as a whole: {exc}",
                                          expected="the sample read record by record", actual="refused"))
            continue
        yield (f"its sample {name!r}", (m for o in outcomes if isinstance(o, Converted) for m in o.messages
                                        if _of_types(m, ctx.types)), True)


def _judge(judged: Judged, where: str, messages: Iterable[Any], whole: bool, seen: set[bytes],
           validator: MessageValidator) -> None:
    """Validate the messages of one source not judged before; ``whole``: as one stream (rules across
    records), else each on its own. Keeps a digest per record and the names of those at fault only."""
    labels: dict[int, str] = {}  # for the rules across records, which report after the stream
    latest: list[dict[str, Any]] = [{}]

    def entries() -> Iterator[Entry]:
        for message in messages:
            if not isinstance(message, dict):
                continue
            digest = hashlib.sha256(canonical_json(message).encode("utf-8")).digest()
            if digest in seen:
                continue
            seen.add(digest)
            number = judged.counts[where] = judged.counts.get(where, 0) + 1
            if whole:
                labels[number] = record_label(message)
            latest[0] = message
            yield Entry(Location(where, index=number), message)

    judged.counts.setdefault(where, 0)
    if whole:
        for report in validate_entries(entries(), validator):
            if not report.problems:
                continue
            personal = {} if report.late else _personal_values(latest[0])
            label = labels.get(report.location.index, "a record")
            judged.problems += [(label, where, _masked(p, personal)) for p in report.problems]
        return
    for entry in entries():
        _, found = validator.check(entry.message)
        personal = _personal_values(entry.message)
        judged.problems += [(record_label(entry.message), where, _masked(p, personal)) for p in found]


def _personal_values(message: dict[str, Any]) -> dict[str, str]:
    """The personal values of a record's data, by field name, to be kept out of the validator's reasons."""
    data = message.get("data")
    if not isinstance(data, dict):
        return {}
    found: dict[str, str] = {}

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key in PERSONAL and isinstance(item, str | int) and len(str(item).strip()) >= 4:
                    found[str(item)] = key
                else:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(data)
    return found


def _masked(problem: Problem, personal: dict[str, str]) -> Problem:
    reason = problem.reason
    for value in sorted(personal, key=len, reverse=True):
        reason = reason.replace(value, WITHHELD)
    return problem if reason == problem.reason else Problem(problem.requirement, problem.level, problem.pointer,
                                                            reason)


def judged(ctx: RunContext) -> Judged:
    """What the target returned, judged once and shared by the three checks; skipped when it returned none."""
    if RECORDS not in ctx.cache:
        result = Judged()
        if isinstance(ctx, ApiContext):
            streams: Iterable[tuple[str, Iterable[Any], bool]] = _api_streams(ctx)
        elif isinstance(ctx, AdapterContext):
            streams = _adapter_streams(ctx, result)
        else:
            raise CheckNotApplicable(f"a {ctx.kind} target returns no records to check")
        seen: set[bytes] = set()
        validator = ctx.validator or MessageValidator()
        for where, messages, whole in streams:
            try:
                _judge(result, where, messages, whole, seen, validator)
            except (ApiError, UnexpectedResponse, httpx.HTTPError) as exc:  # a stream cut short is a finding
                from plugshare.conformance.report import mask_text

                read = result.counts.get(where, 0)
                result.fetched.append(Finding(
                    f"{where} could not be read to the end: it broke off after {read} record(s)",
                    expected=f"{where} read whole", actual=mask_text(f"{type(exc).__name__}: {exc}")[:300],
                    exchange=ctx.last_exchange()))
        ctx.cache[RECORDS] = result
    result = ctx.cache[RECORDS]
    if not result.total and not result.fetched:
        raise CheckSkipped("the target returned no records of the types under test "
                           f"({', '.join(ctx.types) or 'none'}), so there is nothing to validate")
    return result


def _findings(ctx: RunContext, keep, *, fetching: bool = False) -> list[Finding]:
    """A finding per problem ``keep`` selects; with ``fetching``, first those about getting the records."""
    result = judged(ctx)
    found = list(result.fetched) if fetching else []
    for label, where, problem in result.problems:
        if keep(problem):
            at = f" at {problem.pointer}" if problem.pointer else ""
            found.append(Finding(f"{label} ({where}){at}: {problem.reason} [{problem.requirement}]",
                                 expected=f"{problem.pointer or 'the record'} meets {problem.requirement}",
                                 actual=problem.reason, requirement=problem.requirement))
    if len(found) > MAX_FINDINGS:
        left = len(found) - (MAX_FINDINGS - 1)
        by_requirement: dict[str, int] = {}
        for finding in found[MAX_FINDINGS - 1:]:
            by_requirement[finding.requirement or "-"] = by_requirement.get(finding.requirement or "-", 0) + 1
        found = [*found[:MAX_FINDINGS - 1],
                 Finding(f"and {left} more: " + ", ".join(f"{r} {n}" for r, n in sorted(by_requirement.items())))]
    return found


def _schema_problem(problem: Problem) -> bool:
    return problem.level == "MUST" and problem.requirement not in _RULE_SET


def _rule_problem(problem: Problem) -> bool:
    return problem.level == "MUST" and problem.requirement in _RULE_SET


def _should_problem(problem: Problem) -> bool:
    return problem.level == "SHOULD"


def check_schemas(ctx: RunContext) -> list[Finding]:
    return _findings(ctx, _schema_problem, fetching=True)


def check_rules(ctx: RunContext) -> list[Finding]:
    return _findings(ctx, _rule_problem)


def check_should_rules(ctx: RunContext) -> list[Finding]:
    return _findings(ctx, _should_problem)


CHECKS = [
    Check(id="PSC-SCH-002", title="every record returned validates against its published schema", level="MUST",
          requirements=("PS-SCH-001", *(r for r in SCHEMA_REQUIREMENTS if r != "PS-SCH-001")),
          profiles=DOMAIN_PROFILES, targets=BOTH, run=check_schemas,
          description="API: each record the target returned during the run and each record of its export of the "
                      "types under test; adapter: what it reads, its own output and its samples. Each must pass "
                      "the published schema of its type (reader and schema requirements), as plugshare validate "
                      "checks it."),
    Check(id="PSC-RUL-001", title="business rules hold on every record returned", level="MUST",
          requirements=RULE_MUST, profiles=DOMAIN_PROFILES, targets=BOTH, run=check_rules,
          description="The records PSC-SCH-002 looks at break no MUST-level business rule (arithmetic, dates, "
                      "codes, the rules across records such as org-unit cycles and pay-run totals)."),
    Check(id="PSC-RUL-002", title="no SHOULD-level rule is broken by records returned", level="SHOULD",
          requirements=RULE_SHOULD, profiles=DOMAIN_PROFILES, targets=BOTH, run=check_should_rules,
          description="The same records break no SHOULD-level rule; a breach is a warning, as plugshare validate "
                      "reports it."),
]
