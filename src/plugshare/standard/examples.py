"""The published examples: valid messages, and one invalid message per MUST requirement.

Valid examples come from the synthetic shared service, plus the cases a UK
standard must be able to express (Welsh band I, Scottish band ratios and tax
codes, week 53 and four-weekly week 56, a deletion). Each invalid example is
a valid message with one named change, and its file name starts with the id of
the requirement it breaks. ``spec/examples/index.json`` lists them all.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import cache

from plugshare.calculations import business_rates_gross, council_tax_annual_charge, instalments
from plugshare.synthetic import generate

Message = dict
Mutation = Callable[[Message], "Message | list[Message] | str"]


@cache
def _stream() -> tuple[str, ...]:
    return tuple(json.dumps(m) for m in generate(seed=2026))


def base(message_type: str, where: Callable[[dict], bool] = lambda data: True) -> Message:
    """A fresh copy of the first synthetic message of a type whose data satisfies ``where``."""
    for text in _stream():
        message = json.loads(text)
        if message["type"] == f"uk.plugshare.{message_type}" and where(message["data"]):
            return message
    raise LookupError(f"no synthetic {message_type} message matches")


def _dump(value) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


# --- valid examples ---------------------------------------------------------------------

def _welsh_band_i_property() -> Message:
    message = base("revenues.property")
    message["council"] = "W06000999"
    message["source"] = "urn:plugshare:W06000999:revenues"
    message["data"].update(id="W06000999-prop00001", nation="wales",
                           council_tax={"valuation_list": "wales-2003", "band": "I"})
    message["subject"] = message["data"]["id"]
    message["data"]["address"].update(town="Aberhafren", postcode="SY23 1AA")
    return message


def _welsh_band_i_bill() -> Message:
    message = base("revenues.council-tax-bill", lambda d: d["discount_percent"] == "0" and not d["exempt"]
                   and d["premium_percent"] == "0" and d["reduction"] == "0.00" and len(d["instalments"]) == 10)
    data = message["data"]
    message["council"] = "W06000999"
    message["source"] = "urn:plugshare:W06000999:revenues"
    annual = council_tax_annual_charge(Decimal("1912.60"), Fraction(21, 9), Decimal(0), Decimal(0), False)
    data.update(id="W06000999-ctb00001-2025-26", account_id="W06000999-cta00001", valuation_list="wales-2003",
                band="I", band_d_charge="1912.60", annual_charge=f"{annual:.2f}", period_charge=f"{annual:.2f}",
                amount_payable=f"{annual:.2f}")
    for instalment, amount in zip(data["instalments"], instalments(annual, 10), strict=True):
        instalment["amount"] = f"{amount:.2f}"
    message["subject"] = data["id"]
    return message


def _scottish_band_h_property() -> Message:
    message = base("revenues.property")
    message["council"] = "S12000999"
    message["source"] = "urn:plugshare:S12000999:revenues"
    message["data"].update(id="S12000999-prop00001", nation="scotland",
                           council_tax={"valuation_list": "scotland-1991", "band": "H"})
    message["data"]["address"].update(town="Inverbrae", postcode="KW1 4AA")
    message["subject"] = message["data"]["id"]
    return message


def _weekly_week_53_scottish() -> Message:
    message = base("payroll.payslip")
    data = message["data"]
    run_id = data["pay_run_id"].rsplit("-", 1)[0] + "-W53"
    data.update(id=f"{run_id}-{data['payroll_id']}", pay_run_id=run_id, pay_frequency="W1", period_number=53,
                payment_date="2026-04-05", tax_code={"code": "D2", "regime": "S", "non_cumulative": True})
    message["subject"] = data["id"]
    return message


def _four_weekly_week_56() -> Message:
    message = base("payroll.pay-run")
    run_id = message["data"]["id"].rsplit("-", 1)[0] + "-W56"
    message["data"].update(id=run_id, pay_frequency="W4", period_number=56, period_start="2026-03-09",
                           period_end="2026-04-05", payment_date="2026-04-03")
    message["subject"] = run_id
    return message


def _welsh_tax_code() -> Message:
    message = base("payroll.tax-details")
    message["data"].update(id=message["data"]["id"] + "-c", tax_code={"code": "1257L", "regime": "C",
                                                                      "non_cumulative": True})
    message["subject"] = message["data"]["id"]
    return message


def _delete() -> Message:
    message = base("hr.person")
    message.update(action="delete", subject=message["data"]["id"])
    del message["data"]
    return message


def _org_tree() -> str:
    units = [json.loads(t) for t in _stream() if json.loads(t)["type"] == "uk.plugshare.hr.org-unit"]
    council = units[0]["council"]
    return "".join(json.dumps(u, ensure_ascii=False) + "\n" for u in units if u["council"] == council)


def _renamed(name: str, message: Message) -> str:
    """A derived example is a message of its own: it gets its own id, derived from its file name."""
    message["id"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"plugshare-example:{name}"))
    return _dump(message)


def valid_examples() -> dict[str, str]:
    from plugshare.models import MESSAGE_TYPES

    files = {f"{t}.json": _dump(base(t)) for t in sorted(MESSAGE_TYPES)}
    derived = {
        "revenues.property--wales-band-i.json": _welsh_band_i_property,
        "revenues.council-tax-bill--wales-band-i.json": _welsh_band_i_bill,
        "revenues.property--scotland-band-h.json": _scottish_band_h_property,
        "payroll.payslip--weekly-week-53-scottish-d2.json": _weekly_week_53_scottish,
        "payroll.pay-run--four-weekly-week-56.json": _four_weekly_week_56,
        "payroll.tax-details--welsh-non-cumulative.json": _welsh_tax_code,
        "hr.person--delete.json": _delete,
    }
    files.update({name: _renamed(name, make()) for name, make in derived.items()})
    files["hr.org-unit--tree.ndjson"] = _org_tree()
    return files


# --- invalid examples ---------------------------------------------------------------------

@dataclass(frozen=True)
class Breach:
    requirement: str
    slug: str
    message_type: str
    change: str
    mutate: Mutation
    where: Callable[[dict], bool] = lambda data: True
    suffix: str = "json"

    @property
    def file_name(self) -> str:
        return f"{self.requirement}--{self.slug}.{self.suffix}"

    def render(self) -> str:
        result = self.mutate(base(self.message_type, self.where))
        if isinstance(result, str):
            return result
        if isinstance(result, list):
            return "".join(json.dumps(m, ensure_ascii=False) + "\n" for m in result)
        return _dump(result)


def _parent(message: Message, path: str):
    """The container holding the last part of a dotted path, and that part's key."""
    parts = path.split(".")
    node = message
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node, int(parts[-1]) if isinstance(node, list) else parts[-1]


def _set(path: str, value) -> Mutation:
    """A mutation that sets one field, given as a dotted path (list indexes as numbers)."""
    def mutate(message: Message) -> Message:
        node, key = _parent(message, path)
        node[key] = value
        return message
    return mutate


def _drop(path: str) -> Mutation:
    def mutate(message: Message) -> Message:
        node, key = _parent(message, path)
        del node[key]
        return message
    return mutate


def _chain(*mutations: Mutation) -> Mutation:
    def mutate(message: Message) -> Message:
        for mutation in mutations:
            message = mutation(message)
        return message
    return mutate


def _money(value: str, delta: str) -> str:
    return f"{Decimal(value) + Decimal(delta):.2f}"


def _shift(path: str, delta: str) -> Mutation:
    """A mutation that adds ``delta`` pounds to an amount."""
    def mutate(message: Message) -> Message:
        node, key = _parent(message, path)
        node[key] = _money(node[key], delta)
        return message
    return mutate


def _oversized(message: Message) -> str:
    message["data"]["extensions"] = {"com.example-vendor": {"blob": "x" * (1024 * 1024)}}
    return json.dumps(message) + "\n"


def _cycle(message: Message) -> list[Message]:
    first, second = message, copy.deepcopy(message)
    first["data"].update(id="ou-a", parent_id="ou-b", name="Unit A")
    second["data"].update(id="ou-b", parent_id="ou-a", name="Unit B")
    second["id"] = first["id"] + "-2"
    first["subject"], second["subject"] = "ou-a", "ou-b"
    return [first, second]


def _swap_instalment_dates(message: Message) -> Message:
    instalments = message["data"]["instalments"]
    instalments[1]["due_date"], instalments[2]["due_date"] = instalments[2]["due_date"], instalments[1]["due_date"]
    return message


def _small_business_multiplier_above_threshold(message: Message) -> Message:
    data = message["data"]
    gross = business_rates_gross(data["rateable_value"], Decimal("0.499"))
    data["multiplier"] = {"kind": "small_business", "value": "0.499"}
    data["gross_charge"] = data["net_charge"] = f"{gross:.2f}"
    return message


def _union_line(message: Message) -> Message:
    message["data"]["deductions"].append({"category": "union", "code": "UNION", "amount": "12.50"})
    return message


def _run_with_payslips(message: Message) -> list[Message]:
    """The pay run with every payslip of it, its gross total one pound high."""
    run_id = message["data"]["id"]
    slips = [m for m in map(json.loads, _stream())
             if m["type"] == "uk.plugshare.payroll.payslip" and m["data"]["pay_run_id"] == run_id]
    message["data"]["totals"]["gross_pay"] = _money(message["data"]["totals"]["gross_pay"], "1.00")
    return [message, *slips]


def _nicable_pay_below_buckets(message: Message) -> Message:
    entry = message["data"]["ni"][0]
    buckets = sum(Decimal(entry[name]) for name in ("earnings_at_lel", "earnings_lel_to_pt", "earnings_pt_to_uel"))
    entry["nicable_pay"] = _money(str(buckets), "-1.00")
    return message


def _no_reliefs(data: dict) -> bool:
    return not data["reliefs"]


def _has_sbrr_taper(data: dict) -> bool:
    return any(r["relief_type"] == "small_business" and r["percent"] != "100" for r in data["reliefs"])


BREACHES: tuple[Breach, ...] = (
    Breach("PS-ENV-001", "not-json", "hr.person", "a line that is not JSON", lambda m: "{name: 'not json'}\n",
           suffix="ndjson"),
    Breach("PS-ENV-002", "over-1-mib", "hr.person", "extensions padded past 1 MiB", _oversized, suffix="ndjson"),
    Breach("PS-ENV-003", "unknown-type", "hr.person", "type uk.plugshare.hr.employee",
           _set("type", "uk.plugshare.hr.employee")),
    Breach("PS-ENV-004", "no-source", "hr.person", "source attribute removed", _drop("source")),
    Breach("PS-ENV-005", "major-version-2", "hr.person", "schemaversion 2.0.0", _set("schemaversion", "2.0.0")),
    Breach("PS-ENV-006", "upsert-without-data", "hr.person", "data removed from an upsert", _drop("data")),
    Breach("PS-ENV-007", "delete-without-subject", "hr.person", "a delete with neither subject nor data",
           _chain(_set("action", "delete"), _drop("subject"), _drop("data"))),
    Breach("PS-ENV-008", "subject-names-other-record", "hr.person", "subject names another record",
           _set("subject", "E07000991-p99999")),
    Breach("PS-ENV-009", "ward-code-not-council", "hr.person", "council is a ward's GSS code",
           _set("council", "E05000001")),
    Breach("PS-ENV-010", "time-without-offset", "hr.person", "time without a UTC offset",
           _set("time", "2025-09-30T17:00:00")),
    Breach("PS-SCH-001", "person-without-name", "hr.person", "the required name removed", _drop("data.name")),
    Breach("PS-COM-001", "money-as-json-number", "payroll.payslip", "gross_pay as a JSON number",
           lambda m: _set("data.gross_pay", float(m["data"]["gross_pay"]))(m)),
    Breach("PS-COM-002", "uk-date-format", "hr.employment", "start_date written 01/04/2020",
           _set("data.start_date", "01/04/2020")),
    Breach("PS-COM-003", "record-id-with-space", "hr.position", "record id with a space",
           _set("data.id", "pos 1")),
    Breach("PS-COM-004", "extension-without-namespace", "hr.employment", "extensions keyed 'local'",
           _set("data.extensions", {"local": {"department": "X1"}})),
    Breach("PS-COM-006", "absence-ends-before-start", "hr.absence", "end_date the day before start_date",
           lambda m: _set("data.end_date", "2025-04-01")(_set("data.start_date", "2025-04-02")(m)),
           where=lambda d: "fit_note" not in d),
    Breach("PS-COM-007", "tax-year-not-consecutive", "payroll.tax-details", "tax_year 2025-27",
           _set("data.tax_year", "2025-27")),
    Breach("PS-COM-008", "rate-as-json-number", "payroll.pension-membership", "employer rate as a JSON number",
           _set("data.employer_rate_percent", 18.5)),
    Breach("PS-COM-009", "party-person-and-organisation", "revenues.council-tax-account",
           "a liable party with both a name and an organisation name",
           _set("data.liable_parties.0.party.organisation_name", "Example Lettings Ltd")),
    Breach("PS-ID-001", "ni-number-q-prefix", "hr.person", "NI number with Q as first letter",
           _set("data.ni_number", "QQ123456C")),
    Breach("PS-ID-002", "ni-number-never-issued", "hr.person", "NI number with the never-issued prefix GB",
           _set("data.ni_number", "GB123456A")),
    Breach("PS-ID-003", "postcode-without-space", "hr.person", "postcode without its space",
           _set("data.address.postcode", "SW1A2AA")),
    Breach("PS-ID-004", "uprn-zero", "revenues.property", "UPRN 0", _set("data.address.uprn", 0)),
    Breach("PS-ID-005", "usrn-nine-digits", "revenues.property", "a nine-digit USRN",
           _set("data.address.usrn", 123456789)),
    Breach("PS-ID-006", "paye-reference-without-slash", "payroll.pay-run", "PAYE reference without its slash",
           _set("data.employer_paye_reference", "991FM00123")),
    Breach("PS-ID-007", "accounts-office-reference-short", "payroll.pay-run",
           "Accounts Office reference one digit short", _set("data.accounts_office_reference", "991PA0001234")),
    Breach("PS-ID-008", "sort-code-with-dashes", "payroll.bank-account", "sort code written 08-12-34",
           _set("data.sort_code", "08-12-34")),
    Breach("PS-ID-009", "tax-code-without-suffix", "payroll.tax-details", "tax code 1257 without its letter",
           _set("data.tax_code", {"code": "1257"})),
    Breach("PS-ID-010", "d3-outside-scotland", "payroll.tax-details", "tax code D3 with no regime",
           _set("data.tax_code", {"code": "D3"})),
    Breach("PS-HR-001", "continuous-service-after-start", "hr.employment",
           "continuous service date after the start date",
           lambda m: _set("data.continuous_service_date", "2025-09-01")(m)),
    Breach("PS-HR-002", "terminated-without-end", "hr.employment", "status terminated with no end date or reason",
           _set("data.status", "terminated")),
    Breach("PS-HR-003", "assignment-before-employment", "hr.employment", "assignment starts before the employment",
           _set("data.assignments.0.start_date", "2000-01-01")),
    Breach("PS-HR-005", "org-unit-own-parent", "hr.org-unit", "parent_id names the unit itself",
           lambda m: _set("data.parent_id", m["data"]["id"])(m)),
    Breach("PS-HR-006", "org-unit-cycle", "hr.org-unit", "two units each the parent of the other", _cycle,
           suffix="ndjson"),
    Breach("PS-HR-007", "fit-note-on-annual-leave", "hr.absence", "a fit note on annual leave",
           lambda m: _set("data.fit_note", {"issued_date": m["data"]["start_date"], "covers": {
               "start": m["data"]["start_date"], "end": m["data"]["end_date"]}})(m),
           where=lambda d: d["absence_type"] == "annual_leave"),
    Breach("PS-HR-009", "birth-date-in-future", "hr.person", "birth date after the message time",
           _set("data.birth_date", "2030-01-01")),
    Breach("PS-PAY-001", "earnings-do-not-sum", "payroll.payslip", "basic pay line 10.00 higher",
           _shift("data.earnings.0.amount", "10.00")),
    Breach("PS-PAY-002", "deductions-do-not-sum", "payroll.payslip", "a union deduction not in the total",
           _union_line),
    Breach("PS-PAY-003", "net-pay-off-by-a-penny", "payroll.payslip", "net pay one penny high",
           _shift("data.net_pay", "0.01")),
    Breach("PS-PAY-004", "tax-deducted-differs", "payroll.payslip", "tax_deducted 1.00 above the PAYE line",
           _shift("data.tax_deducted", "1.00")),
    Breach("PS-PAY-005", "ni-contribution-differs", "payroll.payslip", "employee NI 1.00 above the NIC line",
           _shift("data.ni.0.employee_contribution", "1.00")),
    Breach("PS-PAY-006", "student-loan-without-line", "payroll.payslip", "a plan 01 loan with no deduction line",
           lambda m: _set("data.student_loans", [*m["data"]["student_loans"], {"plan": "01", "amount": "10.00"}])(m)),
    Breach("PS-PAY-007", "pension-contribution-differs", "payroll.payslip",
           "employee pension 1.00 above the pension line", _shift("data.pensions.0.employee_contribution", "1.00")),
    Breach("PS-PAY-008", "ni-letter-not-in-use", "payroll.tax-details", "NI letter G, not in use in 2025-26",
           _set("data.ni_letter", "G")),
    Breach("PS-PAY-009", "month-13", "payroll.pay-run", "monthly period 13", _set("data.period_number", 13)),
    Breach("PS-PAY-010", "paid-after-tax-year", "payroll.payslip", "paid on 6 April of the next tax year",
           _set("data.payment_date", "2026-04-06")),
    Breach("PS-PAY-012", "lgps-without-section", "payroll.pension-membership", "LGPS membership with no section",
           _drop("data.lgps_section")),
    Breach("PS-PAY-013", "lgps-rate-wrong-band", "payroll.pension-membership", "employee rate of 5.0%",
           _set("data.employee_rate_percent", "5.0")),
    Breach("PS-PAY-016", "run-total-not-sum-of-payslips", "payroll.pay-run",
           "gross total one pound above the sum of its payslips", _run_with_payslips, suffix="ndjson"),
    Breach("PS-PAY-017", "ni-year-to-date-differs", "payroll.payslip",
           "letter A's year-to-date employee contributions 1.00 above the payslip's year-to-date employee NI",
           _shift("data.ni.0.year_to_date.employee_contribution", "1.00")),
    Breach("PS-PAY-018", "ni-buckets-above-nicable-pay", "payroll.payslip",
           "the period's NICable pay under letter A 1.00 below its earnings buckets",
           _nicable_pay_below_buckets),
    Breach("PS-CT-001", "band-i-in-england", "revenues.council-tax-bill", "band I on the england-1991 list",
           _set("data.band", "I")),
    Breach("PS-CT-002", "welsh-property-on-english-list", "revenues.property",
           "a property in Wales banded on the england-1991 list", _set("data.nation", "wales")),
    Breach("PS-CT-003", "single-person-discount-30", "revenues.council-tax-account", "single person discount of 30%",
           _set("data.discounts.0.percent", "30"), where=lambda d: bool(d["discounts"])),
    Breach("PS-CT-004", "second-home-premium-150", "revenues.council-tax-account",
           "a second homes premium of 150%",
           _set("data.premium", {"premium_type": "second_home", "percent": "150", "period": {"start": "2025-04-01"}}),
           where=lambda d: "premium" not in d and "exemption" not in d),
    Breach("PS-CT-005", "band-d-charge-changed", "revenues.council-tax-bill", "Band D charge 1.00 higher",
           _shift("data.band_d_charge", "1.00")),
    Breach("PS-CT-006", "period-shortened", "revenues.council-tax-bill",
           "period ends in January with the full-year charge", _set("data.period.end", "2026-01-31")),
    Breach("PS-CT-007", "reduction-not-deducted", "revenues.council-tax-bill", "a reduction not taken off",
           _shift("data.reduction", "10.00"), where=lambda d: d["reduction"] == "0.00" and not d["exempt"]),
    Breach("PS-CT-008", "instalments-short", "revenues.council-tax-bill", "last instalment one penny short",
           _shift("data.instalments.-1.amount", "-0.01"),
           where=lambda d: len(d["instalments"]) >= 3 and not d["exempt"]),
    Breach("PS-CT-009", "instalments-out-of-order", "revenues.council-tax-bill",
           "second and third instalment dates swapped", _swap_instalment_dates,
           where=lambda d: len(d["instalments"]) >= 3),
    Breach("PS-REV-001", "reversal-without-payment", "revenues.payment", "a reversal naming no payment",
           _set("data.payment_type", "reversal")),
    Breach("PS-NDR-001", "gross-charge-wrong", "revenues.business-rates-account", "gross and net 1.00 high",
           _chain(_shift("data.gross_charge", "1.00"), _shift("data.net_charge", "1.00")), where=_no_reliefs),
    Breach("PS-NDR-002", "net-charge-wrong", "revenues.business-rates-account", "net charge 1.00 high",
           _shift("data.net_charge", "1.00")),
    Breach("PS-NDR-003", "small-business-multiplier-above-threshold", "revenues.business-rates-account",
           "small business multiplier at a rateable value of 51,000 or more",
           _small_business_multiplier_above_threshold, where=lambda d: d["rateable_value"] >= 51000),
    Breach("PS-NDR-004", "small-business-relief-wrong", "revenues.business-rates-account",
           "small business relief 1.00 low on the taper",
           _chain(_shift("data.reliefs.0.amount", "-1.00"), _shift("data.net_charge", "1.00")),
           where=_has_sbrr_taper),
)


def invalid_examples() -> dict[str, str]:
    return {breach.file_name: breach.render() for breach in BREACHES}


def index() -> str:
    entries = [{"file": f"valid/{name}", "valid": True} for name in valid_examples()]
    entries += [{"file": f"invalid/{b.file_name}", "valid": False, "requirement": b.requirement,
                 "message_type": b.message_type, "change": b.change} for b in BREACHES]
    return _dump({"examples": entries})


def artefacts() -> dict[str, str]:
    files = {f"examples/valid/{name}": text for name, text in valid_examples().items()}
    files.update({f"examples/invalid/{name}": text for name, text in invalid_examples().items()})
    files["examples/index.json"] = index()
    return files
