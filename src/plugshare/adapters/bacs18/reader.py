"""Reading a Standard 18 file: a first pass checks the structure and the balances, a second yields the payments.

Both passes stream the file line by line; the first keeps only running totals,
so memory stays flat for any number of payments. Whole-file problems (labels,
contra balance, trailer totals) raise :class:`AdapterError` before any payment
is converted; a malformed payment record is the caller's to reject.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from plugshare.adapters.bacs18 import layout as L
from plugshare.adapters.contract import AdapterError, RecordError
from plugshare.adapters.files import numbered_lines

DAILY_WORK_CODE = "1 DAILY  "
MULTI_WORK_CODE = "4 MULTI  "


@dataclass(frozen=True)
class FileFacts:
    """What the labels say about the file, for reading its payments."""

    record_width: int
    processing_day: dt.date
    service_user_number: str
    payments: int

    @property
    def layout(self) -> tuple[L.Field, ...]:
        return L.DATA + ((L.PROCESSING_DAY,) if self.record_width == L.MULTI_WIDTH else ())


@dataclass
class _Section:
    """The payments a contra balances: those since the previous contra."""

    first_line: int | None = None
    credits: int = 0
    total: int = 0
    unreadable: int = 0
    originators: set[tuple[str, str]] = field(default_factory=set)


def is_contra(upper: str) -> bool:
    """A contra is known by its narrative: 'CONTRA' in the reference field (positions 65-82)."""
    words = upper[64:82].split()
    return bool(words) and words[0] == L.CONTRA_NARRATIVE


def _amount(upper: str) -> int | None:
    text = upper[35:46]
    return int(text) if len(text) == 11 and text.isdigit() else None


def _money(pence: int) -> str:
    return f"{Decimal(pence).scaleb(-2):f}"


def _label(path: str, number: int, text: str, name: str) -> str:
    if len(text) != L.LABEL_WIDTH:
        raise AdapterError(f"{path} line {number}: the {name} label is {len(text)} characters; Standard 18 labels "
                           f"are {L.LABEL_WIDTH}. The file may have been edited or trimmed: export it again")
    return text


def _field(path: str, number: int, text: str, spec: L.Field) -> str:
    value = spec.cut(text)
    if spec.kind == "digits" and not value.isdigit():
        raise AdapterError(f"{path} line {number}: {spec.title} must be {spec.width} digits, not {value!r}")
    return value


def scan(path: str) -> FileFacts:
    """The first pass: labels, contras and trailer totals; raises AdapterError naming the first problem."""
    numbered = (item for item in numbered_lines(path) if item[1] != "")
    labels: dict[str, tuple[int, str]] = {}
    for name in ("VOL1", "HDR1", "HDR2", "UHL1"):
        number, text = next(numbered, (0, ""))
        if not number:
            raise AdapterError(f"{path}: the file ends before its {name} label; a Standard 18 file starts with the "
                               f"VOL1, HDR1, HDR2 and UHL1 labels")
        if not text.startswith(name):
            raise AdapterError(f"{path} line {number}: expected the {name} label, found {text[:4]!r}; this is not "
                               f"a Standard 18 payment file (or its labels are missing or out of order)")
        labels[name] = (number, _label(path, number, text, name))
    facts = _header_facts(path, labels)

    totals = {"debit_total": 0, "credit_total": 0, "debit_count": 0, "credit_count": 0}
    section, payments, eof1 = _Section(), 0, None
    for number, text in numbered:
        if text.startswith("EOF1"):
            eof1 = (number, text)
            break
        if text[:3] in ("VOL", "HDR", "UHL", "UTL", "EOF"):
            raise AdapterError(f"{path} line {number}: a {text[:4]} label among the payments; only one payment "
                               f"file (one HDR1 to UTL1) per input is read: split the input")
        upper = text.upper()
        if is_contra(upper):
            amount = _contra(path, number, upper, facts, section)
            totals["debit_total"] += amount
            totals["debit_count"] += 1
            section = _Section()
            continue
        payments += 1
        amount = _amount(upper)
        kind = "debit" if upper[15:17] in L.DEBIT_CODES else "credit"
        totals[f"{kind}_count"] += 1
        totals[f"{kind}_total"] += amount or 0
        if kind == "credit":
            section.first_line = section.first_line or number
            section.credits += 1
            section.total += amount or 0
            section.unreadable += amount is None
            section.originators.add((upper[17:23], upper[23:31]))
    if eof1 is None:
        raise AdapterError(f"{path}: the file ends without its EOF1, EOF2 and UTL1 labels; it is incomplete: "
                           f"ask for the whole file")
    if section.credits:
        raise AdapterError(f"{path}: the {section.credits} payment(s) from line {section.first_line} totalling "
                           f"{_money(section.total)} have no contra record after them; the file does not balance")
    if not payments:
        raise AdapterError(f"{path}: the file holds no payment records")
    _trailer(path, eof1, numbered, labels, totals)
    return FileFacts(facts.record_width, facts.processing_day, facts.service_user_number, payments)


def _header_facts(path: str, labels: dict[str, tuple[int, str]]) -> FileFacts:
    number, hdr1 = labels["HDR1"]
    sun = _field(path, number, hdr1, L.HDR1_SUN)
    number, hdr2 = labels["HDR2"]
    width = int(_field(path, number, hdr2, L.HDR2_RECORD_LENGTH))
    if width not in (L.DAILY_WIDTH, L.MULTI_WIDTH):
        raise AdapterError(f"{path} line {number}: HDR2 gives data records of {width} characters; Standard 18 "
                           f"records are {L.DAILY_WIDTH} (single processing day) or {L.MULTI_WIDTH} (multi-day)")
    number, uhl = labels["UHL1"]
    try:
        day = L.julian_date(L.UHL1_PROCESSING_DAY.cut(uhl), L.UHL1_PROCESSING_DAY.title)
    except RecordError as exc:
        raise AdapterError(f"{path} line {number}: {exc.reason}") from None
    work = L.UHL1_WORK_CODE.cut(uhl)
    expected = MULTI_WORK_CODE if width == L.MULTI_WIDTH else DAILY_WORK_CODE
    if work in (DAILY_WORK_CODE, MULTI_WORK_CODE) and work != expected:
        raise AdapterError(f"{path} line {number}: UHL1 work code {work.strip()!r} does not match HDR2's record "
                           f"length {width}; the labels contradict each other")
    return FileFacts(width, day, sun, 0)


def _contra(path: str, number: int, upper: str, facts: FileFacts, section: _Section) -> int:
    where = f"{path} line {number}"
    if len(upper) != facts.record_width:
        raise AdapterError(f"{where}: the contra record is {len(upper)} characters, not {facts.record_width}")
    try:
        row = L.read_fields(upper, facts.layout)
    except RecordError as exc:
        raise AdapterError(f"{where}: the contra record is malformed: {exc.reason}") from None
    code = row["transaction_code"]
    if code == L.CREDIT:
        raise AdapterError(f"{where}: a credit contra (code 99) balances direct debits; this is a Direct Debit "
                           f"collection file, and this adapter reads Direct Credit payment files")
    if code != L.DEBIT_CONTRA:
        raise AdapterError(f"{where}: the contra has transaction code {code!r}; a Direct Credit file's contra "
                           f"debits the originator with code 17")
    own = (row["originating_sort_code"], row["originating_account"])
    if (row["destination_sort_code"], row["destination_account"]) != own:
        raise AdapterError(f"{where}: the contra must debit the originating account itself (destination and "
                           f"originating sort code and account the same)")
    if section.originators - {own}:
        raise AdapterError(f"{where}: payments before this contra come from another originating account; each "
                           f"account's payments need their own contra")
    amount = int(row["amount"])
    if amount != section.total:
        difference = _money(abs(amount - section.total))
        unread = (f" ({section.unreadable} payment amount(s) in this section cannot be read and are not counted)"
                  if section.unreadable else "")
        raise AdapterError(f"{where}: the contra debits {_money(amount)} but the {section.credits} payment(s) "
                           f"before it total {_money(section.total)}{unread}: a difference of {difference}. The "
                           f"file does not balance; do not submit it, ask for it to be produced again")
    return amount


def _trailer(path: str, eof1: tuple[int, str], numbered: Iterator[tuple[int, str]],
             labels: dict[str, tuple[int, str]], totals: dict[str, int]) -> None:
    number, text = eof1
    _label(path, number, text, "EOF1")
    if text[4:21] != labels["HDR1"][1][4:21]:
        raise AdapterError(f"{path} line {number}: EOF1 names another file than HDR1 (positions 5-21 differ)")
    found = {}
    for name in ("EOF2", "UTL1"):
        number, text = next(numbered, (0, ""))
        if not number or not text.startswith(name):
            raise AdapterError(f"{path}{f' line {number}' if number else ''}: expected the {name} label"
                               f"{f', found {text[:4]!r}' if number else ' but the file ends'}; the file is "
                               f"incomplete or out of order")
        found[name] = (number, _label(path, number, text, name))
    extra = next(numbered, None)
    if extra:
        raise AdapterError(f"{path} line {extra[0]}: more follows the UTL1 label; one payment file per input")
    number, utl = found["UTL1"]
    declared = {spec.name: int(_field(path, number, utl, spec)) for spec in L.UTL1_FIELDS}
    wrong = []
    for spec in L.UTL1_FIELDS:
        said, counted = declared[spec.name], totals[spec.name]
        if said != counted:
            show = _money if spec.name.endswith("total") else str
            wrong.append(f"{spec.label} {show(said)} but the records give {show(counted)}")
    if wrong:
        raise AdapterError(f"{path} line {number}: UTL1 says {'; '.join(wrong)}. The trailer does not match the "
                           f"records: do not submit the file, ask for it to be produced again")


def payments(path: str) -> Iterator[tuple[int, int, str]]:
    """The second pass: (payment number, line number, text) for each data record that is not a contra."""
    count = 0
    seen_labels = 0
    for number, text in numbered_lines(path):
        if text == "":
            continue
        if seen_labels < 4:
            seen_labels += 1
            continue
        if text.startswith("EOF1"):
            return
        if is_contra(text.upper()):
            continue
        count += 1
        yield count, number, text
