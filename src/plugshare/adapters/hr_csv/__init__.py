"""hr-csv: an HR/payroll suite's flat-file export (a directory of CSV files), read and written.

INPUT and OUTPUT are directories holding, for one council, ``org-units.csv``,
``posts.csv`` (the establishment), ``people.csv`` (one row per employment,
with the person's details and the current assignment, as such exports flatten
them) and ``absences.csv``. They are read in that order, parents before
children. A file that is absent is simply not read (an export of people only
is fine); a directory holding none of them is an error. Other files in the
directory are not read.

The CSV
-------
RFC 4180: values separated by commas; a value holding a comma, a double quote
or a line break is in double quotes, a double quote inside it doubled. UTF-8,
with or without the byte order mark Excel's "CSV UTF-8" writes; lines end in
CRLF (LF is read too). The first line is the header row naming the columns,
matched whatever their case and spacing and in any order; the columns marked
* below must be there, the others may be left out (read as empty). Each
further row is one record (its position: the file, the record number counting
data rows, and the line where it starts); rows with no value at all are
skipped. Spaces at either end of a value are dropped. Dates are ``dd/mm/yyyy``
(``yyyy-mm-dd`` is read too); ``00/00/0000`` or empty means none. Numbers are
plain decimals (``0.6081``, ``22.5``: digits with an optional point, no
exponent, ``%`` or thousands separator, at most as many digits as the
standard's number holds exactly). Keys become ids ``<council>-<key>``
with ``source_ids`` ``[{"scheme": "hr-csv", "value": <key>}]``; a column naming
a record of another file (Org Unit Code, Post Number...) becomes its id the
same way.

Columns (-> canonical field)
----------------------------
``org-units.csv`` -> hr.org-unit: Org Unit Code* (key), Org Unit Name* name,
Unit Type* kind (CNCL council, DIR directorate, SERV service, TEAM team, OTH
other), Parent Org Unit Code parent_id, Cost Centre, Effective From
start_date, Effective To end_date.

``posts.csv`` -> hr.position: Post Number* (key), Post Title* title, Org Unit
Code* org_unit_id, Post Status* status (A active, F frozen, C closed), Pay
Scale grade.pay_scale (NJC, JNC chief officers, SOUL Soulbury, TCHR teachers,
LOCAL local), Grade grade.code, SCP grade.spinal_column_point, Budgeted FTE*
budgeted_fte, Cost Centre, Effective From* start_date, Effective To end_date.

``people.csv`` -> hr.person and hr.employment (one assignment): Employee
Number* (the person's key), Title, Forename*, Middle Names, Surname*, Known As
(name.title, given_name, middle_names, family_name, preferred_name), Date of
Birth birth_date, Gender legal_sex (M or MALE, F or FEMALE: sex as recorded
with HMRC), NI Number ni_number (spaces removed, checked), Flat, House
Name/Number, Street, Locality, Town, County, Postcode, Country (address.saon,
paon, street, locality, town, administrative_area, postcode normalised and
checked, country as ISO 3166 alpha-2), Email, Telephone (email, phone);
Employment Number* (the employment's key), Payroll Number payroll_id, Employer
(GSS code; the council option when empty), Status* status (A active, S
suspended, L left), Contract Type* (PERM permanent, FTC fixed term, CAS
casual, APP apprenticeship, SEC secondment), Start Date* start_date,
Continuous Service Date (Start Date when empty), Leaving Date end_date, Last
Working Day last_working_date, Leaving Reason termination_reason (RES
resignation, DIS dismissal, RED redundancy, RET retirement, IHR ill-health
retirement, EFT end of fixed term, TUPE transfer out, DEC death, OTH other),
TUPE Previous Employer and TUPE Transfer Date (tupe_transfer); the current
assignment: Post Number* position_id, Post Start Date* start_date, Post End
Date end_date, Pay Scale, Grade, SCP (grade, as in posts.csv), FTE*
working_pattern.fte, Weekly Hours* contracted_hours_per_week, Weeks Per Year
weeks_per_year (39 for term-time staff), Cost Centre; Annual Salary (money
such as ``24790.00``, ``£24,790`` read too: the standard's employment has no
salary, so it is checked and kept in the employment's extensions, written back
as ``24790.00``). An employee with several employments has a row for each;
all rows of one Employee Number must agree in their person columns.

``absences.csv`` -> hr.absence: Absence Number* (key), Employee Number*
person_id, Employment Number* employment_id, Absence Type* (AL annual leave,
SICK sickness, MAT maternity, PAT paternity, ADOP adoption, SPL shared
parental, BRV bereavement, UNPD unpaid, OTH other), Start Date*, End Date,
Units* unit (D days, H hours), Duration* amount, Reason reason, Fit Note
Issued, Fit Note From, Fit Note To (fit_note: all three or none).

Text columns hold at most what the standard's field holds (Forename 35, Post
Title 120...). Code lists are matched whatever the case.

Reading
-------
A first pass reads every file present from end to end (the header and its
required columns, UTF-8, quoting) so that a file that cannot be used stops the
conversion before any record is converted, with an :class:`AdapterError`
naming the file and the line: a missing required column, a column named twice
or not at all, a byte that is not UTF-8 (a file saved as Windows-1252 or
UTF-16), a quote that never closes. Then each data row becomes one outcome: a
row of people.csv two messages (person and employment; the person again on
each row of an employee with several employments, the same message each
time), any other row one. A row is Rejected, with a reason naming the row's
key and the column, when it has more or fewer values than the header, a
required value is empty, a code has no translation, or a date, number, NI
number, postcode or amount is malformed (dates of birth and NI numbers are
never repeated in full), or its person columns differ from those of an
earlier row for the same Employee Number (the reason names that row's line,
and the columns when it is the row before). A column the layout does not name
is kept, with its text, in ``extensions["native.hr-csv"]`` under its header
name (in people.csv, on the employment). Memory holds one line and one row at
a time, the previous people.csv row's person, and for each Employee Number a
digest of its person and its first line (about 150 bytes per employee: some
15 MB for 100,000).

Writing
-------
The four files are written into OUTPUT (made if missing; other files in it are
left alone), each through one open writer into ``<file>.part``, moved into
place when the whole stream is written (a file with no record gets its header
only), with the columns in the order above, then the extra columns: those kept
in the extensions of the file's first record. A later record carrying an extra
column that header lacks is Rejected saying so (send the records that carry it
first). Messages may come in any order: a people.csv row waits until both
the person and the employment have come (see :mod:`.writer`). Rejected, with
the reason: a deletion (a snapshot export lists what exists; it cannot say
that a record is gone), a message of another council than the option's, an
id not of the form ``<council>-<key>``, an employment with other than one
assignment, a value with no code in the export's lists, an extension under
``native.hr-csv`` whose name is blank or, whatever its case and spacing, is
that of a column or of another extra column of the row (a reader could not
tell them apart), a person with no employment and an employment whose person
never comes (or was rejected). A person's rows must agree, so a person whose
details change after their rows are written is rejected (their further rows
keep the details written), and a person waiting for an employment who is sent
again with other details is rejected naming the later message, which replaces
it.

Not carried, and reported: each row written is read back with the reader's
own code (in memory; no file is read again), and the values of its message
that the row would not give again are listed, as JSON pointers, in the
outcome's ``lost``, which the conversion reports as not written. These are
``source_ids`` other than the key's (the key is the id), a person's
``address.uprn`` and ``address.usrn`` (the layout has no column for them), a
person's extensions under ``native.hr-csv`` (an extra column of people.csv is
read back as the employment's), text with spaces at either end (read
trimmed), and any other value the row would read back otherwise; a row that
would not read back at all reports ``/data``. Extensions under other
namespaces than ``native.hr-csv`` are reported by the conversion itself. An
employment's earlier assignments are not carried either: an employment with
other than one assignment is rejected (above). Values are written as they are
(no spreadsheet formula escaping, which would change them).

Sources: RFC 4180 (CSV); the National Fraud Initiative's payroll data
specification (employee reference and post numbers, Title, Sex, Surname,
Forename(s), Middle name(s), address lines, Date of birth, Date started, Date
left, NI number, hours); payroll suites' published CSV import layouts (IRIS:
Gender Male or Female, dates DD/MM/YYYY, Cost Centre, Left Date; P11D
Organiser: Forename, Surname, Date of Birth dd/mm/yyyy, National Insurance
Number, Payroll Number); the NJC pay spine (SCP) and local-government
establishment practice (posts, FTE, weeks per year for term-time staff,
continuous service across TUPE transfers).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from plugshare.adapters.contract import Adapter, Outcome
from plugshare.adapters.hr_csv.csvfile import scan
from plugshare.adapters.hr_csv.reader import Reader
from plugshare.adapters.hr_csv.writer import Writer
from plugshare.hookspecs import hookimpl

MESSAGE_TYPES = ("hr.org-unit", "hr.position", "hr.person", "hr.employment", "hr.absence")


class HrCsvAdapter(Adapter):
    key = "hr-csv"
    title = "HR flat-file export (a directory of CSV files: org units, posts, people, absences)"
    description = ("Reads and writes an HR/payroll suite's CSV export: org-units.csv, posts.csv, people.csv (one row "
                   "per employment with the person and current post) and absences.csv; RFC 4180, UTF-8, CRLF.")
    reads = MESSAGE_TYPES
    writes = MESSAGE_TYPES
    source_kind = "directory"

    def read(self, source: str) -> Iterator[Outcome]:
        files = scan(source)
        reader = Reader(self)
        for csv_file in files:
            yield from reader.outcomes(csv_file)

    def write(self, messages: Iterable[dict[str, Any]], target: str) -> Iterator[Outcome]:
        yield from Writer(self, target).run(messages)


@hookimpl
def plugshare_register_adapters(register):
    register(HrCsvAdapter)
