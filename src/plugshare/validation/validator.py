"""Validate a stream of messages: envelope and type, published schema, then business rules.

Rules run only on messages that pass their schema, so that they can rely on
shapes and types. Stream rules (those over many messages) report at the end.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from plugshare.models import message_type_of
from plugshare.rules import STREAM_RULES, rules_for
from plugshare.validation.problems import Location, MessageReport, Problem
from plugshare.validation.reader import Entry
from plugshare.validation.schemas import SchemaSet, published_schemas


class MessageValidator:
    """Checks one message at a time; reusable by adapters and servers."""

    def __init__(self, schemas: SchemaSet | None = None):
        self.schemas = schemas or published_schemas()

    def message_type(self, message: dict[str, Any]) -> tuple[str | None, Problem | None]:
        ce_type = message.get("type")
        if not isinstance(ce_type, str):
            return None, Problem("PS-ENV-003", "MUST", "/type", "the message has no type attribute")
        message_type = message_type_of(ce_type)
        if message_type is None or message_type not in self.schemas.ids:
            return None, Problem("PS-ENV-003", "MUST", "/type",
                                 f"{ce_type!r} is not a message type of the standard; types are "
                                 f"uk.plugshare. followed by one of: {', '.join(self.schemas.message_types)}")
        return message_type, None

    def check(self, message: dict[str, Any]) -> tuple[str | None, list[Problem]]:
        message_type, problem = self.message_type(message)
        if problem:
            return None, [problem]
        problems = self.schemas.problems(message_type, message)
        if problems or "data" not in message:
            return message_type, problems
        for rule in rules_for(message_type):
            try:
                for violation in rule.check(message):
                    problems.append(Problem(rule.id, violation.level or rule.level, violation.pointer,
                                            violation.reason))
            except Exception as exc:  # a crashing rule is reported, never fatal
                reason = f"the rule could not be evaluated ({type(exc).__name__})"  # never the value it choked on
                problems.append(Problem(rule.id, rule.level, "", reason))
        return message_type, problems


@dataclass
class _Where:
    location: Location
    message_id: str | None
    message_type: str


def validate_entries(entries: Iterable[Entry], validator: MessageValidator | None = None) -> Iterator[MessageReport]:
    """One report per entry read, then one per message a stream rule found at fault."""
    validator = validator or MessageValidator()
    stream_rules = [cls() for cls in STREAM_RULES]
    for entry in entries:
        if entry.message is None:
            yield MessageReport(entry.location, problems=[entry.problem] if entry.problem else [])
            continue
        message = entry.message
        message_type, problems = validator.check(message)
        message_id = message.get("id") if isinstance(message.get("id"), str) else None
        if message_type and not any(p.level == "MUST" for p in problems):
            for stream_rule in stream_rules:
                stream_rule.observe(message_type, message, _Where(entry.location, message_id, message_type))
        yield MessageReport(entry.location, message_id, message_type, problems)
    for stream_rule in stream_rules:
        for where, violation in stream_rule.finish():
            yield MessageReport(where.location, where.message_id, where.message_type, [
                Problem(stream_rule.id, violation.level or stream_rule.level, violation.pointer, violation.reason)],
                late=True)
