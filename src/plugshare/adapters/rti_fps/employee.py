"""One Employee element -> hr.person, payroll.tax-details and payroll.payslip records.

Children are taken by name; whatever is not taken is kept in the record's
extensions under its path (``Employment/Payment/OnStrike``), so that writing
restores it. The payslip's earnings and deductions are made from the FPS
totals, as the package docstring sets out, because an FPS carries no lines;
likewise each NI letter's earnings buckets for the period are derived from its
NICable pay in the period and the tax year's thresholds, because an FPS
carries the buckets for the year to date only.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from plugshare import refdata
from plugshare.adapters.contract import RecordError
from plugshare.adapters.mapping import payroll_person_id
from plugshare.adapters.rti_fps import schema as S
from plugshare.adapters.rti_fps.document import encode, local
from plugshare.adapters.rti_fps.reader import Submission
from plugshare.calculations import ni_period_buckets
from plugshare.identifiers import tax_code_problem
from plugshare.models.types import RECORD_ID_PATTERN

PERSON, TAX_DETAILS, PAYSLIP = "hr.person", "payroll.tax-details", "payroll.payslip"
SCHEME = "rti-fps"
ZERO = Decimal("0.00")

# payslip line codes made from FPS figures (the writer reads them back)
PAY, NON_TAXABLE = "FPS-PAY", "FPS-NONTAX"
TAX, POSTGRADUATE, NET_PAY_PENSION, RELIEF_AT_SOURCE, FROM_NET_PAY, ADJUSTMENT = (
    "FPS-TAX", "FPS-PGL", "FPS-PEN-NPA", "FPS-PEN-RAS", "FPS-NETPAY", "FPS-ADJ")
DESCRIPTIONS = {
    PAY: "Pay before net pay arrangement pension (FPS TaxablePay + EmpeePenContribnsPaid)",
    NON_TAXABLE: "Payments not subject to tax or NICs (FPS NonTaxOrNICPmt)",
    TAX: "Income tax (FPS TaxDeductedOrRefunded)",
    POSTGRADUATE: "Postgraduate loan (FPS PostgradLoanRecovered)",
    NET_PAY_PENSION: "Employee pension, net pay arrangement (FPS EmpeePenContribnsPaid)",
    RELIEF_AT_SOURCE: "Employee pension, relief at source (FPS EmpeePenContribnsNotPaid)",
    FROM_NET_PAY: "Deductions from net pay (FPS DednsFromNetPay)",
    ADJUSTMENT: "Taxable pay less statutory deductions, less FPS PayAfterStatDedns",
}
NI_AMOUNTS = ("GrossEarningsForNICsInPd", "GrossEarningsForNICsYTD", "AtLELYTD", "LELtoPTYTD", "PTtoUELYTD",
              "TotalEmpNICInPd", "TotalEmpNICYTD", "EmpeeContribnsInPd", "EmpeeContribnsYTD")
#: the FPS's earnings buckets, all for the year to date: ni[].year_to_date's fields
NI_BUCKETS = {"AtLELYTD": "earnings_at_lel", "LELtoPTYTD": "earnings_lel_to_pt", "PTtoUELYTD": "earnings_pt_to_uel"}
#: the figures to date the standard holds summed: (year_to_date field, the part for student loans or net pay
#: arrangement pension, the part for postgraduate loans or relief at source pension)
SPLITS = (("student_loan", "StudentLoansTD", "PostgradLoansTD"),
          ("employee_pension", "EmpeePenContribnsPaidYTD", "EmpeePenContribnsNotPaidYTD"))
WHOLE_POUNDS = frozenset({"StudentLoansTD", "PostgradLoansTD"})
#: Payment figures that make a line only when not zero: one given as zero is kept, to be written again
OPTIONAL_FIGURES = ("NonTaxOrNICPmt", "DednsFromNetPay", "EmpeePenContribnsPaid", "EmpeePenContribnsNotPaid")
_NUMBERED_LINE = re.compile(r"([0-9]+[A-Za-z]?(?:-[0-9]+[A-Za-z]?)?) (.+)")


def text(amount: Decimal) -> str:
    return f"{amount.quantize(ZERO):f}"


def split_to_date(total: Decimal, first: str, second: str, has_first: bool,
                  has_second: bool) -> dict[str, Decimal] | None:
    """How a summed figure to date is written as its two FPS parts when nothing kept says otherwise.

    ``has_first`` and ``has_second`` say whether the payslip has lines (or, for loans, plans) of each part.
    A sum of zero is written as neither part; any other goes wholly to the one part that has lines. None
    when the lines do not tell: both parts have them, or neither has.
    """
    if not total:
        return {}
    if has_first != has_second:
        return {first if has_first else second: total}
    return None


class Parts:
    """The children of one element, taken by name; those not taken are kept under their path.

    The element itself is taken, so it may hold neither attributes (the FPS defines none on the elements
    that hold others) nor text besides its children: either would otherwise be left unread.
    """

    def __init__(self, element: ET.Element, path: str, namespace: str, kept: dict[str, Any]):
        self.path, self.namespace, self.kept = path, namespace, kept
        where = path or "Employee"
        if element.attrib:
            stray = local(next(iter(element.attrib)))[1]
            raise RecordError(f"{where} has attribute {stray}, which the FPS does not define for it")
        if (element.text or "").strip() or any((child.tail or "").strip() for child in element):
            raise RecordError(f"{where} holds text where the FPS has elements only")
        self.children: list[tuple[str, ET.Element]] = []
        for child in element:
            child_namespace, name = local(child.tag)
            if child_namespace != namespace:
                raise RecordError(f"{self.at(name)} is in namespace {child_namespace or '(none)'!r}, not the FPS's")
            self.children.append((name, child))
        self.taken: set[int] = set()

    def at(self, name: str) -> str:
        return f"{self.path}/{name}" if self.path else name

    def all(self, name: str) -> list[ET.Element]:
        found = [(i, child) for i, (n, child) in enumerate(self.children) if n == name]
        self.taken.update(i for i, _ in found)
        return [child for _, child in found]

    def one(self, name: str, required: bool = False) -> ET.Element | None:
        found = self.all(name)
        if len(found) > 1:
            raise RecordError(f"{self.at(name)} appears {len(found)} times; the FPS allows it once")
        if not found and required:
            raise RecordError(f"{self.at(name)} is missing; the FPS requires it")
        return found[0] if found else None

    def text(self, name: str, required: bool = False, attributes: tuple[str, ...] = ()) -> str | None:
        element = self.one(name, required)
        return None if element is None else self.value(element, name, required, attributes)

    def value(self, element: ET.Element, name: str, required: bool = False,
              attributes: tuple[str, ...] = ()) -> str | None:
        if len(element):
            raise RecordError(f"{self.at(name)} holds elements where the FPS has text")
        stray = [local(key)[1] for key in element.attrib if local(key)[1] not in attributes]
        if stray:
            raise RecordError(f"{self.at(name)} has attribute {stray[0]}, which the FPS does not define for it")
        value = (element.text or "").strip()
        if not value and required:
            raise RecordError(f"{self.at(name)} is empty; the FPS requires a value")
        return value or None

    def money(self, name: str, required: bool = False, **form: bool) -> Decimal | None:
        value = self.text(name, required)
        return None if value is None else Decimal(S.money(value, self.at(name), **form))

    def keep(self, name: str, value: Any) -> None:
        self.kept[self.at(name)] = value

    def keep_rest(self) -> None:
        for index, (name, child) in enumerate(self.children):
            if index in self.taken:
                continue
            value = encode(child, self.at(name))
            key = self.at(name)
            if key in self.kept:
                earlier = self.kept[key]
                self.kept[key] = (earlier if isinstance(earlier, list) else [earlier]) + [value]
            else:
                self.kept[key] = value


@dataclass(frozen=True)
class Ids:
    person: str
    employment: str
    tax_details: str
    payslip: str
    pay_run: str


def read_employee(element: ET.Element, submission: Submission, council: str) -> list[tuple[str, dict[str, Any]]]:
    """The (message type, record) pairs one Employee element maps to; :class:`RecordError` when it cannot."""
    namespace = submission.namespace
    person_kept: dict[str, Any] = {}
    slip_kept: dict[str, Any] = {f"EmpRefs/{name}": value for name, value in submission.employer.items()}
    top = Parts(element, "", namespace, slip_kept)
    details = top.one("EmployeeDetails", required=True)
    employment = Parts(top.one("Employment", required=True), "Employment", namespace, slip_kept)
    top.keep_rest()

    pay_id = employment.text("PayId")
    if not pay_id:
        raise RecordError("Employment/PayId is missing; the standard's payslip needs the payroll id, and this adapter "
                          "makes the record ids from it")
    pay_id = S.text_of(pay_id, "Employment/PayId", S.PAY_ID, "PayId")
    starter = employment.one("Starter")
    declaration = _starter(Parts(starter, "Employment/Starter", namespace, slip_kept)) if starter is not None else None
    figures = Parts(employment.one("FiguresToDate", required=True), "Employment/FiguresToDate", namespace, slip_kept)
    payment = Parts(employment.one("Payment", required=True), "Employment/Payment", namespace, slip_kept)
    ni_elements = employment.all("NIlettersAndValues")
    employment.keep_rest()

    slip = _payment(payment, submission.tax_year)
    ids = _ids(council, pay_id, submission.tax_year, slip)
    thresholds = refdata.ni_thresholds(submission.tax_year) if ni_elements else None
    if ni_elements and thresholds is None:
        raise RecordError(f"the reference data has no NI thresholds for {submission.tax_year}, so the period's "
                          f"earnings buckets of NIlettersAndValues cannot be derived (an FPS carries them for the "
                          f"year to date only)")
    ni = [_ni(Parts(el, "Employment/NIlettersAndValues", namespace, slip_kept), slip, thresholds)
          for el in ni_elements]
    letters = [entry["letter"] for entry in ni]
    twice = sorted({letter for letter in letters if letters.count(letter) > 1})
    if twice:
        raise RecordError(f"NI letter {twice[0]} has two NIlettersAndValues; each letter appears once in an "
                          f"Employment")
    year_to_date = _figures_to_date(figures, ni, slip)
    person = _person(Parts(details, "EmployeeDetails", namespace, person_kept), ids, pay_id)
    payslip = _payslip(slip, ni, year_to_date, ids, pay_id, submission.tax_year)
    messages = [(PERSON, _with_extensions(person, person_kept))]
    if ni:
        messages.append((TAX_DETAILS, _tax_details(slip, ni, declaration, ids, submission.tax_year)))
    elif declaration:  # no tax details carry it: kept with the Starter
        slip_kept["Employment/Starter/StartDec"] = S.STARTER_DECLARATIONS.to_native(declaration)
    messages.append((PAYSLIP, _with_extensions(payslip, slip_kept)))
    return messages


def _with_extensions(record: dict[str, Any], kept: dict[str, Any]) -> dict[str, Any]:
    if kept:
        record["extensions"] = {f"native.{SCHEME}": kept}
    return record


def _ids(council: str, pay_id: str, tax_year: str, slip: dict[str, Any]) -> Ids:
    person = payroll_person_id(council, pay_id, "Employment/PayId")
    run = f"{tax_year}-{slip['pay_frequency']}-{slip['period_number']:02d}-{slip['payment_date'].replace('-', '')}"
    ids = Ids(person, f"{person}-employment", f"{person}-tax-{tax_year}", f"{person}-{run}",
              f"{council}-payrun-{run}")
    for value in (ids.person, ids.payslip, ids.pay_run):
        if not re.fullmatch(RECORD_ID_PATTERN, value):
            raise RecordError(f"Employment/PayId {pay_id!r} cannot make a record id ({value!r} is not one)")
    return ids


# --- EmployeeDetails ----------------------------------------------------------------------


def _person(details: Parts, ids: Ids, pay_id: str) -> dict[str, Any]:
    record: dict[str, Any] = {"id": ids.person, "source_ids": [{"scheme": SCHEME, "value": pay_id}],
                              "extensions": {}}
    nino = details.text("NINO")
    if nino:
        record["ni_number"] = S.ni_number(nino, "EmployeeDetails/NINO")
    record["name"] = _name(Parts(details.one("Name", required=True), "EmployeeDetails/Name", details.namespace,
                                 details.kept))
    address = details.one("Address")
    if address is not None:
        found = _address(address, details)
        if found:
            record["address"] = found
    record["birth_date"] = S.date(details.text("BirthDate", required=True), "EmployeeDetails/BirthDate",
                                  private=True)
    record["legal_sex"] = S.GENDERS.to_canonical(details.text("Gender", required=True))
    details.keep_rest()
    return record


def _name(name: Parts) -> dict[str, Any]:
    title = name.text("Ttl")
    fores = [name.value(element, "Fore") for element in name.all("Fore")]
    fores = [S.text_of(fore, "EmployeeDetails/Name/Fore", S.NAME, "Fore") for fore in fores if fore]
    surname = S.text_of(name.text("Sur", required=True), "EmployeeDetails/Name/Sur", S.NAME, "Sur")
    if len(fores) > 2:
        raise RecordError(f"EmployeeDetails/Name has {len(fores)} Fore elements; the FPS allows two")
    if not fores:
        raise RecordError("EmployeeDetails/Name has no Fore (forename); the standard's person needs a given name, "
                          "and initials alone are not one")
    result = {"given_name": fores[0], "family_name": surname}
    if len(fores) == 2:
        result["middle_names"] = fores[1]
    if title:
        result = {"title": S.text_of(title, "EmployeeDetails/Name/Ttl", S.TITLE, "Ttl"), **result}
    name.keep_rest()
    return result


def _address(element: ET.Element, details: Parts) -> dict[str, Any] | None:
    """Lines in order: (number and) street, then locality, town and county as there are lines."""
    if any(local(child.tag)[1] == "ForeignCountry" for child in element):
        details.keep("Address", encode(element, "EmployeeDetails/Address"))  # no ISO country code to map to
        return None
    address = Parts(element, "EmployeeDetails/Address", details.namespace, details.kept)
    lines = [address.value(line, "Line") for line in address.all("Line")]
    lines = [S.text_of(line, "EmployeeDetails/Address/Line", S.ADDRESS_LINE, "Line") for line in lines if line]
    if len(lines) > 4:
        raise RecordError(f"EmployeeDetails/Address has {len(lines)} Line elements; the FPS allows four")
    result: dict[str, Any] = {}
    if lines:
        numbered = _NUMBERED_LINE.fullmatch(lines[0])
        if numbered:
            result["paon"], result["street"] = numbered.group(1), numbered.group(2)
        else:
            result["street"] = lines[0]
        rest = dict(zip({1: (), 2: ("town",), 3: ("locality", "town"),
                         4: ("locality", "town", "administrative_area")}[len(lines)], lines[1:], strict=True))
        result.update(rest)
    code = address.text("UKPostcode")
    if code:
        result["postcode"] = S.postcode(code, "EmployeeDetails/Address/UKPostcode")
    address.keep_rest()
    return {**result, "country": "GB"} if result else None  # a foreign address says so (ForeignCountry)


# --- Employment ---------------------------------------------------------------------------


def _starter(starter: Parts) -> str | None:
    start = starter.text("StartDate", required=True)
    starter.keep("StartDate", S.date(start, "Employment/Starter/StartDate"))
    declaration = starter.text("StartDec")
    starter.keep_rest()
    return S.STARTER_DECLARATIONS.to_canonical(declaration) if declaration else None


def _payment(payment: Parts, tax_year: str) -> dict[str, Any]:
    frequency = S.PAY_FREQUENCIES.to_canonical(payment.text("PayFreq", required=True))
    paid = S.date(payment.text("PmtDate", required=True), "Employment/Payment/PmtDate")
    week, month = payment.text("WeekNo"), payment.text("MonthNo")
    if (week is None) == (month is None):
        raise RecordError("Employment/Payment needs one of WeekNo and MonthNo (the tax week or month of the "
                          "payment)" + (", not both" if week else ""))
    if (frequency in S.WEEKLY and month) or (frequency in S.MONTHLY and week):
        wanted = "WeekNo" if frequency in S.WEEKLY else "MonthNo"
        raise RecordError(f"Employment/Payment: pay frequency {frequency} counts its periods in {wanted}")
    if month and frequency not in S.MONTHLY:
        payment.keep("MonthNo", month)  # an irregular or one-off payment dated by its tax month
    period = (S.number(week, "Employment/Payment/WeekNo", 1, 56) if week
              else S.number(month, "Employment/Payment/MonthNo", 1, 12))
    code_element = payment.one("TaxCode", required=True)
    code = payment.value(code_element, "TaxCode", True, ("BasisNonCumulative", "TaxRegime"))
    basis = code_element.get("BasisNonCumulative")
    if basis is not None and basis != "yes":
        raise RecordError(f"Employment/Payment/TaxCode BasisNonCumulative is {basis!r}; it is 'yes' or absent")
    regime = code_element.get("TaxRegime")
    tax_code = {"code": code, **({"regime": S.TAX_REGIMES.to_canonical(regime)} if regime else {}),
                "non_cumulative": basis == "yes"}
    problem = tax_code_problem(code, tax_code.get("regime"))
    if problem:
        raise RecordError(f"Employment/Payment/TaxCode: {problem} (the FPS gives the code without its S or C "
                          f"prefix and W1/M1 basis, which are attributes)")
    loans = []
    for element in payment.all("StudentLoanRecovered"):
        amount = payment.value(element, "StudentLoanRecovered", True, ("PlanType",))
        plan = element.get("PlanType")
        if plan is None:
            raise RecordError("Employment/Payment/StudentLoanRecovered has no PlanType (01, 02 or 04)")
        loans.append({"plan": S.PLAN_TYPES.to_canonical(plan),
                      "amount": S.money(amount, "Employment/Payment/StudentLoanRecovered", whole=True)})
    postgraduate = payment.money("PostgradLoanRecovered", whole=True)
    if postgraduate is not None:
        loans.append({"plan": "PGL", "amount": text(postgraduate)})
    figures = {name: payment.money(name) for name in (
        "TaxablePay", "NonTaxOrNICPmt", "DednsFromNetPay", "PayAfterStatDedns", "EmpeePenContribnsPaid",
        "EmpeePenContribnsNotPaid", "TaxDeductedOrRefunded")}
    for required in ("TaxablePay", "PayAfterStatDedns", "TaxDeductedOrRefunded"):
        if figures[required] is None:
            raise RecordError(f"Employment/Payment/{required} is missing; the FPS requires it")
    for name in OPTIONAL_FIGURES:
        if figures[name] is not None and not figures[name]:  # given as zero: no line is made for it
            payment.keep(name, text(figures[name]))
    slip = {"pay_frequency": frequency, "period_number": period,
            "periods_covered": S.number(payment.text("PeriodsCovered", required=True),
                                        "Employment/Payment/PeriodsCovered", 1, 56),
            "payment_date": paid,
            "hours_band": S.HOURS_BANDS.to_canonical(payment.text("HoursWorked", required=True)),
            "tax_code": tax_code, "student_loans": loans, "figures": figures, "by_month": month is not None}
    payment.keep_rest()
    return slip


def _ni(values: Parts, slip: dict[str, Any], thresholds: dict[str, dict[str, Decimal]]) -> dict[str, Any]:
    """One letter: the period's figures, its buckets derived from its NICable pay, and the FPS's year to date."""
    letter = values.text("NIletter", required=True)
    if not re.fullmatch("[A-Z]", letter):
        raise RecordError(f"Employment/NIlettersAndValues/NIletter: {letter!r} is not an NI category letter")
    values.path = f"Employment/NIlettersAndValues[{letter}]"
    amounts = {name: values.money(name, required=True, signed=name not in NI_BUCKETS) for name in NI_AMOUNTS}
    values.keep_rest()
    paid = amounts["GrossEarningsForNICsInPd"]
    buckets = ni_period_buckets(paid, thresholds, slip["pay_frequency"], slip["periods_covered"], slip["by_month"])
    employee, employee_ytd = amounts["EmpeeContribnsInPd"], amounts["EmpeeContribnsYTD"]
    return {"letter": letter, "nicable_pay": text(paid), "earnings_at_lel": text(buckets.at_lel),
            "earnings_lel_to_pt": text(buckets.lel_to_pt), "earnings_pt_to_uel": text(buckets.pt_to_uel),
            "employee_contribution": text(employee),
            "employer_contribution": text(amounts["TotalEmpNICInPd"] - employee),
            "year_to_date": {"nicable_pay": text(amounts["GrossEarningsForNICsYTD"]),
                             **{field: text(amounts[native]) for native, field in NI_BUCKETS.items()},
                             "employee_contribution": text(employee_ytd),
                             "employer_contribution": text(amounts["TotalEmpNICYTD"] - employee_ytd)}}


def _figures_to_date(figures: Parts, ni: list[dict[str, Any]], slip: dict[str, Any]) -> dict[str, str]:
    """FiguresToDate -> year_to_date; the parts of a summed figure are kept when the lines would not split it so."""
    taxable = figures.money("TaxablePay", required=True)
    tax = figures.money("TotalTax", required=True)
    given = {name: figures.money(name, whole=name in WHOLE_POUNDS)
             for _, first, second in SPLITS for name in (first, second)}
    plans = [loan["plan"] for loan in slip["student_loans"]]
    f = slip["figures"]
    lines = {"student_loan": (any(plan != "PGL" for plan in plans), "PGL" in plans),
             "employee_pension": (bool(f["EmpeePenContribnsPaid"]), bool(f["EmpeePenContribnsNotPaid"]))}
    sums = {}
    for field, first, second in SPLITS:
        present = {name: given[name] for name in (first, second) if given[name] is not None}
        sums[field] = sum(present.values(), ZERO)
        if split_to_date(sums[field], first, second, *lines[field]) != present:
            for name, value in present.items():  # the standard holds the sum: the parts are kept to split it again
                figures.keep(name, text(value))
    figures.keep_rest()
    # the FPS has no gross pay to date: taxable pay and net pay arrangement pension to date, and the period's
    # payments not subject to tax or NICs (earlier periods' are not in the FPS)
    gross = taxable + (given["EmpeePenContribnsPaidYTD"] or ZERO) + (f["NonTaxOrNICPmt"] or ZERO)
    return {"gross_pay": text(gross), "taxable_pay": text(taxable), "tax_deducted": text(tax),
            "employee_ni": text(sum((Decimal(entry["year_to_date"]["employee_contribution"]) for entry in ni), ZERO)),
            "employer_ni": text(sum((Decimal(entry["year_to_date"]["employer_contribution"]) for entry in ni), ZERO)),
            "student_loan": text(sums["student_loan"]), "employee_pension": text(sums["employee_pension"])}


# --- the payslip and tax details ----------------------------------------------------------------


def _line(category: str, code: str, amount: Decimal, description: str | None = None) -> dict[str, Any]:
    return {"category": category, "code": code, "description": description or DESCRIPTIONS[code],
            "amount": text(amount)}


def _payslip(slip: dict[str, Any], ni: list[dict[str, Any]], year_to_date: dict[str, str], ids: Ids, pay_id: str,
             tax_year: str) -> dict[str, Any]:
    f = slip["figures"]
    taxable, tax, after = f["TaxablePay"], f["TaxDeductedOrRefunded"], f["PayAfterStatDedns"]
    pension, relief, net_deductions, non_taxable = (f["EmpeePenContribnsPaid"], f["EmpeePenContribnsNotPaid"],
                                                    f["DednsFromNetPay"], f["NonTaxOrNICPmt"])
    earnings = [_line("other", PAY, taxable + (pension or ZERO))]
    if non_taxable:
        earnings.append(_line("other", NON_TAXABLE, non_taxable))
    deductions = [_line("income_tax", TAX, tax)]
    deductions += [_line("employee_ni", f"FPS-NI-{entry['letter']}", Decimal(entry["employee_contribution"]),
                         f"Employee NICs, letter {entry['letter']} (FPS EmpeeContribnsInPd)") for entry in ni]
    for loan in slip["student_loans"]:
        if loan["plan"] == "PGL":
            deductions.append(_line("postgraduate_loan", POSTGRADUATE, Decimal(loan["amount"])))
        else:
            deductions.append(_line("student_loan", f"FPS-SL-{loan['plan']}", Decimal(loan["amount"]),
                                    f"Student loan plan {loan['plan']} (FPS StudentLoanRecovered)"))
    statutory = sum((Decimal(d["amount"]) for d in deductions), ZERO)
    for code, amount in ((NET_PAY_PENSION, pension), (RELIEF_AT_SOURCE, relief), (FROM_NET_PAY, net_deductions)):
        if amount:
            deductions.append(_line("other", code, amount))
    difference = taxable - statutory - after
    if difference:
        deductions.append(_line("other", ADJUSTMENT, difference))
    gross = sum((Decimal(e["amount"]) for e in earnings), ZERO)
    total = sum((Decimal(d["amount"]) for d in deductions), ZERO)
    return {
        "id": ids.payslip, "source_ids": [], "extensions": {}, "pay_run_id": ids.pay_run,
        "employment_id": ids.employment, "person_id": ids.person, "payroll_id": pay_id, "tax_year": tax_year,
        "pay_frequency": slip["pay_frequency"], "period_number": slip["period_number"],
        "periods_covered": slip["periods_covered"], "payment_date": slip["payment_date"],
        "hours_band": slip["hours_band"], "tax_code": slip["tax_code"], "earnings": earnings,
        "deductions": deductions, "gross_pay": text(gross), "taxable_pay": text(taxable), "tax_deducted": text(tax),
        "ni": ni,
        "student_loans": slip["student_loans"], "pensions": [], "total_deductions": text(total),
        "net_pay": text(gross - total), "year_to_date": year_to_date,
    }


def _tax_details(slip: dict[str, Any], ni: list[dict[str, Any]], declaration: str | None, ids: Ids,
                 tax_year: str) -> dict[str, Any]:
    """The tax details operated on this payment; the letter is the one earnings in the period were under."""
    in_period = [entry for entry in ni if Decimal(entry["nicable_pay"])]
    record = {"id": ids.tax_details, "source_ids": [], "extensions": {}, "employment_id": ids.employment,
              "tax_year": tax_year, "effective_from": slip["payment_date"], "tax_code": slip["tax_code"],
              "ni_letter": (in_period or ni)[-1]["letter"],
              "student_loan_plans": [loan["plan"] for loan in slip["student_loans"]]}
    if declaration:
        record["starter_declaration"] = declaration
    return record
