"""Rules beyond the schema: edge cases the published examples do not show."""

import copy

import pytest

from plugshare.validation.problems import Location
from plugshare.validation.reader import Entry
from plugshare.validation.validator import MessageValidator, validate_entries
from tests.conftest import load_example

validator = MessageValidator()


def problems(message):
    return [(p.requirement, p.level) for p in validator.check(message)[1]]


def test_missing_reference_year_is_a_warning_not_an_error():
    message = load_example("payroll.tax-details.json")
    message["data"]["tax_year"] = "2031-32"
    message["data"]["effective_from"] = "2031-04-06"
    assert problems(message) == [("PS-PAY-008", "SHOULD")]


def test_fifty_fifty_section_pays_half_the_main_rate():
    message = load_example("payroll.pension-membership.json")
    data = message["data"]
    data["lgps_section"] = "fifty_fifty"
    assert ("PS-PAY-013", "MUST") in problems(message)
    from decimal import Decimal
    data["employee_rate_percent"] = str(Decimal(data["employee_rate_percent"]) / 2)
    assert problems(message) == []


def test_rules_do_not_run_on_a_message_that_fails_its_schema():
    message = load_example("payroll.payslip.json")
    message["data"]["net_pay"] = "1.00"
    message["data"]["payroll_id"] = ""
    assert [r for r, _ in problems(message)] == ["PS-SCH-001"]


def test_org_tree_cycles_are_found_per_council_only():
    unit = load_example("hr.org-unit.json")

    def org(council, unit_id, parent):
        m = copy.deepcopy(unit)
        m["council"] = council
        m["data"].update(id=unit_id, parent_id=parent)
        m["subject"] = unit_id
        return Entry(Location("s", 1), message=m)

    entries = [org("E07000991", "a", "b"), org("E07000992", "b", "a")]
    assert all(r.valid for r in validate_entries(entries))
    entries.append(org("E07000991", "b", "a"))
    late = [r for r in validate_entries(entries) if r.late]
    assert len(late) == 1 and late[0].problems[0].requirement == "PS-HR-006"


def test_long_sickness_without_fit_note_is_a_warning():
    message = load_example("hr.absence.json")
    message["data"].update(absence_type="sickness", start_date="2025-05-01", end_date="2025-05-10")
    message["data"].pop("fit_note", None)
    assert problems(message) == [("PS-HR-008", "SHOULD")]


def test_single_person_discount_of_25_is_accepted_and_30_is_not():
    message = load_example("revenues.council-tax-account.json")
    message["data"]["discounts"] = [{"discount_type": "single_person", "percent": "25",
                                     "period": {"start": "2025-04-01"}}]
    assert problems(message) == []
    message["data"]["discounts"][0]["percent"] = "30"
    assert problems(message) == [("PS-CT-003", "MUST")]


@pytest.mark.parametrize("empty_since, percent, allowed", [
    ("2024-06-01", "100", False),  # under a year empty at 1 April 2025: no premium yet
    ("2024-03-01", "100", True),   # a year: up to 100%
    ("2021-01-01", "200", False),  # four years: still 100% at most
    ("2020-03-01", "200", True),   # five years: up to 200%
    ("2015-03-01", "300", True),   # ten years: up to 300%
    ("2015-03-01", "301", False),
])
def test_long_term_empty_premium_tiers_by_years_empty(empty_since, percent, allowed):
    message = load_example("revenues.council-tax-account.json")
    message["data"]["premium"] = {"premium_type": "long_term_empty", "percent": percent,
                                  "period": {"start": "2025-04-01"}, "empty_since": empty_since}
    assert (problems(message) == []) is allowed


def test_a_newer_minor_version_is_a_warning():
    message = load_example("hr.person.json")
    message["schemaversion"] = "1.4.0"
    assert problems(message) == [("PS-ENV-011", "SHOULD")]
    message["schemaversion"] = "1.0.0"
    assert problems(message) == []


def test_cloudevents_extension_attributes_are_kept_when_well_named():
    message = load_example("hr.person.json")
    message["traceparent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    assert problems(message) == []
    message["Trace_Id"] = "x"
    assert problems(message) == [("PS-ENV-004", "MUST")]


def _business_rates_2026(rateable_value: int, kind: str, value: str):
    from decimal import ROUND_HALF_UP, Decimal
    message = load_example("revenues.business-rates-account.json")
    data = message["data"]
    gross = (Decimal(rateable_value) * Decimal(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    data.update(financial_year="2026-27", liability={"start": "2026-04-01", "end": "2027-03-31"},
                rateable_value=rateable_value, multiplier={"kind": kind, "value": value},
                gross_charge=f"{gross:.2f}", reliefs=[], net_charge=f"{gross:.2f}")
    return message


@pytest.mark.parametrize(("rateable_value", "kind", "value", "allowed"), [
    (600_000, "high_value", "0.508", True),
    (499_999, "high_value", "0.508", False),
    (499_999, "standard", "0.480", True),
    (40_000, "small_business_rhl", "0.382", True),
    (51_000, "small_business_rhl", "0.382", False),
    (60_000, "standard_rhl", "0.430", True),
    (60_000, "standard", "0.555", False),
])
def test_multipliers_of_2026_27_by_kind_and_threshold(rateable_value, kind, value, allowed):
    found = problems(_business_rates_2026(rateable_value, kind, value))
    assert (found == []) is allowed, found
    if not allowed:
        assert found == [("PS-NDR-003", "MUST")]


def test_rhl_multipliers_do_not_exist_before_2026_27():
    message = _business_rates_2026(60_000, "standard_rhl", "0.430")
    message["data"].update(financial_year="2025-26", liability={"start": "2025-04-01", "end": "2026-03-31"})
    assert ("PS-NDR-003", "MUST") in problems(message)


def test_spinal_column_point_2_is_gone_from_2026_27():
    from plugshare import refdata
    assert refdata.pay_spine("njc", "2025-26")["lowest"] == 2
    assert refdata.pay_spine("njc", "2026-27")["lowest"] == 3


@pytest.mark.parametrize(("year", "pay", "rate"), [
    ("2024-25", "17600.00", "5.5"), ("2024-25", "17600.01", "5.8"),
    ("2026-27", "18400.00", "5.5"), ("2026-27", "210700.01", "12.5"), ("2026-27", "210700.00", "11.4"),
])
def test_lgps_bands_of_neighbouring_years(year, pay, rate):
    from decimal import Decimal

    from plugshare import refdata
    assert refdata.lgps_rate(year, Decimal(pay)) == Decimal(rate)


# --- NI per letter: the period and the year to date --------------------------------------------------


def _payslip_with_two_letters():
    """The example payslip with its NI split across letters A and M (each with its year to date)."""
    message = load_example("payroll.payslip.json")
    first = message["data"]["ni"][0]
    second = copy.deepcopy(first)
    second.update(letter="M", nicable_pay="0.00", earnings_at_lel="0.00", earnings_lel_to_pt="0.00",
                  earnings_pt_to_uel="0.00", employee_contribution="0.00", employer_contribution="0.00")
    second["year_to_date"] = {"nicable_pay": "1000.00", "earnings_at_lel": "542.00", "earnings_lel_to_pt": "458.00",
                              "earnings_pt_to_uel": "0.00", "employee_contribution": "0.00",
                              "employer_contribution": "87.45"}
    message["data"]["ni"].append(second)
    ytd = message["data"]["year_to_date"]
    from decimal import Decimal
    ytd["employer_ni"] = f"{Decimal(ytd['employer_ni']) + Decimal('87.45'):.2f}"
    return message


def test_year_to_date_ni_sums_over_the_letters():
    message = _payslip_with_two_letters()
    assert problems(message) == []
    message["data"]["ni"][1]["year_to_date"]["employer_contribution"] = "87.46"
    assert problems(message) == [("PS-PAY-017", "MUST")]


def test_year_to_date_ni_is_not_checked_unless_every_letter_states_it():
    message = _payslip_with_two_letters()
    del message["data"]["ni"][1]["year_to_date"]
    assert problems(message) == []
    message["data"]["ni"] = []
    message["data"]["deductions"] = [d for d in message["data"]["deductions"] if d["category"] != "employee_ni"]
    assert "PS-PAY-017" not in [r for r, _ in problems(message)]


@pytest.mark.parametrize(("nicable_pay", "buckets", "allowed"), [
    ("4189.00", ("542.00", "506.00", "3141.00"), True),     # at the UEL: every pound in a bucket
    ("4188.99", ("542.00", "506.00", "3141.00"), False),
    ("500.00", ("0.00", "0.00", "0.00"), True),             # below the LEL: no bucket
    ("-25.00", ("0.00", "0.00", "0.00"), True),             # a negative correction fills no bucket
    ("-25.00", ("542.00", "0.00", "0.00"), False),
])
def test_period_buckets_do_not_exceed_nicable_pay(nicable_pay, buckets, allowed):
    message = load_example("payroll.payslip.json")
    entry = message["data"]["ni"][0]
    entry["nicable_pay"] = nicable_pay
    entry["earnings_at_lel"], entry["earnings_lel_to_pt"], entry["earnings_pt_to_uel"] = buckets
    must = [found for found in problems(message) if found[1] == "MUST"]
    assert (must == []) is allowed, must
    if not allowed:
        assert must == [("PS-PAY-018", "MUST")]


def test_period_buckets_without_nicable_pay_are_not_compared():
    message = load_example("payroll.payslip.json")
    del message["data"]["ni"][0]["nicable_pay"]
    message["data"]["ni"][0]["earnings_pt_to_uel"] = "9999.00"
    assert problems(message) == []


def test_year_to_date_buckets_below_the_period_are_a_warning():
    message = load_example("payroll.payslip.json")
    message["data"]["ni"][0]["year_to_date"]["earnings_pt_to_uel"] = "3000.00"
    assert problems(message) == [("PS-PAY-019", "SHOULD")]
    message["data"]["ni"][0]["year_to_date"]["nicable_pay"] = "4000.00"
    assert problems(message) == [("PS-PAY-019", "SHOULD"), ("PS-PAY-019", "SHOULD")]
