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

Every row of one person must carry the same person columns (the reader
rejects a row that differs), so a person is written once: a digest of the
person's half of the row is kept for every person written (a
:class:`~plugshare.adapters.hr_csv.reader.Seen`, about 150 bytes each). The
same person again is a repeat, written as before; a person whose details
changed after their rows were written is rejected saying so (their further
employments are written with the details already written). A person waiting
for an employment who is sent again with other details is replaced by the
later message, and is rejected naming it; sent again the same, both are
written together.

Each row written is read back in memory with the reader's code; what of its
message it would not give again goes in the outcome's ``lost`` (see
:mod:`plugshare.adapters.loss`).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from plugshare.adapters.contract import (
    GARBLED,
    Adapter,
    AdapterError,
    Converted,
    Outcome,
    Position,
    RecordError,
    Rejected,
    garbled_reason,
)
from plugshare.adapters.hr_csv.csvfile import CsvOut, normal
from plugshare.adapters.hr_csv.layout import (
    ABSENCES,
    NAMESPACE,
    ORG_UNITS,
    PEOPLE,
    POSTS,
    TABLES,
    Maps,
    key_of,
)
from plugshare.adapters.hr_csv.reader import Reader, Seen
from plugshare.adapters.loss import not_restored
from plugshare.adapters.mapping import parse_money

RECENT_PERSONS = 1000
TABLE_OF = {"hr.org-unit": ORG_UNITS, "hr.position": POSTS, "hr.person": PEOPLE, "hr.employment": PEOPLE,
            "hr.absence": ABSENCES}
Pending = tuple[int, dict[str, Any], dict[str, str]]  # message number, message, its half of the row
Version = tuple[int, dict[str, Any]]  # message number, message: a person message waiting with its half


class Writer:
    def __init__(self, adapter: Adapter, target: str):
        self.council = adapter.council
        self.maps = Maps(self.council)
        #: reads each row written back, to find what of its message the row does not carry
        self.reader = Reader(adapter)
        self.directory = _directory(target)
        self.files: dict[str, CsvOut] = {}
        #: person id -> the person's half of the row and the messages (one, or repeats) waiting for an employment
        self.persons: dict[str, tuple[dict[str, str], list[Version]]] = {}
        #: person id -> employments waiting for their person
        self.employments: dict[str, list[Pending]] = {}
        #: person id -> the person's half of the row, for the persons written last
        self.written: OrderedDict[str, dict[str, str]] = OrderedDict()
        #: every person written: a digest of their half of the row, and the message that first gave it
        self.seen = Seen()
        #: person id -> the message number of the person's last rejection, while no version of them is taken
        self.rejected: dict[str, int] = {}

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
            row = {table.key: key_of(self.council, data["id"]), **record_map.to_row(data, fold=normal)}
            self.files[table.file].write(row)
        except RecordError as exc:
            yield self._rejected(position, message, _reason(message, exc.reason), exc.requirement)
        except GARBLED as exc:
            yield self._rejected(position, message, _reason(message, garbled_reason(exc, "the export")))
        else:
            yield Converted(position, [message], lost=self._lost(kind, data, row))

    def _rejected(self, position: Position, message: dict[str, Any], reason: str,
                  requirement: str | None = None) -> Rejected:
        """A message rejected; a person's rejection is remembered, to tell the employments waiting for them."""
        if str(message.get("type", "")).endswith("hr.person") and isinstance(message.get("data"), dict):
            person = message["data"].get("id")
            if isinstance(person, str) and person not in self.persons and person not in self.seen:
                self.rejected[person] = position.record
        return Rejected(position, message, reason, requirement)

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
        half = {PEOPLE.key: key_of(self.council, person), **self.maps.person.to_row(data, fold=normal)}
        version = (number, message)
        if person in self.seen:  # their rows are written: the same details again, or changed ones
            first = self.seen.differs(person, half, number)
            if first is not None:
                raise RecordError(f"the person's details differ from those of message {first}, already written on "
                                  "their people.csv rows, which must all agree: the change is not written (their "
                                  "further rows keep the details written); send one version of each person")
            self.rejected.pop(person, None)
            self._remember(person, half)  # (again: they may have been forgotten since)
            outcomes = [self._row(half, employment) for employment in self.employments.pop(person, [])]
            yield self._person_written(half, version)
            yield from outcomes
            return
        self.rejected.pop(person, None)
        if person in self.persons:  # already waiting for an employment
            waiting, versions = self.persons[person]
            if waiting == half:  # the same again: written with it
                versions.append(version)
                return
            del self.persons[person]
            for earlier, earlier_message in versions:
                yield Rejected(Position("messages", earlier), earlier_message, _reason(
                    earlier_message, f"replaced by message {number}, a later version of the person with other "
                                     "details, which came before any employment of theirs; only the later one is "
                                     "written"))
        outcomes = [self._row(half, employment) for employment in self.employments.pop(person, [])]
        if any(isinstance(outcome, Converted) for outcome in outcomes):
            self._remember(person, half, number)
            yield self._person_written(half, version)
        else:  # no employment yet (or none of their rows could be written): wait for one
            self.persons[person] = (half, [version])
        yield from outcomes

    def _employment(self, number: int, message: dict[str, Any], data: dict[str, Any]) -> Iterator[Outcome]:
        assignments = data["assignments"]
        if len(assignments) != 1:
            raise RecordError(f"the employment has {len(assignments)} assignments; a people.csv row carries one "
                              "(the current post): send the employment with its current assignment only")
        half = {"Employment Number": key_of(self.council, data["id"]),
                **self.maps.employment.to_row(data, fold=normal, apart=("Annual Salary",))}
        salary = data.get("extensions", {}).get(NAMESPACE, {}).get("Annual Salary")
        half["Annual Salary"] = "" if salary in (None, "") else parse_money(str(salary), "Annual Salary") or ""
        person = data["person_id"]
        key_of(self.council, person)  # the Employee Number its row will carry
        pending = (number, message, half)
        if person in self.persons:
            person_half, versions = self.persons[person]
            outcome = self._row(person_half, pending)
            if isinstance(outcome, Converted):
                del self.persons[person]
                self._remember(person, person_half, versions[0][0])
                for version in versions:
                    yield self._person_written(person_half, version)
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

    def _person_written(self, half: dict[str, str], version: Version) -> Converted:
        """A person on the rows written (their half of the row, as the reader takes it back)."""
        number, message = version
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

    def _remember(self, person: str, half: dict[str, str], number: int | None = None) -> None:
        """A person written: their half kept for their further employments, and its digest for good."""
        if number is not None:
            self.seen.differs(person, half, number)
        self.written[person] = half
        self.written.move_to_end(person)
        while len(self.written) > RECENT_PERSONS:
            self.written.popitem(last=False)

    def _unmatched(self) -> Iterator[Outcome]:
        for person, (_, versions) in self.persons.items():
            reason = (f"person {person} has no employment among the messages that could be written (none came, or "
                      "each was rejected: see its reason); people.csv has one row per employment, so a person is "
                      "written only with an employment")
            for number, message in versions:
                yield Rejected(Position("messages", number), message, reason)
        for person, waiting in self.employments.items():
            if person in self.rejected:
                why = (f"its person {person} was rejected (message {self.rejected[person]}; see its reason), and a "
                       "people.csv row repeats the person's details: correct the person and send both again")
            elif person in self.seen:
                why = (f"its person {person} was written more than {RECENT_PERSONS} persons earlier and did not "
                       "come again after it; a people.csv row repeats the person's details, so send the person "
                       "again before it")
            else:
                why = (f"its person {person} is not among the messages; a people.csv row repeats the person's "
                       "details, so send the person with their employments")
            for number, message, _ in waiting:
                yield Rejected(Position("messages", number), message, _reason(message, why))


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
