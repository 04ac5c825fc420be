"""Every MUST requirement of the catalogue is verified.

A requirement on messages has a valid case and an invalid case: the invalid
case is the published example that breaks it (a valid message with one named
change); the valid case is the same message before the change. The test asserts
that the change, and only the change, breaks that requirement. A requirement of
the REST API binds servers and clients, not messages: the API's tests cite it.
"""

import json
import re
from pathlib import Path

import pytest

from plugshare.standard.examples import BREACHES, base
from plugshare.standard.requirements import RETIRED, SECTIONS, catalogue
from plugshare.validation.reader import read_path
from plugshare.validation.validator import validate_entries

MESSAGE_CHECKS = ("reader", "schema", "rule")
MUST = [r for r in catalogue() if r.level == "MUST" and r.enforced_by in MESSAGE_CHECKS]
API = [r for r in catalogue() if r.enforced_by == "api"]
TESTS = Path(__file__).resolve().parent
BREACH_BY_REQUIREMENT = {b.requirement: b for b in BREACHES}


def must_problems(path) -> set[str]:
    return {p.requirement for report in validate_entries(read_path(str(path)))
            for p in report.problems if p.level == "MUST"}


def test_every_must_requirement_has_an_invalid_case():
    missing = [r.id for r in MUST if r.id not in BREACH_BY_REQUIREMENT]
    assert not missing, f"MUST requirements with no invalid example: {missing}"


def test_every_invalid_case_names_a_requirement_of_the_catalogue():
    ids = {r.id for r in catalogue()}
    assert {b.requirement for b in BREACHES} <= ids


@pytest.mark.parametrize("requirement", MUST, ids=lambda r: r.id)
def test_requirement_has_valid_and_invalid_case(requirement, tmp_path):
    breach = BREACH_BY_REQUIREMENT[requirement.id]
    valid = tmp_path / "valid.json"
    valid.write_text(json.dumps(base(breach.message_type, breach.where)))
    assert must_problems(valid) == set(), "the unchanged message must be valid"

    invalid = tmp_path / breach.file_name
    invalid.write_text(breach.render())
    assert must_problems(invalid) == {requirement.id}, f"{breach.change} must break only {requirement.id}"


def test_requirement_ids_are_well_formed_and_unique():
    ids = [r.id for r in catalogue()]
    assert len(ids) == len(set(ids))
    for requirement_id in ids:
        prefix, section, number = requirement_id.split("-")
        assert prefix == "PS" and section in SECTIONS and number.isdigit() and len(number) == 3


def test_retired_ids_are_never_reused():
    assert not set(RETIRED) & {r.id for r in catalogue()}


def test_every_requirement_applies_to_known_message_types():
    from plugshare.models import MESSAGE_TYPES

    for requirement in catalogue():
        assert requirement.message_types, requirement.id
        assert set(requirement.message_types) <= set(MESSAGE_TYPES), requirement.id


def test_each_requirement_text_uses_the_keyword_of_its_level():
    for requirement in catalogue():
        other = "SHOULD" if requirement.level == "MUST" else "MUST"
        assert requirement.level in requirement.text, requirement.id
        assert f" {other} " not in requirement.text, requirement.id


def test_every_requirement_is_checked_by_a_known_kind_of_check():
    assert {r.enforced_by for r in catalogue()} == {*MESSAGE_CHECKS, "api", "conformance"}


def test_api_requirements_are_numbered_in_their_section():
    assert [r.id for r in API] == [f"PS-API-{n:03d}" for n in range(1, len(API) + 1)]
    assert len(API) >= 17
    assert {r.section for r in API} == {"The REST API"}
    assert all(r.id.startswith("PS-API-") for r in API)
    assert not [r.id for r in catalogue() if r.id.startswith("PS-API-") and r.enforced_by != "api"]


def test_every_api_requirement_is_cited_by_a_test():
    """API requirements have no example message: a test under tests/ that checks each one names it."""
    cited = {match for path in TESTS.rglob("*.py") if path.name != Path(__file__).name
             for match in re.findall(r"PS-API-[0-9]{3}", path.read_text(encoding="utf-8"))}
    uncited = [r.id for r in API if r.id not in cited]
    assert not uncited, f"API requirements no test cites: {uncited}"


def test_every_api_requirement_is_cited_in_the_openapi_document(spec):
    """A supplier reading only openapi.yaml meets every API requirement where it applies."""
    document = (spec / "openapi.yaml").read_text(encoding="utf-8")
    cited = set(re.findall(r"PS-API-[0-9]{3}", document))
    assert not [r.id for r in API if r.id not in cited], "API requirements openapi.yaml never names"
    assert cited <= {r.id for r in API}, "openapi.yaml names an API requirement the catalogue lacks"
