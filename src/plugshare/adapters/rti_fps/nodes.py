"""A person, their tax details and a payslip -> one Employee element, the inverse of :mod:`employee`.

Mapped fields make the elements the FPS requires; fields kept in the records'
extensions (``native.rti-fps``) are restored at their place in the XSD order.
A value the FPS cannot carry is a :class:`RecordError` naming the field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from plugshare.adapters.contract import RecordError
from plugshare.adapters.rti_fps import employee as E
from plugshare.adapters.rti_fps import schema as S
from plugshare.adapters.rti_fps.document import Node, decode, leaf
from plugshare.identifiers import tax_code_problem

ZERO = Decimal("0.00")
STATUTORY = frozenset({"income_tax", "employee_ni", "student_loan", "postgraduate_loan"})
#: deductions made before tax (they are in neither PayAfterStatDedns nor DednsFromNetPay)
BEFORE_TAX = frozenset({"pension", "salary_sacrifice"})
NAMESPACE = f"native.{E.SCHEME}"
#: Payment elements made from the payslip's fields and lines (any kept copy is ignored)
PAYMENT_MAPPED = frozenset({"PayFreq", "PmtDate", "WeekNo", "MonthNo", "PeriodsCovered", "HoursWorked", "TaxCode",
                            "TaxablePay", "NonTaxOrNICPmt", "DednsFromNetPay", "PayAfterStatDedns",
                            "EmpeePenContribnsPaid", "EmpeePenContribnsNotPaid", "StudentLoanRecovered",
                            "PostgradLoanRecovered", "TaxDeductedOrRefunded"})


@dataclass(frozen=True)
class Employer:
    """The PAYE scheme an FPS is for: EmpRefs by native name."""

    refs: dict[str, str]

    @property
    def paye_reference(self) -> str:
        return f"{self.refs['OfficeNo']}/{self.refs['PayeRef']}"


def kept(record: Mapping[str, Any]) -> dict[str, Any]:
    found = record.get("extensions", {}).get(NAMESPACE, {})
    return found if isinstance(found, dict) else {}


def assemble(path: str, mapped: Iterable[Node], extensions: Mapping[str, Any],
             handled: Iterable[str] = ()) -> list[Node]:
    """Mapped nodes and the kept elements of ``path``, in XSD order (unknown names last, as kept)."""
    nodes = list(mapped)
    skip = {node.name for node in nodes} | set(handled)
    for key, value in extensions.items():
        parent, _, name = key.rpartition("/")
        if parent != path or name in skip or "@" in name:
            continue
        for item in value if isinstance(value, list) else [value]:
            nodes.append(decode(name, item, key))
    order = S.ORDER.get(re.sub(r"\[[A-Z]\]$", "", path), ())
    return sorted(nodes, key=lambda node: order.index(node.name) if node.name in order else len(order))


def amount(name: str, value: str | Decimal, where: str, **form: bool) -> Node:
    return leaf(name, S.fps_amount(value, where, **form))


def employee(person: dict[str, Any], tax: dict[str, Any] | None, slip: dict[str, Any]) -> Node:
    extensions = kept(slip)
    details = _details(person)
    employment = Node("Employment", children=assemble("Employment", [
        *_starter(tax, extensions),
        leaf("PayId", S.text_of(slip["payroll_id"], "payroll_id (PayId)", S.PAY_ID, "PayId")),
        Node("FiguresToDate", children=_figures_to_date(slip, tax, extensions)),
        Node("Payment", children=_payment(slip, extensions)),
        *_ni(slip, extensions),
    ], extensions, handled=("Starter", "PayId", "FiguresToDate", "Payment", "NIlettersAndValues")))
    return Node("Employee", children=assemble("", [details, employment], extensions))


# --- EmployeeDetails ------------------------------------------------------------------------------


def _details(person: dict[str, Any]) -> Node:
    extensions = kept(person)
    who = f"hr.person {person['id']}"
    nodes = []
    if person.get("ni_number"):
        nodes.append(leaf("NINO", S.ni_number(person["ni_number"], f"{who} ni_number")))
    name = person["name"]
    parts = []
    if name.get("title"):
        parts.append(leaf("Ttl", S.text_of(name["title"], f"{who} name.title (Ttl)", S.TITLE, "Ttl")))
    parts.append(leaf("Fore", S.text_of(name["given_name"], f"{who} name.given_name (Fore)", S.NAME, "Fore")))
    if name.get("middle_names"):
        parts.append(leaf("Fore", S.text_of(name["middle_names"], f"{who} name.middle_names (second Fore)", S.NAME,
                                            "Fore")))
    parts.append(leaf("Sur", S.text_of(name["family_name"], f"{who} name.family_name (Sur)", S.NAME, "Sur")))
    nodes.append(Node("Name", children=assemble("EmployeeDetails/Name", parts, extensions)))
    if person.get("address"):
        nodes.append(Node("Address", children=assemble("EmployeeDetails/Address", _address(person["address"], who),
                                                       extensions)))
    elif not person.get("ni_number") and "EmployeeDetails/Address" not in extensions:
        raise RecordError(f"{who} has neither an NI number nor an address; an FPS needs one of them")
    for field, element in (("birth_date", "BirthDate"), ("legal_sex", "Gender")):
        if not person.get(field):
            raise RecordError(f"{who} has no {field}; an FPS needs the employee's {element}")
    nodes.append(leaf("BirthDate", S.date(str(person["birth_date"]), f"{who} birth_date", private=True)))
    nodes.append(leaf("Gender", S.GENDERS.to_native(person["legal_sex"])))
    return Node("EmployeeDetails", children=assemble("EmployeeDetails", nodes, extensions))


def _address(address: dict[str, Any], who: str) -> list[Node]:
    if address.get("country", "GB") != "GB":
        raise RecordError(f"{who} address is in {address['country']}; this adapter writes UK addresses only (the "
                          f"FPS wants a foreign country by name)")
    first = " ".join(part for part in (address.get("paon"), address.get("street")) if part)
    lines = [line for line in (address.get("saon"), first, address.get("locality"), address.get("town"),
                               address.get("administrative_area")) if line]
    if len(lines) > 4 and address.get("saon"):
        lines = [f"{address['saon']}, {first}", *lines[2:]]
    if len(lines) > 4:
        raise RecordError(f"{who} address has {len(lines)} lines; the FPS holds four")
    nodes = [leaf("Line", S.text_of(line, f"{who} address line {number}", S.ADDRESS_LINE, "Line"))
             for number, line in enumerate(lines, start=1)]
    if address.get("postcode"):
        nodes.append(leaf("UKPostcode", S.postcode(address["postcode"], f"{who} address.postcode")))
    return nodes


# --- Employment -------------------------------------------------------------------------------------


def _starter(tax: dict[str, Any] | None, extensions: Mapping[str, Any]) -> list[Node]:
    """The Starter the payslip keeps (read from an FPS), with the tax details' starter declaration.

    A payment is a starter's only when the payslip says so: a starter declaration on the tax details alone
    gives no start date, and is not written (reading back, it is named lost).
    """
    if not any(key.startswith("Employment/Starter/") for key in extensions):
        return []
    start = extensions.get("Employment/Starter/StartDate")
    if not start:
        raise RecordError("the payslip keeps starter details but no Employment/Starter/StartDate")
    declaration = (tax or {}).get("starter_declaration")
    nodes = [leaf("StartDate", S.date(str(start), "Employment/Starter/StartDate"))]
    if declaration:  # the tax details' declaration, else the one kept with the Starter
        nodes.append(leaf("StartDec", S.STARTER_DECLARATIONS.to_native(declaration)))
    return [Node("Starter", children=assemble("Employment/Starter", nodes, extensions,
                                              handled=("StartDec",) if declaration else ()))]


def _sum(lines: list[dict[str, Any]], chosen) -> Decimal:
    return sum((Decimal(line["amount"]) for line in lines if chosen(line)), ZERO)


def _pension(line: dict[str, Any]) -> bool:
    return line["category"] == "pension" or line["code"] == E.NET_PAY_PENSION


def _relief(line: dict[str, Any]) -> bool:
    return line["code"] == E.RELIEF_AT_SOURCE


def _from_net_pay(line: dict[str, Any]) -> bool:
    return (line["category"] not in STATUTORY | BEFORE_TAX
            and line["code"] not in (E.NET_PAY_PENSION, E.RELIEF_AT_SOURCE, E.ADJUSTMENT))


def _non_taxable(line: dict[str, Any]) -> bool:
    return line["code"] == E.NON_TAXABLE


def _payment_figures(slip: dict[str, Any]) -> dict[str, Any]:
    """The FPS payment figures a payslip's lines give (see the package docstring for the derivation)."""
    earnings, deductions = slip["earnings"], slip["deductions"]
    chosen = {"NonTaxOrNICPmt": (earnings, _non_taxable), "DednsFromNetPay": (deductions, _from_net_pay),
              "EmpeePenContribnsPaid": (deductions, _pension), "EmpeePenContribnsNotPaid": (deductions, _relief)}
    figures = {name: _sum(lines, test) for name, (lines, test) in chosen.items()}
    present = {name: any(map(test, lines)) for name, (lines, test) in chosen.items()}
    figures["PayAfterStatDedns"] = (Decimal(slip["net_pay"]) - figures["NonTaxOrNICPmt"]
                                    + figures["EmpeePenContribnsNotPaid"] + figures["DednsFromNetPay"])
    return {"figures": figures, "present": present}


def _payment(slip: dict[str, Any], extensions: Mapping[str, Any]) -> list[Node]:
    frequency, period = slip["pay_frequency"], slip["period_number"]
    if frequency in S.WEEKLY or frequency in S.MONTHLY:
        counter = "WeekNo" if frequency in S.WEEKLY else "MonthNo"
    else:
        counter = "MonthNo" if "Employment/Payment/MonthNo" in extensions else "WeekNo"
    if not 1 <= period <= (56 if counter == "WeekNo" else 12):
        raise RecordError(f"period_number {period} does not fit the FPS {counter} of pay frequency {frequency}")
    if not slip.get("hours_band"):
        raise RecordError("the payslip has no hours_band; the FPS requires HoursWorked (A to E)")
    code = slip["tax_code"]
    problem = tax_code_problem(code["code"], code.get("regime"))
    if problem:
        raise RecordError(f"tax_code: {problem}")
    attributes = {}
    if code.get("non_cumulative"):
        attributes["BasisNonCumulative"] = "yes"
    if code.get("regime"):
        attributes["TaxRegime"] = S.TAX_REGIMES.to_native(code["regime"])
    derived = _payment_figures(slip)
    figures, present = derived["figures"], derived["present"]
    where = "payslip"
    nodes = [leaf("PayFreq", S.PAY_FREQUENCIES.to_native(frequency)),
             leaf("PmtDate", S.date(str(slip["payment_date"]), "payment_date")),
             leaf(counter, str(period)),
             leaf("PeriodsCovered", str(S.number(str(slip.get("periods_covered", 1)), "periods_covered", 1, 56))),
             leaf("HoursWorked", S.HOURS_BANDS.to_native(slip["hours_band"])),
             Node("TaxCode", code["code"], attributes=attributes),
             amount("TaxablePay", slip["taxable_pay"], f"{where} taxable_pay (TaxablePay)")]
    given = {name: present[name] or f"Employment/Payment/{name}" in extensions for name in E.OPTIONAL_FIGURES}
    for name in ("NonTaxOrNICPmt", "DednsFromNetPay"):
        if given[name]:  # its lines, or a zero kept as given
            nodes.append(amount(name, figures[name], f"{where} lines giving {name}"))
    nodes.append(amount("PayAfterStatDedns", figures["PayAfterStatDedns"], f"{where} PayAfterStatDedns"))
    for name in ("EmpeePenContribnsPaid", "EmpeePenContribnsNotPaid"):
        if given[name]:
            nodes.append(amount(name, figures[name], f"{where} lines giving {name}"))
    for loan in slip.get("student_loans", []):
        if loan["plan"] == "PGL":
            nodes.append(amount("PostgradLoanRecovered", loan["amount"], "student_loans PGL", whole=True))
        else:
            node = amount("StudentLoanRecovered", loan["amount"], f"student_loans plan {loan['plan']}", whole=True)
            node.attributes["PlanType"] = S.PLAN_TYPES.to_native(loan["plan"])
            nodes.append(node)
    nodes.append(amount("TaxDeductedOrRefunded", slip["tax_deducted"], f"{where} tax_deducted"))
    return assemble("Employment/Payment", nodes, extensions, PAYMENT_MAPPED)


def _figures_to_date(slip: dict[str, Any], tax: dict[str, Any] | None, extensions: Mapping[str, Any]) -> list[Node]:
    """FiguresToDate; each summed figure to date is split into its FPS parts as kept, else by the lines.

    The parts kept when the payslip was read from an FPS split the sum again when they still add up to it;
    otherwise the payslip's lines tell the part (student loan plans, also the tax details', against the
    postgraduate loan; net pay arrangement pension against relief at source). Where they cannot tell, the
    payslip is rejected: a guessed split would report wrong figures to HMRC.
    """
    ytd = slip["year_to_date"]
    plans = {loan["plan"] for loan in slip.get("student_loans", [])} | set((tax or {}).get("student_loan_plans", []))
    present = _payment_figures(slip)["present"]
    lines = {"student_loan": (bool(plans - {"PGL"}), "PGL" in plans),
             "employee_pension": (present["EmpeePenContribnsPaid"], present["EmpeePenContribnsNotPaid"])}
    nodes = [amount("TaxablePay", ytd["taxable_pay"], "year_to_date.taxable_pay"),
             amount("TotalTax", ytd["tax_deducted"], "year_to_date.tax_deducted")]
    for field, first, second in E.SPLITS:
        total = Decimal(ytd.get(field, "0.00"))
        kept_parts = {name: Decimal(str(extensions[f"Employment/FiguresToDate/{name}"])) for name in (first, second)
                      if f"Employment/FiguresToDate/{name}" in extensions}
        split = (kept_parts if kept_parts and sum(kept_parts.values(), ZERO) == total
                 else E.split_to_date(total, first, second, *lines[field]))
        if split is None:
            raise RecordError(_unsplit(field, first, second, total))
        nodes += [amount(name, split[name], f"year_to_date.{field} ({name})", whole=name in E.WHOLE_POUNDS)
                  for name in (first, second) if name in split]
    return assemble("Employment/FiguresToDate", nodes, extensions, handled=(
        "StudentLoansTD", "PostgradLoansTD", "EmpeePenContribnsPaidYTD", "EmpeePenContribnsNotPaidYTD"))


def _unsplit(field: str, first: str, second: str, total: Decimal) -> str:
    what = ("student loan plans (its own and its tax details') and the postgraduate loan (PGL)"
            if field == "student_loan" else "net pay arrangement pension and relief at source (FPS-PEN-RAS)")
    return (f"year_to_date.{field} {total:f} cannot be split into the FPS's {first} and {second}: the payslip "
            f"names both or neither of {what}, and keeps no split that adds up to it (extensions {NAMESPACE} "
            f"Employment/FiguresToDate/{first} and {second}, as reading an FPS keeps them); give the split there")


def _ni(slip: dict[str, Any], extensions: Mapping[str, Any]) -> list[Node]:
    """One NIlettersAndValues per letter: the period's NICable pay and contributions, and the year to date.

    The FPS has no period buckets: the ones an ni entry states are not written (reading derives them again
    from the NICable pay and the thresholds). Its buckets and totals to date come from ``year_to_date``.
    """
    result = []
    for index, entry in enumerate(slip.get("ni", [])):
        letter = entry["letter"]
        where = f"ni letter {letter}"
        ytd = entry.get("year_to_date")
        if ytd is None:
            raise RecordError(f"ni/{index} (letter {letter}) has no year_to_date; an FPS reports each letter's "
                              f"earnings buckets and contributions for the year to date (AtLELYTD, LELtoPTYTD, "
                              f"PTtoUELYTD, GrossEarningsForNICsYTD, TotalEmpNICYTD, EmpeeContribnsYTD), so the "
                              f"payslip must give them")
        if entry.get("nicable_pay") is None:
            raise RecordError(f"ni/{index} (letter {letter}) has no nicable_pay; an FPS reports each letter's "
                              f"gross earnings for NICs in the period (GrossEarningsForNICsInPd)")
        employee_part = Decimal(entry["employee_contribution"])
        employee_ytd = Decimal(ytd["employee_contribution"])
        path = f"Employment/NIlettersAndValues[{letter}]"
        nodes = [leaf("NIletter", letter),
                 amount("GrossEarningsForNICsInPd", entry["nicable_pay"], f"{where} nicable_pay"),
                 amount("GrossEarningsForNICsYTD", ytd["nicable_pay"], f"{where} year_to_date.nicable_pay"),
                 *(amount(native, ytd[field], f"{where} year_to_date.{field}", signed=False)
                   for native, field in E.NI_BUCKETS.items()),
                 amount("TotalEmpNICInPd", employee_part + Decimal(entry["employer_contribution"]),
                        f"{where} employee and employer contributions"),
                 amount("TotalEmpNICYTD", employee_ytd + Decimal(ytd["employer_contribution"]),
                        f"{where} year-to-date employee and employer contributions"),
                 amount("EmpeeContribnsInPd", employee_part, f"{where} employee_contribution"),
                 amount("EmpeeContribnsYTD", employee_ytd, f"{where} year_to_date.employee_contribution")]
        result.append(Node("NIlettersAndValues", children=assemble(path, nodes, extensions,
                                                                     handled=S.ORDER["Employment/NIlettersAndValues"])))
    return result
