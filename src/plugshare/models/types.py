"""Scalar types of the standard: money, dates, UK identifiers.

Each type is defined once here, with the Python validation pydantic applies and
the JSON Schema the standard publishes. The schema of every type goes into
``common.json`` under ``$defs`` and message schemas refer to it, so that a
supplier working in another language can reuse ``common.json#/$defs/Postcode``
in its own schemas. ``x-requirement`` names the requirement a value breaks
when it fails that definition.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, PlainSerializer, WithJsonSchema

from plugshare import identifiers as ids
from plugshare.models.version import STANDARD_MAJOR

COMMON_SCHEMA_FILE = "common.json"

#: name -> JSON Schema of every scalar type, published in common.json.
COMMON_DEFS: dict[str, dict[str, Any]] = {}


#: Marker left in generated schemas where a common type is used; the exporter
#: turns it into a ``$ref`` to ``common.json``.
COMMON_MARKER = "x-plugshare-common"


def _ref(name: str, schema: dict[str, Any]) -> WithJsonSchema:
    COMMON_DEFS[name] = schema
    return WithJsonSchema({COMMON_MARKER: name})


def _pattern(pattern: str, what: str):
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(f"{value!r} is not {what}")
        return value

    return AfterValidator(check)


def _text(name: str, pattern: str, what: str, requirement: str, description: str, **extra: Any):
    title = what.split(" ", 1)[1] if what.startswith(("a ", "an ")) else what
    return Annotated[
        str,
        _pattern(pattern, what),
        _ref(name, {"title": title, "type": "string", "pattern": pattern, "description": description,
                    "x-requirement": requirement, **extra}),
    ]


# --- money and quantities -------------------------------------------------------

MONEY_PATTERN = r"^-?[0-9]{1,12}\.[0-9]{2}$"
NON_NEGATIVE_MONEY_PATTERN = r"^[0-9]{1,12}\.[0-9]{2}$"
RATE_PATTERN = r"^[0-9]{1,6}(\.[0-9]{1,6})?$"
PENNY = Decimal("0.01")


def _to_money(value: Any) -> Decimal:
    if isinstance(value, float):
        raise ValueError("money must be exact: give a decimal string such as '1234.56', never a binary float")
    if isinstance(value, bool):
        raise ValueError("money must be a decimal string such as '1234.56'")
    if isinstance(value, str):
        if not re.fullmatch(MONEY_PATTERN, value):
            raise ValueError(f"{value!r} is not an amount of money with two decimal places")
        return Decimal(value)
    if isinstance(value, (int, Decimal)):
        amount = Decimal(value)
        if not amount.is_finite():
            raise ValueError(f"{value} is not an amount of money")
        if abs(amount) >= 10**12:
            raise ValueError(f"{value} has more than twelve digits before the decimal point")
        if amount != amount.quantize(PENNY):
            raise ValueError(f"{value} has more than two decimal places")
        amount = amount.quantize(PENNY)
        if not re.fullmatch(MONEY_PATTERN, f"{amount:f}"):
            raise ValueError(f"{value} is not an amount of money with at most twelve digits before the point")
        return amount
    raise ValueError("money must be a decimal string such as '1234.56'")


def _non_negative(value: Decimal) -> Decimal:
    if value < 0:
        raise ValueError("this amount cannot be negative")
    return value


def _to_rate(value: Any) -> Decimal:
    if isinstance(value, float) or isinstance(value, bool):
        raise ValueError("a rate must be a decimal string such as '0.555', never a binary float")
    try:
        rate = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a decimal rate") from None
    if not re.fullmatch(RATE_PATTERN, str(value)):
        raise ValueError(f"{value!r} is not a non-negative decimal with up to six places")
    return rate


def money_text(value: Decimal) -> str:
    """The canonical text of an amount: two places, no exponent."""
    return f"{value.quantize(PENNY):f}"


_money_out = PlainSerializer(money_text, return_type=str, when_used="always")

Money = Annotated[
    Decimal,
    BeforeValidator(_to_money),
    _money_out,
    _ref("Money", {
        "title": "amount of money", "type": "string", "pattern": MONEY_PATTERN,
        "description": "An amount in pounds sterling as a decimal string with exactly two places "
                       "(e.g. \"1234.56\", \"-12.00\"). Never a JSON number.",
        "x-requirement": "PS-COM-001",
    }),
]
NonNegativeMoney = Annotated[
    Decimal,
    BeforeValidator(_to_money),
    AfterValidator(_non_negative),
    _money_out,
    _ref("NonNegativeMoney", {
        "title": "amount of money of zero or more", "type": "string", "pattern": NON_NEGATIVE_MONEY_PATTERN,
        "description": "An amount in pounds sterling, zero or more, as a decimal string with two places.",
        "x-requirement": "PS-COM-001",
    }),
]
Rate = Annotated[
    Decimal,
    BeforeValidator(_to_rate),
    PlainSerializer(lambda d: f"{d:f}", return_type=str),
    _ref("Rate", {
        "title": "non-negative decimal rate", "type": "string", "pattern": RATE_PATTERN,
        "description": "A non-negative exact decimal, such as a multiplier (\"0.555\") or a percentage "
                       "(\"6.50\"), as a string so that charges computed from it are exact.",
        "x-requirement": "PS-COM-008",
    }),
]

# --- dates and times ------------------------------------------------------------


def _reject_numbers(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ValueError("dates are ISO 8601 text (YYYY-MM-DD), not numbers")
    return value


Date = Annotated[
    dt.date,
    BeforeValidator(_reject_numbers),
    _ref("Date", {
        "title": "date (YYYY-MM-DD)", "type": "string", "format": "date", "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
        "description": "An ISO 8601 calendar date, YYYY-MM-DD.",
        "x-requirement": "PS-COM-002",
    }),
]


def _aware(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        raise ValueError("a timestamp needs a UTC offset (RFC 3339), e.g. 2026-04-06T09:00:00Z")
    return value


Timestamp = Annotated[
    dt.datetime,
    BeforeValidator(_reject_numbers),
    AfterValidator(_aware),
    _ref("Timestamp", {
        "title": "RFC 3339 timestamp with an offset", "type": "string", "format": "date-time",
        "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$",
        "description": "An RFC 3339 timestamp with a UTC offset.",
        "x-requirement": "PS-ENV-010",
    }),
]

YEAR_PATTERN = r"^[0-9]{4}-[0-9]{2}$"
TaxYear = _text(
    "TaxYear", YEAR_PATTERN, "a tax year such as '2025-26'", "PS-COM-007",
    "A UK tax year (6 April to 5 April) named by its two calendar years, e.g. \"2025-26\".",
)
FinancialYear = _text(
    "FinancialYear", YEAR_PATTERN, "a financial year such as '2025-26'", "PS-COM-007",
    "A local-government financial year (1 April to 31 March), e.g. \"2025-26\".",
)

SchemaVersion = _text(
    "SchemaVersion", rf"^{STANDARD_MAJOR}\.[0-9]+\.[0-9]+$", f"a version {STANDARD_MAJOR}.x.y of the standard",
    "PS-ENV-005",
    f"The version of the standard a message follows (semantic versioning). Its major version must be "
    f"{STANDARD_MAJOR}, the major version of this schema.",
)

# --- record identity ------------------------------------------------------------

RECORD_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
RecordId = _text(
    "RecordId", RECORD_ID_PATTERN, "a record id", "PS-COM-003",
    "The stable identifier of a record in the standard: 1-128 characters from A-Z a-z 0-9 . _ : -, "
    "starting with a letter or digit. It never changes and is never reused.",
)
EXTENSION_NAMESPACE_PATTERN = r"^[a-z][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)+$"
ExtensionNamespace = Annotated[
    str, _pattern(EXTENSION_NAMESPACE_PATTERN, "an extension namespace such as 'gov.uk.e07000991'")
]
Extensions = Annotated[
    dict[ExtensionNamespace, dict[str, Any]],
    _ref("Extensions", {
        "type": "object",
        "propertyNames": {"title": "extension namespace (lower-case and dotted, e.g. gov.uk.e07000991)",
                          "pattern": EXTENSION_NAMESPACE_PATTERN, "x-requirement": "PS-COM-004"},
        "additionalProperties": {"type": "object"},
        "description": "Local and vendor fields, one object per namespace. A namespace is lower-case and "
                       "dotted, naming its owner (\"gov.uk.e07000991\" for a council, \"com.example-vendor\" "
                       "for a supplier). Common fields are never duplicated or redefined here.",
        "x-requirement": "PS-COM-004",
    }),
]

# --- UK identifiers -------------------------------------------------------------


def _nino(value: str) -> str:
    problem = ids.nino_problem(value)
    if problem:
        raise ValueError(problem)
    return value


NationalInsuranceNumber = Annotated[
    str,
    AfterValidator(_nino),
    _ref("NationalInsuranceNumber", {
        "type": "string",
        "description": "A National Insurance number, upper case without spaces (e.g. \"QQ123456C\" is "
                       "not valid: Q is never a prefix letter). Prefixes BG, GB, KN, NK, NT, TN and ZZ "
                       "are never issued.",
        "allOf": [
            {"title": "National Insurance number", "pattern": ids.NINO_PATTERN, "x-requirement": "PS-ID-001"},
            {"title": "National Insurance number: its prefix is never issued",
             "not": {"pattern": ids.NINO_EXCLUDED_PATTERN}, "x-requirement": "PS-ID-002"},
        ],
    }),
]
Postcode = _text(
    "Postcode", ids.POSTCODE_PATTERN, "a UK postcode", "PS-ID-003",
    "A UK postcode in upper case with one space before the inward code (\"SW1A 2AA\"), or GIR 0AA, "
    "a BFPO number (\"BFPO 801\") or a British overseas territory postcode (\"ASCN 1ZZ\").",
)
CouncilCode = _text(
    "CouncilCode", ids.COUNCIL_GSS_PATTERN, "a council GSS code", "PS-ENV-009",
    "The ONS GSS code of a council: E06 unitary, E07 district, E08 metropolitan district, "
    "E09 London borough, E10 county, W06 Welsh principal area, S12 Scottish council area, "
    "N09 Northern Ireland district; e.g. \"E07000008\".",
)


def _int_in(name: str, lo: int, hi: int, requirement: str, description: str):
    def check(value: int) -> int:
        if not lo <= value <= hi:
            raise ValueError(f"{name} must be between {lo} and {hi}")
        return value

    return Annotated[
        int,
        Field(strict=True),
        AfterValidator(check),
        _ref(name, {"title": name.upper(), "type": "integer", "minimum": lo, "maximum": hi, "description": description,
                    "x-requirement": requirement}),
    ]


Uprn = _int_in("Uprn", 1, ids.UPRN_MAX, "PS-ID-004",
               "Unique Property Reference Number: a positive integer of up to 12 digits.")
Usrn = _int_in("Usrn", 1, ids.USRN_MAX, "PS-ID-005",
               "Unique Street Reference Number: a positive integer of up to 8 digits.")
PayeReference = _text(
    "PayeReference", ids.PAYE_REFERENCE_PATTERN, "an employer PAYE reference", "PS-ID-006",
    "An employer PAYE reference: tax office number, a slash, and the reference (e.g. \"123/AB456\").",
)
AccountsOfficeReference = _text(
    "AccountsOfficeReference", ids.ACCOUNTS_OFFICE_REFERENCE_PATTERN, "an Accounts Office reference",
    "PS-ID-007", "An HMRC Accounts Office reference, e.g. \"123PA00012345\".",
)
SortCode = _text("SortCode", ids.SORT_CODE_PATTERN, "a six-digit sort code", "PS-ID-008",
                 "A bank sort code: six digits, no separators.")
AccountNumber = _text("AccountNumber", ids.ACCOUNT_NUMBER_PATTERN, "an eight-digit account number", "PS-ID-008",
                      "A bank account number: eight digits (shorter numbers are standardised to eight).")
TaxCodeText = _text(
    "TaxCodeText", ids.TAX_CODE_PATTERN, "a PAYE tax code", "PS-ID-009",
    "A PAYE tax code without its regime prefix or basis: digits with suffix L, M, N or T; K with digits; "
    "BR, 0T, NT, D0, D1, and (Scotland only) D2, D3.",
)
