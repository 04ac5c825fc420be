"""Reading a list file line by line: whole-file checks, then one raw line per entry.

The file is read in binary, one line at a time (memory stays flat: a line is
the only buffer), so that a byte that is not ASCII is named with its field
rather than lost in decoding. Blank lines are not entries and are skipped;
line ends may be CRLF or LF.
"""

from __future__ import annotations

from collections.abc import Iterator

from plugshare.adapters.contract import AdapterError, Position
from plugshare.adapters.voa_list.layout import SEPARATOR

BYTE_ORDER_MARK = b"\xef\xbb\xbf"


def entries(path: str) -> Iterator[tuple[Position, bytes]]:
    """(position, line without its line end) for each entry; AdapterError when the file is not a list at all."""
    try:
        handle = open(path, "rb")
    except OSError as exc:
        raise AdapterError(f"{path}: cannot be read ({exc.strerror}); check the file name and that it is a "
                           f"file") from None
    count = 0
    with handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.rstrip(b"\r\n")
            if number == 1:
                _first_line(path, line)
            if not line.strip():
                continue
            if count == 0:
                _first_entry(path, number, line)
            count += 1
            yield Position(path, count, number), line
    if count == 0:
        raise AdapterError(f"{path}: holds no list entries (the file is empty); export the list again")


def native(line: bytes) -> str:
    """A line as text for the quarantine: bytes that are not ASCII shown as \\xNN escapes, never dropped."""
    return line.decode("ascii", errors="backslashreplace")


def _first_line(path: str, line: bytes) -> None:
    if line.startswith(BYTE_ORDER_MARK):
        raise AdapterError(f"{path}: starts with a UTF-8 byte order mark; the VOA list is ASCII, so the file was "
                           f"saved again by another program: export the list again, or save it as ASCII")


def _first_entry(path: str, number: int, line: bytes) -> None:
    separator = SEPARATOR.encode()
    if separator not in line:
        raise AdapterError(f"{path} line {number}: no '*' separates the fields; this is not a VOA list file "
                           f"(the list's fields are separated by '*', with no header row)")
    first = line.split(separator, 1)[0].strip()
    if first and not any(48 <= byte <= 57 for byte in first) and line.count(separator) >= 20:
        raise AdapterError(f"{path} line {number}: starts with {native(first)!r}, which looks like a header row; "
                           f"the VOA list has none: remove the line, or export the list as the VOA publishes it")
