"""Reporters for validation results: plain text for people, JSON for machines.

Both stream: each problem is written as it is found, and only counts are kept,
so a report over a file of any size needs flat memory.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import IO

from plugshare.standard.requirements import by_id
from plugshare.validation.problems import MessageReport


@dataclass
class Summary:
    inputs: int = 0
    messages: int = 0
    invalid: int = 0
    errors: int = 0
    warnings: int = 0
    unreadable_inputs: list[str] = field(default_factory=list)
    by_requirement: Counter = field(default_factory=Counter)
    _late_invalid: set = field(default_factory=set)

    def add(self, report: MessageReport) -> None:
        if not report.late:
            self.messages += 1
            if not report.valid:
                self.invalid += 1
        elif not report.valid and str(report.location) not in self._late_invalid:
            self._late_invalid.add(str(report.location))
            self.invalid += 1
        for problem in report.problems:
            self.by_requirement[problem.requirement] += 1
            if problem.level == "MUST":
                self.errors += 1
            else:
                self.warnings += 1

    @property
    def valid(self) -> int:
        return self.messages - self.invalid

    @property
    def exit_code(self) -> int:
        if self.unreadable_inputs:
            return 2
        return 1 if self.invalid else 0

    def as_dict(self) -> dict:
        return {
            "inputs": self.inputs, "messages": self.messages, "valid": self.valid, "invalid": self.invalid,
            "errors": self.errors, "warnings": self.warnings, "unreadable_inputs": self.unreadable_inputs,
            "by_requirement": dict(sorted(self.by_requirement.items())),
        }


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


class TextReporter:
    def __init__(self, out: IO[str], verbose: bool = False):
        self.out = out
        self.verbose = verbose
        self.requirements = by_id()

    def report(self, report: MessageReport) -> None:
        for problem in report.problems:
            subject = " ".join(filter(None, [report.message_type, report.message_id]))
            where = f" {subject}" if subject else ""
            pointer = f" at {problem.pointer}" if problem.pointer else ""
            self.out.write(f"{report.location}: {problem.severity}: [{problem.requirement}]{where}{pointer}: "
                           f"{problem.reason}\n")
            requirement = self.requirements.get(problem.requirement)
            if self.verbose and requirement:
                self.out.write(f"    {requirement.level}: {requirement.text}\n")

    def unreadable(self, source: str, reason: str) -> None:
        self.out.write(f"{source}: cannot read: {reason}\n")

    def finish(self, summary: Summary) -> None:
        verdict = "all valid" if summary.exit_code == 0 else "INVALID" if summary.exit_code == 1 else "UNREADABLE INPUT"
        self.out.write(
            f"{verdict}: {_plural(summary.messages, 'message')} in {_plural(summary.inputs, 'input')}, "
            f"{summary.valid:,} valid, {summary.invalid:,} invalid; "
            f"{_plural(summary.errors, 'error')}, {_plural(summary.warnings, 'warning')}\n")


class JsonReporter:
    """One JSON document, written as it goes: ``{"results": [...], "summary": {...}}``."""

    def __init__(self, out: IO[str], all_messages: bool = False):
        self.out = out
        self.all_messages = all_messages
        self.first = True
        self.out.write('{"results": [')

    def _item(self, item: dict) -> None:
        self.out.write(("\n  " if self.first else ",\n  ") + json.dumps(item, ensure_ascii=False))
        self.first = False

    def report(self, report: MessageReport) -> None:
        if report.problems or self.all_messages:
            self._item(report.as_dict())

    def unreadable(self, source: str, reason: str) -> None:
        self._item({"source": source, "unreadable": reason, "valid": False, "problems": []})

    def finish(self, summary: Summary) -> None:
        self.out.write('\n], "summary": ' + json.dumps(summary.as_dict()) + "}\n")
