"""UK identifiers: NI numbers, postcodes, tax codes and the scalar types built on them."""

from decimal import Decimal

import pytest
from pydantic import TypeAdapter, ValidationError

from plugshare.identifiers import (
    TaxCode,
    format_tax_code,
    is_postcode,
    mask_nino,
    nino_problem,
    normalise_nino,
    normalise_postcode,
    parse_tax_code,
    tax_code_problem,
)
from plugshare.models.types import (
    AccountsOfficeReference,
    CouncilCode,
    Money,
    NationalInsuranceNumber,
    PayeReference,
    Postcode,
    Rate,
    TaxYear,
    Uprn,
)

# --- National Insurance numbers --------------------------------------------------

VALID_NINOS = ["AB123456C", "JG103759A", "CE123456D", "OA123456B", "ZY987654A"]


@pytest.mark.parametrize("nino", VALID_NINOS, ids=VALID_NINOS)
def test_real_nino_has_no_problem(nino):
    assert nino_problem(nino) is None


@pytest.mark.parametrize("prefix", ["BG", "GB", "KN", "NK", "NT", "TN", "ZZ"])
def test_never_issued_prefix_is_a_problem(prefix):
    assert f"prefix {prefix} is never issued" in nino_problem(f"{prefix}123456A")


@pytest.mark.parametrize("letter", list("DFIQUV"))
def test_forbidden_first_letter_is_a_problem(letter):
    assert nino_problem(f"{letter}A123456A") is not None


@pytest.mark.parametrize("letter", list("DFIOQUV"))
def test_forbidden_second_letter_is_a_problem(letter):
    assert nino_problem(f"A{letter}123456A") is not None


@pytest.mark.parametrize("suffix", ["E", "Z", "0", ""], ids=["E", "Z", "digit", "missing"])
def test_suffix_outside_a_to_d_is_a_problem(suffix):
    assert nino_problem(f"AB123456{suffix}") is not None


@pytest.mark.parametrize("raw", ["AB 12 34 56 C", "ab123456c", " ab 123456 c\t"], ids=["spaced", "lower", "messy"])
def test_normalise_nino_removes_spaces_and_upper_cases(raw):
    assert normalise_nino(raw) == "AB123456C"


@pytest.mark.parametrize("nino", ["AB123456C", "AB 12 34 56 C"], ids=["compact", "spaced"])
def test_mask_nino_never_reveals_the_digits(nino):
    masked = mask_nino(nino)
    assert masked.startswith("AB") and not any(c.isdigit() for c in masked)
    assert not masked.endswith("C")


# --- postcodes -------------------------------------------------------------------

REAL_POSTCODES = ["SW1A 2AA", "W1A 1AA", "EC1A 1BB", "M1 1AE", "B33 8TH", "CR2 6XH", "DN55 1PT", "N1C 4AG",
                  "GIR 0AA", "BFPO 801", "BFPO 1", "ASCN 1ZZ", "STHL 1ZZ", "GX11 1AA", "ZE1 0AA", "IM1 1AA"]


@pytest.mark.parametrize("postcode", REAL_POSTCODES, ids=REAL_POSTCODES)
def test_real_postcode_is_a_postcode(postcode):
    assert is_postcode(postcode)


NOT_POSTCODES = {
    "lower case": "sw1a 2aa", "no space": "SW1A2AA", "two spaces": "SW1A  2AA", "Q is not an area letter": "QA1 1AA",
    "inward C": "AB1 1CA", "inward I": "AB1 1IA", "inward K": "AB1 1AK", "inward M": "AB1 1MA",
    "inward O": "AB1 1OA", "inward V": "AB1 1AV", "too long": "SW1AA 2AA", "BFPO of five digits": "BFPO 12345",
    "empty": "",
}


@pytest.mark.parametrize("text", NOT_POSTCODES.values(), ids=NOT_POSTCODES.keys())
def test_malformed_postcode_is_not_a_postcode(text):
    assert not is_postcode(text)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [("sw1a2aa", "SW1A 2AA"), ("  m1 1ae ", "M1 1AE"), ("W1A  1AA", "W1A 1AA"), ("gir0aa", "GIR 0AA"),
     ("bfpo801", "BFPO 801"), ("Bfpo 801", "BFPO 801"), ("ascn1zz", "ASCN 1ZZ"), ("gx111aa", "GX11 1AA")],
    ids=lambda v: v,
)
def test_normalise_postcode_upper_cases_with_one_space_before_inward(raw, clean):
    assert normalise_postcode(raw) == clean
    assert is_postcode(normalise_postcode(raw))


# --- tax codes -------------------------------------------------------------------

CUMULATIVE_CODES = {
    "1257L": ("1257L", None), "S1257L": ("1257L", "S"), "C1257L": ("1257L", "C"), "K475": ("K475", None),
    "SK475": ("K475", "S"), "BR": ("BR", None), "SBR": ("BR", "S"), "CBR": ("BR", "C"), "0T": ("0T", None),
    "S0T": ("0T", "S"), "NT": ("NT", None), "D0": ("D0", None), "D1": ("D1", None), "SD0": ("D0", "S"),
    "SD1": ("D1", "S"), "SD2": ("D2", "S"), "SD3": ("D3", "S"), "CD0": ("D0", "C"), "CD1": ("D1", "C"),
}


@pytest.mark.parametrize(("text", "parts"), CUMULATIVE_CODES.items(), ids=CUMULATIVE_CODES.keys())
def test_parse_tax_code_splits_regime_from_code(text, parts):
    assert parse_tax_code(text) == TaxCode(*parts, non_cumulative=False)
    assert tax_code_problem(*parts) is None


NON_CUMULATIVE = {"1257L W1": ("1257L", None), "1257LM1": ("1257L", None), "S1257L X": ("1257L", "S"),
                  "K475X": ("K475", None), "cbr m1": ("BR", "C")}


@pytest.mark.parametrize(("text", "parts"), NON_CUMULATIVE.items(), ids=NON_CUMULATIVE.keys())
def test_parse_tax_code_reads_week1_month1_and_x_as_non_cumulative(text, parts):
    assert parse_tax_code(text) == TaxCode(*parts, non_cumulative=True)


INVALID_CODES = ["D2", "D3", "CD2", "CD3", "SNT", "CNT", "1257", "L1257", "ZZ", "", "1257L W2"]


@pytest.mark.parametrize("text", INVALID_CODES, ids=[c or "empty" for c in INVALID_CODES])
def test_parse_tax_code_rejects_what_is_not_a_tax_code(text):
    with pytest.raises(ValueError):
        parse_tax_code(text)


@pytest.mark.parametrize(
    ("code", "regime"),
    [("D2", None), ("D3", None), ("D2", "C"), ("D3", "C"), ("NT", "S"), ("NT", "C"), ("1257", None), ("ZZ", None)],
    ids=["D2", "D3", "CD2", "CD3", "SNT", "CNT", "1257", "ZZ"],
)
def test_tax_code_problem_explains_impossible_combinations(code, regime):
    assert tax_code_problem(code, regime)


@pytest.mark.parametrize(
    ("tax_code", "printed"),
    [(TaxCode("1257L"), "1257L"), (TaxCode("1257L", "S"), "S1257L"), (TaxCode("BR", "C"), "CBR"),
     (TaxCode("1257L", "S", True), "S1257L X"), (TaxCode("K475", None, True), "K475 X")],
    ids=["1257L", "S1257L", "CBR", "S1257L X", "K475 X"],
)
def test_format_tax_code_prints_regime_code_and_basis(tax_code, printed):
    assert format_tax_code(tax_code) == printed


@pytest.mark.parametrize("text", [*CUMULATIVE_CODES, *NON_CUMULATIVE])
def test_formatted_tax_code_parses_back_to_itself(text):
    tax_code = parse_tax_code(text)
    assert parse_tax_code(format_tax_code(tax_code)) == tax_code


# --- scalar types ----------------------------------------------------------------


def accepts(type_, value):
    try:
        TypeAdapter(type_).validate_python(value)
    except ValidationError:
        return False
    return True


TYPES = {"NINO": NationalInsuranceNumber, "Postcode": Postcode, "CouncilCode": CouncilCode, "Uprn": Uprn,
         "TaxYear": TaxYear, "PayeRef": PayeReference, "AccountsOfficeRef": AccountsOfficeReference}
VALID_VALUES = [
    ("NINO", "AB123456C"), ("Postcode", "SW1A 2AA"), ("Postcode", "BFPO 801"), ("Postcode", "GIR 0AA"),
    *[("CouncilCode", code) for code in ["E06000001", "E07000008", "E08000025", "E09000033",
                                         "E10000014", "W06000015", "S12000033", "N09000001"]],
    ("Uprn", 1), ("Uprn", 999_999_999_999), ("TaxYear", "2025-26"), ("PayeRef", "123/AB456"),
    ("PayeRef", "475/HA00001"), ("AccountsOfficeRef", "123PA00012345"), ("AccountsOfficeRef", "123PA0001234X"),
]
INVALID_VALUES = [
    ("NINO", "TN123456A"), ("NINO", "QQ123456C"), ("NINO", "AB 12 34 56 C"), ("NINO", "ab123456c"),
    ("Postcode", "sw1a 2aa"), ("Postcode", "SW1A2AA"), ("Postcode", "QA1 1AA"),
    *[("CouncilCode", code) for code in ["E05000001", "E12000001", "S13002516", "E0700000", "e07000008"]],
    ("Uprn", 0), ("Uprn", 1_000_000_000_000), ("Uprn", "123"), ("Uprn", True),
    ("TaxYear", "2025/26"), ("TaxYear", "2025-2026"), ("TaxYear", "25-26"),
    ("PayeRef", "123AB456"), ("PayeRef", "123/ab456"), ("PayeRef", "12/AB456"),
    ("AccountsOfficeRef", "123PA0001234"), ("AccountsOfficeRef", "123XA00012345"),
]


@pytest.mark.parametrize(("name", "value"), VALID_VALUES, ids=[f"{n}-{v!r}" for n, v in VALID_VALUES])
def test_real_identifier_is_accepted_by_its_type(name, value):
    assert accepts(TYPES[name], value)


@pytest.mark.parametrize(("name", "value"), INVALID_VALUES, ids=[f"{n}-{v!r}" for n, v in INVALID_VALUES])
def test_malformed_identifier_is_rejected_by_its_type(name, value):
    assert not accepts(TYPES[name], value)


def test_tax_year_type_checks_only_the_shape_leaving_consecutive_years_to_rule_ps_com_007():
    assert accepts(TaxYear, "2025-27")


MONEY_IN = {"'1234.56'": ("1234.56", "1234.56"), "'-12.00'": ("-12.00", "-12.00"),
            "Decimal 1.50": (Decimal("1.50"), "1.50"), "int 3": (3, "3.00"), "'0.00'": ("0.00", "0.00")}


@pytest.mark.parametrize(("value", "text"), MONEY_IN.values(), ids=MONEY_IN.keys())
def test_money_accepts_exact_amounts_and_serialises_two_places(value, text):
    adapter = TypeAdapter(Money)
    amount = adapter.validate_python(value)
    assert adapter.dump_python(amount) == text
    assert adapter.dump_json(amount) == f'"{text}"'.encode()


MONEY_OUT = {"float 1.5": 1.5, "'1.5'": "1.5", "'1,234.56'": "1,234.56", "'1e3'": "1e3",
             "Decimal 1.234": Decimal("1.234"),
             "'£12.00'": "£12.00", "bool": True, "None": None}


@pytest.mark.parametrize("value", MONEY_OUT.values(), ids=MONEY_OUT.keys())
def test_money_rejects_inexact_or_formatted_amounts(value):
    assert not accepts(Money, value)


@pytest.mark.parametrize("value", [Decimal("1000000000000.00"), 10**12], ids=["Decimal", "int"])
def test_money_over_twelve_digits_is_rejected_whatever_its_python_type(value):
    assert not accepts(Money, "1000000000000.00")
    assert not accepts(Money, value)


@pytest.mark.parametrize("value", [Decimal("Infinity"), Decimal("-Infinity")], ids=["inf", "-inf"])
def test_money_rejects_infinite_decimal_with_a_validation_error(value):
    assert not accepts(Money, value)


@pytest.mark.parametrize(("value", "text"), [("0.555", "0.555"), ("6.50", "6.50"), (Decimal("1.25"), "1.25"), (2, "2")],
                         ids=["'0.555'", "'6.50'", "Decimal", "int"])
def test_rate_accepts_non_negative_decimals_and_keeps_their_text(value, text):
    adapter = TypeAdapter(Rate)
    assert adapter.dump_python(adapter.validate_python(value)) == text


@pytest.mark.parametrize("value", [0.555, "-1", "1e3", "0.1234567", "abc", "1,5"],
                         ids=["float", "negative", "exponent", "seven places", "text", "comma"])
def test_rate_rejects_floats_negatives_and_malformed_text(value):
    assert not accepts(Rate, value)
