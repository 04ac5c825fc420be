"""The reference server's storage: tenant isolation, the change clock, paging, tokens."""

import datetime as dt
import sqlite3
from itertools import pairwise

import pytest
from apikit import COUNCIL_A, COUNCIL_B, example, record_id, revised, synthetic, type_of

from plugshare.api import store as store_module
from plugshare.api import tokens as tokens_module
from plugshare.api.store import (
    SCHEMA_VERSION,
    CouncilMismatch,
    Forbidden,
    NotFound,
    PreconditionFailed,
    SchemaMismatch,
    StoreError,
    etag_of,
    format_time,
    open_store,
    parse_time,
)
from plugshare.api.tokens import (
    Credential,
    authenticate,
    create_token,
    list_tokens,
    revoke_token,
    split_token,
)
from plugshare.models.canonical import canonical_json

pytest_plugins = ["apikit"]

A = Credential("a", frozenset({COUNCIL_A}))
AB = Credential("ab", frozenset({COUNCIL_A, COUNCIL_B}))


class FrozenClock:
    """Stands in for the datetime module so that the store's wall clock reads a fixed time."""

    def __init__(self, moment: dt.datetime):
        self.moment = moment
        outer = self

        class _DateTime(dt.datetime):
            @classmethod
            def now(cls, tz=None):
                return outer.moment

        self.datetime = _DateTime
        self.timedelta = dt.timedelta
        self.UTC = dt.UTC


def person(council: str = COUNCIL_A) -> dict:
    return next(m for m in synthetic(council) if type_of(m) == "hr.person")


# --- opening ----------------------------------------------------------------------------------------

def test_a_new_store_records_its_schema_version_and_reopens_with_its_data(tmp_path):
    path = tmp_path / "nested" / "server.db"
    with open_store(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        message = person()
        store.tenant(A, COUNCIL_A).put("hr.person", record_id(message), message)
    with open_store(path) as reopened:
        record = reopened.tenant(A, COUNCIL_A).get("hr.person", record_id(message))
        assert record is not None and canonical_json(record.message) == canonical_json(message)
        assert reopened._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL: commits survive power cuts
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_store_of_another_schema_version_is_refused(tmp_path):
    path = tmp_path / "old.db"
    open_store(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(SchemaMismatch, match="version 99"):
        open_store(path)


def test_the_database_of_another_application_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "crm.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customers (name TEXT)")
    with pytest.raises(SchemaMismatch, match="not of a plugshare server"):
        open_store(path)
    with sqlite3.connect(path) as conn:
        assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master")] == ["customers"]


def test_a_closed_store_refuses_work(any_store):
    any_store.close()
    with pytest.raises(StoreError, match="closed"):
        any_store.tenant(A, COUNCIL_A).get("hr.person", "E07000991-p00001")
    any_store.close()  # closing twice is harmless


# --- the change clock -------------------------------------------------------------------------------

def test_change_times_and_sequence_strictly_increase_even_when_the_wall_clock_stalls(any_store, monkeypatch):
    clock = FrozenClock(dt.datetime(2026, 11, 29, 10, 0, tzinfo=dt.UTC))
    monkeypatch.setattr(store_module, "dt", clock)
    tenant = any_store.tenant(AB, COUNCIL_A)
    messages = synthetic(COUNCIL_A)
    for message in messages:
        tenant.apply_batch([message])
    clock.moment -= dt.timedelta(hours=1)  # the clock steps back
    other = any_store.tenant(AB, COUNCIL_B)
    other.apply_batch(synthetic(COUNCIL_B)[:5])
    rows = any_store._conn.execute("SELECT seq, changed_at FROM records ORDER BY seq").fetchall()
    assert len(rows) == len(messages) + 5
    times = [parse_time(changed_at) for _, changed_at in rows]
    assert all(later > earlier for earlier, later in pairwise(times))
    assert [seq for seq, _ in rows] == sorted({seq for seq, _ in rows})
    assert rows[0][1] == "2026-11-29T10:00:00.000000Z"
    assert all(len(changed_at) == 27 and changed_at.endswith("Z") for _, changed_at in rows)


def test_change_times_always_have_four_digit_years_so_that_they_sort_as_text():
    early = format_time(dt.datetime(999, 1, 1, tzinfo=dt.UTC))
    assert early == "0999-01-01T00:00:00.000000Z" and early < "2026-01-01T00:00:00.000000Z"
    offset = dt.timezone(dt.timedelta(hours=1))
    assert format_time(dt.datetime(2026, 11, 29, 10, 0, 0, 5, tzinfo=offset)) == "2026-11-29T09:00:00.000005Z"
    assert parse_time(early) == dt.datetime(999, 1, 1, tzinfo=dt.UTC)


def test_two_processes_writing_one_file_tick_in_commit_order(tmp_path, monkeypatch):
    """A second server (or a second Store) on the same file must not reuse the first one's ticks."""
    clock = FrozenClock(dt.datetime(2026, 11, 29, 10, 0, tzinfo=dt.UTC))
    monkeypatch.setattr(store_module, "dt", clock)
    path = tmp_path / "shared.db"
    first, second = open_store(path), open_store(path)
    try:
        messages = [m for m in synthetic(COUNCIL_A) if type_of(m) == "hr.org-unit"]
        since = first.snapshot_time()
        for number, message in enumerate(messages):
            (first if number % 2 == 0 else second).tenant(A, COUNCIL_A).apply_batch([message])
        rows = first._conn.execute("SELECT id, seq, changed_at FROM records ORDER BY seq").fetchall()
        assert [r[0] for r in rows] == [record_id(m) for m in messages]  # seq follows commit order
        assert all(b[1] > a[1] and b[2] > a[2] for a, b in pairwise(rows))
        feed, after = [], None
        while page := first.tenant(A, COUNCIL_A).changes("hr.org-unit", since, 2, after):
            feed += [r.id for r in page]
            after = page[-1].seq
        assert feed == [record_id(m) for m in messages]  # a feed paged by seq misses none of them
    finally:
        first.close()
        second.close()


def test_the_clock_carries_on_after_reopening(tmp_path, monkeypatch):
    clock = FrozenClock(dt.datetime(2026, 11, 29, 10, 0, tzinfo=dt.UTC))
    monkeypatch.setattr(store_module, "dt", clock)
    path = tmp_path / "server.db"
    message = person()
    with open_store(path) as store:
        store.tenant(A, COUNCIL_A).put("hr.person", record_id(message), message)
        first = store.tenant(A, COUNCIL_A).get("hr.person", record_id(message))
    clock.moment -= dt.timedelta(days=1)
    with open_store(path) as store:
        store.tenant(A, COUNCIL_A).put("hr.person", record_id(message), revised(message))
        second = store.tenant(A, COUNCIL_A).get("hr.person", record_id(message))
    assert second.seq > first.seq and second.changed_at > first.changed_at


def test_a_snapshot_time_precedes_every_later_change(store, monkeypatch):
    clock = FrozenClock(dt.datetime(2026, 11, 29, 10, 0, tzinfo=dt.UTC))
    monkeypatch.setattr(store_module, "dt", clock)
    snapshot = store.snapshot_time()
    message = person()
    store.tenant(A, COUNCIL_A).put("hr.person", record_id(message), message)  # in the same microsecond
    assert [r.id for r in store.tenant(A, COUNCIL_A).changes("hr.person", snapshot, 10)] == [record_id(message)]


# --- tenancy ----------------------------------------------------------------------------------------

def test_a_credential_gets_no_view_of_a_council_it_is_not_bound_to(store):
    with pytest.raises(Forbidden) as refused:
        store.tenant(A, COUNCIL_B)
    assert refused.value.requirement == "PS-API-003"
    assert store.tenant(AB, COUNCIL_B).council == COUNCIL_B


def test_a_council_view_refuses_to_write_another_councils_message(store):
    tenant = store.tenant(AB, COUNCIL_A)
    theirs = person(COUNCIL_B)
    with pytest.raises(CouncilMismatch, match="PS-API-008"):
        tenant.put("hr.person", record_id(theirs), theirs)
    ours = person(COUNCIL_A)
    with pytest.raises(CouncilMismatch, match="PS-API-008"):
        tenant.apply_batch([ours, theirs])
    tombstone = dict(example("hr.person--delete.json"), council=COUNCIL_B)
    with pytest.raises(CouncilMismatch):
        tenant.delete("hr.person", tombstone["subject"], tombstone=tombstone)
    assert store._conn.execute("SELECT COUNT(*) FROM records").fetchone()[0] == 0


def test_every_query_of_a_view_sees_only_its_council(store):
    counts = store.load(synthetic())
    assert counts == {"created": len(synthetic())}
    ours, theirs = synthetic(COUNCIL_A), synthetic(COUNCIL_B)
    view = store.tenant(AB, COUNCIL_A)
    assert canonical_set_of(view.export()) == {canonical_json(m) for m in ours}
    for message_type in {type_of(m) for m in ours}:
        listed = view.page(message_type, 1000)
        changed = view.changes(message_type, "2000-01-01T00:00:00.000000Z", 1000)
        expected = sorted(record_id(m) for m in ours if type_of(m) == message_type)
        assert [r.id for r in listed] == expected
        assert sorted(r.id for r in changed) == expected
    for message in theirs:
        assert view.get(type_of(message), record_id(message)) is None
        with pytest.raises(NotFound):
            view.delete(type_of(message), record_id(message))
    theirs_person = next(m for m in theirs if type_of(m) == "hr.person")
    assert store.tenant(AB, COUNCIL_B).get("hr.person", record_id(theirs_person)) is not None


def canonical_set_of(messages):
    return {canonical_json(m) for m in messages}


def test_mirror_makes_the_current_records_of_its_types_exactly_the_messages_given(store):
    """A gateway's refresh: records of its types gone from the source get tombstones, in any council."""
    everything = synthetic()
    store.load(everything)
    types = ("hr.person", "hr.org-unit")
    mirrored = [m for m in everything if type_of(m) in types]
    kept = mirrored[::2]
    before = store.snapshot_time()
    counts = store.mirror(kept, types, batch_size=2)  # several keyset batches of the sweep
    gone = mirrored[1::2]
    assert counts == {"unchanged": len(kept), "deleted": len(gone)}
    councils = {m["council"] for m in everything}
    every_council = Credential("all", frozenset(councils))
    assert len(councils) == 3 and {m["council"] for m in gone} == councils
    for council in councils:
        view = store.tenant(every_council, council)
        for message_type in types:
            changed = view.changes(message_type, before, 1000)
            expected = {record_id(m) for m in gone if m["council"] == council and type_of(m) == message_type}
            assert {r.id for r in changed} == expected and all(r.deleted for r in changed)
            for record in changed:
                made = record.message
                assert made["source"] == f"urn:plugshare:{council}:gateway" and made["time"] == record.changed_at
                assert made["council"] == council and made["subject"] == record.id and "data" not in made
    others = [m for m in everything if type_of(m) not in types]
    assert all(store.tenant(every_council, m["council"]).get(type_of(m), record_id(m)) for m in others)
    assert store._conn.execute("SELECT COUNT(*) FROM temp.mirror_seen").fetchone()[0] == 0
    assert store.mirror(kept, types) == {"unchanged": len(kept)}  # the same source again changes nothing


def test_a_mirror_whose_source_fails_deletes_nothing(store):
    messages = [m for m in synthetic(COUNCIL_A) if type_of(m) == "hr.org-unit"]
    store.load(messages)

    def breaks_off():
        yield messages[0]
        raise OSError("the export share went away")

    with pytest.raises(OSError):
        store.mirror(breaks_off(), ["hr.org-unit"])
    assert [r.id for r in store.tenant(A, COUNCIL_A).page("hr.org-unit", 100)] == sorted(map(record_id, messages))


# --- writing ----------------------------------------------------------------------------------------

def test_put_is_idempotent_and_reports_what_it_changed(store):
    tenant = store.tenant(A, COUNCIL_A)
    message = person()
    key = ("hr.person", record_id(message))
    change, etag, stored = tenant.put(*key, message)
    assert (change, etag, stored) == ("created", etag_of(message), message)
    assert etag.startswith('"') and etag.endswith('"') and len(etag) == 34
    seq = tenant.get(*key).seq
    assert tenant.put(*key, message) == ("unchanged", etag, message)
    assert tenant.get(*key).seq == seq
    change, new_etag, _ = tenant.put(*key, revised(message))
    assert change == "updated" and new_etag != etag and tenant.get(*key).seq > seq
    assert store._conn.execute("SELECT COUNT(*) FROM records").fetchone()[0] == 1


def test_conditional_writes(store):
    tenant = store.tenant(A, COUNCIL_A)
    message = person()
    key = ("hr.person", record_id(message))
    with pytest.raises(PreconditionFailed):
        tenant.put(*key, message, if_match=["*"])
    _, etag, _ = tenant.put(*key, message, if_none_match=True)
    with pytest.raises(PreconditionFailed):
        tenant.put(*key, revised(message), if_none_match=True)
    with pytest.raises(PreconditionFailed):
        tenant.put(*key, revised(message), if_match=['"0000"'])
    with pytest.raises(PreconditionFailed):
        tenant.delete(*key, if_match=['"0000"'])
    with pytest.raises(PreconditionFailed):
        tenant.put(*key, revised(message), if_none_match=['"0000"', etag])
    change, etag2, _ = tenant.put(*key, revised(message), if_match=[etag], if_none_match=['"0000"'])
    assert change == "updated"
    tenant.delete(*key, if_match=[etag2])
    with pytest.raises(PreconditionFailed):  # a deleted record matches no ETag
        tenant.put(*key, message, if_match="*")


def test_delete_stores_a_tombstone_and_a_later_put_creates_again(store):
    tenant = store.tenant(A, COUNCIL_A)
    message = person()
    key = ("hr.person", record_id(message))
    tenant.put(*key, message)
    tombstone = tenant.delete(*key)
    assert tombstone.deleted
    made = tombstone.message
    assert made["action"] == "delete" and made["subject"] == key[1] and made["council"] == COUNCIL_A
    assert made["type"] == "uk.plugshare.hr.person" and made["time"] == tombstone.changed_at
    assert made["source"] == f"urn:plugshare:{COUNCIL_A}:api" and "data" not in made
    assert tenant.get(*key) is None and tenant.get(*key, include_deleted=True) == tombstone
    with pytest.raises(NotFound):
        tenant.delete(*key)
    assert tenant.put(*key, message)[0] == "created"


def test_apply_batch_upserts_and_deletes_in_order_and_a_rerun_changes_nothing(store):
    tenant = store.tenant(A, COUNCIL_A)
    messages = synthetic(COUNCIL_A)
    assert tenant.apply_batch(messages) == ["created"] * len(messages)
    first = messages[0]
    delete = {**example("hr.person--delete.json"), "subject": record_id(first), "type": first["type"]}
    batch = [delete, revised(messages[1]), *messages[2:]]
    assert tenant.apply_batch(batch) == ["deleted", "updated"] + ["unchanged"] * (len(messages) - 2)
    assert tenant.apply_batch(batch) == ["unchanged"] * len(batch)
    assert tenant.get(type_of(first), record_id(first)) is None
    assert tenant.apply_batch([first, delete]) == ["created", "deleted"]  # in order, within one batch
    never_seen = {**delete, "subject": "E07000991-p99999", "type": "uk.plugshare.hr.person"}
    assert tenant.apply_batch([never_seen]) == ["deleted"]
    assert store._conn.execute("SELECT COUNT(*) FROM records").fetchone()[0] == len(messages) + 1


# --- reading ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("page_size", [1, 2, 3, 7, 1000])
def test_keyset_pages_return_every_current_record_exactly_once(store, page_size):
    messages = [m for m in synthetic(COUNCIL_A) if type_of(m) == "hr.org-unit"]
    tenant = store.tenant(A, COUNCIL_A)
    tenant.apply_batch(messages)
    tenant.delete("hr.org-unit", record_id(messages[3]))
    seen, after = [], None
    while page := tenant.page("hr.org-unit", page_size, after):
        assert len(page) <= page_size
        seen += [r.id for r in page]
        after = page[-1].id
    expected = sorted(record_id(m) for m in messages if m is not messages[3])
    assert seen == expected


def test_changes_come_oldest_first_with_tombstones_after_a_point(store):
    tenant = store.tenant(A, COUNCIL_A)
    messages = [m for m in synthetic(COUNCIL_A) if type_of(m) == "hr.org-unit"]
    tenant.apply_batch(messages[:4])
    point = tenant.get("hr.org-unit", record_id(messages[3])).changed_at
    tenant.apply_batch(messages[4:6])
    tenant.delete("hr.org-unit", record_id(messages[0]))
    changes = tenant.changes("hr.org-unit", point, 100)
    assert [r.id for r in changes] == [record_id(m) for m in (messages[4], messages[5], messages[0])]
    assert [r.deleted for r in changes] == [False, False, True]
    assert changes[-1].message["action"] == "delete"
    first_two = tenant.changes("hr.org-unit", point, 2)
    rest = tenant.changes("hr.org-unit", point, 2, after_seq=first_two[-1].seq)
    assert [r.id for r in first_two + rest] == [r.id for r in changes]
    assert tenant.changes("hr.org-unit", changes[-1].changed_at, 10) == []


def test_export_pages_by_type_then_id_and_leaves_out_deleted_records(store):
    tenant = store.tenant(A, COUNCIL_A)
    messages = synthetic(COUNCIL_A)
    tenant.apply_batch(messages)
    gone = messages[0]
    tenant.delete(type_of(gone), record_id(gone))
    pages = list(tenant.export_pages(page_size=4))
    assert all(0 < len(page) <= 4 for page in pages)
    exported = [m for m in tenant.export()]
    keys = [(type_of(m), record_id(m)) for m in exported]
    assert keys == sorted(keys)
    assert canonical_set_of(exported) == {canonical_json(m) for m in messages if m is not gone}
    only = list(tenant.export(["hr.person", "payroll.payslip"]))
    assert {type_of(m) for m in only} == {"hr.person", "payroll.payslip"}


# --- tokens -----------------------------------------------------------------------------------------

def test_a_token_authenticates_as_its_councils_until_revoked(store):
    token = create_token(store, [COUNCIL_B, COUNCIL_A, COUNCIL_A], label="shared service")
    assert token.startswith("psk_") and len(token) == 60
    token_id, secret = split_token(token)
    credential = authenticate(store, token)
    assert credential == Credential(token_id, frozenset({COUNCIL_A, COUNCIL_B}), "shared service")
    [listed] = list_tokens(store)
    assert listed.token_id == token_id and listed.councils == (COUNCIL_A, COUNCIL_B) and listed.active()
    assert secret not in repr(listed)
    assert revoke_token(store, token_id) is True
    assert revoke_token(store, token_id) is False
    assert authenticate(store, token) is None
    assert not list_tokens(store)[0].active()


def test_unknown_malformed_tampered_and_expired_tokens_fail(store):
    token = create_token(store, [COUNCIL_A])
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    other_id = "psk_" + "x" * 12 + token[16:]
    for bad in (None, "", "psk_short", tampered, other_id, token + "x", token.replace("psk_", "pat_")):
        assert authenticate(store, bad) is None
    past = create_token(store, [COUNCIL_A], expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    future = create_token(store, [COUNCIL_A], expires_at="2999-01-01T00:00:00Z")
    assert authenticate(store, past) is None
    assert authenticate(store, future) is not None
    assert revoke_token(store, future) is True  # the whole token names its id too
    assert authenticate(store, future) is None


@pytest.mark.parametrize("councils", [[], ["E12000001"], ["not a council"], ["e07000991"]])
def test_a_token_is_bound_only_to_councils(store, councils):
    with pytest.raises(ValueError):
        create_token(store, councils)


def test_an_unknown_token_id_is_hashed_and_compared_like_a_known_one(store, monkeypatch):
    """The time a refusal takes must not tell an attacker which token ids exist."""
    compared = []
    real = tokens_module.hmac.compare_digest

    def recording(a, b):
        compared.append((len(a), len(b)))
        return real(a, b)

    monkeypatch.setattr(tokens_module.hmac, "compare_digest", recording)
    token = create_token(store, [COUNCIL_A])
    unknown = "psk_" + "x" * 12 + token[16:]
    assert authenticate(store, unknown) is None
    assert authenticate(store, token) is not None
    assert compared == [(64, 64), (64, 64)]


def test_an_expiry_without_a_time_zone_is_refused(store):
    with pytest.raises(ValueError, match="time zone"):
        create_token(store, [COUNCIL_A], expires_at=dt.datetime(2030, 1, 1))


def test_tokens_are_stored_hashed_the_secret_is_nowhere_in_the_database(tmp_path):
    path = tmp_path / "server.db"
    with open_store(path) as store:
        tokens = [create_token(store, [COUNCIL_A], label=f"token {n}") for n in range(3)]
        revoke_token(store, split_token(tokens[0])[0])
        store.load(synthetic(COUNCIL_A))
    files = [p for p in tmp_path.iterdir() if p.name.startswith("server.db")]
    contents = b"".join(p.read_bytes() for p in files)
    assert split_token(tokens[1])[0].encode() in contents  # the ids are there: the search can find things
    for token in tokens:
        _, secret = split_token(token)
        assert secret.encode() not in contents and token.encode() not in contents
