"""CSV as the export holds it: RFC 4180 quoting, UTF-8 (a byte order mark accepted), CRLF, a header row.

Reading goes line by line in bytes: each physical line is decoded on its own,
so that a byte that is not UTF-8 is reported with its file and line, and the
lines are parsed by :mod:`csv` in strict mode, so that a value whose quotes do
not close is an error at the record where it starts. :func:`scan` makes a
first pass over every file (header, encoding, quoting) before any record is
taken, so that a file that cannot be used stops the conversion before it
starts; :func:`rows` is the second pass. Writing goes through :class:`CsvOut`,
one open writer per file, into ``<file>.part`` moved into place when complete.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from plugshare.adapters.contract import AdapterError, RecordError
from plugshare.adapters.files import NativeOutput
from plugshare.adapters.hr_csv.layout import TABLES, Table

BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
SAVE_AS_UTF8 = "save it as UTF-8 (in Excel: Save As, CSV UTF-8) and convert again"
QUOTING = ("a value holding a comma, a double quote or a line break must be in double quotes, with each double "
           "quote inside it doubled (RFC 4180)")


def normal(name: str) -> str:
    """Header names match whatever their case and spacing: ``EMPLOYEE  NUMBER`` is ``Employee Number``."""
    return " ".join(name.split()).casefold()


@dataclass(frozen=True)
class CsvFile:
    """A file of the export that is present, with its header (documented names where they match)."""

    table: Table
    path: Path
    header: tuple[str, ...]


def scan(directory: str) -> list[CsvFile]:
    """The export's files present in ``directory``, in reading order, each checked from end to end."""
    root = Path(directory)
    names = ", ".join(table.file for table in TABLES)
    if not root.exists():
        raise AdapterError(f"{directory}: no such directory; INPUT is the directory holding the export ({names})")
    if not root.is_dir():
        raise AdapterError(f"{directory} is a file, not a directory: the hr-csv adapter reads a directory holding "
                           f"{names}; give that directory as INPUT")
    present = [table for table in TABLES if (root / table.file).is_file()]
    if not present:
        others = sorted(path.name for path in root.iterdir())
        holds = f"it holds {', '.join(others[:5])}{' ...' if len(others) > 5 else ''}" if others else "it is empty"
        raise AdapterError(f"{directory} holds none of the export's files ({names}); {holds}. Export the HR data "
                           "there, or give the directory that holds the export")
    files = []
    for table in present:
        path = root / table.file
        records = records_of(path)
        first = next(records, None)
        if first is None or not any(value.strip() for value in first[1]):
            raise AdapterError(f"{path}: the first line is empty; it must be the header row naming the columns "
                               f"({', '.join(table.required)} at least)")
        header = header_of(table, path, first[1])
        for _ in records:  # the rest of the file: encoding and quoting, so that reading cannot stop half way
            pass
        files.append(CsvFile(table, path, header))
    return files


def header_of(table: Table, path: Path, names: list[str]) -> tuple[str, ...]:
    documented = {normal(column): column for column in table.columns}
    header: list[str] = []
    for index, name in enumerate(names, start=1):
        if not name.strip():
            raise AdapterError(f"{path} line 1: column {index} of the header has no name; name it or delete the "
                               "column")
        column = documented.get(normal(name), name.strip())
        if normal(column) in {normal(earlier) for earlier in header}:
            raise AdapterError(f"{path} line 1: the header names the column {column!r} twice; delete one of them")
        header.append(column)
    missing = [column for column in table.required if column not in header]
    if missing:
        raise AdapterError(f"{path}: the header row has no {', '.join(repr(m) for m in missing)} column; "
                           f"{table.file} needs {', '.join(table.required)} (in any order). Is the first line the "
                           "header row?")
    return tuple(header)


def records_of(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(first line, fields) of each CSV record, the header included."""
    try:
        handle = open(path, "rb")
    except OSError as exc:
        raise AdapterError(f"{path}: cannot be read ({exc.strerror})") from None
    with handle:
        reader = csv.reader(_lines(handle, path), strict=True)
        start = 1
        try:
            for fields in reader:
                yield start, fields
                start = reader.line_num + 1
        except csv.Error as exc:
            raise AdapterError(f"{path} line {start}: not valid CSV ({exc}); {QUOTING}") from None


def _lines(handle: BinaryIO, path: Path) -> Iterator[str]:
    for number, raw in enumerate(handle, start=1):
        if number == 1:
            if raw.startswith(UTF16_BOMS):
                raise AdapterError(f"{path}: the file is UTF-16, not UTF-8; {SAVE_AS_UTF8}")
            raw = raw.removeprefix(BOM)
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            column = len(raw[:exc.start].decode("utf-8", errors="replace")) + 1
            raise AdapterError(f"{path} line {number}: byte 0x{raw[exc.start]:02X} (character {column}) is not "
                               f"UTF-8; the file seems to be saved in another encoding, such as Windows-1252: "
                               f"{SAVE_AS_UTF8}") from None


def rows(csv_file: CsvFile) -> Iterator[tuple[int, int, Any, str | None]]:
    """(record number, line, native row, problem) of each data row; rows with no value at all are skipped.

    The native row is a dict of column -> value, or the list of values when
    their number differs from the header's (the problem then says so).
    """
    records = records_of(csv_file.path)
    next(records)  # the header, checked by scan
    number = 0
    width = len(csv_file.header)
    for line, fields in records:
        if not any(value.strip() for value in fields):
            continue
        number += 1
        if len(fields) != width:
            yield number, line, fields, (f"the row has {len(fields)} values but the header has {width} columns; "
                                         f"{QUOTING}")
        else:
            yield number, line, dict(zip(csv_file.header, fields, strict=True)), None


class CsvOut:
    """One file being written: the header is the documented columns and the first row's extra columns."""

    def __init__(self, directory: Path, table: Table):
        self.table = table
        self.output = NativeOutput(str(directory / table.file), encoding="utf-8", newline="")
        self.writer = csv.writer(self.output.stream, lineterminator="\r\n")
        self.header: tuple[str, ...] | None = None

    def write(self, row: dict[str, str]) -> None:
        """Write one row; an extra column the header does not have, or two that a reader would take for one
        column, or one with no name, is a :class:`RecordError`."""
        names: dict[str, str] = {}
        for name in row:
            if not normal(name):
                raise RecordError(f"an extra column kept in extensions has a blank name, which a header of "
                                  f"{self.table.file} cannot have; rename it")
            if normal(name) in names:
                raise RecordError(f"the columns {names[normal(name)]!r} and {name!r} would be one column to a "
                                  "reader, which matches names whatever their case and spacing; rename one of the "
                                  "extensions")
            names[normal(name)] = name
        if self.header is None:
            self._start(tuple(name for name in row if name not in self.table.columns))
        assert self.header is not None
        unknown = [name for name in row if name not in self.header]
        if unknown:
            extras = [name for name in self.header if name not in self.table.columns]
            raise RecordError(f"the extra column(s) {', '.join(repr(u) for u in unknown)} kept in extensions are not "
                              f"in the header of {self.table.file}, which was fixed by its first row (extra columns: "
                              f"{', '.join(extras) or 'none'}); write the records that carry them first")
        self.writer.writerow([row.get(name, "") for name in self.header])

    def _start(self, extras: tuple[str, ...]) -> None:
        self.header = self.table.columns + extras
        self.writer.writerow(self.header)

    def commit(self) -> None:
        if self.header is None:
            self._start(())
        self.output.close(finished=True)

    def discard(self) -> None:
        self.output.close(finished=False)
