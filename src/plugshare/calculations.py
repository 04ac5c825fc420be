"""The domain's arithmetic, exact and in one place: years, rounding, charges, instalments.

The rules check records against these calculations and the synthetic data
generator produces records with them, so the standard states each formula
once. All money is Decimal, rounded half-up to the penny.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

PENNY = Decimal("0.01")
HUNDRED = Decimal(100)

#: The highest period number each pay frequency can reach in a tax year: weekly
#: payrolls have a week 53, fortnightly a week 54, four-weekly a week 56.
MAX_PERIOD = {"W1": 53, "W2": 54, "W4": 56, "M1": 12, "M3": 12, "M6": 12, "MA": 12, "IO": 56, "IR": 56}


def round_penny(value: Decimal | Fraction) -> Decimal:
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    return value.quantize(PENNY, rounding=ROUND_HALF_UP)


def year_label(first_calendar_year: int) -> str:
    return f"{first_calendar_year}-{(first_calendar_year + 1) % 100:02d}"


def is_year_label(label: str) -> bool:
    """True for ``2025-26``: two consecutive calendar years."""
    first, _, second = label.partition("-")
    return first.isdigit() and second.isdigit() and (int(first) + 1) % 100 == int(second)


def tax_year_bounds(label: str) -> tuple[dt.date, dt.date]:
    first = int(label[:4])
    return dt.date(first, 4, 6), dt.date(first + 1, 4, 5)


def financial_year_bounds(label: str) -> tuple[dt.date, dt.date]:
    first = int(label[:4])
    return dt.date(first, 4, 1), dt.date(first + 1, 3, 31)


def tax_year_of(day: dt.date) -> str:
    return year_label(day.year if day >= dt.date(day.year, 4, 6) else day.year - 1)


def financial_year_of(day: dt.date) -> str:
    return year_label(day.year if day.month >= 4 else day.year - 1)


def council_tax_annual_charge(
    band_d_charge: Decimal, ratio: Fraction, discount_percent: Decimal, premium_percent: Decimal, exempt: bool
) -> Decimal:
    """Band D charge x band ratio x (1 - discount) x (1 + premium), to the penny; nil when exempt."""
    if exempt:
        return Decimal("0.00")
    exact = (
        Fraction(band_d_charge)
        * ratio
        * (1 - Fraction(discount_percent) / 100)
        * (1 + Fraction(premium_percent) / 100)
    )
    return round_penny(exact)


def apportion(annual: Decimal, first: dt.date, last: dt.date, year_start: dt.date, year_end: dt.date) -> Decimal:
    """A year's charge for the days first..last inclusive, by days of the year."""
    days = (last - first).days + 1
    days_in_year = (year_end - year_start).days + 1
    return round_penny(Fraction(annual) * days / days_in_year)


def instalments(amount: Decimal, count: int) -> list[Decimal]:
    """Equal instalments in pence, the rounding difference on the first."""
    pence = int((amount * 100).to_integral_value())
    each, remainder = divmod(pence, count)
    amounts = [each] * count
    amounts[0] += remainder
    return [Decimal(p) / 100 for p in amounts]


def business_rates_gross(rateable_value: int, multiplier: Decimal) -> Decimal:
    return round_penny(Decimal(rateable_value) * multiplier)


def small_business_relief_percent(rateable_value: int, full_up_to: int, nil_from: int) -> Decimal:
    """100% up to the lower threshold, tapering in a straight line to nil at the upper."""
    if rateable_value <= full_up_to:
        return HUNDRED
    if rateable_value >= nil_from:
        return Decimal(0)
    return Decimal(nil_from - rateable_value) * HUNDRED / Decimal(nil_from - full_up_to)
