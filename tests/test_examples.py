"""spec/examples: the valid ones pass `plugshare validate`; each invalid one fails naming its requirement."""

import json
import subprocess
import sys

import pytest

from plugshare.standard.paths import spec_dir
from plugshare.standard.requirements import by_id

INVALID = sorted((spec_dir() / "examples" / "invalid").iterdir())


def run_validate(*args):
    return subprocess.run([sys.executable, "-m", "plugshare", "validate", *map(str, args)],
                          capture_output=True, text=True)


def test_valid_examples_all_pass(spec):
    files = sorted((spec / "examples" / "valid").iterdir())
    result = run_validate(*files)
    assert result.returncode == 0, result.stdout
    assert "0 invalid" in result.stdout


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_invalid_example_fails_naming_its_requirement(path):
    requirement = path.name.split("--")[0]
    assert requirement in by_id(), f"{path.name} does not start with a requirement id"
    result = run_validate(path)
    assert result.returncode == 1, result.stdout
    assert f"[{requirement}]" in result.stdout
    assert "Traceback" not in result.stderr


def test_every_must_requirement_has_a_published_invalid_example():
    named = {p.name.split("--")[0] for p in INVALID}
    must = {r.id for r in by_id().values() if r.level == "MUST" and r.enforced_by in ("reader", "schema", "rule")}
    assert must <= named, must - named


def test_index_lists_every_example(spec):
    index = json.loads((spec / "examples" / "index.json").read_text())
    listed = {e["file"] for e in index["examples"]}
    on_disk = {f"{p.parent.name}/{p.name}" for p in (spec / "examples").glob("*/*")}
    assert listed == on_disk
