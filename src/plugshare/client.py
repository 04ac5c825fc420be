"""A client for the plugshare REST API v1 (``/v1/...``), for suppliers, councils and the conformance suite.

Everything that can be large is streamed: list pages are fetched one at a time,
an import's request body is produced line by line from the caller's iterable or
file and its acknowledgements are read line by line, and an export is read line
by line, so memory stays flat whatever the size of a council's data.

Failures are plain to read: an error answer raises :class:`ApiError` (or the
subclass for its status) whose text names the method, path, status, the
problem's title and detail and the requirements broken, never the request body;
text quoted from a body that is not a problem document is withheld when it may
hold personal data.

Retries follow PS-API-017: 429 and 503 are retried for every request, waiting
at least as long as ``Retry-After`` says (seconds or an HTTP date), or else with
exponential backoff and full jitter capped at ``max_backoff``. A server that asks
for a wait longer than ``max_retry_after`` is not waited for: the error is
raised at once. A failure before the request could reach the server (no
connection) is retried for every request whose body can be sent again. A failure
after it may have reached the server (a read timeout, a dropped connection) is
retried only where acting twice is harmless: GET, an unconditional PUT, and an
import whose messages can be read again (reruns never duplicate); never a DELETE
or a conditional PUT, whose repeat would answer 404 or 412 for a write that was
made. An export is retried only until its first line has been delivered. Each
retry is recorded in :attr:`PlugshareClient.retry_log`.

Imports and exports use ``bulk_timeout``: the server answers an import only once
it has stored every line, so its read timeout must cover the whole load.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import os
import random
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from plugshare import __version__
from plugshare.models import api_path, message_type_of
from plugshare.models.canonical import canonical_json

USER_AGENT = f"plugshare-client/{__version__}"
#: statuses that mean "not now": retried for every request
RETRY_STATUSES = frozenset({429, 503})
#: failures before the request could reach the server: sending again cannot act twice
NOT_SENT_ERRORS: tuple[type[Exception], ...] = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
#: failures after the request may have reached the server: its answer was lost, perhaps after it acted
ANSWER_LOST_ERRORS: tuple[type[Exception], ...] = (httpx.ReadTimeout, httpx.WriteTimeout, httpx.ReadError,
                                                   httpx.WriteError, httpx.RemoteProtocolError)
RETRYABLE_ERRORS: tuple[type[Exception], ...] = NOT_SENT_ERRORS + ANSWER_LOST_ERRORS
NDJSON = "application/x-ndjson"
#: how much of an error answer is read, and how much of a non-problem body is quoted
ERROR_BODY_LIMIT = 65536
EXCERPT = 200
#: import bodies are sent in chunks of about this size (many short lines per chunk)
CHUNK_BYTES = 65536


# --- errors -------------------------------------------------------------------------------------------------------


class ApiError(Exception):
    """The API answered with an error status; ``problem`` is its RFC 9457 problem document ({} if it sent none)."""

    def __init__(self, method: str, path: str, status: int, problem: Mapping[str, Any] | None = None,
                 excerpt: str | None = None, note: str | None = None):
        self.method, self.path, self.status = method, path, status
        self.problem: dict[str, Any] = dict(problem or {})
        self.excerpt, self.note = excerpt, note
        super().__init__(str(self))

    @property
    def title(self) -> str | None:
        return _text(self.problem.get("title"))

    @property
    def detail(self) -> str | None:
        return _text(self.problem.get("detail"))

    @property
    def requirement(self) -> str | None:
        """The requirement id the whole request broke (e.g. PS-API-003), when the problem names one."""
        return _text(self.problem.get("requirement"))

    @property
    def errors(self) -> list[dict[str, Any]]:
        """The problem's itemised errors (requirement, pointer, reason), e.g. the MUST problems of a message."""
        errors = self.problem.get("errors")
        return [error for error in errors if isinstance(error, dict)] if isinstance(errors, list) else []

    @property
    def requirements(self) -> list[str]:
        """Every requirement id named, the problem's own first, without repeats."""
        found = [self.requirement] + [_text(error.get("requirement")) for error in self.errors]
        return list(dict.fromkeys(r for r in found if r))

    def __str__(self) -> str:
        text = f"{self.method} {self.path} failed: {self.status}"
        if self.title:
            text += f" {self.title}"
        if self.detail:
            text += f": {self.detail}"
        if self.problem:
            if self.requirements:
                text += f" [requirements: {', '.join(self.requirements)}]"
            for error in self.errors[:10]:
                where = f" at {error['pointer']}" if error.get("pointer") else ""
                text += f"\n  {error.get('requirement', '?')}{where}: {error.get('reason', '')}"
            if len(self.errors) > 10:
                text += f"\n  ... and {len(self.errors) - 10} more"
        elif self.excerpt:
            text += f" (not a problem document: {self.excerpt!r})"
        elif self.excerpt is not None:
            text += " (no body)"
        if self.note:
            text += f"; {self.note}"
        return text


class BadRequest(ApiError):
    """400: a malformed request (a limit out of range, a garbled cursor, a body that is not JSON)."""


class Unauthorized(ApiError):
    """401: no bearer token, or one that is unknown, revoked or expired."""


class Forbidden(ApiError):
    """403: the token is not bound to this council (PS-API-003)."""


class NotFound(ApiError):
    """404: no such record (or it was deleted), or no such path."""


class Conflict(ApiError):
    """409, and the base of :class:`PreconditionFailed`: the record is not in the state the request expected."""


class PreconditionFailed(Conflict):
    """412: If-Match named another ETag, or If-None-Match: * found the record already there."""


class MethodNotAllowed(ApiError):
    """405: the path does not take the method, or the server is a read-only gateway refusing writes."""


class PayloadTooLarge(ApiError):
    """413: a message over the message size limit, or an import over the import size limit."""


class UnsupportedMediaType(ApiError):
    """415: the body was not of the media type the operation takes."""


class InvalidMessage(ApiError):
    """422: the message broke MUST requirements; ``errors`` lists them and nothing was stored."""


class RetryLater(ApiError):
    """429 or 503 still answered after the retries, or with a Retry-After longer than the client waits.

    ``retry_after`` is the wait the server asked for, in seconds (None if it named none).
    """

    retry_after: float | None = None


class TooManyRequests(RetryLater):
    """429: the server limits how fast it is asked."""


class ServiceUnavailable(RetryLater):
    """503: the server cannot answer now (overloaded or under maintenance)."""


ERRORS_BY_STATUS: dict[int, type[ApiError]] = {400: BadRequest, 401: Unauthorized, 403: Forbidden, 404: NotFound,
                                               405: MethodNotAllowed, 409: Conflict, 412: PreconditionFailed,
                                               413: PayloadTooLarge, 415: UnsupportedMediaType, 422: InvalidMessage,
                                               429: TooManyRequests, 503: ServiceUnavailable}


class UnexpectedResponse(Exception):
    """A success status whose body is not what the API contract promises (not JSON, a missing import summary)."""


# --- results ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """One page of a list or change feed; ``next_cursor`` is None on the last page."""

    items: list[dict[str, Any]]
    next_cursor: str | None
    watermark: str | None


@dataclass(frozen=True)
class Stored:
    """A record as the server holds it, with the strong ETag to send back as If-Match."""

    message: dict[str, Any]
    etag: str | None


@dataclass(frozen=True)
class PutResult:
    """What a PUT stored; ``created`` is True when the record did not exist (or had been deleted)."""

    message: dict[str, Any]
    etag: str | None
    created: bool


@dataclass(frozen=True)
class RetryRecord:
    """One retry: what was retried, why (``status`` or ``error``) and how long the client waited first."""

    method: str
    path: str
    status: int | None
    error: str | None
    delay: float

    def __str__(self) -> str:
        return f"{self.method} {self.path}: {self.status or self.error}, retried after {self.delay:.3g} s"


class ChangeFeed(Iterator[dict[str, Any]]):
    """The messages changed after a point, oldest first (deletions as tombstones).

    Once consumed, :attr:`watermark` is what to pass as ``since`` next time to
    get every later change; before any page is read it is the ``since`` given.
    """

    def __init__(self, pages: Iterator[Page], since: str):
        self.watermark: str | None = since
        self.pages_read = 0
        self._items = self._walk(pages)

    def _walk(self, pages: Iterator[Page]) -> Iterator[dict[str, Any]]:
        for page in pages:
            self.pages_read += 1
            yield from page.items
            if page.watermark is not None:
                self.watermark = page.watermark

    def __next__(self) -> dict[str, Any]:
        return next(self._items)

    def __iter__(self) -> ChangeFeed:
        return self


class ImportResult(Iterator[dict[str, Any]]):
    """The acknowledgements of an import, one per non-blank line in input order, read as the server sends them.

    :attr:`summary` (``{"lines": n, "accepted": a, "rejected": r}``) is set once
    every acknowledgement has been read. Closing it early (or leaving a ``with``
    block) drops the connection; the server still finishes the records it read.
    One dropped unread gives its connection back too.
    """

    def __init__(self, response: httpx.Response, method: str, path: str):
        self._response = response
        # The reader shares this, not the result, so that dropping the result frees it at once (no cycle).
        self._state: dict[str, Any] = {"summary": None}
        self._acks = _acknowledgements(response, method, path, self._state)

    @property
    def summary(self) -> dict[str, Any] | None:
        return self._state["summary"]

    def __next__(self) -> dict[str, Any]:
        return next(self._acks)

    def __iter__(self) -> ImportResult:
        return self

    def close(self) -> None:
        self._acks.close()
        self._response.close()

    def __enter__(self) -> ImportResult:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        # An answer dropped unread gives its connection back to the pool instead of holding it.
        response = getattr(self, "_response", None)
        if response is not None and not response.is_closed:
            response.close()


# --- the client ---------------------------------------------------------------------------------------------------


@dataclass
class _Body:
    """An import body: ``fresh()`` gives the bytes to send; a one-pass source can be sent only once."""

    fresh: Callable[[], Iterator[bytes]]
    replayable: bool
    started: bool = field(default=False)


class PlugshareClient:
    """Talks to one plugshare server (``base_url`` is its root, e.g. ``http://127.0.0.1:8080``).

    ``council`` is the default for methods that act on a council. Pass ``client``
    (any ``httpx.Client``, e.g. a test client over the app) or ``transport``; a
    client made here is closed by :meth:`close` or on leaving a ``with`` block,
    one passed in is left open. ``timeout`` applies to every request but imports
    and exports, which use ``bulk_timeout`` (by default ``timeout`` with a read
    timeout of 10 minutes, since an import is answered only once it is stored).
    ``retries`` is how many times a request is sent again; ``backoff`` and
    ``max_backoff`` shape the waits between, and ``max_retry_after`` is the longest
    ``Retry-After`` the client waits for. ``sleep`` and ``rng`` are injectable so
    that waits can be observed without waiting.
    """

    def __init__(self, base_url: str, token: str | None = None, *, council: str | None = None,
                 client: httpx.Client | None = None, transport: httpx.BaseTransport | None = None,
                 timeout: float | httpx.Timeout = 30.0, bulk_timeout: float | httpx.Timeout | None = None,
                 retries: int = 3, backoff: float = 0.5, max_backoff: float = 30.0, max_retry_after: float = 300.0,
                 sleep: Callable[[float], None] = time.sleep, rng: random.Random | None = None):
        if client is not None and transport is not None:
            raise ValueError("give either client or transport, not both: a transport belongs to the client made here")
        if retries < 0 or backoff < 0 or max_backoff < 0 or max_retry_after < 0:
            raise ValueError("retries, backoff, max_backoff and max_retry_after must not be negative")
        self.base_url = base_url.rstrip("/")
        self.token, self.council = token, council
        #: the timeouts every request but imports and exports uses (connect, read, write, pool)
        self.timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        #: the timeouts of imports and exports
        self.bulk_timeout = (_timeout(bulk_timeout) if bulk_timeout is not None
                             else httpx.Timeout(connect=self.timeout.connect, read=BULK_READ_TIMEOUT,
                                                write=self.timeout.write, pool=self.timeout.pool))
        self.retries, self.backoff, self.max_backoff = retries, backoff, max_backoff
        self.max_retry_after = max_retry_after
        self.sleep = sleep
        self.rng = rng or random.Random()
        #: every retry made, in order, so that a report can say what retries were used
        self.retry_log: list[RetryRecord] = []
        self._owns_client = client is None
        self.http = client if client is not None else httpx.Client(transport=transport, timeout=self.timeout)

    # --- lifecycle --------------------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the HTTP client if it was made here."""
        if self._owns_client:
            self.http.close()

    def __enter__(self) -> PlugshareClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- discovery --------------------------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """``{"status": "ok"}`` when the server is up."""
        return self._json(self._request("GET", "/v1/health"), "GET", "/v1/health")

    def capabilities(self) -> dict[str, Any]:
        """The capabilities document: product, standard version, message types and operations, features, limits."""
        return self._json(self._request("GET", "/v1/capabilities"), "GET", "/v1/capabilities")

    # --- reading ----------------------------------------------------------------------------------------------

    def pages(self, message_type: str, *, council: str | None = None, limit: int | None = None,
              updated_since: str | dt.datetime | None = None, cursor: str | None = None) -> Iterator[Page]:
        """Each page of a list (current records by id) or, with ``updated_since``, of the change feed.

        Follows ``next_cursor`` until a page has none; one page is held at a time.
        ``cursor`` resumes from a page's ``next_cursor`` given earlier.
        """
        path = self._collection(message_type, council)
        params: dict[str, str] = {}
        if limit is not None:
            params["limit"] = str(limit)
        if updated_since is not None:
            params["updated_since"] = _timestamp(updated_since)
        return self._pages(path, params, cursor)

    def _pages(self, path: str, params: dict[str, str], cursor: str | None) -> Iterator[Page]:
        seen: set[str] = set()
        while True:
            query = dict(params, cursor=cursor) if cursor is not None else params
            body = self._json(self._request("GET", path, params=query), "GET", path)
            page = _page(body, path)
            yield page
            if page.next_cursor is None:
                return
            if page.next_cursor in seen:
                raise UnexpectedResponse(f"GET {path} gave a next_cursor it had given before; paging stopped "
                                         "rather than loop")
            seen.add(page.next_cursor)
            cursor = page.next_cursor

    def list(self, message_type: str, *, council: str | None = None, limit: int | None = None) -> Iterator[dict]:
        """Every current record of a type, ordered by id, reading ``limit`` records per page."""
        pages = self.pages(message_type, council=council, limit=limit)
        return (item for page in pages for item in page.items)

    def changes(self, message_type: str, since: str | dt.datetime, *, council: str | None = None,
                limit: int | None = None) -> ChangeFeed:
        """Every change to a type strictly after ``since``, oldest first; ``.watermark`` says where to go on from."""
        since_text = _timestamp(since)
        return ChangeFeed(self.pages(message_type, council=council, limit=limit, updated_since=since_text),
                          since_text)

    def get(self, message_type: str, id: str, *, council: str | None = None) -> Stored:
        """The record's current message and ETag; :class:`NotFound` if it is absent or deleted."""
        path = self._item(message_type, id, council)
        response = self._request("GET", path)
        return Stored(self._json(response, "GET", path), response.headers.get("ETag"))

    # --- writing ----------------------------------------------------------------------------------------------

    def put(self, message: Mapping[str, Any], *, if_match: str | None = None, if_none_match: bool = False,
            council: str | None = None, message_type: str | None = None, record_id: str | None = None) -> PutResult:
        """Upsert one message at the path its type, ``data.id`` and council name.

        ``if_match`` (an ETag) stores only over that version; ``if_none_match``
        stores only if the record does not exist. ``council``, ``message_type``
        and ``record_id`` override what is read from the message, to address
        another path on purpose (the server then refuses the mismatch).
        """
        if message_type is None:
            ce_type = message.get("type")
            message_type = message_type_of(ce_type) if isinstance(ce_type, str) else None
            if message_type is None:
                raise ValueError(f"the message's type {ce_type!r} is not a message type of the standard, so there "
                                 "is no path to PUT it to; pass message_type= to choose one")
        if record_id is None:
            data = message.get("data")
            record_id = data.get("id") if isinstance(data, Mapping) else None
            record_id = record_id if isinstance(record_id, str) and record_id else message.get("subject")
            if not isinstance(record_id, str) or not record_id:
                raise ValueError("the message has no data.id (or subject) naming its record; pass record_id=")
        if council is None and isinstance(message.get("council"), str):
            council = message["council"]
        path = self._item(message_type, record_id, council)
        headers = {"Content-Type": "application/json"}
        if if_match is not None:
            headers["If-Match"] = _quoted(if_match)
        if if_none_match:
            headers["If-None-Match"] = "*"
        content = canonical_json(message).encode("utf-8")
        response = self._request("PUT", path, content=content, headers=headers)
        return PutResult(self._json(response, "PUT", path), response.headers.get("ETag"), response.status_code == 201)

    def delete(self, message_type: str, id: str, *, if_match: str | None = None, council: str | None = None) -> None:
        """Delete a record (the server keeps a tombstone for the change feed); :class:`NotFound` if absent."""
        path = self._item(message_type, id, council)
        headers = {"If-Match": _quoted(if_match)} if if_match is not None else None
        self._request("DELETE", path, headers=headers).close()

    def import_messages(self, messages: Iterable[Mapping[str, Any]] | Iterable[str] | str | os.PathLike[str], *,
                        council: str | None = None, timeout: float | httpx.Timeout | None = None) -> ImportResult:
        """Send messages to the bulk import and return its acknowledgements as they are read.

        ``messages`` is an NDJSON file's path, or an iterable of messages (dicts)
        or of NDJSON lines (str). The body is produced as it is sent, so a
        generator of any length uses constant memory; but a generator can be sent
        only once, so it is sent again (after a failure or a 429 or 503) only while
        none of its messages has been read. The request is sent now; the
        acknowledgements are read lazily: close the result (or use ``with``) to
        drop them early. ``timeout`` overrides ``bulk_timeout``.
        """
        path = f"/v1/councils/{self._council(council)}/import"
        body = _import_body(messages)
        response = self._request("POST", path, body=body, headers={"Content-Type": NDJSON, "Accept": NDJSON},
                                 stream=True, timeout=_timeout(timeout) if timeout is not None else self.bulk_timeout)
        return ImportResult(response, "POST", path)

    def export(self, *, council: str | None = None, types: Iterable[str] | None = None,
               timeout: float | httpx.Timeout | None = None) -> Iterator[dict[str, Any]]:
        """Every current record of the council (of ``types`` if given), ordered by type then id, read line by line.

        Nothing is requested until the first message is asked for. A failure
        before the first line arrives is retried like a GET; after it, retrying
        would repeat messages, so the failure is raised. Stopping early (or
        calling ``close()`` on the iterator) closes the connection. ``timeout``
        overrides ``bulk_timeout``.
        """
        path = f"/v1/councils/{self._council(council)}/export"
        params = [("type", _known_type(message_type)) for message_type in (types or ())]
        return self._export(path, params, _timeout(timeout) if timeout is not None else self.bulk_timeout)

    def _export(self, path: str, params: Sequence[tuple[str, str]], timeout: httpx.Timeout) -> Iterator[dict[str, Any]]:
        attempt = 0
        while True:
            response = self._request("GET", path, params=params, headers={"Accept": NDJSON}, stream=True,
                                     first_attempt=attempt, timeout=timeout)
            delivered = False
            try:
                for line in response.iter_lines():
                    if line.strip():
                        message = _json_line(line, "GET", path)
                        delivered = True
                        yield message
                return
            except RETRYABLE_ERRORS as exc:
                attempt = self._attempts_used(response)
                if delivered or attempt > self.retries:
                    raise
                self._wait("GET", path, attempt - 1, error=exc)
            finally:
                response.close()

    # --- requests ---------------------------------------------------------------------------------------------

    def _request(self, method: str, path: str, *, params: Any = None, headers: Mapping[str, str] | None = None,
                 content: bytes | None = None, body: _Body | None = None, stream: bool = False,
                 first_attempt: int = 0, timeout: httpx.Timeout | None = None) -> httpx.Response:
        """Send with retries; return a success response or raise the :class:`ApiError` for the last answer."""
        merged = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if self.token is not None and path.startswith("/v1/councils/"):
            merged["Authorization"] = f"Bearer {self.token}"
        merged.update(headers or {})
        attempt = first_attempt
        while True:
            if body is not None:
                content_now: Any = _Tracked(body) if not body.replayable else body.fresh()
            else:
                content_now = content
            request = self.http.build_request(method, self.base_url + path, params=params, headers=merged,
                                              content=content_now, timeout=timeout or self.timeout)
            try:
                response = self.http.send(request, stream=stream)
            except RETRYABLE_ERRORS as exc:
                refusal = _not_resent(method, merged, body, exc)
                if refusal is not None:
                    exc.add_note(f"{method} {path} not retried: {refusal}")
                    raise
                if attempt >= self.retries:
                    raise
                self._wait(method, path, attempt, error=exc)
                attempt += 1
                continue
            response.extensions["plugshare_attempt"] = attempt + 1
            if response.status_code in RETRY_STATUSES and attempt < self.retries:
                if body is not None and not body.replayable and body.started:
                    raise self._error(response, method, path, note="not retried: the messages came from a one-pass "
                                      "iterable and were already sent; pass a list or a file path to allow retries")
                delay = self._delay(response, attempt)
                if delay > self.max_retry_after:
                    raise self._error(response, method, path, note=f"not retried: the server asked to wait "
                                      f"{delay:.0f} s, more than max_retry_after ({self.max_retry_after:g} s)")
                response.close()
                self._wait(method, path, attempt, status=response.status_code, delay=delay)
                attempt += 1
                continue
            if response.is_success:
                return response
            raise self._error(response, method, path)

    @staticmethod
    def _attempts_used(response: httpx.Response) -> int:
        return int(response.extensions.get("plugshare_attempt", 1))

    def _wait(self, method: str, path: str, attempt: int, *, status: int | None = None,
              error: Exception | None = None, delay: float | None = None) -> None:
        if delay is None:
            delay = self._backoff(attempt)
        reason = None if error is None else (f"{type(error).__name__}: {error}" if str(error) else type(error).__name__)
        self.retry_log.append(RetryRecord(method, path, status, reason, delay))
        self.sleep(delay)

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter: anywhere from 0 to backoff * 2^attempt, capped at max_backoff."""
        return self.rng.uniform(0, min(self.max_backoff, self.backoff * 2 ** attempt))

    def _delay(self, response: httpx.Response, attempt: int) -> float:
        """The wait Retry-After asks for (never less: PS-API-017), else the jittered backoff."""
        asked = _retry_after(response)
        return asked if asked is not None else self._backoff(attempt)

    @staticmethod
    def _error(response: httpx.Response, method: str, path: str, note: str | None = None) -> ApiError:
        """The ApiError for an error answer: its problem document if it sent one, else a short excerpt."""
        try:
            raw = b""
            for chunk in response.iter_bytes():
                raw += chunk
                if len(raw) >= ERROR_BODY_LIMIT:
                    break
        except httpx.HTTPError:
            pass
        finally:
            response.close()
        text = raw[:ERROR_BODY_LIMIT].decode("utf-8", errors="replace")
        problem = None
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict) and ("title" in parsed or "type" in parsed) and "status" in parsed:
            problem = parsed
        excerpt = None if problem else _excerpt(text)
        kind = ERRORS_BY_STATUS.get(response.status_code, ApiError)
        error = kind(method, path, response.status_code, problem, excerpt, note)
        if isinstance(error, RetryLater):
            error.retry_after = _retry_after(response)
        return error

    @staticmethod
    def _json(response: httpx.Response, method: str, path: str) -> Any:
        try:
            return response.json()
        except ValueError:
            raise UnexpectedResponse(f"{method} {path} answered {response.status_code} with a body that is not "
                                     f"JSON: {_excerpt(response.text)!r}") from None
        finally:
            response.close()

    # --- paths ------------------------------------------------------------------------------------------------

    def _council(self, council: str | None) -> str:
        chosen = council if council is not None else self.council
        if not chosen:
            raise ValueError("no council given: pass council= to this call or to PlugshareClient(...) "
                             "(a GSS code such as E07000991)")
        return quote(chosen, safe="")

    def _collection(self, message_type: str, council: str | None) -> str:
        return f"/v1/councils/{self._council(council)}/{api_path(_known_type(message_type))}"

    def _item(self, message_type: str, record_id: str, council: str | None) -> str:
        if not isinstance(record_id, str) or not record_id:
            raise ValueError("a record id is needed (a non-empty string)")
        return f"{self._collection(message_type, council)}/{quote(record_id, safe='')}"


# --- helpers ------------------------------------------------------------------------------------------------------

#: the longest an import or export waits for the server's next bytes by default
BULK_READ_TIMEOUT = 600.0


def _timeout(value: float | httpx.Timeout) -> httpx.Timeout:
    return value if isinstance(value, httpx.Timeout) else httpx.Timeout(value)


def _retry_after(response: httpx.Response) -> float | None:
    """Retry-After in seconds from now (delay-seconds or an HTTP date; a past date is 0), or None."""
    value = response.headers.get("Retry-After", "").strip()
    if re.fullmatch(r"[0-9]+", value):
        return float(value)
    if not value:
        return None
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return max(0.0, (moment - dt.datetime.now(dt.UTC)).total_seconds())


def _not_resent(method: str, headers: Mapping[str, str], body: _Body | None, error: Exception) -> str | None:
    """Why a request that failed with ``error`` must not be sent again, or None when it may be."""
    if body is not None and not body.replayable and body.started:
        return ("its messages came from a one-pass iterable and were already read; pass a list or a file path "
                "to allow retries")
    if isinstance(error, NOT_SENT_ERRORS):
        return None  # it never reached the server
    conditional = any(name.lower() in ("if-match", "if-none-match") for name in headers)
    if method in ("GET", "HEAD") or (method == "PUT" and not conditional) or body is not None:
        return None  # acting twice is harmless: reads, an idempotent upsert, an import (reruns never duplicate)
    return ("the server may have made the write before the answer was lost, and sending it again would then be "
            "refused (404 or 412); read the record to see whether it was made")


class _Tracked:
    """A one-pass import body that notes when it has started to be sent (after which it cannot be sent again)."""

    def __init__(self, body: _Body):
        self._body, self._chunks = body, None

    def __iter__(self) -> Iterator[bytes]:
        if self._chunks is None:
            self._body.started = True  # from here on, messages may be read from the caller's iterable
            self._chunks = self._body.fresh()
        yield from self._chunks


def _import_body(messages: Any) -> _Body:
    if isinstance(messages, (str, os.PathLike)):
        source = Path(messages)
        if not source.is_file():
            raise ValueError(f"{source} is not a file; give an NDJSON file's path or an iterable of messages")
        return _Body(lambda: _file_chunks(source), replayable=True)
    if isinstance(messages, (bytes, bytearray)) or isinstance(messages, Mapping):
        raise TypeError("give an NDJSON file's path or an iterable of messages (dicts) or NDJSON lines (str)")
    if isinstance(messages, Sequence):
        return _Body(lambda: _chunks(messages), replayable=True)
    iterator = iter(messages)
    return _Body(lambda: _chunks(iterator), replayable=False)


def _file_chunks(source: Path) -> Iterator[bytes]:
    with source.open("rb") as stream:
        while chunk := stream.read(CHUNK_BYTES):
            yield chunk


def _chunks(messages: Iterable[Any]) -> Iterator[bytes]:
    """NDJSON bytes, a line per message, gathered into chunks of about CHUNK_BYTES."""
    buffer = bytearray()
    for message in messages:
        if isinstance(message, str):
            text = message.rstrip("\r\n")
            if "\n" in text:
                raise ValueError("an NDJSON line given to an import holds a line break: give one message per item, "
                                 "so that the acknowledgements' line numbers match the items")
            line = text.encode("utf-8")
        elif isinstance(message, Mapping):
            line = canonical_json(message).encode("utf-8")
        else:
            raise TypeError(f"an import item must be a message (dict) or an NDJSON line (str), not "
                            f"{type(message).__name__}")
        buffer += line + b"\n"
        if len(buffer) >= CHUNK_BYTES:
            yield bytes(buffer)
            buffer.clear()
    if buffer:
        yield bytes(buffer)


def _acknowledgements(response: httpx.Response, method: str, path: str,
                      state: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """An import answer's acknowledgements; its summary line goes into ``state``."""
    count = 0
    try:
        for line in response.iter_lines():
            if not line.strip():
                continue
            entry = _json_line(line, method, path)
            if "summary" in entry:
                state["summary"] = entry["summary"]
                continue
            count += 1
            yield entry
    finally:
        response.close()
    if state["summary"] is None:
        raise UnexpectedResponse(f"{method} {path} ended after {count} acknowledgement(s) without its summary "
                                 "line; the import may not have finished, so check the acknowledgements received "
                                 "and run it again (reruns never duplicate)")


def _page(body: Any, path: str) -> Page:
    if not isinstance(body, dict) or not isinstance(body.get("items"), list):
        raise UnexpectedResponse(f"GET {path} did not answer a page ({{\"items\": [...]}}): {_excerpt(repr(body))!r}")
    cursor, watermark = body.get("next_cursor"), body.get("watermark")
    return Page(body["items"], cursor if isinstance(cursor, str) and cursor else None,
                watermark if isinstance(watermark, str) else None)


def _json_line(line: str, method: str, path: str) -> dict[str, Any]:
    try:
        entry = json.loads(line)
    except ValueError:
        entry = None
    if not isinstance(entry, dict):
        raise UnexpectedResponse(f"{method} {path} sent a line that is not a JSON object: {_excerpt(line)!r}")
    return entry


def _known_type(message_type: str) -> str:
    try:
        api_path(message_type)
    except KeyError:
        raise ValueError(f"{message_type!r} is not a message type of the standard (e.g. hr.person, "
                         "payroll.pay-run, revenues.council-tax-account)") from None
    return message_type


def _timestamp(moment: str | dt.datetime) -> str:
    """An RFC 3339 timestamp; a datetime must say its time zone and is sent in UTC with a Z."""
    if isinstance(moment, dt.datetime):
        if moment.tzinfo is None:
            raise ValueError("give updated_since as an aware datetime (with a time zone), or as RFC 3339 text")
        return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return moment


def _quoted(etag: str) -> str:
    """An ETag as the header carries it: quoted (a weak or already quoted one is sent as given)."""
    return etag if etag.startswith(('"', "W/")) or etag == "*" else f'"{etag}"'


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


#: fields whose values are personal data (as the validator's SENSITIVE_FIELDS), and values shaped like an NI
#: number, a bank account number or a date: text quoted in an error must hold neither
_SENSITIVE_NAMES = ("ni_number", "birth_date", "account_number", "building_society_roll_number", "email", "phone")
_PERSONAL_SHAPES = re.compile(
    r"\b[A-Z]{2} ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-D]\b|\b[0-9]{8}\b|\b[0-9]{4}-[0-9]{2}-[0-9]{2}\b")
WITHHELD = "(not shown: it may hold personal data)"


def _excerpt(text: str) -> str:
    """At most EXCERPT characters of a body, for an error message; withheld when it may hold personal data."""
    if any(name in text for name in _SENSITIVE_NAMES) or _PERSONAL_SHAPES.search(text):
        return WITHHELD
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT else text[:EXCERPT] + "..."
