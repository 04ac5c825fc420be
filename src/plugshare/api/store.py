"""The reference server's storage: the latest accepted message per record, in SQLite.

One connection guarded by a lock serves every thread; each call holds the lock
only for its own statements, so a long export or import never blocks others for
more than one page or batch. Tenant isolation lives here, not in the handlers:
``Store.tenant(credential, council)`` is the only way to read or write records on
behalf of a caller, and every query of the view it returns is bound to its council.

Every change (upsert or delete) takes the next tick of one server-wide clock:
``seq`` strictly increasing, and ``changed_at`` a UTC time with microseconds that
is strictly increasing too, even if the wall clock stalls or steps back. The
clock's position is saved with each write and read back inside the next write
transaction, so two processes writing one database file still tick in commit
order and a change feed read by ``seq`` misses nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from plugshare.models import MESSAGE_TYPES, STANDARD_VERSION, cloudevents_type, message_type_of
from plugshare.models.canonical import canonical_digest, canonical_json

SCHEMA_VERSION = 1
EXPORT_PAGE_SIZE = 500
MEMORY = ":memory:"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS records (
    council TEXT NOT NULL,
    type TEXT NOT NULL,
    id TEXT NOT NULL,
    message TEXT NOT NULL,
    etag TEXT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    changed_at TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (council, type, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS records_by_seq ON records (council, type, seq, changed_at);
CREATE INDEX IF NOT EXISTS records_by_id ON records (council, type, id) WHERE deleted = 0;
CREATE TABLE IF NOT EXISTS tokens (
    token_id TEXT PRIMARY KEY,
    secret_sha256 TEXT NOT NULL,
    councils TEXT NOT NULL,
    label TEXT,
    created_at TEXT NOT NULL,
    expires_at TEXT,
    revoked_at TEXT
);
"""

_COLUMNS = "type, id, message, etag, deleted, changed_at, seq"


class StoreError(Exception):
    """The store cannot do what was asked; ``requirement`` names the API requirement at stake, if any."""

    requirement: str | None = None


class Forbidden(StoreError):
    """The credential is not bound to the council asked for."""

    requirement = "PS-API-003"

    def __init__(self, council: str):
        super().__init__(f"the credential is not bound to council {council}")
        self.council = council


class CouncilMismatch(StoreError, ValueError):
    """A write for one council carried a message of another."""

    requirement = "PS-API-008"

    def __init__(self, council: str, claimed: object):
        super().__init__(f"PS-API-008: the message's council {claimed!r} is not {council}; "
                         f"a council's store holds only its own records")
        self.council = council
        self.claimed = claimed


class PreconditionFailed(StoreError):
    """If-Match or If-None-Match did not hold for the record's current state."""

    requirement = "PS-API-010"


class NotFound(StoreError):
    """No current record (absent, or deleted)."""


class SchemaMismatch(StoreError):
    """The database file was written by a plugshare with another storage schema."""


class Bound(Protocol):
    """What the store needs of a credential: the councils it may act for."""

    councils: frozenset[str]


@dataclass(frozen=True)
class StoredRecord:
    """One row: the latest message for a record, upsert or tombstone, and when it last changed."""

    type: str
    id: str
    message_json: str  # canonical JSON
    etag: str  # strong entity tag, quoted
    deleted: bool
    changed_at: str
    seq: int

    @property
    def message(self) -> dict[str, Any]:
        """The message parsed afresh: callers may change it without touching what is stored."""
        return json.loads(self.message_json)


@dataclass(frozen=True)
class TokenRow:
    """A token as stored: the SHA-256 of its secret, never the secret (see ``plugshare.api.tokens``)."""

    token_id: str
    secret_sha256: str
    councils: tuple[str, ...]
    label: str | None
    created_at: str
    expires_at: str | None
    revoked_at: str | None


def format_time(moment: dt.datetime) -> str:
    """A change time as the API shows it: UTC, microseconds, ``Z`` (sorts as text in time order).

    The year always has four digits: ``strftime`` writes year 999 as "999", which sorts after "2026".
    """
    return moment.astimezone(dt.UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_time(text: str) -> dt.datetime:
    """A change time written by ``format_time``; strict, since only the store writes them."""
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)


def etag_of(message: dict[str, Any]) -> str:
    """The strong ETag of a message: the first 32 hex digits of its canonical digest, quoted."""
    return '"' + canonical_digest(message)[:32] + '"'


def record_key(message: dict[str, Any]) -> tuple[str, str]:
    """(message type, record id) of a message that passed validation: data.id for an upsert, subject for a delete."""
    message_type = message_type_of(message.get("type", ""))
    if message_type is None:
        raise ValueError(f"{message.get('type')!r} is not a message type of the standard")
    if message.get("action") == "delete":
        record_id = message.get("subject")
    else:
        data = message.get("data")
        record_id = data.get("id") if isinstance(data, dict) else None
    if not isinstance(record_id, str) or not record_id:
        raise ValueError("the message names no record id")
    return message_type, record_id


def tombstone_message(council: str, message_type: str, record_id: str, changed_at: str,
                      origin: str = "api") -> dict[str, Any]:
    """The delete message the server makes itself (for a DELETE, or a record gone from a gateway's source)."""
    return {
        "specversion": "1.0", "id": str(uuid.uuid4()), "source": f"urn:plugshare:{council}:{origin}",
        "time": changed_at, "datacontenttype": "application/json", "subject": record_id,
        "council": council, "action": "delete", "schemaversion": STANDARD_VERSION,
        "type": cloudevents_type(message_type),
    }


def _row(row: Sequence[Any]) -> StoredRecord:
    return StoredRecord(row[0], row[1], row[2], row[3], bool(row[4]), row[5], row[6])


def _matches(if_match: str | Iterable[str], etag: str) -> bool:
    if isinstance(if_match, str):
        return if_match == "*" or if_match == etag
    return any(tag == "*" or tag == etag for tag in if_match)


class Store:
    """The records and tokens of one server, in a SQLite file (WAL mode) or in memory."""

    def __init__(self, path: str | os.PathLike[str] = MEMORY):
        self.path = str(path)
        self._lock = threading.Lock()
        self._mirroring = threading.Lock()
        self._seq = 0
        self._last_time = dt.datetime.min.replace(tzinfo=dt.UTC)
        self._conn: sqlite3.Connection | None = sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None)
        conn = self._conn
        try:
            conn.execute("PRAGMA busy_timeout = 5000")
            if self.path != MEMORY:
                conn.execute("PRAGMA journal_mode = WAL")
                # FULL: a record acknowledged as stored survives a power cut, not only a crash of the server.
                conn.execute("PRAGMA synchronous = FULL")
            self._migrate(conn)
            self._sync_clock(conn)
        except BaseException:
            conn.close()
            self._conn = None
            raise

    # --- lifecycle --------------------------------------------------------------------------

    def _migrate(self, conn: sqlite3.Connection) -> None:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if tables and "meta" not in tables:  # never add our tables to another application's database
            raise SchemaMismatch(f"{self.path} is the SQLite database of something else, not of a plugshare server")
        conn.executescript(_SCHEMA)
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = self._meta(conn, "schema_version")
            if version is None:
                conn.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            elif version != str(SCHEMA_VERSION):
                raise SchemaMismatch(f"{self.path} holds storage schema version {version}; this plugshare reads "
                                     f"version {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    @staticmethod
    def _meta(conn: sqlite3.Connection, key: str) -> str | None:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    @property
    def schema_version(self) -> int:
        with self._locked() as conn:
            return int(self._meta(conn, "schema_version") or 0)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    @property
    def closed(self) -> bool:
        return self._conn is None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _locked(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._conn is None:
                raise StoreError("the store is closed")
            yield self._conn

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction under the lock; the clock's position is read at its start and saved with it."""
        with self._locked() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                self._sync_clock(conn)
                seq_before = self._seq
                yield conn
                if self._seq != seq_before:
                    conn.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", [
                        ("last_seq", str(self._seq)), ("last_changed_at", format_time(self._last_time))])
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    # --- the change clock -------------------------------------------------------------------

    def _sync_clock(self, conn: sqlite3.Connection) -> None:
        """Catch up with the clock as saved, in case another process wrote this file since; lock held."""
        saved = dict(conn.execute("SELECT key, value FROM meta WHERE key IN ('last_seq', 'last_changed_at')"))
        if "last_seq" in saved:
            self._seq = max(self._seq, int(saved["last_seq"]))
        if "last_changed_at" in saved:
            self._last_time = max(self._last_time, parse_time(saved["last_changed_at"]))

    def _tick(self) -> tuple[int, str]:
        """The next change's (seq, changed_at); call with the lock held."""
        now = dt.datetime.now(dt.UTC)
        floor = self._last_time + dt.timedelta(microseconds=1)
        self._last_time = max(now, floor)
        self._seq += 1
        return self._seq, format_time(self._last_time)

    def snapshot_time(self) -> str:
        """Now, on the change clock: every change made after this call has a later ``changed_at``."""
        with self._locked() as conn:
            self._sync_clock(conn)
            self._last_time = max(dt.datetime.now(dt.UTC), self._last_time)
            return format_time(self._last_time)

    # --- tenancy ----------------------------------------------------------------------------

    def tenant(self, credential: Bound, council: str) -> TenantStore:
        """The view of one council's records, for a credential bound to it (``Forbidden`` otherwise)."""
        if council not in credential.councils:
            raise Forbidden(council)
        return TenantStore(self, council)

    def load(self, messages: Iterable[dict[str, Any]], batch_size: int = EXPORT_PAGE_SIZE) -> dict[str, int]:
        """Fill the store with validated messages of any council (``serve --load``); counts by change."""
        return self._load(messages, batch_size, remember=False)

    def mirror(self, messages: Iterable[dict[str, Any]], types: Iterable[str], origin: str = "gateway",
               batch_size: int = EXPORT_PAGE_SIZE) -> dict[str, int]:
        """Make the current records of ``types`` exactly ``messages`` (a gateway's refresh); counts by change.

        The messages are loaded, then every current record of those types, in any council, that was
        not among them gets a tombstone from ``urn:plugshare:<council>:<origin>``. The keys seen wait
        in a temporary table rather than in memory, so a source of any size refreshes in flat memory.
        If reading the messages fails, nothing is deleted.
        """
        wanted = sorted(set(types))
        with self._mirroring:  # the temporary table belongs to the one connection: one mirror at a time
            with self._locked() as conn:
                conn.execute("CREATE TEMP TABLE IF NOT EXISTS mirror_seen (council TEXT, type TEXT, id TEXT, "
                             "PRIMARY KEY (council, type, id)) WITHOUT ROWID")
                conn.execute("DELETE FROM temp.mirror_seen")
            try:
                counts = self._load(messages, batch_size, remember=True)
                deleted = sum(self._sweep(wanted, origin, batch_size)) if wanted else 0
            finally:
                if not self.closed:
                    with self._locked() as conn:
                        conn.execute("DELETE FROM temp.mirror_seen")
        if deleted:
            counts["deleted"] = counts.get("deleted", 0) + deleted
        return counts

    def _load(self, messages: Iterable[dict[str, Any]], batch_size: int, remember: bool) -> dict[str, int]:
        """One transaction per batch; ``remember`` notes each record's key in ``temp.mirror_seen``.

        The messages are consumed between transactions, so a slow source never holds the lock.
        """
        counts: dict[str, int] = {}
        batch: list[dict[str, Any]] = []

        def flush() -> None:
            with self._transaction() as conn:
                for message in batch:
                    change = self._apply(conn, str(message.get("council")), message)
                    counts[change] = counts.get(change, 0) + 1
                    if remember:
                        conn.execute("INSERT OR IGNORE INTO temp.mirror_seen VALUES (?, ?, ?)",
                                     (message["council"], *record_key(message)))
            batch.clear()

        for message in messages:
            batch.append(message)
            if len(batch) >= batch_size:
                flush()
        if batch:
            flush()
        return counts

    def _sweep(self, types: list[str], origin: str, batch_size: int) -> Iterator[int]:
        """Tombstone current records of ``types`` not in ``temp.mirror_seen``, a keyset batch per transaction."""
        marks = ", ".join("?" * len(types))
        after: tuple[str, str, str] = ("", "", "")
        while True:
            with self._transaction() as conn:
                gone = conn.execute(
                    f"SELECT council, type, id FROM records AS r WHERE deleted = 0 AND type IN ({marks}) "
                    "AND (council, type, id) > (?, ?, ?) AND NOT EXISTS (SELECT 1 FROM temp.mirror_seen AS s "
                    "WHERE s.council = r.council AND s.type = r.type AND s.id = r.id) "
                    "ORDER BY council, type, id LIMIT ?", (*types, *after, batch_size)).fetchall()
                for council, message_type, record_id in gone:
                    self._delete(conn, council, message_type, record_id, origin)
            yield len(gone)
            if len(gone) < batch_size:
                return
            after = tuple(gone[-1])

    # --- records: called by TenantStore with its council -----------------------------------

    def _current(self, conn: sqlite3.Connection, council: str, message_type: str,
                 record_id: str) -> StoredRecord | None:
        row = conn.execute(f"SELECT {_COLUMNS} FROM records WHERE council = ? AND type = ? AND id = ?",
                           (council, message_type, record_id)).fetchone()
        return _row(row) if row else None

    def _write(self, conn: sqlite3.Connection, council: str, message_type: str, record_id: str,
               message: dict[str, Any], deleted: bool, changed: tuple[int, str] | None = None) -> StoredRecord:
        seq, changed_at = changed or self._tick()
        text = canonical_json(message)
        etag = etag_of(message)
        conn.execute(
            "INSERT INTO records (council, type, id, message, etag, deleted, changed_at, seq) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (council, type, id) DO UPDATE SET "
            "message = excluded.message, etag = excluded.etag, deleted = excluded.deleted, "
            "changed_at = excluded.changed_at, seq = excluded.seq",
            (council, message_type, record_id, text, etag, int(deleted), changed_at, seq))
        return StoredRecord(message_type, record_id, text, etag, deleted, changed_at, seq)

    def _upsert(self, conn: sqlite3.Connection, council: str, message_type: str, record_id: str,
                message: dict[str, Any]) -> tuple[str, StoredRecord]:
        current = self._current(conn, council, message_type, record_id)
        if current and not current.deleted and current.message_json == canonical_json(message):
            return "unchanged", current
        change = "updated" if current and not current.deleted else "created"
        return change, self._write(conn, council, message_type, record_id, message, deleted=False)

    def _delete(self, conn: sqlite3.Connection, council: str, message_type: str, record_id: str,
                origin: str) -> StoredRecord:
        """Replace a record by a tombstone the server makes, timed at the change's tick."""
        changed = self._tick()
        message = tombstone_message(council, message_type, record_id, changed[1], origin)
        return self._write(conn, council, message_type, record_id, message, deleted=True, changed=changed)

    def _apply(self, conn: sqlite3.Connection, council: str, message: dict[str, Any]) -> str:
        """Apply one validated upsert or delete message; the change it made."""
        if message.get("council") != council:
            raise CouncilMismatch(council, message.get("council"))
        message_type, record_id = record_key(message)
        if message.get("action") == "delete":
            current = self._current(conn, council, message_type, record_id)
            if current and current.deleted:
                return "unchanged"
            self._write(conn, council, message_type, record_id, message, deleted=True)
            return "deleted"
        return self._upsert(conn, council, message_type, record_id, message)[0]

    # --- tokens: called by plugshare.api.tokens ---------------------------------------------

    def insert_token(self, row: TokenRow) -> None:
        with self._transaction() as conn:
            conn.execute("INSERT INTO tokens VALUES (?, ?, ?, ?, ?, ?, ?)", (
                row.token_id, row.secret_sha256, json.dumps(list(row.councils)), row.label, row.created_at,
                row.expires_at, row.revoked_at))

    def token_row(self, token_id: str) -> TokenRow | None:
        with self._locked() as conn:
            row = conn.execute("SELECT * FROM tokens WHERE token_id = ?", (token_id,)).fetchone()
        return self._token(row) if row else None

    def token_rows(self) -> list[TokenRow]:
        with self._locked() as conn:
            rows = conn.execute("SELECT * FROM tokens ORDER BY created_at, token_id").fetchall()
        return [self._token(row) for row in rows]

    def set_token_revoked(self, token_id: str, at: str) -> bool:
        """Mark a token revoked; False when there is no such token or it was revoked already."""
        with self._transaction() as conn:
            cursor = conn.execute("UPDATE tokens SET revoked_at = ? WHERE token_id = ? AND revoked_at IS NULL",
                                  (at, token_id))
            return cursor.rowcount == 1

    @staticmethod
    def _token(row: Sequence[Any]) -> TokenRow:
        return TokenRow(row[0], row[1], tuple(json.loads(row[2])), row[3], row[4], row[5], row[6])


class TenantStore:
    """One council's records. Every query binds ``council = ?`` from here; writes refuse other councils."""

    def __init__(self, store: Store, council: str):
        self._store = store
        self.council = council

    def snapshot_time(self) -> str:
        """The server-wide snapshot time: the clock is one for all councils, so a view only passes it on."""
        return self._store.snapshot_time()

    def get(self, message_type: str, record_id: str, include_deleted: bool = False) -> StoredRecord | None:
        """The record's latest message; None when absent, or deleted unless ``include_deleted``."""
        with self._store._locked() as conn:
            record = self._store._current(conn, self.council, message_type, record_id)
        if record is None or (record.deleted and not include_deleted):
            return None
        return record

    def put(self, message_type: str, record_id: str, message: dict[str, Any],
            if_match: str | Iterable[str] | None = None,
            if_none_match: bool | Iterable[str] = False) -> tuple[str, str, dict[str, Any]]:
        """Upsert a validated message: (``created``/``updated``/``unchanged``, ETag, stored message).

        ``if_match`` ("*" or ETags) needs a current record with one of those ETags; ``if_none_match``
        (True for "*", or ETags) needs no current record, or none with those ETags; otherwise
        ``PreconditionFailed`` and nothing changes.
        """
        self._check(message, message_type, record_id)
        if message.get("action") != "upsert":
            raise ValueError("put stores upsert messages; a delete is made by delete()")
        with self._store._transaction() as conn:
            current = self._store._current(conn, self.council, message_type, record_id)
            etag = current.etag if current is not None and not current.deleted else None
            if if_match is not None and not (etag and _matches(if_match, etag)):
                raise PreconditionFailed("If-Match does not match the record's current ETag"
                                         if etag else "If-Match: there is no current record")
            if etag and (if_none_match is True or (if_none_match and _matches(if_none_match, etag))):
                raise PreconditionFailed("If-None-Match: the record exists")
            change, record = self._store._upsert(conn, self.council, message_type, record_id, message)
        return change, record.etag, record.message

    def delete(self, message_type: str, record_id: str, if_match: str | Iterable[str] | None = None,
               tombstone: dict[str, Any] | None = None) -> StoredRecord:
        """Replace a current record by a tombstone (made here unless given); ``NotFound`` if there is none."""
        if tombstone is not None:
            self._check(tombstone, message_type, record_id)
        with self._store._transaction() as conn:
            current = self._store._current(conn, self.council, message_type, record_id)
            if current is None or current.deleted:
                raise NotFound(f"no current {message_type} record {record_id}")
            if if_match is not None and not _matches(if_match, current.etag):
                raise PreconditionFailed("If-Match does not match the record's current ETag")
            if tombstone is not None:
                return self._store._write(conn, self.council, message_type, record_id, tombstone, deleted=True)
            return self._store._delete(conn, self.council, message_type, record_id, "api")

    def page(self, message_type: str, limit: int, after_id: str | None = None) -> list[StoredRecord]:
        """Up to ``limit`` current records ordered by id, after ``after_id`` (keyset paging)."""
        with self._store._locked() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM records WHERE council = ? AND type = ? AND deleted = 0 AND id > ? "
                "ORDER BY id LIMIT ?", (self.council, message_type, after_id or "", limit)).fetchall()
        return [_row(row) for row in rows]

    def changes(self, message_type: str, since: str, limit: int, after_seq: int | None = None) -> list[StoredRecord]:
        """Up to ``limit`` records whose last change is after ``since`` (and ``after_seq``), oldest first.

        ``since`` is a change time in this store's format; a deleted record comes as its tombstone.
        """
        with self._store._locked() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM records WHERE council = ? AND type = ? AND seq > ? AND changed_at > ? "
                "ORDER BY seq LIMIT ?", (self.council, message_type, after_seq or 0, since, limit)).fetchall()
        return [_row(row) for row in rows]

    def export_pages(self, types: Iterable[str] | None = None,
                     page_size: int = EXPORT_PAGE_SIZE) -> Iterator[list[str]]:
        """Every current record as canonical JSON, by type then id, one keyset page per lock."""
        for message_type in sorted(set(types) if types is not None else MESSAGE_TYPES):
            after = None
            while True:
                records = self.page(message_type, page_size, after)
                if records:
                    yield [record.message_json for record in records]
                if len(records) < page_size:
                    break
                after = records[-1].id

    def export(self, types: Iterable[str] | None = None) -> Iterator[dict[str, Any]]:
        """``export_pages`` as messages, one page in memory at a time (for callers in Python rather than HTTP)."""
        for page in self.export_pages(types):
            for text in page:
                yield json.loads(text)

    def apply_batch(self, messages: Sequence[dict[str, Any]]) -> list[str]:
        """Apply validated upsert and delete messages in one transaction; the change each made, in order.

        A delete of a record already deleted changes nothing; a delete of a record never seen keeps
        its tombstone, so the change feed tells consumers that hold it.
        """
        for message in messages:
            if message.get("council") != self.council:
                raise CouncilMismatch(self.council, message.get("council"))
        with self._store._transaction() as conn:
            return [self._store._apply(conn, self.council, message) for message in messages]

    def _check(self, message: dict[str, Any], message_type: str, record_id: str) -> None:
        if message.get("council") != self.council:
            raise CouncilMismatch(self.council, message.get("council"))
        if (message_type, record_id) != record_key(message):
            raise ValueError(f"the message is not for {message_type} record {record_id}")


def open_store(path: str | os.PathLike[str] = MEMORY) -> Store:
    """Open (creating if need be) the store at ``path``; ``":memory:"`` for one that lasts the process."""
    if str(path) != MEMORY:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    return Store(path)
