"""The pydantic models and the published schemas describe the same messages."""

import json
from decimal import Decimal

import pytest
from pydantic import ValidationError

from plugshare.models import MESSAGE_TYPES, message_model, message_type_of
from plugshare.models.payroll import NiContribution, TaxCode
from plugshare.standard.paths import spec_dir

VALID = sorted((spec_dir() / "examples" / "valid").glob("*.json"))


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_valid_examples_round_trip_through_the_models_losslessly(path):
    message = json.loads(path.read_text())
    model = message_model(message_type_of(message["type"]))
    assert model.model_validate(message).model_dump(mode="json", exclude_none=True) == message


def test_every_message_type_has_a_model_and_a_valid_example():
    examples = {json.loads(p.read_text())["type"] for p in VALID}
    assert {f"uk.plugshare.{t}" for t in MESSAGE_TYPES} <= examples


def test_money_is_never_a_float():
    with pytest.raises(ValidationError, match="binary float"):
        NiContribution(letter="A", earnings_at_lel=542.0, earnings_lel_to_pt="0.00", earnings_pt_to_uel="0.00",
                       employee_contribution="0.00", employer_contribution="0.00")
    contribution = NiContribution(letter="A", earnings_at_lel=Decimal("542"), earnings_lel_to_pt="506.00",
                                  earnings_pt_to_uel="0.00", employee_contribution="0.00",
                                  employer_contribution="-1.50")
    assert contribution.model_dump(mode="json")["earnings_at_lel"] == "542.00"


def test_unknown_fields_are_refused_not_kept():
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        TaxCode(code="1257L", basis="W1")


def test_scottish_and_welsh_tax_codes_are_expressible():
    assert TaxCode(code="D3", regime="S").model_dump() == {"code": "D3", "regime": "S", "non_cumulative": False}
    assert TaxCode(code="1257L", regime="C", non_cumulative=True).regime == "C"
