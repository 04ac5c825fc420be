"""A live API as a conformance target: the ApiContext, with every request and response kept as evidence.

``open_api_context`` makes the context a run hands to the API checks. Every request made through
``ctx.client(council)`` or ``ctx.raw(...)`` goes through one httpx client whose event hooks record it:
the response body is captured as it streams past (imports and exports stay streamed), and once the
response is closed an :class:`~plugshare.conformance.model.Exchange` is kept, masked, with the
violations of the published OpenAPI document that the response shows (PSC-SCH-001 reports them at the
end of the run). A request that got no answer (a timeout, a dropped connection) is kept too, with no
status, so a finding can show where the conversation broke.

Imports and exports have a timeout of their own (``bulk_timeout``), longer than a request's, since a server
answers an import only once it has stored it and a large council's export takes as long as its data. A body
that is not an NDJSON stream is read up to MAX_BODY_BYTES and no further, so a hostile target cannot exhaust
memory; the check that asked is told (:class:`ResponseTooLarge`) and reports it.

Tokens are held by the context only to send them: they are never part of an exchange, a repr or a report.
Whatever their form (a supplier's need not look like ``psk_...``), every value configured or sent as a token
is masked in exchanges, and registered with ``report.withhold`` for everything masked afterwards.
"""

from __future__ import annotations

import json
import re
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from plugshare.client import RETRY_STATUSES, PlugshareClient, RetryRecord
from plugshare.conformance.context import ApiContext, Corpus
from plugshare.conformance.model import Exchange, Profile, RunSettings
from plugshare.conformance.report import MIN_SECRET_CHARS, mask_json, mask_text, withhold
from plugshare.identifiers import COUNCIL_GSS_PATTERN
from plugshare.validation.responses import ResponseChecker
from plugshare.validation.validator import MessageValidator

#: the page size the paging check asks for, recorded in the run's settings
PAGING_LIMIT = 3
#: how much of a request or response body an exchange shows
EXCERPT_CHARS = 2000
#: lines of an NDJSON body an exchange shows
EXCERPT_LINES = 5
#: the most of one response body kept for checking against the OpenAPI document
MAX_CHECKED_BYTES = 32 * 1024 * 1024
#: the largest body a page, a record or a problem may have before reading it is given up: no answer to the
#: suite's requests on the small corpus comes near it, and a hostile target must not exhaust memory
MAX_BODY_BYTES = 64 * 1024 * 1024
#: the default read timeout of imports and exports: the server answers an import only once it has stored it
BULK_TIMEOUT = 600.0
#: request headers an exchange shows (Authorization only as "[token]", never its value)
SHOWN_REQUEST_HEADERS = ("content-type", "content-length", "accept", "if-match", "if-none-match")
TOKEN_SHOWN = "[token]"
#: noted on an error whose request is already kept as an exchange
RECORDED_NOTE = "(kept as an exchange of the run)"

#: what the OpenAPI check can say of a response whose body was not read to the end: status and headers only
_HEAD_VIOLATIONS = (": missing required header", ": header ", "Content-Type", ": status ")


class ResponseTooLarge(httpx.DecodingError):
    """A response body (not an NDJSON stream) grew past MAX_BODY_BYTES: reading it was given up."""


def _cut(text: str, total: int | None = None, limit: int = EXCERPT_CHARS) -> str:
    """At most ``limit`` characters, saying how long the whole was when cut."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"... ({max(total or 0, len(text)):,} characters in all)"


def excerpt(body: bytes, content_type: str | None) -> str:
    """A masked, shortened view of a body: JSON re-serialised with sensitive fields withheld, NDJSON by line."""
    if not body:
        return ""
    text = body.decode("utf-8", errors="replace")
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media.endswith("ndjson") or (media == "" and "\n" in text.strip()):
        lines = [line for line in text.splitlines() if line.strip()]
        shown = [_cut(_one_json(line), len(line)) for line in lines[:EXCERPT_LINES]]
        more = f"\n... ({len(lines):,} lines in all)" if len(lines) > EXCERPT_LINES else ""
        return _cut("\n".join(shown)) + more
    return _cut(_one_json(text), len(text))


def _one_json(text: str) -> str:
    """One JSON document masked field by field; text that is not JSON masked as text (its start only)."""
    try:
        value = json.loads(text)
    except ValueError:
        return mask_text(text[: EXCERPT_CHARS + 200])
    return json.dumps(mask_json(value), ensure_ascii=False, separators=(",", ":"))


def _decoded(body: bytes, encoding: str | None) -> bytes | None:
    """The body without its content coding (we ask for identity; a server may compress anyway)."""
    coding = (encoding or "identity").strip().lower()
    if coding in ("", "identity"):
        return body
    try:
        if coding == "gzip":
            return zlib.decompress(body, 16 + zlib.MAX_WBITS)
        if coding == "deflate":
            try:
                return zlib.decompress(body)
            except zlib.error:
                return zlib.decompress(body, -zlib.MAX_WBITS)
    except zlib.error:
        return None
    return None


# --- recording --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recorded:
    """One exchange of the run with what the published OpenAPI document says of its response.

    ``complete`` is False when the body was not read to its end (the client stopped early, or it was over
    the size kept for checking): its body was then not checked, only its status and headers.
    """

    exchange: Exchange
    violations: tuple[str, ...] = ()
    complete: bool = True


class _RecordingStream(httpx.SyncByteStream):
    """A response stream that keeps what passes through it and reports once it is closed."""

    def __init__(self, inner: Any, finish: Callable[[bytes, bool], None], limit: int | None = None):
        self._inner, self._finish, self._limit = inner, finish, limit
        self._kept = bytearray()
        self._size = 0
        self._overflow = self._exhausted = self._done = False

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._inner:
            self._size += len(chunk)
            if not self._overflow:
                if len(self._kept) + len(chunk) > MAX_CHECKED_BYTES:
                    self._overflow = True
                    del self._kept[EXCERPT_CHARS * 4:]  # the start stays, for the excerpt
                else:
                    self._kept += chunk
            if self._limit is not None and self._size > self._limit:
                self._overflow = True
                del self._kept[EXCERPT_CHARS * 4:]
                raise ResponseTooLarge(f"the response body passed {self._limit:,} bytes, more than any answer to "
                                       "this request needs; reading it was given up")
            yield chunk
        self._exhausted = True

    def close(self) -> None:
        try:
            close = getattr(self._inner, "close", None)
            if close is not None:
                close()
        finally:
            if not self._done:
                self._done = True
                self._finish(bytes(self._kept), self._exhausted and not self._overflow)


class _TeeRequestStream(httpx.SyncByteStream):
    """A streamed request body (an import) passed on as it is sent, keeping its first bytes for the excerpt."""

    def __init__(self, inner: Any, keep: bytearray):
        self._inner, self._keep = inner, keep

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._inner:
            if len(self._keep) < EXCERPT_CHARS * 4:
                self._keep += chunk[: EXCERPT_CHARS * 4 - len(self._keep)]
            yield chunk

    def close(self) -> None:
        close = getattr(self._inner, "close", None)
        if close is not None:
            close()


class Recorder:
    """The event hooks of the run's httpx client: every exchange kept, masked, with its OpenAPI violations."""

    def __init__(self, checker: ResponseChecker | None = None, secrets: Iterable[str] = ()):
        self.checker = checker if checker is not None else ResponseChecker.published()
        self.records: list[Recorded] = []
        #: values never to be shown, whatever their form (a supplier's tokens need not look like psk_...)
        self.secrets: set[str] = set()
        self.keep_secret(secrets)
        self._pending: dict[int, tuple[float, bytearray]] = {}

    def keep_secret(self, secrets: Iterable[str]) -> None:
        """Never show these values (too short a one would mask ordinary words, and is only ever sent in the
        Authorization header, which is never shown)."""
        self.secrets.update(s.strip() for s in secrets if isinstance(s, str) and len(s.strip()) >= MIN_SECRET_CHARS)

    def redact(self, text: str) -> str:
        """``text`` masked, with every configured secret replaced by "[token]"."""
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, TOKEN_SHOWN)
        return mask_text(text)

    # httpx event hooks ----------------------------------------------------------------------------------------

    def on_request(self, request: httpx.Request) -> None:
        kept = bytearray()
        try:
            kept += request.content[: EXCERPT_CHARS * 4]
        except httpx.RequestNotRead:
            request.stream = _TeeRequestStream(request.stream, kept)
        self._pending[id(request)] = (time.perf_counter(), kept)

    def on_response(self, response: httpx.Response) -> None:
        request = response.request
        media = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        limit = None if media.endswith("ndjson") else MAX_BODY_BYTES
        response.stream = _RecordingStream(response.stream,
                                           lambda body, complete: self._finish(request, response, body, complete),
                                           limit)

    # --------------------------------------------------------------------------------------------------------

    def _finish(self, request: httpx.Request, response: httpx.Response, raw: bytes, complete: bool) -> None:
        started, sent = self._pending.pop(id(request), (None, bytearray()))
        elapsed = (time.perf_counter() - started) * 1000 if started is not None else None
        body = _decoded(raw, response.headers.get("content-encoding")) if complete else raw
        violations: list[str] = []
        if body is None:
            body, complete = raw, False
            violations.append("the body is compressed with a content coding the suite cannot read, so it was not "
                              "checked (the suite asks for Accept-Encoding: identity)")
        target = request.url.raw_path.decode("ascii", errors="replace")
        try:
            if complete:
                violations += self.checker.check(request.method, target, response.status_code, response.headers,
                                                 body)
            else:
                violations += [v for v in self.checker.check(request.method, target, response.status_code,
                                                             response.headers, b"")
                               if any(part in v for part in _HEAD_VIOLATIONS)]
        except Exception as exc:  # the checker must never stop the run
            violations.append(f"{request.method} {target}: the response could not be checked ({type(exc).__name__})")
        self.records.append(Recorded(self._exchange(request, sent, response.status_code, response.headers, body,
                                                    elapsed), tuple(self.redact(v) for v in violations), complete))

    def failed(self, request: httpx.Request, error: BaseException) -> Exchange:
        """Keep a request that got no answer; the exchange says why, in place of a response."""
        started, sent = self._pending.pop(id(request), (None, bytearray()))
        elapsed = (time.perf_counter() - started) * 1000 if started is not None else None
        reason = f"no answer: {type(error).__name__}" + (f": {error}" if str(error) else "")
        exchange = self._exchange(request, sent, None, {}, self.redact(reason).encode(), elapsed)
        self.records.append(Recorded(exchange, (), False))
        return exchange

    def _exchange(self, request: httpx.Request, sent: bytes | bytearray, status: int | None, headers: Any,
                  body: bytes, elapsed: float | None) -> Exchange:
        shown = {name: request.headers[name] for name in SHOWN_REQUEST_HEADERS if name in request.headers}
        if "authorization" in request.headers:
            shown["authorization"] = TOKEN_SHOWN
        response_headers = {name.lower(): self.redact(value) for name, value in dict(headers).items()}
        content_type = response_headers.get("content-type") if status is not None else "text/plain"
        return Exchange(method=request.method, url=self.redact(str(request.url.copy_with(userinfo=b""))),
                        request_headers={k: self.redact(v) for k, v in shown.items()},
                        request_excerpt=self.redact(excerpt(bytes(sent), request.headers.get("content-type"))),
                        status=status, response_headers=response_headers,
                        response_excerpt=self.redact(excerpt(body, content_type)),
                        elapsed_ms=round(elapsed, 1) if elapsed is not None else None)

    def last(self) -> Exchange | None:
        return self.records[-1].exchange if self.records else None


class _RetryLog(list):
    """The client's retry log, each retry also written into the run's settings for the report."""

    def __init__(self, settings: RunSettings):
        super().__init__()
        self._settings = settings

    def append(self, record: RetryRecord) -> None:  # type: ignore[override]
        super().append(record)
        entry: dict[str, Any] = {"method": record.method, "path": mask_text(record.path),
                                 "delay": round(record.delay, 3)}
        if record.status is not None:
            entry["status"] = record.status
        if record.error is not None:
            entry["error"] = mask_text(record.error)
        self._settings.retry_log.append(entry)


# --- the context ------------------------------------------------------------------------------------------------


@dataclass(kw_only=True)
class LiveApiContext(ApiContext):
    """An :class:`ApiContext` talking HTTP to ``base_url``, one bearer token per council."""

    timeout: float = 30.0
    #: the read timeout of imports and exports, which take as long as the data does
    bulk_timeout: float = BULK_TIMEOUT
    retries: int = 3
    backoff: float = 0.5
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    recorder: Recorder = field(default_factory=Recorder, repr=False)
    _tokens: dict[str, str] = field(default_factory=dict, repr=False)
    _http: httpx.Client | None = field(default=None, repr=False)
    _clients: dict[str, PlugshareClient] = field(default_factory=dict, repr=False)
    _retry_log: list | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.recorder.keep_secret(self._tokens.values())
        self.exchanges = self.recorder.records  # type: ignore[assignment]
        self._retry_log = _RetryLog(self.settings)
        self._http = httpx.Client(headers={"Accept-Encoding": "identity"}, timeout=self.timeout,
                                  event_hooks={"request": [self.recorder.on_request],
                                               "response": [self.recorder.on_response]})

    def token(self, council: str | None = None) -> str:
        """The bearer token configured for ``council`` (the primary by default)."""
        chosen = council or self.council
        if chosen not in self._tokens:
            raise KeyError(f"no token was configured for council {chosen}")
        return self._tokens[chosen]

    def tokens_distinct(self) -> bool:
        """Whether each council was given a token of its own (tenant isolation cannot be seen otherwise)."""
        return len(set(self._tokens.values())) == len(self._tokens)

    def client(self, council: str | None = None) -> PlugshareClient:
        chosen = council or self.council
        if chosen not in self._clients:
            bulk = httpx.Timeout(self.timeout, read=max(self.bulk_timeout, self.timeout),
                                 write=max(self.bulk_timeout, self.timeout))
            client = PlugshareClient(self.base_url, self.token(chosen), council=chosen, client=self._http,
                                     timeout=self.timeout, bulk_timeout=bulk, retries=self.retries,
                                     backoff=self.backoff, sleep=self.sleep)
            client.retry_log = self._retry_log  # type: ignore[assignment]
            self._clients[chosen] = client
        return self._clients[chosen]

    def raw(self, method: str, path: str, *, council: str | None = None, token: str | None = "default",
            headers: dict[str, str] | None = None, content: bytes | str | None = None,
            params: Any = None) -> httpx.Response:
        assert self._http is not None
        sent = dict(headers or {})
        if token == "default":
            sent["Authorization"] = f"Bearer {self.token(council)}"
        elif token is not None:
            self.recorder.keep_secret([token])
            sent["Authorization"] = f"Bearer {token}"
        body = content.encode("utf-8") if isinstance(content, str) else content
        url = path if path.startswith(("http://", "https://")) else self.base_url + path
        pacing = self.client(council if council in self._tokens else None)  # its retry rules and retry log
        attempt = 0
        while True:
            request = self._http.build_request(method, url, headers=sent, content=body, params=params)
            try:
                response = self._http.send(request)
            except httpx.TransportError as exc:
                self.recorder.failed(request, exc)
                exc.add_note(RECORDED_NOTE)
                raise
            if response.status_code not in RETRY_STATUSES or attempt >= self.retries:
                return response
            # "not now" (PS-API-017): waited for and sent again as the client does, with its reading of
            # Retry-After, its backoff and its retry log, so a rate-limited server is not failed for it
            delay = pacing._delay(response, attempt)
            if delay > pacing.max_retry_after:
                return response
            response.close()
            pacing._wait(method, request.url.raw_path.decode("ascii", "replace"), attempt,
                         status=response.status_code, delay=delay)
            attempt += 1

    def record_failure(self, error: httpx.HTTPError) -> Exchange | None:
        """Keep the request a client call lost to ``error`` (no answer) as the latest exchange."""
        if RECORDED_NOTE in getattr(error, "__notes__", ()):
            return self.recorder.last()
        try:
            request = error.request
        except RuntimeError:
            return None
        return self.recorder.failed(request, error)

    def last_exchange(self) -> Exchange | None:
        return self.recorder.last()

    def redact(self, text: str) -> str:
        """``text`` with personal data masked and every token of the run replaced by "[token]"."""
        return self.recorder.redact(text)

    def close(self) -> None:
        if self._http is not None:
            self._http.close()


def _base(url: str) -> str:
    url = url.strip().rstrip("/")
    if not re.match(r"^https?://[^/\s]+", url):
        raise ValueError(f"the target {mask_text(url)!r} is not an http:// or https:// address "
                         "(e.g. https://api.example.org)")
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise ValueError(f"the target {mask_text(url)!r} is not a usable address ({exc})") from None
    if parsed.userinfo:
        raise ValueError("the target's address holds a user name or password, which would be shown in the "
                         "reports; give the address without it and the token with --token or token_env")
    if parsed.query or parsed.fragment:
        raise ValueError("the target's address is the API's root, without a query or fragment "
                         "(e.g. https://api.example.org); give credentials with --token or token_env")
    return url.removesuffix("/v1")


def open_api_context(base_url: str, councils: Sequence[tuple[str, str]], *, timeout: float = 30.0,
                     retries: int = 3, profiles: Iterable[Profile] = (), types: Iterable[str] = (),
                     corpus: Corpus | None = None, backoff: float = 0.5,
                     sleep: Callable[[float], None] = time.sleep,
                     validator: MessageValidator | None = None, bulk_timeout: float | None = None) -> LiveApiContext:
    """The context of a run against the API at ``base_url``: ``councils`` is ``[(code, token), ...]``, the first
    the primary. Nothing is requested yet: ``prepare.prepare`` reads the capabilities and loads the corpus.

    ``timeout`` is each request's; imports and exports wait for their data up to ``bulk_timeout`` (default
    BULK_TIMEOUT, never less than ``timeout``), since a server answers an import once it has stored it.

    Raises ValueError (a usage error) for an address that is not http(s) or holds a password, no council, a
    code that is not a council's GSS code, a council given twice or an empty token.
    """
    base = _base(base_url)
    pairs = list(councils)
    if not pairs:
        raise ValueError("give at least one council with its token")
    tokens: dict[str, str] = {}
    for code, token in pairs:
        if not isinstance(code, str) or not re.match(COUNCIL_GSS_PATTERN, code):
            raise ValueError(f"{code!r} is not a council's GSS code (such as E07000991)")
        if code in tokens:
            raise ValueError(f"council {code} is given twice")
        if not isinstance(token, str) or not token.strip():
            raise ValueError(f"no token given for council {code}")
        tokens[code] = token.strip()
    if timeout <= 0 or retries < 0 or (bulk_timeout is not None and bulk_timeout <= 0):
        raise ValueError("the timeouts must be positive and retries not negative")
    if corpus is None:
        from plugshare.conformance import corpus as corpus_module

        corpus = corpus_module.load()
    withhold(tokens.values())  # whatever their form, in everything masked from now on: errors, reasons, reports
    bulk = max(bulk_timeout or BULK_TIMEOUT, timeout)
    settings = RunSettings(timeout_seconds=timeout, bulk_timeout_seconds=bulk, retries=retries, backoff_seconds=backoff,
                           page_size=PAGING_LIMIT)
    return LiveApiContext(base_url=base, councils=list(tokens), profiles=list(profiles), types=tuple(types),
                          corpus=corpus, settings=settings, validator=validator or MessageValidator(),
                          timeout=timeout, bulk_timeout=bulk, retries=retries,
                          backoff=backoff, sleep=sleep, _tokens=tokens)
