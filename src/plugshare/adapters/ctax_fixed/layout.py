"""The extract's record layouts as declarations, and the four field types read and written.

Positions are 1-based and inclusive, as the package docstring's tables give
them (a test checks that the tables and these declarations agree). Types:
``N`` digits, zero-padded on the left; ``A`` printable ASCII, left-justified
and padded with spaces; ``D`` a date ``YYYYMMDD`` (eight zeros, or spaces, when
absent); ``M`` money in pence, a sign (``+`` or ``-``) then zero-padded digits.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from plugshare.adapters.contract import RecordError

RECORD_TYPE_WIDTH = 3
NO_DATE = "00000000"
#: the characters the legacy system stores: printable ASCII
PRINTABLE = frozenset(chr(code) for code in range(0x20, 0x7F))


@dataclass(frozen=True)
class Field:
    name: str
    start: int  # 1-based
    end: int  # inclusive
    kind: str  # N, A, D or M
    label: str = ""

    @property
    def width(self) -> int:
        return self.end - self.start + 1

    @property
    def title(self) -> str:
        where = f"position {self.start}" if self.start == self.end else f"positions {self.start}-{self.end}"
        return f"{self.label or self.name.replace('_', ' ')} ({where})"

    def cut(self, line: str) -> str:
        return line[self.start - 1:self.end]


def _fields(*specs: tuple) -> tuple[Field, ...]:
    """Fields laid end to end from position 1: each spec is (name, width, kind[, label])."""
    laid, start = [], 1
    for name, width, kind, *label in specs:
        laid.append(Field(name, start, start + width - 1, kind, *label))
        start += width
    return tuple(laid)


def _party(n: int) -> list[tuple]:
    return [(f"party_{n}_role", 2, "A", f"party {n} liability role"),
            (f"party_{n}_kind", 1, "A", f"party {n} kind"),
            (f"party_{n}_title", 8, "A", f"party {n} title"),
            (f"party_{n}_forename", 20, "A", f"party {n} forename"),
            (f"party_{n}_middle_names", 20, "A", f"party {n} middle names"),
            (f"party_{n}_surname", 35, "A", f"party {n} surname or organisation name")]


def _discount(n: int) -> list[tuple]:
    return [(f"discount_{n}_code", 3, "A", f"discount {n} code"),
            (f"discount_{n}_percent", 5, "N", f"discount {n} percent"),
            (f"discount_{n}_start", 8, "D", f"discount {n} start"),
            (f"discount_{n}_end", 8, "D", f"discount {n} end")]


HEADER = _fields(
    ("record_type", 3, "A"), ("billing_authority", 4, "N", "billing authority code"),
    ("extract_date", 8, "D"), ("extract_time", 6, "N"), ("financial_year", 4, "N"),
    ("layout_version", 4, "A"),
)

PROPERTY = _fields(
    ("record_type", 3, "A"), ("property_reference", 10, "A"), ("uprn", 12, "N", "UPRN"),
    ("usrn", 8, "N", "USRN"), ("saon", 30, "A", "SAON"), ("paon", 30, "A", "PAON"), ("street", 40, "A"),
    ("locality", 30, "A"), ("town", 30, "A"), ("postcode", 8, "A"),
    ("valuation_list", 3, "A", "valuation list code"), ("band", 1, "A", "band code"),
    ("band_effective_date", 8, "D", "band effective date"), ("property_type", 2, "A"), ("ward", 4, "A"),
)

ACCOUNT = _fields(
    ("record_type", 3, "A"), ("account_reference", 10, "A"), ("property_reference", 10, "A"),
    ("status", 1, "A", "account status"), ("liability_start", 8, "D"), ("liability_end", 8, "D"),
    *_party(1), *_party(2), *_discount(1), *_discount(2),
    ("exemption_class", 2, "A", "exemption code"), ("exemption_start", 8, "D"), ("exemption_end", 8, "D"),
    ("premium_code", 3, "A"), ("premium_percent", 5, "N"), ("premium_start", 8, "D"), ("premium_end", 8, "D"),
    ("empty_since", 8, "D"), ("payment_method", 2, "A", "payment method code"),
    ("instalments_requested", 2, "N"),
)

BILL = _fields(
    ("record_type", 3, "A"), ("account_reference", 10, "A"), ("financial_year", 4, "N"),
    ("bill_number", 2, "N"), ("issue_date", 8, "D"), ("period_start", 8, "D"), ("period_end", 8, "D"),
    ("valuation_list", 3, "A", "valuation list code"), ("band", 1, "A", "band code"),
    ("band_d_charge", 12, "M", "Band D charge"), ("discount_percent", 5, "N"), ("premium_percent", 5, "N"),
    ("exempt", 1, "A", "exempt flag"), ("annual_charge", 12, "M"), ("period_charge", 12, "M"),
    ("reduction", 12, "M"), ("amount_payable", 12, "M"), ("instalment_count", 2, "N"),
    ("ctr_scheme", 2, "A", "council tax reduction scheme"),
)

INSTALMENT = _fields(
    ("record_type", 3, "A"), ("account_reference", 10, "A"), ("financial_year", 4, "N"),
    ("bill_number", 2, "N"), ("instalment_number", 2, "N"), ("due_date", 8, "D"), ("amount", 12, "M"),
)

PAYMENT = _fields(
    ("record_type", 3, "A"), ("transaction_reference", 12, "A"), ("account_reference", 10, "A"),
    ("transaction_type", 3, "A"), ("transaction_date", 8, "D"), ("amount", 12, "M"),
    ("method", 2, "A", "payment method code"), ("payer_reference", 18, "A"),
    ("reversed_reference", 12, "A", "reversed transaction reference"), ("reversal_reason", 3, "A"),
    ("batch", 6, "N", "receipting batch"),
)

TRAILER = _fields(
    ("record_type", 3, "A"), ("PRP", 7, "N", "property records"), ("ACC", 7, "N", "account records"),
    ("BIL", 7, "N", "bill records"), ("INS", 7, "N", "instalment records"), ("PAY", 7, "N", "payment records"),
    ("records", 8, "N", "records in the file"), ("amount_payable_total", 15, "M", "bills' amount payable total"),
    ("instalment_total", 15, "M", "instalments total"), ("payment_total", 15, "M", "payments net total"),
)

LAYOUTS = {"HDR": HEADER, "PRP": PROPERTY, "ACC": ACCOUNT, "BIL": BILL, "INS": INSTALMENT, "PAY": PAYMENT,
           "TRL": TRAILER}
WIDTHS = {kind: layout[-1].end for kind, layout in LAYOUTS.items()}
NAMES = {"HDR": "header", "PRP": "property", "ACC": "account", "BIL": "bill", "INS": "instalment",
         "PAY": "payment", "TRL": "trailer"}
#: the record types the trailer counts, in its order
COUNTED = ("PRP", "ACC", "BIL", "INS", "PAY")


def field(layout: tuple[Field, ...], name: str) -> Field:
    return next(f for f in layout if f.name == name)


# --- reading ------------------------------------------------------------------------


def describe(char: str) -> str:
    if "\udc80" <= char <= "\udcff":  # a byte that was not UTF-8, kept by surrogateescape
        return f"byte 0x{ord(char) - 0xDC00:02X}"
    if char.isprintable() and char != " ":
        return repr(char)
    return f"U+{ord(char):04X}"


def text_problem(text: str) -> str | None:
    for char in text:
        if char not in PRINTABLE:
            return f"character {describe(char)} is not printable ASCII, the only characters the extract holds"
    return None


def read_fields(line: str, layout: tuple[Field, ...]) -> dict[str, str | None]:
    """Cut a record into its fields and read each by its type; None where a field is blank."""
    row: dict[str, str | None] = {}
    for spec in layout:
        raw = spec.cut(line)
        problem = text_problem(raw)
        if problem:
            raise RecordError(f"{spec.title}: {problem}; correct the record at source")
        row[spec.name] = read_value(raw, spec)
    return row


def read_value(raw: str, spec: Field) -> str | None:
    if spec.kind == "A":
        return raw.rstrip() or None
    if spec.kind == "N":
        if not raw.isdigit() or not raw.isascii():
            raise RecordError(f"{spec.title} must be {spec.width} digits, zero-padded; it is {raw!r}")
        return raw
    if spec.kind == "D":
        return read_date(raw, spec)
    return read_money(raw, spec)


def read_date(raw: str, spec: Field) -> str | None:
    if raw in (NO_DATE, " " * 8):
        return None
    try:
        if not (raw.isdigit() and raw.isascii()):
            raise ValueError
        return dt.date(int(raw[:4]), int(raw[4:6]), int(raw[6:])).isoformat()
    except ValueError:
        raise RecordError(f"{spec.title}: {raw!r} is not a date in the form YYYYMMDD (e.g. 20250401), nor "
                          f"{NO_DATE} for none") from None


def read_money(raw: str, spec: Field) -> str:
    sign, digits = raw[:1], raw[1:]
    if sign not in ("+", "-") or not (digits.isdigit() and digits.isascii()):
        raise RecordError(f"{spec.title}: {raw!r} is not an amount: a sign (+ or -) and {spec.width - 1} digits of "
                          f"pence, e.g. +{'123456'.rjust(spec.width - 1, '0')} for 1234.56")
    pence = int(digits)
    return money(-pence if sign == "-" else pence)


def money(pence: int) -> str:
    return f"{Decimal(pence).scaleb(-2):f}"


def pence(amount: str) -> int:
    try:
        value = Decimal(amount) * 100
    except (InvalidOperation, TypeError):
        raise RecordError(f"{amount!r} is not an amount of money") from None
    if not value.is_finite():
        raise RecordError(f"{amount!r} is not an amount of money")
    if value != value.to_integral_value():
        raise RecordError(f"{amount} has fractions of a penny")
    return int(value)


# --- writing ------------------------------------------------------------------------


def write_fields(row: dict[str, str | None], layout: tuple[Field, ...], record_type: str) -> str:
    """Lay a row out at its positions; a value that does not fit its field is a RecordError naming it."""
    return "".join(write_value(row.get(spec.name), spec, record_type) for spec in layout)


def write_value(value: str | None, spec: Field, record_type: str) -> str:
    where = f"{record_type} {spec.title}"
    if value is None or value == "":
        return {"A": " " * spec.width, "N": "0" * spec.width, "D": NO_DATE,
                "M": "+" + "0" * (spec.width - 1)}[spec.kind]
    value = str(value)
    if spec.kind == "A":
        problem = text_problem(value)
        if problem:
            raise RecordError(f"{where}: {value!r}: {problem}")
        if len(value) > spec.width:
            raise RecordError(f"{where}: {value!r} is {len(value)} characters; the field holds {spec.width}")
        return value.ljust(spec.width)
    if spec.kind == "N":
        if not (value.isdigit() and value.isascii()) or len(value) > spec.width:
            raise RecordError(f"{where}: {value!r} is not a number of at most {spec.width} digits")
        return value.rjust(spec.width, "0")
    if spec.kind == "D":
        try:
            return dt.date.fromisoformat(value).strftime("%Y%m%d")
        except ValueError:
            raise RecordError(f"{where}: {value!r} is not a date (YYYY-MM-DD)") from None
    amount = pence(value)
    digits = str(abs(amount)).rjust(spec.width - 1, "0")
    if len(digits) > spec.width - 1:
        raise RecordError(f"{where}: {value} does not fit {spec.width - 1} digits of pence")
    return ("-" if amount < 0 else "+") + digits
