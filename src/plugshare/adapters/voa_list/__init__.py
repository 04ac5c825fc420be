"""voa-list: the VOA's compiled non-domestic rating list (England and Wales), read and written.

The format
----------
The list entries file the Valuation Office Agency publishes for each rating
list: ASCII text, no header row, one entry (hereditament) per line, 28
positional fields each ended by ``*`` (so a line ends with ``*`` and splits
into 28 values and an empty 29th). There are no quotes or escapes: a value
can never hold a ``*``. Dates are ``DD-MON-YYYY`` (``01-APR-2023``).

=== ============================== ==== ===============================================
 #   field                          max  canonical (revenues.business-rates-hereditament)
=== ============================== ==== ===============================================
 1   incrementing entry number           ``list_entry_number`` (digits)
 2   billing authority code         4    ``billing_authority_code``; gives the council
 3   NDR community code             10   ``ndr_community_code``
 4   BA reference                   25   ``ba_reference`` (required)
 5   primary description code       5    ``primary_description_code`` (``CS``, ``IF3``)
 6   primary description text       100  ``description`` (required)
 7   UARN                           11   ``uarn`` (digits); ``source_ids`` voa-uarn
 8   full property identifier       500  ``full_property_identifier``
 9   firm name                      100  ``firm_name``
 10  number or name                 100  ``address.number_or_name``
 11  street                         100  ``address.street``
 12  town                           100  ``address.town``
 13  postal district                100  ``address.postal_district``
 14  county                         100  ``address.county``
 15  postcode                       8    ``address.postcode`` (normalised: ``PE20 9NF``)
 16  effective date                 11   ``effective_date`` (blank: 1 April of the list year)
 17  composite indicator            1    ``composite`` (``C`` true, blank false)
 18  rateable value                 10   ``rateable_value`` (whole pounds, digits)
 19  appeal settlement code         5    ``appeal_settlement_code`` (as given)
 20  assessment reference           11   ``assessment_reference`` (digits); the record id
 21  list alteration date           11   ``list_alteration_date``
 22  SCAT code and suffix           4    ``scat_code`` + ``scat_suffix`` (``249G``)
 23  sub-street level 3             100  ``sub_street_level_3``
 24  sub-street level 2             100  ``sub_street_level_2``
 25  sub-street level 1             100  ``sub_street_level_1``
 26  case number                    20   ``case_number``
 27  current from date              11   ``current_from`` (required)
 28  current to date                11   ``current_to``
=== ============================== ==== ===============================================

Widths are the VOA's where its specification gives them (BA code 4, BA
reference 25, UARN 11, postcode 8, dates 11, rateable value 10, assessment
reference 11, SCAT code and suffix 4), else the standard's limit for the field.
``rating_list`` comes from the option of that name. The record id is
``<council>-voa-<assessment reference>``: the assessment reference is the
VOA's key for one assessment whatever its status or list, so an entry ended
(current to date) and its successor for the same UARN are two records.

Sources: the VOA's "Compiled Rating List Data Specification" (2010 and 2017
editions: the list entry data items, their order, character and number
widths, and the DD-MON-YYYY date form); a row of the VOA's 2023 list entries
download as quoted in open projects' notes (the 28 fields, the trailing
``*``, and the blank effective and alteration dates of an entry compiled with
the list); and open loaders of the same files that agree on all 28 positions.

Options
-------
``rating_list`` (default 2023) is the list's year. ``billing_authorities``
maps each billing authority code to the council's GSS code
(``9911=E07000991,9912=E07000992,9913=E07000993`` by default, the codes of the
three councils of the example shared service); the ``council`` option must be
one of them. ``other_councils`` says what becomes of an entry of another
council in the mapping: ``reject`` (the default: the entry is rejected, naming
its council) or ``convert`` (the entry is converted as that council's, for a
revenues partnership that holds several councils' entries in one list).

Reading
-------
One line, one entry, one message (blank lines are skipped). The file is read
as bytes, a line at a time. The whole file is refused (AdapterError) when it
cannot be opened, is empty, starts with a UTF-8 byte order mark, or its first
line has no ``*`` or looks like a header row. An entry is Rejected, naming the
field by number and title, when the line has other than 28 fields or lacks the
trailing ``*`` (the count is named); a field holds a byte that is not
printable ASCII (the byte is named, and its UTF-8 reading where it has one); a
required field (2, 4, 5, 6, 7, 18, 20, 27) is blank (an entry without rateable
value is a deletion, not a hereditament); a number field holds other than
digits (a rateable value with pence or commas included); the BA code is not 4
digits, or not in ``billing_authorities``, or another council's (see above);
a value is wider than its field; a description code, SCAT code, postcode or
composite indicator is not of its form; a date is not DD-MON-YYYY or not a day
of the calendar.

Kept: where the list wrote a value in another form than this adapter writes it
(spaces at either end, leading zeros, a postcode in lower case or without its
space, a month in lower case, a blank effective date), the value as read is
kept in ``extensions["native.voa-list"]`` under the field's name (``""`` for a
blank effective date) and restored on writing while it still reads as the
record's value; so a list read and written again is the same, byte for byte.

Writing
-------
Each ``revenues.business-rates-hereditament`` message becomes one line, as it
arrives, with CRLF line ends (the list is read with CRLF or LF). A message is
Rejected, naming the field, when a value holds a ``*``, a character that is
not printable ASCII, or is wider than its field; when its BA code is unknown,
is not its council's, or is another council's than the ``council`` option
(unless ``other_councils=convert``); when it is of another list year than
``rating_list``; when it is a deletion; or when its line would not read back
as the record. The file is written beside the target and moved into place when
complete; with nothing written no file is made (AdapterError).

Not supported: the VOA's historic entries file and weekly change-updates
(their extra fields), summary valuations (SMV), and Scotland's and Northern
Ireland's valuation rolls. The list has no UPRN: a record's ``uprn``,
``source_ids`` (but the ``voa-uarn`` one, which the UARN field gives back) and
extensions of other namespaces are not written. They are reported, never
dropped unsaid: each line written is read back in memory as the reader reads
it, and every value of the message it would not give again (those above, a
kept form in ``native.voa-list`` that no longer reads as the record's value,
text with spaces at either end) is listed in the outcome's ``lost`` as a JSON
pointer, which the conversion reports as not written; extensions of other
namespaces are reported by the conversion itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import httpx

from plugshare.adapters.contract import (
    AS_AT,
    COUNCIL,
    Adapter,
    AdapterError,
    Converted,
    Option,
    Outcome,
    RecordError,
    Rejected,
)
from plugshare.adapters.voa_list.entry import HEREDITAMENT, kept_forms, to_record, which
from plugshare.adapters.voa_list.layout import BY_NAME, FIELDS, decode, split
from plugshare.adapters.voa_list.reader import entries, native
from plugshare.adapters.voa_list.writer import Writer
from plugshare.hookspecs import hookimpl
from plugshare.identifiers import gss_problem

#: the billing authority codes of the example shared service's three councils
DEFAULT_AUTHORITIES = "9911=E07000991,9912=E07000992,9913=E07000993"
BA_CODE = BY_NAME["billing_authority_code"]


class VoaListAdapter(Adapter):
    key = "voa-list"
    title = "VOA compiled non-domestic rating list ('*'-separated list entries, England and Wales)"
    description = ("Reads the VOA's rating list entries file (28 '*'-separated fields, no header) into business "
                   "rates hereditaments, and writes a council's list extract back in the same layout.")
    reads = (HEREDITAMENT,)
    writes = (HEREDITAMENT,)
    options = (
        COUNCIL, AS_AT,
        Option("rating_list", "The rating list's year, e.g. 2023.", default="2023"),
        Option("billing_authorities", "Billing authority code to council GSS code, comma-separated "
                                      "(CODE=GSS,...).", default=DEFAULT_AUTHORITIES),
        Option("other_councils", "An entry of another council in billing_authorities: reject, or convert it as "
                                 "that council's.", default="reject"),
    )
    source_kind = "file"

    def __init__(self, options: Mapping[str, str] | None = None, *, http: httpx.Client | None = None):
        super().__init__(options, http=http)
        self.rating_list = self.settings["rating_list"]
        if not re.fullmatch(r"(19|20)[0-9]{2}", self.rating_list):
            raise AdapterError(f"option rating_list={self.rating_list!r}: give the list's year, e.g. 2023")
        self.authorities = _authorities(self.settings["billing_authorities"])
        if self.council not in self.authorities.values():
            raise AdapterError(f"option council={self.council}: option billing_authorities gives it no billing "
                               f"authority code; add CODE={self.council} to it")
        if self.settings["other_councils"] not in ("reject", "convert"):
            raise AdapterError(f"option other_councils={self.settings['other_councils']!r}: use reject or convert")
        self.convert_others = self.settings["other_councils"] == "convert"

    def council_for(self, code: str) -> str:
        """The GSS code of the council a billing authority code names; RecordError when it is not mapped."""
        try:
            return self.authorities[code]
        except KeyError:
            known = ", ".join(f"{c} = {g}" for c, g in self.authorities.items())
            raise RecordError(f"{BA_CODE.label} {code!r} is not in option billing_authorities ({known}); add "
                              f"{code}=<GSS code> to it, or correct the entry") from None

    def accept(self, code: str, council: str) -> None:
        """An entry of another council than the ``council`` option is refused unless ``other_councils=convert``."""
        if council != self.council and not self.convert_others:
            raise RecordError(f"{BA_CODE.label} {code} is {council}'s, not {self.council}'s (option council): "
                              f"convert it with --option council={council}, or every council's entries with "
                              f"--option other_councils=convert")

    def read(self, source: str) -> Iterator[Outcome]:
        for position, line in entries(source):
            try:
                record, council = self.hereditament(line)
            except RecordError as exc:
                yield Rejected(position, native(line), exc.reason, exc.requirement)
            else:
                yield Converted(position, [self.message(HEREDITAMENT, record, council=council)], native=native(line))

    def hereditament(self, line: bytes) -> tuple[dict[str, Any], str]:
        """One list line -> (the hereditament record, the GSS code of its council)."""
        parts = split(line)
        named = which([part.decode("ascii", errors="replace") for part in parts])
        try:
            values = [decode(part, field) for part, field in zip(parts, FIELDS, strict=True)]
            code = values[BA_CODE.number - 1].strip()
            council = self.council  # a malformed code is named by to_record
            if re.fullmatch(r"[0-9]{4}", code):
                council = self.council_for(code)
                self.accept(code, council)
            record = to_record(values, council, self.rating_list)
            kept = kept_forms(values, record)
        except RecordError as exc:
            raise RecordError(f"entry {named}: {exc.reason}" if named else exc.reason, exc.requirement) from None
        if kept:
            record["extensions"] = {self.extension_namespace: kept}
        return record, council

    def write(self, messages: Iterable[dict[str, Any]], target: str) -> Iterator[Outcome]:
        yield from Writer(self, target).run(messages)


def _authorities(text: str) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        code, _, gss = (piece.strip() for piece in item.partition("="))
        problem = gss_problem(gss) if gss else "no GSS code is given"
        if not re.fullmatch(r"[0-9]{4}", code) or problem:
            why = problem or "a billing authority code is 4 digits"
            raise AdapterError(f"option billing_authorities: {item!r} is not CODE=GSS such as 9911=E07000991 "
                               f"({why})")
        if mapping.get(code, gss) != gss:
            raise AdapterError(f"option billing_authorities: code {code} is given twice, for {mapping[code]} and "
                               f"{gss}")
        mapping[code] = gss
    if not mapping:
        raise AdapterError("option billing_authorities is empty; give CODE=GSS pairs such as 9911=E07000991")
    return mapping


@hookimpl
def plugshare_register_adapters(register):
    register(VoaListAdapter)
