"""plugshare's pytest plugin: its fixtures pass a good adapter and fail a faulty one, saying why.

Each test runs a small test file in a pytester sandbox, as an adapter author's suite would run,
and reads its outcome and report.
"""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from plugshare.testing import AdapterHarness, assert_registered, assert_valid, canonical_view
from plugshare.testing.checks import _differences, _first_difference
from tests.conftest import load_example

pytest_plugins = ["pytester"]

BACS = Path(__file__).resolve().parents[1] / "src" / "plugshare" / "adapters" / "samples" / "bacs18"

#: a tiny CSV adapter of org units, and faulty variants of it, for the sandboxes to test
UNITS = '''
import csv
import traceback

from plugshare.adapters import Adapter, Converted, Position, Rejected, hookimpl
from plugshare.adapters.contract import RecordError
from plugshare.adapters.loss import not_restored
from plugshare.adapters.mapping import FieldMap, RecordMap

MAP = RecordMap([FieldMap("name", "name", required=True)], namespace="native.units", consumed=("code", "kind"))
KINDS = {"C": "council", "T": "team"}


class Units(Adapter):
    key = "units"
    title = "Org units, to test the pytest plugin"
    reads = writes = ("hr.org-unit",)
    columns = ("code", "name", "kind", "note")

    def read(self, source):
        with open(source, encoding="utf-8", newline="") as handle:
            for number, row in enumerate(csv.DictReader(handle), start=1):
                position = Position(source, number, number + 1)
                try:
                    record = self.record(row)
                except RecordError as exc:
                    yield Rejected(position, row, self.reason(exc, row))
                else:
                    yield Converted(position, [self.message("hr.org-unit", record)], native=row)

    def record(self, row):
        if row["kind"] not in KINDS:
            raise RecordError(f"kind: {row['kind']!r} is not C or T")
        return MAP.to_record(row, {"id": self.unit_id(row), "source_ids": [], "extensions": {},
                                   "kind": KINDS[row["kind"]]})

    def unit_id(self, row):
        return f"{self.council}-ou-{row['code']}"

    def reason(self, exc, row):
        return exc.reason

    def write(self, messages, target):
        with open(target, "w", encoding="utf-8", newline="") as handle:
            out = csv.DictWriter(handle, self.columns, extrasaction="ignore", lineterminator="\\n")
            out.writeheader()
            for number, message in enumerate(messages, start=1):
                data = message["data"]
                kind = {value: code for code, value in KINDS.items()}[data["kind"]]
                row = {"code": data["id"].rsplit("-", 1)[-1], "name": data["name"], "kind": kind,
                       **data["extensions"].get("native.units", {})}
                out.writerow(row)
                yield Converted(Position("messages", number), [message], lost=self.lost(data, row))

    def lost(self, data, row):
        """The loss rule: read the row back in memory and name what does not come back."""
        back = self.record({column: row.get(column, "") for column in self.columns})
        return not_restored(data, back, "native.units")


class InvalidUnits(Units):
    def unit_id(self, row):
        return f"unit {row['code']}!"


class LossyUnits(Units):
    columns = ("code", "name", "kind")


class UnsaidLossUnits(LossyUnits):
    def lost(self, data, row):
        return []


class SilentUnits(Units):
    def reason(self, exc, row):
        return ""


class TracebackUnits(Units):
    def reason(self, exc, row):
        return "".join(traceback.format_exception(exc))


class TellingUnits(Units):
    def reason(self, exc, row):
        return f"{exc.reason} (employee AB123456C)"


class CrashingUnits(Units):
    def record(self, row):
        return super().record(row) if row["kind"] in KINDS else {}["kind"]


class HoardingUnits(Units):
    def read(self, source):
        yield from list(super().read(source))


@hookimpl
def plugshare_register_adapters(register):
    register(Units)
'''

GOOD = "code,name,kind,note\nFDC,Fenmoor District Council,C,the root\nPLAN,Planning,T,\n"
BAD = "code,name,kind,note\nFDC,Fenmoor District Council,C,\nPLAN,Planning,Q,\nHR,Human Resources,T,\n"


@pytest.fixture
def sandbox(pytester):
    """A pytester directory with the units adapters importable and their samples written."""
    pytester.makepyfile(units=UNITS)
    pytester.syspathinsert()
    (pytester.path / "good.csv").write_text(GOOD, encoding="utf-8")
    (pytester.path / "bad.csv").write_text(BAD, encoding="utf-8")
    return pytester


def run(sandbox, source: str, *args: str):
    sandbox.makepyfile(test_sandbox=textwrap.dedent(source))
    return sandbox.runpytest("-p", "no:cacheprovider", *args)


# --- a good adapter passes ---------------------------------------------------------------


def test_the_fixtures_test_the_builtin_bacs18_adapter_in_a_few_lines(pytester):
    result = run(pytester, f'''
        from pathlib import Path
        from plugshare.testing import assert_registered

        SAMPLES = Path({str(BACS)!r})
        WRITE = dict(originator_sort_code="089900", originator_account="10000991", sun="991001",
                     user_name="Fenmoor DC Payroll", processing_date="2025-09-24", as_at="2025-09-22T17:00:00Z")

        def test_registered():
            assert assert_registered("bacs18").plugin.builtin

        def test_the_good_sample_validates(plugshare_adapter):
            messages = plugshare_adapter("bacs18").assert_output_validates(SAMPLES / "payroll-2025-09.txt")
            assert len(messages) == 5

        def test_the_bad_sample_rejects_one_record(plugshare_adapter):
            (rejected,) = plugshare_adapter("bacs18").assert_rejects(SAMPLES / "bad-account-number.txt",
                                                                     "account number", count=1,
                                                                     never_shows=["77079089"])
            assert rejected.position.line == 7

        def test_writing_the_canonical_sample_gives_the_native_one(plugshare_adapter, tmp_path):
            plugshare_adapter("bacs18").assert_writes(SAMPLES / "canonical-payroll.ndjson",
                                                      SAMPLES / "payroll-2025-09.txt", tmp_path, **WRITE)

        def test_the_conversion_counts_add_up(plugshare_adapter, tmp_path):
            conversion = plugshare_adapter("bacs18").convert(SAMPLES / "bad-account-number.txt", tmp_path)
            assert (conversion.summary.read, conversion.summary.quarantined) == (5, 1)
            assert conversion.quarantined[0]["line"] == 7

        def test_the_host_and_the_validator(plugshare_host, plugshare_validator):
            assert "bacs18" in plugshare_host().adapters()
            assert plugshare_validator is not None
    ''')
    result.assert_outcomes(passed=6)


def test_a_good_adapter_passes_every_helper(sandbox):
    result = run(sandbox, '''
        from plugshare.testing import assert_registered
        import units
        from units import Units

        def test_validates(plugshare_adapter):
            assert len(plugshare_adapter(Units).assert_output_validates("good.csv")) == 2

        def test_rejects(plugshare_adapter):
            plugshare_adapter(Units).assert_rejects("bad.csv", "'Q'", count=1)

        def test_round_trip(plugshare_adapter, tmp_path):
            messages = plugshare_adapter(Units).assert_round_trip("good.csv", tmp_path, identical=True)
            assert messages[0]["data"]["extensions"] == {"native.units": {"note": "the root"}}

        def test_streams(plugshare_adapter, tmp_path):
            path = tmp_path / "large.csv"
            path.write_text("code,name,kind,note\\n" + "".join(f"U{n},Unit {n},T,\\n" for n in range(5000)))
            assert plugshare_adapter(Units).assert_streams(path, max_peak=500_000) == 5000

        def test_registered_before_installing(plugshare_host):
            assert assert_registered("units", units).adapter is Units
            assert "units" in plugshare_host(units).adapters()
    ''')
    result.assert_outcomes(passed=5)


def test_the_command_line_sees_a_declared_entry_point(sandbox):
    result = run(sandbox, '''
        import json

        import plugshare.cli
        from click.testing import CliRunner

        def test_convert(plugshare_entry_points, tmp_path, monkeypatch):
            monkeypatch.setenv("PLUGSHARE_DISABLE_PLUGIN_AUTOLOAD", "1")
            plugshare_entry_points(units="units")
            out = tmp_path / "out.ndjson"
            result = CliRunner().invoke(plugshare.cli.main, ["convert", "--from", "units", "--to", "canonical",
                                                             "good.csv", str(out), "--option", "council=E07000991"])
            assert result.exit_code == 0, result.output
            assert len(out.read_text().splitlines()) == 2
            listed = CliRunner().invoke(plugshare.cli.main, ["adapters", "list", "--format", "json"])
            assert "units" in [entry["key"] for entry in json.loads(listed.output)]
    ''')
    result.assert_outcomes(passed=1)


# --- a faulty adapter fails, and the report says why ------------------------------------------


def test_an_adapter_that_makes_an_invalid_message_fails_naming_requirement_pointer_and_reason(sandbox):
    result = run(sandbox, '''
        from units import InvalidUnits

        def test_validates(plugshare_adapter):
            plugshare_adapter(InvalidUnits).assert_output_validates("good.csv")
    ''')
    result.assert_outcomes(failed=1)
    report = result.stdout.str()
    assert "units: the output of good.csv does not pass the standard" in report
    assert "good.csv record 1 (line 2) (hr.org-unit unit FDC!): [PS-COM-003] MUST at /data/id: " in report
    assert "is not a valid record id" in report
    assert "record 2 (line 3)" in report


def test_rejections_where_none_were_expected_fail_validation(sandbox):
    result = run(sandbox, '''
        from units import Units

        def test_validates(plugshare_adapter):
            plugshare_adapter(Units).assert_output_validates("bad.csv")

        def test_validates_allowing_them(plugshare_adapter):
            assert len(plugshare_adapter(Units).assert_output_validates("bad.csv", rejected=1)) == 2
    ''')
    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines(["*1 record(s) rejected, 0 expected*", "*bad.csv record 2 (line 3): kind: 'Q'*"])


def test_an_adapter_that_loses_a_field_on_the_round_trip_fails_naming_it(sandbox):
    result = run(sandbox, '''
        from units import LossyUnits

        def test_round_trip(plugshare_adapter, tmp_path):
            plugshare_adapter(LossyUnits).assert_round_trip("good.csv", tmp_path)
    ''')
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*the round trip of good.csv through round-trip.csv is not stable*",
                                 "*hr.org-unit E07000991-ou-FDC: data.extensions.native.units: {'note': 'the root'} "
                                 "lost*"])


def test_a_round_trip_that_changes_the_file_fails_when_it_must_be_identical(sandbox):
    (sandbox.path / "crlf.csv").write_bytes(b"code,name,kind,note\r\nFDC,Fenmoor District Council,C,\r\n")
    result = run(sandbox, '''
        from units import Units

        def test_round_trip(plugshare_adapter, tmp_path):
            plugshare_adapter(Units).assert_round_trip("crlf.csv", tmp_path)

        def test_identical(plugshare_adapter, tmp_path):
            plugshare_adapter(Units).assert_round_trip("crlf.csv", tmp_path, identical=True)
    ''')
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*line 1, column 20: expected ...'me,kind,note\\r\\n', written ...'me,kind,note\\n'*"])


@pytest.mark.parametrize(("adapter", "says"), [
    ("SilentUnits", "bad.csv record 2 (line 3): the reason is empty: ''"),
    ("TracebackUnits", "bad.csv record 2 (line 3): the reason is a traceback"),
    ("TellingUnits", "the reason shows an NI number"),
    ("CrashingUnits", "units: reading bad.csv crashed with KeyError('kind')"),
    ("HoardingUnits", None),
])
def test_an_adapter_with_unreadable_reasons_fails_assert_rejects(sandbox, adapter, says):
    result = run(sandbox, f'''
        from units import {adapter}

        def test_rejects(plugshare_adapter):
            plugshare_adapter({adapter}).assert_rejects("bad.csv", "'Q'", count=1)
    ''')
    if says is None:  # buffering is no fault of its reasons
        result.assert_outcomes(passed=1)
        return
    result.assert_outcomes(failed=1)
    assert says in result.stdout.str()


def test_assert_rejects_checks_counts_texts_and_hidden_values(sandbox):
    result = run(sandbox, '''
        from units import Units

        def test_count(plugshare_adapter):
            plugshare_adapter(Units).assert_rejects("bad.csv", count=2)

        def test_text(plugshare_adapter):
            plugshare_adapter(Units).assert_rejects("bad.csv", "payment method")

        def test_hidden(plugshare_adapter):
            plugshare_adapter(Units).assert_rejects("bad.csv", never_shows=["'Q'"])

        def test_nothing_rejected(plugshare_adapter):
            plugshare_adapter(Units).assert_rejects("good.csv")
    ''')
    result.assert_outcomes(failed=4)
    result.stdout.fnmatch_lines_random([
        "*1 record(s) rejected, 2 expected*",
        "*no reason contains 'payment method'; the reasons are: kind: 'Q' is not C or T*",
        "*the reason shows \"'Q'\"*",
        "*no record of good.csv was rejected (2 read)*",
    ])


def test_a_writer_that_drops_values_unsaid_fails_assert_reports_loss(sandbox):
    result = run(sandbox, '''
        from units import LossyUnits, Units, UnsaidLossUnits

        def test_reports(plugshare_adapter, tmp_path):
            written = plugshare_adapter(Units).assert_reports_loss(plugshare_adapter(Units).messages("good.csv"),
                                                                   tmp_path)
            assert [o.lost for o in written] == [["/data/source_ids"], ["/data/source_ids"]]  # none is kept

        def test_reports_what_its_columns_lack(plugshare_adapter, tmp_path):
            written = plugshare_adapter(LossyUnits).assert_reports_loss(plugshare_adapter(Units).messages("good.csv"),
                                                                        tmp_path, probe=False)
            assert [o.lost for o in written] == [["/data/extensions/native.units/note"], []]

        def test_unsaid(plugshare_adapter, tmp_path):
            plugshare_adapter(UnsaidLossUnits).assert_reports_loss(plugshare_adapter(Units).messages("good.csv"),
                                                                   tmp_path)
    ''')
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines([
        "*units: the writer loses values without naming them in Converted.lost*",
        "*message 1 (hr.org-unit E07000991-ou-FDC): /data/source_ids, /data/extensions/native.units/note not "
        "restored by reading the file back, but lost names nothing*",
        "*message 2 (hr.org-unit E07000991-ou-PLAN): /data/source_ids not restored*"])


def test_an_adapter_that_holds_its_records_fails_assert_streams(sandbox):
    result = run(sandbox, '''
        from units import HoardingUnits

        def test_streams(plugshare_adapter, tmp_path):
            path = tmp_path / "large.csv"
            path.write_text("code,name,kind,note\\n" + "".join(f"U{n},Unit {n},T,\\n" for n in range(5000)))
            plugshare_adapter(HoardingUnits).assert_streams(path, max_peak=500_000)
    ''')
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*reading 5000 records of *large.csv peaked at *, over 500,000: the adapter "
                                 "holds records instead of streaming them*"])


def test_registration_and_broken_plugins_fail_by_name(sandbox):
    sandbox.makepyfile(broken_holder='''
        from plugshare.hookspecs import hookimpl

        @hookimpl
        def plugshare_register_adaptors(register):
            pass
    ''')
    result = run(sandbox, '''
        import broken_holder
        from plugshare.testing import assert_registered

        def test_unknown_key():
            assert_registered("no-such-adapter")

        def test_broken_plugin(plugshare_host):
            plugshare_host(broken_holder)

        def test_broken_plugin_allowed(plugshare_host):
            assert plugshare_host(broken_holder, allow_failures=True).failures
    ''')
    result.assert_outcomes(failed=2, passed=1)
    result.stdout.fnmatch_lines_random([
        "*no adapter 'no-such-adapter' is registered; the adapters are: *bacs18*",
        "*plugins failed to load:*",
        "*plugin 'broken_holder'*plugshare_register_adaptors (a misspelling?)*",
    ])


def test_a_whole_input_problem_is_asserted_with_assert_refuses(sandbox):
    result = run(sandbox, '''
        from units import Units

        def test_missing(plugshare_adapter, tmp_path):
            plugshare_adapter(Units).assert_refuses(tmp_path / "nowhere.csv", "no such file")

        def test_not_refused(plugshare_adapter):
            plugshare_adapter(Units).assert_refuses("good.csv")
    ''')
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines_random([
        "*units: reading *nowhere.csv raised FileNotFoundError instead of an AdapterError (*No such file*",
        "*good.csv was read (2 outcomes) instead of refused*"])
    assert "E   FileNotFoundError" not in result.stdout.str()  # the failure is the harness's, not a raw error


# --- the plugin itself -------------------------------------------------------------------------


def test_pytest_lists_the_fixtures(pytester):
    result = pytester.runpytest("--fixtures", "-p", "no:cacheprovider")
    for name in ("plugshare_adapter", "plugshare_validator", "plugshare_host", "plugshare_entry_points"):
        result.stdout.fnmatch_lines([f"{name}*"])


def test_importing_the_plugin_imports_nothing_of_plugshare_but_itself():
    code = ("import sys, plugshare.testing; print(json.dumps(sorted(m for m in sys.modules "
            "if m.startswith(('plugshare.', 'pydantic', 'jsonschema', 'referencing', 'httpx')))))")
    loaded = subprocess.run([sys.executable, "-c", "import json; " + code], capture_output=True, text=True,
                            check=True)
    assert json.loads(loaded.stdout) == ["plugshare.testing", "plugshare.testing.checks",
                                         "plugshare.testing.harness"]


def test_the_helpers_work_without_fixtures(tmp_path):
    good = load_example("hr.org-unit.json")
    assert assert_valid([good]) == [good]
    bad = json.loads(json.dumps(good))
    bad["data"]["kind"] = "committee"
    with pytest.raises(AssertionError, match=r"message 1 \(hr.org-unit E07000991-ou-root\): \[PS-[A-Z]+-[0-9]+\] "
                                             r"MUST at /data/kind: "):
        assert_valid([bad])
    assert canonical_view(good, ["data.name"]) == {k: v for k, v in good.items() if k not in ("id", "time")} | {
        "data": {k: v for k, v in good["data"].items() if k != "name"}}
    assert assert_registered("bacs18").plugin.distribution == "plugshare"
    harness = AdapterHarness("bacs18")
    assert harness.options == {"council": "E07000991", "as_at": "2025-09-30T17:00:00Z"}
    assert AdapterHarness("bacs18", {"council": "E07000992"}).adapter().council == "E07000992"


# --- personal data in failure messages -------------------------------------------------------------


def test_a_lost_object_is_shown_with_its_personal_data_masked_at_any_depth():
    person = {"type": "uk.plugshare.hr.person", "subject": "p1", "action": "upsert",
              "data": {"id": "p1", "name": {"given_name": "Ada"}, "birth_date": "1985-03-14",
                       "extensions": {"native.rti": {"NINO": "AB123456C", "Date of Birth": "14/03/1985",
                                                     "accounts": [{"account_number": "77079089"}],
                                                     "note": "was QQ 12 34 56 C"}}}}
    lines = _differences([person], [{**person, "data": {"id": "p1", "name": {"given_name": "Ada"}}}], [])
    text = "\n".join(lines)
    assert "data.birth_date: '********14' lost" in text
    for shown in ("1985-03-14", "AB123456C", "14/03/1985", "77079089", "QQ 12 34 56 C"):
        assert shown not in text, shown
    assert "'NINO': '*******6C'" in text and "'account_number': '******89'" in text
    assert "'note': 'was *********** C'" in text


def test_a_native_file_that_differs_shows_the_column_and_masks_what_is_around_it(tmp_path):
    expected, written = tmp_path / "expected.txt", tmp_path / "written.txt"
    line = "0899001234567890 SMITH J AB123456C 14/03/1985 0000017014"
    expected.write_text(f"HDR\n{line}\n")
    written.write_text(f"HDR\n{line.replace('567890', '567891')}\n")
    difference = _first_difference(expected, written)
    assert difference.startswith("line 2, column 16: expected ")
    assert "1234567890" not in difference and "'***********91 SMITH J **'" in difference
    written.write_text(f"HDR\n{line[:-1]}5\n")
    difference = _first_difference(expected, written)
    assert difference.startswith("line 2, column 56: ")
    assert "AB123456C" not in difference and "14/03/1985" not in difference and "17014" not in difference
