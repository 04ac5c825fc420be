"""The pydantic models and the published schemas describe the same messages."""

import json
from decimal import Decimal

import pytest
from pydantic import ValidationError

from plugshare.models import MESSAGE_TYPES, message_model, message_type_of
from plugshare.models.payroll import NiContribution, NiYearToDate, TaxCode
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


def test_ni_per_letter_carries_the_period_and_optionally_the_year_to_date():
    period = dict(letter="A", earnings_at_lel="542.00", earnings_lel_to_pt="506.00", earnings_pt_to_uel="2152.00",
                  employee_contribution="172.16", employer_contribution="417.45")
    bare = NiContribution(**period).model_dump(mode="json", exclude_none=True)
    assert "nicable_pay" not in bare and "year_to_date" not in bare  # optional: absent, never null
    ytd = dict(nicable_pay="19200.00", earnings_at_lel="3252.00", earnings_lel_to_pt="3036.00",
               earnings_pt_to_uel="12912.00", employee_contribution="1032.96", employer_contribution="2504.70")
    full = NiContribution(**period, nicable_pay="3200.00", year_to_date=ytd).model_dump(mode="json", exclude_none=True)
    assert full["nicable_pay"] == "3200.00" and full["year_to_date"] == ytd
    assert NiContribution(**period, nicable_pay="-40.00").nicable_pay == Decimal("-40.00")  # a correction
    with pytest.raises(ValidationError, match="earnings_pt_to_uel"):
        NiYearToDate(**{**ytd, "earnings_pt_to_uel": "-1.00"})
    with pytest.raises(ValidationError, match="employer_contribution"):
        NiYearToDate(**{k: v for k, v in ytd.items() if k != "employer_contribution"})
