"""Deliberately defective suppliers: the reference server with one fault each, and the check that must catch it.

``SUPPLIERS`` maps a name to ``(app factory, check id)``: the factory takes the store (tokens already
made in it) and returns an ASGI app; a conformance run against it must fail that check. Each fault is
made the way a real supplier might make it: a body rewritten on the way out, a validator that lets a
rule slip, a storage layer that forgets the tenant. The suite's own self-test reuses this table to
publish how many defective implementations it catches.

``LEGITIMATE`` maps a name to the app factory of a supplier that differs from the reference server only where
the standard lets it (its own problem texts and ETags, extra headers, smaller declared limits, records it held
before the run): a run against each must pass every profile, so that no check fails a conforming supplier
for not being the reference server.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import parse_qs, quote, unquote

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from plugshare.api import Store, make_app
from plugshare.api.store import _COLUMNS, Forbidden, StoredRecord, TenantStore, _row
from plugshare.validation.validator import MessageValidator

AppFactory = Callable[[Store], ASGIApp]

_COLLECTION = re.compile(r"^/v1/councils/[^/]+/[a-z]+/[a-z-]+$")
_EXPORT = re.compile(r"^/v1/councils/[^/]+/export$")
_MONEY = re.compile(r"^-?[0-9]+\.[0-9]{2}$")


class RewriteResponses:
    """ASGI middleware: the whole response to a matching request, rewritten before it is sent on."""

    def __init__(self, app: ASGIApp, matches: Callable[[Scope], bool],
                 rewrite: Callable[[Scope, int, list[tuple[bytes, bytes]], bytes], tuple[int, list, bytes]]):
        self.app, self.matches, self.rewrite = app, matches, rewrite

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.matches(scope):
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def hold(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    status, headers, body = self.rewrite(scope, start["status"], list(start.get("headers", [])),
                                                         b"".join(chunks))
                    headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
                    headers.append((b"content-length", str(len(body)).encode()))
                    await send({"type": "http.response.start", "status": status, "headers": headers})
                    await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, hold)


def _query(scope: Scope) -> dict[str, list[str]]:
    return parse_qs(scope.get("query_string", b"").decode())


def _ndjson_lines(body: bytes, change: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]) -> bytes:
    messages = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
    return "".join(json.dumps(m, separators=(",", ":")) + "\n" for m in change(messages)).encode()


def _page(body: bytes, change: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]) -> bytes:
    page = json.loads(body)
    page["items"] = change(page["items"])
    return json.dumps(page, separators=(",", ":")).encode()


def _is_export(scope: Scope) -> bool:
    return scope["method"] == "GET" and bool(_EXPORT.match(scope["path"]))


def _is_list(scope: Scope) -> bool:
    return scope["method"] == "GET" and bool(_COLLECTION.match(scope["path"]))


def _ok(status: int) -> bool:
    return 200 <= status < 300


# --- the faults -------------------------------------------------------------------------------------------------


def export_drops_field(store: Store) -> ASGIApp:
    """The export leaves out each record's source_ids (the ids in the council's other systems)."""
    def drop(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for message in messages:
            if isinstance(message.get("data"), dict):
                message["data"].pop("source_ids", None)
        return messages

    return RewriteResponses(make_app(store), _is_export,
                            lambda scope, status, headers, body: (status, headers, _ndjson_lines(body, drop)
                                                                  if _ok(status) else body))


def export_loses_record(store: Store) -> ASGIApp:
    """The export's paging is off by one: the second record of each export never comes out."""
    return RewriteResponses(make_app(store), _is_export,
                            lambda scope, status, headers, body: (status, headers, _ndjson_lines(
                                body, lambda ms: ms[:1] + ms[2:]) if _ok(status) else body))


def list_drops_field(store: Store) -> ASGIApp:
    """List pages are built from a summary view that leaves out each record's source_ids; GET and the export
    are whole."""
    def drop(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for item in items:
            if isinstance(item.get("data"), dict):
                item["data"].pop("source_ids", None)
        return items

    def matches(scope: Scope) -> bool:
        return _is_list(scope) and "updated_since" not in _query(scope)

    return RewriteResponses(make_app(store), matches, lambda scope, status, headers, body: (
        status, headers, _page(body, drop) if _ok(status) else body))


def paging_skips(store: Store) -> ASGIApp:
    """Every page after the first loses its first record (a keyset cursor compared with > twice)."""
    def matches(scope: Scope) -> bool:
        query = _query(scope)
        return _is_list(scope) and "cursor" in query and "updated_since" not in query

    return RewriteResponses(make_app(store), matches,
                            lambda scope, status, headers, body: (status, headers, _page(body, lambda items: items[1:])
                                                                  if _ok(status) else body))


class _LeakyStore:
    """A store whose tenant views ignore which councils the token is bound to."""

    def __init__(self, store: Store):
        self._store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def tenant(self, credential: Any, council: str) -> TenantStore:
        return TenantStore(self._store, council)


def tenant_leak(store: Store) -> ASGIApp:
    """Any valid token reads and writes every council's records."""
    return make_app(_LeakyStore(store))  # type: ignore[arg-type]


class _LenientValidator(MessageValidator):
    """Lets malformed and never-issued NI numbers through."""

    SKIPPED = frozenset({"PS-ID-001", "PS-ID-002"})

    def check(self, message: dict[str, Any]) -> tuple[str | None, list]:
        found_type, problems = super().check(message)
        return found_type, [p for p in problems if p.requirement not in self.SKIPPED]


def accepts_invalid_ni(store: Store) -> ASGIApp:
    """Writes are validated, except that invalid NI numbers are accepted."""
    app = make_app(store)
    for route in app.routes:
        handlers = getattr(getattr(route, "endpoint", None), "__self__", None)
        if handlers is not None and hasattr(handlers, "validator"):
            handlers.validator = _LenientValidator()
    return app


def money_rounded_on_export(store: Store) -> ASGIApp:
    """The export writes money through a float formatter that rounds to 10p: 1234.56 comes out as 1234.60."""
    def rounded(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: rounded(v) for k, v in value.items()}
        if isinstance(value, list):
            return [rounded(v) for v in value]
        if isinstance(value, str) and _MONEY.match(value):
            return str(Decimal(value).quantize(Decimal("0.1"), ROUND_HALF_UP).quantize(Decimal("0.01")))
        return value

    def change(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**m, "data": rounded(m["data"])} if isinstance(m.get("data"), dict) else m for m in messages]

    return RewriteResponses(make_app(store), _is_export,
                            lambda scope, status, headers, body: (status, headers, _ndjson_lines(body, change)
                                                                  if _ok(status) else body))


def feed_drops_deletions(store: Store) -> ASGIApp:
    """The change feed leaves deletions out: a consumer never learns a record went."""
    def matches(scope: Scope) -> bool:
        return _is_list(scope) and "updated_since" in _query(scope)

    return RewriteResponses(make_app(store), matches, lambda scope, status, headers, body: (
        status, headers, _page(body, lambda items: [i for i in items if i.get("action") != "delete"])
        if _ok(status) else body))


class _FailsOnBadJson:
    """A PUT whose body is not JSON crashes the handler: a bare 500 instead of a 400 problem."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "PUT":
            await self.app(scope, receive, send)
            return
        chunks, more = [], True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        try:
            json.loads(body)
        except ValueError:
            await send({"type": "http.response.start", "status": 500,
                        "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
            await send({"type": "http.response.body", "body": b"Internal Server Error"})
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def crashes_on_bad_input(store: Store) -> ASGIApp:
    return _FailsOnBadJson(make_app(store))


class _AppendingUpserts:
    """Each PUT of a record already PUT adds a version instead of replacing it: 201 every time, a new ETag,
    and the list shows the record once per version."""

    def __init__(self, app: ASGIApp):
        self.app = app
        self.versions: dict[str, int] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "PUT":
            path = scope["path"]
            seen = self.versions.get(path, 0)

            async def versioned(message: Message) -> None:
                if message["type"] == "http.response.start" and message["status"] in (200, 201):
                    self.versions[path] = seen + 1
                    if seen:
                        headers = [(k, v[:-1] + f"-{seen}".encode() + b'"' if k.lower() == b"etag" else v)
                                   for k, v in message.get("headers", [])]
                        message = {**message, "status": 201, "headers": headers}
                await send(message)

            await self.app(scope, receive, versioned)
            return
        if scope["type"] == "http" and _is_list(scope) and "updated_since" not in _query(scope):
            def repeat(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
                out = []
                for item in items:
                    record_id = (item.get("data") or {}).get("id", "")
                    copies = max(1, self.versions.get(f"{scope['path']}/{record_id}", 0))
                    out += [item] * copies
                return out

            await RewriteResponses(self.app, lambda s: True, lambda s, status, headers, body: (
                status, headers, _page(body, repeat) if _ok(status) else body))(scope, receive, send)
            return
        await self.app(scope, receive, send)


def upsert_duplicates(store: Store) -> ASGIApp:
    return _AppendingUpserts(make_app(store))


def wrong_content_type(store: Store) -> ASGIApp:
    """Lists are served as text/plain although their body is JSON."""
    def relabel(scope: Scope, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> tuple:
        if _ok(status):
            headers = [(k, b"text/plain; charset=utf-8" if k.lower() == b"content-type" else v) for k, v in headers]
        return status, headers, body

    return RewriteResponses(make_app(store), _is_list, relabel)


def paging_repeats(store: Store) -> ASGIApp:
    """The cursor is dropped on the way in, so every page is the first one again (with a fresh next_cursor)."""
    app = make_app(store)

    async def first_page_again(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            query = [part for part in scope.get("query_string", b"").split(b"&") if not part.startswith(b"cursor=")]
            scope = {**scope, "query_string": b"&".join(query)}
        await app(scope, receive, send)

    return first_page_again


class _TenantsLike:
    """A store whose tenant views are of ``view`` (a TenantStore with one fault), bound to councils as usual."""

    def __init__(self, store: Store, view: type[TenantStore]):
        self._store, self._view = store, view

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def tenant(self, credential: Any, council: str) -> TenantStore:
        if council not in credential.councils:
            raise Forbidden(council)
        return self._view(self._store, council)


class _ListsTombstones(TenantStore):
    def page(self, message_type: str, limit: int, after_id: str | None = None) -> list[StoredRecord]:
        with self._store._locked() as conn:
            rows = conn.execute(f"SELECT {_COLUMNS} FROM records WHERE council = ? AND type = ? AND id > ? "
                                "ORDER BY id LIMIT ?", (self.council, message_type, after_id or "", limit)).fetchall()
        return [_row(row) for row in rows]


def lists_tombstones(store: Store) -> ASGIApp:
    """Lists and exports forget the deleted flag: a deleted record is still listed, as its tombstone."""
    return make_app(_TenantsLike(store, _ListsTombstones))  # type: ignore[arg-type]


class _FeedOfEveryCouncil(TenantStore):
    def changes(self, message_type: str, since: str, limit: int, after_seq: int | None = None) -> list[StoredRecord]:
        with self._store._locked() as conn:
            rows = conn.execute(f"SELECT {_COLUMNS} FROM records WHERE type = ? AND seq > ? AND changed_at > ? "
                                "ORDER BY seq LIMIT ?", (message_type, after_seq or 0, since, limit)).fetchall()
        return [_row(row) for row in rows]


class _ReadsTombstones(TenantStore):
    def get(self, message_type: str, record_id: str, include_deleted: bool = False) -> StoredRecord | None:
        return super().get(message_type, record_id, include_deleted=True)


def deleted_still_readable(store: Store) -> ASGIApp:
    """GET of a deleted record answers 200 with its tombstone instead of 404."""
    return make_app(_TenantsLike(store, _ReadsTombstones))  # type: ignore[arg-type]


def feed_leaks_other_council(store: Store) -> ASGIApp:
    """The change feed's query forgets the council: lists and exports are isolated, the feed is not."""
    return make_app(_TenantsLike(store, _FeedOfEveryCouncil))  # type: ignore[arg-type]


class _LosesLastPage(TenantStore):
    def page(self, message_type: str, limit: int, after_id: str | None = None) -> list[StoredRecord]:
        """The app asks for one record more than a page to see whether another page follows; this view says
        none does when the next page would be the last."""
        size = limit - 1
        rows = super().page(message_type, 2 * size + 1, after_id)
        if size < len(rows) <= 2 * size:
            return rows[:size]
        return rows[:limit]


def loses_last_page(store: Store) -> ASGIApp:
    """The page before the last gives no next_cursor, so the last page of every list is never reached."""
    return make_app(_TenantsLike(store, _LosesLastPage))  # type: ignore[arg-type]


class _RequestHeaders:
    """ASGI middleware: a request's headers changed before the app sees them."""

    def __init__(self, app: ASGIApp, change: Callable[[Scope, list[tuple[bytes, bytes]]], list[tuple[bytes, bytes]]]):
        self.app, self.change = app, change

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope = {**scope, "headers": self.change(scope, list(scope.get("headers", [])))}
        await self.app(scope, receive, send)


def ignores_if_match(store: Store) -> ASGIApp:
    """Conditional headers are dropped by a proxy in front of the server: every write is unconditional."""
    return _RequestHeaders(make_app(store), lambda scope, headers: [
        (k, v) for k, v in headers if k.lower() not in (b"if-match", b"if-none-match")])


def ignores_limit(store: Store) -> ASGIApp:
    """``limit`` is not read: every page has the default size, whatever the client asked for."""
    app = make_app(store)

    async def unlimited(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            query = [part for part in scope.get("query_string", b"").split(b"&") if not part.startswith(b"limit=")]
            scope = {**scope, "query_string": b"&".join(query)}
        await app(scope, receive, send)

    return unlimited


def created_as_200(store: Store) -> ASGIApp:
    """A PUT that creates a record is answered 200 without Location, as if it replaced one."""
    def relabel(scope: Scope, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> tuple:
        if status == 201:
            return 200, [(k, v) for k, v in headers if k.lower() != b"location"], body
        return status, headers, body

    return RewriteResponses(make_app(store), lambda scope: scope["method"] == "PUT", relabel)


def stale_etag_on_get(store: Store) -> ASGIApp:
    """GET answers with the ETag a cache kept from the record's first read, not the current one."""
    first: dict[str, bytes] = {}

    def cached(scope: Scope, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> tuple:
        if status != 200:
            return status, headers, body
        kept = first.setdefault(scope["path"], dict(headers).get(b"etag", b""))
        return status, [(k, kept if k.lower() == b"etag" else v) for k, v in headers], body

    return RewriteResponses(make_app(store), lambda scope: scope["method"] == "GET" and not _COLLECTION.match(
        scope["path"]) and not _EXPORT.match(scope["path"]) and scope["path"].startswith("/v1/councils/"), cached)


def etag_per_record(store: Store) -> ASGIApp:
    """The ETag names the record, not its version: it never changes, so If-Match cannot stop a lost update."""
    def tag(path: str) -> bytes:
        return b'"' + hashlib.sha256(path.encode()).hexdigest()[:32].encode() + b'"'

    def rewrite(scope: Scope, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> tuple:
        return status, [(k, tag(scope["path"]) if k.lower() == b"etag" else v) for k, v in headers], body

    def honour_own_tag(scope: Scope, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        return [(k, b"*" if k.lower() == b"if-match" and v == tag(scope["path"]) else v) for k, v in headers]

    return _RequestHeaders(RewriteResponses(make_app(store), lambda scope: True, rewrite), honour_own_tag)


def stores_under_body_id(store: Store) -> ASGIApp:
    """A PUT is stored under its body's data.id, whatever id the path names (PS-API-007 not checked)."""
    app = make_app(store)

    async def by_body(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "PUT":
            await app(scope, receive, send)
            return
        chunks, more = [], True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        try:
            record_id = json.loads(body)["data"]["id"]
        except (ValueError, KeyError, TypeError):
            record_id = None
        if isinstance(record_id, str) and record_id:
            path = scope["path"].rsplit("/", 1)[0] + "/" + quote(record_id, safe="")
            scope = {**scope, "path": unquote(path), "raw_path": path.encode()}
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await app(scope, replay, send)

    return by_body


def takes_id_from_path(store: Store) -> ASGIApp:
    """A PUT's data.id is overwritten with the id in the path, so a message meant for another record is stored
    under the path's id instead of being refused (PS-API-007)."""
    app = make_app(store)

    async def from_path(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "PUT":
            await app(scope, receive, send)
            return
        chunks, more = [], True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        try:
            parsed = json.loads(body)
            parsed["data"]["id"] = unquote(scope["path"].rsplit("/", 1)[1])
            if "subject" in parsed:
                parsed["subject"] = parsed["data"]["id"]
            body = json.dumps(parsed).encode()
        except (ValueError, KeyError, TypeError, IndexError):
            pass
        headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() != b"content-length"]
        scope = {**scope, "headers": [*headers, (b"content-length", str(len(body)).encode())]}
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await app(scope, replay, send)

    return from_path


def declares_smaller_message_limit(store: Store) -> ASGIApp:
    """The capabilities promise a 64 KiB message limit; the server goes on taking messages up to 1 MiB."""
    def promise(scope: Scope, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> tuple:
        declared = json.loads(body)
        declared["limits"]["max_message_bytes"] = 64 * 1024
        return status, headers, json.dumps(declared).encode()

    return RewriteResponses(make_app(store), lambda scope: scope["path"] == "/v1/capabilities", promise)


def declares_smaller_import_limit(store: Store) -> ASGIApp:
    """The capabilities promise a 1 MiB import limit; the server goes on taking imports up to 256 MiB."""
    def promise(scope: Scope, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> tuple:
        declared = json.loads(body)
        declared["limits"]["max_import_bytes"] = 1024 * 1024
        return status, headers, json.dumps(declared).encode()

    return RewriteResponses(make_app(store), lambda scope: scope["path"] == "/v1/capabilities", promise)


def import_not_idempotent(store: Store) -> ASGIApp:
    """An import reports every accepted line as a new version: a rerun says "updated", never "unchanged"."""
    def restate(scope: Scope, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> tuple:
        if not _ok(status):
            return status, headers, body
        lines = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
        for ack in lines:
            if ack.get("change") == "unchanged":
                ack["change"] = "updated"
        return status, headers, "".join(json.dumps(a, separators=(",", ":")) + "\n" for a in lines).encode()

    return RewriteResponses(make_app(store), lambda scope: scope["path"].endswith("/import"), restate)


#: name -> (app factory, the check that must fail against it)
SUPPLIERS: dict[str, tuple[AppFactory, str]] = {
    "export drops a field": (export_drops_field, "PSC-EXP-002"),
    "export loses a record": (export_loses_record, "PSC-EXP-001"),
    "paging skips records": (paging_skips, "PSC-PAG-001"),
    "list pages drop a field": (list_drops_field, "PSC-PAG-001"),
    "tenant leak": (tenant_leak, "PSC-TEN-001"),
    "invalid NI numbers accepted": (accepts_invalid_ni, "PSC-INV-001"),
    "money rounded on export": (money_rounded_on_export, "PSC-EXP-002"),
    "deletions missing from the change feed": (feed_drops_deletions, "PSC-CHG-001"),
    "500 on bad input": (crashes_on_bad_input, "PSC-INV-002"),
    "upsert duplicates": (upsert_duplicates, "PSC-UPS-001"),
    "wrong content type": (wrong_content_type, "PSC-SCH-001"),
    "deleted records still listed": (lists_tombstones, "PSC-CHG-001"),
    "deleted records still readable": (deleted_still_readable, "PSC-CHG-001"),
    "paging repeats the first page": (paging_repeats, "PSC-PAG-001"),
    "another council's changes in the feed": (feed_leaks_other_council, "PSC-TEN-001"),
    "last page lost": (loses_last_page, "PSC-PAG-001"),
    "If-Match ignored": (ignores_if_match, "PSC-UPS-002"),
    "limit ignored": (ignores_limit, "PSC-PAG-001"),
    "a created record answered 200": (created_as_200, "PSC-UPS-001"),
    "stale ETag on GET": (stale_etag_on_get, "PSC-UPS-001"),
    "ETag that never changes": (etag_per_record, "PSC-UPS-002"),
    "PUT stored under the body's id": (stores_under_body_id, "PSC-INV-002"),
    "data.id taken from the path": (takes_id_from_path, "PSC-INV-002"),
    "message limit declared but not enforced": (declares_smaller_message_limit, "PSC-CAP-002"),
    "import limit declared but not enforced": (declares_smaller_import_limit, "PSC-CAP-002"),
    "import rerun reports changes": (import_not_idempotent, "PSC-IMP-001"),
}


# --- legitimate differences -------------------------------------------------------------------------------------
# What a conforming supplier may do otherwise than the reference server: a run against each must pass every profile.


class _AddHeaders:
    """ASGI middleware: headers the standard does not name, added to every response (as proxies and gateways do)."""

    EXTRA = ((b"x-request-id", b"7d1e4c2a"), (b"cache-control", b"no-store"),
             (b"strict-transport-security", b"max-age=63072000"), (b"vary", b"Accept-Encoding"),
             (b"x-ratelimit-remaining", b"998"), (b"server", b"council-records/4.2"))

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def more(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *self.EXTRA]}
            await send(message)

        await self.app(scope, receive, more)


def extra_headers(store: Store) -> ASGIApp:
    return _AddHeaders(make_app(store))


def own_problem_texts(store: Store) -> ASGIApp:
    """Problems in the supplier's own words, with a reference of its own; type, status, instance and the
    requirements named are as the standard has them."""
    def reword(scope: Scope, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> tuple:
        if status < 400 or b"problem+json" not in dict(headers).get(b"content-type", b""):
            return status, headers, body
        problem = json.loads(body)
        problem.update(title=f"Request not accepted ({status})", detail="See the supplier's guide, reference Q-118.",
                       trace_id="0af7651916cd43dd8448eb211c80319c")
        for error in problem.get("errors", []):
            error["reason"] = "not accepted here"
        return status, headers, json.dumps(problem).encode()

    return RewriteResponses(make_app(store), lambda scope: True, reword)


def small_pages(store: Store) -> ASGIApp:
    """Pages of at most two records, declared as such."""
    return make_app(store, limits={"default_page_size": 2, "max_page_size": 2})


def small_limits(store: Store) -> ASGIApp:
    """Messages of at most 16 KiB and imports of at most 32 KiB, declared and enforced: a council's corpus
    has to be imported in several parts."""
    return make_app(store, limits={"max_message_bytes": 16 * 1024, "max_import_bytes": 32 * 1024})


def own_etags(store: Store) -> ASGIApp:
    """ETags of the supplier's own form (still strong, still one per content)."""
    def relabel(scope: Scope, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> tuple:
        return status, [(k, b'"rev-' + v[1:] if k.lower() == b"etag" else v) for k, v in headers], body

    def own_to_inner(scope: Scope, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        return [(k, v.replace(b'"rev-', b'"') if k.lower() in (b"if-match", b"if-none-match") else v)
                for k, v in headers]

    return _RequestHeaders(RewriteResponses(make_app(store), lambda scope: True, relabel), own_to_inner)


def offset_watermarks(store: Store) -> ASGIApp:
    """Watermarks written with a +00:00 offset rather than Z: the same instants in another RFC 3339 form."""
    def restate(scope: Scope, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> tuple:
        if not _ok(status):
            return status, headers, body
        page = json.loads(body)
        if isinstance(page.get("watermark"), str):
            page["watermark"] = page["watermark"].replace("Z", "+00:00")
        return status, headers, json.dumps(page).encode()

    return RewriteResponses(make_app(store), _is_list, restate)


def holds_other_records(store: Store) -> ASGIApp:
    """A tenant that already holds records of its own before the run (another authority's data moved in)."""
    from plugshare.conformance.corpus import load

    first, third = "E07000991", "E07000993"
    moved = [json.loads(json.dumps(m).replace(f"{third}-", f"{first}-old").replace(third, first))
             for m in load().messages(council=third)]
    store.load(moved)
    return make_app(store)


def rate_limited(store: Store) -> ASGIApp:
    """Every seventh request under /v1/councils answered 429 with Retry-After: 0, as a busy service may."""
    app = make_app(store)
    count = {"n": 0}

    async def limited(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/v1/councils/"):
            count["n"] += 1
            if count["n"] % 7 == 0:
                while (await receive()).get("more_body", False):
                    pass
                body = json.dumps({"type": "https://plugshare.uk/problems/too-many-requests",
                                   "title": "Too many requests", "status": 429, "detail": "slow down",
                                   "instance": scope["path"]}).encode()
                await send({"type": "http.response.start", "status": 429, "headers": [
                    (b"content-type", b"application/problem+json"), (b"retry-after", b"0"),
                    (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
        await app(scope, receive, send)

    return limited


#: name -> app factory of a supplier that differs from the reference server only where the standard allows
LEGITIMATE: dict[str, AppFactory] = {
    "extra response headers": extra_headers,
    "problems in the supplier's own words": own_problem_texts,
    "a smaller largest page": small_pages,
    "smaller message and import limits": small_limits,
    "ETags of another form": own_etags,
    "watermarks with an offset": offset_watermarks,
    "records held before the run": holds_other_records,
    "requests now and then answered 429": rate_limited,
}
