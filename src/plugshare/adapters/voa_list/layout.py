"""The list entry layout: 28 positional fields, each ended by ``*``, their widths and the characters they hold.

Field numbers are 1-based, as the VOA's specification numbers them. ``width``
is the most characters a field may hold: the VOA's own width where its
specification gives one, else the standard's limit for the field it maps to.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from plugshare.adapters.contract import RecordError

SEPARATOR = "*"
FIELD_COUNT = 28
#: the VOA list is ASCII: printable characters only (space to tilde), never the separator inside a value
PRINTABLE = frozenset(chr(code) for code in range(0x20, 0x7F))
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DATE = re.compile(r"([0-9]{2})-([A-Za-z]{3})-([0-9]{4})")


@dataclass(frozen=True)
class Field:
    number: int
    name: str
    title: str
    width: int | None = None
    #: "text", "digits" or "date" (DD-MON-YYYY)
    kind: str = "text"
    required: bool = False

    @property
    def label(self) -> str:
        return f"field {self.number} ({self.title})"


FIELDS = (
    Field(1, "entry_number", "incrementing entry number", kind="digits"),
    Field(2, "billing_authority_code", "billing authority code", 4, "digits", required=True),
    Field(3, "ndr_community_code", "NDR community code", 10),
    Field(4, "ba_reference", "BA reference", 25, required=True),
    Field(5, "primary_description_code", "primary description code", 5, required=True),
    Field(6, "primary_description_text", "primary description text", 100, required=True),
    Field(7, "uarn", "UARN", 11, "digits", required=True),
    Field(8, "full_property_identifier", "full property identifier", 500),
    Field(9, "firm_name", "firm name", 100),
    Field(10, "number_or_name", "number or name", 100),
    Field(11, "street", "street", 100),
    Field(12, "town", "town", 100),
    Field(13, "postal_district", "postal district", 100),
    Field(14, "county", "county", 100),
    Field(15, "postcode", "postcode", 8),
    Field(16, "effective_date", "effective date", 11, "date"),
    Field(17, "composite_indicator", "composite indicator", 1),
    Field(18, "rateable_value", "rateable value", 10, "digits", required=True),
    Field(19, "appeal_settlement_code", "appeal settlement code", 5),
    Field(20, "assessment_reference", "assessment reference", 11, "digits", required=True),
    Field(21, "list_alteration_date", "list alteration date", 11, "date"),
    Field(22, "scat_code_and_suffix", "SCAT code and suffix", 4),
    Field(23, "sub_street_level_3", "sub-street level 3", 100),
    Field(24, "sub_street_level_2", "sub-street level 2", 100),
    Field(25, "sub_street_level_1", "sub-street level 1", 100),
    Field(26, "case_number", "case number", 20),
    Field(27, "current_from_date", "current from date", 11, "date", required=True),
    Field(28, "current_to_date", "current to date", 11, "date"),
)
BY_NAME = {field.name: field for field in FIELDS}
NAMES = tuple(field.name for field in FIELDS)


def split(raw: bytes) -> list[bytes]:
    """The fields of one line (without its line end); a RecordError unless there are 28, each ended by ``*``."""
    parts = raw.split(SEPARATOR.encode())
    ended = parts[-1] == b""
    count = len(parts) - 1 if ended else len(parts)
    if count != FIELD_COUNT or not ended:
        missing = "" if ended else " and does not end with '*'"
        raise RecordError(f"the line has {count} fields{missing}; a list entry has exactly {FIELD_COUNT}, each "
                          f"ended by '*' (a '*' may have been lost or added, or the line was cut): correct the line")
    return parts[:-1]


def decode(raw: bytes, field: Field) -> str:
    """One field's bytes as text; a byte that is not printable ASCII is named with its field."""
    for index, byte in enumerate(raw):
        if 0x20 <= byte <= 0x7E:
            continue
        if byte >= 0x80:
            try:
                shown = f" (the field reads {raw.decode('utf-8')!r} as UTF-8)"
            except UnicodeDecodeError:
                shown = ""
            raise RecordError(f"{field.label}: byte 0x{byte:02X} at character {index + 1} is not ASCII{shown}; "
                              f"the VOA list is ASCII: correct the entry or export the list again as ASCII")
        raise RecordError(f"{field.label}: control character 0x{byte:02X} at character {index + 1}; list fields "
                          f"hold printable ASCII only")
    return raw.decode("ascii")


def check_text(value: str, field: Field) -> str:
    """A value: printable ASCII, no separator, and (spaces at either end aside) within the field's width."""
    for index, char in enumerate(value):
        if char == SEPARATOR:
            raise RecordError(f"{field.label}: {value!r} holds a '*', which separates the list's fields and cannot "
                              f"be written inside one; correct the value")
        if char not in PRINTABLE:
            what = "is not ASCII" if ord(char) > 0x7E else "is a control character"
            raise RecordError(f"{field.label}: {char!r} at character {index + 1} of {value!r} {what}; the VOA list "
                              f"is ASCII: correct the value")
    if field.width is not None and len(value.strip()) > field.width:
        raise RecordError(f"{field.label}: {value.strip()!r} is {len(value.strip())} characters; the field holds "
                          f"{field.width}")
    return value


def parse_date(text: str, field: Field) -> str | None:
    """``01-APR-2023`` (the month in any case) -> ``2023-04-01``; blank -> None."""
    text = text.strip()
    if not text:
        return None
    match = _DATE.fullmatch(text)
    month = match.group(2).upper() if match else ""
    if not match or month not in MONTHS:
        raise RecordError(f"{field.label}: {text!r} is not a date in the list's form DD-MON-YYYY, e.g. 01-APR-2023")
    try:
        day = dt.date(int(match.group(3)), MONTHS.index(month) + 1, int(match.group(1)))
    except ValueError:
        raise RecordError(f"{field.label}: {text!r} names a day the calendar does not have") from None
    return day.isoformat()


def format_date(iso: str | None) -> str:
    """``2023-04-01`` -> ``01-APR-2023``; None -> blank."""
    if not iso:
        return ""
    day = dt.date.fromisoformat(iso)
    return f"{day.day:02d}-{MONTHS[day.month - 1]}-{day.year:04d}"
