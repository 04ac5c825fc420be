"""Rules every message type shares: envelope consistency, date order, year labels."""

from __future__ import annotations

import datetime as dt

from plugshare.calculations import is_year_label
from plugshare.models import MESSAGE_TYPES
from plugshare.models.version import STANDARD_VERSION
from plugshare.rules.base import Violation, escape, rule, walk

ALL_TYPES = tuple(sorted(MESSAGE_TYPES))

#: Field pairs that open and close a span of days, wherever they occur in a record.
DATE_PAIRS = (
    ("start", "end"),
    ("start_date", "end_date"),
    ("start_date", "last_working_date"),
    ("effective_from", "effective_to"),
    ("liable_from", "liable_to"),
    ("period_start", "period_end"),
    ("current_from", "current_to"),
)
YEAR_FIELDS = ("tax_year", "financial_year")


@rule("PS-ENV-008", "subject-names-record", "MUST",
      "When a message has both subject and data, subject MUST equal data.id.", *ALL_TYPES)
def subject_names_record(message):
    data = message.get("data")
    if data is not None and "subject" in message and message["subject"] != data["id"]:
        yield Violation("/subject", f"subject {message['subject']!r} does not name the record {data['id']!r}")


@rule("PS-COM-006", "end-not-before-start", "MUST",
      "A date that ends a span (end, end_date, effective_to, liable_to, period_end, current_to, "
      "last_working_date) MUST NOT be before the date that starts it.", *ALL_TYPES)
def end_not_before_start(message):
    for pointer, node in walk(message.get("data"), "/data"):
        for start, end in DATE_PAIRS:
            if start in node and end in node and node[end] < node[start]:
                yield Violation(f"{pointer}/{escape(end)}", f"{end} {node[end]} is before {start} {node[start]}")


@rule("PS-COM-007", "year-label", "MUST",
      "A tax year or financial year MUST be written YYYY-YY with two consecutive calendar years "
      "(\"2025-26\").", *ALL_TYPES)
def year_label(message):
    for pointer, node in walk(message.get("data"), "/data"):
        for name in YEAR_FIELDS:
            if name in node and not is_year_label(node[name]):
                yield Violation(f"{pointer}/{name}", f"{node[name]!r} does not name two consecutive years")


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


@rule("PS-ENV-011", "schema-version-not-newer", "SHOULD",
      "A message's schemaversion SHOULD NOT be newer than the version of the standard its receiver validates "
      "against: fields added in a later minor version are unknown to an earlier validator.", *ALL_TYPES)
def schema_version_not_newer(message):
    if _version(message["schemaversion"]) > _version(STANDARD_VERSION):
        yield Violation("/schemaversion", f"the message follows {message['schemaversion']}, newer than this "
                                          f"validator's {STANDARD_VERSION}; fields added since would be reported "
                                          "as unknown")


def as_date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)
