"""End-to-end tests of ``plugshare validate``: the real command, run as a subprocess.

Each test builds its inputs in a temporary directory, runs the command there
and checks the exit code, what the report names (file, line, requirement id)
and that bad input never produces a traceback.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from plugshare.standard.paths import spec_dir

VALID = spec_dir() / "examples" / "valid"
SUMMARY = re.compile(r"([\d,]+) messages? in [\d,]+ inputs?, ([\d,]+) valid, ([\d,]+) invalid")


def example(name: str = "hr.person.json") -> dict:
    return json.loads((VALID / name).read_text(encoding="utf-8"))


def line(message: dict) -> str:
    return json.dumps(message) + "\n"


def validate(cwd: Path, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "plugshare", "validate", *args], cwd=cwd, input=stdin,
                            capture_output=True, timeout=120)
    result.stdout, result.stderr = result.stdout.decode(), result.stderr.decode()
    assert "Traceback" not in result.stdout + result.stderr, result.stdout + result.stderr
    return result


def counts(stdout: str) -> tuple[int, int, int]:
    """(messages, valid, invalid) from the text report's summary line."""
    found = SUMMARY.search(stdout)
    assert found, stdout
    return tuple(int(n.replace(",", "")) for n in found.groups())


def json_report(cwd: Path, *args: str, stdin: bytes | None = None) -> tuple[int, dict]:
    result = validate(cwd, "--format", "json", *args, stdin=stdin)
    return result.returncode, json.loads(result.stdout)


def test_valid_message_exits_0(tmp_path):
    (tmp_path / "person.json").write_text(json.dumps(example()))
    result = validate(tmp_path, "person.json")
    assert result.returncode == 0, result.stdout
    assert counts(result.stdout) == (1, 1, 0)


def test_line_that_is_not_json_is_reported_with_its_line_number(tmp_path):
    (tmp_path / "in.ndjson").write_text(line(example()) + "{name: 'not json'}\n")
    result = validate(tmp_path, "in.ndjson")
    assert result.returncode == 1
    assert "in.ndjson:2" in result.stdout and "PS-ENV-001" in result.stdout
    assert counts(result.stdout) == (2, 1, 1)


def test_latin1_bytes_are_reported_as_not_utf8(tmp_path):
    (tmp_path / "in.ndjson").write_bytes(line(example()).encode() + '{"name": "café"}\n'.encode("latin-1"))
    result = validate(tmp_path, "in.ndjson")
    assert result.returncode == 1
    assert "in.ndjson:2" in result.stdout and "PS-ENV-001" in result.stdout and "UTF-8" in result.stdout
    assert counts(result.stdout) == (2, 1, 1)


@pytest.mark.parametrize("name", ["empty.json", "empty.ndjson"])
def test_empty_file_is_reported_as_holding_no_message(tmp_path, name):
    (tmp_path / name).write_bytes(b"")
    result = validate(tmp_path, name)
    assert result.returncode == 1
    assert name in result.stdout and "PS-ENV-001" in result.stdout and "empty" in result.stdout


def test_enormous_line_is_skipped_and_the_next_line_still_validated(tmp_path):
    enormous = json.dumps({"padding": "x" * 1_200_000}) + "\n"
    (tmp_path / "in.ndjson").write_text(enormous + line(example()))
    result = validate(tmp_path, "in.ndjson")
    assert result.returncode == 1
    assert "in.ndjson:1" in result.stdout and "PS-ENV-002" in result.stdout
    assert "in.ndjson:2" not in result.stdout
    assert counts(result.stdout) == (2, 1, 1)

    _, report = json_report(tmp_path, "in.ndjson")
    assert [(r["line"], r["problems"][0]["requirement"]) for r in report["results"]] == [(1, "PS-ENV-002")]
    summary = report["summary"]
    assert (summary["messages"], summary["valid"], summary["invalid"]) == (2, 1, 1)


def test_unknown_message_type_is_ps_env_003(tmp_path):
    (tmp_path / "pet.json").write_text(json.dumps(dict(example(), type="uk.plugshare.hr.pet")))
    result = validate(tmp_path, "pet.json")
    assert result.returncode == 1
    assert "pet.json:1" in result.stdout and "PS-ENV-003" in result.stdout and "/type" in result.stdout


@pytest.mark.parametrize("value", ["[1, 2]", '"text"', "42", "null", "true"])
def test_json_value_that_is_not_an_object_is_ps_env_001(tmp_path, value):
    (tmp_path / "in.ndjson").write_text(value + "\n")
    result = validate(tmp_path, "in.ndjson")
    assert result.returncode == 1
    assert "in.ndjson:1" in result.stdout and "PS-ENV-001" in result.stdout and "JSON object" in result.stdout


def test_duplicate_keys_are_rejected(tmp_path):
    text = json.dumps(example())
    (tmp_path / "dup.json").write_text(text[:-1] + ', "id": "another"}')
    result = validate(tmp_path, "dup.json")
    assert result.returncode == 1
    assert "dup.json:1" in result.stdout and "PS-ENV-001" in result.stdout and "'id' appears twice" in result.stdout


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_rejected(tmp_path, constant):
    (tmp_path / "in.ndjson").write_text(line(example()) + f'{{"amount": {constant}}}\n')
    result = validate(tmp_path, "in.ndjson")
    assert result.returncode == 1
    assert "in.ndjson:2" in result.stdout and "PS-ENV-001" in result.stdout and constant in result.stdout
    assert counts(result.stdout) == (2, 1, 1)


def mixed_stream() -> str:
    """Five lines: valid, not JSON, unknown type, blank (ignored), valid."""
    return line(example()) + "{oops\n" + line(dict(example(), type="x")) + "\n" + line(example("hr.position.json"))


def test_ndjson_mix_of_valid_and_invalid_counts_add_up(tmp_path):
    (tmp_path / "mix.ndjson").write_text(mixed_stream())
    result = validate(tmp_path, "mix.ndjson")
    assert result.returncode == 1
    assert "mix.ndjson:2" in result.stdout and "mix.ndjson:3" in result.stdout
    assert "mix.ndjson:1:" not in result.stdout and "mix.ndjson:5" not in result.stdout
    messages, valid, invalid = counts(result.stdout)
    assert (messages, valid, invalid) == (4, 2, 2) and messages == valid + invalid

    _, report = json_report(tmp_path, "mix.ndjson")
    summary = report["summary"]
    assert (summary["messages"], summary["valid"], summary["invalid"]) == (4, 2, 2)
    assert summary["by_requirement"] == {"PS-ENV-001": 1, "PS-ENV-003": 1}


def test_standard_input_is_read_with_dash(tmp_path):
    result = validate(tmp_path, "-", stdin=mixed_stream().encode())
    assert result.returncode == 1
    assert "-:2" in result.stdout and "-:3" in result.stdout and "PS-ENV-003" in result.stdout
    assert counts(result.stdout) == (4, 2, 2)


def test_directory_is_expanded_to_the_message_files_it_holds(tmp_path):
    (tmp_path / "in" / "sub").mkdir(parents=True)
    (tmp_path / "in" / "person.json").write_text(json.dumps(example()))
    (tmp_path / "in" / "sub" / "mix.ndjson").write_text(mixed_stream())
    (tmp_path / "in" / "notes.txt").write_text("not a message")
    result = validate(tmp_path, "in")
    assert result.returncode == 1
    assert "mix.ndjson:2" in result.stdout and "notes.txt" not in result.stdout
    assert "in 2 inputs" in result.stdout
    assert counts(result.stdout) == (5, 3, 2)


def test_json_array_file_reports_each_message_by_index(tmp_path):
    (tmp_path / "array.json").write_text(json.dumps([example(), 3, dict(example(), type="x")], indent=2))
    result = validate(tmp_path, "array.json")
    assert result.returncode == 1
    assert "array.json[1]" in result.stdout and "array.json[2]" in result.stdout
    assert "array.json[0]" not in result.stdout
    assert counts(result.stdout) == (3, 1, 2)


def test_missing_file_exits_2_and_other_files_are_still_validated(tmp_path):
    (tmp_path / "mix.ndjson").write_text(mixed_stream())
    result = validate(tmp_path, "missing.json", "mix.ndjson")
    assert result.returncode == 2
    assert "missing.json" in result.stdout and "no such file" in result.stdout
    assert "mix.ndjson:2" in result.stdout
    assert counts(result.stdout) == (4, 2, 2)

    code, report = json_report(tmp_path, "missing.json", "mix.ndjson")
    assert code == 2 and report["summary"]["unreadable_inputs"] == ["missing.json"]


def test_json_format_problems_carry_requirement_pointer_reason_line_and_message_id(tmp_path):
    broken = example()
    del broken["data"]["name"]
    (tmp_path / "in.ndjson").write_text(line(example()) + line(broken))
    code, report = json_report(tmp_path, "in.ndjson")
    assert code == 1
    [result] = report["results"]
    assert (result["source"], result["line"], result["message_id"]) == ("in.ndjson", 2, broken["id"])
    assert result["valid"] is False
    [problem] = result["problems"]
    assert problem["requirement"] == "PS-SCH-001" and problem["pointer"] == "/data/name"
    assert "name" in problem["reason"]
    assert report["summary"]["messages"] == 2 and report["summary"]["invalid"] == 1


def with_data(name: str, field: str, value: str) -> dict:
    message = example(name)
    message["data"][field] = value
    return message


@pytest.mark.parametrize("name, field, value, requirement", [
    ("hr.person.json", "ni_number", "GB123456A", "PS-ID-002"),
    ("hr.person.json", "birth_date", "2030-01-01", "PS-HR-009"),
    ("payroll.bank-account.json", "account_number", "1234567", "PS-ID-008"),
])
@pytest.mark.parametrize("output_format", ["text", "json"])
def test_reports_never_show_personal_data(tmp_path, name, field, value, requirement, output_format):
    (tmp_path / "in.json").write_text(json.dumps(with_data(name, field, value)))
    result = validate(tmp_path, "--format", output_format, "--verbose", "in.json")
    assert result.returncode == 1
    assert requirement in result.stdout and f"/data/{field}" in result.stdout
    assert value not in result.stdout + result.stderr


def test_no_paths_is_a_usage_error_exiting_2(tmp_path):
    result = validate(tmp_path)
    assert result.returncode == 2
    assert "PATHS" in result.stderr


def test_deeply_nested_json_is_reported_not_crashed(tmp_path):
    (tmp_path / "in.ndjson").write_text("[" * 100_000 + "\n" + line(example()))
    result = validate(tmp_path, "in.ndjson")
    assert result.returncode == 1
    assert "in.ndjson:1" in result.stdout and "PS-ENV-001" in result.stdout
    assert counts(result.stdout) == (2, 1, 1)


def test_empty_directory_does_not_stop_other_directories_being_validated(tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "empty").mkdir()
    (tmp_path / "full" / "mix.ndjson").write_text(mixed_stream())
    result = validate(tmp_path, "full", "empty")
    assert result.returncode == 2
    assert "empty" in result.stdout and "mix.ndjson:2" in result.stdout
    assert counts(result.stdout) == (4, 2, 2)


def test_syntax_error_in_pretty_printed_document_names_its_line(tmp_path):
    (tmp_path / "pretty.json").write_text('{\n  "id": "x",\n  "type": "a"\n  "b": 1\n}\n')
    result = validate(tmp_path, "pretty.json")
    assert result.returncode == 1 and "PS-ENV-001" in result.stdout
    assert "pretty.json:4" in result.stdout or "line 4" in result.stdout
