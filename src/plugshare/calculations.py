"""The domain's arithmetic, exact and in one place: years, rounding, charges, instalments, NI earnings buckets.

The rules check records against these calculations and the synthetic data
generator produces records with them, so the standard states each formula
once. All money is Decimal, rounded half-up to the penny.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
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


# --- National Insurance: thresholds for an earnings period, and RTI's earnings buckets -------------------

LOWER_EARNINGS_LIMIT = "lower_earnings_limit"
PRIMARY_THRESHOLD = "primary_threshold"
SECONDARY_THRESHOLD = "secondary_threshold"
UPPER_EARNINGS_LIMIT = "upper_earnings_limit"

#: The earnings period of one pay period of each regular RTI pay frequency, in weeks or months.
#: One-off (IO) and irregular (IR) payments take a week, or a month when dated by tax month.
EARNINGS_PERIODS = {"W1": ("week", 1), "W2": ("week", 2), "W4": ("week", 4),
                    "M1": ("month", 1), "M3": ("month", 3), "M6": ("month", 6), "MA": ("month", 12)}


def ni_earnings_period(pay_frequency: str, periods_covered: int = 1, by_month: bool = False) -> tuple[str, int]:
    """The earnings period of a payment: ``("week", n)`` or ``("month", n)``.

    A payment covering several periods (RTI PeriodsCovered) has an earnings period that many times as long.
    """
    if periods_covered < 1:
        raise ValueError(f"periods covered must be 1 or more, not {periods_covered}")
    if pay_frequency in ("IO", "IR"):
        unit, count = ("month" if by_month else "week"), 1
    elif pay_frequency in EARNINGS_PERIODS:
        unit, count = EARNINGS_PERIODS[pay_frequency]
    else:
        raise ValueError(f"{pay_frequency!r} is not an RTI pay frequency")
    return unit, count * periods_covered


def _up_to_pound(value: Fraction) -> Decimal:
    return Decimal(math.ceil(value)).quantize(PENNY)


def ni_period_threshold(name: str, figures: Mapping[str, Decimal], unit: str, count: int) -> Decimal:
    """One limit or threshold for an earnings period of ``count`` weeks or months.

    ``figures`` holds the limit's ``weekly``, ``monthly`` and ``yearly`` amounts as HMRC publishes them in
    "Rates and thresholds for employers". A week, a month and a year take those figures. Other periods take
    the prescribed equivalents of the Social Security (Contributions) Regulations 2001, regulation 11 (HMRC
    National Insurance Manual NIM01206), rounded up to the next whole pound:

    - the lower earnings limit, which the law sets by the week: the weekly figure x the number of weeks
      (exact: no rounding), or the weekly figure x 4 1/3 x the number of months;
    - the primary and secondary thresholds and the upper earnings limit, which it sets by the year: the yearly
      figure / 52 x the number of weeks, or / 12 x the number of months.

    So a fortnight, four weeks, a quarter or half a year can differ by a few pounds from a multiple of the
    weekly or monthly figure: four weeks of 2025-26 have a primary threshold of 967.00 (12,570 / 52 x 4 =
    966.92 rounded up), not 4 x 242.00, and half a year 6,285.00, not 6 x 1,048.00.
    """
    weekly, yearly = Fraction(figures["weekly"]), Fraction(figures["yearly"])
    if count < 1:
        raise ValueError(f"an earnings period has at least one {unit}")
    if unit == "week":
        if count == 1:
            return Decimal(figures["weekly"]).quantize(PENNY)
        if name == LOWER_EARNINGS_LIMIT:
            return _up_to_pound(weekly * count)
        return _up_to_pound(yearly * count / 52)
    if unit != "month":
        raise ValueError(f"an earnings period is counted in weeks or months, not {unit!r}")
    if count == 1:
        return Decimal(figures["monthly"]).quantize(PENNY)
    if count == 12:
        return Decimal(figures["yearly"]).quantize(PENNY)
    if name == LOWER_EARNINGS_LIMIT:
        return _up_to_pound(weekly * Fraction(13, 3) * count)
    return _up_to_pound(yearly * count / 12)


def ni_period_thresholds(thresholds: Mapping[str, Mapping[str, Decimal]], pay_frequency: str,
                         periods_covered: int = 1, by_month: bool = False) -> dict[str, Decimal]:
    """Every limit and threshold of a tax year (as ``refdata.ni_thresholds`` gives them) for one payment."""
    unit, count = ni_earnings_period(pay_frequency, periods_covered, by_month)
    return {name: ni_period_threshold(name, figures, unit, count) for name, figures in thresholds.items()}


@dataclass(frozen=True)
class NiBuckets:
    """RTI's earnings buckets: at the LEL, above it up to the PT, above the PT up to the UEL."""

    at_lel: Decimal
    lel_to_pt: Decimal
    pt_to_uel: Decimal

    @property
    def total(self) -> Decimal:
        return self.at_lel + self.lel_to_pt + self.pt_to_uel


def ni_earnings_buckets(nicable_pay: Decimal, lel: Decimal, pt: Decimal, uel: Decimal) -> NiBuckets:
    """Split one earnings period's NICable pay at its LEL, PT and UEL.

    Earnings below the LEL fill no bucket (RTI's "earnings at the LEL" are reported only where the earnings
    reach it, and then as the LEL itself); earnings above the UEL fall in none. Nothing is rounded: the
    limits are whole pounds, so the pence of the pay stay in the bucket the pay ends in, and the buckets never
    add up to more than the pay. Negative pay (a correction) fills no bucket.
    """
    zero = Decimal("0.00")
    if nicable_pay < lel:
        return NiBuckets(zero, zero, zero)
    return NiBuckets(at_lel=lel.quantize(PENNY), lel_to_pt=(max(min(nicable_pay, pt) - lel, zero)).quantize(PENNY),
                     pt_to_uel=(max(min(nicable_pay, uel) - pt, zero)).quantize(PENNY))


def ni_period_buckets(nicable_pay: Decimal, thresholds: Mapping[str, Mapping[str, Decimal]], pay_frequency: str,
                      periods_covered: int = 1, by_month: bool = False) -> NiBuckets:
    """The earnings buckets of one payment's NICable pay under one letter, from the tax year's thresholds."""
    limits = ni_period_thresholds(thresholds, pay_frequency, periods_covered, by_month)
    return ni_earnings_buckets(nicable_pay, limits[LOWER_EARNINGS_LIMIT], limits[PRIMARY_THRESHOLD],
                               limits[UPPER_EARNINGS_LIMIT])
