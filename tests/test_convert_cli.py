"""`plugshare convert` and `plugshare adapters`: counts, quarantine, exit statuses, no progress in a pipe."""

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from plugshare.cli import main

VALID = Path("spec/examples/valid")


def canonical_file(tmp_path: Path, bad: bool = True) -> Path:
    lines = [json.dumps(json.loads((VALID / name).read_text()))
             for name in ("hr.person.json", "hr.position.json", "payroll.bank-account.json")]
    if bad:
        broken = json.loads((VALID / "hr.person.json").read_text())
        broken["data"]["ni_number"] = "QQ123456C"
        lines.insert(1, json.dumps(broken))
    path = tmp_path / "in.ndjson"
    path.write_text("\n".join(lines) + "\n")
    return path


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_a_bad_record_is_quarantined_with_a_reason_and_the_rest_converted(tmp_path):
    out, quarantine = tmp_path / "out.ndjson", tmp_path / "q.ndjson"
    result = run("convert", "--from", "canonical", "--to", "canonical", str(canonical_file(tmp_path)), str(out),
                 "--quarantine", str(quarantine))
    assert result.exit_code == 1, result.output
    assert "read 4 records: 3 converted, 1 quarantined" in result.output
    assert len(out.read_text().splitlines()) == 3
    [entry] = [json.loads(line) for line in quarantine.read_text().splitlines()]
    assert entry["record"] == 2 and entry["line"] == 2 and entry["requirement"]
    assert "ni_number" in entry["reason"] and "QQ123456C" not in result.output


def test_max_rejects_allows_some(tmp_path):
    result = run("convert", "--from", "canonical", "--to", "canonical", "--max-rejects", "1",
                 str(canonical_file(tmp_path)), str(tmp_path / "o.ndjson"))
    assert result.exit_code == 0 and "within --max-rejects 1" in result.output


def test_unknown_adapter_and_unknown_option_exit_2_with_a_clear_message(tmp_path):
    result = run("convert", "--from", "nonesuch", "--to", "canonical", "x", "y")
    assert result.exit_code == 2 and "no adapter 'nonesuch'" in result.output
    result = run("convert", "--from", "canonical", "--to", "canonical", "-o", "colour=red",
                 str(canonical_file(tmp_path)), str(tmp_path / "o"))
    assert result.exit_code == 2 and "option colour" in result.output
    result = run("convert", "--from", "canonical", "--to", "canonical", str(tmp_path / "missing"), "o")
    assert result.exit_code == 2 and "no such file" in result.output and "Traceback" not in result.output


def test_no_progress_line_in_a_pipe_and_the_summary_at_the_end(tmp_path):
    process = subprocess.run(
        [sys.executable, "-m", "plugshare", "convert", "--from", "canonical", "--to", "canonical",
         str(canonical_file(tmp_path, bad=False)), str(tmp_path / "o.ndjson")],
        capture_output=True, text=True, check=False)
    assert process.returncode == 0, process.stderr
    assert "\r" not in process.stderr and "\r" not in process.stdout
    assert process.stdout.splitlines()[0].startswith("canonical -> canonical: read 3 records: 3 converted")


def test_a_progress_line_when_asked_and_none_off_a_terminal(tmp_path, monkeypatch):
    from plugshare import progress

    times = iter([1000.0, 1000.001, 1000.5, 1000.75, 1001.0])  # started; a record at once; then every 0.25 s
    monkeypatch.setattr(progress.time, "monotonic", lambda: next(times))
    command = ["convert", "--from", "canonical", "--to", "canonical", str(canonical_file(tmp_path, bad=False)),
               str(tmp_path / "o.ndjson")]
    result = CliRunner().invoke(main, [*command, "--progress"])
    assert result.exit_code == 0
    assert "read 1 records" not in result.output  # no line before an interval, so no rate of 1,000 a second
    assert "\r  read 2 records: 2 converted, 0 quarantined (4 a second, 0 s)" in result.output
    assert "\r  read 3 records: 3 converted, 0 quarantined (4 a second, 1 s)" in result.output
    times = iter([1000.0, 1000.5, 1001.0, 1001.5])
    unasked = CliRunner().invoke(main, command)  # CliRunner's standard error is not a terminal
    assert unasked.exit_code == 0 and "\r" not in unasked.output


def test_adapters_list_as_json_names_plugin_and_distribution():
    result = run("adapters", "list", "--format", "json")
    listed = json.loads(result.output)
    assert result.exit_code == 0, result.output
    for entry in listed:
        assert {"key", "title", "reads", "writes", "plugin", "distribution", "options"} <= set(entry)
    builtin = [entry for entry in listed if entry["builtin"]]
    assert all(entry["distribution"] == "plugshare" for entry in builtin)
