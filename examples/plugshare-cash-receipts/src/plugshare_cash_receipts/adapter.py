"""The cash-receipts adapter: the daily receipts CSV read into revenues.payment messages and written from them.

The format, what is kept and what is rejected are described in the package's
docstring (``plugshare_cash_receipts``); this module is the code.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from plugshare.adapters import AS_AT, COUNCIL, Adapter, AdapterError, Converted, Option, Outcome, Position, Rejected
from plugshare.adapters.contract import RecordError
from plugshare.adapters.files import NativeOutput
from plugshare.adapters.loss import not_restored
from plugshare.adapters.mapping import (
    CodeList,
    FieldMap,
    RecordMap,
    code,
    format_date,
    format_money,
    parse_date,
    parse_money,
)

KEY = "cash-receipts"
NAMESPACE = f"native.{KEY}"
PAYMENT = "revenues.payment"

#: the columns in the order writing puts them; the first seven are required
COLUMNS = ("receipt_no", "posted_date", "fund", "account_ref", "txn_type", "amount", "mop", "reversal_of",
           "channel", "batch_no", "cashier")
REQUIRED = COLUMNS[:7]

FUNDS = CodeList("fund", {"CTAX": "council_tax", "NNDR": "business_rates"})
TRANSACTION_TYPES = CodeList("txn_type", {"P": "payment", "R": "refund", "X": "reversal"})
#: several codes share a method; the first listed is the one writing gives it
METHODS = CodeList("mop (method of payment)", {
    "DD": "direct_debit", "SO": "standing_order", "BACS": "bank_transfer", "FP": "bank_transfer",
    "CHAPS": "bank_transfer", "DC": "card", "CC": "card", "CASH": "cash", "CHQ": "cheque", "PO": "post_office",
    "PP": "paypoint",
})
#: account_kind -> the word in an account id between the council and the account reference
ACCOUNT_WORD = {"council_tax": "ctax", "business_rates": "nndr"}
DATE_FORMS = ("%d/%m/%Y",)
_CODE = re.compile(r"[A-Za-z0-9]{1,20}")
_SURROGATE = re.compile("[\udc80-\udcff]")


def _date(text: str, field: str) -> str | None:
    return parse_date(text, field, DATE_FORMS)


RECEIPT = RecordMap([
    FieldMap("posted_date", "received_date", _date, format_date, required=True),
    FieldMap("fund", "account_kind", *code(FUNDS), required=True),
    FieldMap("txn_type", "payment_type", *code(TRANSACTION_TYPES), required=True),
    FieldMap("mop", "method", *code(METHODS), required=True),
], namespace=NAMESPACE, consumed=("receipt_no", "account_ref", "amount", "reversal_of"))


def code_field(text: str | None, field: str) -> str:
    """A receipt number or account reference: 1 to 20 letters and digits, so that ids made from it are valid."""
    value = (text or "").strip()
    if not _CODE.fullmatch(value):
        raise RecordError(f"{field}: {value!r} is not 1 to 20 letters and digits")
    return value


class CashReceiptsAdapter(Adapter):
    key = KEY
    title = "Income management daily receipts CSV (council tax and business rates)"
    description = ("Reads a council income management system's daily receipts export into revenues.payment "
                   "messages (payments, refunds and reversals) and writes one from them.")
    reads = (PAYMENT,)
    writes = (PAYMENT,)
    options = (
        COUNCIL, AS_AT,
        Option("encoding", "Text encoding of the file, e.g. cp1252 for a Windows export.", default="utf-8"),
        Option("extra_columns", "Writing: columns after the standard eleven, comma-separated, for native fields "
                                "kept from another export (e.g. payer_name)."),
    )
    source_kind = "file"
    #: what ``plugshare conformance run --adapter cash-receipts`` certifies it for: the two revenues profiles whose
    #: types include revenues.payment, and portability, as it writes what it reads. A receipt is keyed by its
    #: number, so the writer refuses the suite's corpus payments (their ids are not <council>-rcpt-<receipt_no>);
    #: the suite's round trip then writes the payments of its good sample (samples/samples.json), and its report
    #: says so
    conformance_profiles = ("council-tax", "business-rates", "portability")

    @property
    def encoding(self) -> str:
        name = self.settings["encoding"]
        try:
            return codecs.lookup(name).name
        except LookupError:
            raise AdapterError(f"option encoding={name!r} is not an encoding Python knows, such as utf-8 or "
                               "cp1252") from None

    # --- reading ------------------------------------------------------------------

    def read(self, source: str) -> Iterator[Outcome]:
        header: list[str] | None = None
        for position, fields in self._lines(source):
            if header is None:
                header = _header(source, fields)
                continue
            if len(fields) != len(header):  # as the quarantine can hold them: a byte not text as \xNN
                yield Rejected(position, [_shown(field) for field in fields],
                               f"the record has {len(fields)} fields and the header {len(header)}: a comma or a "
                               "quote is out of place")
                continue
            row = dict(zip(header, fields, strict=True))
            try:
                _decoded(row, self.encoding)
                record = self.payment(row)
            except RecordError as exc:
                native = {name: _shown(value) for name, value in row.items()}
                yield Rejected(position, native, f"receipt {native['receipt_no'].strip() or '(no number)'}: "
                                                 f"{exc.reason}", exc.requirement)
            else:
                yield Converted(position, [self.message(PAYMENT, record)], native=row)
        if header is None:
            raise AdapterError(f"{source}: the file is empty; a receipts export starts with its header line "
                               f"({','.join(COLUMNS)})")

    def _lines(self, source: str) -> Iterator[tuple[Position, list[str]]]:
        """Non-blank lines as fields, with their positions; record numbers count receipts from 1."""
        encoding = "utf-8-sig" if self.encoding == "utf-8" else self.encoding
        try:  # bytes not in the encoding are kept as surrogates, so that the record naming them is rejected
            handle = open(source, encoding=encoding, errors="surrogateescape", newline="")
        except OSError as exc:
            raise AdapterError(f"{source}: cannot be read ({exc.strerror}); check the file name") from None
        with handle:
            reader = csv.reader(handle)
            record, line = 0, 1
            while True:
                try:
                    fields = next(reader, None)
                except csv.Error as exc:
                    raise AdapterError(f"{source} line {line}: not CSV the adapter can read ({exc})") from None
                if fields is None:
                    return
                if fields:  # a blank line is no record
                    yield Position(source, record, line), fields
                    record += 1
                line = reader.line_num + 1

    def payment(self, row: dict[str, str], council: str | None = None) -> dict[str, Any]:
        """One receipt row -> a revenues.payment record, with ids of ``council`` (default: the option's)."""
        council = council or self.council
        for name in REQUIRED:
            if not row[name].strip():
                raise RecordError(f"{name} is empty; it is required")
        receipt = code_field(row["receipt_no"], "receipt_no")
        base: dict[str, Any] = {"id": f"{council}-rcpt-{receipt}", "source_ids": [{"scheme": KEY, "value": receipt}],
                                "extensions": {}}
        record = RECEIPT.to_record(row, base)
        reference = code_field(row["account_ref"], "account_ref")
        record["account_id"] = f"{council}-{ACCOUNT_WORD[record['account_kind']]}-{reference}"
        record["reference"] = reference
        record["amount"] = _amount(row["amount"], record["payment_type"])
        reversal_of = (row.get("reversal_of") or "").strip()
        if record["payment_type"] == "reversal" and not reversal_of:
            raise RecordError("reversal_of is empty; a reversal (txn_type X) must name the receipt it reverses")
        if reversal_of:
            if record["payment_type"] != "reversal":
                raise RecordError(f"reversal_of is {reversal_of!r}, but a {record['payment_type']} reverses nothing; "
                                  "only txn_type X names a receipt")
            record["reverses_payment_id"] = f"{council}-rcpt-{code_field(reversal_of, 'reversal_of')}"
        written = METHODS.to_native(record["method"])
        if row["mop"].strip() != written:  # a code writing would not give back: keep it (the loss rule)
            record["extensions"].setdefault(NAMESPACE, {})["mop"] = row["mop"].strip()
        return record

    # --- writing ------------------------------------------------------------------

    def write(self, messages: Iterable[dict[str, Any]], target: str) -> Iterator[Outcome]:
        extra = [name.strip().lower() for name in self.settings.get("extra_columns", "").split(",") if name.strip()]
        header = COLUMNS + tuple(name for name in extra if name not in COLUMNS)
        encoding = self.encoding
        out = NativeOutput(target, encoding=encoding, newline="")  # beside the target until complete
        finished = False
        try:
            rows = csv.writer(out, lineterminator="\r\n")
            rows.writerow(header)
            for number, message in enumerate(messages, start=1):
                position = Position("messages", number)
                try:
                    row = self.row(message, header)
                    for name, value in row.items():
                        _encodable(value, name, encoding)
                    back = self.read_back(row, message["council"])
                except RecordError as exc:
                    yield Rejected(position, message, exc.reason, exc.requirement)
                except (KeyError, TypeError, ValueError, ArithmeticError) as exc:  # a message that skipped validation
                    yield Rejected(position, message, f"the message lacks or garbles a field a receipt needs "
                                                      f"({type(exc).__name__}: {exc}); validate it first")
                else:
                    rows.writerow([row[name] for name in header])
                    # the loss rule: what of the message the row does not give back is reported, never dropped unsaid
                    yield Converted(position, [message], lost=not_restored(message["data"], back, NAMESPACE))
            finished = True
        finally:
            out.close(finished)

    def read_back(self, row: dict[str, str], council: str) -> dict[str, Any]:
        """The record reading ``row`` gives (in memory, with the reader's code); a row that would not read back is
        a RecordError, so that it is never written."""
        try:
            return self.payment(dict(row), council)
        except RecordError as exc:
            raise RecordError(f"the receipt line made from it would not read back ({exc.reason}), so it is not "
                              "written", exc.requirement) from None

    def row(self, message: dict[str, Any], header: tuple[str, ...]) -> dict[str, str]:
        """A revenues.payment message -> the receipt row, with the native fields it keeps."""
        kind = str(message.get("type", "")).removeprefix("uk.plugshare.")
        if kind != PAYMENT:
            raise RecordError(f"a {kind or 'message without a type'} has no place in a receipts file, which "
                              f"carries {PAYMENT} only")
        if message.get("action") == "delete":
            raise RecordError("a deletion cannot be written: a receipt is undone by a reversal (txn_type X)")
        council, data = message["council"], message["data"]
        extensions = data.get("extensions", {})
        kept = dict(extensions.get(NAMESPACE, {}))
        mop = kept.pop("mop", None)  # written in the mop column below, not as a column of its own
        no_column = sorted(set(kept) - set(header))
        if no_column:
            raise RecordError(f"it keeps the native field(s) {', '.join(no_column)}, which this file has no column "
                              f"for; give --option extra_columns={','.join(no_column)}")
        row = RECEIPT.to_row({**data, "extensions": {**extensions, NAMESPACE: kept}}, header)
        if isinstance(mop, str) and _gives(mop, data["method"]):
            row["mop"] = mop
        # the key is the id's: a cash-receipts source id that differs is not written, and reported lost
        row["receipt_no"] = _suffix(data["id"], f"{council}-rcpt-", "id", "<council>-rcpt-<receipt_no>")
        word = ACCOUNT_WORD[data["account_kind"]]
        row["account_ref"] = _suffix(data["account_id"], f"{council}-{word}-", "account_id",
                                     f"<council>-{word}-<account reference>")
        amount = Decimal(data["amount"])
        if amount == 0:
            raise RecordError("amount is 0.00; a receipt moves money")
        row["amount"] = format_money(str(-amount if data["payment_type"] in ("refund", "reversal") else amount))
        if "reverses_payment_id" in data:
            row["reversal_of"] = _suffix(data["reverses_payment_id"], f"{council}-rcpt-", "reverses_payment_id",
                                         "<council>-rcpt-<receipt_no>")
        return row


def _gives(kept: str, method: str) -> bool:
    """The mop code kept in the extensions is one of the method's codes (else the method's own is written)."""
    try:
        return METHODS.to_canonical(kept) == method
    except RecordError:
        return False


def _header(source: str, fields: list[str]) -> list[str]:
    names = [name.strip().lower() for name in fields]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise AdapterError(f"{source} line 1: the header names {', '.join(twice)} more than once")
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        raise AdapterError(f"{source} line 1: the header lacks {', '.join(missing)}; a daily receipts export "
                           f"starts with the header {','.join(COLUMNS)} (is this the right file?)")
    return names


def _amount(text: str, payment_type: str) -> str:
    """The signed amount of the file -> the standard's positive amount, checking the sign against the type."""
    value = Decimal(parse_money(text, "amount") or "0")
    if value == 0:
        raise RecordError(f"amount is {text.strip()!r}; a receipt of nothing moves no money")
    if payment_type == "payment" and value < 0:
        raise RecordError(f"amount {text.strip()} is negative, but txn_type P is a payment; refunds (R) and "
                          "reversals (X) are negative")
    if payment_type != "payment" and value > 0:
        raise RecordError(f"amount {text.strip()} is positive, but a {payment_type} takes money back and is "
                          "negative in this file")
    return format_money(str(abs(value)))


def _suffix(value: str, prefix: str, field: str, form: str) -> str:
    if not value.startswith(prefix):
        raise RecordError(f"{field} {value!r} is not of the form {form}, so the file cannot name it")
    return code_field(value[len(prefix):], field)


def _encodable(value: str, column: str, encoding: str) -> None:
    try:
        value.encode(encoding)
    except UnicodeEncodeError as exc:
        raise RecordError(f"{column}: {exc.object[exc.start:exc.end]!r} cannot be written in {encoding}; give "
                          "--option encoding=utf-8 or correct the record") from None


def _decoded(row: dict[str, str], encoding: str) -> None:
    for name, value in row.items():
        found = _SURROGATE.search(value)
        if found:
            byte = found.group().encode("utf-8", "surrogateescape").hex().upper()
            raise RecordError(f"{name}: byte 0x{byte} is not {encoding} text; give --option encoding=... "
                              "(e.g. cp1252 for a Windows export) or correct the record")


def _shown(value: str) -> str:
    """A field with undecodable bytes as text the quarantine can hold: the bytes as \\xNN."""
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
