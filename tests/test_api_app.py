"""The reference server through HTTP, in process: every endpoint, every refusal, every response checked.

The ``make_client`` fixture checks each response against the published OpenAPI
document and fails the test at teardown if any breaks it.
"""

import base64
import json
import logging

import anyio
import httpx
import pytest
from apikit import (
    COUNCIL_A,
    COUNCIL_B,
    NDJSON,
    Conformance,
    Tokens,
    canonical_set,
    collection_path,
    example,
    invalid_example,
    item_path,
    ndjson,
    read_ndjson,
    record_id,
    revised,
    synthetic,
    type_of,
)

import plugshare
from plugshare.api import Limits, create_token, make_app, open_store, reference_capabilities, revoke_token
from plugshare.api import app as app_module
from plugshare.api.app import IMPORT_BATCH
from plugshare.api.store import TenantStore
from plugshare.models import MESSAGE_TYPES, STANDARD_VERSION
from plugshare.synthetic import Sizes

pytest_plugins = ["apikit"]
pytestmark = pytest.mark.anyio

COUNCIL_C = "E07000993"
PROBLEM = "application/problem+json"
MiB = 1024 * 1024


def bearer(token):
    return Tokens.bearer(token)


def person(council=COUNCIL_A):
    return next(m for m in synthetic(council) if type_of(m) == "hr.person")


def problem_of(response, status):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status and body["instance"] == response.request.url.path
    assert "Traceback" not in response.text
    return body


async def import_messages(client, token, lines, council=COUNCIL_A):
    response = await client.post(f"/v1/councils/{council}/import", content=ndjson(lines),
                                 headers={**bearer(token), **NDJSON})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-ndjson")
    *acks, summary = read_ndjson(response.content)
    return acks, summary["summary"]


async def export(client, token, council=COUNCIL_A, **params):
    response = await client.get(f"/v1/councils/{council}/export", headers=bearer(token), params=params)
    assert response.status_code == 200, response.text
    return read_ndjson(response.content)


async def list_all(client, token, message_type, limit, council=COUNCIL_A, **params):
    """Every page of a listing or change feed: (items in order, pages)."""
    items, pages, cursor = [], [], None
    while True:
        query = {"limit": limit, **params, **({"cursor": cursor} if cursor else {})}
        response = await client.get(collection_path(message_type, council), headers=bearer(token), params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append(page)
        assert len(page["items"]) <= limit
        items += page["items"]
        cursor = page.get("next_cursor")
        if cursor is None:
            return items, pages


# --- unauthenticated ----------------------------------------------------------------------------

async def test_health_and_capabilities(client):
    assert (await client.get("/v1/health")).json() == {"status": "ok"}
    capabilities = (await client.get("/v1/capabilities")).json()
    assert capabilities["product"] == {"name": "plugshare reference server", "version": plugshare.__version__,
                                       "supplier": "plugshare"}
    assert capabilities["standard_version"] == STANDARD_VERSION and capabilities["read_only"] is False
    assert {t["type"] for t in capabilities["message_types"]} == set(MESSAGE_TYPES)
    assert all(t["operations"] == ["list", "get", "changes", "upsert", "delete"]
               for t in capabilities["message_types"])
    assert set(capabilities["features"]) == {"change-feed", "bulk-import", "bulk-export", "conditional-requests"}
    assert capabilities["limits"] == {"default_page_size": 100, "max_page_size": 1000,
                                      "max_message_bytes": MiB, "max_import_bytes": 256 * MiB}


async def test_declared_limits_are_the_ones_enforced(make_client, store, tokens):
    client = await make_client(make_app(store, limits={"max_page_size": 5, "default_page_size": 2}))
    capabilities = (await client.get("/v1/capabilities")).json()
    assert capabilities["limits"]["max_page_size"] == 5 and capabilities["limits"]["default_page_size"] == 2
    await import_messages(client, tokens.a, synthetic(COUNCIL_A))
    path = collection_path("hr.org-unit")
    assert len((await client.get(path, headers=bearer(tokens.a))).json()["items"]) == 2
    body = problem_of(await client.get(path, headers=bearer(tokens.a), params={"limit": 6}), 400)
    assert "1 to 5" in body["detail"] and body["requirement"] == "PS-API-016"


@pytest.mark.parametrize("limits", [{"max_page_size": 0}, {"default_page_size": 50, "max_page_size": 10},
                                    {"max_import_bytes": -1}, {"max_message_bytes": "1MiB"}])
def test_limits_that_could_not_be_enforced_are_refused(store, limits):
    with pytest.raises(ValueError, match="limit|page_size"):
        make_app(store, limits=limits)
    assert Limits(default_page_size=10, max_page_size=10).as_dict()["max_page_size"] == 10


async def test_the_conformance_check_reports_a_response_that_breaks_the_document(make_client, app):
    """The fixture every test here relies on must be able to fail."""
    conformance = Conformance()
    broken = httpx.Response(200, json={"status": "fine"}, request=httpx.Request("GET", "http://x/v1/health"))
    await conformance(broken)
    assert conformance.responses == 1 and any("/status" in v for v in conformance.violations)
    bare = httpx.Response(500, text="Traceback (most recent call last)",
                          request=httpx.Request("GET", "http://x/v1/health"))
    await conformance(bare)
    assert any("Content-Type" in v for v in conformance.violations)
    client = await make_client(app)
    await client.get("/v1/health")
    assert make_client.conformance.responses == 1 and make_client.conformance.violations == []


# --- authentication -----------------------------------------------------------------------------

NDJSON_FOR = {"GET": {}, "PUT": {}, "DELETE": {}, "POST": NDJSON}


def every_endpoint(council=COUNCIL_A):
    message = person(council)
    return [
        ("GET", collection_path("hr.person", council), {}),
        ("GET", collection_path("hr.person", council), {"params": {"updated_since": "2020-01-01T00:00:00Z"}}),
        ("GET", item_path(message, council), {}),
        ("PUT", item_path(message, council), {"json": message}),
        ("DELETE", item_path(message, council), {}),
        ("POST", f"/v1/councils/{council}/import", {"content": ndjson([message])}),
        ("GET", f"/v1/councils/{council}/export", {}),
    ]


async def test_every_council_endpoint_needs_a_valid_bearer_token(client, store, tokens):
    revoked = create_token(store, [COUNCIL_A])
    revoke_token(store, revoked)
    expired = create_token(store, [COUNCIL_A], expires_at="2001-01-01T00:00:00Z")
    wrong_secret = tokens.a[:-4] + ("AAAA" if not tokens.a.endswith("AAAA") else "BBBB")
    refusals = [{}, {"Authorization": tokens.a}, {"Authorization": f"Basic {tokens.a}"}, {"Authorization": "Bearer"},
                bearer("psk_nonsense"), bearer(wrong_secret), bearer(revoked), bearer(expired)]
    for method, path, kwargs in every_endpoint():
        for headers in refusals:
            response = await client.request(method, path, **kwargs, headers={**NDJSON_FOR[method], **headers})
            body = problem_of(response, 401)
            assert response.headers["www-authenticate"] == 'Bearer realm="plugshare"'
            assert body["type"] == "https://plugshare.uk/problems/unauthorized"
            assert body["requirement"] == "PS-API-002"
    assert (await export(client, tokens.a)) == []  # nothing was written by any refused request


# --- tenant isolation ---------------------------------------------------------------------------

async def test_a_token_for_one_council_never_reaches_another(client, tokens):
    await import_messages(client, tokens.b, synthetic(COUNCIL_B), council=COUNCIL_B)
    before = await export(client, tokens.b, council=COUNCIL_B)
    bodies = {}
    for council in (COUNCIL_B, COUNCIL_C):  # B has data, C has none: the answers must not tell them apart
        for method, path, kwargs in every_endpoint(council):
            response = await client.request(method, path, **kwargs, headers={**NDJSON_FOR[method], **bearer(tokens.a)})
            body = problem_of(response, 403)
            assert body["requirement"] == "PS-API-003"
            bodies.setdefault(method + path.replace(council, "X"), set()).add(
                json.dumps({**body, "instance": None, "detail": body["detail"].replace(council, "X")}))
    assert all(len(variants) == 1 for variants in bodies.values())
    assert await export(client, tokens.b, council=COUNCIL_B) == before


async def test_a_shared_token_reads_each_council_only_through_its_own_paths(client, tokens):
    await import_messages(client, tokens.ab, synthetic(COUNCIL_A))
    await import_messages(client, tokens.ab, synthetic(COUNCIL_B), council=COUNCIL_B)
    exported = await export(client, tokens.ab)
    assert canonical_set(exported) == canonical_set(synthetic(COUNCIL_A))
    items, _ = await list_all(client, tokens.ab, "hr.person", 2)
    changes, _ = await list_all(client, tokens.ab, "hr.person", 2, updated_since="2000-01-01T00:00:00Z")
    assert {m["council"] for m in items + changes} == {COUNCIL_A}
    theirs = person(COUNCIL_B)
    problem_of(await client.get(item_path(theirs, COUNCIL_A), headers=bearer(tokens.ab)), 404)
    problem_of(await client.delete(item_path(theirs, COUNCIL_A), headers=bearer(tokens.ab)), 404)
    assert (await client.get(item_path(theirs), headers=bearer(tokens.ab))).status_code == 200


async def test_a_message_claiming_another_council_is_refused_under_this_one(client, tokens):
    theirs = person(COUNCIL_B)
    body = problem_of(await client.put(item_path(theirs, COUNCIL_A), json=theirs, headers=bearer(tokens.ab)), 422)
    assert body["requirement"] == "PS-API-008" and body["errors"][0]["pointer"] == "/council"
    acks, summary = await import_messages(client, tokens.ab, [theirs, person(COUNCIL_A)])
    assert acks[0]["status"] == "rejected" and acks[0]["errors"][0]["requirement"] == "PS-API-008"
    assert acks[1]["status"] == "accepted" and summary == {"lines": 2, "accepted": 1, "rejected": 1}
    assert await export(client, tokens.b, council=COUNCIL_B) == []
    assert canonical_set(await export(client, tokens.a)) == canonical_set([person(COUNCIL_A)])


# --- PUT, GET, DELETE ---------------------------------------------------------------------------

async def test_put_is_an_idempotent_upsert_with_a_strong_etag(client, tokens):
    """PS-API-009 and PS-API-010: the same message twice is one record with one strong ETag."""
    message = person()
    path, auth = item_path(message), bearer(tokens.a)
    created = await client.put(path, json=message, headers=auth)
    assert created.status_code == 201 and created.json() == message
    assert created.headers["location"] == path
    etag = created.headers["etag"]
    assert etag.startswith('"') and not etag.startswith('W/')
    got = await client.get(path, headers=auth)
    assert got.status_code == 200 and got.json() == message and got.headers["etag"] == etag
    _, pages = await list_all(client, tokens.a, "hr.person", 10, updated_since="2000-01-01T00:00:00Z")
    watermark = pages[-1]["watermark"]
    again = await client.put(path, json=message, headers=auth)
    assert again.status_code == 200 and again.headers["etag"] == etag and "location" not in again.headers
    feed, _ = await list_all(client, tokens.a, "hr.person", 10, updated_since=watermark)
    assert feed == []  # an unchanged upsert is no change
    listed, _ = await list_all(client, tokens.a, "hr.person", 10)
    assert len(listed) == 1
    replaced = await client.put(path, json=revised(message), headers=auth)
    assert replaced.status_code == 200 and replaced.headers["etag"] != etag


async def test_conditional_requests(client, tokens):
    message = person()
    path, auth = item_path(message), bearer(tokens.a)
    problem_of(await client.put(path, json=message, headers={**auth, "If-Match": '"abc"'}), 412)
    created = await client.put(path, json=message, headers={**auth, "If-None-Match": "*"})
    assert created.status_code == 201
    etag = created.headers["etag"]
    body = problem_of(await client.put(path, json=revised(message), headers={**auth, "If-None-Match": "*"}), 412)
    assert body["requirement"] == "PS-API-010"
    problem_of(await client.put(path, json=revised(message), headers={**auth, "If-Match": '"abc"'}), 412)
    problem_of(await client.delete(path, headers={**auth, "If-Match": '"abc"'}), 412)
    updated = await client.put(path, json=revised(message), headers={**auth, "If-Match": etag})
    assert updated.status_code == 200
    problem_of(await client.delete(path, headers={**auth, "If-Match": etag}), 412)  # no longer current
    deleted = await client.delete(path, headers={**auth, "If-Match": f'"x", {updated.headers["etag"]}'})
    assert deleted.status_code == 204 and deleted.content == b""


async def test_delete_leaves_a_tombstone_and_put_creates_again(client, tokens):
    message = person()
    path, auth = item_path(message), bearer(tokens.a)
    assert (await client.put(path, json=message, headers=auth)).status_code == 201
    _, pages = await list_all(client, tokens.a, "hr.person", 10)
    assert (await client.delete(path, headers=auth)).status_code == 204
    problem_of(await client.get(path, headers=auth), 404)
    problem_of(await client.delete(path, headers=auth), 404)
    assert (await list_all(client, tokens.a, "hr.person", 10))[0] == []
    feed, feed_pages = await list_all(client, tokens.a, "hr.person", 10, updated_since=pages[0]["watermark"])
    [tombstone] = feed
    assert tombstone["action"] == "delete" and tombstone["subject"] == record_id(message)
    assert tombstone["council"] == COUNCIL_A and tombstone["type"] == message["type"] and "data" not in tombstone
    assert tombstone["schemaversion"] == STANDARD_VERSION and tombstone["source"] == f"urn:plugshare:{COUNCIL_A}:api"
    assert feed_pages[-1]["watermark"] == tombstone["time"]
    assert (await client.put(path, json=message, headers=auth)).status_code == 201


async def test_an_invalid_message_is_refused_with_its_requirements_and_nothing_is_stored(client, tokens):
    message = invalid_example("PS-ID-001--ni-number-q-prefix.json")
    ni_number = message["data"]["ni_number"]
    response = await client.put(item_path(message), json=message, headers=bearer(tokens.a))
    body = problem_of(response, 422)
    assert body["type"] == "https://plugshare.uk/problems/invalid-message" and body["requirement"] == "PS-API-004"
    assert {"requirement": "PS-ID-001", "pointer": "/data/ni_number"}.items() <= body["errors"][0].items()
    assert ni_number not in response.text and ni_number[2:8] not in response.text
    problem_of(await client.get(item_path(message), headers=bearer(tokens.a)), 404)
    assert await export(client, tokens.a) == []


@pytest.mark.parametrize(("requirement", "mangle"), [
    ("PS-API-005", lambda m, path: (m, path.replace("/hr/person/", "/hr/employment/"))),
    ("PS-API-006", lambda m, path: ({k: v for k, v in m.items() if k != "data"} | {"action": "delete"}, path)),
    ("PS-API-007", lambda m, path: (m, path.replace(m["data"]["id"], "E07000991-p77777"))),
    ("PS-API-008", lambda m, path: (m, path.replace(f"/{COUNCIL_A}/", f"/{COUNCIL_B}/"))),
])
async def test_put_refuses_a_message_that_is_not_an_upsert_of_this_record(client, tokens, requirement, mangle):
    message, path = mangle(person(), item_path(person()))
    body = problem_of(await client.put(path, json=message, headers=bearer(tokens.ab)), 422)
    assert body["requirement"] == requirement and body["errors"][0]["requirement"] == requirement
    assert await export(client, tokens.ab) == [] and await export(client, tokens.ab, council=COUNCIL_B) == []


async def test_put_limits_and_body_checks(client, tokens):
    message = person()
    path, auth = item_path(message), bearer(tokens.a)
    problem_of(await client.put(path, content=json.dumps(message), headers={**auth, "Content-Type": "text/plain"}),
               415)
    problem_of(await client.put(path, content=json.dumps(message), headers=auth), 415)
    for text in ("{not json", "[]", '{"a": 1, "a": 2}', "NaN"):
        problem_of(await client.put(path, content=text, headers={**auth, "Content-Type": "application/json"}), 400)
    big = dict(message, data=dict(message["data"], extensions={"gov.uk.e07000991": {"note": "x" * MiB}}))
    body = problem_of(await client.put(path, json=big, headers=auth), 413)
    assert body["requirement"] == "PS-API-016" and "1,048,576" in body["detail"]

    async def chunks():  # no Content-Length: the limit holds while reading
        text = json.dumps(big).encode()
        for start in range(0, len(text), 256 * 1024):
            yield text[start:start + 256 * 1024]

    response = await client.put(path, content=chunks(), headers={**auth, "Content-Type": "application/json"})
    problem_of(response, 413)
    assert await export(client, tokens.a) == []


async def test_a_message_that_could_not_be_served_back_as_json_is_refused_and_not_stored(client, tokens):
    """1e400 reads as infinity and \\ud800 as half a character: stored, neither could be written back."""
    message = person()
    path, auth = item_path(message), {**bearer(tokens.a), "Content-Type": "application/json"}
    text = json.dumps(message)
    assert '"extensions": {}' in text
    huge = text.replace('"extensions": {}', '"extensions": {"gov.uk.e07000991": {"hours": 1e400}}')
    half = text.replace('"extensions": {}', '"extensions": {"gov.uk.e07000991": {"note": "\\ud800"}}')
    body = problem_of(await client.put(path, content=huge, headers=auth), 400)
    assert "too large" in body["detail"]
    body = problem_of(await client.put(path, content=half, headers=auth), 400)
    assert "surrogate" in body["detail"]
    problem_of(await client.get(path, headers=bearer(tokens.a)), 404)

    other = synthetic(COUNCIL_A)[1]
    acks, summary = await import_messages(client, tokens.a, [huge, other, half])
    assert [a["status"] for a in acks] == ["rejected", "accepted", "rejected"]
    assert {a["errors"][0]["requirement"] for a in acks if a["status"] == "rejected"} == {"PS-ENV-001"}
    assert summary == {"lines": 3, "accepted": 1, "rejected": 2}  # one bad line never fails the batch
    assert canonical_set(await export(client, tokens.a)) == canonical_set([other])


async def test_numbers_too_long_to_read_and_times_off_the_calendar_are_refused_not_failed(client, tokens):
    auth = bearer(tokens.a)
    path = collection_path("hr.person")
    body = problem_of(await client.get(path, headers=auth, params={"limit": "9" * 5000}), 400)
    assert "1 to 1000" in body["detail"]
    for since in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "2026-11-29T10:00:00Z\n"):
        problem_of(await client.get(path, headers=auth, params={"updated_since": since}), 400)
    deep = base64.urlsafe_b64encode(b"[" * 5000).decode()
    problem_of(await client.get(path, headers=auth, params={"cursor": deep}), 400)
    message = person()
    huge_length = {**auth, "Content-Type": "application/json", "Content-Length": "9" * 5000}
    problem_of(await client.put(item_path(message), content=json.dumps(message), headers=huge_length), 413)
    problem_of(await client.put(item_path(message), content=json.dumps(message),
                                headers={**huge_length, "Content-Length": "12 bytes"}), 400)


async def test_a_change_feed_from_before_the_year_1000_returns_everything(client, tokens):
    """Change times sort as text only with four-digit years: year 999 must come before 2026."""
    people = [m for m in synthetic(COUNCIL_A) if type_of(m) == "hr.person"]
    await import_messages(client, tokens.a, people)
    page = (await client.get(collection_path("hr.person"), headers=bearer(tokens.a),
                             params={"updated_since": "0999-01-01T00:00:00Z"})).json()
    assert [record_id(m) for m in page["items"]] == [record_id(m) for m in people]
    empty = (await client.get(collection_path("hr.org-unit"), headers=bearer(tokens.a),
                              params={"updated_since": "0999-01-01T00:00:00Z"})).json()
    assert empty == {"items": [], "watermark": "0999-01-01T00:00:00.000000Z"}


async def test_delete_with_an_empty_if_match_is_refused_like_put(client, tokens):
    message = person()
    path, auth = item_path(message), bearer(tokens.a)
    assert (await client.put(path, json=message, headers=auth)).status_code == 201
    problem_of(await client.put(path, json=revised(message), headers={**auth, "If-Match": ""}), 412)
    problem_of(await client.delete(path, headers={**auth, "If-Match": ""}), 412)
    assert (await client.get(path, headers=auth)).status_code == 200


async def test_head_on_the_export_reads_no_records(client, tokens, monkeypatch):
    def fail(self, *args, **kwargs):
        raise AssertionError("HEAD read the records")

    monkeypatch.setattr(TenantStore, "export_pages", fail)
    response = await client.head(f"/v1/councils/{COUNCIL_A}/export", headers=bearer(tokens.a))
    assert response.status_code == 200 and response.content == b""
    assert response.headers["content-type"].startswith("application/x-ndjson")
    refused = await client.head(f"/v1/councils/{COUNCIL_B}/export", headers=bearer(tokens.a))
    assert refused.status_code == 403 and refused.headers["content-type"].startswith(PROBLEM)


# --- list and change feed -----------------------------------------------------------------------

@pytest.fixture
def many() -> list[dict]:
    return synthetic(COUNCIL_A, seed=11, sizes=Sizes(employees=30, dwellings=30, hereditaments=3))


@pytest.mark.parametrize("limit", [1, 7, 50, 1000])
async def test_paging_returns_every_record_exactly_once(client, tokens, many, limit):
    """PS-API-011: opaque-cursor paging."""
    await import_messages(client, tokens.a, many)
    for message_type in ("hr.person", "revenues.payment", "hr.org-unit"):
        if limit == 1 and message_type != "hr.org-unit":
            continue
        items, pages = await list_all(client, tokens.a, message_type, limit)
        expected = sorted(record_id(m) for m in many if type_of(m) == message_type)
        assert [record_id(m) for m in items] == expected
        assert len({p["watermark"] for p in pages}) == 1  # one listing, one watermark
        assert all("next_cursor" in p for p in pages[:-1]) and "next_cursor" not in pages[-1]


async def test_records_present_throughout_are_listed_once_while_others_change(client, tokens, many):
    """PS-API-011: opaque-cursor paging."""
    org_units = [m for m in many if type_of(m) == "hr.org-unit"]
    await import_messages(client, tokens.a, org_units[::2])
    late = org_units[1::2]
    seen, cursor, round_ = [], None, 0
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(collection_path("hr.org-unit"), headers=bearer(tokens.a), params=params)).json()
        seen += [record_id(m) for m in page["items"]]
        if round_ < len(late):  # between pages: one record arrives, one present record changes
            await import_messages(client, tokens.a, [late[round_], revised(org_units[0])])
            round_ += 1
        cursor = page.get("next_cursor")
        if cursor is None:
            break
    throughout = {record_id(m) for m in org_units[::2]}
    assert len(seen) == len(set(seen)) and throughout <= set(seen)


async def test_the_change_feed_returns_every_change_after_a_point_oldest_first(client, tokens, many):
    """PS-API-012: changes and deletions (tombstones) after a point, with a watermark."""
    people = [m for m in many if type_of(m) == "hr.person"]
    await import_messages(client, tokens.a, people[:10])
    _, pages = await list_all(client, tokens.a, "hr.person", 3)
    since = pages[0]["watermark"]
    auth = bearer(tokens.a)
    await client.put(item_path(people[11]), json=people[11], headers=auth)
    await client.put(item_path(people[2]), json=revised(people[2]), headers=auth)
    await client.delete(item_path(people[5]), headers=auth)
    await client.put(item_path(people[12]), json=people[12], headers=auth)
    feed, feed_pages = await list_all(client, tokens.a, "hr.person", 2, updated_since=since)
    assert [record_id(m) for m in feed] == [record_id(people[i]) for i in (11, 2, 5, 12)]
    assert [m["action"] for m in feed] == ["upsert", "upsert", "delete", "upsert"]
    watermark = feed_pages[-1]["watermark"]
    assert watermark > since and all(p["watermark"] > since for p in feed_pages)
    empty = (await client.get(collection_path("hr.person"), headers=auth, params={"updated_since": watermark})).json()
    assert empty == {"items": [], "watermark": watermark}
    await client.delete(item_path(people[0]), headers=auth)
    later, _ = await list_all(client, tokens.a, "hr.person", 2, updated_since=watermark)
    assert [(record_id(m), m["action"]) for m in later] == [(record_id(people[0]), "delete")]
    future = (await client.get(collection_path("hr.person"), headers=auth,
                               params={"updated_since": "2999-01-01t01:00:00.1234567+01:00"})).json()
    assert future == {"items": [], "watermark": "2999-01-01T00:00:00.123456Z"}  # in the server's own form
    offset = watermark.replace("Z", "+00:00")  # any RFC 3339 offset means the same instant
    assert (await list_all(client, tokens.a, "hr.person", 5, updated_since=offset))[0] == later


async def test_bad_list_parameters_are_refused(client, tokens):
    await import_messages(client, tokens.ab, synthetic(COUNCIL_A))
    await import_messages(client, tokens.ab, synthetic(COUNCIL_B), council=COUNCIL_B)
    path, auth = collection_path("hr.org-unit"), bearer(tokens.ab)
    for limit in ("0", "1001", "-1", "ten", "2.5"):
        body = problem_of(await client.get(path, headers=auth, params={"limit": limit}), 400)
        assert "1 to 1000" in body["detail"]
    for since in ("yesterday", "2026-11-29", "2026-11-29T10:00:00", "2026-13-01T00:00:00Z"):
        problem_of(await client.get(path, headers=auth, params={"updated_since": since}), 400)
    cursor = (await client.get(path, headers=auth, params={"limit": 2})).json()["next_cursor"]
    feed_cursor = (await client.get(path, headers=auth, params={"limit": 2, "updated_since": "2000-01-01T00:00:00Z"}
                                    )).json()["next_cursor"]
    refused = [
        (path, {"cursor": "garbled!"}),
        (path, {"cursor": cursor[:-3]}),
        (collection_path("hr.person"), {"cursor": cursor}),
        (collection_path("hr.org-unit", COUNCIL_B), {"cursor": cursor}),
        (path, {"cursor": cursor, "updated_since": "2000-01-01T00:00:00Z"}),
        (path, {"cursor": feed_cursor}),
    ]
    def made_up(mode, after):  # a cursor is opaque but not signed: anyone can make one
        state = {"v": 1, "m": mode, "c": COUNCIL_A, "t": "hr.org-unit", "a": after, "w": "2026-01-01T00:00:00.000000Z"}
        return base64.urlsafe_b64encode(json.dumps(state).encode()).decode().rstrip("=")

    since = {"updated_since": "2000-01-01T00:00:00Z"}
    refused += [(path, {"cursor": made_up("changes", after), **since}) for after in (2 ** 64, -1, True, "7")]
    refused += [(path, {"cursor": made_up("list", after)}) for after in ("\ud800", 7, None)]
    for where, params in refused:
        problem_of(await client.get(where, headers=auth, params=params), 400)
    assert (await client.get(path, headers=auth, params={"cursor": cursor})).status_code == 200


# --- bulk import and export ---------------------------------------------------------------------

async def test_bulk_import_stores_the_valid_lines_and_acknowledges_every_line(client, tokens):
    """PS-API-013: the valid lines are stored; each rejected line is acknowledged with its reason."""
    valid = synthetic(COUNCIL_A)
    bad_ni = invalid_example("PS-ID-001--ni-number-q-prefix.json")
    bad_ni["data"]["id"] = bad_ni["subject"] = "E07000991-p09999"
    warned = dict(example("hr.org-unit.json"), schemaversion="1.1.0")
    warned["data"] = dict(warned["data"], id="E07000991-ou-extra")
    warned["subject"] = "E07000991-ou-extra"
    lines = [valid[0], "", "not json", valid[1], "[1, 2]", bad_ni, "   ", warned, *valid[2:]]
    acks, summary = await import_messages(client, tokens.a, lines)
    assert summary == {"lines": len(lines) - 2, "accepted": len(valid) + 1, "rejected": 3}
    assert [a["line"] for a in acks] == [1, 3, 4, 5, 6, *range(8, len(lines) + 1)]
    by_line = {a["line"]: a for a in acks}
    assert by_line[3]["status"] == "rejected" and by_line[3]["errors"][0]["requirement"] == "PS-ENV-001"
    assert by_line[5]["errors"][0]["requirement"] == "PS-ENV-001" and by_line[5]["errors"][0]["reason"]
    rejected_ni = by_line[6]
    assert rejected_ni["status"] == "rejected" and rejected_ni["type"] == "hr.person"
    assert rejected_ni["id"] == "E07000991-p09999" and rejected_ni["message_id"] == bad_ni["id"]
    assert [(e["requirement"], e["pointer"]) for e in rejected_ni["errors"]] == [("PS-ID-001", "/data/ni_number")]
    assert bad_ni["data"]["ni_number"] not in json.dumps(acks)
    assert by_line[8]["status"] == "accepted" and by_line[8]["warnings"][0]["requirement"] == "PS-ENV-011"
    assert all(a["change"] == "created" and a["status"] == "accepted" and "errors" not in a
               for a in acks if a["line"] not in (3, 5, 6))
    assert by_line[1] == {"line": 1, "status": "accepted", "type": type_of(valid[0]), "id": record_id(valid[0]),
                          "message_id": valid[0]["id"], "change": "created"}
    stored = await export(client, tokens.a)
    assert canonical_set(stored) == canonical_set([*valid, warned])

    again, summary = await import_messages(client, tokens.a, lines)  # a rerun duplicates nothing
    assert summary == {"lines": len(lines) - 2, "accepted": len(valid) + 1, "rejected": 3}
    assert {a["change"] for a in again if a["status"] == "accepted"} == {"unchanged"}
    assert await export(client, tokens.a) == stored


async def test_an_import_applies_delete_messages_and_reports_each_change(client, tokens):
    message = person()
    tombstone = dict(example("hr.person--delete.json"), subject=record_id(message))
    acks, _ = await import_messages(client, tokens.a, [message, revised(message)])
    assert [a["change"] for a in acks] == ["created", "updated"]
    acks, _ = await import_messages(client, tokens.a, [tombstone])
    assert acks[0]["change"] == "deleted" and acks[0]["id"] == record_id(message)
    problem_of(await client.get(item_path(message), headers=bearer(tokens.a)), 404)
    feed, _ = await list_all(client, tokens.a, "hr.person", 10, updated_since="2000-01-01T00:00:00Z")
    assert feed == [tombstone]  # the tombstone is the message as sent
    acks, _ = await import_messages(client, tokens.a, [tombstone])
    assert acks[0]["change"] == "unchanged"


async def test_an_over_long_line_is_rejected_and_the_import_goes_on(client, tokens):
    message, other = synthetic(COUNCIL_A)[:2]
    long_line = json.dumps(dict(message, padding="x" * (MiB + 10)))

    async def chunks():  # lines split across small and large chunks, no Content-Length
        body = ndjson([message, long_line, other])
        for size in (5, 70_000, 3, 1_000_000, 17):
            yield body[:size]
            body = body[size:]
        yield body

    response = await client.post(f"/v1/councils/{COUNCIL_A}/import", content=chunks(),
                                 headers={**bearer(tokens.a), **NDJSON})
    *acks, summary = read_ndjson(response.content)
    assert [a["status"] for a in acks] == ["accepted", "rejected", "accepted"]
    assert acks[1]["line"] == 2 and acks[1]["errors"][0]["requirement"] == "PS-ENV-002"
    assert "skipped" in acks[1]["errors"][0]["reason"]
    assert summary == {"summary": {"lines": 3, "accepted": 2, "rejected": 1}}
    assert canonical_set(await export(client, tokens.a)) == canonical_set([message, other])


async def test_import_limits(make_client, store, tokens):
    client = await make_client(make_app(store, limits={"max_import_bytes": 4000}))
    path, auth = f"/v1/councils/{COUNCIL_A}/import", bearer(tokens.a)
    body = ndjson(synthetic(COUNCIL_A))
    assert len(body) > 4000
    problem_of(await client.post(path, content=body, headers={**auth, "Content-Type": "application/json"}), 415)
    problem_of(await client.post(path, content=body, headers=auth), 415)
    problem_of(await client.post(path, content=body, headers={**auth, **NDJSON}), 413)

    async def chunks():
        for start in range(0, len(body), 1000):
            yield body[start:start + 1000]

    body = problem_of(await client.post(path, content=chunks(), headers={**auth, **NDJSON}), 413)
    assert body["requirement"] == "PS-API-016" and "4,000" in body["detail"]


async def test_an_import_refused_as_too_large_has_stored_nothing(make_client, store, tokens, monkeypatch):
    """Without a Content-Length the size is known only at the end: no batch is stored before then."""
    monkeypatch.setattr(app_module, "IMPORT_BATCH", 1)  # a batch per line: any line read early would be stored
    client = await make_client(make_app(store, limits={"max_import_bytes": 4000}))
    messages = synthetic(COUNCIL_A)
    body = ndjson(messages)
    assert len(ndjson(messages[:2])) < 4000 < len(body)

    async def chunks():
        for start in range(0, len(body), 500):
            yield body[start:start + 500]

    problem_of(await client.post(f"/v1/councils/{COUNCIL_A}/import", content=chunks(),
                                 headers={**bearer(tokens.a), **NDJSON}), 413)
    assert await export(client, tokens.a) == []

    async def small():
        yield ndjson(messages[:2])

    acks, summary = await import_messages(client, tokens.a, [])  # an empty import is acknowledged too
    assert acks == [] and summary == {"lines": 0, "accepted": 0, "rejected": 0}
    response = await client.post(f"/v1/councils/{COUNCIL_A}/import", content=small(),
                                 headers={**bearer(tokens.a), **NDJSON})
    assert [a["change"] for a in read_ndjson(response.content)[:-1]] == ["created", "created"]


async def test_export_is_the_exit_route_to_another_server(make_client, client, tokens, tmp_path):
    """PS-API-014: export, then import elsewhere, gives the same records after canonicalisation."""
    many = synthetic(COUNCIL_A, seed=5, sizes=Sizes(employees=10, dwellings=10, hereditaments=2))
    deleted = many[3]
    await import_messages(client, tokens.a, many)
    await client.delete(item_path(deleted), headers=bearer(tokens.a))
    exported = await export(client, tokens.a)
    assert canonical_set(exported) == canonical_set(m for m in many if m is not deleted)
    keys = [(type_of(m), record_id(m)) for m in exported]
    assert keys == sorted(keys) and len(keys) == len(set(keys))
    only = await export(client, tokens.a, type=["hr.person", "hr.org-unit"])
    assert canonical_set(only) == canonical_set(m for m in exported if type_of(m) in ("hr.person", "hr.org-unit"))
    problem_of(await client.get(f"/v1/councils/{COUNCIL_A}/export", headers=bearer(tokens.a),
                                params={"type": "hr.people"}), 400)

    other = open_store(tmp_path / "other.db")
    token = create_token(other, [COUNCIL_A])
    successor = await make_client(make_app(other))
    acks, summary = await import_messages(successor, token, exported)
    assert summary["rejected"] == 0 and {a["change"] for a in acks} == {"created"}
    assert await export(successor, token) == exported
    other.close()


# --- framework errors and read-only mode --------------------------------------------------------

async def test_unknown_paths_and_methods_are_problems(client, tokens):
    for path in ("/", "/v1", "/v1/nothing", "/v1/councils/E07000991/hr/people", "/v1/health/",
                 "/v1/councils/E07000991/hr/person/a/b"):
        body = problem_of(await client.get(path, headers=bearer(tokens.a)), 404)
        assert body["type"] == "https://plugshare.uk/problems/not-found"
    patched = await client.patch(item_path(person()), headers=bearer(tokens.a))
    assert patched.headers["allow"] == "GET, HEAD, PUT, DELETE"  # in one order, whatever the framework's set
    for method, path, allow in [("PATCH", item_path(person()), {"GET", "PUT", "DELETE", "HEAD"}),
                                ("POST", collection_path("hr.person"), {"GET", "HEAD"}),
                                ("DELETE", "/v1/capabilities", {"GET", "HEAD"}),
                                ("GET", f"/v1/councils/{COUNCIL_A}/import", {"POST"})]:
        response = await client.request(method, path, headers=bearer(tokens.a))
        problem_of(response, 405)
        assert {m.strip() for m in response.headers["allow"].split(",")} == allow


async def test_a_read_only_gateway_refuses_writes_and_serves_reads(make_client, store, tokens):
    messages = synthetic(COUNCIL_A)
    store.load(messages)
    client = await make_client(make_app(store, read_only=True))
    capabilities = (await client.get("/v1/capabilities")).json()
    assert capabilities == {**reference_capabilities(read_only=True), "limits": capabilities["limits"]}
    assert capabilities["read_only"] is True and capabilities["features"] == ["change-feed", "bulk-export"]
    assert all(t["operations"] == ["list", "get", "changes"] for t in capabilities["message_types"])
    message, auth = person(), bearer(tokens.a)
    for response in (await client.put(item_path(message), json=message, headers=auth),
                     await client.delete(item_path(message), headers=auth),
                     await client.post(f"/v1/councils/{COUNCIL_A}/import", content=ndjson([message]),
                                       headers={**auth, **NDJSON})):
        body = problem_of(response, 405)
        assert body["detail"] == "this server is a read-only gateway" and "allow" in response.headers
        assert "PUT" not in response.headers["allow"] and "POST" not in response.headers["allow"]
    import_path = f"/v1/councils/{COUNCIL_A}/import"
    for method in ("GET", "POST"):  # the gateway's import path takes no method, so none is offered
        response = await client.request(method, import_path, headers={**auth, **NDJSON})
        problem_of(response, 405)
        assert response.headers["allow"] == ""
    assert (await client.get(item_path(message), headers=auth)).json() == message
    assert canonical_set(await export(client, tokens.a)) == canonical_set(messages)


async def test_an_unexpected_failure_is_a_bare_500_problem_and_is_logged(client, tokens, monkeypatch, caplog):
    def fail(self, *args, **kwargs):
        raise RuntimeError("store exploded near E07000991-p00001")

    monkeypatch.setattr(TenantStore, "get", fail)
    with caplog.at_level(logging.ERROR, logger="plugshare.api"):
        response = await client.get(item_path(person()), headers=bearer(tokens.a))
    body = problem_of(response, 500)
    assert body["type"] == "https://plugshare.uk/problems/internal-error"
    assert "exploded" not in response.text and "RuntimeError" not in response.text
    assert any("exploded" in (r.exc_text or "") or r.exc_info for r in caplog.records)


async def test_an_import_commits_in_batches_and_acknowledges_only_what_was_committed(client, tokens, many,
                                                                                    monkeypatch, caplog):
    many = many[:IMPORT_BATCH + 50]
    real = TenantStore.apply_batch
    calls = []

    def fail_second_batch(self, messages):
        calls.append(len(messages))
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(self, messages)

    monkeypatch.setattr(TenantStore, "apply_batch", fail_second_batch)
    with caplog.at_level(logging.CRITICAL, logger="plugshare.api"):
        response = await client.post(f"/v1/councils/{COUNCIL_A}/import", content=ndjson(many),
                                     headers={**bearer(tokens.a), **NDJSON})
    problem_of(response, 500)
    assert calls == [IMPORT_BATCH, len(many) - IMPORT_BATCH]
    monkeypatch.undo()
    assert canonical_set(await export(client, tokens.a)) == canonical_set(many[:IMPORT_BATCH])
    acks, summary = await import_messages(client, tokens.a, many)  # the rerun completes the load
    assert [a["change"] for a in acks] == ["unchanged"] * IMPORT_BATCH + ["created"] * (len(many) - IMPORT_BATCH)


async def test_the_lifespan_closes_the_store(tmp_path):
    store = open_store(tmp_path / "server.db")
    app = make_app(store)
    async with app.router.lifespan_context(app):
        assert not store.closed
    assert store.closed


async def test_concurrent_writes_and_reads_share_one_store_safely(make_client, file_store, many):
    """Handlers run SQLite in worker threads: many at once must neither fail, lose a write, nor share a tick."""
    token = create_token(file_store, [COUNCIL_A])
    client = await make_client(make_app(file_store))
    people = [m for m in many if type_of(m) == "hr.person"]
    statuses, listed = [], []

    async def put(message):
        statuses.append((await client.put(item_path(message), json=message, headers=bearer(token))).status_code)

    async def read():
        listed.append((await client.get(collection_path("hr.person"), headers=bearer(token))).status_code)
        listed.append((await client.get(f"/v1/councils/{COUNCIL_A}/export", headers=bearer(token))).status_code)

    async with anyio.create_task_group() as group:
        for number, message in enumerate(people):
            group.start_soon(put, message)
            if number % 3 == 0:
                group.start_soon(read)
    assert statuses == [201] * len(people) and set(listed) == {200}
    assert canonical_set(await export(client, token)) == canonical_set(people)
    rows = file_store._conn.execute("SELECT seq, changed_at FROM records").fetchall()
    assert len({seq for seq, _ in rows}) == len({at for _, at in rows}) == len(people)


async def test_a_file_store_serves_the_same_api(make_client, file_store):
    token = create_token(file_store, [COUNCIL_A])
    client = await make_client(make_app(file_store))
    messages = synthetic(COUNCIL_A)
    acks, summary = await import_messages(client, token, messages)
    assert summary == {"lines": len(messages), "accepted": len(messages), "rejected": 0}
    assert canonical_set(await export(client, token)) == canonical_set(messages)


def test_a_server_cannot_offer_pages_larger_than_the_standard_allows(store):
    """PS-API-016: the standard's ``limit`` stops at 1000, so capabilities declaring more would break it."""
    with pytest.raises(ValueError, match="max_page_size 1001"):
        make_app(store, limits={"max_page_size": 1001})
