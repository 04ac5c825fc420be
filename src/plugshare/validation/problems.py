"""What validation reports: a problem names the requirement broken, where, and why."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Level = Literal["MUST", "SHOULD"]


@dataclass(frozen=True)
class Location:
    """Where a message came from: a file (or ``-``), its line, or its index in a JSON array."""

    source: str
    line: int | None = None
    index: int | None = None

    def __str__(self) -> str:
        if self.line is not None:
            return f"{self.source}:{self.line}"
        if self.index is not None:
            return f"{self.source}[{self.index}]"
        return self.source


@dataclass(frozen=True)
class Problem:
    requirement: str
    level: Level
    pointer: str
    reason: str

    @property
    def severity(self) -> str:
        return "error" if self.level == "MUST" else "warning"


@dataclass
class MessageReport:
    """The outcome for one message (or one unreadable entry) of a stream."""

    location: Location
    message_id: str | None = None
    message_type: str | None = None
    problems: list[Problem] = field(default_factory=list)
    #: True for a report a stream rule made at the end about a message already counted
    late: bool = False

    @property
    def valid(self) -> bool:
        return not any(p.level == "MUST" for p in self.problems)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.location.source, "line": self.location.line, "index": self.location.index,
            "message_id": self.message_id, "message_type": self.message_type, "valid": self.valid,
            "problems": [
                {"requirement": p.requirement, "level": p.level, "severity": p.severity, "pointer": p.pointer,
                 "reason": p.reason}
                for p in self.problems
            ],
        }
