"""What a conformance run is made of: checks, profiles, verdicts, findings, results and the report.

Plain dataclasses shared by the registry, the targets, the checks, the runner and the
reporters, so that each can be written and tested on its own. A check never prints:
it returns or raises, and the runner turns that into a verdict with its evidence.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal

Level = Literal["MUST", "SHOULD"]
TargetKind = Literal["api", "adapter"]

#: check ids: PSC-<AREA>-NNN, stable; a retired id is never reused (see registry.RETIRED)
CHECK_ID = re.compile(r"^PSC-[A-Z]{2,4}-[0-9]{3}$")


class Verdict(str, Enum):
    PASS = "pass"
    FAIL = "fail"  # a MUST check found the target at fault
    WARNING = "warning"  # a SHOULD check found the target at fault
    SKIPPED = "skipped"  # could not be run: always with a reason (missing data, option not given)
    NOT_APPLICABLE = "not_applicable"  # does not apply to this target or its declaration, with a reason
    ERROR = "error"  # the check itself crashed, or the target broke the conversation; the run went on


#: verdicts of a MUST check that are no fault of the target (a profile still needs one MUST check to pass)
PASSING = frozenset({Verdict.PASS, Verdict.NOT_APPLICABLE})


@dataclass(frozen=True)
class Exchange:
    """One HTTP request and its response, as evidence: masked, bodies cut to an excerpt."""

    method: str
    url: str
    request_headers: dict[str, str] = field(default_factory=dict)  # Authorization is never kept
    request_excerpt: str = ""
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_excerpt: str = ""
    elapsed_ms: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"method": self.method, "url": self.url, "request_headers": self.request_headers,
                "request_excerpt": self.request_excerpt, "status": self.status,
                "response_headers": self.response_headers, "response_excerpt": self.response_excerpt,
                "elapsed_ms": self.elapsed_ms}


@dataclass(frozen=True)
class Finding:
    """One thing a check found wrong: what, expected against actual, and the exchange that showed it."""

    message: str
    expected: str | None = None
    actual: str | None = None
    requirement: str | None = None  # the requirement id broken, when narrower than the check's
    exchange: Exchange | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"message": self.message, "expected": self.expected, "actual": self.actual,
                "requirement": self.requirement,
                "exchange": self.exchange.as_dict() if self.exchange else None}


class CheckSkipped(Exception):
    """Raised by a check that cannot run (the data it needs is missing); the reason is reported."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class CheckNotApplicable(Exception):
    """Raised by a check that does not apply to this target or declaration; the reason is reported."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Check:
    """A registered check. ``run(context)`` returns the findings (empty: passed) or raises
    CheckSkipped / CheckNotApplicable; any other exception is an error verdict."""

    id: str
    title: str
    level: Level
    requirements: tuple[str, ...]
    profiles: tuple[str, ...]
    targets: frozenset[str]  # subset of {"api", "adapter"}
    run: Callable[[Any], list[Finding]]
    description: str = ""
    #: what the check needs from the target's data, e.g. ("records:hr.person",); checked before the run
    needs: tuple[str, ...] = ()
    #: plugin that registered it (filled by the host)
    source: str = "plugshare"

    def describe(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "level": self.level, "requirements": list(self.requirements),
                "profiles": list(self.profiles), "targets": sorted(self.targets), "description": self.description,
                "needs": list(self.needs), "source": self.source}


@dataclass(frozen=True)
class Profile:
    """A profile a supplier certifies for: read from conformance/profiles/<id>.json."""

    id: str
    title: str
    description: str
    message_types: tuple[str, ...]
    #: capability operations each of the profile's message types must declare (API targets)
    operations: tuple[str, ...] = ()
    #: capability features the profile needs (API targets), e.g. ("change-feed", "bulk-export")
    features: tuple[str, ...] = ()
    #: which kinds of target can certify for it
    targets: tuple[str, ...] = ("api", "adapter")


@dataclass
class CheckResult:
    check: Check
    verdict: Verdict
    summary: str  # one line a non-programmer can read
    findings: list[Finding] = field(default_factory=list)
    reason: str | None = None  # for skipped, not applicable and error
    duration_ms: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.check.id, "title": self.check.title, "level": self.check.level,
                "requirements": list(self.check.requirements), "profiles": list(self.check.profiles),
                "verdict": self.verdict.value, "summary": self.summary, "reason": self.reason,
                "findings": [f.as_dict() for f in self.findings], "duration_ms": round(self.duration_ms, 1)}


@dataclass
class RunSettings:
    """How the run talked to the target: recorded in the report beside every result."""

    timeout_seconds: float | None = None
    #: imports and exports wait for their data this long (longer than a request: large councils take time)
    bulk_timeout_seconds: float | None = None
    retries: int | None = None
    backoff_seconds: float | None = None
    page_size: int | None = None
    #: each retry the client made: {"method", "path", "status" or "error", "delay"}
    retry_log: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class RunReport:
    """Everything report.json holds (its schema: spec/conformance/report.schema.json)."""

    suite_version: str
    standard_version: str
    started_at: str
    finished_at: str
    target: dict[str, Any]  # kind, url or adapter key, councils; never a token
    profiles: list[str]
    declared_profiles: list[str]
    settings: RunSettings
    results: list[CheckResult]
    #: the capability declaration the target gave (API) or the adapter's description, and its sha256
    declaration: dict[str, Any] | None = None
    declaration_sha256: str | None = None
    #: data readiness: what each check needed and whether the target had it
    readiness: list[dict[str, Any]] = field(default_factory=list)
    #: ids asked for with --only or --rerun-failed; empty for a complete run
    selected: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Every check of the chosen profiles was run (no --only / --rerun-failed selection)."""
        return not self.selected

    @property
    def passed(self) -> bool:
        """No MUST check that ran failed, erred or was skipped (not applicable is no fault; SHOULD failures are
        warnings). Not enough to conform: see :attr:`conforms`."""
        return all(r.verdict in PASSING for r in self.results if r.check.level == "MUST")

    @property
    def unshown_profiles(self) -> list[str]:
        """The chosen profiles none of whose MUST checks passed in this run: a profile whose every check was not
        applicable (or that has no MUST check for this target) has shown nothing, so it cannot conform."""
        shown = {p for r in self.results if r.check.level == "MUST" and r.verdict is Verdict.PASS
                 for p in r.check.profiles}
        return [p for p in self.profiles if p not in shown]

    @property
    def conforms(self) -> bool:
        """A complete run in which no MUST check failed and each chosen profile had a MUST check pass."""
        return self.complete and self.passed and not self.unshown_profiles

    @property
    def overall(self) -> str:
        """report.json's verdict: ``conforms``; ``does_not_conform`` (a MUST check failed, erred or was
        skipped, or a profile showed nothing); ``incomplete`` (a selection of checks in which none failed)."""
        if not self.passed:
            return "does_not_conform"
        if not self.complete:
            return "incomplete"
        return "conforms" if not self.unshown_profiles else "does_not_conform"

    @property
    def exit_code(self) -> int:
        """0 only when the run conforms: a partial run certifies nothing, nor does a profile that showed nothing."""
        return 0 if self.conforms else 1
