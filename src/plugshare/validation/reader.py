"""Read messages from JSON files and NDJSON streams, one at a time, never all at once.

Every entry read comes out either as a message or as a problem with its
location, so that nothing is lost: a line that is not JSON, not UTF-8, or too
long is reported and reading goes on. Only an input that cannot be opened at
all raises ``InputError``.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from plugshare.models.canonical import DuplicateKey, NonJsonConstant, strict_loads
from plugshare.validation.problems import Location, Problem

MAX_MESSAGE_BYTES = 1024 * 1024  # PS-ENV-002
MAX_DOCUMENT_BYTES = 256 * 1024 * 1024
NDJSON_SUFFIXES = {".ndjson", ".jsonl"}
JSON_SUFFIXES = {".json"}
_CHUNK = 64 * 1024


class InputError(Exception):
    """An input that cannot be read at all (missing, unreadable, too large to parse as one document)."""

    def __init__(self, source: str, reason: str):
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


@dataclass(frozen=True)
class Entry:
    location: Location
    message: dict[str, Any] | None = None
    problem: Problem | None = None


def _problem(requirement: str, reason: str) -> Problem:
    return Problem(requirement, "MUST", "", reason)


def _loads(text: str) -> tuple[Any, str | None]:
    """Parse JSON strictly; (value, None) or (None, reason with line and column)."""
    try:
        return strict_loads(text), None
    except DuplicateKey as exc:
        return None, f"not a valid message: the key {exc.key!r} appears twice in one object"
    except NonJsonConstant as exc:
        return None, f"not valid JSON: {exc.name} is not JSON"
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}" if "\n" in text.rstrip("\n") else f"column {exc.colno}"
        return None, f"not valid JSON: {exc.msg} at {where}"
    except RecursionError:
        return None, "not a usable message: JSON nested too deeply"
    except ValueError as exc:
        return None, f"not valid JSON: {exc}"


def parse_message(text: str) -> tuple[dict[str, Any] | None, str | None]:
    """Parse one message; (message, None) or (None, reason)."""
    value, reason = _loads(text)
    if reason:
        return None, reason
    if not isinstance(value, dict):
        return None, f"a message is a JSON object, not a JSON {_json_kind(value)}"
    return value, None


def _json_kind(value: Any) -> str:
    return {list: "array", str: "string", bool: "boolean", type(None): "null"}.get(type(value), "number")


def _decode(raw: bytes) -> tuple[str | None, str | None]:
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        where = f"line {line} column {column}" if line > 1 else f"column {column}"
        return None, f"not UTF-8 text: byte 0x{raw[exc.start]:02x} at {where}; save the file as UTF-8"


def read_ndjson(stream: IO[bytes], source: str) -> Iterator[Entry]:
    """One message per line; blank lines are ignored."""
    line_number = 0
    seen_any = False
    while True:
        raw = stream.readline(MAX_MESSAGE_BYTES + 1)
        if not raw:
            break
        line_number += 1
        if len(raw) > MAX_MESSAGE_BYTES and not raw.endswith(b"\n"):
            size = len(raw) + _skip_rest_of_line(stream)
            seen_any = True
            yield Entry(Location(source, line_number), problem=_problem(
                "PS-ENV-002", f"line of {size:,} bytes is over the 1 MiB limit for a message; it was skipped"))
            continue
        if line_number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        if not raw.strip():
            continue
        seen_any = True
        text, reason = _decode(raw)
        if text is not None:
            message, reason = parse_message(text)
            if message is not None:
                yield Entry(Location(source, line_number), message=message)
                continue
        yield Entry(Location(source, line_number), problem=_problem("PS-ENV-001", reason or "unreadable"))
    if not seen_any:
        yield Entry(Location(source), problem=_problem("PS-ENV-001", "the input is empty: it holds no message"))


def _skip_rest_of_line(stream: IO[bytes]) -> int:
    skipped = 0
    while True:
        chunk = stream.readline(_CHUNK)
        skipped += len(chunk)
        if not chunk or chunk.endswith(b"\n"):
            return skipped


def read_document(stream: IO[bytes], source: str) -> Iterator[Entry]:
    """A whole-file JSON document: one message, or an array of messages."""
    raw = stream.read(MAX_DOCUMENT_BYTES + 1)
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise InputError(source, "over 256 MiB as one JSON document; write large inputs as NDJSON "
                                 "(one message per line), which is read as a stream")
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if not raw.strip():
        yield Entry(Location(source), problem=_problem("PS-ENV-001", "the file is empty: it holds no message"))
        return
    text, reason = _decode(raw)
    if text is None:
        yield Entry(Location(source), problem=_problem("PS-ENV-001", reason or "unreadable"))
        return
    stripped = text.lstrip()
    if stripped.startswith("["):
        items, reason = _loads(text)
        if reason:
            yield Entry(Location(source), problem=_problem("PS-ENV-001", reason))
            return
        if not items:
            yield Entry(Location(source), problem=_problem("PS-ENV-001", "the array is empty: it holds no message"))
        for index, item in enumerate(items):
            location = Location(source, index=index)
            if not isinstance(item, dict):
                yield Entry(location, problem=_problem(
                    "PS-ENV-001", f"a message is a JSON object, not a JSON {_json_kind(item)}"))
            elif len(json.dumps(item).encode()) > MAX_MESSAGE_BYTES:
                yield Entry(location, problem=_problem("PS-ENV-002", "the message is over the 1 MiB limit"))
            else:
                yield Entry(location, message=item)
        return
    if len(raw) > MAX_MESSAGE_BYTES:
        yield Entry(Location(source, 1), problem=_problem("PS-ENV-002", "the message is over the 1 MiB limit"))
        return
    message, reason = parse_message(text)
    if message is None:
        yield Entry(Location(source, 1), problem=_problem("PS-ENV-001", reason or "unreadable"))
    else:
        yield Entry(Location(source, 1), message=message)


def _looks_like_ndjson(stream: IO[bytes]) -> bool:
    """Sniff an input of unknown kind: a pretty-printed document or an array is read whole, lines otherwise."""
    head = stream.peek(_CHUNK) if hasattr(stream, "peek") else b""
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"["):
        return False
    first_line, newline, _ = stripped.partition(b"\n")
    if not newline:
        return True
    text, _ = _decode(first_line)
    return text is not None and parse_message(text)[0] is not None


def read_stream(stream: IO[bytes], source: str, kind: str = "auto") -> Iterator[Entry]:
    if kind == "auto":
        kind = "ndjson" if _looks_like_ndjson(stream) else "json"
    reader = read_ndjson if kind == "ndjson" else read_document
    yield from reader(stream, source)


def expand(path: str) -> list[str]:
    """A path as given, or for a directory the message files it holds (sorted, recursively)."""
    if path == "-" or not os.path.isdir(path):
        return [path]
    found = sorted(str(p) for p in Path(path).rglob("*") if p.is_file() and p.suffix in JSON_SUFFIXES | NDJSON_SUFFIXES)
    if not found:
        raise InputError(path, "the directory holds no .json, .ndjson or .jsonl files")
    return found


def read_path(path: str, kind: str = "auto") -> Iterator[Entry]:
    """Entries of one input; ``-`` is standard input."""
    if path == "-":
        yield from read_stream(sys.stdin.buffer, "-", kind)
        return
    suffix = Path(path).suffix.lower()
    if kind == "auto":
        kind = "ndjson" if suffix in NDJSON_SUFFIXES else "json" if suffix in JSON_SUFFIXES else "auto"
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        raise InputError(path, "no such file") from None
    except IsADirectoryError:
        raise InputError(path, "is a directory") from None
    except PermissionError:
        raise InputError(path, "permission denied: cannot read the file") from None
    except OSError as exc:
        raise InputError(path, f"cannot be opened ({exc.strerror})") from None
    with handle:
        yield from read_stream(handle, path, kind)
