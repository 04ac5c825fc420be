"""Move a council's data from one supplier to another through the standard API only, and prove it arrived.

This is the council's exit route (spec 13.7): the source's bulk export, imported into the target, must
reproduce the council's data exactly. :func:`migrate` streams the source's export and sends it to the
target's bulk import in chunks (500 messages by default). Imports are upserts by record id, so sending a
chunk again duplicates nothing: the target answers ``unchanged``. After each chunk the target has
acknowledged, a checkpoint in the output folder says how far the migration got, so a run that is
interrupted (Ctrl-C, a lost connection, a killed process) is rerun with the same command and goes on
from there. Then both sides are exported again and compared: counts per message type, and every record
equal after canonicalisation, matched by (type, id). What differs is named by type and id (and the
fields that differ), never by value, so the report holds no personal data. The report is written as
``migration.json`` and ``migration.html``; the tokens are never written anywhere.

The comparison walks both exports side by side, since the standard orders an export by type and then id,
so it holds one record of each side at a time. A server whose export is not in that order is compared
by a map of digests instead (a few dozen bytes a record).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import json
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from plugshare.atomic import write_atomic
from plugshare.client import ApiError, Forbidden, PlugshareClient, Unauthorized, UnexpectedResponse
from plugshare.conformance.report import mask_text
from plugshare.models import MESSAGE_TYPES, message_type_of
from plugshare.models.canonical import canonical_digest
from plugshare.terminal import StatusLine

FORMAT = 1
#: messages sent to the target's bulk import at a time; the checkpoint moves on after each
CHUNK_SIZE = 500
CHECKPOINT = "migration.checkpoint.json"
MIGRATION_JSON = "migration.json"
MIGRATION_HTML = "migration.html"
EQUAL, NOT_EQUAL = "equal", "not_equal"
#: at most this many records of each kind of difference (and of rejected lines) are listed; counts are complete
LISTED = 1000
#: fields named for a record that differs
POINTERS = 10
RESUMED = "resumed from the checkpoint"
#: how often (in records compared) the verification reports progress
VERIFY_PROGRESS_EVERY = 500

Key = tuple[str, str]


class MigrationError(Exception):
    """The migration cannot start or go on; the text says which side (source or target) and what to do."""

    def __init__(self, message: str, side: str | None = None):
        super().__init__(message)
        self.side = side


@dataclass(frozen=True)
class Progress:
    """Where a migration is: ``phase`` is "moving" or "verifying"."""

    phase: str
    #: records the target has acknowledged, in this run and in the interrupted runs it goes on from
    moved: int
    #: records acknowledged before this run (from the checkpoint)
    resumed_after: int
    #: chunks sent in this run
    chunks: int
    #: source records compared so far
    verified: int = 0


@dataclass(frozen=True)
class Endpoint:
    """One side of a migration as its capabilities describe it (the URL without credentials)."""

    url: str
    product: str
    version: str
    supplier: str
    standard_version: str

    def as_dict(self) -> dict[str, str]:
        return {"url": self.url, "product": self.product, "version": self.version, "supplier": self.supplier,
                "standard_version": self.standard_version}

    def describe(self) -> str:
        return f"{self.product} {self.version} ({self.supplier}) at {self.url}"


@dataclass(frozen=True)
class Difference:
    """A record that is not the same on both sides: ``kind`` is missing (only in the source), extra (only in
    the target), different (in both, not equal) or duplicate (twice in one side's export)."""

    kind: str
    type: str
    id: str
    side: str | None = None
    pointers: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "type": self.type, "id": self.id}
        if self.side:
            out["side"] = self.side
        if self.pointers:
            out["fields"] = list(self.pointers)
        return out

    def describe(self) -> str:
        if self.kind == "missing":
            return f"missing from the target: {self.type} {self.id}"
        if self.kind == "extra":
            return f"only in the target: {self.type} {self.id}"
        if self.kind == "duplicate":
            return f"twice in the {self.side}'s export: {self.type} {self.id}"
        fields = f" (fields {', '.join(self.pointers)})" if self.pointers else ""
        return f"different: {self.type} {self.id}{fields}"


@dataclass
class Comparison:
    """What the verification found: counts per type on each side and the records that differ."""

    counts: dict[str, list[int]] = field(default_factory=dict)
    compared: int = 0
    equal: int = 0
    found: dict[str, int] = field(default_factory=lambda: {"missing": 0, "extra": 0, "different": 0,
                                                           "duplicate": 0})
    differences: list[Difference] = field(default_factory=list)
    ordered: bool = True
    _listed: dict[str, int] = field(default_factory=dict, repr=False)

    def count(self, side: int, message_type: str) -> None:
        self.counts.setdefault(message_type, [0, 0])[side] += 1

    def add(self, difference: Difference) -> None:
        self.found[difference.kind] += 1
        if self._listed.get(difference.kind, 0) < LISTED:
            self._listed[difference.kind] = self._listed.get(difference.kind, 0) + 1
            self.differences.append(difference)

    @property
    def counts_equal(self) -> bool:
        return all(source == target for source, target in self.counts.values())

    @property
    def records_equal(self) -> bool:
        return not any(self.found.values())


@dataclass
class MigrationReport:
    """The outcome of a migration; ``verdict`` is "equal" only when the counts and every record match."""

    council: str
    source: Endpoint
    target: Endpoint
    started_at: str
    finished_at: str
    chunk_size: int
    moved: int
    sent: int
    resumed_after: int
    chunks: int
    changes: dict[str, int]
    rejected: list[dict[str, Any]]
    rejected_count: int
    comparison: Comparison
    notes: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        return EQUAL if self.comparison.counts_equal and self.comparison.records_equal else NOT_EQUAL

    @property
    def exit_code(self) -> int:
        return 0 if self.verdict == EQUAL else 1

    def problems(self) -> list[str]:
        """Plain-language reasons the data is not equal (none when it is)."""
        out = [f"{name}: {source:,} in the source, {target:,} in the target"
               for name, (source, target) in sorted(self.comparison.counts.items()) if source != target]
        found = self.comparison.found
        words = {"missing": "record(s) of the source missing from the target",
                 "extra": "record(s) in the target that the source does not hold",
                 "different": "record(s) not equal on both sides",
                 "duplicate": "record(s) exported twice"}
        out += [f"{found[kind]:,} {text}" for kind, text in words.items() if found[kind]]
        if self.rejected_count:
            out.append(f"{self.rejected_count:,} message(s) refused by the target's import")
        return out

    def to_json(self) -> dict[str, Any]:
        comparison = self.comparison
        return {
            "plugshare_migration": FORMAT,
            "council": self.council,
            "verdict": self.verdict,
            "source": self.source.as_dict(),
            "target": self.target.as_dict(),
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "moved": {"records": self.moved, "sent_this_run": self.sent, "resumed_after": self.resumed_after,
                      "chunks_this_run": self.chunks, "chunk_size": self.chunk_size, "changes": dict(self.changes),
                      "rejected_count": self.rejected_count, "rejected": self.rejected},
            "counts": {name: {"source": source, "target": target, "equal": source == target}
                       for name, (source, target) in sorted(comparison.counts.items())},
            "records": {"compared": comparison.compared, "equal": comparison.equal, **comparison.found,
                        "listed_at_most": LISTED, "compared_in_order": comparison.ordered,
                        "differences": [d.as_dict() for d in comparison.differences]},
            "problems": self.problems(),
            "notes": list(self.notes),
        }


# --- migrating ----------------------------------------------------------------------------------------------


def migrate(source: PlugshareClient, target: PlugshareClient, council: str,
            out_dir: str | os.PathLike[str] | None = None, progress: Callable[[Progress], None] | None = None, *,
            chunk_size: int = CHUNK_SIZE) -> MigrationReport:
    """Move ``council``'s records from ``source`` to ``target``, verify them and report.

    With ``out_dir`` the checkpoint and the reports are written there, and a run interrupted before is
    resumed from its checkpoint. ``progress`` is called after each chunk and during verification; an
    exception it raises (KeyboardInterrupt) stops the migration with the checkpoint in place.
    Raises :class:`MigrationError` when a side cannot be used or stops answering.
    """
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    secrets = [token for token in (source.token, target.token) if token]
    out = Path(out_dir) if out_dir is not None else None
    if out is not None:
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise MigrationError(f"{out}: the migration's folder cannot be made ({exc.strerror or exc})") from None
    started = _now()
    with _plainly("source", council, secrets):
        source_side, _ = _endpoint(source, "source")
        _check_access(source, council)
    with _plainly("target", council, secrets):
        target_side, capabilities = _endpoint(target, "target")
        _check_access(target, council)
        if capabilities.get("read_only") or "bulk-import" not in (capabilities.get("features") or []):
            raise MigrationError(f"the target ({target_side.url}) does not take writes through bulk import (it "
                                 "declares itself read-only or without the bulk-import feature); migrate into a "
                                 "server that accepts imports", "target")
    mover = _Mover(source, target, council, out, progress, chunk_size, source_side, target_side, secrets)
    mover.move()
    comparison = mover.verify()
    report = MigrationReport(council, source_side, target_side, started, _now(), chunk_size,
                             moved=mover.state.moved, sent=mover.sent, resumed_after=mover.resumed_after,
                             chunks=mover.chunks, changes=dict(mover.state.changes), rejected=mover.state.rejected,
                             rejected_count=mover.state.rejected_count, comparison=comparison, notes=mover.notes)
    report.notes += next_steps(comparison, mover.state.rejected_count)
    if out is not None:
        write_reports(report, out)
        with contextlib.suppress(FileNotFoundError):
            (out / CHECKPOINT).unlink()  # done: a rerun moves everything again (and so repairs what differs)
    return report


@dataclass
class _State:
    """What the checkpoint holds: how far the target has acknowledged the source's export."""

    source: str
    target: str
    council: str
    acknowledged: dict[str, int] = field(default_factory=dict)
    last: Key | None = None
    changes: dict[str, int] = field(default_factory=dict)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    rejected_count: int = 0
    moved_all: bool = False

    @property
    def moved(self) -> int:
        return sum(self.acknowledged.values())

    def as_dict(self) -> dict[str, Any]:
        return {"plugshare_migration_checkpoint": FORMAT, "source": self.source, "target": self.target,
                "council": self.council, "acknowledged": self.acknowledged,
                "last": list(self.last) if self.last else None, "changes": self.changes,
                "rejected": self.rejected, "rejected_count": self.rejected_count, "moved_all": self.moved_all}

    @classmethod
    def read(cls, path: Path, source: str, target: str, council: str) -> tuple[_State | None, str | None]:
        """The checkpoint of this migration, or None and why it cannot be used (None when there is none)."""
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None, None
        except (OSError, ValueError):
            return None, f"{path.name} could not be read, so every record was sent again (nothing is duplicated)"
        try:
            if document.get("plugshare_migration_checkpoint") != FORMAT:
                raise ValueError("format")
            if (document["source"], document["target"], document["council"]) != (source, target, council):
                return None, (f"{path.name} was left by a migration between other servers or of another council, "
                              "so it was not used")
            last = document["last"]
            state = cls(source, target, council,
                        acknowledged={str(k): int(v) for k, v in document["acknowledged"].items()},
                        last=(str(last[0]), str(last[1])) if last else None,
                        changes={str(k): int(v) for k, v in document["changes"].items()},
                        rejected=[r for r in document["rejected"] if isinstance(r, dict)][:LISTED],
                        rejected_count=int(document["rejected_count"]), moved_all=bool(document["moved_all"]))
        except (AttributeError, KeyError, TypeError, ValueError, IndexError):
            return None, f"{path.name} is not a checkpoint this version can read, so every record was sent again"
        return state, None


class _Mover:
    def __init__(self, source: PlugshareClient, target: PlugshareClient, council: str, out: Path | None,
                 progress: Callable[[Progress], None] | None, chunk_size: int, source_side: Endpoint,
                 target_side: Endpoint, secrets: list[str]):
        self.source, self.target, self.council, self.out = source, target, council, out
        self.progress, self.chunk_size, self.secrets = progress, chunk_size, secrets
        self.notes: list[str] = []
        self.sent = self.chunks = 0
        fresh = _State(source_side.url, target_side.url, council)
        self.state = fresh
        if out is not None:
            found, why = _State.read(out / CHECKPOINT, fresh.source, fresh.target, council)
            if why:
                self.notes.append(why)
            if found is not None:
                self.state = found
        self.resumed_after = self.state.moved
        if self.resumed_after or self.state.moved_all:
            self.notes.append(f"{RESUMED}: {self.resumed_after:,} record(s) the target had already acknowledged "
                              "were not sent again")

    # --- moving -------------------------------------------------------------------------------------------

    def move(self) -> None:
        if self.state.moved_all:
            return
        with _plainly("source", self.council, self.secrets, moving=True):
            try:
                self._stream(resume=self.state.last)
            except _Restart as restart:
                self.notes = [note for note in self.notes if not note.startswith(RESUMED)]
                self.notes.append(f"the checkpoint no longer matched the source's export ({restart}), so every "
                                  "record was sent again (nothing is duplicated)")
                self.state = _State(self.state.source, self.state.target, self.council)
                self.resumed_after = 0
                self._stream(resume=None)
        self.state.moved_all = True
        self._save()

    def _stream(self, resume: Key | None) -> None:
        """Send the source's export in chunks, skipping what the checkpoint says the target acknowledged."""
        types = None
        skip = 0
        if resume is not None:
            types = [name for name in sorted(MESSAGE_TYPES) if name >= resume[0]]
            skip = self.state.acknowledged.get(resume[0], 0)
        exported = self.source.export(council=self.council, types=types)
        try:
            chunk: list[tuple[Key, dict[str, Any]]] = []
            for message in exported:
                key = _key(message)
                if skip:
                    if key[0] != resume[0]:
                        raise _Restart(f"it holds fewer {resume[0]} records than were acknowledged")
                    skip -= 1
                    if not skip and key != resume:
                        raise _Restart(f"the last record acknowledged, {resume[0]} {resume[1]}, is not where it was")
                    continue
                chunk.append((key, message))
                if len(chunk) >= self.chunk_size:
                    self._send(chunk)
                    chunk = []
            if skip:
                raise _Restart(f"it holds fewer {resume[0]} records than were acknowledged")
            if chunk:
                self._send(chunk)
        finally:
            exported.close()

    def _send(self, chunk: list[tuple[Key, dict[str, Any]]]) -> None:
        """Import one chunk; once every line is acknowledged, move the checkpoint on and report progress."""
        with _plainly("target", self.council, self.secrets, moving=True):
            with self.target.import_messages([message for _, message in chunk], council=self.council) as result:
                acks = list(result)
        if len(acks) != len(chunk):
            raise MigrationError(f"the target acknowledged {len(acks)} of the {len(chunk)} messages of a chunk; "
                                 "run the migration again to resume (nothing is duplicated)", "target")
        state = self.state
        for ack, (key, _) in zip(acks, chunk, strict=True):
            if ack.get("status") == "accepted":
                change = ack.get("change") if isinstance(ack.get("change"), str) else "accepted"
                state.changes[change] = state.changes.get(change, 0) + 1
            else:
                state.rejected_count += 1
                state.changes["rejected"] = state.changes.get("rejected", 0) + 1
                if len(state.rejected) < LISTED:
                    state.rejected.append(self._rejection(key, ack))
            state.acknowledged[key[0]] = state.acknowledged.get(key[0], 0) + 1
        state.last = chunk[-1][0]
        self.sent += len(chunk)
        self.chunks += 1
        self._save()
        self._report("moving")

    def _rejection(self, key: Key, ack: Mapping[str, Any]) -> dict[str, Any]:
        """A refused line by type, id, requirements and field pointers: the reasons may quote values, so no."""
        errors = [e for e in ack.get("errors") or [] if isinstance(e, dict)]
        requirements = sorted({str(e["requirement"]) for e in errors if e.get("requirement")})
        pointers = sorted({str(e["pointer"]) for e in errors if e.get("pointer")})[:POINTERS]
        return {"type": key[0], "id": self._scrub(key[1]), "requirements": requirements,
                "fields": [self._scrub(p) for p in pointers]}

    def _save(self) -> None:
        if self.out is not None:
            write_atomic(self.out / CHECKPOINT, json.dumps(self.state.as_dict(), indent=2, sort_keys=True) + "\n",
                          sync=True)

    def _report(self, phase: str, verified: int = 0) -> None:
        if self.progress is not None:
            self.progress(Progress(phase, self.state.moved, self.resumed_after, self.chunks, verified))

    def _scrub(self, text: str) -> str:
        return _scrub(text, self.secrets)

    # --- verifying ----------------------------------------------------------------------------------------

    def verify(self) -> Comparison:
        self._report("verifying", 0)
        with _plainly("source or target", self.council, self.secrets, verifying=True):
            try:
                return self._merge()
            except _Unordered as unordered:
                self.notes.append(f"the {unordered} export is not ordered by type and then id (spec 13.7), so "
                                  "the records were compared by a map of digests")
                comparison = self._by_digest()
                comparison.ordered = False
                return comparison

    def _records(self, client: PlugshareClient, side: int, comparison: Comparison,
                 ordered: bool) -> Iterator[tuple[Key, str, dict[str, Any]]]:
        """(key, digest, message) of each exported record, counted; duplicates noted and passed over."""
        name = ("source", "target")[side]
        exported = client.export(council=self.council)
        previous: Key | None = None
        try:
            for message in exported:
                key = _key(message)
                comparison.count(side, key[0])
                if previous is not None and key == previous:
                    comparison.add(Difference("duplicate", key[0], self._scrub(key[1]), name))
                    continue
                if ordered and previous is not None and key < previous:
                    raise _Unordered(name)
                previous = key
                yield key, canonical_digest(message), message
        finally:
            exported.close()

    def _merge(self) -> Comparison:
        comparison = Comparison()
        source = self._records(self.source, 0, comparison, ordered=True)
        target = self._records(self.target, 1, comparison, ordered=True)
        try:
            a, b = next(source, None), next(target, None)
            while a is not None or b is not None:
                if b is None or (a is not None and a[0] < b[0]):
                    comparison.add(Difference("missing", a[0][0], self._scrub(a[0][1])))
                    a = self._compared(comparison, source)
                elif a is None or b[0] < a[0]:
                    comparison.add(Difference("extra", b[0][0], self._scrub(b[0][1])))
                    b = next(target, None)
                else:
                    if a[1] == b[1]:
                        comparison.equal += 1
                    else:
                        pointers = tuple(self._scrub(p) for p in differing_fields(a[2], b[2]))
                        comparison.add(Difference("different", a[0][0], self._scrub(a[0][1]), pointers=pointers))
                    a, b = self._compared(comparison, source), next(target, None)
        finally:
            source.close()
            target.close()
        return comparison

    def _compared(self, comparison: Comparison, source: Iterator[Any]) -> Any:
        comparison.compared += 1
        if comparison.compared % VERIFY_PROGRESS_EVERY == 0:
            self._report("verifying", comparison.compared)
        return next(source, None)

    def _by_digest(self) -> Comparison:
        """The comparison for an export out of order: the source's digests by key, then the target's walked."""
        comparison = Comparison()
        digests: dict[Key, str | None] = {}
        for key, digest, _ in self._records(self.source, 0, comparison, ordered=False):
            if key in digests:
                comparison.add(Difference("duplicate", key[0], self._scrub(key[1]), "source"))
            digests[key] = digest
        comparison.compared = len(digests)
        for number, (key, digest, _) in enumerate(self._records(self.target, 1, comparison, ordered=False), 1):
            if number % VERIFY_PROGRESS_EVERY == 0:
                self._report("verifying", number)
            if key in digests and digests[key] is None:  # matched already: the target exported it twice
                comparison.add(Difference("duplicate", key[0], self._scrub(key[1]), "target"))
                continue
            expected = digests.get(key)
            if expected is None:
                comparison.add(Difference("extra", key[0], self._scrub(key[1])))
                continue
            digests[key] = None
            if expected == digest:
                comparison.equal += 1
            else:
                comparison.add(Difference("different", key[0], self._scrub(key[1])))
        for key in sorted(k for k, digest in digests.items() if digest is not None):
            comparison.add(Difference("missing", key[0], self._scrub(key[1])))
        return comparison


def next_steps(comparison: Comparison, rejected: int = 0) -> list[str]:
    """What to do about the differences found, in plain words (nothing when there are none)."""
    found, steps = comparison.found, []
    if rejected:
        steps.append("messages the target's import refused stay missing until the target accepts them: see the "
                     "requirements named for each")
    if found["missing"] > rejected or found["different"]:
        steps.append("to repair records missing from the target or not equal (the source may have changed while "
                     "it was moved), run the same command again: every record is sent again, nothing is "
                     "duplicated")
    if found["extra"]:
        steps.append("a migration never deletes: records only in the target (deleted at the source, or there "
                     "before) stay until they are removed at the target")
    return steps


class _Restart(Exception):
    """The source's export no longer matches the checkpoint: move everything again."""


class _Unordered(Exception):
    """An export not ordered by type and then id (the text names the side)."""


def differing_fields(a: Any, b: Any, pointer: str = "", limit: int = POINTERS) -> list[str]:
    """JSON pointers of the members that differ between two messages (names only, never values)."""
    found: list[str] = []

    def walk(x: Any, y: Any, at: str) -> None:
        if len(found) >= limit or x == y:
            return
        if isinstance(x, dict) and isinstance(y, dict):
            for name in sorted(set(x) | set(y)):
                here = f"{at}/{str(name).replace('~', '~0').replace('/', '~1')}"
                if name not in x or name not in y:
                    if len(found) < limit:
                        found.append(here)
                else:
                    walk(x[name], y[name], here)
            return
        if isinstance(x, list) and isinstance(y, list) and len(x) == len(y):
            for index, (p, q) in enumerate(zip(x, y, strict=True)):
                walk(p, q, f"{at}/{index}")
            return
        found.append(at or "/")

    walk(a, b, pointer)
    return found


def _key(message: Mapping[str, Any]) -> Key:
    """(message type, record id) of an exported message; text that names neither still makes a key."""
    ce_type = message.get("type")
    name = message_type_of(ce_type) if isinstance(ce_type, str) else None
    data = message.get("data")
    record_id = data.get("id") if isinstance(data, Mapping) else None
    if not isinstance(record_id, str):
        record_id = message.get("subject") if isinstance(message.get("subject"), str) else ""
    return name or str(ce_type), record_id


def _endpoint(client: PlugshareClient, side: str) -> tuple[Endpoint, dict[str, Any]]:
    """The side as its capabilities describe it, and the capabilities."""
    capabilities = client.capabilities()
    if not isinstance(capabilities, dict):
        raise MigrationError(f"the {side} did not answer a capabilities document at {_public_url(client.base_url)}",
                             side)
    product = capabilities.get("product") if isinstance(capabilities.get("product"), dict) else {}
    return Endpoint(_public_url(client.base_url), str(product.get("name") or "unnamed product"),
                    str(product.get("version") or "?"), str(product.get("supplier") or "?"),
                    str(capabilities.get("standard_version") or "?")), capabilities


def _check_access(client: PlugshareClient, council: str) -> None:
    """Read one record of the council, so that a refused token is found before anything is moved."""
    first = client.export(council=council)
    try:
        next(first, None)
    finally:
        first.close()


@contextlib.contextmanager
def _plainly(side: str, council: str, secrets: list[str], *, moving: bool = False,
             verifying: bool = False) -> Iterator[None]:
    """Turn what the client raises into a :class:`MigrationError` that says which side, what and what next."""
    again = (" Run the migration again to resume from its checkpoint (nothing is duplicated)." if moving
             else " Run the migration again: what was moved stays moved." if verifying else "")
    try:
        yield
    except MigrationError:
        raise
    except Unauthorized:
        raise MigrationError(f"the {side} refused the token (401 Unauthorized: unknown, revoked or expired); "
                             f"give a valid token for council {council}." + again, side) from None
    except Forbidden:
        raise MigrationError(f"the {side}'s token is not bound to council {council} (403 Forbidden); give a token "
                             "made for that council." + again, side) from None
    except ApiError as exc:
        raise MigrationError(f"the {side} answered with an error: {_scrub(str(exc), secrets)}." + again,
                             side) from None
    except UnexpectedResponse as exc:
        raise MigrationError(f"the {side} answered what the API does not allow: {_scrub(str(exc), secrets)}."
                             + again, side) from None
    except httpx.TransportError as exc:
        reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        raise MigrationError(f"the {side} could not be reached or stopped answering ({_scrub(reason, secrets)})."
                             + again, side) from None


def _public_url(url: str) -> str:
    """The URL without user, password, query or fragment: what a report may show."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port
    except ValueError:
        return "(unreadable URL)"
    netloc = (f"[{host}]" if ":" in host else host) + (f":{port}" if port is not None else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _scrub(text: str, secrets: list[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "[token]")
    return mask_text(text)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# --- reports ------------------------------------------------------------------------------------------------


def write_reports(report: MigrationReport, out: str | os.PathLike[str]) -> dict[str, Path]:
    """Write migration.json and migration.html into ``out``; return them by format."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    document = report.to_json()
    paths = {"json": folder / MIGRATION_JSON, "html": folder / MIGRATION_HTML}
    write_atomic(paths["json"], json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    write_atomic(paths["html"], render_html(document))
    return paths


def headline(document: Mapping[str, Any]) -> str:
    if document["verdict"] == EQUAL:
        return f"EQUAL: the target holds exactly {document['council']}'s data from the source"
    return f"NOT EQUAL: the target does not hold exactly {document['council']}'s data from the source"


def summary_lines(report: MigrationReport, paths: Mapping[str, Path] | None = None) -> Iterator[str]:
    """What a person reads at the end: the verdict, what moved, and what differs."""
    document = report.to_json()
    yield headline(document)
    yield f"  from {report.source.describe()}"
    yield f"  to   {report.target.describe()}"
    changes = ", ".join(f"{n:,} {name}" for name, n in sorted(report.changes.items())) or "nothing"
    resumed = f"; resumed after {report.resumed_after:,} acknowledged before" if report.resumed_after else ""
    yield f"  moved {report.moved:,} record(s) ({changes}); sent {report.sent:,} in this run{resumed}"
    counts = report.comparison.counts
    yield (f"  compared {report.comparison.compared:,} source record(s) of {len(counts)} type(s): "
           f"{report.comparison.equal:,} equal")
    for problem in report.problems():
        yield f"  {problem}"
    shown = report.comparison.differences[:10]
    for difference in shown:
        yield f"    {difference.describe()}"
    listed = sum(report.comparison.found.values())
    if listed > len(shown):
        yield f"    and {listed - len(shown):,} more (see the report)"
    for rejected in report.rejected[:5]:
        because = ", ".join(rejected["requirements"]) or "no requirement named"
        yield f"    refused by the target: {rejected['type']} {rejected['id']} ({because})"
    for note in report.notes:
        yield f"  note: {note}"
    if paths:
        yield "  report: " + ", ".join(str(path) for path in paths.values())


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Arial,sans-serif;color:#1b1b1b;margin:2rem auto;max-width:64rem;
padding:0 1rem;line-height:1.45}
h1{font-size:2rem;margin:0 0 .3rem}h2{margin-top:2rem;border-bottom:2px solid #ccc;padding-bottom:.2rem}
.verdict{padding:1.2rem 1.5rem;border:4px solid;border-radius:6px}
.verdict.equal{border-color:#00703c;background:#e6f4ec}.verdict.not_equal{border-color:#d4351c;background:#fbeae7}
table{border-collapse:collapse;width:100%;margin:.6rem 0}th,td{border:1px solid #bbb;padding:.3rem .5rem;
text-align:left;vertical-align:top}th{background:#f3f2f1}td.n{text-align:right}
.no{color:#d4351c;font-weight:bold}.yes{color:#00703c;font-weight:bold}
dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}dt{font-weight:bold}dd{margin:0}
@media print{body{margin:0;max-width:none;font-size:10pt}h2{break-after:avoid}tr{break-inside:avoid}
.verdict{background:none}}
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def render_html(document: Mapping[str, Any]) -> str:
    """migration.html: self-contained and printable, the verdict first, then the counts and what differs."""
    title = headline(document)
    moved, records = document["moved"], document["records"]
    source, target = document["source"], document["target"]
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{_e(title)}: plugshare migration report</title>", f"<style>{_CSS}</style>", "</head>", "<body>",
           f'<header class="verdict {_e(document["verdict"])}"><h1>{_e(title)}</h1>',
           f"<p>Council {_e(document['council'])}, moved from {_e(source['product'])} {_e(source['version'])} "
           f"({_e(source['supplier'])}) to {_e(target['product'])} {_e(target['version'])} "
           f"({_e(target['supplier'])}) through the standard API, {_e(document['started_at'])} to "
           f"{_e(document['finished_at'])}.</p>"]
    if document["verdict"] == EQUAL:
        out.append("<p>Both sides hold the same number of records of every message type, and every record is "
                   "equal after canonicalisation.</p>")
    else:
        out.append("<p>Why:</p><ul>" + "".join(f"<li>{_e(p)}</li>" for p in document["problems"]) + "</ul>")
    out.append("</header>")

    out += ['<section id="counts"><h2>Records by message type</h2>',
            "<table><tr><th>message type</th><th>source</th><th>target</th><th>same number</th></tr>"]
    for name, count in document["counts"].items():
        same = '<span class="yes">yes</span>' if count["equal"] else '<span class="no">no</span>'
        out.append(f'<tr><td>{_e(name)}</td><td class="n">{count["source"]:,}</td>'
                   f'<td class="n">{count["target"]:,}</td><td>{same}</td></tr>')
    if not document["counts"]:
        out.append('<tr><td colspan="4">Neither side holds a record of this council.</td></tr>')
    out.append("</table>")
    out.append(f"<p>{records['compared']:,} source record(s) compared, {records['equal']:,} equal on both sides.</p>"
               "</section>")

    out.append('<section id="differences"><h2>Records that differ</h2>')
    if not records["differences"]:
        out.append("<p>None.</p>")
    else:
        out.append("<p>Named by type and id only; the fields that differ are named, their values never shown. "
                   f"At most {records['listed_at_most']:,} of each kind are listed.</p>")
        out.append("<table><tr><th>what</th><th>message type</th><th>id</th><th>fields</th></tr>")
        words = {"missing": "missing from the target", "extra": "only in the target",
                 "different": "not equal", "duplicate": "exported twice"}
        for difference in records["differences"]:
            what = words.get(difference["kind"], difference["kind"])
            if difference.get("side"):
                what += f" ({difference['side']})"
            out.append(f"<tr><td>{_e(what)}</td><td>{_e(difference['type'])}</td><td>{_e(difference['id'])}</td>"
                       f"<td>{_e(', '.join(difference.get('fields', [])))}</td></tr>")
        out.append("</table>")
    out.append("</section>")

    changes = ", ".join(f"{n:,} {name}" for name, n in sorted(moved["changes"].items())) or "nothing"
    rows = [("Records moved", f"{moved['records']:,} ({changes})"),
            ("Sent in the last run", f"{moved['sent_this_run']:,} in {moved['chunks_this_run']:,} chunk(s) of at "
                                     f"most {moved['chunk_size']:,}"),
            ("Resumed after", f"{moved['resumed_after']:,} record(s) acknowledged by an interrupted run"),
            ("Source", f"{source['url']} (standard {source['standard_version']})"),
            ("Target", f"{target['url']} (standard {target['standard_version']})")]
    out += ['<section id="moved"><h2>What was moved</h2><dl>']
    out += [f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in rows]
    out.append("</dl>")
    if moved["rejected"]:
        out.append(f"<h3>Refused by the target ({moved['rejected_count']:,})</h3>"
                   "<table><tr><th>message type</th><th>id</th><th>requirements</th><th>fields</th></tr>")
        out += [f"<tr><td>{_e(r['type'])}</td><td>{_e(r['id'])}</td><td>{_e(', '.join(r['requirements']))}</td>"
                f"<td>{_e(', '.join(r['fields']))}</td></tr>" for r in moved["rejected"]]
        out.append("</table>")
    if document["notes"]:
        out.append("<h3>Notes</h3><ul>" + "".join(f"<li>{_e(n)}</li>" for n in document["notes"]) + "</ul>")
    out += ["</section>", "</body>", "</html>", ""]
    return "\n".join(out)


# --- progress on a terminal ---------------------------------------------------------------------------------


class ProgressLine(StatusLine):
    """One line on standard error, rewritten after each chunk; on a stream that is not a terminal (shown only
    when asked), one line each time instead."""

    def __init__(self, stream: IO[str], *, show: bool | None = None):
        super().__init__(stream, show=show)
        self._started = dt.datetime.now(dt.UTC)

    def update(self, progress: Progress) -> None:
        seconds = (dt.datetime.now(dt.UTC) - self._started).total_seconds()
        if progress.phase == "moving":
            resumed = f", {progress.resumed_after:,} before this run" if progress.resumed_after else ""
            self.write(f"  moved {progress.moved:,} of ? records ({progress.chunks:,} chunk(s){resumed}, "
                       f"{seconds:.0f} s)")
        else:
            self.write(f"  verifying: compared {progress.verified:,} records ({seconds:.0f} s)")


def api_root(url: str, side: str) -> str:
    """The API root a client is given (``/v1`` dropped); refuses an address a report could not show safely."""
    text = url.strip().rstrip("/")
    if not text.lower().startswith(("http://", "https://")) or len(text.split("://", 1)[1]) == 0:
        raise MigrationError(f"the {side} {mask_text(url)!r} is not an http:// or https:// address "
                             "(e.g. https://api.example.org)", side)
    try:
        parsed = httpx.URL(text)
    except httpx.InvalidURL as exc:
        raise MigrationError(f"the {side} {mask_text(url)!r} is not a usable address ({exc})", side) from None
    if not parsed.host:
        raise MigrationError(f"the {side} {mask_text(url)!r} names no host", side)
    if parsed.userinfo or parsed.query or parsed.fragment:
        raise MigrationError(f"give the {side}'s address as the API root, without a user name, password, query or "
                             "fragment (e.g. https://api.example.org); its token goes in its own option", side)
    return text.removesuffix("/v1")
