"""Standard 18 record layouts, the BACS character set and Bacs dates, as declarations.

Positions are 1-based and inclusive, as the published layouts give them (see
the package docstring for the sources). ``DATA`` is the 100-character data
record (106 with the processing day of a multi-day file); the labels are 80
characters.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from plugshare.adapters.contract import RecordError

LABEL_WIDTH = 80
DAILY_WIDTH = 100
MULTI_WIDTH = 106
#: the characters Bacs carries; lower case is converted to upper case before checking
BACS_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.&/- ")
BACS_SET_TEXT = "A-Z 0-9 . & / - and space"
LARGEST_AMOUNT = 10 ** 11 - 1  # pence in the 11-digit amount field
LARGEST_TOTAL = 10 ** 13 - 1  # pence in the 13-digit UTL1 totals
LARGEST_COUNT = 10 ** 7 - 1  # records in the 7-digit UTL1 counts
CREDIT = "99"
DEBIT_CONTRA = "17"
#: transaction codes that debit the destination account (direct debits and the debit contra)
DEBIT_CODES = frozenset({"01", "17", "18", "19"})
CONTRA_NARRATIVE = "CONTRA"


@dataclass(frozen=True)
class Field:
    name: str
    start: int  # 1-based
    end: int  # inclusive
    #: "digits", "text" (BACS characters) or "date" (bYYDDD)
    kind: str = "text"
    label: str = ""

    @property
    def width(self) -> int:
        return self.end - self.start + 1

    @property
    def title(self) -> str:
        return f"{self.label or self.name.replace('_', ' ')} (positions {self.start}-{self.end})"

    def cut(self, line: str) -> str:
        return line[self.start - 1:self.end]


DATA = (
    Field("destination_sort_code", 1, 6, "digits"),
    Field("destination_account", 7, 14, "digits", "destination account number"),
    Field("transaction_type", 15, 15, "digits"),
    Field("transaction_code", 16, 17, "text"),
    Field("originating_sort_code", 18, 23, "digits"),
    Field("originating_account", 24, 31, "digits", "originating account number"),
    Field("free_format", 32, 35, "text"),
    Field("amount", 36, 46, "digits", "amount in pence"),
    Field("user_name", 47, 64, "text"),
    Field("reference", 65, 82, "text"),
    Field("destination_name", 83, 100, "text", "destination account name"),
)
PROCESSING_DAY = Field("processing_day", 101, 106, "date")  # multi-day files only

#: the account number fields: never shown in full in a reason
SECRET = frozenset({"destination_account", "originating_account"})


def mask_account(value: str) -> str:
    """An account number for reasons and logs: only its last two characters."""
    value = value.strip()
    return "an account ending " + value[-2:] if len(value) > 2 else "a short account number"


def bacs_problem(text: str) -> str | None:
    """The first character outside the BACS set (after upper-casing), described; None when all are carried."""
    for char in text:
        if char.upper() not in BACS_CHARACTERS:
            return f"character {describe(char)} is not in the BACS character set ({BACS_SET_TEXT})"
    return None


def describe(char: str) -> str:
    if "\udc80" <= char <= "\udcff":  # a byte that was not UTF-8, kept by surrogateescape
        return f"byte 0x{ord(char) - 0xDC00:02X}"
    if char.isprintable() and char != " ":
        return repr(char)
    return f"U+{ord(char):04X}"


def bacs_text(value: str, what: str, width: int) -> str:
    """Text for a BACS field: trimmed, upper case, checked against the set, cut to ``width``, padded with spaces."""
    problem = bacs_problem(value)
    if problem:
        raise RecordError(f"{what}: {problem}; correct it at source (BACS cannot carry it)")
    return as_bacs(value, width).ljust(width)


def as_bacs(value: str, width: int) -> str:
    """``value`` as a field of ``width`` carries it and gives it back: trimmed, upper case, cut to ``width``."""
    return value.strip().upper()[:width].rstrip()


def read_fields(line: str, layout: tuple[Field, ...]) -> dict[str, str]:
    """Cut a record into its fields and check each: digits where digits belong, the BACS set elsewhere."""
    row: dict[str, str] = {}
    for field in layout:
        value = field.cut(line)
        if field.kind == "digits" and not value.isdigit():
            shown = mask_account(value) if field.name in SECRET else repr(value)
            raise RecordError(f"{field.title} must be {field.width} digits; it is {shown}: correct it at source")
        if field.kind == "date":
            julian_date(value, field.title)
        problem = bacs_problem(value)
        if problem:
            raise RecordError(f"{field.title}: {problem}; correct the record at source")
        row[field.name] = value
    return row


def write_fields(values: dict[str, str], layout: tuple[Field, ...]) -> str:
    """Lay values out at their positions; each value must already have its field's width."""
    parts = []
    for field in layout:
        value = values[field.name]
        if len(value) != field.width:
            raise ValueError(f"{field.name} is {len(value)} characters, not {field.width}")
        parts.append(value)
    return "".join(parts)


def julian(day: dt.date) -> str:
    """A date as Bacs writes it: space, two-digit year, day of the year (``bYYDDD``)."""
    return f" {day.year % 100:02d}{day.timetuple().tm_yday:03d}"


def julian_date(text: str, what: str) -> dt.date:
    if len(text) != 6 or text[0] != " " or not text[1:].isdigit():
        raise RecordError(f"{what}: {text!r} is not a Bacs date (a space, the year in two digits and the day of "
                          f"the year in three, e.g. ' 25268' for 25 September 2025)")
    year, day = 2000 + int(text[1:3]), int(text[3:])
    first = dt.date(year, 1, 1)
    if not 1 <= day <= (dt.date(year + 1, 1, 1) - first).days:
        raise RecordError(f"{what}: {text!r} names day {day} of {year}, which has no such day")
    return first + dt.timedelta(days=day - 1)


def pence(amount: int, width: int) -> str:
    return str(amount).rjust(width, "0")


# --- labels (80 characters each) ------------------------------------------------


def vol1(serial: str, sun: str) -> str:
    return "VOL1" + serial + " " + " " * 20 + " " * 6 + " " * 4 + sun + " " * 4 + " " * 28 + "1"


def hdr1(sun: str, serial: str, created: dt.date, expires: dt.date) -> str:
    identifier = "A" + sun + "S" + "  " + " " + sun  # positions 5-21
    return ("HDR1" + identifier + serial + "0001" + "0001" + " " * 4 + " " * 2 + julian(created) + julian(expires)
            + " " + "000000" + " " * 13 + " " * 7)


def hdr2(record_width: int = DAILY_WIDTH) -> str:
    return "HDR2" + "F" + "02000" + f"{record_width:05d}" + " " * 35 + "00" + " " * 28


def uhl1(processing: dt.date, file_number: str = "001") -> str:
    return ("UHL1" + julian(processing) + "999999" + " " * 4 + "00" + "000000" + "1 DAILY  " + file_number
            + " " * 7 + " " * 7 + " " * 26)


def utl1(debit_total: int, credit_total: int, debit_count: int, credit_count: int) -> str:
    return ("UTL1" + pence(debit_total, 13) + pence(credit_total, 13) + pence(debit_count, 7)
            + pence(credit_count, 7) + " " * 10 + " " * 26)


UTL1_FIELDS = (
    Field("debit_total", 5, 17, "digits", "debit value total"),
    Field("credit_total", 18, 30, "digits", "credit value total"),
    Field("debit_count", 31, 37, "digits", "debit record count"),
    Field("credit_count", 38, 44, "digits", "credit record count"),
)
UHL1_PROCESSING_DAY = Field("processing_day", 5, 10, "date", "UHL1 processing day")
UHL1_WORK_CODE = Field("work_code", 29, 37, "text", "UHL1 work code")
HDR1_SUN = Field("service_user_number", 6, 11, "digits", "HDR1 service user number")
HDR2_RECORD_LENGTH = Field("record_length", 11, 15, "digits", "HDR2 record length")
