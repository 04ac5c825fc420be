"""The hr-rest entity sets: vendor properties -> canonical fields, declared with the mapping toolkit.

An item is flattened first (nested objects become dotted names such as
``HomeAddress.Postcode``), mapped with a :class:`RecordMap`, and whatever the
map does not name is kept, with its JSON value, in the record's extensions.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from plugshare.adapters.contract import RecordError
from plugshare.adapters.mapping import CodeList, FieldMap, RecordMap, code, parse_date, parse_decimal, parse_int
from plugshare.identifiers import gss_problem, is_postcode, mask_nino, nino_problem, normalise_nino, normalise_postcode
from plugshare.models.types import RECORD_ID_PATTERN

# --- vendor code lists ------------------------------------------------------------

UNIT_TYPES = CodeList("UnitType", {"CNCL": "council", "DIR": "directorate", "SVC": "service", "TEAM": "team",
                                   "OTH": "other"})
POSITION_STATUSES = CodeList("PositionStatus", {"A": "active", "F": "frozen", "C": "closed"})
PAY_SCALES = CodeList("PayScale", {"NJC": "njc", "JNC": "jnc_chief_officers", "SOUL": "soulbury",
                                   "TCH": "teachers", "LOC": "local"})
GENDERS = CodeList("Gender", {"F": "F", "FEMALE": "F", "M": "M", "MALE": "M"})
EMPLOYMENT_STATUSES = CodeList("EmploymentStatus", {"A": "active", "S": "suspended", "T": "terminated"})
CONTRACT_TYPES = CodeList("ContractType", {"PERM": "permanent", "FTC": "fixed_term", "CAS": "casual",
                                           "APPR": "apprenticeship", "SECN": "secondment"})
TERMINATION_REASONS = CodeList("TerminationReason", {
    "RES": "resignation", "DIS": "dismissal", "RED": "redundancy", "RET": "retirement",
    "IHR": "ill_health_retirement", "EOC": "end_of_contract", "TUPE": "tupe_transfer_out", "DEC": "death",
    "OTH": "other"})
ABSENCE_TYPES = CodeList("AbsenceType", {
    "ANNUAL": "annual_leave", "SICK": "sickness", "MAT": "maternity", "PAT": "paternity", "ADOPT": "adoption",
    "SPL": "shared_parental", "BEREAVE": "bereavement", "UNPAID": "unpaid", "OTHER": "other"})
ABSENCE_UNITS = CodeList("Unit", {"D": "days", "H": "hours"})

# --- value parsers ----------------------------------------------------------------

_MS_DATE = re.compile(r"/Date\((-?[0-9]+)([+-][0-9]{4})?\)/")


def odata_date(text: str, field: str) -> str | None:
    """Edm.Date ``2025-04-06``, an Edm.DateTimeOffset at midnight, or OData v2's ``/Date(ms)/`` -> ISO date."""
    text = text.strip()
    legacy = _MS_DATE.fullmatch(text)
    if legacy:
        return (dt.datetime(1970, 1, 1) + dt.timedelta(milliseconds=int(legacy.group(1)))).date().isoformat()
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T00:00(:00(\.0+)?)?(Z|[+-]00:00)?", text):
        text = text[:10]
    return parse_date(text, field, ("%Y-%m-%d",))


def private_date(text: str, field: str) -> str | None:
    """A date of birth: the value is never repeated in a reason."""
    try:
        return odata_date(text, field)
    except RecordError:
        raise RecordError(f"{field} is not a date such as 1985-07-14 (value withheld: personal data); "
                          "correct it in the HR system") from None


def number(text: str, field: str) -> float | None:
    value = parse_decimal(text, field)
    return None if value is None else float(value)


def ni_number(text: str, field: str) -> str:
    value = normalise_nino(text)
    problem = nino_problem(value)
    if problem:
        raise RecordError(f"{field} {mask_nino(value)} is not a valid NI number ({problem}); correct it in the "
                          "HR system")
    return value


def postcode(text: str, field: str) -> str:
    value = normalise_postcode(text)
    if not is_postcode(value):
        raise RecordError(f"{field}: {text.strip()!r} is not a UK postcode such as PE13 2AB")
    return value


def council_code(text: str, field: str) -> str:
    problem = gss_problem(text.strip())
    if problem:
        raise RecordError(f"{field}: {problem}")
    return text.strip()


def record_id(council: str, native: Any, field: str) -> str:
    """The standard's id for a vendor key: ``<council>-<key>``."""
    value = f"{council}-{str(native).strip()}"
    if not re.fullmatch(RECORD_ID_PATTERN, value):
        raise RecordError(f"{field}: {str(native)!r} cannot make a record id (letters, digits and . _ : - only, "
                          "at most 118 characters)")
    return value


# --- entity sets ------------------------------------------------------------------

Finish = Callable[[dict[str, Any], dict[str, Any], str, str], None]


@dataclass(frozen=True)
class EntitySet:
    """One entity set of the API and the message type its items become."""

    name: str
    message_type: str
    key: str
    fields: tuple[FieldMap, ...]
    #: vendor properties handled by ``finish`` rather than the field map
    consumed: tuple[str, ...] = ()
    finish: Finish | None = None

    def record(self, item: Any, council: str, scheme: str, namespace: str) -> dict[str, Any]:
        """The canonical record for one item, or :class:`RecordError`."""
        if not isinstance(item, dict):
            raise RecordError(f"the item is a JSON {type(item).__name__}, not an object; the API sent something "
                              f"other than {self.name} records")
        native_id = item.get(self.key)
        if native_id is None or isinstance(native_id, (dict, list, bool)) or not str(native_id).strip():
            raise RecordError(f"{self.key} is missing or empty; every {self.name} item needs its key")
        flat = flatten({k: v for k, v in item.items() if k not in self.consumed})
        record = map_flat(RecordMap(self.fields, namespace=namespace, consumed=(self.key,)), flat, {
            "id": record_id(council, native_id, self.key),
            "source_ids": [{"scheme": scheme, "value": str(native_id).strip()}],
            "extensions": {}})
        if self.finish:
            self.finish(record, item, council, namespace)
        return record


def flatten(item: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested objects -> dotted names; other values (lists too) are kept as they are."""
    flat: dict[str, Any] = {}
    for name, value in item.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{name}."))
        else:
            flat[f"{prefix}{name}"] = value
    return flat


def map_flat(record_map: RecordMap, flat: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """Map a flattened item; vendor properties kept in extensions keep their JSON values (numbers, lists...)."""
    for field in record_map.fields:
        value = flat.get(field.native)
        if isinstance(value, (list, dict, bool)):
            kind = "true/false" if isinstance(value, bool) else f"a JSON {type(value).__name__}"
            raise RecordError(f"{field.native} is {kind}; a single text or number was expected")
    record = record_map.to_record(flat, base)
    kept = record.get("extensions", {}).get(record_map.namespace)
    if kept:
        kept.update({name: flat[name] for name in kept})
    return record


def _ref(council: str) -> Callable[[str, str], str]:
    return lambda text, field: record_id(council, text, field)


def _grade(prefix: str = "") -> tuple[FieldMap, ...]:
    return (FieldMap("PayScale", f"{prefix}grade.pay_scale", *code(PAY_SCALES)),
            FieldMap("Grade", f"{prefix}grade.code"),
            FieldMap("SpinePoint", f"{prefix}grade.spinal_column_point", parse_int))


ASSIGNMENT_FIELDS = (
    FieldMap("PositionId", "position_id", required=True),  # made an id in _assignments (needs the council)
    FieldMap("StartDate", "start_date", odata_date, required=True),
    FieldMap("EndDate", "end_date", odata_date),
    *_grade(),
    FieldMap("FTE", "working_pattern.fte", number, required=True),
    FieldMap("WeeklyHours", "working_pattern.contracted_hours_per_week", number, required=True),
    FieldMap("WeeksPerYear", "working_pattern.weeks_per_year", number),
    FieldMap("CostCentre", "cost_centre"),
)


def _employment(record: dict[str, Any], item: dict[str, Any], council: str, namespace: str) -> None:
    record.setdefault("employer", council)
    if "start_date" in record:
        record.setdefault("continuous_service_date", record["start_date"])
    assignments = item.get("Assignments")
    if not isinstance(assignments, list) or not assignments:
        raise RecordError("Assignments is missing or empty; an employment needs at least one assignment "
                          "(ask for the entity set with $expand=Assignments if the API leaves them out)")
    record["assignments"] = []
    for index, assignment in enumerate(assignments):
        where = f"Assignments[{index}]"
        if not isinstance(assignment, dict):
            raise RecordError(f"{where} is not a JSON object")
        try:
            mapped = map_flat(RecordMap(ASSIGNMENT_FIELDS, namespace=namespace), flatten(assignment), {})
        except RecordError as exc:
            raise RecordError(f"{where}.{exc.reason}", exc.requirement) from None
        mapped["position_id"] = record_id(council, mapped["position_id"], f"{where}.PositionId")
        for name, value in mapped.pop("extensions", {}).get(namespace, {}).items():
            record["extensions"].setdefault(namespace, {})[f"Assignments.{index}.{name}"] = value
        record["assignments"].append(mapped)


def entity_sets(council: str) -> dict[str, EntitySet]:
    """The entity sets this adapter reads, in the order it reads them (parents before children)."""
    ref = _ref(council)
    sets = (
        EntitySet("OrgUnits", "hr.org-unit", "OrgUnitId", (
            FieldMap("Name", "name", required=True),
            FieldMap("UnitType", "kind", *code(UNIT_TYPES), required=True),
            FieldMap("ParentOrgUnitId", "parent_id", ref),
            FieldMap("CostCentre", "cost_centre"),
            FieldMap("ValidFrom", "start_date", odata_date),
            FieldMap("ValidTo", "end_date", odata_date))),
        EntitySet("Positions", "hr.position", "PositionId", (
            FieldMap("Title", "title", required=True),
            FieldMap("OrgUnitId", "org_unit_id", ref, required=True),
            FieldMap("PositionStatus", "status", *code(POSITION_STATUSES), required=True),
            *_grade(),
            FieldMap("BudgetedFTE", "budgeted_fte", number, required=True),
            FieldMap("CostCentre", "cost_centre"),
            FieldMap("ValidFrom", "start_date", odata_date, required=True),
            FieldMap("ValidTo", "end_date", odata_date))),
        EntitySet("Employees", "hr.person", "EmployeeId", (
            FieldMap("Title", "name.title"),
            FieldMap("FirstName", "name.given_name", required=True),
            FieldMap("MiddleNames", "name.middle_names"),
            FieldMap("LastName", "name.family_name", required=True),
            FieldMap("KnownAs", "name.preferred_name"),
            FieldMap("DateOfBirth", "birth_date", private_date),
            FieldMap("Gender", "legal_sex", *code(GENDERS)),
            FieldMap("NationalInsuranceNumber", "ni_number", ni_number),
            FieldMap("HomeAddress.Flat", "address.saon"),
            FieldMap("HomeAddress.HouseNameOrNumber", "address.paon"),
            FieldMap("HomeAddress.Street", "address.street"),
            FieldMap("HomeAddress.Locality", "address.locality"),
            FieldMap("HomeAddress.Town", "address.town"),
            FieldMap("HomeAddress.County", "address.administrative_area"),
            FieldMap("HomeAddress.Postcode", "address.postcode", postcode),
            FieldMap("HomeAddress.CountryCode", "address.country", lambda text, field: text.strip().upper()),
            FieldMap("WorkEmail", "email"),
            FieldMap("Phone", "phone"))),
        EntitySet("Employments", "hr.employment", "EmploymentId", (
            FieldMap("EmployeeId", "person_id", ref, required=True),
            FieldMap("Employer", "employer", council_code),
            FieldMap("PayrollNumber", "payroll_id"),
            FieldMap("EmploymentStatus", "status", *code(EMPLOYMENT_STATUSES), required=True),
            FieldMap("ContractType", "contract_type", *code(CONTRACT_TYPES), required=True),
            FieldMap("HireDate", "start_date", odata_date, required=True),
            FieldMap("ContinuousServiceDate", "continuous_service_date", odata_date),
            FieldMap("TerminationDate", "end_date", odata_date),
            FieldMap("LastDayWorked", "last_working_date", odata_date),
            FieldMap("TerminationReason", "termination_reason", *code(TERMINATION_REASONS)),
            FieldMap("TupeTransfer.PreviousEmployer", "tupe_transfer.previous_employer"),
            FieldMap("TupeTransfer.TransferDate", "tupe_transfer.transfer_date", odata_date)),
            consumed=("Assignments",), finish=_employment),
        EntitySet("Absences", "hr.absence", "AbsenceId", (
            FieldMap("EmployeeId", "person_id", ref, required=True),
            FieldMap("EmploymentId", "employment_id", ref, required=True),
            FieldMap("AbsenceType", "absence_type", *code(ABSENCE_TYPES), required=True),
            FieldMap("StartDate", "start_date", odata_date, required=True),
            FieldMap("EndDate", "end_date", odata_date),
            FieldMap("Unit", "unit", *code(ABSENCE_UNITS), required=True),
            FieldMap("Amount", "amount", number, required=True),
            FieldMap("ReasonText", "reason"),
            FieldMap("FitNote.IssuedDate", "fit_note.issued_date", odata_date),
            FieldMap("FitNote.ValidFrom", "fit_note.covers.start", odata_date),
            FieldMap("FitNote.ValidTo", "fit_note.covers.end", odata_date))),
    )
    return {entity.name: entity for entity in sets}
