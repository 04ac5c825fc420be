"""The catalogue of every requirement of the standard, as data.

Requirements enforced by the published schemas are declared here and cited in
the schemas by ``x-requirement``; those enforced by business rules come from
the rule registry; those about reading a stream are enforced by the reader.
Those of the REST API (section API) bind servers and clients rather than
messages: the API's tests and the conformance suite check them. Those of
adapters (section ADP) bind an adapter's reading and writing: the conformance
suite checks them on its round trip and its samples.
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
    enforced_by: str  # "reader", "schema", "rule", "api" or "conformance"

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
    "API": "The REST API",
    "ADP": "Adapters",
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


def _api(id: str, name: str, text: str, level: Level = "MUST"):
    return Requirement(id, name, level, text, ALL, "api")


API: tuple[Requirement, ...] = (
    _api("PS-API-001", "problem-details",
         "A response to a request under /v1/councils with a status of 400 or more MUST carry an RFC 9457 "
         "problem (application/problem+json) giving its type, title, status, detail and the request path, "
         "and never a traceback."),
    _api("PS-API-002", "bearer-authentication",
         "A request under /v1/councils MUST be authenticated with a bearer token the server knows and that is "
         "neither revoked nor expired; any other request MUST be answered 401 with the challenge "
         "WWW-Authenticate: Bearer realm=\"plugshare\"."),
    _api("PS-API-003", "council-tenancy",
         "A credential MUST act only for the councils it is bound to: a request for another council MUST be "
         "answered 403, the same for every endpoint, and no data of another council is ever read, listed, "
         "exported or written."),
    _api("PS-API-004", "writes-validated",
         "A server MUST validate every message written to it as `plugshare validate` does, and MUST refuse a "
         "message that breaks a MUST requirement, naming the requirements broken (422 for PUT, a rejected "
         "line for an import), without storing anything."),
    _api("PS-API-005", "type-matches-path",
         "The type of a message written by PUT MUST be the message type of the path it is written to."),
    _api("PS-API-006", "put-carries-upsert",
         "A message written by PUT MUST have the action upsert; a record is deleted by DELETE or by a delete "
         "message in an import."),
    _api("PS-API-007", "id-matches-path",
         "The data.id of a message written by PUT MUST equal the record id in the path."),
    _api("PS-API-008", "council-matches-path",
         "The council of a message written by PUT or by an import MUST equal the council in the path."),
    _api("PS-API-009", "idempotent-upsert",
         "An upsert by PUT MUST be idempotent: the same message put twice MUST leave one record with one ETag, "
         "and a message equal after canonicalisation to the stored one MUST change nothing."),
    _api("PS-API-010", "etags-and-preconditions",
         "GET and PUT of a record MUST return a strong ETag, and a write MUST honour If-Match (412 unless the "
         "record exists with that ETag) and If-None-Match: * (412 if the record exists)."),
    _api("PS-API-011", "complete-paging",
         "Paging through a list by its opaque cursor MUST return every record present throughout the listing "
         "exactly once."),
    _api("PS-API-012", "change-feed",
         "The change feed (a list with updated_since) MUST return every change made strictly after that time, "
         "oldest first, with a deleted record as its tombstone, and a watermark from which the next request "
         "returns every later change."),
    _api("PS-API-013", "import-acknowledgements",
         "A bulk import MUST acknowledge every non-blank line, in input order, as accepted or as rejected with "
         "the requirement broken and the reason; a rejected line MUST store nothing, and rerunning an import "
         "MUST NOT duplicate any record."),
    _api("PS-API-014", "complete-export",
         "A bulk export MUST return every current record of the council, each equal after canonicalisation to "
         "the message stored."),
    _api("PS-API-015", "capabilities",
         "The capabilities document MUST declare the product with its version and supplier, the version of the "
         "standard, each message type with its operations, and the features the server supports."),
    _api("PS-API-016", "declared-limits",
         "A server MUST declare its limits in the capabilities document and enforce them: a page size beyond "
         "them is refused with 400, and a message or an import larger than them with 413."),
    _api("PS-API-017", "client-retries",
         "A client SHOULD retry a request answered 429 or 503, waiting at least as long as the response's "
         "Retry-After asks.", level="SHOULD"),
)


def _adapter(id: str, name: str, text: str, level: Level = "MUST"):
    return Requirement(id, name, level, text, ALL, "conformance")


ADP: tuple[Requirement, ...] = (
    _adapter("PS-ADP-001", "no-silent-loss",
             "An adapter MUST read back what it writes: every value of a message it writes that reading its "
             "output back does not restore MUST be reported as lost by its writer, by JSON pointer, so that a "
             "conversion names it."),
    _adapter("PS-ADP-002", "quarantine-one-by-one",
             "An adapter MUST reject a native record it cannot map on its own, with a reason, and convert the "
             "other records of the same input; one bad record MUST NOT stop the rest."),
)


def catalogue() -> list[Requirement]:
    """Every requirement, in id order."""
    requirements = [*DECLARED, *API, *ADP]
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
