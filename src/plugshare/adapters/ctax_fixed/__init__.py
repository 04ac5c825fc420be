"""ctax-fixed: a legacy council tax system's nightly fixed-width extract, read and written.

The format
----------
One ASCII file, one record per line, CRLF line ends (LF is read too; blank
lines are skipped). The first three characters of a line are its record type;
every record of a type has exactly its type's width. The file opens with one
``HDR``, then ``PRP`` properties, ``ACC`` accounts, ``BIL`` bills each followed
by its ``INS`` instalments, ``PAY`` payment transactions, and closes with one
``TRL``. Field types: ``N`` digits, zero-padded on the left; ``A`` printable
ASCII (0x20-0x7E), left-justified and padded with spaces; ``D`` a date
``YYYYMMDD``, ``00000000`` when absent (spaces are read as absent too); ``M``
money in pence, a sign (``+`` or ``-``) then zero-padded digits
(``+00000209618`` is 2096.18). A percent is ``N5`` with two implied decimals
(``02500`` is 25%, ``10000`` 100%).

``HDR`` header, 29 characters

======= ==== ==== ================================ ==========================================
 pos     wd   ty   field                            use
======= ==== ==== ================================ ==========================================
 1-3     3    A    record type ``HDR``
 4-7     4    N    billing authority code           checked against ``billing_authority``
 8-15    8    D    extract date                     ``as_at`` (with the time) unless given
 16-21   6    N    extract time ``HHMMSS``, UTC
 22-25   4    N    financial year (its first year)  2025 is 2025-26
 26-29   4    A    layout version ``CT03``           checked
======= ==== ==== ================================ ==========================================

``PRP`` property, 219 characters -> revenues.property

======= ==== ==== ================================ ==========================================
 pos     wd   ty   field                            canonical
======= ==== ==== ================================ ==========================================
 1-3     3    A    record type ``PRP``
 4-13    10   A    property reference               ``id`` ``<council>-ctp-<ref>``, source_ids
 14-25   12   N    UPRN (required, not zero)        ``address.uprn``
 26-33   8    N    USRN (zeros: none)               ``address.usrn``
 34-63   30   A    SAON                             ``address.saon``
 64-93   30   A    PAON                             ``address.paon``
 94-133  40   A    street                           ``address.street``
 134-163 30   A    locality                         ``address.locality``
 164-193 30   A    town                             ``address.town``
 194-201 8    A    postcode                         ``address.postcode`` (normalised)
 202-204 3    A    valuation list code              ``council_tax.valuation_list``
 205-205 1    A    band code                        ``council_tax.band``
 206-213 8    D    band effective date              ``council_tax.effective_date``
 214-215 2    A    property type                    extensions ``property_type``
 216-219 4    A    ward                             extensions ``ward``
======= ==== ==== ================================ ==========================================

``nation`` is the council's (E England, W Wales, S Scotland), ``domestic`` is
true, ``address.country`` GB. A dwelling not yet banded has both codes blank.

``ACC`` account, 314 characters -> revenues.council-tax-account

======= ==== ==== ================================ ==========================================
 pos     wd   ty   field                            canonical
======= ==== ==== ================================ ==========================================
 1-3     3    A    record type ``ACC``
 4-13    10   A    account reference                ``account_reference``; ``id``
                                                    ``<council>-cta-<ref>``, source_ids
 14-23   10   A    property reference               ``property_id`` ``<council>-ctp-<ref>``
 24-24   1    A    account status                   ``status``
 25-32   8    D    liability start                  ``liability.start``, parties' liable_from
 33-40   8    D    liability end                    ``liability.end``, parties' liable_to
 41-42   2    A    party 1 liability role           ``liable_parties[0].role``
 43-43   1    A    party 1 kind: P person,          ``name`` or ``organisation_name``
                   O organisation
 44-51   8    A    party 1 title                    ``party.name.title``
 52-71   20   A    party 1 forename                 ``party.name.given_name``
 72-91   20   A    party 1 middle names             ``party.name.middle_names``
 92-126  35   A    party 1 surname, or the          ``party.name.family_name`` or
                   organisation's name              ``party.organisation_name``
 127-212 86        party 2, laid out as party 1     ``liable_parties[1]`` (blank: none)
 213-215 3    A    discount 1 code                  ``discounts[0].discount_type``
 216-220 5    N    discount 1 percent               ``discounts[0].percent``
 221-228 8    D    discount 1 start                 ``discounts[0].period.start``
 229-236 8    D    discount 1 end                   ``discounts[0].period.end``
 237-260 24        discount 2, laid out as 1        ``discounts[1]`` (blank: none)
 261-262 2    A    exemption code                   ``exemption.exemption_class``
 263-270 8    D    exemption start                  ``exemption.period.start``
 271-278 8    D    exemption end                    ``exemption.period.end``
 279-281 3    A    premium code                     ``premium.premium_type``
 282-286 5    N    premium percent                  ``premium.percent``
 287-294 8    D    premium start                    ``premium.period.start``
 295-302 8    D    premium end                      ``premium.period.end``
 303-310 8    D    empty since                      ``premium.empty_since``
 311-312 2    A    payment method code              ``payment_method``
 313-314 2    N    instalments requested (00: not   ``instalments_requested`` (absent
                   recorded)                        when 00)
======= ==== ==== ================================ ==========================================

``BIL`` bill, 122 characters, then its ``INS`` records -> revenues.council-tax-bill

======= ==== ==== ================================ ==========================================
 pos     wd   ty   field                            canonical
======= ==== ==== ================================ ==========================================
 1-3     3    A    record type ``BIL``
 4-13    10   A    account reference                ``account_id`` ``<council>-cta-<ref>``
 14-17   4    N    financial year (its first year)  ``financial_year`` (2025: ``2025-26``)
 18-19   2    N    bill number (01 the annual       ``id`` ``<council>-ctb-<ref>-<year>-<nn>``,
                   demand, then each revision)      source_ids ``<ref>/<yyyy>/<nn>``
 20-27   8    D    issue date                       ``issue_date``
 28-35   8    D    period start                     ``period.start``
 36-43   8    D    period end                       ``period.end``
 44-46   3    A    valuation list code              ``valuation_list``
 47-47   1    A    band code                        ``band``
 48-59   12   M    Band D charge                    ``band_d_charge``
 60-64   5    N    discount percent                 ``discount_percent``
 65-69   5    N    premium percent                  ``premium_percent``
 70-70   1    A    exempt flag Y or N               ``exempt``
 71-82   12   M    annual charge                    ``annual_charge``
 83-94   12   M    period charge                    ``period_charge``
 95-106  12   M    reduction (council tax           ``reduction``
                   reduction awarded)
 107-118 12   M    amount payable                   ``amount_payable``
 119-120 2    N    instalment count                 the number of ``INS`` that follow
 121-122 2    A    council tax reduction scheme     extensions ``ctr_scheme``
======= ==== ==== ================================ ==========================================

``INS`` instalment, 41 characters: follows its bill, in order

======= ==== ==== ================================ ==========================================
 pos     wd   ty   field                            canonical
======= ==== ==== ================================ ==========================================
 1-3     3    A    record type ``INS``
 4-13    10   A    account reference                the bill's (checked)
 14-17   4    N    financial year                   the bill's (checked)
 18-19   2    N    bill number                      the bill's (checked)
 20-21   2    N    instalment number, from 01       the position in ``instalments``
 22-29   8    D    due date                         ``instalments[n].due_date``
 30-41   12   M    amount                           ``instalments[n].amount``
======= ==== ==== ================================ ==========================================

``PAY`` payment transaction, 89 characters -> revenues.payment

======= ==== ==== ================================ ==========================================
 pos     wd   ty   field                            canonical
======= ==== ==== ================================ ==========================================
 1-3     3    A    record type ``PAY``
 4-15    12   A    transaction reference            ``id`` ``<council>-ctpay-<ref>``, source_ids
 16-25   10   A    account reference                ``account_id``; ``account_kind`` council_tax
 26-28   3    A    transaction type                 ``payment_type``
 29-36   8    D    transaction date                 ``received_date``
 37-48   12   M    amount: receipts +, refunds and  ``amount`` (without its sign)
                   reversals -
 49-50   2    A    payment method code              ``method``
 51-68   18   A    payer's reference                ``reference``
 69-80   12   A    reversed transaction reference   ``reverses_payment_id``
 81-83   3    A    reversal reason                  extensions ``reversal_reason``
 84-89   6    N    receipting batch                 extensions ``batch``
======= ==== ==== ================================ ==========================================

``TRL`` trailer, 91 characters

======= ==== ==== ================================ ==========================================
 pos     wd   ty   field                            check
======= ==== ==== ================================ ==========================================
 1-3     3    A    record type ``TRL``
 4-10    7    N    property records                 ``PRP`` lines
 11-17   7    N    account records                  ``ACC`` lines
 18-24   7    N    bill records                     ``BIL`` lines
 25-31   7    N    instalment records               ``INS`` lines
 32-38   7    N    payment records                  ``PAY`` lines
 39-46   8    N    records in the file              every line, HDR and TRL included
 47-61   15   M    bills' amount payable total      sum of ``BIL`` 107-118
 62-76   15   M    instalments total                sum of ``INS`` 30-41
 77-91   15   M    payments net total               sum of ``PAY`` 37-48, as signed
======= ==== ==== ================================ ==========================================

The legacy system's codes
-------------------------
Band ``1``-``9`` are bands A-I (I only on Wales' list). Valuation list
``E91`` england-1991, ``W03`` wales-2003, ``S91`` scotland-1991. Account status
``L`` live (open), ``C`` closed. Liability role ``OO`` owner-occupier, ``TN``
tenant, ``JT`` joint, ``OE`` owner of an empty dwelling, ``LH`` landlord of an
HMO, ``EX`` executor. Discount ``SPD`` single person (25%), ``DSD`` status
disregard, ``DST`` student, ``DSM`` severely mentally impaired, ``DCR`` carer
and ``DAP`` apprentice disregards (all status_disregard), ``EMP`` empty
property, ``LOC`` local discretionary. Exemption: the class letters ``D``,
``E``, ``G``-``W``, with ``B1`` for class B and ``F1`` (awaiting probate) and
``F2`` (within six months of probate) for class F; ``A`` and ``C`` (abolished
on 1 April 2013) are rejected with that reason. Premium ``LTE`` long-term
empty, ``SHP`` second home. Payment method ``DD`` direct debit, ``SO``
standing order, ``BT`` bank transfer (``IB`` internet banking too), ``DC``
debit card (``CC`` credit card too), ``CA`` cash, ``CQ`` cheque, ``PO`` post
office, ``PP`` PayPoint. Transaction type ``RCP`` receipt (payment), ``RFD``
refund, ``RVS`` reversal. Where two codes share a value, the first is written;
a record read with the other keeps it in extensions under the field's name
(``exemption_class``, ``discount_1_code``, ``payment_method``, ``method``) and
writing restores it. An unknown code rejects the record, naming the code.

Reading
-------
``council`` names the council (its first letter the nation). A first pass
checks the header (first line, 29 characters, layout ``CT03``, and the billing
authority when ``--option billing_authority`` is given) and counts and sums
every record against the trailer: a count or hash total that differs, a
missing or misplaced trailer, a second header or a line after the trailer is an
:class:`AdapterError` naming each difference, before any record is converted.
So the trailer must count every line, bad ones included; an amount the sums
need that cannot be read fails the check, which says how many could not be
read (the file cannot be reconciled). Only then does a second pass yield
one outcome per record: a bill with the instalment records that follow it (at
most 12, the only buffer) is one record, whose native form is the list of its
lines; Position.line is the record's first line. Without ``as_at``, the
messages' time is the header's extract date and time.

A record is rejected, with its lines, when it is not exactly its type's width,
holds a character outside printable ASCII (named), a non-digit in an ``N``
field, a date that is not ``YYYYMMDD``, an amount without its sign, an unknown
code, a blank required field (references, UPRN, liability start, roles and
names of a party, dates of a discount, exemption or premium that is given,
transaction type, date and method), a reference with characters an id cannot
hold, a party kind other than P or O (an organisation with a forename), a
second discount or party slot without a first, a premium or exemption with
figures but no code, a valuation list without a band (or the reverse), a bill
whose instalment records do not match its key, numbering or count, a receipt
with a negative amount or a refund or reversal with a positive one, an
instalment record with no bill before it, or a record type it does not know.
The business rules (band ratios, the charge, apportionment, instalments
summing to the amount payable, reversals naming their payment) are the
standard's: the conversion's validation quarantines a bill that breaks them.

Writing
-------
``--option billing_authority=NNNN`` is required (the header carries it);
``financial_year`` (e.g. 2025-26) sets the header's year, by default the year
of the extract date. Messages may come in any order; each is written at once
as its record (a bill as its ``BIL`` and ``INS`` lines), so the file's order is
the messages' order. The header is written with the first record: its extract
date and time are ``as_at`` when given, else the ``time`` of the first message
written (a message rejected before it does not set them). The trailer's
counts and hash totals are accumulated as lines are written and written last;
with no record at all the file is a header and a zero trailer.
Keys come from the ids this adapter makes (``<council>-ctp-``, ``-cta-``,
``-ctb-<ref>-<year>-<nn>``, ``-ctpay-``): a message with another id, another
council, a deletion, more than two liable parties or discounts, parties liable
for other dates than the account, more than 12 instalments, a percent with
more than two decimals (or that is not a percent such as ``12.5``), text that
is not printable ASCII or longer than its field, a business rates payment, a
non-domestic property, a refund or reversal of 0.00, or a key in
``extensions["native.ctax-fixed"]`` that the record type has no field for
(only the fields the tables above keep in extensions, and the legacy codes
kept under a field's name, are restored) is rejected with the reason; nothing
is cut or replaced.

Not supported
-------------
Party birth dates, preferred names and correspondence addresses, a property
address's administrative area (and a country other than GB), source ids other
than this adapter's, and other namespaces' extensions have no field in the
extract and are not written. (An unknown key in this adapter's own extensions
is not among them: the message is rejected, above.) These are reported, never
dropped unsaid: the lines written for each message are read back in memory
with the reader's own code, and every value of the message they would not give
again (those above, and text with spaces at its end, which the reader trims)
is listed in the outcome's ``lost`` as a JSON pointer, which the conversion
reports as not written (``/data`` when the lines would not read back at all);
extensions of other namespaces are reported by the conversion itself. Standard
input is not read (two passes).
The header's financial year is not kept when reading (it describes the run).
Blank dates written as spaces are rewritten as zeros, and postcodes
normalised, so such a file is not rewritten byte for byte.

Sources: the field set follows the National Fraud Initiative's council tax
data specification (account reference, UPRN, liable and other liable person's
names, discount, disregard and exemption codes with their dates, band, charge);
exemption classes B and D-W from the Council Tax (Exempt Dwellings) Order 1992
with councils' published sub-codes (B1, F1, F2); bands and ratios from the
Local Government Finance Act 1992 s5; addresses in BS7666 parts (SAON, PAON,
street, locality, town) with UPRN and USRN; instalments per the Council Tax
(Administration and Enforcement) Regulations 1992, Schedule 1 as amended in
2012 (10 monthly by default, 12 on request from April 2013). The positions,
codes and record types are this legacy system's own and are documented only
here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from plugshare.adapters.contract import (
    AS_AT,
    COUNCIL,
    Adapter,
    AdapterError,
    Converted,
    Option,
    Outcome,
    Position,
    RecordError,
    Rejected,
)
from plugshare.adapters.ctax_fixed.base import ACCOUNT, BILL, KEY, PAYMENT, PROPERTY
from plugshare.adapters.ctax_fixed.reader import record_groups, scan
from plugshare.adapters.ctax_fixed.records import Mapper
from plugshare.adapters.ctax_fixed.writer import Writer
from plugshare.hookspecs import hookimpl


class CtaxFixedAdapter(Adapter):
    key = KEY
    title = "Legacy council tax system fixed-width extract"
    description = ("Reads and writes the nightly fixed-width extract of a legacy council tax system: properties, "
                   "accounts, bills with their instalments and payment transactions, between an HDR header and a "
                   "TRL trailer whose counts and hash totals are checked.")
    reads = (PROPERTY, ACCOUNT, BILL, PAYMENT)
    writes = (PROPERTY, ACCOUNT, BILL, PAYMENT)
    options = (
        COUNCIL, AS_AT,
        Option("billing_authority", "The council's 4-digit billing authority code. Reading: checked against the "
                                    "header when given. Writing: required, written in the header."),
        Option("financial_year", "Writing: the header's financial year, e.g. 2025-26. Default: the year of the "
                                 "extract date."),
    )
    source_kind = "file"

    def read(self, source: str) -> Iterator[Outcome]:
        if source == "-":
            raise AdapterError("the ctax-fixed adapter reads a file, not standard input: it reads the extract twice, "
                               "checking the trailer's counts and totals before converting any record")
        mapper = Mapper(self.council)
        header = scan(source, self.settings.get("billing_authority"))
        if not self.settings.get("as_at"):
            self.as_at = header.extracted
        for number, group in record_groups(source):
            position = Position(source, number, group[0][0])
            texts = [text for _, text in group]
            native: Any = texts if texts[0].startswith("BIL") else texts[0]
            try:
                message_type, record = mapper.read(group)
            except RecordError as exc:
                yield Rejected(position, native, exc.reason, exc.requirement)
            else:
                yield Converted(position, [self.message(message_type, record)], native=native)

    def write(self, messages: Iterable[dict[str, Any]], target: str) -> Iterator[Outcome]:
        yield from Writer(self, target).run(messages)


@hookimpl
def plugshare_register_adapters(register):
    register(CtaxFixedAdapter)
