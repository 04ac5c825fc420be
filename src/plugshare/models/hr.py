"""HR messages: people, their employments, the establishment (positions, org units), absence.

Shaped after HR Open (person, work relationship, assignments) with what local
government adds: NJC grades and spinal column points, FTE and term-time weeks,
cost centres, continuous service across TUPE transfers.
"""

from __future__ import annotations

from enum import Enum

from pydantic import Field

from plugshare.models.common import Address, Canonical, PersonName, Record
from plugshare.models.types import CouncilCode, Date, NationalInsuranceNumber, RecordId


class LegalSex(str, Enum):
    """Sex as recorded with HMRC, which RTI requires."""

    FEMALE = "F"
    MALE = "M"


class Person(Record):
    """Someone who works, or worked, for a council in the shared service."""

    message_type = "hr.person"

    name: PersonName
    birth_date: Date | None = Field(None, description="Personal data: never shown in reports or logs.")
    legal_sex: LegalSex | None = None
    ni_number: NationalInsuranceNumber | None = Field(
        None, description="Personal data: reports and logs never show it in full."
    )
    address: Address | None = None
    email: str | None = Field(None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    phone: str | None = Field(None, max_length=30, pattern=r"^\+?[0-9 ()-]{6,30}$")


class EmploymentStatus(str, Enum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    TERMINATED = "terminated"


class ContractType(str, Enum):
    PERMANENT = "permanent"
    FIXED_TERM = "fixed_term"
    CASUAL = "casual"
    APPRENTICESHIP = "apprenticeship"
    SECONDMENT = "secondment"


class TerminationReason(str, Enum):
    RESIGNATION = "resignation"
    DISMISSAL = "dismissal"
    REDUNDANCY = "redundancy"
    RETIREMENT = "retirement"
    ILL_HEALTH_RETIREMENT = "ill_health_retirement"
    END_OF_CONTRACT = "end_of_contract"
    TUPE_TRANSFER_OUT = "tupe_transfer_out"
    DEATH = "death"
    OTHER = "other"


class PayScale(str, Enum):
    NJC = "njc"  # National Joint Council for Local Government Services
    JNC_CHIEF_OFFICERS = "jnc_chief_officers"
    SOULBURY = "soulbury"
    TEACHERS = "teachers"
    LOCAL = "local"


class Grade(Canonical):
    pay_scale: PayScale
    code: str = Field(min_length=1, max_length=20, description="The grade as the council names it.")
    spinal_column_point: int | None = Field(None, ge=1, le=99,
                                            description="Point on the pay spine (NJC: 2 to 43).")


class WorkingPattern(Canonical):
    fte: float = Field(gt=0, le=1, description="Full-time equivalent: more than 0, at most 1.")
    contracted_hours_per_week: float = Field(gt=0, le=168)
    weeks_per_year: float = Field(52.143, gt=0, le=52.143,
                                  description="Paid weeks a year; fewer than 52.143 for term-time staff.")


class Assignment(Canonical):
    """One post held under an employment."""

    position_id: RecordId
    start_date: Date
    end_date: Date | None = None
    grade: Grade | None = None
    working_pattern: WorkingPattern
    cost_centre: str | None = Field(None, max_length=30)


class TupeTransfer(Canonical):
    """A transfer into this employment under TUPE: service continues from the previous employer."""

    previous_employer: str = Field(min_length=1, max_length=200)
    transfer_date: Date


class Employment(Record):
    """A person's employment with one council: the work relationship."""

    message_type = "hr.employment"

    person_id: RecordId
    employer: CouncilCode = Field(description="The employing council, which may differ from the service host.")
    payroll_id: str | None = Field(None, max_length=35, description="The employer's payroll or works number.")
    status: EmploymentStatus
    contract_type: ContractType
    start_date: Date
    continuous_service_date: Date = Field(
        description="Start of continuous service, carried across TUPE transfers and local-government moves."
    )
    end_date: Date | None = None
    last_working_date: Date | None = None
    termination_reason: TerminationReason | None = None
    tupe_transfer: TupeTransfer | None = None
    assignments: list[Assignment] = Field(min_length=1)


class PositionStatus(str, Enum):
    ACTIVE = "active"
    FROZEN = "frozen"
    CLOSED = "closed"


class Position(Record):
    """A post in the establishment, filled or vacant."""

    message_type = "hr.position"

    title: str = Field(min_length=1, max_length=120)
    org_unit_id: RecordId
    status: PositionStatus
    grade: Grade | None = None
    budgeted_fte: float = Field(gt=0, le=1)
    cost_centre: str | None = Field(None, max_length=30)
    start_date: Date
    end_date: Date | None = None


class OrgUnitKind(str, Enum):
    COUNCIL = "council"
    DIRECTORATE = "directorate"
    SERVICE = "service"
    TEAM = "team"
    OTHER = "other"


class OrgUnit(Record):
    """A node of a council's organisation tree; the root has no parent."""

    message_type = "hr.org-unit"

    name: str = Field(min_length=1, max_length=120)
    kind: OrgUnitKind
    parent_id: RecordId | None = None
    cost_centre: str | None = Field(None, max_length=30)
    start_date: Date | None = None
    end_date: Date | None = None


class AbsenceType(str, Enum):
    ANNUAL_LEAVE = "annual_leave"
    SICKNESS = "sickness"
    MATERNITY = "maternity"
    PATERNITY = "paternity"
    ADOPTION = "adoption"
    SHARED_PARENTAL = "shared_parental"
    BEREAVEMENT = "bereavement"
    UNPAID = "unpaid"
    OTHER = "other"


class AbsenceUnit(str, Enum):
    DAYS = "days"
    HOURS = "hours"


class FitNote(Canonical):
    """A statement of fitness for work covering a sickness absence."""

    issued_date: Date
    covers: FitNotePeriod


class FitNotePeriod(Canonical):
    start: Date
    end: Date


class Absence(Record):
    message_type = "hr.absence"

    person_id: RecordId
    employment_id: RecordId
    absence_type: AbsenceType
    start_date: Date
    end_date: Date | None = Field(None, description="Absent while open.")
    unit: AbsenceUnit
    amount: float = Field(ge=0, description="Time absent in the unit given, e.g. 3.5 days.")
    reason: str | None = Field(None, max_length=200, description="Free text; avoid medical detail.")
    fit_note: FitNote | None = None


FitNote.model_rebuild()
