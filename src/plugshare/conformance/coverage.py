"""Which requirement each check verifies, and why the others are not tested.

Every requirement of the catalogue is either cited by a check or explained in conformance/untested.json
({requirement id: reason}); a MUST requirement with neither is a gap the suite's own tests refuse, so a new
requirement cannot slip into the standard without someone deciding how it is tested.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from plugshare.conformance.model import Check
from plugshare.conformance.profiles import conformance_dir
from plugshare.standard.requirements import catalogue


class CoverageError(Exception):
    """conformance/untested.json cannot be read or is not {requirement id: reason}."""


def untested_path() -> Path:
    return conformance_dir() / "untested.json"


def load_untested(path: Path | None = None) -> dict[str, str]:
    """The reasons requirements are not tested, by requirement id."""
    path = path or untested_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CoverageError(f"{path}: cannot be read as JSON ({exc})") from None
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) and v.strip()
                                             for k, v in data.items()):
        raise CoverageError(f"{path}: must be an object of requirement id -> the reason it is not tested")
    return data


def coverage(checks: Iterable[Check], untested: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """One row per requirement, in catalogue order: ``{requirement, level, text, checks, reason}``.

    ``checks`` are the ids that verify it; ``reason`` why it is not tested (None when a check verifies it).
    Local requirements (``X-...``) cited by local checks follow the catalogue's.
    """
    untested = load_untested() if untested is None else untested
    by_requirement: dict[str, list[Check]] = {}
    for check in sorted(checks, key=lambda c: c.id):
        for requirement in check.requirements:
            by_requirement.setdefault(requirement, []).append(check)
    rows = []
    for requirement in catalogue():
        verifying = by_requirement.pop(requirement.id, [])
        rows.append({"requirement": requirement.id, "level": requirement.level, "text": requirement.text,
                     "checks": [c.id for c in verifying],
                     "reason": None if verifying else untested.get(requirement.id)})
    for requirement, verifying in sorted(by_requirement.items()):
        rows.append({"requirement": requirement, "level": _strongest(verifying), "text": None,
                     "checks": [c.id for c in verifying], "reason": None})
    return rows


def gaps(rows: list[dict[str, Any]], untested: dict[str, str] | None = None) -> list[str]:
    """What is wrong with the coverage: a MUST requirement neither verified nor explained, and reasons in
    untested.json for a requirement that does not exist or that a check now verifies."""
    untested = load_untested() if untested is None else untested
    problems = [f"{r['requirement']} (MUST) is verified by no check and untested.json gives no reason"
                for r in rows if r["level"] == "MUST" and not r["checks"] and not r["reason"]]
    known = {r["requirement"]: r for r in rows}
    for requirement in untested:
        if requirement not in known:
            problems.append(f"untested.json explains {requirement}, which the standard does not have")
        elif known[requirement]["checks"]:
            problems.append(f"untested.json explains {requirement}, which {', '.join(known[requirement]['checks'])} "
                            "verifies: remove the reason")
    return problems


def render_text(rows: list[dict[str, Any]]) -> str:
    lines = []
    for row in rows:
        tested = ", ".join(row["checks"]) if row["checks"] else f"not tested: {row['reason'] or 'NO REASON GIVEN'}"
        lines.append(f"{row['requirement']:<11} {row['level']:<6} {tested}")
    return "\n".join(lines)


def _strongest(checks: list[Check]) -> str:
    return "MUST" if any(c.level == "MUST" for c in checks) else "SHOULD"
