"""Business rules: the requirements JSON Schema cannot express.

A rule is a function registered with its requirement id, level and text. It
receives one message that already passed its schema and yields a
``Violation`` for each breach, with a JSON pointer relative to the message.
A ``StreamRule`` sees every message of a stream and reports at the end, for
requirements that span records (an org-unit tree without cycles).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

Level = Literal["MUST", "SHOULD"]
Message = dict[str, Any]


@dataclass(frozen=True)
class Violation:
    pointer: str
    reason: str
    #: A MUST rule that cannot be evaluated (no reference data for the year) reports
    #: a SHOULD-level note instead of guessing.
    level: Level | None = None


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    level: Level
    text: str
    message_types: tuple[str, ...]
    check: Callable[[Message], Iterable[Violation]] = field(compare=False, repr=False)

    def applies_to(self, message_type: str) -> bool:
        return message_type in self.message_types


class StreamRule:
    """A requirement over many messages; memory grows only with what it must remember."""

    id: str
    name: str
    level: Level
    text: str
    message_types: tuple[str, ...]

    def observe(self, message_type: str, message: Message, where: Any) -> None:
        raise NotImplementedError

    def finish(self) -> Iterator[tuple[Any, Violation]]:
        """Yield (where, violation) pairs, ``where`` being what ``observe`` was given."""
        raise NotImplementedError


RULES: list[Rule] = []
STREAM_RULES: list[type[StreamRule]] = []


def rule(id: str, name: str, level: Level, text: str, *message_types: str):
    """Register a per-message rule; the decorated function yields Violations."""

    def register(check: Callable[[Message], Iterable[Violation]]) -> Callable[[Message], Iterable[Violation]]:
        if any(existing.id == id for existing in RULES):
            raise ValueError(f"rule id {id} is registered twice")
        RULES.append(Rule(id, name, level, text, tuple(message_types), check))
        return check

    return register


def stream_rule(cls: type[StreamRule]) -> type[StreamRule]:
    STREAM_RULES.append(cls)
    return cls


def walk(node: Any, pointer: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every object in a JSON value with its JSON pointer."""
    if isinstance(node, dict):
        yield pointer, node
        for key, value in node.items():
            yield from walk(value, f"{pointer}/{escape(key)}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, f"{pointer}/{index}")


def escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")
