"""The files under spec/ are the product: valid 2020-12 schemas, versioned ids, portable patterns."""

import json
import re
import subprocess
import sys

import pytest
from jsonschema import Draft202012Validator
from pydantic_core import SchemaValidator

from plugshare.models import MESSAGE_TYPES
from plugshare.models.version import STANDARD_VERSION
from plugshare.standard import export
from plugshare.standard.requirements import by_id

LOOK_AROUND = re.compile(r"\(\?(=|!|<=|<!)")


def schema_files(spec):
    return sorted((spec / "schemas").glob("*.json"))


def walk(node):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def test_at_least_fifteen_message_types_across_the_three_domains(spec):
    names = [p.stem for p in schema_files(spec) if p.stem != "common"]
    assert len(names) >= 15
    assert {n.split(".")[0] for n in names} == {"hr", "payroll", "revenues"}
    assert set(names) == set(MESSAGE_TYPES)


@pytest.mark.parametrize("name", sorted(MESSAGE_TYPES) + ["common"])
def test_each_file_is_a_valid_2020_12_schema_with_a_versioned_id(spec, name):
    schema = json.loads((spec / "schemas" / f"{name}.json").read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)
    assert schema["$id"] == f"https://plugshare.uk/schemas/{STANDARD_VERSION}/{name}.json"


def test_patterns_are_portable(spec):
    """No look-around, and each compiles in a non-backtracking engine (pydantic-core's Rust regex)."""
    patterns = {node["pattern"] for path in schema_files(spec) for node in walk(json.loads(path.read_text()))
                if isinstance(node.get("pattern"), str)}
    assert len(patterns) > 10
    for pattern in patterns:
        assert not LOOK_AROUND.search(pattern), pattern
        SchemaValidator({"type": "str", "pattern": pattern})  # raises on a pattern Rust regex rejects


def test_every_cited_requirement_exists_in_the_catalogue(spec):
    catalogue = by_id()
    cited = {node["x-requirement"] for path in schema_files(spec) for node in walk(json.loads(path.read_text()))
             if "x-requirement" in node}
    assert cited and cited <= set(catalogue), cited - set(catalogue)
    schema_level = {r.id for r in catalogue.values() if r.enforced_by == "schema"}
    assert schema_level - cited == {"PS-SCH-001"}, "each schema requirement is cited by the schema that enforces it"


def test_optional_fields_are_never_null(spec):
    for path in schema_files(spec):
        text = path.read_text()
        assert '"null"' not in text, f"{path.name} allows null"


def test_uk_specifics_are_expressible(spec):
    common = json.loads((spec / "schemas" / "common.json").read_text())
    payslip = json.loads((spec / "schemas" / "payroll.payslip.json").read_text())
    bill = json.loads((spec / "schemas" / "revenues.council-tax-bill.json").read_text())
    assert "W4" in payslip["$defs"]["PayFrequency"]["enum"]
    assert payslip["$defs"]["Payslip"]["properties"]["period_number"]["maximum"] == 56
    assert "I" in bill["$defs"]["CouncilTaxBand"]["enum"]
    assert "S" in payslip["$defs"]["TaxRegime"]["enum"]
    assert "Money" in common["$defs"] and "NationalInsuranceNumber" in common["$defs"]


def test_committed_spec_is_fresh(spec):
    assert export.stale(spec) == [], "regenerate with 'plugshare spec export' and commit"


def test_spec_export_check_command_exits_0_when_fresh():
    result = subprocess.run([sys.executable, "-m", "plugshare", "spec", "export", "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_spec_export_check_names_the_stale_file_and_exits_1(spec, tmp_path):
    import shutil

    copy = tmp_path / "spec"
    shutil.copytree(spec, copy)
    person = copy / "schemas" / "hr.person.json"
    person.write_text(person.read_text().replace('"additionalProperties": false', '"additionalProperties": true', 1))
    (copy / "schemas" / "hr.leftover.json").write_text("{}")
    result = subprocess.run([sys.executable, "-m", "plugshare", "spec", "export", "--check", "--spec-dir", str(copy)],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert "hr.person.json" in result.stdout and "hr.leftover.json" in result.stdout

    write = subprocess.run([sys.executable, "-m", "plugshare", "spec", "export", "--spec-dir", str(copy)],
                           capture_output=True, text=True)
    assert write.returncode == 0 and export.stale(copy) == []
    assert not (copy / "schemas" / "hr.leftover.json").exists()
