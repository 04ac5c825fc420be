"""cash-receipts: a council income management system's daily receipts CSV <-> revenues.payment.

An income management (cash receipting) system takes the money a council is
paid at the counter, by phone, online, through the banks and at PayPoint and
Post Office outlets, and exports each day's receipts for the revenues system
to post to council tax and business rates accounts. This package reads that
export into revenues.payment messages and writes one from them. It is a
complete third-party adapter, installed beside plugshare and found through the
``plugshare`` entry point group; copy it to start your own.

The format
----------
Text in the ``encoding`` option's encoding (UTF-8 by default; a byte order
mark is allowed when reading and never written), comma-separated as RFC 4180
says: fields with a comma, a quote or a line break are quoted, a quote inside
one is doubled, lines end in CRLF (CRLF or LF when reading). The first line is
the header; column names are matched without regard to case or surrounding
spaces, in any order. Each later line is one receipt; blank lines are skipped.

============ ========================================== =====================================
 column       content                                    canonical (revenues.payment)
============ ========================================== =====================================
 receipt_no   the receipt's number, unique in the        ``id`` ``<council>-rcpt-<receipt_no>``;
              system: 1-20 letters and digits            ``source_ids`` [{cash-receipts, receipt_no}]
 posted_date  the day the money was received, DD/MM/YYYY ``received_date``
 fund         CTAX council tax, NNDR business rates      ``account_kind``
 account_ref  the revenues account's reference:          ``account_id`` ``<council>-ctax-<ref>``
              1-20 letters and digits                    (``-nndr-`` for NNDR); ``reference``
 txn_type     P payment, R refund, X reversal            ``payment_type``
 amount       pounds and pence; refunds and reversals    ``amount``, always positive
              are negative (``-45.00``); ``1,234.56``,
              ``£12.00`` and ``(45.00)`` are read
 mop          method of payment: DD direct debit, SO     ``method``
              standing order, BACS / FP (Faster
              Payments) / CHAPS bank transfer, DC / CC
              debit or credit card, CASH, CHQ cheque,
              PO Post Office, PP PayPoint
 reversal_of  the receipt_no a reversal reverses         ``reverses_payment_id``
              (X only)                                   ``<council>-rcpt-<reversal_of>``
 channel      where it was taken: WEB, IVR, KIOSK,       extensions ``native.cash-receipts``
              COUNTER, BANK...
 batch_no     the cashier's or the bank file's batch     extensions
 cashier      who or what took it (a user id)            extensions
============ ========================================== =====================================

The first seven columns are required in the header and in every row;
``reversal_of``, ``channel``, ``batch_no`` and ``cashier`` may be absent or
blank. Any other column is kept too (the loss rule: a native field with no
place in the standard goes into ``extensions["native.cash-receipts"]``, and
writing restores it). Several mop codes share one method; a code other than
the one writing gives the method (BACS for bank transfer, DC for card), or a
code in another case, is kept in the extensions as ``mop`` and written back.

Sources: the message shape is the standard's revenues.payment; the fund, mop
and transaction codes are the kind a receipting system uses to route income to
a ledger (they differ from system to system: change the code lists to yours);
the methods are the channels councils publish for paying council tax and
business rates (Direct Debit, standing order, Bacs, Faster Payments and CHAPS,
card online or by phone, cash and cheque at the counter, PayPoint and Post
Office barcoded bills). CSV quoting follows RFC 4180.

Reading
-------
One outcome per receipt line, with its record number and line. A whole-input
problem raises :class:`~plugshare.adapters.contract.AdapterError` before any
record: a file that cannot be opened, an empty file, a header without a
required column or with a column twice, an unknown encoding; a field over the
CSV module's limit (131,072 characters) stops reading at that line with an
AdapterError. A receipt is Rejected, naming the column and the record, when a
row has more or fewer fields than the header; a field holds a byte that is not
text in the encoding (named in hex; the quarantine shows it as ``\\xNN``); a
required field is blank; receipt_no, account_ref or reversal_of
is not 1-20 letters and digits; the date is not a real DD/MM/YYYY date; fund,
txn_type or mop is a code with no translation (sundry debtors or parking
receipts in the export: filter them out, or extend the code lists); the
amount is not money, has fractions of a penny, is zero, or has the wrong sign
for its type (a payment is positive; a refund or a reversal negative); a
reversal names no receipt, or a payment or refund names one. Reading streams:
one line is held at a time.

Writing
-------
Each revenues.payment message becomes one line, as it arrives; the header is
the eleven columns above, then those named by the ``extra_columns`` option.
receipt_no is the part of the message's id after ``<council>-rcpt-`` (the id,
not a source id, is the record's key); account_ref is the part of
``account_id`` after ``<council>-ctax-`` or ``-nndr-``; a kept ``mop`` is
written when it is a code of the message's method, else the method's own code.
A message is Rejected, with the reason, when it is a deletion or another type,
when those ids do not have that form, when its amount is zero, when it keeps a
native field that has no column (give ``--option extra_columns=NAME,...``),
when a value cannot be written in the encoding, or when the line made from it
would not read back as a receipt. The file is written beside the target and
moved into place when complete; a file of no receipts is the header alone.

The loss rule when writing: each line is read back in memory with the reading
code, and every value of the message it does not give back is named in the
outcome's ``lost``, which ``plugshare convert`` reports ("values cash-receipts
has no place for"): a ``reference`` other than the account reference, source
ids other than the receipt number (a second one, or a cash-receipts one that
differs from the id's), a kept ``mop`` that is not a code of the method, and
any other field the file has no column for.

Not supported: the canonical ``reference`` is written only as account_ref, and
source ids only as receipt_no (both reported when lost, as above); other
namespaces' extensions are not written (the conversion reports them); there is
no trailer with control totals (a system whose export has one needs a first
pass, as the built-in bacs18 adapter makes).
"""

__version__ = "0.1.0"
