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
