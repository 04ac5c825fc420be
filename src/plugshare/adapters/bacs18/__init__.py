"""BACS Standard 18: Direct Credit payment files, written from payslips and read back as bank accounts.

The format
----------
A Standard 18 file is ASCII text, one record per line (this adapter writes
CRLF line ends and reads CRLF or LF). Labels are 80 characters, data records
100 (106 in a multi-processing-day file, whose positions 101-106 carry each
record's processing day). In order:

``VOL1`` volume label: 5-10 submission serial, 42-47 service user number (SUN),
80 ``1``. ``HDR1``: 5 ``A``, 6-11 SUN, 12 ``S``, 16-21 SUN, 22-27 serial,
28-35 ``00010001``, 42-47 creation and 48-53 expiry date (``bYYDDD``), 55-60
block count. ``HDR2``: 5 ``F``, 6-10 block length ``02000``, 11-15 record
length ``00100`` (or ``00106``), 51-52 ``00``. ``UHL1``: 5-10 processing day
``bYYDDD`` (a space, the year in two digits, the day of the year in three),
11-20 ``999999``, 21-22 currency ``00``, 23-28 ``000000``, 29-37 work code
``1 DAILY`` (``4 MULTI`` for 106-character records), 38-40 file number.

Data records (each a payment):

====== ===================================== ==========================================
 pos    field                                 canonical (payroll.bank-account)
====== ===================================== ==========================================
 1-6    destination sort code                 ``sort_code``
 7-14   destination account number            ``account_number``
 15     transaction type, ``0``               (checked)
 16-17  transaction code, ``99`` credit       (checked: only credits become bank accounts)
 18-23  originating sort code                 extensions ``originating_sort_code``
 24-31  originating account number            extensions ``originating_account``
 32-35  free format (RTI hash, if any)        extensions ``free_format`` (when not blank)
 36-46  amount in pence, 11 digits            extensions ``amount`` (as ``"3481.16"``)
 47-64  user (originator) name                extensions ``user_name``
 65-82  reference (payroll id, or the         ``source_ids`` [{scheme bacs18, value}];
        building society roll number)         ``person_id`` is derived from it
 83-100 destination account name              ``account_name``
====== ===================================== ==========================================

The contra record balances the credits before it: it debits (code ``17``) the
originating account itself (destination = originating sort code and account)
with their total, ``CONTRA`` in the reference field, the user name in 47-64
and 83-100. ``EOF1`` and ``EOF2`` repeat HDR1 and HDR2 from position 5;
``UTL1``: 5-17 debit value total, 18-30 credit value total (13 digits, pence),
31-37 debit record count, 38-44 credit record count. Text is upper case from
the BACS set ``A-Z 0-9 . & / -`` and space.

Sources: the layouts published by Bank of Ireland ("BACS File Specification":
VOL1 and HDR1 tables, labels 80), MYOB ("Settings of the BACS HSBC file": VOL1),
FinDock ("Bacs Direct Debit collection file": labels 80, records 106 in
multi-day files), HSBC's "Message Implementation Guide BACS Standard 18"
(record order), the ISO/ANSI tape label layout HDR1 and EOF1 follow (IBM and
Fujitsu manuals), and open implementations that agree on every data position
(a Bacs18 data-line specification; a FileHelpers UHL1/UTL1 layout; a payroll
Bacs writer citing the Bacs ISO 20022 translation guide for the contra: code
17, ``CONTRA`` in field 10, and the Bacs date ``bYYDDD``). Bacs' own PN5011
"File Structures" is not public, so label housekeeping fields follow these.

Writing (payroll.bank-account, payroll.payslip)
-----------------------------------------------
Bank-account messages are buffered by person id (the only buffer; a deletion
removes one) and yield Converted when taken. Each payslip is written at once as
a credit of its ``net_pay`` to the person's bank account current on its
``payment_date`` (``effective_from`` <= date <= ``effective_to``; the latest
start wins, two starting the same day are refused). So bank accounts must come
before the payslips in the stream. The reference is the payslip's
``payroll_id`` (or, for a building society account, its roll number, as Bacs
requires), at most 18 characters; the account name is trimmed, upper-cased
and cut to the 18 characters the field holds (Bacs matches on them). A payslip is
Rejected, with the reason, when it has no current bank account, net pay of
zero or less, an amount over 11 digits, a payment date other than the file's,
or a character outside the BACS set (named; never dropped or replaced). Lower
case is converted to upper case.

The labels are written with the first payment; its payment date is the
processing day unless ``processing_date`` is given (Bacs credits arrive on
the working day after the processing day, so councils usually set it to the
working day before pay day). A contra closes the file (and a section whenever
another payment would take the contra past 11 digits), then EOF1, EOF2 and
UTL1 with the totals. The free format field is left blank (the RTI hash
cross-reference is not computed). With no payment at all no file is made and
an AdapterError says so. The VOL1 serial defaults to the processing day's day
of the year followed by ``001``; HDR1's creation date is ``as_at``, its expiry
the processing day.

A payment file carries only the payments. A payslip is what a payment is made
from (its net pay, its ``payroll_id`` as the reference, its payment date); it
is not a record of the file, so its other values (gross pay, tax, NI, year to
date...) are not declared lost one by one: nothing is declared for payslips.
A bank account gives its payments the sort code, the account number, the
name as Bacs holds it and the building society roll number (the reference);
its ``id``, ``person_id`` and effective dates choose the account a payslip
pays. What the payments cannot carry of a bank account is listed, as JSON
pointers, in its outcome's ``lost``, which the conversion reports as not
written: an ``account_name`` or roll number that Bacs changes (spaces at
either end, lower case, a name cut to 18 characters), ``source_ids`` other
than the ``bacs18`` reference, and its extensions under ``native.bacs18``
(what a payment read from a file was: amount, originator, processing day; a
payment written takes these from the payslip and the options). Extensions of
other namespaces are reported by the conversion itself, for payslips too. A
bank account that no payslip pays is not in the file at all.

Reading (payroll.bank-account)
------------------------------
A first pass checks the labels (order, 80 characters, the processing day, the
record length), that each contra equals the credits since the previous one
(else an AdapterError naming the difference) and the UTL1 totals and counts;
only then does a second pass yield one outcome per payment record (contras
and labels are structure, not records; Position carries the line number).
Each credit becomes one payroll.bank-account: ``effective_from`` is the
processing day (the account was paid then; its real start is not in the file),
``person_id`` is ``<council>-payroll-<reference>``, made by
``plugshare.adapters.mapping.payroll_person_id`` (letters, digits, ``.`` and
``-`` as they are, any other character escaped: a space as ``_20``, ``/`` as
``_2F``, ``&`` as ``_26``, so that different references never give the same
id): it names the person only where the reference is the payroll id, as this
adapter writes it, and it is the person id rti-fps derives from the same
payroll id when that id is in upper case and the BACS character set (Bacs
holds references in upper case, so ``ab12`` is read as ``AB12``, another
person id). The ``id`` is ``<council>-bacs-`` and
a digest of sort code, account number and reference, so that ids never show
the account number. The file's SUN is kept in extensions
(``service_user_number``) with the processing day; the labels' housekeeping
(serial, creation and expiry dates, file number, block counts) describes the
transmission, not a payment, and is not kept.

A payment record is Rejected with its raw line when it is not exactly the
record length, has a non-digit in a numeric field (account numbers masked to
their last two digits), a character outside the BACS set (named), a transaction
type other than ``0``, a code other than ``99`` (direct debits and AUDDIS
instructions are not payroll bank accounts), or a blank name or reference.

Not supported: payslips cannot be read back (a payment carries net pay only,
not the gross, tax and NI a payslip needs), so a file read back cannot be
written again without its payslips; the round trip is bank accounts -> BACS ->
bank accounts, stable in sort code, account number and the account name's
first 18 characters (upper case, spaces at either end dropped). Direct Debit and
AUDDIS files and multi-file submissions (several HDR1..UTL1) are refused;
multi-day files are read, not written; a bureau's VOL1 owner is not checked
against HDR1's SUN (the SUN kept is HDR1's).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from typing import Any

from plugshare.adapters.bacs18 import layout as L
from plugshare.adapters.bacs18.reader import FileFacts, payments, scan
from plugshare.adapters.bacs18.writer import BANK_ACCOUNT, PAYSLIP, Writer
from plugshare.adapters.contract import (
    AS_AT,
    COUNCIL,
    Adapter,
    Converted,
    Option,
    Outcome,
    Position,
    RecordError,
    Rejected,
)
from plugshare.adapters.mapping import CodeList, FieldMap, RecordMap, parse_money, payroll_person_id
from plugshare.hookspecs import hookimpl

NAMESPACE = "native.bacs18"

TRANSACTION_CODES = CodeList("BACS transaction code", {
    "99": "credit", "17": "direct debit", "01": "first direct debit", "18": "re-presented direct debit",
    "19": "final direct debit", "0N": "new Direct Debit Instruction (AUDDIS)",
    "0C": "cancelled Direct Debit Instruction (AUDDIS)", "0S": "converted Direct Debit Instruction (AUDDIS)",
    "Z4": "interest credit", "Z5": "dividend credit",
}, case_sensitive=True)

BANK_ACCOUNT_MAP = RecordMap([
    FieldMap("destination_sort_code", "sort_code", required=True),
    FieldMap("destination_account", "account_number", required=True),
    FieldMap("destination_name", "account_name", required=True),
], namespace=NAMESPACE, consumed=("transaction_type", "transaction_code", "reference"))


class Bacs18Adapter(Adapter):
    key = "bacs18"
    title = "BACS Standard 18 Direct Credit payment file"
    description = ("Writes a Standard 18 payment file (VOL1/HDR1/HDR2/UHL1 labels, one credit per payslip's net pay, "
                   "the contra and EOF1/EOF2/UTL1 totals) and reads one back as bank accounts, checking the balance.")
    reads = (BANK_ACCOUNT,)
    writes = (BANK_ACCOUNT, PAYSLIP)
    options = (
        COUNCIL, AS_AT,
        Option("originator_sort_code", "Writing: sort code of the council's account the payments are drawn on."),
        Option("originator_account", "Writing: account number of that account (8 digits).", secret=True),
        Option("sun", "Writing: the council's 6-digit Bacs service user number (SUN)."),
        Option("user_name", "Writing: the service user's name shown with each payment (up to 18 BACS characters)."),
        Option("processing_date", "Writing: the Bacs processing day (YYYY-MM-DD). Default: the payment date."),
        Option("serial", "Writing: the 6-character VOL1 submission serial. Default: day of the year + 001."),
    )
    source_kind = "file"
    #: reading gives the bank accounts paid, not the records written: no round trip, so no portability profile
    conformance_profiles = ("payroll-core",)

    def read(self, source: str) -> Iterator[Outcome]:
        facts = scan(source)
        for number, line, text in payments(source):
            position = Position(source, number, line)
            try:
                record = self.bank_account(text, facts)
            except RecordError as exc:
                yield Rejected(position, text, exc.reason, exc.requirement)
            else:
                yield Converted(position, [self.message(BANK_ACCOUNT, record)], native=text)

    def bank_account(self, text: str, facts: FileFacts) -> dict[str, Any]:
        """One credit record -> a payroll.bank-account record."""
        if len(text) != facts.record_width:
            raise RecordError(f"the record is {len(text)} characters; this file's data records are "
                              f"{facts.record_width} (HDR2), so its fields cannot be found: correct the record")
        row = L.read_fields(text.upper(), facts.layout)
        if row["transaction_type"] != "0":
            raise RecordError(f"transaction type (position 15) is {row['transaction_type']!r}; it must be '0'")
        kind = TRANSACTION_CODES.to_canonical(row["transaction_code"])
        if row["transaction_code"] != L.CREDIT:
            raise RecordError(f"transaction code {row['transaction_code']} is a {kind}; only credits (code 99) "
                              f"pay a bank account, and this adapter reads Direct Credit payment files")
        row = {name: value.rstrip() for name, value in row.items()}
        reference = row["reference"].strip()
        if not row["destination_name"].strip() or not reference:
            blank = "destination account name (83-100)" if reference else "reference (65-82)"
            raise RecordError(f"the {blank} is blank; a payment needs both to be read as a person's bank account")
        row["amount"] = parse_money(row["amount"], "amount", implied_decimals=2) or "0.00"
        day = (L.julian_date(row["processing_day"], "processing day (positions 101-106)")
               if "processing_day" in row else facts.processing_day)
        row["processing_day"] = day.isoformat()
        row["service_user_number"] = facts.service_user_number
        digest = hashlib.sha256(f"{row['destination_sort_code']}|{row['destination_account']}|{reference}"
                                .encode()).hexdigest()[:20]
        base = {"id": f"{self.council}-bacs-{digest}", "source_ids": [{"scheme": self.key, "value": reference}],
                "extensions": {}, "person_id": payroll_person_id(self.council, reference, "reference (65-82)"),
                "effective_from": day.isoformat()}
        return BANK_ACCOUNT_MAP.to_record(row, base)

    def write(self, messages: Iterable[dict[str, Any]], target: str) -> Iterator[Outcome]:
        yield from Writer(self, target).run(messages)


@hookimpl
def plugshare_register_adapters(register):
    register(Bacs18Adapter)
