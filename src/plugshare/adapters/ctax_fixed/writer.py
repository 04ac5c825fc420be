"""Writing an extract as the messages arrive: each message is its record(s) at once, nothing is buffered.

The header is written with the first record (its extract time is ``as_at`` when
given, else the time of the first message written: a rejected message does not
set it); the trailer's counts and hash totals are accumulated line by line and
written at the end. The file is written beside the target and moved into place
only when complete. Each message's lines are read back in memory with the
reader's code; what of the message they would not give again goes in the
outcome's ``lost`` (see :mod:`plugshare.adapters.loss`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from plugshare.adapters.contract import (
    Adapter,
    AdapterError,
    Outcome,
    Position,
    RecordError,
    take_message,
)
from plugshare.adapters.ctax_fixed import layout as L
from plugshare.adapters.ctax_fixed.base import MESSAGE_TYPES, NAMESPACE
from plugshare.adapters.ctax_fixed.reader import HASHED, LAYOUT_VERSION
from plugshare.adapters.ctax_fixed.records import Mapper
from plugshare.adapters.files import NativeOutput
from plugshare.adapters.loss import not_restored
from plugshare.calculations import financial_year_of, is_year_label

RECORD_TYPES = {message_type: kind for kind, message_type in MESSAGE_TYPES.items()}
LARGEST_COUNT = {kind: 10 ** L.field(L.TRAILER, kind).width - 1 for kind in L.COUNTED}
LARGEST_RECORDS = 10 ** L.field(L.TRAILER, "records").width - 1
LARGEST_TOTAL = 10 ** (L.field(L.TRAILER, "payment_total").width - 1) - 1


class Writer:
    def __init__(self, adapter: Adapter, target: str):
        self.adapter, self.target = adapter, target
        self.mapper = Mapper(adapter.council)
        self.billing_authority, self.financial_year = _write_options(adapter)
        self.out: NativeOutput | None = None
        self.counts: Counter = Counter()
        self.totals = {name: 0 for name, _ in HASHED.values()}
        self.records = 0

    def run(self, messages: Iterable[dict[str, Any]]) -> Iterator[Outcome]:
        finished = False
        try:
            for number, message in enumerate(messages, start=1):
                yield take_message(Position("messages", number), message, lambda m=message: self._take(m),
                                   "the extract")
            if self.out is None:
                self._start(None)
            self._finish()
            finished = True
        finally:
            self._close(finished)

    def _lines(self, message: dict[str, Any]) -> list[tuple[str, str]]:
        message_type = str(message.get("type", "")).removeprefix("uk.plugshare.")
        kind = RECORD_TYPES.get(message_type)
        if kind is None:
            raise RecordError(f"a {message_type or 'message without a type'} message has no place in a council tax "
                              f"extract (it carries {', '.join(RECORD_TYPES)})")
        if message.get("council") != self.adapter.council:
            raise RecordError(f"the message is council {message.get('council')}'s; this extract is "
                              f"{self.adapter.council}'s (--option council)")
        if message.get("action", "upsert") == "delete":
            raise RecordError(f"a {message_type} deletion cannot be written: the extract is a full copy of the "
                              f"legacy system's records and has no deletions; leave the record out instead")
        data = message["data"]
        if kind == "PRP":
            rows = [("PRP", self.mapper.property_row(data))]
        elif kind == "ACC":
            rows = [("ACC", self.mapper.account_row(data))]
        elif kind == "BIL":
            bill, instalments = self.mapper.bill_rows(data)
            rows = [("BIL", bill)] + [("INS", row) for row in instalments]
        else:
            rows = [("PAY", self.mapper.payment_row(data))]
        return [(kind, L.write_fields(row, L.LAYOUTS[kind], kind)) for kind, row in rows]

    def _lost(self, data: dict[str, Any], lines: list[tuple[str, str]]) -> list[str]:
        """What of a message its lines do not carry: read them back as the reader does and compare."""
        try:
            _, back = self.mapper.read(list(enumerate((text for _, text in lines), start=1)))
        except RecordError:  # the lines would not read back at all
            back = None
        return not_restored(data, back, NAMESPACE)

    def _room(self, lines: list[tuple[str, str]]) -> dict[str, int]:
        """The hash amounts these lines add; a RecordError when the trailer could not hold the totals."""
        added: Counter = Counter(kind for kind, _ in lines)
        for kind, count in added.items():
            if self.counts[kind] + count > LARGEST_COUNT[kind]:
                raise RecordError(f"the trailer cannot count more than {LARGEST_COUNT[kind]} {kind} records; "
                                  f"split the extract")
        if self.records + len(lines) + 2 > LARGEST_RECORDS:
            raise RecordError(f"the trailer cannot count more than {LARGEST_RECORDS} records; split the extract")
        amounts: Counter = Counter()
        for kind, text in lines:
            if kind in HASHED:
                name, spec = HASHED[kind]
                amounts[name] += L.pence(L.read_money(spec.cut(text), spec))
        for name, amount in amounts.items():
            if abs(self.totals[name] + amount) > LARGEST_TOTAL:
                raise RecordError(f"the trailer's {L.field(L.TRAILER, name).label} would pass its 14 digits of "
                                  f"pence; split the extract")
        return dict(amounts)

    # --- the file -------------------------------------------------------------------

    def _take(self, message: dict[str, Any]) -> list[str]:
        """Map one message to its lines, then write them and add them to the trailer's counts and totals."""
        lines = self._lines(message)
        amounts = self._room(lines)
        if self.out is None:
            self._start(message)
        for kind, text in lines:
            self._line(text)
            self.counts[kind] += 1
        for name, amount in amounts.items():
            self.totals[name] += amount
        return self._lost(message["data"], lines)

    def _start(self, message: dict[str, Any] | None) -> None:
        moment = self.adapter.as_at
        if not self.adapter.settings.get("as_at") and message is not None:
            moment = _message_time(message) or moment
        year = self.financial_year or int(financial_year_of(moment.date())[:4])
        self.out = NativeOutput(self.target, encoding="ascii", newline="")
        header = {"record_type": "HDR", "billing_authority": self.billing_authority,
                  "extract_date": moment.date().isoformat(), "extract_time": moment.strftime("%H%M%S"),
                  "financial_year": str(year), "layout_version": LAYOUT_VERSION}
        self._line(L.write_fields(header, L.HEADER, "HDR"))

    def _finish(self) -> None:
        trailer = {"record_type": "TRL", **{kind: str(self.counts[kind]) for kind in L.COUNTED},
                   "records": str(self.records + 1), **{name: L.money(total) for name, total in self.totals.items()}}
        self._line(L.write_fields(trailer, L.TRAILER, "TRL"))

    def _line(self, text: str) -> None:
        assert self.out is not None
        self.out.write(text + "\r\n")
        self.records += 1

    def _close(self, finished: bool) -> None:
        if self.out is not None:
            self.out.close(finished)


def _message_time(message: dict[str, Any]) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(str(message.get("time", "")).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(dt.UTC) if moment.tzinfo else None


def _write_options(adapter: Adapter) -> tuple[str, int | None]:
    settings = adapter.settings
    authority = settings.get("billing_authority")
    if not authority:
        raise AdapterError("writing a council tax extract needs --option billing_authority=NNNN (the council's "
                           "4-digit billing authority code, which the header carries)")
    if not re.fullmatch(r"[0-9]{4}", authority):
        raise AdapterError(f"option billing_authority={authority!r} must be the 4-digit billing authority code")
    year = settings.get("financial_year")
    if year and not (re.fullmatch(r"[0-9]{4}-[0-9]{2}", year) and is_year_label(year)):
        raise AdapterError(f"option financial_year={year!r} is not a financial year such as 2025-26")
    return authority, int(year[:4]) if year else None
