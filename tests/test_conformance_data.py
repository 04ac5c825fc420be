"""The conformance corpus, the data checks on records a target returns, and the adapter target.

The corpus is generated and committed: a test fails when the committed copy differs from what
``write_corpus`` makes, when a corpus message is invalid, or when an invalid line no longer breaks its
requirement. Every built-in adapter is run through the checks of the profiles it certifies for. Adapters
made here are defective in one way each (a value lost or altered silently, a record dropped or invented, a
code mis-mapped, money a penny out, a date lost, a value invented) and must fail the check meant to catch
it and no other; correct ones that differ only where the standard allows must pass every check.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import types
from decimal import Decimal
from typing import Any

import pytest

from plugshare.adapters.contract import Adapter, AdapterError, Converted, Position, Rejected
from plugshare.client import ApiError
from plugshare.conformance import corpus as corpus_module
from plugshare.conformance.adapter_target import (
    ABSENT,
    changes,
    derived_profiles,
    differences,
    exp_completeness,
    exp_fidelity,
    open_adapter_context,
    shown,
)
from plugshare.conformance.checks import adapter as adapter_checks
from plugshare.conformance.checks import all_checks
from plugshare.conformance.checks import data as data_checks
from plugshare.conformance.context import ApiContext
from plugshare.conformance.corpus import load, rewrite_council, write_corpus
from plugshare.conformance.model import CheckNotApplicable, CheckSkipped, Verdict
from plugshare.conformance.profiles import choose
from plugshare.conformance.runner import run_one
from plugshare.hookspecs import hookimpl
from plugshare.models import MESSAGE_TYPES
from plugshare.plugins import make_host
from plugshare.standard.paths import spec_dir
from plugshare.validation.reader import read_stream
from plugshare.validation.validator import MessageValidator, validate_entries

COMMITTED = corpus_module.corpus_dir()
CHECKS = {c.id: c for c in (*data_checks.CHECKS, *adapter_checks.CHECKS)}
BUILTIN_ADAPTERS = ("bacs18", "ctax-fixed", "hr-csv", "hr-rest", "rti-fps", "voa-list")


def must_requirements(lines: list[str]) -> set[str]:
    data = "".join(line + "\n" for line in lines).encode("utf-8")
    entries = read_stream(io.BytesIO(data), "test", kind="ndjson")
    return {p.requirement for r in validate_entries(entries) for p in r.problems if p.level == "MUST"}


# --- the corpus ------------------------------------------------------------------------------------------


def test_committed_corpus_is_what_write_corpus_makes(tmp_path):
    expected = write_corpus(tmp_path)
    made = sorted(p.name for p in tmp_path.iterdir())
    assert sorted(p.name for p in COMMITTED.iterdir()) == made
    stale = [name for name in made if (COMMITTED / name).read_bytes() != (tmp_path / name).read_bytes()]
    assert not stale, (f"conformance/corpus is stale ({', '.join(stale)}): run "
                       "'plugshare conformance corpus --out conformance/corpus' and commit it")
    assert json.loads((COMMITTED / "expected.json").read_text()) == expected


def test_the_same_seed_gives_the_same_bytes_and_another_seed_other_data(tmp_path):
    first, second, other = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    write_corpus(first, seed=7, employees=2)
    write_corpus(second, seed=7, employees=2)
    made = write_corpus(other, seed=8, employees=2)
    for name in ("corpus.ndjson", "invalid.ndjson", "expected.json"):
        assert (first / name).read_bytes() == (second / name).read_bytes()
    assert (first / "corpus.ndjson").read_bytes() != (other / "corpus.ndjson").read_bytes()
    assert made["seed"] == 8 and made["sizes"]["employees"] == 2


def test_the_corpus_bytes_do_not_depend_on_the_process(tmp_path):
    """Made in two processes with different string hashing, the bytes are the same as made here."""
    write_corpus(tmp_path / "here", seed=11, employees=2)
    script = "import sys; from plugshare.conformance.corpus import write_corpus; write_corpus(sys.argv[1], 11, 2)"
    for hash_seed in ("1", "2"):
        out = tmp_path / f"hash-{hash_seed}"
        subprocess.run([sys.executable, "-c", script, str(out)], check=True,
                       env={**os.environ, "PYTHONHASHSEED": hash_seed})
        for name in ("corpus.ndjson", "invalid.ndjson", "expected.json"):
            assert (out / name).read_bytes() == (tmp_path / "here" / name).read_bytes(), (hash_seed, name)


def test_corpus_is_small_and_covers_every_type_for_three_councils():
    size = sum(p.stat().st_size for p in COMMITTED.iterdir())
    assert size < 600_000, f"the committed corpus is {size:,} bytes; keep it well under 1 MB"
    corpus = load()
    assert len(corpus.councils) == 3
    for council in corpus.councils:
        assert set(corpus.counts()[council]) == set(MESSAGE_TYPES), council
        assert all(n > 0 for n in corpus.counts()[council].values())
    assert corpus.verify() == []


def test_verify_notices_a_changed_message(tmp_path):
    shutil.copytree(COMMITTED, tmp_path / "corpus")
    path = tmp_path / "corpus" / "corpus.ndjson"
    lines = path.read_text().splitlines()
    message = json.loads(lines[3])
    message["data"]["name"] = "Renamed"
    lines[3] = json.dumps(message)
    path.write_text("\n".join(lines) + "\n")
    problems = load(tmp_path / "corpus").verify()
    assert any("differ from their digest" in p and message["council"] in p for p in problems)


def test_a_line_separator_inside_a_string_does_not_split_an_invalid_line(tmp_path):
    shutil.copytree(COMMITTED, tmp_path / "corpus")
    path = tmp_path / "corpus" / "invalid.ndjson"
    lines = path.read_text(encoding="utf-8").split("\n")
    number = next(i for i, line in enumerate(lines) if line.startswith("{"))
    message = json.loads(lines[number])
    message["data"]["note"] = "line\u2028separator\u0085next"
    lines[number] = json.dumps(message, ensure_ascii=False)
    path.write_text("\n".join(lines), encoding="utf-8")
    read = load(tmp_path / "corpus").invalid_lines()
    assert len(read) == len(load().invalid_lines())
    assert read[number].message["data"]["note"] == "line\u2028separator\u0085next"


def test_employees_scale_the_corpus_for_benchmarks(tmp_path):
    made = write_corpus(tmp_path, employees=20)
    for council, counts in made["counts"].items():
        assert counts["hr.person"] == 20 and counts["payroll.payslip"] == 20, council
    assert made["sizes"] == {"employees": 20, "dwellings": 20, "hereditaments": 10}


def test_every_corpus_message_is_valid():
    corpus = load()
    lines = [json.dumps(m) for m in corpus.messages()]
    data = "".join(line + "\n" for line in lines).encode("utf-8")
    reports = list(validate_entries(read_stream(io.BytesIO(data), "corpus", kind="ndjson")))
    problems = [(r.location.line, p.requirement, p.pointer) for r in reports for p in r.problems]
    assert len([r for r in reports if not r.late]) == len(lines) > 200
    assert not problems


def test_messages_filter_by_council_and_type():
    corpus = load()
    persons = list(corpus.messages("E07000992", ["hr.person"]))
    assert len(persons) == corpus.counts()["E07000992"]["hr.person"]
    assert {(m["council"], m["type"]) for m in persons} == {("E07000992", "uk.plugshare.hr.person")}


def test_each_invalid_line_breaks_its_requirement():
    lines = load().invalid_lines()
    alone = [line for line in lines if line.alone]
    assert len(alone) > 50
    for line in alone:
        assert line.requirement in must_requirements([line.text]), (line.example, line.line)
    groups: dict[str, list[str]] = {}
    for line in lines:
        groups.setdefault(line.example, []).append(line.text)
    for example, texts in groups.items():
        requirement = example.split("--")[0]
        assert requirement in must_requirements(texts), example
    together = [line for line in lines if not line.alone]
    assert {line.requirement for line in together} == {"PS-HR-006", "PS-PAY-016"}


def test_invalid_lines_cover_every_example_but_those_left_out_with_a_reason():
    corpus = load()
    examples = {p.name for p in (spec_dir() / "examples" / "invalid").iterdir()}
    covered = {line.example for line in corpus.invalid_lines()}
    left_out = {entry["example"]: entry["reason"] for entry in corpus.expected["left_out"]}
    assert covered | set(left_out) == examples and not covered & set(left_out)
    assert set(left_out) == {"PS-ENV-002--over-1-mib.ndjson"} and all(left_out.values())


def test_invalid_messages_are_written_for_the_primary_council_unless_the_council_is_broken():
    corpus = load()
    for message, requirement in corpus.invalid():
        if isinstance(message, dict) and requirement != "PS-ENV-009":
            assert message["council"] == "E07000991", requirement
    texts = [m for m, r in corpus.invalid() if isinstance(m, str)]
    assert [r for m, r in corpus.invalid() if isinstance(m, str)] == ["PS-ENV-001"] and texts


def test_invalid_moved_to_another_council_still_breaks_its_requirement():
    moved = load().invalid("E07000993")
    validator = MessageValidator()
    for message, requirement in moved:
        if not isinstance(message, dict) or requirement in ("PS-HR-006", "PS-PAY-016"):
            continue
        if requirement != "PS-ENV-009":
            assert message["council"] == "E07000993"
            assert "E07000991" not in json.dumps(message), requirement
        _, problems = validator.check(message)
        assert requirement in {p.requirement for p in problems if p.level == "MUST"}, requirement


def test_rewrite_council_moves_ids_sources_and_namespaces():
    message = next(m for m in load().messages("E07000991", ["hr.employment"]))
    moved = rewrite_council(message, "E07000992")
    assert moved["council"] == "E07000992" and moved["source"].startswith("urn:plugshare:E07000992:")
    assert moved["data"]["id"].startswith("E07000992-") and "gov.uk.e07000992" in moved["data"]["extensions"]
    assert message["council"] == "E07000991", "the original is not changed"


# --- built-in adapters -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def host():
    return make_host(load_entry_points=False)


def adapter_context(host, key, profiles=None):
    cls = host.adapter(key)
    return open_adapter_context(key, {}, profiles=choose(profiles or derived_profiles(cls), "adapter"), host=host)


def test_derived_profiles(host):
    assert derived_profiles(host.adapter("hr-csv")) == ("hr-core", "portability")
    assert derived_profiles(host.adapter("hr-rest")) == ("hr-core",), "a read-only adapter has no round trip"
    assert derived_profiles(host.adapter("rti-fps")) == ("hr-core", "payroll-core", "portability")
    assert derived_profiles(host.adapter("bacs18")) == ("payroll-core",), "declared: a payment file is no round trip"


@pytest.mark.parametrize("key", BUILTIN_ADAPTERS)
def test_builtin_adapter_passes_the_checks_of_its_profiles(host, key):
    with adapter_context(host, key) as ctx:
        profiles = set(ctx.declared_profiles)
        ran = []
        for check in CHECKS.values():
            if profiles & set(check.profiles):
                result = run_one(ctx, check)
                assert result.verdict is Verdict.PASS, (check.id, result.summary, result.reason)
                ran.append(check.id)
        assert {"PSC-SCH-002", "PSC-RUL-001", "PSC-ADP-002"} <= set(ran)
        assert ctx.cache[data_checks.RECORDS].total, "the data checks looked at records"
        if "portability" in profiles:
            assert "PSC-ADP-001" in ran
            assert exp_completeness(ctx) == [] and exp_fidelity(ctx) == []
            trip = ctx.round_trip()
            assert trip.pairs and all(back is not None for _, back in trip.pairs)
        else:
            assert key in ("bacs18", "hr-rest")


def test_a_read_only_adapter_has_no_round_trip(host):
    with adapter_context(host, "hr-rest", ["hr-core", "portability"]) as ctx:
        with pytest.raises(CheckNotApplicable, match="does not write"):
            exp_completeness(ctx)
        assert run_one(ctx, CHECKS["PSC-ADP-001"]).verdict is Verdict.NOT_APPLICABLE


def test_a_writer_keyed_by_its_own_references_round_trips_its_sample_and_says_so(host):
    with adapter_context(host, "ctax-fixed") as ctx:
        trip = ctx.round_trip()
        assert trip.source == "its sample 'good'" and trip.corpus_rejections
        assert any(row["need"] == "round-trip input" and "refused every corpus message" in row["detail"]
                   for row in ctx.readiness)


def test_a_writer_that_drops_the_id_is_paired_by_what_it_restores(host):
    with adapter_context(host, "voa-list") as ctx:
        trip = ctx.round_trip()
        assert all("/data/id" in trip.lost[m["id"]] for m, _ in trip.pairs)
        for written, back in trip.pairs:
            assert back["data"]["uarn"] == written["data"]["uarn"]


def test_bacs18_under_portability_is_caught_not_reading_back_what_it_wrote(host):
    with adapter_context(host, "bacs18", ["payroll-core", "portability"]) as ctx:
        assert run_one(ctx, CHECKS["PSC-ADP-001"]).verdict is Verdict.FAIL
        assert any("payroll.bank-account" in f.message for f in exp_completeness(ctx))


# --- adapters made to fail ------------------------------------------------------------------------------------


class JsonLinesAdapter(Adapter):
    """A faithful format: each record's data as one JSON line with its type."""

    key = "test-json-lines"
    title = "records as JSON lines"
    reads = ("hr.person", "hr.org-unit")
    writes = ("hr.person", "hr.org-unit")

    def native(self, message: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        return {"type": message["type"].removeprefix("uk.plugshare."), "data": message["data"]}, []

    def write(self, messages, target):
        with open(target, "w", encoding="utf-8") as out:
            for number, message in enumerate(messages, start=1):
                record, lost = self.native(json.loads(json.dumps(message)))
                if record is not None:
                    out.write(json.dumps(record) + "\n")
                yield Converted(Position(target, number), [message], lost=lost)

    def read(self, source):
        with open(source, encoding="utf-8") as stream:
            for number, line in enumerate(stream, start=1):
                record = json.loads(line)
                yield Converted(Position(source, number), [self.message(record["type"], record["data"])], native=line)


class SilentlyLossy(JsonLinesAdapter):
    """Drops an org unit's cost centre and does not say so."""

    key = "test-silently-lossy"

    def native(self, message):
        record, lost = super().native(message)
        record["data"].pop("cost_centre", None)
        return record, lost


class HonestlyLossy(SilentlyLossy):
    """Drops the cost centre too, and reports it lost."""

    key = "test-honestly-lossy"

    def native(self, message):
        had = "cost_centre" in message["data"]
        record, lost = super().native(message)
        return record, (["/data/cost_centre"] if had else [])


class DropsARecord(JsonLinesAdapter):
    """Writes every message but the third, and says nothing of it."""

    key = "test-drops-a-record"

    def write(self, messages, target):
        with open(target, "w", encoding="utf-8") as out:
            for number, message in enumerate(messages, start=1):
                if number != 3:
                    out.write(json.dumps(self.native(message)[0]) + "\n")
                yield Converted(Position(target, number), [message])


class HidesItsLoss(JsonLinesAdapter):
    """Drops the cost centre from the very message it was handed, as if it had never been there."""

    key = "test-hides-its-loss"

    def write(self, messages, target):
        with open(target, "w", encoding="utf-8") as out:
            for number, message in enumerate(messages, start=1):
                message["data"].pop("cost_centre", None)
                out.write(json.dumps(self.native(message)[0]) + "\n")
                yield Converted(Position(target, number), [message])


@pytest.fixture(scope="module")
def test_host():
    plugin = types.SimpleNamespace()

    @hookimpl
    def plugshare_register_adapters(register):
        for cls in (JsonLinesAdapter, SilentlyLossy, HonestlyLossy, DropsARecord, HidesItsLoss):
            register(cls)

    plugin.plugshare_register_adapters = plugshare_register_adapters
    plugin.__name__ = "test_lossy_adapters"
    return make_host(load_entry_points=False, extra_plugins=(plugin,))


def test_a_faithful_adapter_passes(test_host):
    with adapter_context(test_host, "test-json-lines") as ctx:
        assert ctx.types == ("hr.org-unit", "hr.person")
        assert run_one(ctx, CHECKS["PSC-ADP-001"]).verdict is Verdict.PASS
        assert exp_completeness(ctx) == [] and exp_fidelity(ctx) == []
        assert len(ctx.round_trip().pairs) == 16
        assert run_one(ctx, CHECKS["PSC-ADP-002"]).verdict is Verdict.SKIPPED, "it has no one-bad-record sample"


def test_an_adapter_losing_a_value_silently_fails_no_silent_loss(test_host):
    with adapter_context(test_host, "test-silently-lossy") as ctx:
        result = run_one(ctx, CHECKS["PSC-ADP-001"])
        assert result.verdict is Verdict.FAIL
        assert all("/data/cost_centre" in f.message for f in result.findings)
        assert len(result.findings) == 6, "the six service org units of E07000991 have a cost centre"
        assert any("/data/cost_centre" in f.message for f in exp_fidelity(ctx))
        assert exp_completeness(ctx) == []


def test_a_writer_changing_the_message_it_was_given_cannot_hide_a_loss(test_host):
    with adapter_context(test_host, "test-hides-its-loss") as ctx:
        result = run_one(ctx, CHECKS["PSC-ADP-001"])
        assert result.verdict is Verdict.FAIL and all("/data/cost_centre" in f.message for f in result.findings)


def test_an_option_the_adapter_does_not_have_is_refused(test_host):
    with pytest.raises(AdapterError, match="no option colour"):
        open_adapter_context("test-json-lines", {"colour": "blue"}, profiles=choose(["hr-core"], "adapter"),
                             host=test_host)


def test_an_adapter_reporting_its_loss_passes(test_host):
    with adapter_context(test_host, "test-honestly-lossy") as ctx:
        assert run_one(ctx, CHECKS["PSC-ADP-001"]).verdict is Verdict.PASS
        assert exp_fidelity(ctx) == [], "what is reported lost is not compared"


def test_an_adapter_dropping_a_record_fails_completeness(test_host):
    with adapter_context(test_host, "test-drops-a-record") as ctx:
        third = list(load().messages("E07000991", ctx.types))[2]
        findings = exp_completeness(ctx)
        assert len(findings) == 1 and third["data"]["id"] in findings[0].message
        assert findings[0].actual == "missing"


def test_differences_name_changed_missing_and_invented_values_but_not_derived_ones():
    written = {"data": {"name": {"given_name": "Ann"}, "tags": [1, 2], "empty": [], "source_ids": [],
                        "codes": [{"code": "X"}]}}
    back = {"data": {"name": {"given_name": "Anne"}, "tags": [1, 3, 4], "added": "x", "source_ids": [{"v": 1}],
                     "extensions": {"native.x": {"a": 1}}, "codes": [{"code": "X", "description": "ex"}]}}
    assert differences(written, back) == ["/data/name/given_name", "/data/tags/1", "/data/tags/2", "/data/added"]
    found = {pointer: (w, b) for pointer, w, b in changes(written, back)}
    assert found["/data/tags/2"] == (ABSENT, 4) and found["/data/added"] == (ABSENT, "x")
    assert changes({"a": [1, 2]}, {"a": [1]}) == [("/a/1", 2, ABSENT)]
    assert changes({"a": [1, 2]}, {"a": [2, 1]}) == [] and changes({"a": [1, 1]}, {"a": [1, 2]}) == [("/a/1", 1, 2)]
    assert changes({"h": 37.0, "t": "25.0"}, {"h": 37, "t": "25"}) == []
    assert [p for p, _, _ in changes({"r": "007", "m": "1.00", "b": False}, {"r": "7", "m": "1.01", "b": 0})] == \
        ["/r", "/m", "/b"]


def test_shown_withholds_personal_values_and_summarises_objects():
    assert shown("/data/birth_date", "1980-01-02") == "/data/birth_date = (withheld: personal data)"
    assert shown("/data/sort_code", "089833").endswith("(withheld: personal data)")
    assert shown("/data/name/given_name", "Ann").endswith("(withheld: personal data)")
    assert shown("/data/net_pay", "12.34") == '/data/net_pay = "12.34"'
    assert shown("/data/deductions/0", {"a": 1}) == "/data/deductions/0 = an object of 1 member(s)"
    assert shown("/data/end_date", ABSENT) == "/data/end_date absent"


# --- defective adapters over several types: each caught by the check meant for it --------------------------------

ALL_CHECKS = {c.id: c for c in all_checks() if "adapter" in c.targets}
#: what each defective adapter breaks
WIDE_TYPES = ("hr.person", "hr.employment", "payroll.pay-run", "payroll.payslip", "payroll.bank-account")


class CanonicalLines(JsonLinesAdapter):
    """A faithful format over people, employments and payroll: each record's data as one JSON line."""

    key = "test-canonical-lines"
    reads = WIDE_TYPES
    writes = WIDE_TYPES

    def records(self, source):
        with open(source, encoding="utf-8") as stream:
            yield from (json.loads(line) for line in stream)

    def adjust(self, record):
        """What a defective reader does to a record it read."""

    def read(self, source):
        for number, record in enumerate(self.records(source), start=1):
            self.adjust(record)
            yield Converted(Position(source, number), [self.message(record["type"], record["data"])])


class ReadsBackwardsAddingSourceIds(CanonicalLines):
    """Correct: reads the records in another order and adds the native key as a source id."""

    key = "test-backwards"

    def records(self, source):
        found = list(super().records(source))
        for record in found:
            record["data"]["source_ids"] = [*record["data"].get("source_ids", []),
                                            {"scheme": "test", "value": record["data"]["id"][-5:]}]
        return reversed(found)


class ReadsWholeNumbersAndReordersLists(CanonicalLines):
    """Correct: its format keeps 37.0 as 37 and lists payslip lines in its own order."""

    key = "test-whole-numbers"

    def adjust(self, record):
        def whole(value):
            if isinstance(value, dict):
                return {k: whole(v) for k, v in value.items()}
            if isinstance(value, list):
                return [whole(v) for v in value]
            return int(value) if isinstance(value, float) and value.is_integer() else value

        record["data"] = whole(record["data"])
        if record["type"] == "payroll.payslip":
            record["data"]["deductions"] = list(reversed(record["data"]["deductions"]))


class ReportsPeopleLost(CanonicalLines):
    """Correct: says a person is lost as a whole, though its output still holds something of each."""

    key = "test-reports-people-lost"

    def write(self, messages, target):
        for outcome in super().write(messages, target):
            if outcome.messages[0]["type"].endswith("hr.person"):
                outcome.lost = ["/data"]
            yield outcome


class RefusesThePersonWithoutAnAddress(CanonicalLines):
    """Refuses the first person, with a reason: not compared, but said in the report's readiness."""

    key = "test-refuses-a-person"

    def write(self, messages, target):
        with open(target, "w", encoding="utf-8") as out:
            for number, message in enumerate(messages, start=1):
                if message["data"]["id"] == "E07000991-p00001":
                    yield Rejected(Position(target, number), message, "the format needs an address line 2")
                    continue
                out.write(json.dumps(self.native(message)[0]) + "\n")
                yield Converted(Position(target, number), [message])


class SkipsAMessage(CanonicalLines):
    """Leaves the third message out of its output and gives no outcome for it."""

    key = "test-skips-a-message"

    def write(self, messages, target):
        for outcome in super().write(messages, target):
            if outcome.position.record != 3:
                yield outcome

    def records(self, source):
        found = list(super().records(source))
        return found[:2] + found[3:]


class InventsARecord(CanonicalLines):
    """Reads back one person more than was written."""

    key = "test-invents-a-record"

    def records(self, source):
        found = list(super().records(source))
        person = next(r for r in found if r["type"] == "hr.person")
        return [*found, {"type": "hr.person", "data": {**person["data"], "id": "E07000991-p99999"}}]


class ReadsARecordTwice(CanonicalLines):
    key = "test-reads-twice"

    def records(self, source):
        found = list(super().records(source))
        return [*found, found[0]]


class MismapsACode(CanonicalLines):
    """Reads legal sex M back as F."""

    key = "test-mismaps-a-code"

    def adjust(self, record):
        if record["type"] == "hr.person" and record["data"].get("legal_sex") == "M":
            record["data"]["legal_sex"] = "F"


class PennyOut(CanonicalLines):
    """Reads a payslip's net pay back a penny more."""

    key = "test-penny-out"

    def adjust(self, record):
        if record["type"] == "payroll.payslip":
            record["data"]["net_pay"] = str(Decimal(record["data"]["net_pay"]) + Decimal("0.01"))


class LosesBirthDates(CanonicalLines):
    """Writes people without their birth date and does not say so."""

    key = "test-loses-birth-dates"

    def native(self, message):
        record, lost = super().native(message)
        record["data"].pop("birth_date", None)
        return record, lost


class ChangesSortCodes(CanonicalLines):
    key = "test-changes-sort-codes"

    def adjust(self, record):
        if record["type"] == "payroll.bank-account":
            record["data"]["sort_code"] = record["data"]["sort_code"][:-1] + "0"


class InventsAPhone(CanonicalLines):
    """Reads every person back with a telephone number nobody wrote."""

    key = "test-invents-a-phone"

    def adjust(self, record):
        if record["type"] == "hr.person":
            record["data"]["phone"] = "01632 960001"


class ReportsEverythingLost(CanonicalLines):
    """Says it can carry nothing: an honest loss, but nothing is left to certify."""

    key = "test-reports-everything-lost"

    def write(self, messages, target):
        for outcome in super().write(messages, target):
            outcome.lost = ["/data"]
            yield outcome


WIDE = (CanonicalLines, ReadsBackwardsAddingSourceIds, ReadsWholeNumbersAndReordersLists, ReportsPeopleLost,
        SkipsAMessage, RefusesThePersonWithoutAnAddress, InventsARecord, ReadsARecordTwice, MismapsACode, PennyOut,
        LosesBirthDates, ChangesSortCodes, InventsAPhone, ReportsEverythingLost)
#: adapter -> the checks it must fail (every other round-trip check must pass: no false failure)
DEFECTS = {
    "test-skips-a-message": {"PSC-EXP-001", "PSC-ADP-001"},
    "test-invents-a-record": {"PSC-EXP-001"},
    "test-reads-twice": {"PSC-EXP-001"},
    "test-mismaps-a-code": {"PSC-ADP-001", "PSC-EXP-002"},
    "test-penny-out": {"PSC-ADP-001", "PSC-EXP-002", "PSC-RUL-001"},
    "test-loses-birth-dates": {"PSC-ADP-001", "PSC-EXP-002"},
    "test-changes-sort-codes": {"PSC-ADP-001", "PSC-EXP-002"},
    "test-invents-a-phone": {"PSC-EXP-002"},
}
ROUND_TRIP_CHECKS = ("PSC-EXP-001", "PSC-EXP-002", "PSC-ADP-001", "PSC-SCH-002", "PSC-RUL-001")


@pytest.fixture(scope="module")
def wide_host():
    plugin = types.SimpleNamespace(__name__="test_wide_adapters")

    @hookimpl
    def plugshare_register_adapters(register):
        for cls in WIDE:
            register(cls)

    plugin.plugshare_register_adapters = plugshare_register_adapters
    return make_host(load_entry_points=False, extra_plugins=(plugin,))


def wide_context(host, key):
    return adapter_context(host, key, ["hr-core", "payroll-core", "portability"])


def verdicts(ctx):
    return {check_id: run_one(ctx, ALL_CHECKS[check_id]) for check_id in ROUND_TRIP_CHECKS}


@pytest.mark.parametrize("key", ["test-canonical-lines", "test-backwards", "test-whole-numbers",
                                 "test-reports-people-lost"])
def test_a_correct_adapter_passes_every_round_trip_check(wide_host, key):
    with wide_context(wide_host, key) as ctx:
        assert set(ctx.types) == set(WIDE_TYPES)
        results = verdicts(ctx)
        assert {i: r.verdict for i, r in results.items()} == dict.fromkeys(ROUND_TRIP_CHECKS, Verdict.PASS), \
            {i: r.summary for i, r in results.items()}
        trip = ctx.round_trip()
        wholly_lost = [m for m in load().messages("E07000991", WIDE_TYPES) if key == "test-reports-people-lost"
                       and m["type"].endswith("hr.person")]
        assert len(trip.pairs) == sum(1 for _ in load().messages("E07000991", WIDE_TYPES)) - len(wholly_lost)
        assert len(trip.uncarried) == len(wholly_lost) and not trip.extra


@pytest.mark.parametrize("key", sorted(DEFECTS))
def test_a_defective_adapter_fails_the_checks_meant_to_catch_it(wide_host, key):
    with wide_context(wide_host, key) as ctx:
        results = verdicts(ctx)
    failed = {i for i, r in results.items() if r.verdict is Verdict.FAIL}
    assert failed == DEFECTS[key], {i: r.summary for i, r in results.items()}
    for check_id in DEFECTS[key]:
        for finding in results[check_id].findings:
            assert finding.expected and finding.actual, (check_id, finding)


def test_a_message_without_an_outcome_is_named(wide_host):
    with wide_context(wide_host, "test-skips-a-message") as ctx:
        third = list(load().messages("E07000991", ctx.types))[2]
        findings = run_one(ctx, ALL_CHECKS["PSC-EXP-001"]).findings
    assert any("no outcome" in f.message and third["data"]["id"] in f.message for f in findings)


def test_a_penny_is_shown_as_expected_against_actual(wide_host):
    with wide_context(wide_host, "test-penny-out") as ctx:
        slip = next(load().messages("E07000991", ["payroll.payslip"]))
        result = run_one(ctx, ALL_CHECKS["PSC-EXP-002"])
    finding = next(f for f in result.findings if slip["data"]["id"] in f.message)
    wrong = str(Decimal(slip["data"]["net_pay"]) + Decimal("0.01"))
    assert finding.expected == f'/data/net_pay = "{slip["data"]["net_pay"]}"'
    assert finding.actual == f'/data/net_pay = "{wrong}"'


@pytest.mark.parametrize("key,field", [("test-loses-birth-dates", "birth_date"),
                                       ("test-changes-sort-codes", "sort_code"),
                                       ("test-invents-a-phone", "phone")])
def test_findings_name_the_record_by_id_and_never_show_personal_values(wide_host, key, field):
    with wide_context(wide_host, key) as ctx:
        results = verdicts(ctx)
    messages = list(load().messages("E07000991", WIDE_TYPES))
    personal = {str(m["data"][name]) for m in messages for name in ("birth_date", "ni_number", "sort_code",
                                                                    "account_number") if name in m["data"]}
    personal |= {"01632 960001", *(s[:-1] + "0" for s in personal if len(s) == 6)}
    findings = [f for r in results.values() for f in r.findings]
    assert findings and all(field in f.message for f in findings)
    text = json.dumps([f.as_dict() for f in findings])
    assert not [value for value in personal if value in text]
    ids = {m["data"]["id"] for m in messages}
    assert all(any(i in f.message for i in ids) for f in findings), "each finding names its record by id"


def test_a_refusal_with_a_reason_is_not_compared_but_said(wide_host):
    with wide_context(wide_host, "test-refuses-a-person") as ctx:
        results = verdicts(ctx)
        assert all(r.verdict is Verdict.PASS for r in results.values()), {i: r.summary for i, r in results.items()}
        rows = [row for row in ctx.readiness if row["need"] == "round-trip input"]
    assert len(rows) == 1 and "refused 1 of the messages" in rows[0]["detail"]
    assert "hr.person E07000991-p00001: the format needs an address line 2" in rows[0]["detail"]


def test_an_adapter_reporting_everything_lost_certifies_nothing(wide_host):
    with wide_context(wide_host, "test-reports-everything-lost") as ctx:
        results = verdicts(ctx)
    for check_id in ("PSC-EXP-001", "PSC-EXP-002", "PSC-ADP-001"):
        assert results[check_id].verdict is Verdict.SKIPPED, check_id
        assert "reported every value" in results[check_id].reason


# --- the data checks on an API target ---------------------------------------------------------------------------


class FakeClient:
    def __init__(self, messages):
        self.messages = messages

    def export(self, *, council=None, types=None):
        return iter([m for m in self.messages if m["council"] == council])


class FakeApi(ApiContext):
    def client(self, council=None):
        return self.fake


def api_context(messages, returned=()):
    ctx = FakeApi(councils=["E07000991"], types=("payroll.payslip", "hr.person"), validator=MessageValidator())
    ctx.fake = FakeClient(messages)
    ctx.cache["returned"] = list(returned)
    return ctx


def test_data_checks_pass_on_valid_records_returned_by_an_api():
    messages = list(load().messages("E07000991", ["payroll.payslip", "hr.person"]))
    ctx = api_context(messages)
    for check_id in ("PSC-SCH-002", "PSC-RUL-001", "PSC-RUL-002"):
        assert run_one(ctx, CHECKS[check_id]).verdict is Verdict.PASS, check_id
    assert ctx.cache[data_checks.RECORDS].total == len(messages)


def test_data_checks_fail_on_a_schema_breach_and_a_rule_breach_naming_the_requirement():
    messages = list(load().messages("E07000991", ["payroll.payslip", "hr.person"]))
    person = json.loads(json.dumps(next(m for m in messages if m["type"].endswith("hr.person"))))
    person["data"]["ni_number"] = "QQ123456C"
    payslip = json.loads(json.dumps(next(m for m in messages if m["type"].endswith("payroll.payslip"))))
    payslip["data"]["net_pay"] = str(round(float(payslip["data"]["net_pay"]) + 0.01, 2))
    ctx = api_context([person], returned=[payslip])
    schema = run_one(ctx, CHECKS["PSC-SCH-002"])
    rules = run_one(ctx, CHECKS["PSC-RUL-001"])
    assert schema.verdict is Verdict.FAIL and {f.requirement for f in schema.findings} == {"PS-ID-001"}
    assert rules.verdict is Verdict.FAIL and "PS-PAY-003" in {f.requirement for f in rules.findings}
    assert all("QQ123456C" not in (f.message + (f.actual or "")) for f in schema.findings)
    assert person["data"]["id"] in schema.findings[0].message


def test_data_checks_skip_when_the_target_returns_nothing():
    ctx = api_context([])
    result = run_one(ctx, CHECKS["PSC-SCH-002"])
    assert result.verdict is Verdict.SKIPPED and "no records" in result.reason
    with pytest.raises(CheckSkipped):
        data_checks.judged(ctx)


def payroll_context(export, returned=()):
    ctx = api_context(export, returned)
    ctx.types = ("payroll.pay-run", "payroll.payslip")
    return ctx


def test_an_older_copy_returned_during_the_run_is_no_extra_payslip_of_its_run():
    export = list(load().messages("E07000991", ["payroll.pay-run", "payroll.payslip"]))
    # listed, fetched, then fetched again after a change: copies with other envelope ids, one payslip twice
    older = [{**m, "id": f"returned-{n}"} for n, m in enumerate(export)]
    older.append({**older[-1], "id": "returned-again"})
    ctx = payroll_context(export, returned=older)
    result = run_one(ctx, CHECKS["PSC-RUL-001"])
    assert result.verdict is Verdict.PASS, result.summary
    assert ctx.cache[data_checks.RECORDS].counts == {"the export of E07000991": len(export),
                                                     "returned during the run": len(older)}


def test_a_rule_across_records_is_judged_on_the_export():
    export = json.loads(json.dumps(list(load().messages("E07000991", ["payroll.pay-run", "payroll.payslip"]))))
    run = next(m for m in export if m["type"].endswith("pay-run"))
    run["data"]["totals"]["net_pay"] = str(Decimal(run["data"]["totals"]["net_pay"]) + Decimal("0.01"))
    result = run_one(payroll_context(export), CHECKS["PSC-RUL-001"])
    assert result.verdict is Verdict.FAIL
    assert [f.requirement for f in result.findings] == ["PS-PAY-016"]
    assert run["data"]["id"] in result.findings[0].message and "/data/totals/net_pay" in result.findings[0].message


def test_a_refused_export_is_replaced_by_the_lists():
    messages = list(load().messages("E07000991", ["payroll.payslip", "hr.person"]))

    class Refusing(FakeClient):
        def export(self, *, council=None, types=None):
            raise ApiError("GET", "/export", 404)

        def list(self, message_type, *, council=None):
            return iter([m for m in self.messages if m["type"].endswith(message_type)])

    ctx = api_context(messages)
    ctx.fake = Refusing(messages)
    assert run_one(ctx, CHECKS["PSC-SCH-002"]).verdict is Verdict.PASS
    assert ctx.cache[data_checks.RECORDS].counts["the lists of E07000991"] == len(messages)


def test_a_bad_bank_detail_is_reported_without_its_value():
    account = json.loads(json.dumps(next(load().messages("E07000991", ["payroll.bank-account"]))))
    account["data"]["sort_code"] = "4" + account["data"]["sort_code"][1:] + "7"
    account["data"]["account_number"] = account["data"]["account_number"][:-1] + "X"
    ctx = api_context([account])
    ctx.types = ("payroll.bank-account",)
    result = run_one(ctx, CHECKS["PSC-SCH-002"])
    assert result.verdict is Verdict.FAIL
    pointers = {f.message.split(" at ")[1].split(":")[0] for f in result.findings}
    assert {"/data/sort_code", "/data/account_number"} <= pointers
    text = json.dumps([f.as_dict() for f in result.findings])
    assert account["data"]["sort_code"] not in text and account["data"]["account_number"] not in text
    assert account["data"]["id"] in text
