"""The mapping toolkit: field maps, code lists, vendor dates and money, and the loss rule."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plugshare.adapters.contract import RecordError
from plugshare.adapters.mapping import (
    CodeList,
    FieldMap,
    RecordMap,
    code,
    format_date,
    format_money,
    get_path,
    parse_bool,
    parse_date,
    parse_money,
    set_path,
)

ABSENCE = CodeList("absence reason", {"SICK": "sickness", "ANNL": "annual_leave", "AL": "annual_leave"})


@pytest.mark.parametrize("text", ["2025-04-06", "06/04/2025", "06-04-2025", "06.04.2025", "06-Apr-2025",
                                  "6 Apr 2025", "20250406"])
def test_vendor_date_forms_read_as_iso(text):
    assert parse_date(text, "start") == "2025-04-06"


def test_day_first_is_the_uk_reading_of_an_ambiguous_date():
    assert parse_date("01/02/2025", "start") == "2025-02-01"


@pytest.mark.parametrize("text", ["", "  ", "00/00/0000", "00000000"])
def test_blank_and_zero_dates_are_absent(text):
    assert parse_date(text, "end") is None


def test_a_bad_date_names_the_field_the_value_and_the_forms_read():
    with pytest.raises(RecordError) as caught:
        parse_date("31/02/2025", "leave_date")
    assert "leave_date" in caught.value.reason and "31/02/2025" in caught.value.reason
    assert "06/04/2025" in caught.value.reason


@pytest.mark.parametrize(("text", "amount"), [
    ("1234.56", "1234.56"), ("1,234.5", "1234.50"), ("£12", "12.00"), ("-12.00", "-12.00"),
    ("12.00-", "-12.00"), ("(12.00)", "-12.00"), ("12.00CR", "-12.00"), ("12.00DR", "12.00"), (".5", "0.50"),
])
def test_vendor_money_forms(text, amount):
    assert parse_money(text, "gross") == amount


@pytest.mark.parametrize(("text", "amount"), [("0000123456", "1234.56"), ("-0000000100", "-1.00"),
                                              ("0000000100-", "-1.00")])
def test_pence_with_implied_decimals(text, amount):
    assert parse_money(text, "charge", implied_decimals=2) == amount


@pytest.mark.parametrize("text", ["12.345", "abc", "(12.00", "1.2.3", "12,00€"])
def test_money_that_is_not_to_the_penny_is_refused_never_rounded(text):
    with pytest.raises(RecordError, match="gross"):
        parse_money(text, "gross")


@given(st.decimals(min_value=Decimal("-999999999.99"), max_value=Decimal("9999999999.99"), places=2))
def test_money_formats_and_parses_back(amount):
    text = f"{amount:f}"
    assert parse_money(format_money(text), "x") == text
    assert parse_money(format_money(text, implied_decimals=2, width=12), "x", implied_decimals=2) == text
    assert len(format_money(text, implied_decimals=2, width=12)) == 12


def test_an_amount_too_wide_for_its_field_is_an_error_not_a_wider_field():
    with pytest.raises(RecordError, match="does not fit a field of 12"):
        format_money("-1000000000.00", implied_decimals=2, width=12)


def test_dates_format_back_to_the_vendor_form():
    assert format_date("2025-04-06") == "06/04/2025"
    assert format_date(None) == ""


def test_yes_no_forms():
    assert parse_bool("Y", "f") is True and parse_bool("false", "f") is False and parse_bool("", "f") is None
    with pytest.raises(RecordError):
        parse_bool("maybe", "f")


def test_an_unknown_vendor_code_names_the_code_and_the_list_never_a_default():
    assert ABSENCE.to_canonical(" sick ") == "sickness"
    with pytest.raises(RecordError) as caught:
        ABSENCE.to_canonical("MATX")
    assert "'MATX'" in caught.value.reason and "absence reason" in caught.value.reason
    assert "ANNL" in caught.value.reason  # says what the known codes are


def test_code_lists_translate_back_with_the_first_code_for_a_shared_value():
    assert ABSENCE.to_native("annual_leave") == "ANNL"
    with pytest.raises(RecordError, match="maternity"):
        ABSENCE.to_native("maternity")


PERSON = RecordMap([
    FieldMap("Forename", "name.given_name", required=True),
    FieldMap("Surname", "name.family_name", required=True),
    FieldMap("DOB", "birth_date", parse=parse_date, format=format_date),
    FieldMap("Reason", "absences.0.reason", *code(ABSENCE)),
], namespace="native.test", consumed={"EmpNo"})


def test_a_row_maps_onto_nested_paths_and_blank_values_are_left_out():
    record = PERSON.to_record({"EmpNo": "1", "Forename": "Ada", "Surname": "Lane", "DOB": "", "Reason": "SICK"})
    assert record == {"name": {"given_name": "Ada", "family_name": "Lane"}, "absences": [{"reason": "sickness"}]}


def test_the_loss_rule_keeps_unmapped_fields_in_the_namespace_and_writes_them_back():
    row = {"EmpNo": "1", "Forename": "Ada", "Surname": "Lane", "DOB": "01/02/1990", "Reason": "",
           "LocalFlag": "X9"}
    record = PERSON.to_record(row)
    assert record["extensions"] == {"native.test": {"LocalFlag": "X9"}}
    back = PERSON.to_row(record, columns=list(row))
    assert back == {**row, "EmpNo": ""}  # EmpNo is the adapter's own to write


def test_the_loss_rule_can_reject_instead_naming_the_fields():
    strict = RecordMap(PERSON.fields, namespace="native.test", unmapped="reject")
    with pytest.raises(RecordError, match="LocalFlag"):
        strict.to_record({"Forename": "Ada", "Surname": "Lane", "LocalFlag": "X9"})


def test_a_required_field_that_is_empty_is_named():
    with pytest.raises(RecordError, match="Surname is empty"):
        PERSON.to_record({"Forename": "Ada", "Surname": " "})


def test_paths_with_list_items():
    record: dict = {}
    set_path(record, "assignments.1.grade.code", "SCP 12")
    assert record == {"assignments": [{}, {"grade": {"code": "SCP 12"}}]}
    assert get_path(record, "assignments.1.grade.code") == "SCP 12"
    assert get_path(record, "assignments.3.grade") is None
