"""Reading the export: each data row becomes one outcome, the canonical messages made from it or the reason not.

A row of people.csv gives two messages, the person and the employment with its
one assignment. The only state kept between rows is the previous people.csv
row's person, so that the rows of one employee (who holds several employments)
can be checked to agree.
"""

from __future__ import annotations

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


class Reader:
    def __init__(self, adapter: Adapter):
        self.adapter = adapter
        self.council = adapter.council
        self.maps = Maps(self.council)
        #: (Employee Number, person record, line) of the previous people.csv row that converted
        self.previous: tuple[str, dict[str, Any], int] | None = None

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
        if self.previous and self.previous[0] == key and self.previous[1] != person:
            differ = _differing(self.maps, self.previous[1], person)
            raise RecordError(f"the person's details ({', '.join(differ)}) differ from those on line "
                              f"{self.previous[2]} for the same Employee Number; the rows of one employee must "
                              "agree: correct one of them")
        self.previous = (key, person, line)
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
