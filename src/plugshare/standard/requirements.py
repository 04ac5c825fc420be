"""The catalogue of every requirement of the standard, as data.

Requirements enforced by the published schemas are declared here and cited in
the schemas by ``x-requirement``; those enforced by business rules come from
the rule registry; those about reading a stream are enforced by the reader.
``plugshare spec export`` writes the catalogue to spec/requirements.json. Ids
are stable: a retired id stays reserved in ``RETIRED`` and is never reused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from plugshare.models import MESSAGE_TYPES
from plugshare.models.version import STANDARD_VERSION
from plugshare.rules import RULES, STREAM_RULES

Level = Literal["MUST", "SHOULD"]
ALL = tuple(sorted(MESSAGE_TYPES))


@dataclass(frozen=True)
class Requirement:
    id: str
    name: str
    level: Level
    text: str
    message_types: tuple[str, ...]
    enforced_by: str  # "reader", "schema" or "rule"

    @property
    def section(self) -> str:
        return SECTIONS[self.id.split("-")[1]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "name": self.name, "level": self.level, "section": self.section,
            "text": self.text, "message_types": list(self.message_types), "enforced_by": self.enforced_by,
        }


SECTIONS = {
    "ENV": "Messages and the envelope",
    "SCH": "Message schemas",
    "COM": "Common types",
    "ID": "UK identifiers",
    "HR": "HR",
    "PAY": "Payroll",
    "CT": "Council tax",
    "REV": "Revenues payments",
    "NDR": "Business rates",
}

#: Ids that were once used and must never be reused.
RETIRED: dict[str, str] = {}


def _schema(id: str, name: str, text: str, message_types: tuple[str, ...] = ALL, level: Level = "MUST"):
    return Requirement(id, name, level, text, message_types, "schema")


def _reader(id: str, name: str, text: str):
    return Requirement(id, name, "MUST", text, ALL, "reader")


_PAYROLL = ("payroll.pay-run", "payroll.payslip", "payroll.tax-details", "payroll.bank-account",
            "payroll.pension-membership")
_REVENUES_PROPERTY = ("revenues.property",)

DECLARED: tuple[Requirement, ...] = (
    _reader("PS-ENV-001", "json-object-in-utf8",
            "A message MUST be one JSON object encoded in UTF-8. A file holds one message, a JSON array of "
            "messages, or NDJSON: one message per line."),
    _reader("PS-ENV-002", "message-size-limit",
            "A message MUST NOT exceed 1 MiB (1,048,576 bytes) in its UTF-8 encoding."),
    _reader("PS-ENV-003", "known-message-type",
            "A message's type MUST be uk.plugshare. followed by one of the message types of the standard."),
    _schema("PS-ENV-004", "cloudevents-envelope",
            "A message MUST be a CloudEvents 1.0 event in structured JSON mode with specversion \"1.0\", id, "
            "source, type and time, and plugshare's extension attributes council, action and schemaversion; "
            "any other attribute name MUST be lower-case letters and digits (at most 20)."),
    _schema("PS-ENV-005", "schema-version-major",
            "schemaversion MUST be a semantic version whose major version is the major version of the "
            "standard the message is validated against."),
    _schema("PS-ENV-006", "upsert-carries-data", "A message whose action is upsert MUST carry data."),
    _schema("PS-ENV-007", "delete-names-subject",
            "A message whose action is delete MUST name the deleted record's id in subject."),
    _schema("PS-ENV-009", "council-gss-code",
            "council MUST be the ONS GSS code of a council (E06, E07, E08, E09, E10, W06, S12 or N09 "
            "followed by six digits)."),
    _schema("PS-ENV-010", "rfc3339-time", "time MUST be an RFC 3339 timestamp with a UTC offset."),
    _schema("PS-SCH-001", "data-matches-schema",
            "data MUST validate against the schema of the message's type: required fields present, values "
            "of the stated type and enumeration, and no field the schema does not define (local fields go "
            "in extensions)."),
    _schema("PS-COM-001", "money-exact",
            "An amount of money MUST be a JSON string holding a decimal number of pounds sterling with "
            "exactly two decimal places (\"1234.56\"); it MUST NOT be a JSON number."),
    _schema("PS-COM-002", "iso-dates", "A date MUST be an ISO 8601 calendar date, YYYY-MM-DD."),
    _schema("PS-COM-003", "record-id",
            "A record id MUST be 1-128 characters from A-Z a-z 0-9 . _ : - starting with a letter or digit; "
            "it MUST NOT change over the record's life."),
    _schema("PS-COM-004", "namespaced-extensions",
            "Local and vendor fields MUST be kept in extensions, under a lower-case dotted namespace naming "
            "their owner; each namespace holds an object."),
    _schema("PS-COM-008", "rates-exact",
            "A rate or percentage used in a charge MUST be a JSON string holding a non-negative decimal."),
    _schema("PS-COM-009", "party-person-or-organisation",
            "A liable party or ratepayer MUST be exactly one of a person (name) or an organisation "
            "(organisation_name).",
            ("revenues.council-tax-account", "revenues.business-rates-account")),
    _schema("PS-ID-001", "ni-number-format",
            "A National Insurance number MUST be two prefix letters, six digits and a suffix A-D, upper case "
            "without spaces; the first letter MUST NOT be D, F, I, Q, U or V and the second MUST NOT be D, F, "
            "I, O, Q, U or V.", ("hr.person",)),
    _schema("PS-ID-002", "ni-number-issued-prefix",
            "A National Insurance number MUST NOT start with a prefix that is never issued: BG, GB, KN, NK, "
            "NT, TN or ZZ.", ("hr.person",)),
    _schema("PS-ID-003", "postcode-format",
            "A postcode MUST be a UK postcode in upper case with one space before the inward code, GIR 0AA, "
            "a BFPO number or a British overseas territory postcode.", ALL),
    _schema("PS-ID-004", "uprn", "A UPRN MUST be a positive integer of at most 12 digits.", ALL),
    _schema("PS-ID-005", "usrn", "A USRN MUST be a positive integer of at most 8 digits.", ALL),
    _schema("PS-ID-006", "paye-reference",
            "An employer PAYE reference MUST be a three-digit tax office number, a slash and up to ten "
            "letters or digits.", ("payroll.pay-run",)),
    _schema("PS-ID-007", "accounts-office-reference",
            "An Accounts Office reference MUST be three digits, P, a letter, seven digits and a check "
            "character (digit or X).", ("payroll.pay-run",)),
    _schema("PS-ID-008", "bank-details",
            "A sort code MUST be six digits and an account number eight digits, without separators.",
            ("payroll.bank-account",)),
    _schema("PS-ID-009", "tax-code-format",
            "A tax code MUST be carried as its parts: code (digits with L, M, N or T; K with digits; BR, 0T, "
            "NT, D0-D3), regime (S, C or absent) and non_cumulative.",
            ("payroll.payslip", "payroll.tax-details")),
)


def catalogue() -> list[Requirement]:
    """Every requirement, in id order."""
    requirements = list(DECLARED)
    for rule in RULES:
        requirements.append(Requirement(rule.id, rule.name, rule.level, rule.text, rule.message_types, "rule"))
    for stream_rule in STREAM_RULES:
        requirements.append(Requirement(stream_rule.id, stream_rule.name, stream_rule.level, stream_rule.text,
                                        stream_rule.message_types, "rule"))
    ids = [r.id for r in requirements]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise ValueError(f"requirement ids used twice: {sorted(duplicates)}")
    reused = set(ids) & set(RETIRED)
    if reused:
        raise ValueError(f"retired requirement ids reused: {sorted(reused)}")
    return sorted(requirements, key=lambda r: _sort_key(r.id))


def _sort_key(requirement_id: str) -> tuple[int, int]:
    _, section, number = requirement_id.split("-")
    return list(SECTIONS).index(section), int(number)


def by_id() -> dict[str, Requirement]:
    return {r.id: r for r in catalogue()}


def render_catalogue() -> str:
    document = {
        "standard_version": STANDARD_VERSION,
        "levels": {"MUST": "RFC 2119 MUST: breaking it makes a message invalid.",
                   "SHOULD": "RFC 2119 SHOULD: breaking it gives a warning."},
        "retired": RETIRED,
        "requirements": [r.as_dict() for r in catalogue()],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


README_START = "<!-- requirements:start -->"
README_END = "<!-- requirements:end -->"


def render_markdown() -> str:
    """Every requirement as Markdown, by section: the generated part of spec/README.md."""
    lines = ["", "This part is generated from the catalogue by `plugshare spec export`; do not edit it by hand.", ""]
    section = None
    for requirement in catalogue():
        if requirement.section != section:
            section = requirement.section
            lines += ["", f"### {section}", "", "| id | level | checked by | requirement |",
                      "| --- | --- | --- | --- |"]
        text = requirement.text.replace("|", "\\|")
        lines.append(f"| {requirement.id} | {requirement.level} | {requirement.enforced_by} | {text} |")
    return "\n".join(lines) + "\n\n"


def fill_readme(text: str) -> str:
    """spec/README.md with the generated requirements between its markers (unchanged if it has none)."""
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        return text
    return text[: start + len(README_START)] + "\n" + render_markdown() + text[end:]
