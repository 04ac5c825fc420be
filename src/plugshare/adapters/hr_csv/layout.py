"""The four files of an HR flat-file export: their columns, code lists and value forms, as declarations.

Each :class:`Table` names its file, what a row of it is, its key column, its
columns in the order they are written and the columns a header must carry.
:class:`Maps` holds, for one council (keys become ``<council>-<key>`` ids),
the :class:`RecordMap` of each kind of record, which maps a row to a canonical
record and back. See the package docstring for the meaning of every column.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from plugshare.adapters.contract import RecordError
from plugshare.adapters.mapping import (
    CodeList,
    FieldMap,
    RecordMap,
    code,
    format_date,
    parse_date,
    parse_int,
)
from plugshare.identifiers import gss_problem, is_postcode, mask_nino, nino_problem, normalise_nino, normalise_postcode
from plugshare.models.types import RECORD_ID_PATTERN

NAMESPACE = "native.hr-csv"
SCHEME = "hr-csv"
#: the date form written; read also as ISO 8601, which some exports use
DATE_FORM = "%d/%m/%Y"
READ_DATE_FORMS = (DATE_FORM, "%Y-%m-%d")

# --- code lists (vendor code -> the standard's value; each value has one code, so writing is exact) ----

UNIT_TYPES = CodeList("Unit Type", {"CNCL": "council", "DIR": "directorate", "SERV": "service", "TEAM": "team",
                                    "OTH": "other"})
POST_STATUSES = CodeList("Post Status", {"A": "active", "F": "frozen", "C": "closed"})
PAY_SCALES = CodeList("Pay Scale", {"NJC": "njc", "JNC": "jnc_chief_officers", "SOUL": "soulbury",
                                    "TCHR": "teachers", "LOCAL": "local"})
GENDERS = CodeList("Gender", {"M": "M", "F": "F", "MALE": "M", "FEMALE": "F"})
EMPLOYMENT_STATUSES = CodeList("Status", {"A": "active", "S": "suspended", "L": "terminated"})
CONTRACT_TYPES = CodeList("Contract Type", {"PERM": "permanent", "FTC": "fixed_term", "CAS": "casual",
                                            "APP": "apprenticeship", "SEC": "secondment"})
LEAVING_REASONS = CodeList("Leaving Reason", {
    "RES": "resignation", "DIS": "dismissal", "RED": "redundancy", "RET": "retirement",
    "IHR": "ill_health_retirement", "EFT": "end_of_contract", "TUPE": "tupe_transfer_out", "DEC": "death",
    "OTH": "other"})
ABSENCE_TYPES = CodeList("Absence Type", {
    "AL": "annual_leave", "SICK": "sickness", "MAT": "maternity", "PAT": "paternity", "ADOP": "adoption",
    "SPL": "shared_parental", "BRV": "bereavement", "UNPD": "unpaid", "OTH": "other"})
ABSENCE_UNITS = CodeList("Units", {"D": "days", "H": "hours"})

# --- value forms --------------------------------------------------------------------------------------


def text(width: int) -> Callable[[str, str], str]:
    """Free text of at most ``width`` characters (the standard's limit), spaces at either end dropped."""
    def parse(value: str, field: str) -> str:
        value = value.strip()
        if len(value) > width:
            raise RecordError(f"{field} is {len(value)} characters; it holds at most {width}")
        return value
    return parse


def date(value: str, field: str) -> str | None:
    return parse_date(value, field, READ_DATE_FORMS)


def private_date(value: str, field: str) -> str | None:
    """A date of birth: the value is never repeated in a reason."""
    try:
        return date(value, field)
    except RecordError:
        raise RecordError(f"{field} is not a date such as 14/07/1985 (value withheld: personal data); "
                          "correct it in the HR system") from None


def write_date(value: str) -> str:
    """An ISO 8601 date -> ``dd/mm/yyyy``; anything else is a :class:`RecordError` quoting it."""
    try:
        return format_date(value, DATE_FORM)
    except (TypeError, ValueError):
        raise RecordError(f"{value!r} is not a date in the form YYYY-MM-DD") from None


def write_private_date(value: str) -> str:
    """A date of birth -> ``dd/mm/yyyy``; anything else is a :class:`RecordError` that never repeats it."""
    try:
        return format_date(value, DATE_FORM)
    except (TypeError, ValueError):
        raise RecordError("the value is not a date in the form YYYY-MM-DD (value withheld: personal data)") from None


#: the only number form read: digits, with a decimal point and digits after it (no exponent, %, or separators)
NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def number(value: str, field: str) -> float | None:
    """A plain decimal such as ``0.6081`` or ``22.5`` -> the standard's number (its FTE, hours and durations are
    JSON numbers); blank -> None.

    Only the form :data:`NUMBER` is read: ``1e3``, ``50%`` or ``1,000`` are errors, not guesses. A number is
    taken only when the JSON number holds it exactly as written (at most 15 or so significant digits), so
    that none is changed in passing, nor made infinite.
    """
    text = value.strip()
    if not text:
        return None
    if not NUMBER.fullmatch(text):
        raise RecordError(f"{field}: {text!r} is not a number such as 0.6081 or 37 (digits, with an optional "
                          "decimal point)")
    parsed = float(text)
    shown = f"{text[:20]!r}{'...' if len(text) > 20 else ''}"
    if not math.isfinite(parsed):
        raise RecordError(f"{field}: {shown} is too large a number")
    if Decimal(repr(parsed)) != Decimal(text):
        raise RecordError(f"{field}: {shown} has more digits than a number in the standard holds exactly")
    return parsed


def write_number(value: Any) -> str:
    """The shortest text that reads back as the same number: ``1``, ``0.6081``, ``52.143``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RecordError(f"{value!r} is not a number")
    if float(value).is_integer():
        return str(int(value))
    return f"{Decimal(repr(float(value))):f}"


def ni_number(value: str, field: str) -> str:
    normalised = normalise_nino(value)
    problem = nino_problem(normalised)
    if problem:
        raise RecordError(f"{field} {mask_nino(normalised)} is not a valid NI number ({problem}); correct it in "
                          "the HR system")
    return normalised


def postcode(value: str, field: str) -> str:
    normalised = normalise_postcode(value)
    if not is_postcode(normalised):
        raise RecordError(f"{field} {value.strip()!r} is not a UK postcode such as PE13 2AB")
    return normalised


def country(value: str, field: str) -> str:
    value = value.strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", value):
        raise RecordError(f"{field} {value!r} is not a two-letter ISO 3166 country code such as GB")
    return value


def council_code(value: str, field: str) -> str:
    problem = gss_problem(value.strip())
    if problem:
        raise RecordError(f"{field}: {problem}")
    return value.strip()


def record_id(council: str, key: str, field: str) -> str:
    """The standard's id for a key of the export: ``<council>-<key>``."""
    value = f"{council}-{key.strip()}"
    if not re.fullmatch(RECORD_ID_PATTERN, value):
        raise RecordError(f"{field} {key.strip()!r} cannot make a record id (letters, digits and . _ : - only, "
                          f"at most {127 - len(council)} characters)")
    return value


def key_of(council: str, record: str) -> str:
    """The export's key for an id: the id without ``<council>-``."""
    prefix = f"{council}-"
    if not isinstance(record, str) or not record.startswith(prefix) or record == prefix:
        raise RecordError(f"id {record!r} does not start with {prefix}; this export names records by the key "
                          f"after the council's code, so it can only carry ids of the form {prefix}<key>")
    return record[len(prefix):]


# --- tables -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    """One file of the export."""

    file: str
    #: what a row is, for reasons: "org unit", "post", "employee", "absence"
    what: str
    key: str
    columns: tuple[str, ...]
    required: tuple[str, ...]


ORG_UNITS = Table("org-units.csv", "org unit", "Org Unit Code", (
    "Org Unit Code", "Org Unit Name", "Unit Type", "Parent Org Unit Code", "Cost Centre", "Effective From",
    "Effective To"), ("Org Unit Code", "Org Unit Name", "Unit Type"))

POSTS = Table("posts.csv", "post", "Post Number", (
    "Post Number", "Post Title", "Org Unit Code", "Post Status", "Pay Scale", "Grade", "SCP", "Budgeted FTE",
    "Cost Centre", "Effective From", "Effective To"),
    ("Post Number", "Post Title", "Org Unit Code", "Post Status", "Budgeted FTE", "Effective From"))

PERSON_COLUMNS = (
    "Employee Number", "Title", "Forename", "Middle Names", "Surname", "Known As", "Date of Birth", "Gender",
    "NI Number", "Flat", "House Name/Number", "Street", "Locality", "Town", "County", "Postcode", "Country",
    "Email", "Telephone")
EMPLOYMENT_COLUMNS = (
    "Employment Number", "Payroll Number", "Employer", "Status", "Contract Type", "Start Date",
    "Continuous Service Date", "Leaving Date", "Last Working Day", "Leaving Reason", "TUPE Previous Employer",
    "TUPE Transfer Date", "Post Number", "Post Start Date", "Post End Date", "Pay Scale", "Grade", "SCP", "FTE",
    "Weekly Hours", "Weeks Per Year", "Cost Centre", "Annual Salary")
PEOPLE = Table("people.csv", "employee", "Employee Number", PERSON_COLUMNS + EMPLOYMENT_COLUMNS, (
    "Employee Number", "Forename", "Surname", "Employment Number", "Status", "Contract Type", "Start Date",
    "Post Number", "Post Start Date", "FTE", "Weekly Hours"))

ABSENCES = Table("absences.csv", "absence", "Absence Number", (
    "Absence Number", "Employee Number", "Employment Number", "Absence Type", "Start Date", "End Date", "Units",
    "Duration", "Reason", "Fit Note Issued", "Fit Note From", "Fit Note To"), (
    "Absence Number", "Employee Number", "Employment Number", "Absence Type", "Start Date", "Units", "Duration"))

#: in the order they are read: parents before children
TABLES = (ORG_UNITS, POSTS, PEOPLE, ABSENCES)


def _grade(prefix: str = "") -> tuple[FieldMap, ...]:
    return (FieldMap("Pay Scale", f"{prefix}grade.pay_scale", *code(PAY_SCALES)),
            FieldMap("Grade", f"{prefix}grade.code", text(20)),
            FieldMap("SCP", f"{prefix}grade.spinal_column_point", parse_int))


class Maps:
    """The record maps of one council's export (references between files are ``<council>-<key>`` ids)."""

    def __init__(self, council: str):
        self.council = council
        ref = (lambda value, field: record_id(council, value, field), lambda value: key_of(council, value))
        dates = (date, write_date)
        numbers = (number, write_number)
        self.org_unit = RecordMap([
            FieldMap("Org Unit Name", "name", text(120), required=True),
            FieldMap("Unit Type", "kind", *code(UNIT_TYPES), required=True),
            FieldMap("Parent Org Unit Code", "parent_id", *ref),
            FieldMap("Cost Centre", "cost_centre", text(30)),
            FieldMap("Effective From", "start_date", *dates),
            FieldMap("Effective To", "end_date", *dates),
        ], namespace=NAMESPACE, consumed=(ORG_UNITS.key,))
        self.post = RecordMap([
            FieldMap("Post Title", "title", text(120), required=True),
            FieldMap("Org Unit Code", "org_unit_id", *ref, required=True),
            FieldMap("Post Status", "status", *code(POST_STATUSES), required=True),
            *_grade(),
            FieldMap("Budgeted FTE", "budgeted_fte", *numbers, required=True),
            FieldMap("Cost Centre", "cost_centre", text(30)),
            FieldMap("Effective From", "start_date", *dates, required=True),
            FieldMap("Effective To", "end_date", *dates),
        ], namespace=NAMESPACE, consumed=(POSTS.key,))
        self.person = RecordMap([
            FieldMap("Title", "name.title", text(35)),
            FieldMap("Forename", "name.given_name", text(35), required=True),
            FieldMap("Middle Names", "name.middle_names", text(70)),
            FieldMap("Surname", "name.family_name", text(35), required=True),
            FieldMap("Known As", "name.preferred_name", text(35)),
            FieldMap("Date of Birth", "birth_date", private_date, write_private_date),
            FieldMap("Gender", "legal_sex", *code(GENDERS)),
            FieldMap("NI Number", "ni_number", ni_number),
            FieldMap("Flat", "address.saon", text(100)),
            FieldMap("House Name/Number", "address.paon", text(100)),
            FieldMap("Street", "address.street", text(100)),
            FieldMap("Locality", "address.locality", text(100)),
            FieldMap("Town", "address.town", text(100)),
            FieldMap("County", "address.administrative_area", text(100)),
            FieldMap("Postcode", "address.postcode", postcode),
            FieldMap("Country", "address.country", country),
            FieldMap("Email", "email", text(254)),
            FieldMap("Telephone", "phone", text(30)),
        ], namespace=NAMESPACE, consumed=(PEOPLE.key, *EMPLOYMENT_COLUMNS))
        assignment = "assignments.0."
        self.employment = RecordMap([
            FieldMap("Payroll Number", "payroll_id", text(35)),
            FieldMap("Employer", "employer", council_code),
            FieldMap("Status", "status", *code(EMPLOYMENT_STATUSES), required=True),
            FieldMap("Contract Type", "contract_type", *code(CONTRACT_TYPES), required=True),
            FieldMap("Start Date", "start_date", *dates, required=True),
            FieldMap("Continuous Service Date", "continuous_service_date", *dates),
            FieldMap("Leaving Date", "end_date", *dates),
            FieldMap("Last Working Day", "last_working_date", *dates),
            FieldMap("Leaving Reason", "termination_reason", *code(LEAVING_REASONS)),
            FieldMap("TUPE Previous Employer", "tupe_transfer.previous_employer", text(200)),
            FieldMap("TUPE Transfer Date", "tupe_transfer.transfer_date", *dates),
            FieldMap("Post Number", f"{assignment}position_id", *ref, required=True),
            FieldMap("Post Start Date", f"{assignment}start_date", *dates, required=True),
            FieldMap("Post End Date", f"{assignment}end_date", *dates),
            *_grade(assignment),
            FieldMap("FTE", f"{assignment}working_pattern.fte", *numbers, required=True),
            FieldMap("Weekly Hours", f"{assignment}working_pattern.contracted_hours_per_week", *numbers,
                     required=True),
            FieldMap("Weeks Per Year", f"{assignment}working_pattern.weeks_per_year", *numbers),
            FieldMap("Cost Centre", f"{assignment}cost_centre", text(30)),
        ], namespace=NAMESPACE, consumed=(*PERSON_COLUMNS, "Employment Number", "Annual Salary"))
        self.absence = RecordMap([
            FieldMap("Employee Number", "person_id", *ref, required=True),
            FieldMap("Employment Number", "employment_id", *ref, required=True),
            FieldMap("Absence Type", "absence_type", *code(ABSENCE_TYPES), required=True),
            FieldMap("Start Date", "start_date", *dates, required=True),
            FieldMap("End Date", "end_date", *dates),
            FieldMap("Units", "unit", *code(ABSENCE_UNITS), required=True),
            FieldMap("Duration", "amount", *numbers, required=True),
            FieldMap("Reason", "reason", text(200)),
            FieldMap("Fit Note Issued", "fit_note.issued_date", *dates),
            FieldMap("Fit Note From", "fit_note.covers.start", *dates),
            FieldMap("Fit Note To", "fit_note.covers.end", *dates),
        ], namespace=NAMESPACE, consumed=(ABSENCES.key,))


def check_grade(record: dict[str, Any]) -> None:
    """A grade needs its pay scale and its code; a spine point needs a grade."""
    grade = record.get("grade")
    if grade is None:
        return
    if "code" not in grade or "pay_scale" not in grade:
        given, missing = ("Pay Scale", "Grade is") if "code" not in grade else ("Grade", "Pay Scale is")
        if "code" not in grade and "pay_scale" not in grade:
            given, missing = "SCP", "Pay Scale and Grade are"
        raise RecordError(f"{given} is given but {missing} empty; a grade is a pay scale, a grade and "
                          "optionally a spinal column point")


def check_fit_note(record: dict[str, Any]) -> None:
    note = record.get("fit_note")
    if note is None:
        return
    covers = note.get("covers", {})
    if "issued_date" not in note or "start" not in covers or "end" not in covers:
        raise RecordError("a fit note needs Fit Note Issued, Fit Note From and Fit Note To; one of them is empty")
