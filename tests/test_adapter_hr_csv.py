"""The hr-csv adapter: an HR suite's CSV export (org units, posts, people, absences) read and written."""

from __future__ import annotations

import copy
import csv
import datetime as dt
import io
import json
import shutil
import tracemalloc
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plugshare.adapters.contract import AdapterError, Converted, Rejected
from plugshare.adapters.hr_csv import HrCsvAdapter
from plugshare.adapters.hr_csv.layout import NAMESPACE, TABLES
from plugshare.cli import main
from plugshare.conversion import CanonicalSource, convert
from plugshare.plugins import make_host
from plugshare.validation.validator import MessageValidator

SAMPLES = Path(__file__).resolve().parents[1] / "src" / "plugshare" / "adapters" / "samples" / "hr-csv"
GOOD, BAD, CANONICAL = SAMPLES / "good", SAMPLES / "one-bad-record", SAMPLES / "canonical.ndjson"
OPTIONS = {"council": "E07000991", "as_at": "2025-09-30T17:00:00Z"}
FILES = [table.file for table in TABLES]
VALIDATOR = MessageValidator()


def read(path, **options):
    return list(HrCsvAdapter({**OPTIONS, **options}).read(str(path)))


def write(messages, path, **options):
    return list(HrCsvAdapter({**OPTIONS, **options}).write(messages, str(path)))


def canonical() -> list[dict]:
    return [json.loads(line) for line in CANONICAL.read_text(encoding="utf-8").splitlines()]


def must_problems(message):
    return [p for p in VALIDATOR.check(message)[1] if p.level == "MUST"]


def rejections(outcomes):
    return [o.reason for o in outcomes if isinstance(o, Rejected)]


def messages_of(outcomes):
    return [m for o in outcomes if isinstance(o, Converted) for m in o.messages]


def export(tmp_path, **files: str) -> Path:
    """A copy of the good sample with some files replaced (text given) or removed (None)."""
    folder = tmp_path / "export"
    shutil.copytree(GOOD, folder)
    for name, text in files.items():
        path = folder / f"{name.replace('_', '-')}.csv"
        if text is None:
            path.unlink()
        else:
            path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return folder


def good_text(name: str) -> str:
    return (GOOD / name).read_bytes().decode("utf-8")


def edited(tmp_path, name: str, old: str, new: str, count: int = 1) -> Path:
    text = good_text(name)
    assert old in text, old
    return export(tmp_path, **{name.removesuffix(".csv").replace("-", "_"): text.replace(old, new, count)})


def same_files(first: Path, second: Path) -> bool:
    return all((first / name).read_bytes() == (second / name).read_bytes() for name in FILES)


# --- the samples ----------------------------------------------------------------------------------


def test_the_adapter_is_a_builtin_plugin():
    assert make_host(load_entry_points=False).adapter("hr-csv") is HrCsvAdapter
    assert HrCsvAdapter.describe()["source_kind"] == "directory"


def test_the_good_sample_reads_into_valid_messages_in_order():
    outcomes = read(GOOD)
    assert all(isinstance(o, Converted) for o in outcomes), rejections(outcomes)
    types = [m["type"].removeprefix("uk.plugshare.") for m in messages_of(outcomes)]
    assert types == ["hr.org-unit"] * 6 + ["hr.position"] * 10 + ["hr.person", "hr.employment"] * 11 \
        + ["hr.absence"] * 8
    for message in messages_of(outcomes):
        assert VALIDATOR.check(message)[1] == [], message["subject"]
        assert message["council"] == "E07000991" and message["data"]["source_ids"][0]["scheme"] == "hr-csv"
    people = [o for o in outcomes if o.position.source.endswith("people.csv")]
    assert [(o.position.record, o.position.line) for o in people[:2]] == [(1, 2), (2, 3)]
    assert people[0].native["Employee Number"] == "FM10231"


def test_the_sample_carries_the_cases_it_is_for():
    data = {m["subject"]: m["data"] for m in messages_of(read(GOOD))}
    term_time = data["E07000991-FM10340-1"]["assignments"][0]["working_pattern"]
    assert term_time == {"fte": 0.6081, "contracted_hours_per_week": 22.5, "weeks_per_year": 39.0}
    tupe = data["E07000991-FM10318-1"]
    assert tupe["continuous_service_date"] == "2009-09-14" < tupe["start_date"] == "2021-04-01"
    assert tupe["tupe_transfer"] == {"previous_employer": "Moorside Shared HR Services Ltd",
                                     "transfer_date": "2021-04-01"}
    leaver = data["E07000991-FM10361-1"]
    assert (leaver["status"], leaver["end_date"], leaver["termination_reason"]) == \
        ("terminated", "2025-07-31", "resignation")
    assert data["E07000991-FEN110"]["parent_id"] == "E07000991-FEN100"
    assert data["E07000991-AB5002"]["fit_note"]["covers"] == {"start": "2025-06-09", "end": "2025-06-13"}
    assert "end_date" not in data["E07000991-AB5008"]


def test_the_canonical_sample_is_the_good_sample_read():
    assert messages_of(read(GOOD)) == canonical()


def test_convert_through_the_cli_then_validate(tmp_path):
    out = tmp_path / "out.ndjson"
    result = CliRunner().invoke(main, ["convert", "--from", "hr-csv", "--to", "canonical", str(GOOD), str(out),
                                       "--option", "council=E07000991", "--option", "as_at=2025-09-30T17:00:00Z"])
    assert result.exit_code == 0, result.output
    assert "read 35 records: 35 converted, 0 quarantined" in result.output
    assert out.read_text(encoding="utf-8").count("\n") == 46
    validated = CliRunner().invoke(main, ["validate", str(out)])
    assert validated.exit_code == 0, validated.output


def test_the_bad_sample_quarantines_exactly_its_bad_row(tmp_path):
    out, quarantine = tmp_path / "out.ndjson", tmp_path / "quarantine.ndjson"
    result = CliRunner().invoke(main, ["convert", "--from", "hr-csv", "--to", "canonical", str(BAD), str(out),
                                       "--option", "council=E07000991", "--option", "as_at=2025-09-30T17:00:00Z",
                                       "--quarantine", str(quarantine)])
    assert result.exit_code == 1, result.output
    assert "read 35 records: 34 converted, 1 quarantined" in result.output
    (entry,) = [json.loads(line) for line in quarantine.read_text(encoding="utf-8").splitlines()]
    assert entry["stage"] == "read" and entry["source"].endswith("people.csv")
    assert (entry["record"], entry["line"]) == (7, 8)
    assert entry["native"]["Employee Number"] == "FM10355" and entry["native"]["Surname"] == "Marlow"
    reason = entry["reason"]
    assert reason.startswith("employee FM10355 (employment FM10355-1): NI Number QQ*******")
    assert "is not a valid NI number" in reason and "QQ123456C" not in reason
    assert len(out.read_text(encoding="utf-8").splitlines()) == 44
    assert CliRunner().invoke(main, ["validate", str(out)]).exit_code == 0


def test_the_canonical_sample_writes_the_good_sample_byte_for_byte(tmp_path):
    outcomes = write(canonical(), tmp_path / "out")
    assert all(isinstance(o, Converted) for o in outcomes), rejections(outcomes)
    assert sorted(o.position.record for o in outcomes) == list(range(1, 47))
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(FILES)
    assert same_files(tmp_path / "out", GOOD)
    assert (tmp_path / "out" / "people.csv").read_bytes().count(b"\r\n") == 12


def test_native_canonical_native_canonical_through_the_cli(tmp_path):
    runner, first, back, second = CliRunner(), tmp_path / "one.ndjson", tmp_path / "native", tmp_path / "two.ndjson"
    options = ["--option", "council=E07000991", "--option", "as_at=2025-09-30T17:00:00Z"]
    assert runner.invoke(main, ["convert", "--from", "hr-csv", "--to", "canonical", str(GOOD), str(first),
                                *options]).exit_code == 0
    result = runner.invoke(main, ["convert", "--from", "canonical", "--to", "hr-csv", str(first), str(back),
                                  "--option", "council=E07000991"])
    assert result.exit_code == 0, result.output
    assert same_files(back, GOOD)
    assert runner.invoke(main, ["convert", "--from", "hr-csv", "--to", "canonical", str(back), str(second),
                                *options]).exit_code == 0
    assert first.read_bytes() == second.read_bytes() == CANONICAL.read_bytes()


def test_messages_in_any_order_write_the_same_files(tmp_path):
    messages = canonical()
    order = ["hr.absence", "hr.employment", "hr.position", "hr.person", "hr.org-unit"]
    shuffled = sorted(messages, key=lambda m: order.index(m["type"].removeprefix("uk.plugshare.")))
    outcomes = write(shuffled, tmp_path / "out")
    assert all(isinstance(o, Converted) for o in outcomes), rejections(outcomes)
    assert sorted(o.position.record for o in outcomes) == list(range(1, 47))
    assert same_files(tmp_path / "out", GOOD)


# --- the CSV itself: encoding, quoting, header -----------------------------------------------------


def test_a_bom_lf_line_ends_and_header_case_and_order_are_read(tmp_path):
    header, *rows = csv.reader(io.StringIO(good_text("org-units.csv")))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([f"  {name.upper()} " for name in reversed(header)])
    writer.writerows(list(reversed(row)) for row in rows)
    folder = export(tmp_path, org_units=b"\xef\xbb\xbf" + out.getvalue().encode())
    assert messages_of(read(folder)) == messages_of(read(GOOD))


def test_quoted_values_with_commas_quotes_and_line_breaks(tmp_path):
    folder = edited(tmp_path, "absences.csv", "Compassionate leave", '"Leave, as agreed:\r\n""family"""')
    outcomes = read(folder)
    absences = [o for o in outcomes if o.position.source.endswith("absences.csv")]
    assert absences[3].messages[0]["data"]["reason"] == 'Leave, as agreed:\r\n"family"'
    assert [o.position.line for o in absences[3:6]] == [5, 7, 8]  # the record after it starts a line later
    write(messages_of(outcomes), tmp_path / "out")
    assert (tmp_path / "out" / "absences.csv").read_bytes() == (folder / "absences.csv").read_bytes()


def test_a_file_in_another_encoding_names_the_file_and_line(tmp_path):
    folder = export(tmp_path, people=good_text("people.csv").replace("Priya", "Zoë").encode("cp1252"))
    with pytest.raises(AdapterError, match=r"people\.csv line 4: byte 0xEB \(character 14\) is not UTF-8.*"
                                           r"Windows-1252.*CSV UTF-8"):
        read(folder)
    (folder / "people.csv").write_bytes(good_text("people.csv").encode("utf-16"))
    with pytest.raises(AdapterError, match="people.csv: the file is UTF-16"):
        read(folder)


def test_whole_file_problems_stop_before_any_record_is_read(tmp_path):
    folder = edited(tmp_path, "absences.csv", "AB5008", '"AB5008')  # a quote that never closes
    with pytest.raises(AdapterError, match=r"absences\.csv line 9: not valid CSV.*double quotes"):
        HrCsvAdapter(OPTIONS).read(str(folder)).__next__()


@pytest.mark.parametrize("old, new, message", [
    ("Post Title,", "Title,", r"posts\.csv: the header row has no 'Post Title' column"),
    ("Grade,SCP", "Grade,Grade", r"names the column 'Grade' twice"),
    ("Effective To\r\n", "Effective To,\r\n", r"column 12 of the header has no name"),
])
def test_header_problems_are_adapter_errors(tmp_path, old, new, message):
    with pytest.raises(AdapterError, match=message):
        read(edited(tmp_path, "posts.csv", old, new))


def test_an_empty_file_has_no_header(tmp_path):
    with pytest.raises(AdapterError, match=r"posts\.csv: the first line is empty; it must be the header row"):
        read(export(tmp_path, posts=""))


def test_absent_files_are_not_read_but_an_empty_directory_is_an_error(tmp_path):
    only_people = export(tmp_path, org_units=None, posts=None, absences=None)
    types = {m["type"] for m in messages_of(read(only_people))}
    assert types == {"uk.plugshare.hr.person", "uk.plugshare.hr.employment"}
    (tmp_path / "empty").mkdir()
    with pytest.raises(AdapterError, match="holds none of the export's files.*it is empty"):
        read(tmp_path / "empty")
    (tmp_path / "empty" / "staff.csv").write_text("x")
    with pytest.raises(AdapterError, match="it holds staff.csv"):
        read(tmp_path / "empty")
    with pytest.raises(AdapterError, match="is a file, not a directory"):
        read(GOOD / "people.csv")
    with pytest.raises(AdapterError, match="no such directory"):
        read(tmp_path / "nowhere")


def test_a_header_only_file_has_no_records_and_blank_rows_are_skipped(tmp_path):
    posts = good_text("posts.csv").split("\r\n")
    folder = export(tmp_path, absences=good_text("absences.csv").split("\r\n")[0] + "\r\n",
                    posts="\r\n".join(posts[:3] + ["", ",,,,,,,,,,"] + posts[3:]))
    outcomes = read(folder)
    assert not any(o.position.source.endswith("absences.csv") for o in outcomes)
    lines = [o.position.line for o in outcomes if o.position.source.endswith("posts.csv")]
    assert lines == [2, 3, 6, 7, 8, 9, 10, 11, 12, 13] and all(isinstance(o, Converted) for o in outcomes)


# --- rows: one outcome each, rejected with reasons --------------------------------------------------


def one_rejection(folder: Path) -> Rejected:
    outcomes = read(folder)
    rejected = [o for o in outcomes if isinstance(o, Rejected)]
    assert len(rejected) == 1, rejections(outcomes)
    return rejected[0]


@pytest.mark.parametrize("name, old, new, expected", [
    ("absences.csv", "AB5006,FM10318,FM10318-1,AL,", "AB5006,FM10318,FM10318-1,GARDEN,",
     "absence AB5006: Absence Type: vendor code 'GARDEN' has no translation in the standard"),
    ("posts.csv", "P10003,Finance Manager,FEN110,A,", "P10003,Finance Manager,FEN110,Q,",
     "post P10003: Post Status: vendor code 'Q' has no translation"),
    ("org-units.csv", "FEN210,Waste and Street Scene,SERV,FEN200,FEN-2100,01/04/2019",
     "FEN210,Waste and Street Scene,SERV,FEN200,FEN-2100,31/04/2019",
     "org unit FEN210: Effective From: '31/04/2019' is not a date"),
    ("people.csv", "30/05/1984", "30/13/1984",
     "employee FM10318 (employment FM10318-1): Date of Birth is not a date such as 14/07/1985 (value withheld"),
    ("people.csv", ",Grace,", "," + "G" * 36 + ",", "Forename is 36 characters; it holds at most 35"),
    ("people.csv", "PE14 2HN", "PE14 2H", "Postcode 'PE14 2H' is not a UK postcode"),
    ("people.csv", "29540.00", "29540.005", "Annual Salary: '29540.005' has fractions of a penny"),
    ("people.csv", "29540.00", "lots", "Annual Salary: 'lots' is not an amount of money"),
    ("people.csv", "0.8,29.6", "0.8x,29.6", "FTE: '0.8x' is not a number"),
    ("people.csv", ",G5,15,", ",,15,", "Pay Scale is given but Grade is empty"),
    ("people.csv", "FM10302-1,010302,E07000991,A,PERM,12/09/2018", "FM10302-1,010302,E07000991,A,,12/09/2018",
     "employee FM10302 (employment FM10302-1): Contract Type is empty; it is required"),
    ("people.csv", "FM10302-1,010302,E07000991", "FM10302-1,010302,E07000999X",
     "Employer: 'E07000999X' is not a council's ONS GSS code"),
    ("absences.csv", "09/06/2025,09/06/2025,13/06/2025", "09/06/2025,,13/06/2025",
     "absence AB5002: a fit note needs Fit Note Issued, Fit Note From and Fit Note To"),
    ("posts.csv", "P10004,", "P 10004,", "post P 10004: Post Number 'P 10004' cannot make a record id"),
    ("absences.csv", "AB5003,FM10302,FM10302-1,SICK,14/07/2025,15/07/2025,D,2,,,,",
     "AB5003,FM10302,FM10302-1,SICK,14/07/2025,15/07/2025,D,2,,,",
     "absence AB5003: the row has 11 values but the header has 12 columns"),
])
def test_a_bad_value_rejects_its_row_with_a_reason(tmp_path, name, old, new, expected):
    rejected = one_rejection(edited(tmp_path, name, old, new))
    assert rejected.position.source.endswith(name)
    assert expected in rejected.reason
    assert rejected.native is not None


@pytest.mark.parametrize("fte, expected", [
    ("1e400", "FTE: '1e400' is not a number such as 0.6081"),
    ("50%", "FTE: '50%' is not a number such as 0.6081"),
    ("1,000", "FTE: '1,000' is not a number such as 0.6081"),
    ("Infinity", "FTE: 'Infinity' is not a number such as 0.6081"),
    ("1" + "0" * 400, "FTE: '10000000000000000000'... is too large a number"),
    ("0.80000000000000000001", "FTE: '0.800000000000000000'... has more digits than a number in the standard holds"),
])
def test_a_number_is_read_only_as_plain_digits_and_never_changed(tmp_path, fte, expected):
    rejected = one_rejection(edited(tmp_path, "people.csv", "0.8,29.6", f'"{fte}",29.6'))
    assert rejected.reason.startswith("employee FM10302 (employment FM10302-1): ")
    assert expected in rejected.reason, rejected.reason


def test_numbers_as_written_are_read_as_the_same_numbers(tmp_path):
    folder = edited(tmp_path, "people.csv", "0.8,29.6", "0.80,029.60")
    data = {m["subject"]: m["data"] for m in messages_of(read(folder))}
    assert data["E07000991-FM10302-1"]["assignments"][0]["working_pattern"]["fte"] == 0.8
    assert data["E07000991-FM10302-1"]["assignments"][0]["working_pattern"]["contracted_hours_per_week"] == 29.6


def test_a_row_without_its_key_is_named_by_its_number(tmp_path):
    rejected = one_rejection(edited(tmp_path, "org-units.csv", "FEN120,", ","))
    assert rejected.reason == "org-units.csv row 4: Org Unit Code is empty; every row of org-units.csv needs it"
    assert rejected.position.line == 5


def test_code_lists_are_read_whatever_the_case_and_gender_in_words(tmp_path):
    folder = export(tmp_path, people=good_text("people.csv").replace(",F,KL229384B,", ",Female,KL229384B,"),
                    absences=good_text("absences.csv").replace(",SICK,", ",sick,"))
    data = {m["subject"]: m["data"] for m in messages_of(read(folder))}
    assert data["E07000991-FM10302"]["legal_sex"] == "F"
    assert data["E07000991-AB5003"]["absence_type"] == "sickness"


def test_rows_of_one_employee_must_agree(tmp_path):
    text = good_text("people.csv")
    second = text.split("\r\n")[2]
    changed = text.replace(second, second.replace("Church Street", "Chapel Row"))
    rejected = one_rejection(export(tmp_path, people=changed))
    assert rejected.position.line == 3
    assert "the person's details (Street) differ from those on line 2 for the same Employee Number" in rejected.reason


def test_rows_of_one_employee_apart_must_agree_too(tmp_path):
    lines = good_text("people.csv").split("\r\n")
    assert lines[1].startswith("FM10231,") and lines[3].startswith("FM10244,")
    lines[2] = lines[2].replace("Church Street", "Chapel Row")  # the second row of FM10231...
    lines[2], lines[3] = lines[3], lines[2]  # ...after another employee's row
    rejected = one_rejection(export(tmp_path, people="\r\n".join(lines)))
    assert rejected.position.line == 4 and rejected.native["Employment Number"] == "FM10231-2"
    assert rejected.reason == ("employee FM10231 (employment FM10231-2): the person's details differ from those on "
                               "line 2 for the same Employee Number; the rows of one employee must agree: correct "
                               "one of them")
    lines[3] = lines[3].replace("Chapel Row", "Church Street")  # the same person again, rows apart: fine
    assert all(isinstance(o, Converted) for o in read(export(tmp_path / "again", people="\r\n".join(lines))))


def test_what_is_kept_per_employee_is_a_few_bytes():
    from plugshare.adapters.hr_csv.reader import Seen

    seen = Seen()
    tracemalloc.start()
    try:
        for number in range(20_000):
            key = f"FM{number:08d}"
            assert seen.differs(key, {"id": f"E07000991-{key}", "name": {"given_name": "Ann" * 100}}, number) is None
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert held < 20_000 * 200, f"{held / 20_000:.0f} bytes per employee"  # the docstrings say about 150
    assert seen.differs("FM00000007", {"id": "E07000991-FM00000007"}, 99) == 7
    assert seen.differs("FM00000007", {"id": "E07000991-FM00000007", "name": {"given_name": "Ann" * 100}}, 99) is None


# --- extensions: the loss rule ------------------------------------------------------------------------


def test_an_extra_column_is_kept_in_extensions_and_written_back(tmp_path):
    data = {m["subject"]: m["data"] for m in messages_of(read(GOOD))}
    assert data["E07000991-FM10231-2"]["extensions"] == {
        "native.hr-csv": {"Work Location": "Various, Fenmoor", "Annual Salary": "24790.00"}}
    assert data["E07000991-FM10231"]["extensions"] == {}  # the person: extra columns go on the employment
    text = good_text("posts.csv").split("\r\n")
    text[0] += ",Establishment Ref"
    text[1:-1] = [row + f",EST-{index}" for index, row in enumerate(text[1:-1])]
    folder = export(tmp_path, posts="\r\n".join(text))
    posts = [m["data"] for m in messages_of(read(folder)) if m["type"].endswith("hr.position")]
    assert posts[2]["extensions"] == {"native.hr-csv": {"Establishment Ref": "EST-2"}}
    write(messages_of(read(folder)), tmp_path / "out")
    assert (tmp_path / "out" / "posts.csv").read_bytes() == (folder / "posts.csv").read_bytes()


def test_an_extra_column_missing_from_the_first_record_is_rejected_when_written(tmp_path):
    messages = [m for m in canonical() if m["type"].endswith("hr.position")]
    messages[3]["data"]["extensions"] = {"native.hr-csv": {"Establishment Ref": "EST-3"}}
    outcomes = write(messages, tmp_path / "out")
    (reason,) = rejections(outcomes)
    assert reason.startswith("hr.position E07000991-P10004: the extra column(s) 'Establishment Ref'")
    assert "fixed by its first row" in reason
    assert (tmp_path / "out" / "posts.csv").read_bytes().count(b"\r\n") == 10


def test_the_annual_salary_is_read_in_other_money_forms(tmp_path):
    folder = edited(tmp_path, "people.csv", "29540.00", '"£29,540"')
    data = {m["subject"]: m["data"] for m in messages_of(read(folder))}
    assert data["E07000991-FM10302-1"]["extensions"]["native.hr-csv"]["Annual Salary"] == "29540.00"


# --- writing: what is rejected ----------------------------------------------------------------------


def by_subject(subject: str) -> dict:
    return copy.deepcopy(next(m for m in canonical() if m["subject"] == subject))


def test_writing_rejects_what_the_export_cannot_carry(tmp_path):
    deleted = by_subject("E07000991-AB5001")
    deleted["action"] = "delete"
    del deleted["data"]
    other_council = by_subject("E07000991-AB5002")
    other_council["council"] = "E07000992"
    two_posts = by_subject("E07000991-FM10244-1")
    two_posts["data"]["assignments"].append(dict(two_posts["data"]["assignments"][0], position_id="E07000991-P9"))
    foreign_id = by_subject("E07000991-P10001")
    foreign_id["data"]["org_unit_id"] = "E07000992-FEN110"
    no_code = by_subject("E07000991-AB5003")
    no_code["data"]["absence_type"] = "garden_leave"
    payslip = {"type": "uk.plugshare.payroll.payslip", "council": "E07000991", "subject": "x", "data": {"id": "x"}}
    messages = [deleted, other_council, by_subject("E07000991-FM10244"), two_posts, foreign_id, no_code, payslip]
    reasons = rejections(write(messages, tmp_path / "out"))
    assert len(reasons) == 7
    assert "hr.absence E07000991-AB5001: a deletion cannot be expressed in a snapshot export" in reasons[0]
    assert "the message is council E07000992's, but this export is E07000991's" in reasons[1]
    assert "hr.employment E07000991-FM10244-1: the employment has 2 assignments" in reasons[2]
    assert "Org Unit Code: id 'E07000992-FEN110' does not start with E07000991-" in reasons[3]
    assert "Absence Type: 'garden_leave' has no code in this format" in reasons[4]
    assert "payroll.payslip message has no place in the HR export" in reasons[5]
    assert "person E07000991-FM10244 has no employment among the messages" in reasons[6]
    assert (tmp_path / "out" / "people.csv").read_bytes().count(b"\r\n") == 1  # the header only


def converted_to_export(messages: list[dict], tmp_path: Path):
    """The messages written through the conversion: its summary, and the outcomes the writer gave."""
    source = tmp_path / "messages.ndjson"
    source.write_text("".join(json.dumps(m) + "\n" for m in messages), encoding="utf-8")
    outcomes = []

    class Recording(HrCsvAdapter):
        def write(self, messages, target):
            for outcome in super().write(messages, target):
                outcomes.append(outcome)
                yield outcome

    summary = convert(CanonicalSource(), str(source), Recording(OPTIONS), str(tmp_path / "out"))
    return summary, outcomes


def test_writing_the_canonical_sample_reports_nothing_lost(tmp_path):
    summary, outcomes = converted_to_export(canonical(), tmp_path)
    assert (summary.written, summary.quarantined) == (46, 0)
    assert summary.not_written == {} and all(o.lost == [] for o in outcomes)


def test_values_the_export_has_no_column_for_are_reported_not_dropped(tmp_path):
    messages = canonical()
    for message in messages:
        data = message["data"]
        if message["subject"] == "E07000991-FM10231":  # the first person, on two rows
            data["source_ids"].append({"scheme": "payroll", "value": "P-10231"})
            data["address"]["uprn"] = 100090123456
            data["extensions"] = {NAMESPACE: {"Locker": "12"}}
        elif message["subject"] == "E07000991-FM10244-1":
            data["source_ids"].insert(0, {"scheme": "payroll", "value": "P-10244"})
        elif message["subject"] == "E07000991-P10003":
            data["title"] = "Finance Manager "
    summary, outcomes = converted_to_export(messages, tmp_path)
    assert (summary.written, summary.quarantined) == (46, 0)
    assert dict(summary.not_written) == {
        "hr.person /data/source_ids/*": 2, "hr.person /data/address/uprn": 2,
        "hr.person /data/extensions/native.hr-csv/Locker": 2,  # read back as the employment's column
        "hr.employment /data/source_ids/*": 1, "hr.position /data/title": 1}
    lost = {o.messages[0]["subject"]: sorted(o.lost) for o in outcomes if o.lost}
    assert lost == {"E07000991-FM10231": ["/data/address/uprn", "/data/extensions/native.hr-csv/Locker",
                                          "/data/source_ids/1"],
                    "E07000991-FM10244-1": ["/data/source_ids/0"], "E07000991-P10003": ["/data/title"]}
    written = (tmp_path / "out" / "people.csv").read_text(encoding="utf-8")
    assert "Locker" in written.splitlines()[0] and "P-10244" not in written


def test_an_employment_whose_person_never_comes_is_rejected(tmp_path):
    outcomes = write([by_subject("E07000991-FM10302-1")], tmp_path / "out")
    (reason,) = rejections(outcomes)
    assert "hr.employment E07000991-FM10302-1: its person E07000991-FM10302 is not among the messages" in reason


def kofi(street: str | None = None) -> dict:
    """The person FM10231 (two employments in the sample), with another street if given."""
    person = by_subject("E07000991-FM10231")
    if street:
        person["data"]["address"]["street"] = street
    return person


def reads_back_whole(folder: Path) -> list:
    outcomes = read(folder)
    assert not rejections(outcomes)
    return messages_of(outcomes)


def test_a_person_changed_after_their_row_is_written_is_rejected_and_the_rows_agree(tmp_path):
    first, second = by_subject("E07000991-FM10231-1"), by_subject("E07000991-FM10231-2")
    outcomes = write([kofi(), first, kofi("Chapel Row"), second], tmp_path / "out")
    assert [type(o).__name__ for o in sorted(outcomes, key=lambda o: o.position.record)] == [
        "Converted", "Converted", "Rejected", "Converted"]
    (rejected,) = [o for o in outcomes if isinstance(o, Rejected)]
    assert rejected.position.record == 3
    assert rejected.reason.startswith("hr.person E07000991-FM10231: the person's details differ from those of "
                                      "message 1, already written on their people.csv rows")
    assert all(o.lost == [] for o in outcomes if isinstance(o, Converted))
    back = reads_back_whole(tmp_path / "out")  # both rows carry Church Street: the export reads
    assert {m["data"]["address"]["street"] for m in back if m["type"].endswith("hr.person")} == {"Church Street"}
    # the same person again, as written, is a repeat
    outcomes = write([kofi(), first, kofi(), second], tmp_path / "again")
    assert all(isinstance(o, Converted) and o.lost == [] for o in outcomes)
    assert len(outcomes) == 4


def test_a_waiting_person_replaced_by_a_later_version_is_rejected_naming_it(tmp_path):
    first = by_subject("E07000991-FM10231-1")
    outcomes = write([kofi(), kofi("Chapel Row"), first], tmp_path / "out")
    by_number = {o.position.record: o for o in outcomes}
    assert sorted(by_number) == [1, 2, 3]
    assert isinstance(by_number[1], Rejected)
    assert by_number[1].reason.startswith("hr.person E07000991-FM10231: replaced by message 2, a later version of "
                                          "the person with other details")
    assert isinstance(by_number[2], Converted) and by_number[2].lost == []
    assert isinstance(by_number[3], Converted) and by_number[3].lost == []
    (person,) = [m for m in reads_back_whole(tmp_path / "out") if m["type"].endswith("hr.person")]
    assert person["data"]["address"]["street"] == "Chapel Row"
    # sent again the same while waiting: both are written with the row
    outcomes = write([kofi(), kofi(), first], tmp_path / "again")
    assert all(isinstance(o, Converted) and o.lost == [] for o in outcomes) and len(outcomes) == 3


def test_employments_first_then_a_changed_person_keeps_the_rows_agreeing(tmp_path):
    first, second = by_subject("E07000991-FM10231-1"), by_subject("E07000991-FM10231-2")
    outcomes = write([first, second, kofi(), kofi("Chapel Row")], tmp_path / "out")
    assert [isinstance(o, Converted) for o in sorted(outcomes, key=lambda o: o.position.record)] == [
        True, True, True, False]
    reads_back_whole(tmp_path / "out")


@pytest.mark.parametrize("person_extra, employment_extra, expected", [
    ({}, {"Ward": "N", "WARD": "S"}, "the extension native.hr-csv 'WARD' has the name of the extension 'Ward'"),
    ({}, {" ": "x"}, "the extension native.hr-csv ' ' has a blank name"),
    ({}, {"weekly  HOURS": "37"}, "the extension native.hr-csv 'weekly  HOURS' has the name of the field "
                                  "'Weekly Hours'"),
    ({"Locker": "12"}, {"LOCKER": "13"}, "the columns 'Locker' and 'LOCKER' would be one column to a reader"),
])
def test_extra_columns_a_reader_would_take_for_one_are_rejected(tmp_path, person_extra, employment_extra, expected):
    person, employment = by_subject("E07000991-FM10302"), by_subject("E07000991-FM10302-1")
    person["data"]["extensions"] = {NAMESPACE: person_extra}
    employment["data"]["extensions"][NAMESPACE].update(employment_extra)
    outcomes = write([person, employment, by_subject("E07000991-FM10244"), by_subject("E07000991-FM10244-1")],
                     tmp_path / "out")
    (rejected,) = [o for o in outcomes if isinstance(o, Rejected) and o.position.record == 2]
    assert expected in rejected.reason, rejected.reason
    assert [o.messages[0]["subject"] for o in outcomes if isinstance(o, Converted)] == [
        "E07000991-FM10244", "E07000991-FM10244-1"]  # and the person, with no employment written, is rejected
    reads_back_whole(tmp_path / "out")  # the header is one the reader takes


def test_a_date_of_birth_is_never_repeated_in_a_reason(tmp_path):
    person = by_subject("E07000991-FM10302")
    person["data"]["birth_date"] = "17/08/1992"
    leaver = by_subject("E07000991-FM10244-1")
    leaver["data"]["end_date"] = "31/07/2025"
    reasons = rejections(write([person, by_subject("E07000991-FM10302-1"), by_subject("E07000991-FM10244"), leaver],
                               tmp_path / "out"))
    assert reasons[0] == ("hr.person E07000991-FM10302: Date of Birth: the value is not a date in the form "
                          "YYYY-MM-DD (value withheld: personal data)")
    assert "Leaving Date: '31/07/2025' is not a date in the form YYYY-MM-DD" in reasons[1]
    assert not any("1992" in reason for reason in reasons)


def test_a_garbled_message_is_named_by_its_field_not_its_value(tmp_path):
    person = by_subject("E07000991-FM10302")
    person["data"]["name"] = "Grace Hollins 17/08/1992"  # not an object: the path cannot go in
    unit = by_subject("E07000991-FEN110")
    unit["data"]["start_date"] = 17081992  # a number: no date
    employment = by_subject("E07000991-FM10244-1")
    del employment["data"]["assignments"]
    absence = by_subject("E07000991-AB5001")
    absence["data"]["extensions"] = "KL229384B"
    reasons = rejections(write([person, unit, employment, absence], tmp_path / "out"))
    assert "Title: the record's name.title cannot be found (a value on its way is not an object or a list)" in \
        reasons[0]
    assert "Effective From: 17081992 is not a date in the form YYYY-MM-DD" in reasons[1]  # not personal data
    assert "(it has no assignments)" in reasons[2]
    assert "(a value of the wrong kind: AttributeError)" in reasons[3]
    assert not any("Hollins" in reason or "KL229384B" in reason for reason in reasons)


def test_an_employment_whose_person_was_rejected_is_told_so(tmp_path):
    person = by_subject("E07000991-FM10302")
    person["data"]["legal_sex"] = "X"
    reasons = rejections(write([person, by_subject("E07000991-FM10302-1")], tmp_path / "out"))
    assert "Gender: 'X' has no code" in reasons[0]
    assert reasons[1].startswith("hr.employment E07000991-FM10302-1: its person E07000991-FM10302 was rejected "
                                 "(message 1; see its reason)")


def test_a_message_that_skipped_validation_is_rejected_not_a_traceback(tmp_path):
    garbled = by_subject("E07000991-P10001")
    del garbled["data"]["title"]
    garbled["data"]["budgeted_fte"] = "one"
    (reason,) = rejections(write([garbled], tmp_path / "out"))
    assert reason == "hr.position E07000991-P10001: Post Title is empty; the record has no title"
    garbled["data"]["title"] = "Revenues Officer"
    (reason,) = rejections(write([garbled], tmp_path / "again"))
    assert reason == "hr.position E07000991-P10001: Budgeted FTE: 'one' is not a number"


def test_writing_needs_a_directory(tmp_path):
    (tmp_path / "file.csv").write_text("x")
    with pytest.raises(AdapterError, match="is a file; the hr-csv adapter writes a directory"):
        write(canonical(), tmp_path / "file.csv")
    with pytest.raises(AdapterError, match="not standard output"):
        write(canonical(), "-")


def test_writing_streams_and_leaves_no_partial_file_when_stopped(tmp_path):
    pulled = []

    def messages():
        for number in range(1, 100_000):
            pulled.append(number)
            unit = by_subject("E07000991-FEN110")
            unit["data"]["id"] = unit["subject"] = f"E07000991-OU{number}"
            yield unit

    outcomes = HrCsvAdapter(OPTIONS).write(messages(), str(tmp_path / "out"))
    first = [next(outcomes) for _ in range(5)]
    assert all(isinstance(o, Converted) for o in first) and len(pulled) == 5
    outcomes.close()
    assert list((tmp_path / "out").iterdir()) == []


def test_other_files_in_the_output_directory_are_left_alone(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "README.txt").write_text("kept")
    write(canonical(), tmp_path / "out")
    assert (tmp_path / "out" / "README.txt").read_text() == "kept" and same_files(tmp_path / "out", GOOD)


# --- round trip with generated records ---------------------------------------------------------------

_CHARACTERS = st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\u2028\u2029\x85")
TEXT = st.text(alphabet=st.one_of(_CHARACTERS, st.sampled_from([",", '"', "\n", "\r", "\t"])),
               min_size=1, max_size=30).map(str.strip).filter(bool)
KEY = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,15}", fullmatch=True)
DAY = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2025, 9, 1))
FRACTION = st.floats(min_value=0.0001, max_value=1, allow_nan=False)


@st.composite
def employees(draw):
    key, start = draw(KEY), draw(DAY)
    ids = {"source_ids": [{"scheme": "hr-csv", "value": key}], "extensions": {}}
    person = {"id": f"E07000991-{key}", **ids, "name": {"given_name": draw(TEXT), "family_name": draw(TEXT)}}
    if draw(st.booleans()):
        person["address"] = {"street": draw(TEXT), "town": draw(TEXT), "postcode": "PE13 9UE"}
    extra = {"native.hr-csv": {"Work Location": draw(TEXT), "Annual Salary": f"{draw(st.integers(1, 99999999))}.05"}}
    employment = {
        "id": f"E07000991-{key}-1", "source_ids": [{"scheme": "hr-csv", "value": f"{key}-1"}], "extensions": extra,
        "person_id": person["id"], "employer": "E07000991", "status": "active",
        "contract_type": draw(st.sampled_from(["permanent", "fixed_term", "casual"])),
        "start_date": start.isoformat(), "continuous_service_date": start.isoformat(),
        "assignments": [{"position_id": f"E07000991-{draw(KEY)}", "start_date": start.isoformat(),
                         "working_pattern": {"fte": draw(FRACTION), "contracted_hours_per_week": 37 * draw(FRACTION),
                                             "weeks_per_year": draw(st.sampled_from([52.143, 39.0, 43.5]))}}]}
    absence = {"id": f"E07000991-A{key}", "source_ids": [{"scheme": "hr-csv", "value": f"A{key}"}], "extensions": {},
               "person_id": person["id"], "employment_id": employment["id"], "absence_type": "annual_leave",
               "start_date": start.isoformat(), "unit": draw(st.sampled_from(["days", "hours"])),
               "amount": draw(st.floats(min_value=0, max_value=400, allow_nan=False)), "reason": draw(TEXT)}
    return person, employment, absence


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(staff=st.lists(employees(), min_size=1, max_size=5, unique_by=lambda e: e[0]["id"]))
def test_generated_records_round_trip_through_the_export(tmp_path, staff):
    adapter = HrCsvAdapter(OPTIONS)
    messages = []
    for person, employment, _ in staff:
        messages += [adapter.message("hr.person", person), adapter.message("hr.employment", employment)]
    messages += [adapter.message("hr.absence", absence) for _, _, absence in staff]
    for message in messages:
        assert not must_problems(message), message
    first, second = tmp_path / "first", tmp_path / "second"
    for folder in (first, second):
        shutil.rmtree(folder, ignore_errors=True)
    outcomes = write(messages, first)
    assert all(isinstance(o, Converted) for o in outcomes), rejections(outcomes)
    read_back = messages_of(read(first))
    assert read_back == messages
    write(read_back, second)
    assert same_files(first, second)


# --- memory -------------------------------------------------------------------------------------------


def test_reading_a_large_export_keeps_memory_flat(tmp_path):
    folder = tmp_path / "big"
    folder.mkdir()
    header, row = good_text("posts.csv").split("\r\n")[:2]
    rows = 50_000
    with open(folder / "posts.csv", "w", encoding="utf-8", newline="") as handle:
        handle.write(header + "\r\n")
        for number in range(rows):
            handle.write(row.replace("P10001", f"P{number:06d}") + "\r\n")
    size = (folder / "posts.csv").stat().st_size
    count = 0
    tracemalloc.start()
    try:
        for outcome in HrCsvAdapter(OPTIONS).read(str(folder)):
            count += isinstance(outcome, Converted)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == rows
    # holding 50,000 messages of about 1 kB would take some 50 MB; the file itself is about 3 MB
    assert peak < 1_000_000 and peak < size / 3, f"peak {peak:,} bytes for a file of {size:,}"
