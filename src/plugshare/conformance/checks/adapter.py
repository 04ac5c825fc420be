"""Checks only an adapter can be put to: it loses nothing without saying so, and it quarantines bad records
one by one.

PSC-ADP-001 judges the round trip (see :mod:`plugshare.conformance.adapter_target`) by the loss rule of
:mod:`plugshare.adapters.loss`: a value of a message written that the record read back does not restore
must be named in the writer's ``Converted.lost``. PSC-ADP-002 reads the adapter's ``one-bad-record`` sample:
every record but the bad one converts (its messages pass validation), and the bad one is rejected, by the
adapter or by validation, with a reason.
"""

from __future__ import annotations

from typing import Any

from plugshare.adapters.contract import AdapterError, Converted, Rejected
from plugshare.conformance.adapter_target import (
    ONE_BAD_RECORD,
    SHOWN,
    capped,
    comparable_round_trip,
    record_name,
    shown,
    unsaid,
    value_at,
)
from plugshare.conformance.context import AdapterContext
from plugshare.conformance.model import Check, CheckNotApplicable, Finding
from plugshare.validation.validator import MessageValidator

DOMAIN_PROFILES = ("hr-core", "payroll-core", "council-tax", "business-rates")
ADAPTER = frozenset({"adapter"})


def _adapter(ctx: Any) -> AdapterContext:
    if not isinstance(ctx, AdapterContext):
        raise CheckNotApplicable("this check is for adapters")
    return ctx


def check_no_silent_loss(ctx: Any) -> list[Finding]:
    """Each value a written message does not get back was reported lost by the writer."""
    ctx = _adapter(ctx)
    trip = comparable_round_trip(ctx, "loss cannot be judged")
    findings = []
    for message, back in trip.pairs:
        lost = trip.lost.get(str(message.get("id")), [])
        silent = unsaid(message, back, lost, trip.namespace)
        if silent:
            named = ", ".join(silent[:8]) + (f" and {len(silent) - 8} more" if len(silent) > 8 else "")
            reported = ", ".join(lost) or "nothing"
            findings.append(Finding(
                f"{record_name(message)}: {'not read back at all; ' if back is None else ''}{named} not restored by "
                f"reading the output back, but the writer reported lost {reported}",
                expected="written: " + "; ".join(shown(p, value_at(message, p)) for p in silent[:SHOWN])
                         + " (or named in Converted.lost)",
                actual=("read back: " + "; ".join(shown(p, value_at(back, p)) for p in silent[:SHOWN])
                        if back is not None else "the record was not read back")
                       + f"; reported lost: {reported}",
                requirement="PS-ADP-001"))
    return capped(findings)


def _validation_problems(messages: list[dict[str, Any]], validator: MessageValidator) -> list[str]:
    found = []
    for message in messages:
        _, problems = validator.check(message)
        found += [f"{p.pointer or '/'}: {p.reason} [{p.requirement}]" for p in problems if p.level == "MUST"]
    return found


def check_one_bad_record(ctx: Any) -> list[Finding]:
    """The one-bad-record sample: all but one record convert, and that one is rejected with a reason."""
    ctx = _adapter(ctx)
    try:
        outcomes = ctx.read_sample(ONE_BAD_RECORD)
    except AdapterError as exc:
        return [Finding(f"reading the {ONE_BAD_RECORD} sample was refused as a whole: {exc}",
                        expected="the bad record rejected and the rest converted", actual="the whole input refused",
                        requirement="PS-ADP-002")]
    validator = ctx.validator or MessageValidator()
    converted, quarantined, findings = 0, [], []
    for outcome in outcomes:
        if isinstance(outcome, Rejected):
            quarantined.append((str(outcome.position), outcome.reason))
            if not str(outcome.reason or "").strip():
                findings.append(Finding(f"{outcome.position} was rejected without a reason",
                                        expected="a reason a person can act on", actual="no reason",
                                        requirement="PS-ADP-002"))
        elif isinstance(outcome, Converted):
            problems = _validation_problems(outcome.messages, validator)
            if not outcome.messages:
                problems = ["the adapter made no message from it"]
            if problems:
                quarantined.append((str(outcome.position), problems[0]))
            else:
                converted += 1
        else:
            findings.append(Finding(f"reading gave {type(outcome).__name__}, neither Converted nor Rejected",
                                    requirement="PS-ADP-002"))
    read = len(outcomes)
    if len(quarantined) != 1:
        where = "; ".join(f"{position}: {reason}" for position, reason in quarantined[:3])
        findings.append(Finding(f"{len(quarantined)} of the {read} records of the {ONE_BAD_RECORD} sample were "
                                f"quarantined{': ' + where if where else ''}",
                                expected="exactly the one bad record quarantined", actual=f"{len(quarantined)}",
                                requirement="PS-ADP-002"))
    if converted != read - 1 or converted == 0:
        findings.append(Finding(f"{converted} of the {read} records of the {ONE_BAD_RECORD} sample converted",
                                expected=f"{max(read - 1, 1)} (every record but the bad one)", actual=str(converted),
                                requirement="PS-ADP-002"))
    declared = getattr(ctx, "sample", None)
    conversion = declared(ONE_BAD_RECORD) if callable(declared) else None
    expect = dict(conversion.expect) if conversion is not None else {}
    counts = {"read": read, "converted": converted, "quarantined": len(quarantined)}
    for name, wanted in expect.items():
        if name in counts and counts[name] != wanted:
            findings.append(Finding(f"the sample's manifest expects {name} {wanted}, reading gave {counts[name]}",
                                    expected=str(wanted), actual=str(counts[name]), requirement="PS-ADP-002"))
    return findings


CHECKS = [
    Check(id="PSC-ADP-001", title="no silent loss: what does not survive the round trip was reported lost",
          level="MUST", requirements=("PS-ADP-001",), profiles=("portability",), targets=ADAPTER,
          run=check_no_silent_loss,
          description="The corpus messages of the types under test are written with the adapter and its output "
                      "read back; every value of a message written that does not come back (by the loss rule of "
                      "plugshare.adapters.loss) must be named, by its pointer or an enclosing one, in the "
                      "writer's Converted.lost, so that a conversion reports it."),
    Check(id="PSC-ADP-002", title="bad records are quarantined one by one", level="MUST",
          requirements=("PS-ADP-002",), profiles=DOMAIN_PROFILES, targets=ADAPTER, run=check_one_bad_record,
          description="The adapter's one-bad-record sample (declared in its samples.json) is read: every record "
                      "but the bad one converts to valid messages, and the bad one is rejected, by the adapter or "
                      "by validation, with a reason; the whole input is never refused for one record."),
]
