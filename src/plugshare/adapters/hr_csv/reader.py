"""Reading the export: each data row becomes one outcome, the canonical messages made from it or the reason not.

A row of people.csv gives two messages, the person and the employment with its
one assignment. Every row of one employee (who holds several employments) must
give the same person, as each gives the person message again with the same id:
the state kept between rows is, per Employee Number, a digest of the person its
first converted row gave and that row's line (a :class:`Seen`, about 150 bytes
per employee: some 15 MB for 100,000 employees), and the previous row's person,
so that a row that differs from the one before it can name the columns that
differ.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

from plugshare.adapters.contract import Adapter, Converted, Outcome, Position, RecordError, Rejected
from plugshare.adapters.hr_csv.csvfile import CsvFile, rows
from plugshare.adapters.hr_csv.layout import (
    ABSENCES,
    NAMESPACE,
    ORG_UNITS,
    PEOPLE,
    PERSON_COLUMNS,
    POSTS,
    SCHEME,
    Maps,
    Table,
    check_fit_note,
    check_grade,
    record_id,
)
from plugshare.adapters.mapping import get_path, parse_money

MESSAGE_TYPES = {ORG_UNITS.file: "hr.org-unit", POSTS.file: "hr.position", ABSENCES.file: "hr.absence"}


class Seen:
    """What came for each key, in a few bytes: an 8-byte digest of its value and where it first came.

    Each key costs its string and one integer in a dict, about 150 bytes for a
    key of a dozen characters, whatever the size of the value.
    """

    _WHERE = 40  # bits of the packed integer that hold where the value came (a line or message number)

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}

    def __contains__(self, key: str) -> bool:
        return key in self._seen

    def differs(self, key: str, value: Any, where: int) -> int | None:
        """Where the key first came with another value; None when it is new (then kept) or the value is the same."""
        digest = int.from_bytes(hashlib.blake2b(json.dumps(value, sort_keys=True, ensure_ascii=False).encode(),
                                                digest_size=8).digest())
        packed = self._seen.setdefault(key, digest << self._WHERE | min(where, (1 << self._WHERE) - 1))
        if packed >> self._WHERE == digest:
            return None
        return packed & ((1 << self._WHERE) - 1)


class Reader:
    def __init__(self, adapter: Adapter):
        self.adapter = adapter
        self.council = adapter.council
        self.maps = Maps(self.council)
        #: per Employee Number, the person of the first people.csv row that converted, as a digest, and its line
        self.persons = Seen()
        #: (Employee Number, person record) of the previous people.csv row that converted
        self.previous: tuple[str, dict[str, Any]] | None = None

    def outcomes(self, csv_file: CsvFile) -> Iterator[Outcome]:
        table = csv_file.table
        for number, line, row, problem in rows(csv_file):
            position = Position(str(csv_file.path), number, line)
            which = _which(csv_file, row, number)
            if problem:
                yield Rejected(position, row, f"{which}: {problem}")
                continue
            try:
                messages = self.people(row, line) if table is PEOPLE else [self.one(table, row)]
            except RecordError as exc:
                yield Rejected(position, row, f"{which}: {exc.reason}", exc.requirement)
            else:
                yield Converted(position, messages, native=row)

    def base(self, table: Table, row: dict[str, str], column: str | None = None) -> dict[str, Any]:
        """``id`` and ``source_ids`` from the row's key; a missing key is an error."""
        column = column or table.key
        key = (row.get(column) or "").strip()
        if not key:
            raise RecordError(f"{column} is empty; every row of {table.file} needs it")
        return {"id": record_id(self.council, key, column), "source_ids": [{"scheme": SCHEME, "value": key}],
                "extensions": {}}

    def one(self, table: Table, row: dict[str, str]) -> dict[str, Any]:
        return self.adapter.message(MESSAGE_TYPES[table.file], self.record(table, row))

    def record(self, table: Table, row: dict[str, str]) -> dict[str, Any]:
        """The record of a row of org-units.csv, posts.csv or absences.csv."""
        record_map = {ORG_UNITS.file: self.maps.org_unit, POSTS.file: self.maps.post,
                      ABSENCES.file: self.maps.absence}[table.file]
        record = record_map.to_record(row, self.base(table, row))
        check_grade(record)
        check_fit_note(record)
        return record

    def person(self, row: dict[str, str]) -> dict[str, Any]:
        """The person of a people.csv row: its person columns only (extra columns are the employment's)."""
        own = {column: value for column, value in row.items() if column in PERSON_COLUMNS}
        return self.maps.person.to_record(own, self.base(PEOPLE, row))

    def employment(self, row: dict[str, str], person_id: str) -> dict[str, Any]:
        """The employment of a people.csv row, with its one assignment and the row's extra columns."""
        employment = self.maps.employment.to_record(row, {**self.base(PEOPLE, row, "Employment Number"),
                                                          "person_id": person_id, "employer": self.council})
        employment.setdefault("continuous_service_date", employment["start_date"])
        (assignment,) = employment["assignments"]
        check_grade(assignment)
        salary = parse_money(row.get("Annual Salary") or "", "Annual Salary")
        if salary is not None:
            employment["extensions"].setdefault(NAMESPACE, {})["Annual Salary"] = salary
        return employment

    def people(self, row: dict[str, str], line: int) -> list[dict[str, Any]]:
        person = self.person(row)
        employment = self.employment(row, person["id"])
        key = person["source_ids"][0]["value"]
        earlier = self.persons.differs(key, person, line)
        if earlier is not None:
            differ = (f" ({', '.join(_differing(self.maps, self.previous[1], person))})"
                      if self.previous and self.previous[0] == key else "")
            raise RecordError(f"the person's details{differ} differ from those on line {earlier} for the same "
                              "Employee Number; the rows of one employee must agree: correct one of them")
        self.previous = (key, person)
        return [self.adapter.message("hr.person", person), self.adapter.message("hr.employment", employment)]


def _which(csv_file: CsvFile, row: Any, number: int) -> str:
    """How a reason names the row: ``employee FM10231 (employment FM10231-1)``, or its number without a key."""
    table = csv_file.table

    def value(column: str) -> str:
        if isinstance(row, dict):
            return (row.get(column) or "").strip()
        index = csv_file.header.index(column) if column in csv_file.header else len(row)
        return row[index].strip() if index < len(row) else ""

    if not value(table.key):
        return f"{table.file} row {number}"
    which = f"{table.what} {value(table.key)}"
    if table is PEOPLE and value("Employment Number"):
        which += f" (employment {value('Employment Number')})"
    return which


def _differing(maps: Maps, first: dict[str, Any], second: dict[str, Any]) -> list[str]:
    names = [field.native for field in maps.person.fields
             if get_path(first, field.path) != get_path(second, field.path)]
    return names
