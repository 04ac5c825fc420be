"""The adapter contract: what every adapter declares and how it reads and writes.

An adapter maps one native format or API onto the standard and back. Reading
turns native input into a stream of outcomes, one per native record: either
the canonical messages made from it or a rejection with its reason. Writing
consumes canonical messages and yields one outcome per message. Both are
generators, so memory stays flat whatever the size of the input.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import httpx

from plugshare.identifiers import gss_problem
from plugshare.models import cloudevents_type
from plugshare.models.version import STANDARD_VERSION, schema_id

#: uuid5 namespace for message ids, so that the same record read at the same time gets the same id
MESSAGE_ID_NAMESPACE = uuid.UUID("6f1c2b1e-5d0a-4c55-9b64-3a4b1f0e7d21")


class AdapterError(Exception):
    """The input or the options cannot be used at all (missing file, wrong header, unsafe XML).

    The message says what is wrong, where, and what to do; no record is converted.
    """


class RecordError(Exception):
    """One native record or message cannot be mapped; it is quarantined with this reason."""

    def __init__(self, reason: str, requirement: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.requirement = requirement


#: what a writer's mapping code may raise on a message that skipped validation (a field missing or of
#: the wrong kind): caught and turned into a Rejected with :func:`garbled_reason`, never a traceback
GARBLED = (ArithmeticError, AttributeError, KeyError, TypeError, ValueError)


def garbled_reason(exc: Exception, needs: str) -> str:
    """Why a message that skipped validation cannot be written, without the exception's text, which may hold a
    value (a birth date, an NI number). ``needs`` says what needed the field, e.g. ``"a payment"``."""
    missing = exc.args[0] if isinstance(exc, KeyError) and exc.args else None
    what = (f"it has no {missing}" if isinstance(missing, str) and re.fullmatch(r"[a-z_]{1,40}", missing)
            else f"a value of the wrong kind: {type(exc).__name__}")
    return f"the message lacks or garbles a field {needs} needs ({what}); validate it first"


def take_message(position: Position, message: dict[str, Any], take: Callable[[], list[str]],
                 needs: str) -> Outcome:
    """One message given to a writer: ``take`` maps and writes it and returns the pointers of what it lost.

    A :class:`RecordError` or a :data:`GARBLED` exception becomes a ``Rejected`` with its reason; ``take``
    maps before it writes, so a rejected message leaves nothing in the output.
    """
    try:
        lost = take()
    except RecordError as exc:
        return Rejected(position, message, exc.reason, exc.requirement)
    except GARBLED as exc:
        return Rejected(position, message, garbled_reason(exc, needs))
    return Converted(position, [message], lost=lost)


@dataclass(frozen=True)
class Option:
    """A setting an adapter takes (``--option NAME=VALUE`` on the command line)."""

    name: str
    description: str
    required: bool = False
    default: str | None = None
    #: never printed back, e.g. a client secret
    secret: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "required": self.required,
                "default": None if self.secret else self.default, "secret": self.secret}


COUNCIL = Option("council", "ONS GSS code of the council that owns the records, e.g. E07000991.", required=True)
AS_AT = Option("as_at", "When the extract was taken (RFC 3339); the messages' time. Default: now.")


@dataclass(frozen=True)
class Position:
    """Where a native record is: its source (file, URL), its record number from 1, and its line if known."""

    source: str
    record: int
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.source} record {self.record}"
        return where if self.line is None or self.line == self.record else f"{where} (line {self.line})"

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "record": self.record, "line": self.line}


@dataclass
class Converted:
    """A native record (or, when writing, a message) that was mapped."""

    position: Position
    messages: list[dict[str, Any]] = field(default_factory=list)
    #: the native record as read, kept so that a record whose messages fail validation can be quarantined
    native: Any = None
    #: when writing: JSON pointers (``/data/...``) of the message's values the native format has no place
    #: for; the conversion reports them, so that nothing is left out unsaid
    lost: list[str] = field(default_factory=list)


@dataclass
class Rejected:
    """A native record (or message) that could not be mapped, kept with the reason."""

    position: Position
    native: Any
    reason: str
    requirement: str | None = None


Outcome = Converted | Rejected


class Adapter:
    """Base class of every adapter; subclasses declare and implement what they support.

    Subclasses set the class attributes and override :meth:`read`, :meth:`write`
    or both. An adapter that talks HTTP uses ``self.http``, an injected
    ``httpx.Client``, so that tests and callers choose the transport.
    """

    #: short, stable, lower-case name used on the command line, e.g. ``hr-csv``
    key: ClassVar[str]
    #: one line for people
    title: ClassVar[str]
    description: ClassVar[str] = ""
    #: message types this adapter produces when reading / accepts when writing
    reads: ClassVar[tuple[str, ...]] = ()
    writes: ClassVar[tuple[str, ...]] = ()
    options: ClassVar[tuple[Option, ...]] = (COUNCIL, AS_AT)
    #: what INPUT / OUTPUT name: a file, a directory of files, or a URL
    source_kind: ClassVar[str] = "file"
    #: the conformance profiles the adapter certifies for (``plugshare conformance profiles`` lists them).
    #: Empty: derived from what it carries, the domain profiles sharing a message type with it, plus
    #: portability when it writes a type it also reads. Declare them when that is wrong, e.g. for a format
    #: whose reading gives other records than those written (a payment file written from payslips).
    conformance_profiles: ClassVar[tuple[str, ...]] = ()

    def __init__(self, options: Mapping[str, str] | None = None, *, http: httpx.Client | None = None):
        self.settings = resolve_options(self.key, self.options, options or {})
        self._http = http
        as_at = self.settings.get("as_at")
        self.as_at = _parse_as_at(as_at) if as_at else dt.datetime.now(dt.UTC).replace(microsecond=0)

    @property
    def http(self) -> httpx.Client:
        if self._http is None:
            self._http = httpx.Client(timeout=httpx.Timeout(30.0), follow_redirects=False)
        return self._http

    @property
    def extension_namespace(self) -> str:
        """Where native fields with no canonical home are kept, e.g. ``native.hr-csv``."""
        return f"native.{self.key}"

    @property
    def council(self) -> str:
        return self.settings["council"]

    def read(self, source: str) -> Iterator[Outcome]:
        """Yield one outcome per native record in ``source``, in order."""
        raise AdapterError(f"the {self.key} adapter does not read; it writes {', '.join(self.writes)}")

    def write(self, messages: Iterable[dict[str, Any]], target: str) -> Iterator[Outcome]:
        """Write the messages it can to ``target`` and yield one outcome per message, in order."""
        raise AdapterError(f"the {self.key} adapter does not write; it reads {', '.join(self.reads)}")

    def message(self, message_type: str, record: dict[str, Any], *, action: str = "upsert",
                council: str | None = None) -> dict[str, Any]:
        """Wrap a record in its envelope; the id is derived from the record and the extract time."""
        council = council or self.council
        time = self.as_at.isoformat().replace("+00:00", "Z")
        source = f"urn:plugshare:{council}:{self.key}"
        message_id = uuid.uuid5(MESSAGE_ID_NAMESPACE, f"{source}|{message_type}|{record['id']}|{action}|{time}")
        message: dict[str, Any] = {
            "specversion": "1.0", "id": str(message_id), "source": source, "type": cloudevents_type(message_type),
            "time": time, "datacontenttype": "application/json", "dataschema": schema_id(f"{message_type}.json"),
            "subject": record["id"], "council": council, "action": action, "schemaversion": STANDARD_VERSION,
        }
        if action == "upsert":
            message["data"] = record
        return message

    @classmethod
    def describe(cls) -> dict[str, Any]:
        return {"key": cls.key, "title": cls.title, "description": cls.description, "reads": list(cls.reads),
                "writes": list(cls.writes), "source_kind": cls.source_kind,
                "options": [option.as_dict() for option in cls.options]}


def resolve_options(key: str, declared: Iterable[Option], given: Mapping[str, str]) -> dict[str, str]:
    """Check the options given against those declared: unknown or missing ones are an :class:`AdapterError`."""
    declared = {option.name: option for option in declared}
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise AdapterError(f"the {key} adapter has no option {', '.join(unknown)}; "
                           f"its options are: {', '.join(declared) or 'none'}")
    settings = {name: option.default for name, option in declared.items() if option.default is not None}
    settings.update({name: value for name, value in given.items() if value != ""})
    missing = [name for name, option in declared.items() if option.required and name not in settings]
    if missing:
        raise AdapterError(f"the {key} adapter needs {', '.join('--option ' + m + '=...' for m in missing)} "
                           f"({'; '.join(declared[m].description for m in missing)})")
    if "council" in settings and gss_problem(settings["council"]):
        raise AdapterError(f"option council={settings['council']!r}: {gss_problem(settings['council'])}")
    return settings


def _parse_as_at(text: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise AdapterError(f"option as_at={text!r} is not an RFC 3339 time such as 2025-09-30T17:00:00Z") from None
    if moment.tzinfo is None:
        raise AdapterError(f"option as_at={text!r} needs a time zone, e.g. 2025-09-30T17:00:00Z")
    return moment.astimezone(dt.UTC)
