"""Reading an extract: a first pass checks the header and the trailer's counts and totals, a second yields records.

Both passes stream the file line by line. The first keeps only running counts
and totals; the second holds at most one bill and its instalment records (13
lines) at a time. Whole-file problems raise :class:`AdapterError` before any
record is converted; a malformed record is the caller's to reject.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from plugshare.adapters.contract import AdapterError, RecordError
from plugshare.adapters.ctax_fixed import layout as L
from plugshare.adapters.ctax_fixed.base import MAX_INSTALMENTS
from plugshare.adapters.files import numbered_lines

LAYOUT_VERSION = "CT03"
#: the amount each counted record type adds to the trailer's hash totals
HASHED = {"BIL": ("amount_payable_total", L.field(L.BILL, "amount_payable")),
          "INS": ("instalment_total", L.field(L.INSTALMENT, "amount")),
          "PAY": ("payment_total", L.field(L.PAYMENT, "amount"))}


@dataclass(frozen=True)
class Header:
    """What the header says about the extract."""

    billing_authority: str
    extracted: dt.datetime
    financial_year: int


def scan(path: str, billing_authority: str | None = None) -> Header:
    """The first pass: the header, then every record counted and hashed against the trailer."""
    numbered = ((number, text) for number, text in numbered_lines(path) if text.strip() != "")
    first = next(numbered, None)
    if first is None:
        raise AdapterError(f"{path}: the file is empty; a council tax extract starts with its HDR header record")
    header = _header(path, *first, billing_authority)
    counts: Counter = Counter()
    totals = {name: 0 for name, _ in HASHED.values()}
    unreadable: Counter = Counter()
    records, trailer = 1, None
    for number, text in numbered:
        if trailer is not None:
            raise AdapterError(f"{path} line {number}: more follows the TRL trailer on line {trailer[0]}; one "
                               f"extract per file")
        records += 1
        kind = text[:L.RECORD_TYPE_WIDTH]
        if kind == "TRL":
            trailer = (number, text)
        elif kind == "HDR":
            raise AdapterError(f"{path} line {number}: a second HDR header; one extract per file (split the input)")
        else:
            counts[kind] += 1
            if kind in HASHED:
                total, spec = HASHED[kind]
                try:
                    totals[total] += L.pence(L.read_money(spec.cut(text), spec))
                except RecordError:
                    unreadable[total] += 1
    if trailer is None:
        raise AdapterError(f"{path}: the file ends without its TRL trailer record; the extract is incomplete: ask "
                           f"for it to be produced again")
    _check_trailer(path, *trailer, counts, records, totals, unreadable)
    return header


def _header(path: str, number: int, text: str, billing_authority: str | None) -> Header:
    where = f"{path} line {number}"
    if not text.startswith("HDR"):
        raise AdapterError(f"{where}: expected the HDR header record, found {text[:3]!r}; this is not a council tax "
                           f"extract in the ctax-fixed layout (or its header is missing)")
    if len(text) != L.WIDTHS["HDR"]:
        raise AdapterError(f"{where}: the header is {len(text)} characters; it is {L.WIDTHS['HDR']} in layout "
                           f"{LAYOUT_VERSION}. The file may have been edited: export it again")
    try:
        row = L.read_fields(text, L.HEADER)
        if row["extract_date"] is None:
            raise RecordError(f"the {L.field(L.HEADER, 'extract_date').title} is blank")
        hours, minutes, seconds = (int(row["extract_time"][i:i + 2]) for i in (0, 2, 4))
        extracted = dt.datetime.combine(dt.date.fromisoformat(row["extract_date"]),
                                        dt.time(hours, minutes, seconds), dt.UTC)
    except RecordError as exc:
        raise AdapterError(f"{where}: the header is malformed: {exc.reason}") from None
    except ValueError:
        raise AdapterError(f"{where}: the header's {L.field(L.HEADER, 'extract_time').title} "
                           f"{row['extract_time']!r} is not a time HHMMSS") from None
    if row["layout_version"] != LAYOUT_VERSION:
        raise AdapterError(f"{where}: the header gives layout {row['layout_version']!r} "
                           f"({L.field(L.HEADER, 'layout_version').title}); this adapter reads layout "
                           f"{LAYOUT_VERSION}, whose record widths it knows")
    if billing_authority and row["billing_authority"] != billing_authority:
        raise AdapterError(f"{where}: the extract is billing authority {row['billing_authority']}'s, not "
                           f"{billing_authority}'s (--option billing_authority); check you have the right file")
    return Header(row["billing_authority"], extracted, int(row["financial_year"]))


def _check_trailer(path: str, number: int, text: str, counts: Counter, records: int, totals: dict[str, int],
                   unreadable: Counter) -> None:
    where = f"{path} line {number}"
    if len(text) != L.WIDTHS["TRL"]:
        raise AdapterError(f"{where}: the trailer is {len(text)} characters; it is {L.WIDTHS['TRL']}. The file "
                           f"may have been edited: export it again")
    try:
        declared = L.read_fields(text, L.TRAILER)
    except RecordError as exc:
        raise AdapterError(f"{where}: the trailer is malformed: {exc.reason}") from None
    found = {**{kind: counts[kind] for kind in L.COUNTED}, "records": records}
    wrong = []
    for name, counted in found.items():
        if int(declared[name]) != counted:
            wrong.append(f"{L.field(L.TRAILER, name).label} {int(declared[name])} but the file has {counted}")
    for name, summed in totals.items():
        said = L.pence(declared[name])
        if said != summed:
            unread = f", {unreadable[name]} amount(s) unreadable and not counted" if unreadable[name] else ""
            wrong.append(f"{L.field(L.TRAILER, name).label} {L.money(said)} but the records total "
                         f"{L.money(summed)} (a difference of {L.money(abs(said - summed))}{unread})")
    unknown = sorted(kind for kind in counts if kind not in L.COUNTED)
    if wrong:
        other = f"; the file also has record types the trailer does not count: {', '.join(map(repr, unknown))}" \
            if unknown else ""
        raise AdapterError(f"{where}: the trailer says {'; '.join(wrong)}{other}. The extract does not match its "
                           f"trailer: it may be incomplete or altered; do not load it, ask for it to be produced "
                           f"again")


def record_groups(path: str) -> Iterator[tuple[int, list[tuple[int, str]]]]:
    """The second pass: (record number, [(line number, text), ...]) for each record between header and trailer.

    A bill and the instalment records that follow it (at most 12) are one record.
    """
    count = 0
    bill: list[tuple[int, str]] | None = None
    for number, text in numbered_lines(path):
        if text.strip() == "":
            continue
        kind = text[:L.RECORD_TYPE_WIDTH]
        if kind == "INS" and bill is not None and len(bill) <= MAX_INSTALMENTS:
            bill.append((number, text))
            continue
        if bill is not None:
            count += 1
            yield count, bill
            bill = None
        if kind in ("HDR", "TRL"):
            continue
        if kind == "BIL":
            bill = [(number, text)]
            continue
        count += 1
        yield count, [(number, text)]
    if bill is not None:
        count += 1
        yield count, bill
