"""Convert between formats through the standard, record by record, losing nothing.

A conversion reads native records with one adapter (or canonical messages),
validates every message it makes against the published schemas and the
business rules, and passes the valid ones to another adapter's writer (or
writes canonical NDJSON). A record that cannot be converted, whose messages
are invalid, or that the target cannot write, goes to the quarantine with its
position, the native record and the reason. The counts always add up:
``read = converted + quarantined``. Everything is a generator chain, so memory
stays flat.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from plugshare.adapters.contract import Adapter, AdapterError, Converted, Outcome, Position, Rejected
from plugshare.adapters.files import NativeOutput
from plugshare.validation.reader import InputError, read_path
from plugshare.validation.validator import MessageValidator

CANONICAL = "canonical"


@dataclass
class ConversionSummary:
    """Counts of a conversion; ``read == converted + quarantined`` always holds."""

    read: int = 0
    converted: int = 0
    quarantined: int = 0
    #: canonical messages made from the converted records
    messages: int = 0
    #: messages the target wrote (or canonical messages output)
    written: int = 0
    #: messages the target could not write (each also quarantined, as its record)
    write_rejected: int = 0
    #: message types the target format does not carry, with their counts
    not_carried: Counter = field(default_factory=Counter)
    by_type: Counter = field(default_factory=Counter)
    reasons: Counter = field(default_factory=Counter)
    #: "<type> <JSON pointer>" of values written messages carried that the target format has no place for
    not_written: Counter = field(default_factory=Counter)

    def exit_code(self, max_rejects: int = 0) -> int:
        return 1 if self.quarantined > max_rejects else 0

    def as_dict(self) -> dict[str, Any]:
        return {"read": self.read, "converted": self.converted, "quarantined": self.quarantined,
                "messages": self.messages, "written": self.written, "write_rejected": self.write_rejected,
                "not_carried": dict(self.not_carried), "by_type": dict(sorted(self.by_type.items())),
                "not_written": dict(sorted(self.not_written.items()))}


class Quarantine:
    """An NDJSON file of what could not be converted: stage, position, the native record, the reason.

    It holds source data, personal data included, so that records can be corrected and fed again;
    it is data, not a log, and is written only where asked.
    """

    def __init__(self, stream: IO[str] | None):
        self.stream = stream

    def add(self, stage: str, position: Position, native: Any, reason: str, requirement: str | None = None) -> None:
        """Write one entry; a native record that is not plain JSON never stops the conversion.

        Text that is not Unicode (bytes a reader kept as surrogates, ``errors="surrogateescape"``)
        is written as ``\\xNN``; a value JSON has no form for is written as its ``str()``, a
        record JSON cannot hold at all (a key that is not text, a cycle) as its ``repr()``; and
        the line is written in ASCII escapes when the stream's encoding cannot hold it.
        """
        if self.stream is None:
            return
        entry = {"stage": stage, **position.as_dict(), "reason": reason, "requirement": requirement,
                 "native": native}
        try:
            line = json.dumps(entry, ensure_ascii=False, default=str)
        except (TypeError, ValueError, RecursionError):  # a key JSON cannot hold, a cycle
            line = json.dumps({**entry, "native": repr(native)}, ensure_ascii=False, default=str)
        line = _SURROGATE.sub(lambda found: json.dumps(_escape_surrogate(found))[1:-1], line)  # inside strings
        try:
            self.stream.write(line + "\n")
        except UnicodeEncodeError:  # a stream in an encoding narrower than the record's text
            self.stream.write(json.dumps(json.loads(line), ensure_ascii=True) + "\n")


_SURROGATE = re.compile("[\ud800-\udfff]")


def printable(text: str) -> str:
    """``text`` with every surrogate (an undecodable byte kept by ``surrogateescape``) as ``\\xNN`` text.

    A byte 0x80-0xFF kept as U+DC80-U+DCFF becomes ``\\xNN``; any other lone surrogate ``\\uXXXX``.
    The result can be encoded in UTF-8, so that a reason naming such a byte can be printed.
    """
    if not _SURROGATE.search(text):
        return text
    return _SURROGATE.sub(_escape_surrogate, text)


def _escape_surrogate(found: re.Match[str]) -> str:
    code = ord(found.group())
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"


class CanonicalSource:
    """Canonical messages (NDJSON or JSON) as a source: one outcome per message."""

    key = CANONICAL
    source_kind = "file"
    writes: tuple[str, ...] = ()

    def read(self, source: str) -> Iterator[Outcome]:
        try:
            for number, entry in enumerate(read_path(source), start=1):
                position = Position(entry.location.source, number, entry.location.line)
                if entry.message is None:
                    reason = entry.problem.reason if entry.problem else "unreadable"
                    yield Rejected(position, None, reason, entry.problem.requirement if entry.problem else None)
                else:
                    yield Converted(position, [entry.message], native=entry.message)
        except InputError as exc:
            raise AdapterError(f"{exc.source}: {exc.reason}") from None


def convert(source: Adapter | CanonicalSource, input_path: str, target: Adapter | None, output_path: str,
            quarantine: Quarantine | None = None, progress: Callable[[ConversionSummary], None] | None = None,
            validator: MessageValidator | None = None) -> ConversionSummary:
    """Run one conversion; ``target`` None writes canonical NDJSON. Raises AdapterError for unusable input."""
    summary = ConversionSummary()
    quarantine = quarantine or Quarantine(None)
    validator = validator or MessageValidator()
    valid = _valid_messages(source.read(input_path), summary, quarantine, validator, progress)
    if target is None:
        _write_canonical(valid, output_path, summary)
    else:
        _write_native(valid, target, output_path, summary, quarantine)
    return summary


def read_valid(source: Adapter | CanonicalSource, input_path: str, summary: ConversionSummary,
               quarantine: Quarantine | None = None, validator: MessageValidator | None = None,
               progress: Callable[[ConversionSummary], None] | None = None) -> Iterator[dict[str, Any]]:
    """The valid messages an adapter reads from ``input_path``, counted into ``summary``.

    A record with an invalid message is quarantined whole, as in a conversion, so a gateway or a loader
    serves exactly what a conversion to canonical NDJSON would write. Raises AdapterError for unusable input.
    """
    valid = _valid_messages(source.read(input_path), summary, quarantine or Quarantine(None),
                            validator or MessageValidator(), progress)
    for message, _, _ in valid:
        yield message


def _valid_messages(outcomes: Iterable[Outcome], summary: ConversionSummary, quarantine: Quarantine,
                    validator: MessageValidator, progress) -> Iterator[tuple[dict[str, Any], Position, Any]]:
    for outcome in outcomes:
        summary.read += 1
        if isinstance(outcome, Rejected):
            _quarantine(summary, quarantine, "read", outcome.position, outcome.native, outcome.reason,
                        outcome.requirement)
        else:
            problems = _problems(outcome.messages, validator)
            if problems:
                requirement, reason = problems[0]
                more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
                native = outcome.native if outcome.native is not None else outcome.messages
                _quarantine(summary, quarantine, "validate", outcome.position, native, reason + more, requirement)
            else:
                summary.converted += 1
                for message in outcome.messages:
                    summary.messages += 1
                    summary.by_type[message["type"].removeprefix("uk.plugshare.")] += 1
                    yield message, outcome.position, outcome.native
        if progress:
            progress(summary)


def _problems(messages: list[dict[str, Any]], validator: MessageValidator) -> list[tuple[str, str]]:
    found = []
    if not messages:
        return [("", "the adapter made no message from this record")]
    for message in messages:
        message_type, problems = validator.check(message)
        for problem in problems:
            if problem.level == "MUST":
                where = f" at {problem.pointer}" if problem.pointer else ""
                found.append((problem.requirement, f"{message_type or 'message'}{where}: {problem.reason} "
                                                   f"[{problem.requirement}]"))
    return found


def _quarantine(summary: ConversionSummary, quarantine: Quarantine, stage: str, position: Position, native: Any,
                reason: str, requirement: str | None) -> None:
    summary.quarantined += 1
    shown = printable(str(reason))  # the summary is printed: a byte a reason quotes as read must not stop it
    summary.reasons[shown if len(shown) <= 160 else shown[:157] + "..."] += 1
    quarantine.add(stage, position, native, reason, requirement)


def _write_canonical(messages: Iterable[tuple[dict, Position, Any]], output_path: str,
                     summary: ConversionSummary) -> None:
    with _output(output_path) as out:
        for message, _, _ in messages:
            out.write(json.dumps(message, ensure_ascii=False, separators=(",", ":")) + "\n")
            summary.written += 1


def _write_native(messages: Iterable[tuple[dict, Position, Any]], target: Adapter, output_path: str,
                  summary: ConversionSummary, quarantine: Quarantine) -> None:
    origins: dict[int, tuple[Position, Any]] = {}
    carried = set(target.writes)

    def to_target() -> Iterator[dict[str, Any]]:
        number = 0
        for message, position, native in messages:
            message_type = message["type"].removeprefix("uk.plugshare.")
            if message_type not in carried:
                summary.not_carried[message_type] += 1
                continue
            number += 1
            origins[number] = (position, native)
            yield message

    rejected_records: set[tuple[str, int]] = set()
    for outcome in target.write(to_target(), output_path):
        position, native = origins.pop(outcome.position.record, (outcome.position, None))
        if isinstance(outcome, Rejected):
            summary.write_rejected += 1
            record = (position.source, position.record)
            if record in rejected_records:  # a record counts once, however many of its messages fail
                quarantine.add("write", position, outcome.native, outcome.reason, outcome.requirement)
                continue
            rejected_records.add(record)
            summary.converted -= 1
            _quarantine(summary, quarantine, "write", position, native if native is not None else outcome.native,
                        outcome.reason, outcome.requirement)
        else:
            summary.written += 1
            for message in outcome.messages:
                for pointer in lost_values(message, target, outcome.lost):
                    summary.not_written[f"{message['type'].removeprefix('uk.plugshare.')} {pointer}"] += 1


def lost_values(message: dict[str, Any], target: Adapter, declared: Iterable[str] = ()) -> list[str]:
    """What of a written message the target format does not keep: the pointers its writer declared, and the
    extensions under any namespace but the target's own that hold something (a native format restores only
    its own fields).

    A segment that indexes a list of the message becomes ``*``, so that the summary counts
    ``/data/source_ids/*`` once however many items were lost; any other segment, digits or not (a
    key such as ``2024`` in an extension), is kept as it is.
    """
    extensions = (message.get("data") or {}).get("extensions") or {}
    others = [f"/data/extensions/{_escaped(name)}" for name, value in extensions.items()
              if name != target.extension_namespace and value not in (None, "", {}, [])]
    return [_folded(message, pointer) for pointer in (*declared, *others)]


def _folded(message: dict[str, Any], pointer: str) -> str:
    """``pointer`` (RFC 6901) with each segment that indexes a list of ``message`` as ``*``."""
    node: Any = message
    parts = []
    for part in pointer.split("/")[1:]:
        if isinstance(node, list) and re.fullmatch(r"0|[1-9][0-9]*", part):
            index = int(part)
            node = node[index] if index < len(node) else None
            parts.append("*")
            continue
        parts.append(part)
        key = part.replace("~1", "/").replace("~0", "~")
        node = node.get(key) if isinstance(node, dict) else None
    return "".join(f"/{part}" for part in parts) if parts else pointer


def _escaped(key: str) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


class _output:
    """Canonical NDJSON written beside the output and moved into place only when complete."""

    def __init__(self, path: str):
        self.path = path

    def __enter__(self) -> IO[str]:
        self.output = NativeOutput(self.path, encoding="utf-8", newline="\n")
        return self.output.stream

    def __exit__(self, kind, value, traceback) -> None:
        self.output.close(finished=kind is None)
