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


def test_a_progress_line_when_asked(tmp_path):
    result = CliRunner().invoke(main, ["convert", "--from", "canonical", "--to", "canonical", "--progress",
                                       str(canonical_file(tmp_path, bad=False)), str(tmp_path / "o.ndjson")])
    assert result.exit_code == 0
    assert "\r  read " in result.output


def test_adapters_list_as_json_names_plugin_and_distribution():
    result = run("adapters", "list", "--format", "json")
    listed = json.loads(result.output)
    assert result.exit_code == 0, result.output
    for entry in listed:
        assert {"key", "title", "reads", "writes", "plugin", "distribution", "options"} <= set(entry)
    builtin = [entry for entry in listed if entry["builtin"]]
    assert all(entry["distribution"] == "plugshare" for entry in builtin)
