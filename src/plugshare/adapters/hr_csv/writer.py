"""Writing the export from canonical messages in any order, one open writer per file.

Org units, posts and absences are written as they come. A people.csv row
joins a person to one of their employments, so each waits for the other:
a person waits until an employment of theirs comes, an employment until its
person comes. Persons already written are remembered (the last
:data:`RECENT_PERSONS` of them) so that a person's further employments find
them. In the order this adapter reads (each person with their employment)
nothing waits for more than one message; a stream that sends every person
before any employment (as an API read entity set by entity set does) holds
the persons, about a kilobyte each, until their employments come.

Each row written is read back in memory with the reader's code; what of its
message it would not give again goes in the outcome's ``lost`` (see
:mod:`plugshare.adapters.loss`).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from plugshare.adapters.contract import Adapter, AdapterError, Converted, Outcome, Position, RecordError, Rejected
from plugshare.adapters.hr_csv.csvfile import CsvOut, normal
from plugshare.adapters.hr_csv.layout import (
    ABSENCES,
    NAMESPACE,
    ORG_UNITS,
    PEOPLE,
    POSTS,
    TABLES,
    Maps,
    Table,
    key_of,
)
from plugshare.adapters.hr_csv.reader import Reader
from plugshare.adapters.loss import not_restored
from plugshare.adapters.mapping import RecordMap, get_path, parse_money

RECENT_PERSONS = 1000
TABLE_OF = {"hr.org-unit": ORG_UNITS, "hr.position": POSTS, "hr.person": PEOPLE, "hr.employment": PEOPLE,
            "hr.absence": ABSENCES}
Pending = tuple[int, dict[str, Any], dict[str, str]]  # message number, message, its half of the row


class Writer:
    def __init__(self, adapter: Adapter, target: str):
        self.council = adapter.council
        self.maps = Maps(self.council)
        #: reads each row written back, to find what of its message the row does not carry
        self.reader = Reader(adapter)
        self.directory = _directory(target)
        self.files: dict[str, CsvOut] = {}
        #: person id -> the person waiting for an employment
        self.persons: dict[str, Pending] = {}
        #: person id -> employments waiting for their person
        self.employments: dict[str, list[Pending]] = {}
        #: person id -> the person's half of the row, for the persons written last
        self.written: OrderedDict[str, dict[str, str]] = OrderedDict()

    def run(self, messages: Iterable[dict[str, Any]]) -> Iterator[Outcome]:
        finished = False
        try:
            for table in TABLES:
                self.files[table.file] = CsvOut(self.directory, table)
            for number, message in enumerate(messages, start=1):
                yield from self._one(number, message)
            yield from self._unmatched()
            for out in self.files.values():
                out.commit()
            finished = True
        finally:
            if not finished:
                for out in self.files.values():
                    out.discard()

    def _one(self, number: int, message: dict[str, Any]) -> Iterator[Outcome]:
        position = Position("messages", number)
        try:
            kind, data = self._check(message)
            if kind == "hr.person":
                yield from self._person(number, message, data)
                return
            if kind == "hr.employment":
                yield from self._employment(number, message, data)
                return
            table = TABLE_OF[kind]
            record_map = {"hr.org-unit": self.maps.org_unit, "hr.position": self.maps.post,
                          "hr.absence": self.maps.absence}[kind]
            row = {table.key: key_of(self.council, data["id"]), **row_of(record_map, data, table)}
            self.files[table.file].write(row)
        except RecordError as exc:
            yield Rejected(position, message, _reason(message, exc.reason), exc.requirement)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:  # a message that skipped validation
            yield Rejected(position, message, _reason(message, f"the message lacks or garbles a field the export "
                                                               f"needs ({type(exc).__name__}: {exc}); validate it "
                                                               "first"))
        else:
            yield Converted(position, [message], lost=self._lost(kind, data, row))

    def _check(self, message: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        kind = str(message.get("type", "")).removeprefix("uk.plugshare.")
        if kind not in TABLE_OF:
            raise RecordError(f"a {kind or 'message without a type'} message has no place in the HR export (it "
                              f"carries {', '.join(TABLE_OF)})")
        if message.get("council") != self.council:
            raise RecordError(f"the message is council {message.get('council')}'s, but this export is "
                              f"{self.council}'s (option council); write each council's records to its own "
                              "directory")
        if message.get("action", "upsert") == "delete":
            raise RecordError("a deletion cannot be expressed in a snapshot export, which lists what exists: "
                              "leave the record out of the next export (a leaver stays, with status L and a "
                              "Leaving Date)")
        return kind, message["data"]

    # --- people.csv: a person joined to each employment ------------------------------------------

    def _person(self, number: int, message: dict[str, Any], data: dict[str, Any]) -> Iterator[Outcome]:
        person = data["id"]
        half = {PEOPLE.key: key_of(self.council, person), **row_of(self.maps.person, data, PEOPLE)}
        if self.written.get(person) == half:  # already on the rows written: a repeat
            yield self._person_written((number, message, half))
            return
        if person in self.persons:  # a later version of a waiting person replaces it
            yield self._person_written(self.persons.pop(person))
        outcomes = [self._row(half, employment) for employment in self.employments.pop(person, [])]
        if any(isinstance(outcome, Converted) for outcome in outcomes):
            self._remember(person, half)
            yield self._person_written((number, message, half))
        else:  # no employment yet (or none of their rows could be written): wait for one
            self.persons[person] = (number, message, half)
        yield from outcomes

    def _employment(self, number: int, message: dict[str, Any], data: dict[str, Any]) -> Iterator[Outcome]:
        assignments = data["assignments"]
        if len(assignments) != 1:
            raise RecordError(f"the employment has {len(assignments)} assignments; a people.csv row carries one "
                              "(the current post): send the employment with its current assignment only")
        half = {"Employment Number": key_of(self.council, data["id"]),
                **row_of(self.maps.employment, data, PEOPLE)}
        salary = data.get("extensions", {}).get(NAMESPACE, {}).get("Annual Salary")
        half["Annual Salary"] = "" if salary in (None, "") else parse_money(str(salary), "Annual Salary") or ""
        person = data["person_id"]
        key_of(self.council, person)  # the Employee Number its row will carry
        pending = (number, message, half)
        if person in self.persons:
            outcome = self._row(self.persons[person][2], pending)
            if isinstance(outcome, Converted):
                waiting = self.persons.pop(person)
                self._remember(person, waiting[2])
                yield self._person_written(waiting)
            yield outcome
        elif person in self.written:
            self.written.move_to_end(person)
            yield self._row(self.written[person], pending)
        else:
            self.employments.setdefault(person, []).append(pending)

    def _row(self, person_half: dict[str, str], employment: Pending) -> Outcome:
        number, message, half = employment
        position = Position("messages", number)
        row = {**person_half, **half}
        try:
            self.files[PEOPLE.file].write(row)
        except RecordError as exc:
            return Rejected(position, message, _reason(message, exc.reason), exc.requirement)
        return Converted(position, [message], lost=self._lost("hr.employment", message["data"], row))

    def _person_written(self, person: Pending) -> Converted:
        """A person on the rows written (their half of the row, as the reader takes it back)."""
        number, message, half = person
        return Converted(Position("messages", number), [message], lost=self._lost("hr.person", message["data"], half))

    def _lost(self, kind: str, data: dict[str, Any], row: dict[str, str]) -> list[str]:
        """What of a message the row written for it does not carry: read it back and compare."""
        try:
            if kind == "hr.person":  # only the person columns: extra columns are read as the employment's
                back = self.reader.person(row)
            elif kind == "hr.employment":
                back = self.reader.employment(row, self.reader.base(PEOPLE, row)["id"])
            else:
                back = self.reader.record(TABLE_OF[kind], row)
        except RecordError:  # the row would not read back at all
            back = None
        return not_restored(data, back, NAMESPACE)

    def _remember(self, person: str, half: dict[str, str]) -> None:
        self.written[person] = half
        self.written.move_to_end(person)
        while len(self.written) > RECENT_PERSONS:
            self.written.popitem(last=False)

    def _unmatched(self) -> Iterator[Outcome]:
        for person, (number, message, _) in self.persons.items():
            changed = person in self.written
            reason = (f"person {person}'s details changed after their people.csv rows were written, and no "
                      "employment of theirs came after the change; send the person before their employments"
                      if changed else
                      f"person {person} has no employment among the messages; people.csv has one row per "
                      "employment, so a person is written only with an employment")
            yield Rejected(Position("messages", number), message, reason)
        for person, waiting in self.employments.items():
            for number, message, _ in waiting:
                reason = _reason(message, f"its person {person} is not among the messages (or came more than "
                                          f"{RECENT_PERSONS} persons earlier); a people.csv row repeats the person's "
                                          "details, so send the person with their employments")
                yield Rejected(Position("messages", number), message, reason)


def row_of(record_map: RecordMap, record: dict[str, Any], table: Table) -> dict[str, str]:
    """The columns of a record: mapped fields, then the extra columns kept in its extensions."""
    row: dict[str, str] = {}
    for field in record_map.fields:
        value = get_path(record, field.path)
        if value is None:
            if field.required:
                raise RecordError(f"{field.native} is empty; the record has no {field.path}")
            row[field.native] = ""
            continue
        try:
            row[field.native] = field.format(value)
        except RecordError as exc:
            reason = exc.reason if exc.reason.startswith(field.native) else f"{field.native}: {exc.reason}"
            raise RecordError(reason, exc.requirement) from None
    documented = {normal(column) for column in table.columns}
    for name, value in record.get("extensions", {}).get(NAMESPACE, {}).items():
        if name == "Annual Salary" and table is PEOPLE:
            continue
        if normal(name) in documented:
            raise RecordError(f"the extension {NAMESPACE} {name!r} has the name of a column of {table.file}; "
                              "rename it so that it cannot be mistaken for that column")
        row[name] = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return row


def _reason(message: dict[str, Any], reason: str) -> str:
    kind = str(message.get("type", "")).removeprefix("uk.plugshare.") or "message"
    subject = message.get("subject") or (message.get("data") or {}).get("id")
    return f"{kind} {subject}: {reason}" if subject else reason


def _directory(target: str) -> Path:
    if target == "-":
        raise AdapterError("the hr-csv adapter writes a directory of CSV files, not standard output; give a "
                           "directory as OUTPUT")
    path = Path(target)
    if path.exists() and not path.is_dir():
        raise AdapterError(f"{target} is a file; the hr-csv adapter writes a directory of CSV files: give a "
                           "directory as OUTPUT")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AdapterError(f"{target}: the directory cannot be made ({exc.strerror})") from None
    return path
