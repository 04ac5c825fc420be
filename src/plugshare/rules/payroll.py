"""Payroll rules: payslip arithmetic to the penny, RTI periods, tax codes, NI letters, pensions."""

from __future__ import annotations

from decimal import Decimal

from plugshare import identifiers, refdata
from plugshare.calculations import MAX_PERIOD, tax_year_bounds
from plugshare.rules.base import StreamRule, Violation, rule, stream_rule
from plugshare.rules.common import as_date

BACS_NAME_CHARACTERS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.&/- ")


def money(value: str) -> Decimal:
    return Decimal(value)


def total(items, key: str = "amount", where=lambda item: True) -> Decimal:
    return sum((money(item[key]) for item in items if where(item)), Decimal("0.00"))


def _balance(pointer: str, stated: str, expected: Decimal, what: str):
    if money(stated) != expected:
        yield Violation(pointer, f"{stated} does not equal {what} ({expected:.2f})")


@rule("PS-PAY-001", "gross-pay-sums-earnings", "MUST",
      "A payslip's gross_pay MUST equal the sum of its earnings, to the penny.", "payroll.payslip")
def gross_sums(message):
    data = message["data"]
    yield from _balance("/data/gross_pay", data["gross_pay"], total(data["earnings"]), "the sum of the earnings")


@rule("PS-PAY-002", "total-deductions-sums-deductions", "MUST",
      "A payslip's total_deductions MUST equal the sum of its deductions, to the penny.", "payroll.payslip")
def deductions_sum(message):
    data = message["data"]
    yield from _balance("/data/total_deductions", data["total_deductions"], total(data["deductions"]),
                        "the sum of the deductions")


@rule("PS-PAY-003", "net-pay-balances", "MUST",
      "A payslip's net_pay MUST equal gross_pay minus total_deductions, to the penny.", "payroll.payslip")
def net_pay(message):
    data = message["data"]
    expected = money(data["gross_pay"]) - money(data["total_deductions"])
    yield from _balance("/data/net_pay", data["net_pay"], expected, "gross pay minus total deductions")


def _category(name: str):
    return lambda item: item["category"] == name


@rule("PS-PAY-004", "tax-deduction-matches", "MUST",
      "The income_tax deductions of a payslip MUST sum to its tax_deducted.", "payroll.payslip")
def tax_matches(message):
    data = message["data"]
    yield from _balance("/data/tax_deducted", data["tax_deducted"],
                        total(data["deductions"], where=_category("income_tax")), "the income_tax deductions")


@rule("PS-PAY-005", "ni-deduction-matches", "MUST",
      "The employee_ni deductions of a payslip MUST sum to the employee contributions of its ni entries.",
      "payroll.payslip")
def ni_matches(message):
    data = message["data"]
    lines = total(data["deductions"], where=_category("employee_ni"))
    contributions = total(data.get("ni", []), key="employee_contribution")
    if lines != contributions:
        yield Violation("/data/ni", f"employee NI contributions {contributions:.2f} differ from the employee_ni "
                                    f"deductions {lines:.2f}")


@rule("PS-PAY-006", "student-loan-deduction-matches", "MUST",
      "The student_loan deductions of a payslip MUST sum to its plan 01, 02 and 04 student_loans, and its "
      "postgraduate_loan deductions to its PGL student_loans.", "payroll.payslip")
def student_loans_match(message):
    data = message["data"]
    loans = data.get("student_loans", [])
    pairs = (("student_loan", lambda loan: loan["plan"] != "PGL"),
             ("postgraduate_loan", lambda loan: loan["plan"] == "PGL"))
    for category, chosen in pairs:
        lines = total(data["deductions"], where=_category(category))
        stated = total(loans, where=chosen)
        if lines != stated:
            yield Violation("/data/student_loans", f"{category} deductions {lines:.2f} differ from the loans "
                                                   f"stated ({stated:.2f})")


@rule("PS-PAY-007", "pension-deduction-matches", "MUST",
      "The pension deductions of a payslip MUST sum to the employee contributions of its pensions.",
      "payroll.payslip")
def pension_matches(message):
    data = message["data"]
    lines = total(data["deductions"], where=_category("pension"))
    stated = total(data.get("pensions", []), key="employee_contribution")
    if lines != stated:
        yield Violation("/data/pensions", f"employee pension contributions {stated:.2f} differ from the pension "
                                          f"deductions {lines:.2f}")


def _letter_in_year(letter: str, tax_year: str, pointer: str):
    letters = refdata.ni_letters(tax_year)
    if letters is None:
        yield Violation(pointer, f"no NI category letters for {tax_year} in the reference data; "
                                 f"letter {letter} not checked", level="SHOULD")
    elif letter not in letters:
        yield Violation(pointer, f"NI category letter {letter} is not in use in {tax_year} "
                                 f"(valid: {' '.join(sorted(letters))})")


@rule("PS-PAY-008", "ni-letter-in-year", "MUST",
      "An NI category letter MUST be one in use in the tax year concerned.",
      "payroll.payslip", "payroll.tax-details")
def ni_letter(message):
    data = message["data"]
    if "ni_letter" in data:
        yield from _letter_in_year(data["ni_letter"], data["tax_year"], "/data/ni_letter")
    for index, entry in enumerate(data.get("ni", [])):
        yield from _letter_in_year(entry["letter"], data["tax_year"], f"/data/ni/{index}/letter")


@rule("PS-PAY-009", "period-within-frequency", "MUST",
      "A period_number MUST NOT exceed the periods its pay frequency has in a tax year: week 53 weekly, "
      "week 54 fortnightly, week 56 four-weekly, month 12 for monthly, quarterly, half-yearly and annual.",
      "payroll.payslip", "payroll.pay-run")
def period_within_frequency(message):
    data = message["data"]
    limit = MAX_PERIOD[data["pay_frequency"]]
    if data["period_number"] > limit:
        yield Violation("/data/period_number", f"period {data['period_number']} does not exist for pay "
                                               f"frequency {data['pay_frequency']} (at most {limit})")


@rule("PS-PAY-010", "payment-in-tax-year", "MUST",
      "A payment_date MUST fall within the tax year stated (6 April to 5 April).",
      "payroll.payslip", "payroll.pay-run")
def payment_in_tax_year(message):
    data = message["data"]
    first, last = tax_year_bounds(data["tax_year"])
    if not first <= as_date(data["payment_date"]) <= last:
        yield Violation("/data/payment_date", f"{data['payment_date']} is outside tax year {data['tax_year']} "
                                              f"({first} to {last})")


@rule("PS-ID-010", "tax-code-regime", "MUST",
      "A tax code MUST exist under its regime: D2 and D3 only with the Scottish regime (S), and NT with "
      "no regime.", "payroll.payslip", "payroll.tax-details")
def tax_code_regime(message):
    tax_code = message["data"]["tax_code"]
    problem = identifiers.tax_code_problem(tax_code["code"], tax_code.get("regime"))
    if problem:
        yield Violation("/data/tax_code", problem)


@rule("PS-PAY-011", "year-to-date-covers-period", "SHOULD",
      "Year-to-date gross pay and tax SHOULD NOT be less than this period's (they only fall through "
      "corrections).", "payroll.payslip")
def ytd_covers_period(message):
    data = message["data"]
    ytd = data["year_to_date"]
    for period_field, ytd_field in (("gross_pay", "gross_pay"), ("tax_deducted", "tax_deducted")):
        if money(data[period_field]) > 0 and money(ytd[ytd_field]) < money(data[period_field]):
            yield Violation(f"/data/year_to_date/{ytd_field}",
                            f"year to date {ytd[ytd_field]} is less than this period's {data[period_field]}")


@rule("PS-PAY-012", "lgps-section", "MUST",
      "An LGPS membership MUST state its section (main or fifty_fifty); other schemes MUST NOT.",
      "payroll.pension-membership")
def lgps_section(message):
    data = message["data"]
    if data["scheme"] == "lgps" and "lgps_section" not in data:
        yield Violation("/data/lgps_section", "an LGPS membership needs its section")
    if data["scheme"] != "lgps" and "lgps_section" in data:
        yield Violation("/data/lgps_section", f"a {data['scheme']} membership has no LGPS section")


@rule("PS-PAY-013", "lgps-employee-rate", "MUST",
      "An LGPS (England and Wales) member's employee rate MUST be the rate of the band that the annual "
      "pensionable pay falls in for rates_year (half of it in the 50/50 section).", "payroll.pension-membership")
def lgps_rate(message):
    data = message["data"]
    if data["scheme"] != "lgps" or "annual_pensionable_pay" not in data or "lgps_section" not in data:
        return
    year = data["rates_year"]
    rate = refdata.lgps_rate(year, money(data["annual_pensionable_pay"]))
    if rate is None:
        yield Violation("/data/employee_rate_percent", f"no LGPS bands for {year} in the reference data; "
                                                       "rate not checked", level="SHOULD")
        return
    if data["lgps_section"] == "fifty_fifty":
        rate = rate / 2
    if Decimal(data["employee_rate_percent"]) != rate:
        yield Violation("/data/employee_rate_percent",
                        f"{data['employee_rate_percent']}% is not the {data['lgps_section']} section rate for "
                        f"pensionable pay of {data['annual_pensionable_pay']} in {year} ({rate}%)")


@rule("PS-PAY-014", "auto-enrolment-minimum", "SHOULD",
      "An auto-enrolment scheme membership that is not opted out SHOULD meet the minimum contributions "
      "(employer at least 3%, 8% in total).", "payroll.pension-membership")
def auto_enrolment_minimum(message):
    data = message["data"]
    if data["scheme"] != "auto_enrolment" or data["opted_out"]:
        return
    year = data["rates_year"]
    minimums = refdata.auto_enrolment(year)
    if minimums is None:
        return
    employer = Decimal(data["employer_rate_percent"])
    employee = Decimal(data["employee_rate_percent"])
    if employer < Decimal(minimums["minimum_employer_percent"]):
        yield Violation("/data/employer_rate_percent",
                        f"employer {employer}% is below the minimum {minimums['minimum_employer_percent']}%")
    if employer + employee < Decimal(minimums["minimum_total_percent"]):
        yield Violation("/data/employee_rate_percent",
                        f"total {employer + employee}% is below the minimum {minimums['minimum_total_percent']}%")


@rule("PS-PAY-015", "bacs-account-name", "SHOULD",
      "A bank account_name SHOULD use only characters BACS carries (letters, digits, . & / - and space), "
      "so that payment files need no silent substitution.", "payroll.bank-account")
def bacs_account_name(message):
    name = message["data"]["account_name"]
    bad = sorted(set(name.upper()) - BACS_NAME_CHARACTERS)
    if bad:
        yield Violation("/data/account_name", f"characters BACS cannot carry: {' '.join(repr(c) for c in bad)}")


BUCKETS = ("earnings_at_lel", "earnings_lel_to_pt", "earnings_pt_to_uel")


@rule("PS-PAY-017", "ni-year-to-date-matches", "MUST",
      "When a payslip has ni entries and every one of them states year_to_date, their year-to-date employee "
      "contributions MUST sum to the payslip's year_to_date employee_ni and their year-to-date employer "
      "contributions to its year_to_date employer_ni.", "payroll.payslip")
def ni_year_to_date_matches(message):
    data = message["data"]
    entries = data.get("ni", [])
    if not entries or not all("year_to_date" in entry for entry in entries):
        return
    years = [entry["year_to_date"] for entry in entries]
    for field, total_field in (("employee_contribution", "employee_ni"), ("employer_contribution", "employer_ni")):
        stated = data["year_to_date"][total_field]
        summed = total(years, key=field)
        if money(stated) != summed:
            yield Violation(f"/data/year_to_date/{total_field}",
                            f"{stated} does not equal the sum of the ni entries' year-to-date {field}s "
                            f"({summed:.2f})")


@rule("PS-PAY-018", "ni-buckets-within-nicable-pay", "MUST",
      "When an ni entry states nicable_pay, its period earnings buckets (earnings_at_lel, earnings_lel_to_pt, "
      "earnings_pt_to_uel) MUST NOT add up to more than nicable_pay, nor to more than 0.00 when it is "
      "negative.", "payroll.payslip")
def ni_buckets_within_nicable_pay(message):
    for index, entry in enumerate(message["data"].get("ni", [])):
        if "nicable_pay" not in entry:
            continue
        buckets = sum((money(entry[field]) for field in BUCKETS), Decimal("0.00"))
        limit = max(money(entry["nicable_pay"]), Decimal("0.00"))
        if buckets > limit:
            yield Violation(f"/data/ni/{index}/nicable_pay", f"the period's earnings buckets add up to {buckets:.2f}, "
                                                             f"more than its NICable pay of {entry['nicable_pay']}")


@rule("PS-PAY-019", "ni-year-to-date-covers-period", "SHOULD",
      "An ni entry's year-to-date NICable pay and earnings buckets SHOULD NOT be less than this period's (they "
      "only fall through corrections).", "payroll.payslip")
def ni_year_to_date_covers_period(message):
    for index, entry in enumerate(message["data"].get("ni", [])):
        ytd = entry.get("year_to_date")
        if ytd is None:
            continue
        for field in ("nicable_pay", *BUCKETS):
            if field in entry and money(entry[field]) > 0 and money(ytd[field]) < money(entry[field]):
                yield Violation(f"/data/ni/{index}/year_to_date/{field}",
                                f"year to date {ytd[field]} is less than this period's {entry[field]}")


@stream_rule
class PayRunTotalsMatchPayslips(StreamRule):
    """Checked when a stream holds a pay run and all the payslips it declares; memory per pay run only."""

    id = "PS-PAY-016"
    name = "pay-run-totals"
    level = "MUST"
    text = ("A pay run's payslips MUST share its tax year, pay frequency and period number; when a stream holds "
            "a pay run and all payslip_count of its payslips, its totals MUST equal the sums of theirs, and a "
            "stream MUST NOT hold more payslips for a pay run than its payslip_count.")
    message_types = ("payroll.pay-run", "payroll.payslip")

    TOTALS = ("gross_pay", "net_pay", "tax_deducted", "employee_ni", "employer_ni")

    def __init__(self) -> None:
        self.runs: dict[tuple[str, str], tuple[object, dict]] = {}
        self.slips: dict[tuple[str, str], dict] = {}

    def observe(self, message_type, message, where):
        data = message.get("data")
        if not data or message_type not in self.message_types:
            return
        if message_type == "payroll.pay-run":
            self.runs[(message["council"], data["id"])] = (where, data)
            return
        key = (message["council"], data["pay_run_id"])
        seen = self.slips.setdefault(key, {"count": 0, "shape": set(), **{t: Decimal("0.00") for t in self.TOTALS}})
        seen["count"] += 1
        seen["shape"].add((data["tax_year"], data["pay_frequency"], data["period_number"]))
        seen["gross_pay"] += money(data["gross_pay"])
        seen["net_pay"] += money(data["net_pay"])
        seen["tax_deducted"] += money(data["tax_deducted"])
        seen["employee_ni"] += total(data["ni"], key="employee_contribution")
        seen["employer_ni"] += total(data["ni"], key="employer_contribution")

    def finish(self):
        for key, (where, run) in self.runs.items():
            seen = self.slips.get(key)
            if seen is None:
                continue
            shapes = seen["shape"] - {(run["tax_year"], run["pay_frequency"], run["period_number"])}
            if shapes:
                yield where, Violation("/data/period_number", f"payslips of this run are for "
                                       f"{', '.join(f'{y} {f} period {p}' for y, f, p in sorted(shapes))}")
            if seen["count"] > run["payslip_count"]:
                yield where, Violation("/data/payslip_count", f"the stream holds {seen['count']} payslips for a "
                                                              f"run of {run['payslip_count']}")
            elif seen["count"] == run["payslip_count"]:
                for name in self.TOTALS:
                    if money(run["totals"][name]) != seen[name]:
                        yield where, Violation(f"/data/totals/{name}", f"{run['totals'][name]} is not the sum of the "
                                                                       f"payslips ({seen[name]:.2f})")
