"""hr-rest: reads people, employments, the establishment and absences from an HR vendor's REST API.

INPUT is the API's service root, e.g. ``https://hr.example-vendor.test/odata/v4``.
The adapter reads, in this order (parents before children), the entity sets
named by ``--option entity_sets``: ``OrgUnits``, ``Positions``, ``Employees``,
``Employments``, ``Absences``, each item becoming one message.

The API it expects
------------------
OData v4 JSON (read only). ``GET <root>/<EntitySet>?$top=<page_size>`` answers
``{"@odata.context": "...", "value": [item, ...], "@odata.nextLink": "..."}``.
When a page has ``@odata.nextLink`` (absolute, or relative to the page's URL)
it is followed as given; it must stay on the service root's origin (scheme,
host, port) or reading stops with an error, so the token never goes elsewhere.
Without one, the next page is asked for with ``$skip`` (items read so far)
until a page has fewer than ``$top`` items. Items are JSON objects; ``null``
means absent; nested objects are read as dotted names (``HomeAddress.Town``).
Dates are ``Edm.Date`` (``2025-04-06``), a ``DateTimeOffset`` at midnight, or
OData v2's ``/Date(ms)/``. Every request has ``Accept: application/json`` and
``OData-MaxVersion: 4.0``.

Authentication: OAuth2 client credentials (RFC 6749 section 4.4): ``POST
token_url`` with ``grant_type=client_credentials``, ``client_id``,
``client_secret`` in the form (``--option token_auth=basic`` sends them as HTTP
Basic instead) and ``scope`` if given; the answer's ``access_token`` is sent as
``Authorization: Bearer`` (RFC 6750). The token is renewed shortly before
``expires_in`` runs out, and once when the API answers 401. 429 and 503 are
retried up to 3 times, waiting as ``Retry-After`` says (seconds or an HTTP
date; 1, 2, 4 s without it; more than 60 s is an error). Redirects are not
followed. Network errors, timeouts, other non-2xx answers, a body that is not
JSON or not a collection, and a refusal by the token endpoint stop the read
with an :class:`AdapterError` naming the URL and status and quoting the
answer, with the secret and token blanked out.

Entity sets and fields (vendor property -> canonical field)
-----------------------------------------------------------
Record ids are ``<council>-<key>`` and ``source_ids`` ``[{"scheme": "hr-rest",
"value": <key>}]``; property values naming other records (``OrgUnitId``,
``EmployeeId``...) become ids the same way.

``OrgUnits`` -> hr.org-unit: ``OrgUnitId`` key, ``Name`` name, ``UnitType`` kind
(CNCL council, DIR directorate, SVC service, TEAM team, OTH other),
``ParentOrgUnitId`` parent_id, ``CostCentre``, ``ValidFrom`` start_date,
``ValidTo`` end_date.

``Positions`` -> hr.position: ``PositionId`` key, ``Title``, ``OrgUnitId``
org_unit_id, ``PositionStatus`` status (A active, F frozen, C closed),
``PayScale`` grade.pay_scale (NJC, JNC chief officers, SOUL Soulbury, TCH
teachers, LOC local), ``Grade`` grade.code, ``SpinePoint``
grade.spinal_column_point, ``BudgetedFTE``, ``CostCentre``, ``ValidFrom``
start_date, ``ValidTo`` end_date.

``Employees`` -> hr.person: ``EmployeeId`` key; ``Title``, ``FirstName``,
``MiddleNames``, ``LastName``, ``KnownAs`` -> name.title, given_name,
middle_names, family_name, preferred_name; ``DateOfBirth`` birth_date;
``Gender`` legal_sex (M/MALE, F/FEMALE: sex as recorded with HMRC);
``NationalInsuranceNumber`` ni_number (spaces removed, checked);
``HomeAddress`` {``Flat`` saon, ``HouseNameOrNumber`` paon, ``Street``,
``Locality``, ``Town``, ``County`` administrative_area, ``Postcode``
(normalised, checked), ``CountryCode`` country}; ``WorkEmail`` email; ``Phone``.

``Employments`` -> hr.employment (with ``$expand=Assignments`` where the API
needs it): ``EmploymentId`` key, ``EmployeeId`` person_id, ``Employer`` (GSS
code; the council option when absent), ``PayrollNumber`` payroll_id,
``EmploymentStatus`` status (A active, S suspended, T terminated),
``ContractType`` (PERM, FTC fixed term, CAS casual, APPR apprenticeship, SECN
secondment), ``HireDate`` start_date, ``ContinuousServiceDate`` (HireDate when
absent), ``TerminationDate`` end_date, ``LastDayWorked`` last_working_date,
``TerminationReason`` (RES resignation, DIS dismissal, RED redundancy, RET
retirement, IHR ill-health retirement, EOC end of contract, TUPE transfer
out, DEC death, OTH other), ``TupeTransfer`` {``PreviousEmployer``,
``TransferDate``}, ``Assignments`` [{``PositionId``, ``StartDate``, ``EndDate``,
``PayScale``, ``Grade``, ``SpinePoint``, ``FTE``, ``WeeklyHours``
contracted_hours_per_week, ``WeeksPerYear``, ``CostCentre``}].

``Absences`` -> hr.absence: ``AbsenceId`` key, ``EmployeeId`` person_id,
``EmploymentId`` employment_id, ``AbsenceType`` (ANNUAL, SICK, MAT, PAT, ADOPT,
SPL shared parental, BEREAVE, UNPAID, OTHER), ``StartDate``, ``EndDate``,
``Unit`` (D days, H hours), ``Amount``, ``ReasonText`` reason, ``FitNote``
{``IssuedDate``, ``ValidFrom``, ``ValidTo``} fit_note.issued_date, covers.

Kept, rejected, not supported
-----------------------------
Any other property (OData annotations such as ``@odata.etag`` included) is
kept with its JSON value in ``extensions["native.hr-rest"]``, under its dotted
name (``Location.Site``; an assignment's as ``Assignments.0.WorkLocation``).
An unknown vendor code, a bad date, NI number or postcode, a missing key or
required property, or a list where one value belongs rejects the item with a
reason naming the property (birth dates and NI numbers are never repeated in
full). Not supported: writing, ``$filter``/delta reads, ``$batch``, JSON
streaming of one huge page (each page is read whole: one page in memory at a
time), OData v2's ``{"d": {"results": ...}}`` shape.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping

import httpx

from plugshare.adapters.contract import (
    AS_AT,
    COUNCIL,
    Adapter,
    AdapterError,
    Converted,
    Option,
    Outcome,
    Position,
    RecordError,
    Rejected,
)
from plugshare.adapters.hr_rest.client import ODataClient
from plugshare.adapters.hr_rest.records import entity_sets
from plugshare.hookspecs import hookimpl

ENTITY_SETS = "OrgUnits,Positions,Employees,Employments,Absences"


class HrRestAdapter(Adapter):
    key = "hr-rest"
    title = "HR vendor REST API (OData JSON, OAuth2 client credentials)"
    description = ("Reads org units, positions, people, employments and absences from an HR vendor's OData v4 "
                   "JSON API, paging with @odata.nextLink or $top/$skip.")
    reads = ("hr.org-unit", "hr.position", "hr.person", "hr.employment", "hr.absence")
    source_kind = "url"
    options = (
        COUNCIL, AS_AT,
        Option("token_url", "The OAuth2 token endpoint (https) that issues client-credentials tokens.",
               required=True),
        Option("client_id", "The OAuth2 client id the vendor issued.", required=True),
        Option("client_secret", "The OAuth2 client secret; never printed.", required=True, secret=True),
        Option("scope", "The OAuth2 scope to ask for, if the vendor needs one."),
        Option("token_auth", "How the client credentials are sent: post (in the form) or basic (HTTP Basic).",
               default="post"),
        Option("entity_sets", "The entity sets to read, comma-separated, in the order given.", default=ENTITY_SETS),
        Option("page_size", "Items asked for per page ($top), 1 to 1000.", default="100"),
        Option("timeout", "Seconds to wait for each answer.", default="30"),
    )

    def __init__(self, options: Mapping[str, str] | None = None, *, http: httpx.Client | None = None,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic):
        super().__init__(options, http=http)
        #: injectable so that tests need not wait for Retry-After or for a token to expire
        self.sleep, self.clock = sleep, clock
        self.sets = entity_sets(self.council)
        self.selected = [name.strip() for name in self.settings["entity_sets"].split(",") if name.strip()]
        unknown = [name for name in self.selected if name not in self.sets]
        if unknown or not self.selected:
            raise AdapterError(f"option entity_sets: {', '.join(unknown) or 'none given'} is not an entity set this "
                               f"adapter reads; choose from {ENTITY_SETS}")
        if self.settings["token_auth"] not in ("post", "basic"):
            raise AdapterError(f"option token_auth={self.settings['token_auth']!r}: use post or basic")
        self.page_size = _number_option("page_size", self.settings["page_size"], int, 1, 1000)
        self.timeout = _number_option("timeout", self.settings["timeout"], float, 1, 600)

    def client(self, source: str) -> ODataClient:
        return ODataClient(
            self.http, base_url=source, token_url=self.settings["token_url"], client_id=self.settings["client_id"],
            client_secret=self.settings["client_secret"], scope=self.settings.get("scope"),
            token_auth=self.settings["token_auth"], page_size=self.page_size, timeout=self.timeout,
            sleep=self.sleep, clock=self.clock)

    def read(self, source: str) -> Iterator[Outcome]:
        client = self.client(source)
        for name in self.selected:
            entity = self.sets[name]
            url, count = client.entity_url(name), 0
            for page in client.pages(name):
                for item in page:
                    count += 1
                    position = Position(source=url, record=count)
                    try:
                        record = entity.record(item, self.council, self.key, self.extension_namespace)
                    except RecordError as exc:
                        key = item.get(entity.key) if isinstance(item, dict) else None
                        which = f"{name} item {key}" if key not in (None, "") else f"{name} item {count}"
                        yield Rejected(position, item, f"{which}: {exc.reason}", exc.requirement)
                        continue
                    yield Converted(position, [self.message(entity.message_type, record)], native=item)


def _number_option(name: str, text: str, kind: type, lowest: float, highest: float):
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or not lowest <= value <= highest:
        raise AdapterError(f"option {name}={text!r}: give a number from {lowest:g} to {highest:g}")
    return value


@hookimpl
def plugshare_register_adapters(register):
    register(HrRestAdapter)
