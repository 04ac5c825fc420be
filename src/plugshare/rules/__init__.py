"""The standard's business rules, registered on import of the domain modules."""

from plugshare.rules import common, hr, payroll, revenues  # noqa: F401  (registration)
from plugshare.rules.base import RULES, STREAM_RULES, Rule, StreamRule, Violation

__all__ = ["RULES", "STREAM_RULES", "Rule", "StreamRule", "Violation", "rules_for"]


def rules_for(message_type: str) -> list[Rule]:
    return [r for r in RULES if r.applies_to(message_type)]
