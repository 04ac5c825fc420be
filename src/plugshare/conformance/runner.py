"""Running checks against a target and reaching verdicts by published rules.

Each check is timed and its outcome turned into a verdict: no findings -> pass; findings -> fail for a
MUST, warning for a SHOULD; CheckSkipped -> skipped and CheckNotApplicable -> not applicable, each with its
reason; an unmet data need -> skipped naming what is missing; any other exception -> error with the
exception's type and a one-line masked message, and the run goes on. Exit status 0 only when every MUST
check of the chosen profiles passed (or does not apply) in a complete run, and each chosen profile had at
least one MUST check pass: a profile whose every check was not applicable has shown nothing.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import IO, Any

from plugshare import __version__
from plugshare.conformance.context import RunContext
from plugshare.conformance.model import (
    Check,
    CheckNotApplicable,
    CheckResult,
    CheckSkipped,
    Finding,
    RunReport,
    Verdict,
)
from plugshare.conformance.report import mask_text
from plugshare.models.canonical import canonical_digest
from plugshare.models.version import STANDARD_VERSION

#: a check needing this runs after every other one: it looks at everything the run exchanged
LAST_NEED = "exchanges"
#: verdicts of a previous report that --rerun-failed runs again
RERUN_VERDICTS = frozenset({Verdict.FAIL.value, Verdict.ERROR.value, Verdict.SKIPPED.value})
_REASON_CHARS = 300

Progress = Callable[[int, int, CheckResult], None]


class SelectionError(Exception):
    """--only or --rerun-failed named a check that this run does not have."""


def ordered(checks: Iterable[Check]) -> list[Check]:
    """By id, except those that need every exchange of the run, which go last."""
    return sorted(checks, key=lambda c: (LAST_NEED in c.needs, c.id))


def select(checks: Iterable[Check], only: Iterable[str], known: dict[str, Check] | None = None) -> list[Check]:
    """The checks named in ``only`` (all when empty); a name this run does not have is an error, which says,
    when ``known`` (every registered check) has it, which profiles and targets it belongs to."""
    checks = list(checks)
    wanted = list(dict.fromkeys(only))
    if not wanted:
        return checks
    ids = {c.id for c in checks}
    unknown = [i for i in wanted if i not in ids]
    if unknown:
        elsewhere = [f"{i} belongs to {', '.join(known[i].profiles)} for {' and '.join(sorted(known[i].targets))} "
                     "targets" for i in unknown if known and i in known]
        absent = [i for i in unknown if not known or i not in known]
        parts = ([f"no check {', '.join(absent)} is installed" if known is not None else
                  f"no check {', '.join(absent)} in the chosen profiles for this kind of target"] if absent else [])
        raise SelectionError("; ".join(parts + elsewhere) + "; the checks of this run: "
                             + (", ".join(sorted(ids)) or "none"))
    return [c for c in checks if c.id in wanted]


def rerun_selection(report: dict[str, Any], kind: str | None = None) -> list[str]:
    """The ids of a previous report.json whose verdict was fail, error or skipped; with ``kind``, a report of
    another kind of target is refused, as its checks were run against something else."""
    results = report.get("results") if isinstance(report, dict) else None
    if not isinstance(results, list):
        raise SelectionError("the report has no results to rerun")
    target = report.get("target")
    theirs = target.get("kind") if isinstance(target, dict) else None
    if kind is not None and theirs != kind:
        raise SelectionError(f"the report is of a run against an {theirs or 'unknown'} target, and this run is "
                             f"against an {kind} target: rerun its failures against the same kind of target")
    return [r["id"] for r in results if isinstance(r, dict) and r.get("verdict") in RERUN_VERDICTS]


def run(context: RunContext, checks: Iterable[Check], *, only: Iterable[str] = (),
        progress: Progress | None = None) -> RunReport:
    """Run ``checks`` (those of ``only`` when given: the run is then not complete) against ``context``."""
    only = list(dict.fromkeys(only))
    chosen = ordered(select(checks, only))
    started = _now()
    unmet = _unmet_needs(context.readiness)
    results: list[CheckResult] = []
    for index, check in enumerate(chosen, start=1):
        result = run_one(context, check, unmet.get(check.id))
        results.append(result)
        if progress is not None:
            progress(index, len(chosen), result)
    declaration = context.declaration
    return RunReport(suite_version=__version__, standard_version=STANDARD_VERSION, started_at=started,
                     finished_at=_now(), target=context.describe_target(), profiles=context.profile_ids,
                     declared_profiles=list(context.declared_profiles), settings=context.settings,
                     results=results, declaration=declaration,
                     declaration_sha256=None if declaration is None else canonical_digest(declaration),
                     readiness=list(context.readiness),
                     selected=only)


def run_one(context: RunContext, check: Check, unmet: list[str] | None = None) -> CheckResult:
    """One check's verdict, its findings masked; never raises for what the check or the target does."""
    begun = time.perf_counter()
    if unmet:
        reason = _mask("; ".join(unmet))
        return CheckResult(check, Verdict.SKIPPED, f"skipped: {reason}", reason=reason)
    try:
        found = check.run(context)
        if not isinstance(found, list | tuple) or not all(isinstance(f, Finding) for f in found):
            raise TypeError(f"the check returned {type(found).__name__}, not a list of findings")
    except CheckSkipped as exc:
        reason = _mask(exc.reason)
        return _timed(CheckResult(check, Verdict.SKIPPED, f"skipped: {reason}", reason=reason), begun)
    except CheckNotApplicable as exc:
        reason = _mask(exc.reason)
        return _timed(CheckResult(check, Verdict.NOT_APPLICABLE, f"not applicable: {reason}", reason=reason), begun)
    except Exception as exc:  # a crashing check is reported, and the run goes on
        reason = _error_reason(exc, context)
        return _timed(CheckResult(check, Verdict.ERROR, f"the check could not finish: {reason}", reason=reason),
                      begun)
    findings = [_masked(f) for f in found]
    if not findings:
        return _timed(CheckResult(check, Verdict.PASS, "passed"), begun)
    verdict = Verdict.FAIL if check.level == "MUST" else Verdict.WARNING
    more = f" (and {len(findings) - 1} more)" if len(findings) > 1 else ""
    summary = f"{len(findings)} finding{'s' if len(findings) > 1 else ''}: {_one_line(findings[0].message)}{more}"
    return _timed(CheckResult(check, verdict, summary, findings=findings), begun)


def exit_code(report: RunReport) -> int:
    """0 only when a complete run's every MUST check passed or does not apply and each chosen profile had a
    MUST check pass; 1 otherwise (as report.json's ``exit_code``)."""
    return report.exit_code


def counts(report: RunReport) -> dict[str, int]:
    tally = {v.value: 0 for v in Verdict}
    for result in report.results:
        tally[result.verdict.value] += 1
    return tally


def _unmet_needs(readiness: Iterable[dict[str, Any]]) -> dict[str, list[str]]:
    unmet: dict[str, list[str]] = {}
    for entry in readiness:
        if not entry.get("met", True):
            detail = entry.get("detail") or f"needs {entry.get('need')}"
            unmet.setdefault(entry.get("check"), []).append(str(detail))
    return unmet


def _error_reason(exc: Exception, context: RunContext) -> str:
    name = type(exc).__name__
    if _is_timeout(exc):
        limit = context.settings.timeout_seconds
        within = f" within {limit:g} s" if limit else ""
        return _mask(f"{name}: the target did not answer{within} ({_one_line(str(exc)) or 'timed out'}); "
                     "a slow target may need a longer --timeout")
    text = _one_line(str(exc))
    return _mask(f"{name}: {text}" if text else name)


def _is_timeout(exc: BaseException) -> bool:
    try:
        import httpx
    except ImportError:  # pragma: no cover - httpx is a dependency
        return isinstance(exc, TimeoutError)
    return isinstance(exc, httpx.TimeoutException | TimeoutError)


def _one_line(text: str) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= _REASON_CHARS else line[:_REASON_CHARS - 1] + "…"


def _mask(text: str) -> str:
    return mask_text(text)


def _masked(finding: Finding) -> Finding:
    return replace(finding, message=mask_text(finding.message),
                   expected=None if finding.expected is None else mask_text(finding.expected),
                   actual=None if finding.actual is None else mask_text(finding.actual))


def _timed(result: CheckResult, begun: float) -> CheckResult:
    result.duration_ms = (time.perf_counter() - begun) * 1000
    return result


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


_LABELS = {Verdict.PASS: "pass", Verdict.FAIL: "FAIL", Verdict.WARNING: "warning", Verdict.SKIPPED: "skipped",
           Verdict.NOT_APPLICABLE: "n/a", Verdict.ERROR: "ERROR"}


class ProgressDisplay:
    """One line per check as it finishes, e.g.
    ``[ 7/21] PSC-PAG-001 pass    paging returns every record exactly once (0.4 s)``."""

    def __init__(self, stream: IO[str]):
        self.stream = stream

    def __call__(self, index: int, total: int, result: CheckResult) -> None:
        width = len(str(total))
        label = _LABELS[result.verdict].ljust(7)
        line = (f"[{index:>{width}}/{total}] {result.check.id:<12} {label} {_one_line(result.check.title)} "
                f"({result.duration_ms / 1000:.1f} s)")
        self.stream.write(mask_text(line) + "\n")  # a local check's title is not ours to trust
        self.stream.flush()


def summary_lines(report: RunReport) -> list[str]:
    """What the command prints: the verdict first, then the counts, then each check not passed."""
    profiles = ", ".join(report.profiles)
    tally = counts(report)
    shown = ", ".join(f"{n} {v.replace('_', ' ')}" for v, n in tally.items() if n)
    partial = (f"a run narrowed by --only or --rerun-failed ({_checks(len(report.results))} selected) cannot "
               f"certify; run every check of {profiles} to certify")
    overall = report.overall
    if overall == "conforms":
        head = f"CONFORMS to {profiles}"
    elif overall == "incomplete":
        head = f"PARTIAL RUN: {partial}"
    else:
        head = f"DOES NOT CONFORM to {profiles}"
    lines = [head, f"  {_checks(len(report.results))}: {shown or 'none run'}"]
    if overall == "does_not_conform" and not report.complete:
        lines.append(f"  PARTIAL RUN: {partial}")
    if report.passed and report.complete:
        for profile in report.unshown_profiles:
            lines.append(f"  {profile}: no required (MUST) check of it passed (none applied to this target), so "
                         "it showed nothing of the profile")
    for result in report.results:
        if result.verdict not in (Verdict.PASS, Verdict.NOT_APPLICABLE):
            lines.append(f"  {_LABELS[result.verdict]:<7} {result.check.id} ({result.check.level}) {result.summary}")
    return lines


def _checks(n: int) -> str:
    return f"{n} check{'' if n == 1 else 's'}"
