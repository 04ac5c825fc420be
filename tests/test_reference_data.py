"""The reference-data files are well formed, and the arithmetic holds for any input."""

import json
import math
from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from plugshare.calculations import council_tax_annual_charge, instalments, is_year_label, round_penny
from plugshare.standard.paths import reference_data_dir

FILES = sorted(reference_data_dir().glob("*.json"))


def years_in(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if len(key) == 7 and key[4] == "-" and key[:4].isdigit():
                yield key
            if key == "from":
                yield value
            yield from years_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from years_in(value)


def test_every_file_says_what_it_is_and_where_it_comes_from():
    assert len(FILES) >= 6
    for path in FILES:
        data = json.loads(path.read_text())
        assert data["title"] and data["source"], path.name


def test_every_year_key_is_a_year_label():
    for path in FILES:
        for year in years_in(json.loads(path.read_text())):
            assert is_year_label(year), f"{path.name}: {year}"


def test_lgps_bands_ascend_and_end_open():
    data = json.loads((reference_data_dir() / "lgps-contribution-bands.json").read_text())
    for year, bands in data["england-wales"].items():
        limits = [Decimal(b["up_to"]) for b in bands[:-1]]
        rates = [Decimal(b["rate_percent"]) for b in bands]
        assert limits == sorted(limits) and rates == sorted(rates), year
        assert bands[-1]["up_to"] is None


def test_band_ratios_ascend_and_band_d_is_one():
    data = json.loads((reference_data_dir() / "council-tax-bands.json").read_text())
    for name, valuation_list in data["valuation_lists"].items():
        for entry in valuation_list["from_year"]:
            ratios = [Fraction(r) for _, r in sorted(entry["ratios"].items())]
            assert ratios == sorted(ratios), name
            assert Fraction(entry["ratios"]["D"]) == 1, name


def test_ni_thresholds_cover_three_years_in_whole_pounds_and_agree_with_each_other():
    data = json.loads((reference_data_dir() / "ni-thresholds.json").read_text())
    assert "Rates and thresholds for employers" in data["source"]
    assert sorted(data["tax_years"]) == ["2024-25", "2025-26", "2026-27"]
    for year, figures in data["tax_years"].items():
        assert sorted(figures) == ["lower_earnings_limit", "primary_threshold", "secondary_threshold",
                                   "upper_earnings_limit"], year
        amounts = {name: {period: Decimal(value) for period, value in by_period.items()}
                   for name, by_period in figures.items()}
        for name, by_period in amounts.items():
            assert sorted(by_period) == ["monthly", "weekly", "yearly"], (year, name)
            assert all(value == value.to_integral_value() and value > 0 for value in by_period.values())
            # a typo shows: the three figures of a limit are one amount by the week, the month and the year
            assert abs(by_period["weekly"] * 52 - by_period["yearly"]) < 52, (year, name)
            assert abs(by_period["monthly"] * 12 - by_period["yearly"]) < 12, (year, name)
        lel = amounts["lower_earnings_limit"]
        # the LEL is set by the week: a year is 52 weeks, a month 4 1/3 weeks rounded up to the pound
        assert lel["yearly"] == lel["weekly"] * 52, year
        assert lel["monthly"] == math.ceil(Fraction(lel["weekly"]) * 13 / 3), year
        for period in ("weekly", "monthly", "yearly"):
            assert lel[period] < amounts["primary_threshold"][period] < amounts["upper_earnings_limit"][period]
            assert amounts["secondary_threshold"][period] < amounts["upper_earnings_limit"][period]


@given(st.decimals(min_value=0, max_value=10_000_000, places=2), st.integers(min_value=1, max_value=12))
def test_instalments_always_sum_to_the_amount(amount, count):
    parts = instalments(amount, count)
    assert sum(parts) == amount
    assert len(set(parts[1:])) <= 1 and parts[0] >= parts[-1]


@given(st.decimals(min_value=0, max_value=10_000, places=2),
       st.sampled_from([Fraction(6, 9), Fraction(1), Fraction(21, 9), Fraction(473, 360)]),
       st.sampled_from([Decimal(0), Decimal(25), Decimal(50), Decimal(100)]),
       st.sampled_from([Decimal(0), Decimal(100), Decimal(300)]))
def test_charge_is_within_half_a_penny_of_the_exact_figure(band_d, ratio, discount, premium):
    charge = council_tax_annual_charge(band_d, ratio, discount, premium, False)
    exact = Fraction(band_d) * ratio * (1 - Fraction(discount) / 100) * (1 + Fraction(premium) / 100)
    assert abs(Fraction(charge) - exact) <= Fraction(1, 200)
    assert charge == round_penny(charge)
