"""The reference supplier server: the REST API v1 of the standard as an ASGI app.

``make_app(store)`` serves one store. Handlers authenticate the bearer token, take
the council's view of the store (tenant isolation is the store's), and call it in a
worker thread, since SQLite and validation block. Every error is a problem+json
document; an unexpected failure is logged here and answered with a bare 500.
Bodies are read as streams against the declared limits, so neither a large PUT
nor a large import can exhaust memory; an import without a Content-Length is
received whole into a temporary file first, so that one refused as too large
(413) has stored nothing.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import logging
import re
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, fields
from typing import IO, Any, TypeVar

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import plugshare
from plugshare.api import problems
from plugshare.api.problems import ProblemError
from plugshare.api.store import (
    Forbidden,
    NotFound,
    PreconditionFailed,
    Store,
    TenantStore,
    format_time,
)
from plugshare.api.tokens import authenticate
from plugshare.models import MESSAGE_TYPES, STANDARD_VERSION, api_path
from plugshare.validation.problems import Problem as ValidationProblem
from plugshare.validation.reader import parse_message
from plugshare.validation.validator import MessageValidator

log = logging.getLogger("plugshare.api")

PRODUCT_NAME = "plugshare reference server"
SUPPLIER = "plugshare"
READ_ONLY_DETAIL = "this server is a read-only gateway"
JSON = "application/json"
NDJSON = "application/x-ndjson"
IMPORT_BATCH = 200
IMPORT_BATCH_BYTES = 8 * 1024 * 1024
SPOOL_IN_MEMORY = 1024 * 1024
_CHUNK = 64 * 1024
_RFC3339 = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
                      r"([Zz]|[+-][0-9]{2}:[0-9]{2})")
#: More digits than any page size or body size this server could take.
_MAX_DIGITS = 18
#: The order of methods in an Allow header (the framework keeps them in a set, which has none).
_METHOD_ORDER = ("GET", "HEAD", "PUT", "DELETE", "POST")
READ_OPERATIONS = ["list", "get", "changes"]
WRITE_OPERATIONS = ["upsert", "delete"]
T = TypeVar("T")


#: the largest page the standard lets a server offer (PS-API-016; spec/openapi.yaml's ``limit`` maximum)
PAGE_SIZE_CEILING = 1000


@dataclass(frozen=True)
class Limits:
    """The limits a server declares in its capabilities and enforces (PS-API-016)."""

    default_page_size: int = 100
    max_page_size: int = 1000
    max_message_bytes: int = 1024 * 1024
    max_import_bytes: int = 256 * 1024 * 1024

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"limit {name} must be a positive integer, not {value!r}")
        if self.max_page_size > PAGE_SIZE_CEILING:
            raise ValueError(f"max_page_size {self.max_page_size} is over {PAGE_SIZE_CEILING}, the most the "
                             "standard allows (spec/openapi.yaml, parameter limit)")
        if self.default_page_size > self.max_page_size:
            raise ValueError(f"default_page_size {self.default_page_size} is over max_page_size {self.max_page_size}")

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def of(cls, value: Limits | Mapping[str, int] | None) -> Limits:
        if value is None or isinstance(value, Limits):
            return value or cls()
        unknown = set(value) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown limits: {', '.join(sorted(unknown))}")
        return cls(**value)


def reference_capabilities(read_only: bool = False, limits: Limits | Mapping[str, int] | None = None) -> dict[str, Any]:
    """The capabilities document of this server: every type, all operations unless read-only."""
    operations = READ_OPERATIONS if read_only else READ_OPERATIONS + WRITE_OPERATIONS
    features = (["change-feed", "bulk-export"] if read_only
                else ["change-feed", "bulk-import", "bulk-export", "conditional-requests"])
    return {
        "product": {"name": PRODUCT_NAME, "version": plugshare.__version__, "supplier": SUPPLIER},
        "standard_version": STANDARD_VERSION,
        "read_only": read_only,
        "message_types": [{"type": message_type, "operations": list(operations)} for message_type in MESSAGE_TYPES],
        "features": features,
        "limits": Limits.of(limits).as_dict(),
    }


async def _run(function: Callable[..., T], *args: Any) -> T:
    return await anyio.to_thread.run_sync(function, *args)


def _media_type(request: Request) -> str | None:
    header = request.headers.get("content-type")
    return header.split(";", 1)[0].strip().lower() if header else None


def _entity_tags(header: str) -> list[str]:
    return [tag.strip() for tag in header.split(",") if tag.strip()]


def _parse_since(text: str) -> str | None:
    """An RFC 3339 date-time as a change time of the store (UTC, microseconds), or None if unusable.

    Unusable includes a valid-looking time that leaves the calendar in UTC (0001-01-01T00:00:00+01:00).
    """
    match = _RFC3339.fullmatch(text)
    if not match:
        return None
    fraction = match.group(1) or ""
    text = text.replace(fraction, fraction[:7], 1) if fraction else text
    try:
        return format_time(dt.datetime.fromisoformat(text.upper()))
    except (ValueError, OverflowError):
        return None


def _number(text: str) -> int | None:
    """A count in ASCII digits, or None; a count of more digits than any limit reads as ``10 ** _MAX_DIGITS``.

    ``int()`` of thousands of digits raises ValueError in Python 3.11 (and costs time before it), which
    would turn ``?limit=999...`` into a 500.
    """
    text = text.strip()
    if not text or not (text.isascii() and text.isdigit()):
        return None
    return int(text) if len(text) <= _MAX_DIGITS else 10 ** _MAX_DIGITS


def _json_problem(message: dict[str, Any]) -> str | None:
    """Why a parsed message could not be written back as JSON in UTF-8, or None.

    Python's reader turns 1e400 into infinity and keeps a lone surrogate escape such as \\ud800; stored,
    either would make every later read of the record fail or serve text that is not JSON.
    """
    try:
        json.dumps(message, allow_nan=False, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return "not usable text: a string holds a lone surrogate escape (\\ud800 to \\udfff), which is no character"
    except RecursionError:
        return "not a usable message: JSON nested too deeply"
    except ValueError:
        return "not valid JSON: a number is too large for a JSON number (it overflows to infinity)"
    return None


def _encode_cursor(state: dict[str, Any]) -> str:
    raw = json.dumps(state, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(text: str) -> dict[str, Any] | None:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        state = json.loads(raw)
    except (binascii.Error, ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None
    return state if isinstance(state, dict) else None


def _cursor_position(mode: str, after: Any) -> bool:
    """Whether a cursor's position could be one this server gave, so that SQLite can take it.

    A cursor is opaque but not signed: a made-up one must be refused (400), not reach SQLite as an
    integer past 64 bits or a string that is not UTF-8 (500).
    """
    if mode == "list":
        return isinstance(after, str) and _json_problem({"a": after}) is None
    return isinstance(after, int) and not isinstance(after, bool) and 0 <= after < 2 ** 63


async def _chunks(file: IO[bytes] | None) -> AsyncIterator[bytes]:
    """A file's content in chunks read off the event loop (nothing for None)."""
    while file is not None and (chunk := await _run(file.read, _CHUNK)):
        yield chunk


class _InternalErrors:
    """Answers any unexpected failure with a problem (never a traceback) and logs it here, once."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except ClientDisconnect:
            return
        except Exception:
            if started:
                raise
            log.exception("failed to answer %s %s", scope.get("method"), scope.get("path"))
            await problems.internal_error(scope.get("path", "")).response()(scope, receive, send)


class _Api:
    """The handlers of one app, sharing its store, limits and one validator."""

    def __init__(self, store: Store, capabilities: dict[str, Any], read_only: bool, limits: Limits):
        self.store = store
        self.capabilities = capabilities
        self.read_only = read_only
        self.limits = limits
        self.validator = MessageValidator()

    # --- common steps ---------------------------------------------------------------------

    async def tenant(self, request: Request) -> TenantStore:
        """The council's view of the store for the caller's token: 401 without one, 403 for another council."""
        scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
        credential = None
        if scheme.lower() == "bearer" and bearer.strip():
            credential = await _run(authenticate, self.store, bearer.strip())
        if credential is None:
            raise ProblemError(problems.unauthorized(request.url.path))
        council = request.path_params["council"]
        try:
            return self.store.tenant(credential, council)
        except Forbidden:
            raise ProblemError(problems.forbidden(request.url.path, council)) from None

    def refuse_writes(self, request: Request, allow: list[str]) -> None:
        if self.read_only:
            raise ProblemError(problems.method_not_allowed(request.url.path, allow, READ_ONLY_DETAIL))

    @staticmethod
    def require_media_type(request: Request, expected: str) -> None:
        given = _media_type(request)
        if given != expected:
            raise ProblemError(problems.unsupported_media_type(request.url.path, expected, given))

    @staticmethod
    def check_length(request: Request, limit: int, what: str) -> None:
        declared = request.headers.get("content-length")
        if declared is None:
            return
        size = _number(declared)
        if size is None:
            raise ProblemError(problems.bad_request(request.url.path, "Content-Length is not a number of bytes"))
        if size > limit:
            raise ProblemError(problems.payload_too_large(request.url.path, limit, what))

    async def read_body(self, request: Request, limit: int) -> bytes:
        self.check_length(request, limit, "the message")
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise ProblemError(problems.payload_too_large(request.url.path, limit, "the message"))
            chunks.append(chunk)
        return b"".join(chunks)

    # --- unauthenticated -----------------------------------------------------------------

    async def health(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def get_capabilities(self, request: Request) -> Response:
        return JSONResponse(self.capabilities)

    # --- list and change feed --------------------------------------------------------------

    async def collection(self, request: Request, message_type: str) -> Response:
        tenant = await self.tenant(request)
        path, query = request.url.path, request.query_params
        limit = self.page_size(path, query.get("limit"))
        since_text = query.get("updated_since")
        mode = "list" if since_text is None else "changes"
        since = None
        if since_text is not None:
            since = _parse_since(since_text)
            if since is None:
                raise ProblemError(problems.bad_request(
                    path, f"updated_since {since_text[:40]!r} is not an RFC 3339 date-time with an offset "
                          "(such as 2026-11-29T10:00:00.123456Z)"))
        position = None
        if query.get("cursor") is not None:
            position = self.read_cursor(path, query["cursor"], tenant.council, message_type, mode)
        if since is None:
            watermark = position["w"] if position else await _run(tenant.snapshot_time)
            records = await _run(tenant.page, message_type, limit + 1, position["a"] if position else None)
            more, records = len(records) > limit, records[:limit]
            after: Any = records[-1].id if records else None
        else:
            records = await _run(tenant.changes, message_type, since, limit + 1, position["a"] if position else None)
            more, records = len(records) > limit, records[:limit]
            watermark = records[-1].changed_at if records else position["w"] if position else since
            after = records[-1].seq if records else None
        body = '{"items":[' + ",".join(record.message_json for record in records) + "]"
        if more:
            body += ',"next_cursor":' + json.dumps(_encode_cursor(
                {"v": 1, "m": mode, "c": tenant.council, "t": message_type, "a": after, "w": watermark}))
        body += ',"watermark":' + json.dumps(watermark) + "}"
        return Response(body, media_type=JSON)

    def page_size(self, path: str, text: str | None) -> int:
        if text is None:
            return self.limits.default_page_size
        number = _number(text)
        if number is not None and 1 <= number <= self.limits.max_page_size:
            return number
        raise ProblemError(problems.bad_request(
            path, f"limit must be an integer from 1 to {self.limits.max_page_size}, not {text[:20]!r}", "PS-API-016"))

    @staticmethod
    def read_cursor(path: str, text: str, council: str, message_type: str, mode: str) -> dict[str, Any]:
        state = _decode_cursor(text)
        if state is None or state.get("v") != 1 or _parse_since(str(state.get("w"))) != state.get("w"):
            raise ProblemError(problems.bad_request(path, "the cursor is not one this server gave"))
        if (state.get("c"), state.get("t"), state.get("m")) != (council, message_type, mode):
            raise ProblemError(problems.bad_request(
                path, "the cursor belongs to another listing: give it with the council, type and "
                      "updated_since (or none) of the request that returned it"))
        if not _cursor_position(mode, state.get("a")):
            raise ProblemError(problems.bad_request(path, "the cursor is not one this server gave"))
        return state

    # --- one record ------------------------------------------------------------------------

    async def item(self, request: Request, message_type: str) -> Response:
        if request.method == "PUT":
            return await self.put(request, message_type)
        if request.method == "DELETE":
            return await self.delete(request, message_type)
        tenant = await self.tenant(request)
        record_id = request.path_params["id"]
        record = await _run(tenant.get, message_type, record_id)
        if record is None:
            raise ProblemError(problems.not_found(request.url.path, f"there is no current {message_type} "
                                                                    f"record {record_id} in {tenant.council}"))
        return Response(record.message_json, media_type=JSON, headers={"ETag": record.etag})

    async def put(self, request: Request, message_type: str) -> Response:
        path, record_id = request.url.path, request.path_params["id"]
        tenant = await self.tenant(request)
        self.require_media_type(request, JSON)
        raw = await self.read_body(request, self.limits.max_message_bytes)
        message = self.parse(path, raw)
        found_type, found = await _run(self.validator.check, message)
        errors = [p for p in found if p.level == "MUST"]
        if errors:
            raise ProblemError(problems.invalid_message(
                path, f"the message breaks {len(errors)} requirement(s) of the standard: "
                      f"{', '.join(sorted({p.requirement for p in errors}))}", "PS-API-004", errors))
        self.check_target(path, message, found_type, message_type, record_id, tenant.council)
        if_match = request.headers.get("if-match")
        if_none_match = request.headers.get("if-none-match")
        try:
            change, etag, stored = await _run(
                tenant.put, message_type, record_id, message,
                _entity_tags(if_match) if if_match is not None else None,
                _entity_tags(if_none_match) if if_none_match else False)
        except PreconditionFailed as exc:
            raise ProblemError(problems.precondition_failed(path, str(exc))) from None
        headers = {"ETag": etag}
        if change == "created":
            headers["Location"] = path
        return JSONResponse(stored, status_code=201 if change == "created" else 200, headers=headers)

    @staticmethod
    def parse(path: str, raw: bytes) -> dict[str, Any]:
        try:
            text = raw.decode("utf-8").removeprefix("\ufeff")
        except UnicodeDecodeError:
            raise ProblemError(problems.bad_request(path, "the body is not UTF-8 text")) from None
        message, reason = parse_message(text)
        reason = reason or (_json_problem(message) if message is not None else None)
        if message is None or reason:
            raise ProblemError(problems.bad_request(path, f"the body cannot be stored as a message: {reason}"))
        return message

    @staticmethod
    def check_target(path: str, message: dict[str, Any], found_type: str | None, message_type: str,
                     record_id: str, council: str) -> None:
        """PS-API-005 to 008: the message is an upsert of this record, of this type, for this council."""
        data = message.get("data") if isinstance(message.get("data"), dict) else {}
        checks = (
            (found_type == message_type, "PS-API-005", "/type",
             f"the message is a {found_type} message; this path holds {message_type}"),
            (message.get("action") == "upsert", "PS-API-006", "/action",
             "PUT stores upserts; delete a record with DELETE, or with a delete message in an import"),
            (data.get("id") == record_id, "PS-API-007", "/data/id",
             f"data.id {data.get('id')!r} is not the id in the path, {record_id!r}"),
            (message.get("council") == council, "PS-API-008", "/council",
             f"the message's council {message.get('council')!r} is not the council in the path, {council}"),
        )
        for holds, requirement, pointer, reason in checks:
            if not holds:
                raise ProblemError(problems.invalid_message(
                    path, reason, requirement, [ValidationProblem(requirement, "MUST", pointer, reason)]))

    async def delete(self, request: Request, message_type: str) -> Response:
        path, record_id = request.url.path, request.path_params["id"]
        tenant = await self.tenant(request)
        if_match = request.headers.get("if-match")
        try:
            await _run(tenant.delete, message_type, record_id,
                       _entity_tags(if_match) if if_match is not None else None)
        except NotFound:
            raise ProblemError(problems.not_found(path, f"there is no current {message_type} record {record_id} "
                                                        f"in {tenant.council}")) from None
        except PreconditionFailed as exc:
            raise ProblemError(problems.precondition_failed(path, str(exc))) from None
        return Response(status_code=204)

    # --- bulk ------------------------------------------------------------------------------

    async def import_(self, request: Request) -> Response:
        self.refuse_writes(request, [])
        tenant = await self.tenant(request)
        self.require_media_type(request, NDJSON)
        self.check_length(request, self.limits.max_import_bytes, "the import")
        received: IO[bytes] | None = None
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY, mode="w+b")
        try:
            if "content-length" in request.headers:  # over the limit was refused above, before any batch
                body: AsyncIterator[bytes] = request.stream()
            else:
                received = await self.receive_whole(request, self.limits.max_import_bytes, "the import")
                body = _chunks(received)
            counts = {"lines": 0, "accepted": 0, "rejected": 0}
            batch: list[tuple[int, bytes | int]] = []
            batch_bytes = 0
            async for number, line in self.lines(request.url.path, body):
                batch.append((number, line))
                batch_bytes += line if isinstance(line, int) else len(line)
                if len(batch) >= IMPORT_BATCH or batch_bytes >= IMPORT_BATCH_BYTES:
                    await _run(self.import_batch, tenant, batch, spool, counts)
                    batch, batch_bytes = [], 0
            if batch:
                await _run(self.import_batch, tenant, batch, spool, counts)
            spool.write(json.dumps({"summary": counts}, separators=(",", ":")).encode() + b"\n")
            spool.seek(0)
        except BaseException:
            spool.close()
            raise
        finally:
            if received is not None:
                received.close()
        return StreamingResponse(self.stream_file(spool), media_type=NDJSON)

    @staticmethod
    async def receive_whole(request: Request, limit: int, what: str) -> IO[bytes]:
        """The whole body in a temporary file (on disk past 1 MiB), or 413 once it passes ``limit``."""
        received = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY, mode="w+b")
        try:
            size = 0
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise ProblemError(problems.payload_too_large(request.url.path, limit, what))
                await _run(received.write, chunk)
            received.seek(0)
            return received
        except BaseException:
            received.close()
            raise

    async def lines(self, path: str, body: AsyncIterator[bytes]) -> AsyncIterator[tuple[int, bytes | int]]:
        """(line number, line) for each non-blank line; (line number, size) for a line over the message limit."""
        limit, total_limit = self.limits.max_message_bytes, self.limits.max_import_bytes
        buffer = bytearray()
        number, total, skipping = 0, 0, 0

        def finish(line: bytes) -> tuple[int, bytes | int] | None:
            if number == 1:
                line = line.removeprefix(b"\xef\xbb\xbf")
            line = line.removesuffix(b"\r")
            if len(line) > limit:
                return number, len(line)
            return (number, line) if line.strip() else None

        async for chunk in body:
            total += len(chunk)
            if total > total_limit:
                raise ProblemError(problems.payload_too_large(path, total_limit, "the import"))
            start = 0
            while start < len(chunk):
                end = chunk.find(b"\n", start)
                piece = chunk[start:] if end < 0 else chunk[start:end]
                start = len(chunk) if end < 0 else end + 1
                if skipping:
                    skipping += len(piece)
                elif len(buffer) + len(piece) > limit + 1:  # a trailing \r is not part of the message
                    skipping = len(buffer) + len(piece)
                    buffer.clear()
                else:
                    buffer += piece
                if end < 0:
                    break
                number += 1
                if skipping:
                    yield number, skipping
                    skipping = 0
                else:
                    entry = finish(bytes(buffer))
                    buffer.clear()
                    if entry:
                        yield entry
        if skipping or buffer:
            number += 1
            if skipping:
                yield number, skipping
            elif entry := finish(bytes(buffer)):
                yield entry

    def import_batch(self, tenant: TenantStore, batch: list[tuple[int, bytes | int]], spool: IO[bytes],
                     counts: dict[str, int]) -> None:
        """Check each line, store the valid ones in one transaction, then write every acknowledgement."""
        acks: list[dict[str, Any]] = []
        accepted: list[tuple[dict[str, Any], dict[str, Any], list[ValidationProblem]]] = []
        for number, line in batch:
            ack, message, warnings = self.check_line(tenant.council, number, line)
            acks.append(ack)
            if message is not None:
                accepted.append((ack, message, warnings))
        changes = tenant.apply_batch([message for _, message, _ in accepted]) if accepted else []
        for (ack, _, warnings), change in zip(accepted, changes, strict=True):
            ack["change"] = change
            if warnings:
                ack["warnings"] = problems.error_items(warnings)
        for ack in acks:
            spool.write(json.dumps(ack, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n")
            counts["lines"] += 1
            counts[ack["status"]] += 1

    def check_line(self, council: str, number: int, line: bytes | int) -> tuple[
            dict[str, Any], dict[str, Any] | None, list[ValidationProblem]]:
        """The line's acknowledgement (accepted ones get their change later), its message if it may be stored."""
        def rejected(errors: list[ValidationProblem], **known: Any) -> tuple[dict[str, Any], None, list]:
            ack = {"line": number, "status": "rejected", **{k: v for k, v in known.items() if v is not None}}
            ack["errors"] = problems.error_items(errors)
            return ack, None, []

        if isinstance(line, int):
            return rejected([ValidationProblem("PS-ENV-002", "MUST", "", (
                f"line of {line:,} bytes is over the {self.limits.max_message_bytes:,}-byte limit for a message; "
                "it was skipped"))])
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            return rejected([ValidationProblem(
                "PS-ENV-001", "MUST", "", f"not UTF-8 text: byte 0x{line[exc.start]:02x} at column {exc.start + 1}")])
        message, reason = parse_message(text)
        reason = reason or (_json_problem(message) if message is not None else None)
        if message is None or reason:
            return rejected([ValidationProblem("PS-ENV-001", "MUST", "", reason or "unreadable")])
        message_type, found = self.validator.check(message)
        data = message.get("data") if isinstance(message.get("data"), dict) else {}
        record_id = message.get("subject") if message.get("action") == "delete" else data.get("id")
        known = {"type": message_type, "id": record_id if isinstance(record_id, str) else None,
                 "message_id": message.get("id") if isinstance(message.get("id"), str) else None}
        errors = [p for p in found if p.level == "MUST"]
        if errors:
            return rejected(errors, **known)
        if message.get("council") != council:
            return rejected([ValidationProblem("PS-API-008", "MUST", "/council", (
                f"the message's council {message.get('council')!r} is not {council}, the council of this import"))],
                **known)
        ack = {"line": number, "status": "accepted", **{k: v for k, v in known.items() if v is not None}}
        return ack, message, [p for p in found if p.level != "MUST"]

    @staticmethod
    async def stream_file(spool: IO[bytes]) -> AsyncIterator[bytes]:
        try:
            async for chunk in _chunks(spool):
                yield chunk
        finally:
            spool.close()

    async def export(self, request: Request) -> Response:
        tenant = await self.tenant(request)
        types = request.query_params.getlist("type")
        unknown = [t for t in types if t not in MESSAGE_TYPES]
        if unknown:
            raise ProblemError(problems.bad_request(
                request.url.path, f"{unknown[0][:60]!r} is not a message type of the standard "
                                  f"(give short names such as hr.person)"))
        if request.method == "HEAD":  # the headers of the export, without reading every record for nothing
            return StreamingResponse(_chunks(None), media_type=NDJSON)
        pages = tenant.export_pages(types or None)

        async def lines() -> AsyncIterator[bytes]:
            while (page := await _run(next, pages, None)) is not None:
                yield ("\n".join(page) + "\n").encode("utf-8")

        return StreamingResponse(lines(), media_type=NDJSON)

    # --- framework errors --------------------------------------------------------------------

    async def on_problem(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ProblemError)
        return exc.problem.response()

    async def on_http_exception(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        path = request.url.path
        if exc.status_code == 405:
            given = {m.strip() for m in (exc.headers or {}).get("Allow", "").split(",") if m.strip()}
            if self.read_only:  # a gateway's import path takes no method at all
                given -= {"PUT", "DELETE", "POST", "PATCH"}
            allow = sorted(given, key=lambda m: (_METHOD_ORDER.index(m) if m in _METHOD_ORDER else 99, m))
            detail = (READ_ONLY_DETAIL if self.read_only and request.method in ("PUT", "DELETE", "POST", "PATCH")
                      else f"{request.method} is not allowed here")
            return problems.method_not_allowed(path, allow, detail).response()
        if exc.status_code == 404:
            return problems.not_found(path, f"there is nothing at {path}").response()
        return problems.from_status(path, exc.status_code, exc.detail, exc.headers).response()


def _endpoint(handler: Callable[[Request, str], Awaitable[Response]],
              message_type: str) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return await handler(request, message_type)

    endpoint.__name__ = f"{handler.__name__}_{message_type.replace('.', '_').replace('-', '_')}"
    return endpoint


def make_app(store: Store, *, capabilities: dict[str, Any] | None = None, read_only: bool = False,
             limits: Limits | Mapping[str, int] | None = None) -> Starlette:
    """The API over ``store``; ``read_only`` serves reads only (a gateway), refusing writes with 405."""
    limits = Limits.of(limits)
    declared = dict(capabilities) if capabilities is not None else reference_capabilities(read_only)
    declared["limits"] = limits.as_dict()
    api = _Api(store, declared, read_only, limits)
    item_methods = ["GET"] if read_only else ["GET", "PUT", "DELETE"]
    routes = [
        Route("/v1/health", api.health, methods=["GET"]),
        Route("/v1/capabilities", api.get_capabilities, methods=["GET"]),
        Route("/v1/councils/{council}/import", api.import_, methods=["POST"]),  # read-only: 405 from the handler
        Route("/v1/councils/{council}/export", api.export, methods=["GET"]),
    ]
    for message_type in MESSAGE_TYPES:
        collection = f"/v1/councils/{{council}}/{api_path(message_type)}"
        routes.append(Route(collection, _endpoint(api.collection, message_type), methods=["GET"]))
        routes.append(Route(collection + "/{id}", _endpoint(api.item, message_type), methods=item_methods))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            store.close()

    app = Starlette(
        routes=routes,
        middleware=[Middleware(_InternalErrors)],
        exception_handlers={ProblemError: api.on_problem, HTTPException: api.on_http_exception},
        lifespan=lifespan,
    )
    app.router.redirect_slashes = False
    app.state.store = store
    app.state.capabilities = declared
    app.state.read_only = read_only
    app.state.limits = limits
    return app
