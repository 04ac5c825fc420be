"""The REST API client: paging, the change feed, conditional writes, streamed import and export, retries, errors."""

from __future__ import annotations

import copy
import datetime as dt
import email.utils
import json
import random
from collections.abc import Iterator
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from plugshare import __version__
from plugshare.client import (
    BULK_READ_TIMEOUT,
    ApiError,
    BadRequest,
    ChangeFeed,
    Conflict,
    Forbidden,
    ImportResult,
    InvalidMessage,
    MethodNotAllowed,
    NotFound,
    Page,
    PayloadTooLarge,
    PlugshareClient,
    PreconditionFailed,
    PutResult,
    RetryLater,
    ServiceUnavailable,
    Stored,
    TooManyRequests,
    Unauthorized,
    UnexpectedResponse,
    UnsupportedMediaType,
)
from plugshare.models.canonical import canonical_digest
from tests.conftest import load_example

BASE = "http://plugshare.test"
COUNCIL = "E07000991"
TOKEN = "psk_abcdefghijkl_" + "s" * 43
PERSON_PATH = f"/v1/councils/{COUNCIL}/hr/person"


def person(number: int, council: str = COUNCIL) -> dict:
    message = copy.deepcopy(load_example("hr.person.json"))
    record_id = f"{council}-p{number:05d}"
    message["council"], message["subject"], message["data"]["id"] = council, record_id, record_id
    message["id"] = f"00000000-0000-4000-8000-{number:012d}"
    return message


def tombstone(number: int) -> dict:
    message = copy.deepcopy(load_example("hr.person--delete.json"))
    message["subject"] = f"{COUNCIL}-p{number:05d}"
    return message


def etag_of(message: dict) -> str:
    return '"' + canonical_digest(message)[:32] + '"'


def problem(status: int, slug: str, title: str, detail: str, path: str, **extra) -> httpx.Response:
    body = {"type": f"https://plugshare.uk/problems/{slug}", "title": title, "status": status, "detail": detail,
            "instance": path, **extra}
    return httpx.Response(status, json=body, headers={"Content-Type": "application/problem+json"})


def query(request: httpx.Request) -> dict[str, list[str]]:
    return parse_qs(request.url.query.decode())


class Recorder:
    """A MockTransport handler that answers from a list of responses (or exceptions) and keeps the requests."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer() if callable(answer) else answer


def make(handler, **kwargs) -> tuple[PlugshareClient, list[float]]:
    sleeps: list[float] = []
    kwargs.setdefault("council", COUNCIL)
    client = PlugshareClient(BASE, TOKEN, transport=httpx.MockTransport(handler), sleep=sleeps.append, **kwargs)
    return client, sleeps


class FakeCollection:
    """A list endpoint with keyset paging by an index cursor, and a change feed over a fixed history."""

    def __init__(self, records: list[dict], changes: list[tuple[str, dict]]):
        self.records, self.changes = records, changes
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        params = query(request)
        limit = int(params.get("limit", ["100"])[0])
        start = int(params.get("cursor", ["0"])[0])
        since = params.get("updated_since", [None])[0]
        if since is None:
            rows, watermark = self.records, "2026-11-29T09:00:00.000000Z"
        else:
            rows = [message for when, message in self.changes if when > since]
            later = [when for when, _ in self.changes if when > since]
        chunk = rows[start:start + limit]
        if since is not None:
            watermark = later[start + len(chunk) - 1] if chunk else since
        page = {"items": chunk, "watermark": watermark}
        if start + limit < len(rows):
            page["next_cursor"] = str(start + limit)
        return httpx.Response(200, json=page)


# --- reading ------------------------------------------------------------------------------------------------------


def test_pages_follow_next_cursor_until_absent_and_list_yields_every_item_once():
    records = [person(n) for n in range(1, 8)]
    server = FakeCollection(records, [])
    client, _ = make(server)
    pages = list(client.pages("hr.person", limit=3))
    assert [len(page.items) for page in pages] == [3, 3, 1]
    assert all(isinstance(page, Page) for page in pages)
    assert [page.next_cursor for page in pages] == ["3", "6", None]
    assert [query(r).get("cursor") for r in server.requests] == [None, ["3"], ["6"]]

    server.requests.clear()
    ids = [message["data"]["id"] for message in client.list("hr.person", limit=2)]
    assert ids == [message["data"]["id"] for message in records]
    assert len(server.requests) == 4
    assert all(query(r)["limit"] == ["2"] for r in server.requests)
    assert all(r.url.path == PERSON_PATH for r in server.requests)


def test_list_is_lazy_and_the_path_comes_from_api_path():
    server = FakeCollection([], [])
    client, _ = make(server)
    listing = client.list("revenues.council-tax-account", council="W06000015")
    assert server.requests == []
    assert list(listing) == []
    assert server.requests[0].url.path == "/v1/councils/W06000015/revenues/council-tax-account"
    assert "limit" not in query(server.requests[0])


def test_a_cursor_given_twice_stops_paging_rather_than_loop():
    client, _ = make(Recorder(httpx.Response(200, json={"items": [person(1)], "next_cursor": "same"})))
    with pytest.raises(UnexpectedResponse, match="next_cursor"):
        list(client.list("hr.person"))


def test_changes_returns_tombstones_oldest_first_and_the_watermark():
    history = [("2026-11-29T10:00:00.000001Z", person(1)), ("2026-11-29T10:00:00.000002Z", person(2)),
               ("2026-11-29T10:00:00.000003Z", tombstone(1))]
    server = FakeCollection([], history)
    client, _ = make(server)
    feed = client.changes("hr.person", "2026-11-29T10:00:00.000000Z", limit=2)
    assert isinstance(feed, ChangeFeed)
    assert feed.watermark == "2026-11-29T10:00:00.000000Z"
    messages = list(feed)
    assert [(m["action"], m["subject"]) for m in messages] == [
        ("upsert", f"{COUNCIL}-p00001"), ("upsert", f"{COUNCIL}-p00002"), ("delete", f"{COUNCIL}-p00001")]
    assert "data" not in messages[2]
    assert feed.watermark == "2026-11-29T10:00:00.000003Z"
    assert feed.pages_read == 2
    assert query(server.requests[0])["updated_since"] == ["2026-11-29T10:00:00.000000Z"]

    again = client.changes("hr.person", feed.watermark)
    assert list(again) == []
    assert again.watermark == "2026-11-29T10:00:00.000003Z"


def test_changes_accepts_an_aware_datetime_and_refuses_a_naive_one():
    server = FakeCollection([], [])
    client, _ = make(server)
    since = dt.datetime(2026, 11, 29, 11, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    list(client.changes("hr.person", since))
    assert query(server.requests[0])["updated_since"] == ["2026-11-29T10:00:00Z"]
    with pytest.raises(ValueError, match="time zone"):
        client.changes("hr.person", dt.datetime(2026, 11, 29))


def test_get_returns_the_message_and_its_etag():
    message = person(1)
    handler = Recorder(httpx.Response(200, json=message, headers={"ETag": etag_of(message)}))
    client, _ = make(handler)
    stored = client.get("hr.person", f"{COUNCIL}-p00001")
    assert stored == Stored(message, etag_of(message))
    assert handler.requests[0].method == "GET"
    assert handler.requests[0].url.path == f"{PERSON_PATH}/{COUNCIL}-p00001"


def test_record_ids_are_escaped_in_the_path():
    handler = Recorder(httpx.Response(200, json={}))
    client, _ = make(handler)
    client.get("hr.person", "a/b c")
    assert handler.requests[0].url.raw_path.decode() == f"{PERSON_PATH}/a%2Fb%20c"


def test_health_and_capabilities_need_no_token():
    capabilities = {"product": {"name": "x", "version": "1", "supplier": "y"}, "standard_version": "1.0.0"}
    handler = Recorder(httpx.Response(200, json={"status": "ok"}), httpx.Response(200, json=capabilities))
    client, _ = make(handler)
    assert client.health() == {"status": "ok"}
    assert client.capabilities() == capabilities
    assert [r.url.path for r in handler.requests] == ["/v1/health", "/v1/capabilities"]
    assert all("Authorization" not in r.headers for r in handler.requests)


def test_a_success_answer_that_is_not_json_is_reported():
    client, _ = make(Recorder(httpx.Response(200, text="<html>proxy</html>")))
    with pytest.raises(UnexpectedResponse, match="not JSON"):
        client.health()


# --- writing ------------------------------------------------------------------------------------------------------


def test_put_sends_the_message_to_its_path_and_reports_created():
    message = person(3)
    handler = Recorder(httpx.Response(201, json=message, headers={"ETag": etag_of(message)}),
                       httpx.Response(200, json=message, headers={"ETag": etag_of(message)}))
    client, _ = make(handler, council=None)
    result = client.put(message, if_none_match=True)
    assert result == PutResult(message, etag_of(message), True)
    first = handler.requests[0]
    assert first.method == "PUT"
    assert first.url.path == f"{PERSON_PATH}/{COUNCIL}-p00003"
    assert first.headers["If-None-Match"] == "*"
    assert "If-Match" not in first.headers
    assert first.headers["Content-Type"] == "application/json"
    assert json.loads(first.content) == message

    again = client.put(message, if_match=etag_of(message))
    assert again.created is False
    assert handler.requests[1].headers["If-Match"] == etag_of(message)
    assert "If-None-Match" not in handler.requests[1].headers


def test_put_quotes_a_bare_etag_and_can_address_another_path_on_purpose():
    message = person(3)
    handler = Recorder(httpx.Response(200, json=message))
    client, _ = make(handler)
    client.put(message, if_match="abc123", record_id="other", message_type="hr.position")
    assert handler.requests[0].headers["If-Match"] == '"abc123"'
    assert handler.requests[0].url.path == f"/v1/councils/{COUNCIL}/hr/position/other"


def test_put_refuses_a_message_without_a_known_type_or_record_id():
    client, _ = make(Recorder(httpx.Response(200, json={})))
    with pytest.raises(ValueError, match="not a message type"):
        client.put({**person(1), "type": "uk.plugshare.hr.unknown"})
    anonymous = person(1)
    del anonymous["data"]["id"], anonymous["subject"]
    with pytest.raises(ValueError, match="data.id"):
        client.put(anonymous)


def test_delete_sends_if_match_and_accepts_204():
    handler = Recorder(httpx.Response(204))
    client, _ = make(handler)
    assert client.delete("hr.person", f"{COUNCIL}-p00001", if_match='"e1"') is None
    request = handler.requests[0]
    assert (request.method, request.url.path) == ("DELETE", f"{PERSON_PATH}/{COUNCIL}-p00001")
    assert request.headers["If-Match"] == '"e1"'


# --- import -------------------------------------------------------------------------------------------------------


class StreamingImport(httpx.BaseTransport):
    """Reads the import body chunk by chunk, noting how far the caller's generator had got at each chunk."""

    def __init__(self, produced: list[int]):
        self.produced = produced
        self.at_first_chunk: int | None = None
        self.chunks = 0
        self.lines: list[dict] = []
        self.acks_made = 0
        self.request: httpx.Request | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.request = request
        buffer = b""
        for chunk in request.stream:
            self.chunks += 1
            if self.at_first_chunk is None:
                self.at_first_chunk = self.produced[0]
            buffer += chunk
            *complete, buffer = buffer.split(b"\n")
            self.lines.extend(json.loads(line) for line in complete if line.strip())
        return httpx.Response(200, headers={"Content-Type": "application/x-ndjson"}, content=self.acks())

    def acks(self) -> Iterator[bytes]:
        for number, message in enumerate(self.lines, start=1):
            self.acks_made += 1
            yield json.dumps({"line": number, "status": "accepted", "type": "hr.person",
                              "id": message["data"]["id"], "change": "created"}).encode() + b"\n"
        yield json.dumps({"summary": {"lines": len(self.lines), "accepted": len(self.lines), "rejected": 0}}).encode()


def test_import_streams_a_generator_body_and_yields_acks_then_the_summary():
    total, produced = 3000, [0]

    def messages():
        for number in range(1, total + 1):
            produced[0] += 1
            yield person(number)

    server = StreamingImport(produced)
    client = PlugshareClient(BASE, TOKEN, council=COUNCIL, transport=server)
    result = client.import_messages(messages())
    assert isinstance(result, ImportResult)
    request = server.request
    assert request.method == "POST" and request.url.path == f"/v1/councils/{COUNCIL}/import"
    assert request.headers["Content-Type"] == "application/x-ndjson"
    assert request.headers.get("Transfer-Encoding") == "chunked" and "Content-Length" not in request.headers
    # the body was produced as it was sent: the first chunk left after a small part of the messages
    assert server.chunks > 10
    assert server.at_first_chunk is not None and server.at_first_chunk < total // 10
    assert len(server.lines) == total and server.lines[0] == person(1)

    assert result.summary is None
    first = next(result)
    assert first == {"line": 1, "status": "accepted", "type": "hr.person", "id": f"{COUNCIL}-p00001",
                     "change": "created"}
    assert server.acks_made < total  # acknowledgements are read as they come, not all at once
    rest = list(result)
    assert len(rest) == total - 1 and rest[-1]["line"] == total
    assert result.summary == {"lines": total, "accepted": total, "rejected": 0}


def test_import_accepts_ndjson_lines_and_a_file_path(tmp_path):
    bodies = []

    def handler(request):
        bodies.append(request.read())
        count = len([line for line in bodies[-1].splitlines() if line.strip()])
        acks = [{"line": n, "status": "accepted"} for n in range(1, count + 1)]
        summary = {"summary": {"lines": count, "accepted": count, "rejected": 0}}
        return httpx.Response(200, content="\n".join(json.dumps(a) for a in [*acks, summary]) + "\n")

    client, _ = make(handler)
    lines = [json.dumps(person(1)) + "\n", json.dumps(tombstone(1))]
    assert len(list(client.import_messages(iter(lines)))) == 2
    assert bodies[0] == (lines[0] + lines[1] + "\n").encode()

    source = tmp_path / "messages.ndjson"
    source.write_text("".join(json.dumps(person(n)) + "\n" for n in range(1, 5)))
    result = client.import_messages(source, council="E07000992")
    assert [ack["line"] for ack in result] == [1, 2, 3, 4]
    assert result.summary["accepted"] == 4
    assert bodies[1] == source.read_bytes()
    with pytest.raises(ValueError, match="not a file"):
        client.import_messages(tmp_path / "missing.ndjson")


def test_an_import_answer_without_its_summary_is_an_error():
    client, _ = make(Recorder(httpx.Response(200, content=b'{"line": 1, "status": "accepted"}\n')))
    result = client.import_messages([person(1)])
    assert next(result)["line"] == 1
    with pytest.raises(UnexpectedResponse, match="without its summary"):
        next(result)


# --- export -------------------------------------------------------------------------------------------------------


def test_export_streams_lines_lazily_with_constant_memory():
    total, produced = 10_000, [0]

    def lines():
        for number in range(1, total + 1):
            produced[0] += 1
            yield (json.dumps(person(number)) + "\n").encode()

    handler = Recorder(lambda: httpx.Response(200, headers={"Content-Type": "application/x-ndjson"},
                                              content=lines()))
    client, _ = make(handler)
    stream = client.export(types=["hr.person", "hr.employment"])
    assert handler.requests == []  # nothing is asked for until the first message is
    first = next(stream)
    assert first == person(1)
    assert produced[0] < 10
    for _ in range(99):
        next(stream)
    assert produced[0] < 110  # the server's lines are read only as far as they are consumed
    assert sum(1 for _ in stream) == total - 100
    request = handler.requests[0]
    assert request.url.path == f"/v1/councils/{COUNCIL}/export"
    assert query(request)["type"] == ["hr.person", "hr.employment"]
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_export_refuses_an_unknown_type_before_asking():
    handler = Recorder(httpx.Response(200))
    client, _ = make(handler)
    with pytest.raises(ValueError, match="not a message type"):
        client.export(types=["hr.people"])
    assert handler.requests == []


def test_export_is_retried_before_the_first_line_but_not_after():
    handler = Recorder(httpx.ConnectError("refused"), httpx.Response(200, content=b'{"id": 1}\n{"id": 2}\n'))
    client, sleeps = make(handler, rng=random.Random(1))
    assert list(client.export()) == [{"id": 1}, {"id": 2}]
    assert len(handler.requests) == 2 and len(sleeps) == 1
    assert client.retry_log[0].error.startswith("ConnectError")

    def broken():
        yield b'{"id": 1}\n'
        raise httpx.ReadTimeout("stalled")

    def stalled():
        raise httpx.ReadTimeout("stalled")
        yield b""  # pragma: no cover

    handler = Recorder(lambda: httpx.Response(200, content=broken()))
    client, sleeps = make(handler)
    stream = client.export()
    assert next(stream) == {"id": 1}
    with pytest.raises(httpx.ReadTimeout):
        next(stream)
    assert len(handler.requests) == 1 and sleeps == []

    handler = Recorder(lambda: httpx.Response(200, content=stalled()),
                       lambda: httpx.Response(200, content=b'{"id": 3}\n'))
    client, sleeps = make(handler)
    assert list(client.export()) == [{"id": 3}]
    assert len(handler.requests) == 2 and len(sleeps) == 1


# --- retries ------------------------------------------------------------------------------------------------------


def test_429_is_retried_after_retry_after_seconds():
    """PS-API-017: 429 and 503 are retried honouring Retry-After."""
    handler = Recorder(httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200, json={"items": []}))
    client, sleeps = make(handler)
    assert list(client.list("hr.person")) == []
    assert sleeps == [7.0]
    assert len(handler.requests) == 2
    (record,) = client.retry_log
    assert (record.method, record.path, record.status, record.error, record.delay) == ("GET", PERSON_PATH, 429,
                                                                                        None, 7.0)
    assert "429" in str(record) and "7 s" in str(record)


def test_retry_after_as_an_http_date_is_waited_for_in_full_whatever_the_backoff_cap():
    """PS-API-017: at least as long as Retry-After asks; max_backoff caps only the client's own backoff."""
    soon = email.utils.format_datetime(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=10), usegmt=True)
    past = email.utils.format_datetime(dt.datetime.now(dt.UTC) - dt.timedelta(seconds=100), usegmt=True)
    handler = Recorder(httpx.Response(429, headers={"Retry-After": soon}),
                       httpx.Response(503, headers={"Retry-After": "100"}),
                       httpx.Response(429, headers={"Retry-After": past}),
                       httpx.Response(200, json={"status": "ok"}))
    client, sleeps = make(handler, max_backoff=20.0)
    assert client.health() == {"status": "ok"}
    assert len(sleeps) == 3
    assert 8.0 < sleeps[0] <= 10.0
    assert sleeps[1:] == [100.0, 0.0], "never less than the server asked, even above max_backoff"


def test_a_retry_after_longer_than_max_retry_after_is_raised_at_once():
    handler = Recorder(problem(503, "service-unavailable", "Service unavailable", "maintenance", "/v1/health"),
                       httpx.Response(200, json={"status": "ok"}))
    handler.answers[0].headers["Retry-After"] = "3600"
    client, sleeps = make(handler, max_retry_after=600)
    with pytest.raises(ServiceUnavailable) as caught:
        client.health()
    assert caught.value.retry_after == 3600.0 and isinstance(caught.value, RetryLater)
    assert "asked to wait 3600 s, more than max_retry_after (600 s)" in str(caught.value)
    assert sleeps == [] and len(handler.requests) == 1


def test_429_after_the_last_retry_is_too_many_requests_with_its_retry_after():
    handler = Recorder(httpx.Response(429, headers={"Retry-After": "2"}))
    client, sleeps = make(handler, retries=1)
    with pytest.raises(TooManyRequests) as caught:
        client.get("hr.person", "x")
    assert caught.value.retry_after == 2.0 and sleeps == [2.0] and len(handler.requests) == 2
    assert str(caught.value) == f"GET {PERSON_PATH}/x failed: 429 (no body)"


def test_503_without_retry_after_uses_exponential_backoff_with_full_jitter():
    """PS-API-017: 429 and 503 are retried honouring Retry-After."""
    handler = Recorder(httpx.Response(503), httpx.Response(503), httpx.Response(503), httpx.Response(204))
    client, sleeps = make(handler, backoff=0.5, max_backoff=1.5, rng=random.Random(42))
    client.delete("hr.person", "x")
    expected = random.Random(42)
    assert sleeps == [expected.uniform(0, 0.5), expected.uniform(0, 1.0), expected.uniform(0, 1.5)]
    assert all(0 <= delay <= cap for delay, cap in zip(sleeps, [0.5, 1.0, 1.5], strict=True))
    assert [r.status for r in client.retry_log] == [503, 503, 503]


def test_retries_give_up_after_retries_with_the_last_error():
    handler = Recorder(problem(503, "unavailable", "Service Unavailable", "maintenance", PERSON_PATH))
    client, sleeps = make(handler, retries=2, rng=random.Random(0))
    with pytest.raises(ApiError) as caught:
        client.get("hr.person", "x")
    assert caught.value.status == 503 and caught.value.detail == "maintenance"
    assert len(handler.requests) == 3 and len(sleeps) == 2

    handler = Recorder(httpx.ConnectError("refused"))
    client, sleeps = make(handler, retries=3)
    with pytest.raises(httpx.ConnectError):
        client.get("hr.person", "x")
    assert len(handler.requests) == 4 and len(sleeps) == 3
    assert [r.error for r in client.retry_log] == ["ConnectError: refused"] * 3


@pytest.mark.parametrize("status, kind", [(400, BadRequest), (422, InvalidMessage), (404, NotFound)])
def test_client_errors_are_not_retried(status, kind):
    handler = Recorder(problem(status, "x", "X", "no", PERSON_PATH))
    client, sleeps = make(handler)
    with pytest.raises(kind):
        client.put(person(1))
    assert len(handler.requests) == 1 and sleeps == [] and client.retry_log == []


def test_connection_failures_are_retried_for_get_and_put_but_not_for_a_generator_import():
    handler = Recorder(httpx.ConnectError("refused"), httpx.ConnectTimeout("slow"),
                       httpx.Response(200, json=person(1), headers={"ETag": '"e"'}))
    client, sleeps = make(handler, rng=random.Random(3))
    assert client.get("hr.person", f"{COUNCIL}-p00001").etag == '"e"'
    assert len(handler.requests) == 3 and len(sleeps) == 2
    assert [r.error.split(":")[0] for r in client.retry_log] == ["ConnectError", "ConnectTimeout"]

    handler = Recorder(httpx.ReadTimeout("slow"), httpx.Response(201, json=person(1)))
    client, _ = make(handler)
    assert client.put(person(1)).created is True
    assert [json.loads(r.content) for r in handler.requests] == [person(1), person(1)]

    handler = Recorder(httpx.ConnectError("refused"), httpx.Response(200, content=b'{"summary": {}}\n'))
    client, sleeps = make(handler)
    with pytest.raises(httpx.ConnectError):
        client.import_messages(person(n) for n in range(3))
    assert len(handler.requests) == 1 and sleeps == []


@pytest.mark.parametrize("failure", [httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("server disconnected")])
def test_a_lost_answer_is_retried_only_where_acting_twice_is_harmless(failure):
    """A DELETE or a conditional PUT may have been made: sent again, it would answer 404 or 412 for a success."""
    ok = httpx.Response(200, json=person(1), headers={"ETag": '"e"'})
    handler = Recorder(failure, ok)
    client, sleeps = make(handler)
    assert client.get("hr.person", f"{COUNCIL}-p00001").etag == '"e"'
    assert len(handler.requests) == 2 and len(sleeps) == 1

    for write in (lambda c: c.delete("hr.person", f"{COUNCIL}-p00001"),
                  lambda c: c.put(person(1), if_match='"e"'),
                  lambda c: c.put(person(1), if_none_match=True)):
        handler = Recorder(failure, httpx.Response(204))
        client, sleeps = make(handler)
        with pytest.raises(type(failure)) as caught:
            write(client)
        assert len(handler.requests) == 1 and sleeps == []
        assert any("not retried" in note and "read the record" in note for note in caught.value.__notes__)


def test_a_failure_before_the_request_left_is_retried_for_every_request():
    handler = Recorder(httpx.ConnectError("refused"), httpx.PoolTimeout("pool"), httpx.Response(204))
    client, sleeps = make(handler, rng=random.Random(5))
    client.delete("hr.person", "x", if_match='"e"')
    assert len(handler.requests) == 3 and len(sleeps) == 2


class RefusingFirst(httpx.BaseTransport):
    """Fails to connect (before reading any of the body) the first time, then reads and acknowledges it."""

    def __init__(self):
        self.attempts = 0
        self.lines: list[bytes] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.attempts += 1
        if self.attempts == 1:
            raise httpx.ConnectError("refused")
        self.lines = [line for line in request.read().splitlines() if line]
        acks = [{"line": n, "status": "accepted"} for n in range(1, len(self.lines) + 1)]
        summary = {"summary": {"lines": len(acks), "accepted": len(acks), "rejected": 0}}
        return httpx.Response(200, content="".join(json.dumps(a) + "\n" for a in [*acks, summary]).encode())


def test_a_generator_import_is_retried_while_none_of_its_messages_was_read():
    transport = RefusingFirst()
    sleeps: list[float] = []
    client = PlugshareClient(BASE, TOKEN, council=COUNCIL, transport=transport, sleep=sleeps.append)
    result = client.import_messages(person(n) for n in range(1, 4))
    assert [ack["line"] for ack in result] == [1, 2, 3]
    assert transport.attempts == 2 and len(sleeps) == 1
    assert [json.loads(line)["data"]["id"] for line in transport.lines] == [f"{COUNCIL}-p0000{n}" for n in (1, 2, 3)]


def test_an_import_from_a_list_is_retried_and_resent_whole():
    def ok():
        return httpx.Response(200, content=b'{"line": 1}\n{"line": 2}\n{"summary": {"lines": 2}}\n')

    handler = Recorder(httpx.ConnectError("refused"), httpx.Response(429, headers={"Retry-After": "1"}), ok)
    client, sleeps = make(handler, rng=random.Random(0))
    result = client.import_messages([person(1), person(2)])
    assert [ack["line"] for ack in result] == [1, 2]
    assert len(sleeps) == 2 and sleeps[1] == 1.0
    bodies = [r.content for r in handler.requests]
    assert len(bodies) == 3 and bodies[0] == bodies[1] == bodies[2]
    assert [json.loads(line) for line in bodies[2].splitlines()] == [person(1), person(2)]


def test_a_generator_import_already_sent_is_not_retried_on_429():
    handler = Recorder(problem(429, "too-many-requests", "Too Many Requests", "slow down", "/import"),
                       httpx.Response(200, content=b'{"summary": {}}\n'))
    client, sleeps = make(handler)
    with pytest.raises(ApiError, match="one-pass") as caught:
        client.import_messages(person(n) for n in range(3))
    assert caught.value.status == 429
    assert len(handler.requests) == 1 and sleeps == []


# --- errors -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status, slug, kind, requirement", [
    (401, "unauthorized", Unauthorized, None),
    (403, "forbidden", Forbidden, "PS-API-003"),
    (404, "not-found", NotFound, None),
    (412, "precondition-failed", PreconditionFailed, "PS-API-010"),
    (413, "payload-too-large", PayloadTooLarge, "PS-API-016"),
    (422, "invalid-message", InvalidMessage, "PS-API-007"),
])
def test_problem_answers_raise_their_subclass_with_the_requirement(status, slug, kind, requirement):
    path = f"{PERSON_PATH}/{COUNCIL}-p00001"
    extra = {"requirement": requirement} if requirement else {}
    handler = Recorder(problem(status, slug, slug.replace("-", " ").title(), f"detail of {slug}", path, **extra))
    client, _ = make(handler)
    message = person(1)
    with pytest.raises(kind) as caught:
        client.put(message)
    error = caught.value
    assert isinstance(error, ApiError) and error.status == status
    assert error.requirement == requirement
    assert error.problem["type"] == f"https://plugshare.uk/problems/{slug}"
    text = str(error)
    assert text.startswith(f"PUT {path} failed: {status} {slug.replace('-', ' ').title()}: detail of {slug}")
    assert (requirement in text) if requirement else "requirements" not in text
    assert message["data"]["ni_number"] not in text and message["data"]["birth_date"] not in text


@pytest.mark.parametrize("status, slug, kind", [(405, "method-not-allowed", MethodNotAllowed),
                                                (415, "unsupported-media-type", UnsupportedMediaType)])
def test_a_read_only_gateway_and_a_wrong_media_type_have_their_own_errors(status, slug, kind):
    handler = Recorder(problem(status, slug, "X", "this server is a read-only gateway", PERSON_PATH))
    client, _ = make(handler)
    with pytest.raises(kind) as caught:
        client.put(person(1))
    assert "read-only gateway" in str(caught.value) and len(handler.requests) == 1


def test_precondition_failed_is_a_conflict():
    handler = Recorder(problem(412, "precondition-failed", "Precondition Failed", "etag differs", PERSON_PATH))
    client, _ = make(handler)
    with pytest.raises(Conflict):
        client.delete("hr.person", "x", if_match='"old"')


def test_an_invalid_message_lists_every_requirement_broken():
    errors = [{"requirement": "PS-ID-001", "pointer": "/data/ni_number", "reason": "not a valid NI number"},
              {"requirement": "PS-ENV-004", "pointer": "/time", "reason": "not a date-time"}]
    handler = Recorder(problem(422, "invalid-message", "Invalid message", "2 problems", PERSON_PATH,
                               requirement="PS-API-004", errors=errors))
    client, _ = make(handler)
    with pytest.raises(InvalidMessage) as caught:
        client.put(person(1))
    assert caught.value.errors == errors
    assert caught.value.requirements == ["PS-API-004", "PS-ID-001", "PS-ENV-004"]
    assert "PS-ID-001 at /data/ni_number: not a valid NI number" in str(caught.value)


def test_text_quoted_in_an_error_never_shows_personal_data():
    message = person(1)
    client, _ = make(Recorder(httpx.Response(500, text=f"could not store {message['data']['ni_number']}")))
    with pytest.raises(ApiError) as caught:
        client.get("hr.person", "x")
    assert message["data"]["ni_number"] not in str(caught.value) and "not shown" in str(caught.value)

    text = json.dumps(message)
    cut = text[:text.index(message["data"]["ni_number"]) + 12]  # a line broken off just after the NI number
    client, _ = make(Recorder(lambda: httpx.Response(200, content=(cut + "\n").encode())))
    with pytest.raises(UnexpectedResponse) as unexpected:
        list(client.export())
    assert message["data"]["ni_number"] not in str(unexpected.value) and "not shown" in str(unexpected.value)

    client, _ = make(Recorder(httpx.Response(200, json=message)))
    with pytest.raises(UnexpectedResponse) as not_a_page:
        list(client.list("hr.person"))
    assert message["data"]["birth_date"] not in str(not_a_page.value)


def test_an_error_without_a_problem_document_quotes_an_excerpt():
    html = "<html><body>" + "Bad gateway " * 100 + "</body></html>"
    client, _ = make(Recorder(httpx.Response(502, text=html)))
    with pytest.raises(ApiError) as caught:
        list(client.list("hr.person"))
    error = caught.value
    assert type(error) is ApiError and error.status == 502 and error.problem == {}
    assert error.excerpt.startswith("<html><body>Bad gateway") and len(error.excerpt) <= 210
    assert f"GET {PERSON_PATH} failed: 502" in str(error) and "not a problem document" in str(error)


# --- configuration ------------------------------------------------------------------------------------------------


def test_bearer_token_user_agent_and_timeout_are_sent():
    handler = Recorder(httpx.Response(200, json={"items": []}))
    client, _ = make(handler, timeout=httpx.Timeout(5.0, connect=2.0))
    list(client.list("hr.person"))
    request = handler.requests[0]
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["User-Agent"] == f"plugshare-client/{__version__}"
    assert request.extensions["timeout"] == {"connect": 2.0, "read": 5.0, "write": 5.0, "pool": 5.0}
    assert client.timeout == httpx.Timeout(5.0, connect=2.0)
    assert PlugshareClient(BASE, timeout=12).timeout == httpx.Timeout(12.0)


def test_imports_and_exports_wait_longer_for_the_server_than_other_requests():
    """The server answers an import once every line is stored: its read timeout covers the whole load."""
    handler = Recorder(lambda: httpx.Response(200, content=b'{"summary": {"lines": 0}}\n'))
    client, _ = make(handler, timeout=httpx.Timeout(5.0, connect=2.0))
    list(client.import_messages([]))
    list(client.export())
    list(client.export(timeout=7.0))
    timeouts = [r.extensions["timeout"] for r in handler.requests]
    assert timeouts[0] == timeouts[1] == {"connect": 2.0, "read": BULK_READ_TIMEOUT, "write": 5.0, "pool": 5.0}
    assert timeouts[2]["read"] == 7.0
    client, _ = make(handler, bulk_timeout=90.0)
    assert client.bulk_timeout == httpx.Timeout(90.0)


def test_the_timeout_is_passed_to_a_client_given_from_outside():
    handler = Recorder(httpx.Response(200, json={"status": "ok"}))
    outside = httpx.Client(transport=httpx.MockTransport(handler), timeout=99)
    with PlugshareClient(BASE, client=outside, timeout=4.0) as client:
        client.health()
    assert handler.requests[0].extensions["timeout"]["read"] == 4.0
    assert not outside.is_closed  # a client passed in is the caller's to close
    outside.close()


def test_the_client_closes_only_a_client_it_made():
    with PlugshareClient(BASE, transport=httpx.MockTransport(Recorder(httpx.Response(200)))) as client:
        pass
    assert client.http.is_closed


class ClosingStream(httpx.SyncByteStream):
    """An endless NDJSON body that notes whether the client closed it."""

    def __init__(self, line: bytes):
        self.line, self.closed = line, False

    def __iter__(self) -> Iterator[bytes]:
        while True:
            yield self.line

    def close(self) -> None:
        self.closed = True


def test_stopping_an_export_or_dropping_an_import_early_closes_the_connection():
    streams: list[ClosingStream] = []

    def answer(line: bytes):
        def make_response():
            streams.append(ClosingStream(line))
            return httpx.Response(200, stream=streams[-1])
        return make_response

    client, _ = make(Recorder(answer(json.dumps(person(1)).encode() + b"\n")))
    for count, _message in enumerate(client.export(), start=1):
        if count == 3:
            break
    assert streams[0].closed, "leaving the loop closed the export's connection"

    client, _ = make(Recorder(answer(b'{"line": 1, "status": "accepted"}\n')))
    with client.import_messages([person(1)]) as result:
        next(result)
    assert streams[1].closed
    client.import_messages([person(1)])  # never read, never closed by the caller
    assert streams[2].closed, "an unread import answer gives its connection back when dropped"


def test_an_import_line_holding_a_line_break_is_refused():
    client, _ = make(Recorder(httpx.Response(200)))
    with pytest.raises(ValueError, match="one message per item"):
        client.import_messages([json.dumps(person(1)) + "\n" + json.dumps(person(2))])


def test_a_missing_council_is_a_clear_value_error():
    handler = Recorder(httpx.Response(200, json={"items": []}))
    client, _ = make(handler, council=None)
    calls = [lambda: client.list("hr.person"), lambda: client.pages("hr.person"),
             lambda: client.changes("hr.person", "2026-01-01T00:00:00Z"), lambda: client.get("hr.person", "x"),
             lambda: client.delete("hr.person", "x"), lambda: client.import_messages([person(1)]),
             lambda: client.export(), lambda: client.put({k: v for k, v in person(1).items() if k != "council"})]
    for call in calls:
        with pytest.raises(ValueError, match="no council given"):
            call()
    assert handler.requests == []


def test_an_unknown_message_type_is_a_value_error():
    client, _ = make(Recorder(httpx.Response(200)))
    with pytest.raises(ValueError, match="not a message type"):
        client.list("hr.people")


@respx.mock
def test_works_with_respx_routes():
    route = respx.get(f"{BASE}{PERSON_PATH}/{COUNCIL}-p00002").mock(
        side_effect=[httpx.Response(503, headers={"Retry-After": "2"}),
                     httpx.Response(200, json=person(2), headers={"ETag": '"v2"'})])
    sleeps: list[float] = []
    with PlugshareClient(BASE, TOKEN, council=COUNCIL, sleep=sleeps.append) as client:
        assert client.get("hr.person", f"{COUNCIL}-p00002").message == person(2)
    assert route.call_count == 2 and sleeps == [2.0]


# --- against the real server --------------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")
def test_round_trip_against_the_server():
    from starlette.testclient import TestClient

    from plugshare.api.app import make_app
    from plugshare.api.store import open_store
    from plugshare.api.tokens import create_token

    store = open_store(":memory:")
    token = create_token(store, [COUNCIL])
    with store, TestClient(make_app(store)) as http:
        client = PlugshareClient("http://testserver", token, council=COUNCIL, client=http)
        created = client.put(person(1))
        assert created.created is True and created.etag
        assert client.put(person(1)).etag == created.etag
        fetched = client.get("hr.person", f"{COUNCIL}-p00001")
        assert fetched.message == person(1) and fetched.etag == created.etag
        result = client.import_messages([person(2), person(3)])
        assert [ack["status"] for ack in result] == ["accepted", "accepted"]
        assert result.summary["accepted"] == 2
        assert [m["data"]["id"] for m in client.list("hr.person", limit=2)] == [
            f"{COUNCIL}-p0000{n}" for n in (1, 2, 3)]
        exported = list(client.export(types=["hr.person"]))
        assert [canonical_digest(m) for m in exported] == [canonical_digest(person(n)) for n in (1, 2, 3)]
        assert client.health() == {"status": "ok"}
        assert client.capabilities()["standard_version"] == "1.0.0"
        pages = list(client.pages("hr.person"))
        watermark = pages[-1].watermark
        client.delete("hr.person", f"{COUNCIL}-p00002", if_match=client.get("hr.person", f"{COUNCIL}-p00002").etag)
        with pytest.raises(NotFound):
            client.get("hr.person", f"{COUNCIL}-p00002")
        feed = client.changes("hr.person", watermark)
        assert [(m["action"], m["subject"]) for m in feed] == [("delete", f"{COUNCIL}-p00002")]
        assert feed.watermark > watermark
        with pytest.raises(PreconditionFailed):
            client.put(person(1), if_none_match=True)
        with pytest.raises(Forbidden) as refused:
            list(client.list("hr.person", council="E07000992"))
        assert refused.value.requirement == "PS-API-003"
        broken = person(4)
        broken["data"]["id"] = broken["subject"] = f"{COUNCIL}-p00005"
        with pytest.raises(InvalidMessage) as invalid:
            client.put(broken, record_id=f"{COUNCIL}-p00004")
        assert "PS-API-007" in invalid.value.requirements
