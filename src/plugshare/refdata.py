"""Reference data that changes by tax or financial year, read from spec/reference-data.

Rules ask here for the figure in force in a given year. ``None`` means the
bundled tables do not cover that year: the rule says so rather than guessing.
"""

from __future__ import annotations

import json
from decimal import Decimal
from fractions import Fraction
from functools import cache
from typing import Any

from plugshare.standard.paths import reference_data_dir


@cache
def load(name: str) -> dict[str, Any]:
    with open(reference_data_dir() / f"{name}.json", encoding="utf-8") as handle:
        return json.load(handle)


def _in_force(entries: list[dict[str, Any]], year: str) -> dict[str, Any] | None:
    """The entry with the latest ``from`` year not after ``year`` (years compare as text)."""
    chosen = None
    for entry in entries:
        if entry["from"] <= year and (chosen is None or entry["from"] > chosen["from"]):
            chosen = entry
    return chosen


def ni_letters(tax_year: str) -> frozenset[str] | None:
    letters = load("ni-category-letters")["tax_years"].get(tax_year)
    return frozenset(letters) if letters is not None else None


def ni_thresholds(tax_year: str) -> dict[str, dict[str, Decimal]] | None:
    """Class 1 NI limits and thresholds of a tax year: name -> {"weekly", "monthly", "yearly"} in pounds."""
    figures = load("ni-thresholds")["tax_years"].get(tax_year)
    if figures is None:
        return None
    return {name: {period: Decimal(amount) for period, amount in by_period.items()}
            for name, by_period in figures.items()}


def valuation_list_nation(valuation_list: str) -> str | None:
    entry = load("council-tax-bands")["valuation_lists"].get(valuation_list)
    return entry["nation"] if entry else None


def band_ratios(valuation_list: str, financial_year: str) -> dict[str, Fraction] | None:
    entry = load("council-tax-bands")["valuation_lists"].get(valuation_list)
    if entry is None:
        return None
    in_force = _in_force(entry["from_year"], financial_year)
    if in_force is None:
        return None
    return {band: Fraction(ratio) for band, ratio in in_force["ratios"].items()}


def long_term_empty_tiers(nation: str, financial_year: str) -> list[dict[str, Any]] | None:
    entries = load("council-tax-premiums").get(nation, {}).get("long_term_empty")
    in_force = _in_force(entries, financial_year) if entries else None
    return in_force["tiers"] if in_force else None


def second_home_max_percent(nation: str, financial_year: str) -> Decimal | None:
    entries = load("council-tax-premiums").get(nation, {}).get("second_home")
    in_force = _in_force(entries, financial_year) if entries else None
    return Decimal(in_force["max_percent"]) if in_force else None


def lgps_rate(financial_year: str, pensionable_pay: Decimal) -> Decimal | None:
    """The main-section employee rate (percent) for a year's actual pensionable pay."""
    bands = load("lgps-contribution-bands")["england-wales"].get(financial_year)
    if bands is None:
        return None
    for band in bands:
        if band["up_to"] is None or pensionable_pay <= Decimal(band["up_to"]):
            return Decimal(band["rate_percent"])
    return None  # pragma: no cover - the last band is open-ended


def business_rates(nation: str, financial_year: str) -> dict[str, Any] | None:
    return load("business-rates").get(nation, {}).get(financial_year)


def auto_enrolment(tax_year: str) -> dict[str, Any] | None:
    return load("auto-enrolment")["tax_years"].get(tax_year)


def pay_spine(pay_scale: str, financial_year: str) -> dict[str, int] | None:
    return load("pay-spines")["pay_scales"].get(pay_scale, {}).get(financial_year)
