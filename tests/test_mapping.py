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
    id_part,
    key_of_id_part,
    parse_bool,
    parse_date,
    parse_money,
    payroll_person_id,
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


def test_writing_a_row_names_the_field_that_cannot_be_written_without_repeating_its_value():
    def strict_date(value):
        return format_date(value)  # a ValueError quoting the value for anything but ISO 8601

    dob = RecordMap([FieldMap("Forename", "name.given_name", required=True),
                     FieldMap("DOB", "birth_date", parse_date, strict_date)], namespace="native.test")
    with pytest.raises(RecordError, match=r"^Forename is empty; the record has no name.given_name$"):
        dob.to_row({"birth_date": "1990-02-01"})
    with pytest.raises(RecordError) as caught:
        dob.to_row({"name": {"given_name": "Ada"}, "birth_date": "01/02/1990"})
    assert caught.value.reason == ("DOB: the record's birth_date is not a value this field can be written from (a "
                                   "str); validate the message first")
    with pytest.raises(RecordError, match=r"^Forename: the record's name.given_name cannot be found"):
        dob.to_row({"name": "Ada Lane"})
    with pytest.raises(RecordError, match=r"^Reason: absence reason: 'maternity' has no code"):
        PERSON.to_row({"name": {"given_name": "Ada", "family_name": "Lane"}, "absences": [{"reason": "maternity"}]})


def test_kept_fields_are_written_unless_their_names_clash_as_the_format_matches_them():
    ada = {"name": {"given_name": "Ada", "family_name": "Lane"}}

    def with_kept(**kept):
        return {**ada, "extensions": {"native.test": kept}}

    row = PERSON.to_row(with_kept(Ward="N", Flags={"a": True}, Pay="1.00"), apart=["Pay"])
    assert (row["Ward"], row["Flags"], "Pay" in row) == ("N", '{"a": true}', False)

    def fold(name):
        return " ".join(name.split()).casefold()

    for kept, clash in [({"Ward": "N", "WARD": "S"}, "'WARD' has the name of the extension 'Ward'"),
                        ({"surname": "x"}, "'surname' has the name of the field 'Surname'"),
                        ({"EMPNO": "x"}, "'EMPNO' has the name of the field 'EmpNo'"),  # consumed
                        ({" ": "x"}, "' ' has a blank name")]:
        with pytest.raises(RecordError, match=clash):
            PERSON.to_row(with_kept(**kept), fold=fold)
    assert PERSON.to_row(with_kept(Ward="N", WARD="S"))["WARD"] == "S"  # names that differ in case are two
    with pytest.raises(RecordError, match="'Surname' has the name of the field 'Surname'"):
        PERSON.to_row(with_kept(Surname="x"))  # never in place of a mapped field


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


@pytest.mark.parametrize(("key", "part"), [
    ("000101", "000101"), ("P-0001.a", "P-0001.a"), ("A B", "A_20B"), ("A_B", "A_5FB"), ("12/345", "12_2F345"),
    ("A&B", "A_26B"), ("A:B", "A_3AB"), ("Zoë", "Zo_C3_AB"),
])
def test_a_key_becomes_an_id_part_with_every_other_character_escaped(key, part):
    assert id_part(key, "PayId") == part
    assert key_of_id_part(part) == key


@given(st.text(min_size=1, max_size=40), st.text(min_size=1, max_size=40))
def test_different_keys_never_give_the_same_id_part(first, second):
    made = id_part(first, "key")
    assert (made == id_part(second, "key")) == (first == second)
    assert key_of_id_part(made) == first
    assert all(char.isascii() and (char.isalnum() or char in "._-") for char in made)


def test_a_payroll_id_gives_one_person_id_and_a_blank_or_overlong_one_is_named():
    assert payroll_person_id("E07000991", "A B", "PayId") == "E07000991-payroll-A_20B"
    with pytest.raises(RecordError, match="PayId is blank"):
        payroll_person_id("E07000991", "", "PayId")
    with pytest.raises(RecordError, match="reference '/+' cannot make a person id"):
        payroll_person_id("E07000991", "/" * 40, "reference")
