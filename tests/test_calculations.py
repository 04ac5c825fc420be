"""The domain arithmetic against figures worked out by hand."""

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plugshare import refdata
from plugshare.calculations import (
    NiBuckets,
    apportion,
    business_rates_gross,
    council_tax_annual_charge,
    financial_year_of,
    instalments,
    is_year_label,
    ni_earnings_buckets,
    ni_earnings_period,
    ni_period_buckets,
    ni_period_thresholds,
    small_business_relief_percent,
    tax_year_bounds,
    tax_year_of,
)

D = Decimal


@pytest.mark.parametrize("band, valuation_list, year, expected", [
    ("A", "england-1991", "2025-26", "1333.33"),   # 2000 x 6/9
    ("D", "england-1991", "2025-26", "2000.00"),
    ("H", "england-1991", "2025-26", "4000.00"),   # 2000 x 18/9
    ("I", "wales-2003", "2025-26", "4666.67"),     # 2000 x 21/9
    ("E", "scotland-1991", "2025-26", "2627.78"),  # 2000 x 473/360 = 2627.777...
    ("H", "scotland-1991", "2025-26", "4900.00"),  # 2000 x 882/360
    ("E", "scotland-1991", "2016-17", "2444.44"),  # before 2017: 11/9
])
def test_band_charge_from_band_d(band, valuation_list, year, expected):
    ratio = refdata.band_ratios(valuation_list, year)[band]
    assert council_tax_annual_charge(D("2000.00"), ratio, D(0), D(0), False) == D(expected)


def test_single_person_discount_and_premium():
    assert council_tax_annual_charge(D("2000.00"), Fraction(1), D(25), D(0), False) == D("1500.00")
    assert council_tax_annual_charge(D("2000.00"), Fraction(1), D(0), D(100), False) == D("4000.00")
    assert council_tax_annual_charge(D("2000.00"), Fraction(6, 9), D(25), D(0), False) == D("1000.00")


def test_exempt_dwelling_pays_nothing():
    assert council_tax_annual_charge(D("2000.00"), Fraction(1), D(0), D(100), True) == D("0.00")


def test_band_i_is_welsh_only():
    assert "I" not in refdata.band_ratios("england-1991", "2025-26")
    assert "I" not in refdata.band_ratios("scotland-1991", "2025-26")


def test_apportion_by_days():
    start, end = dt.date(2025, 4, 1), dt.date(2026, 3, 31)
    assert apportion(D("2000.00"), dt.date(2025, 10, 1), end, start, end) == D("997.26")  # 182/365
    assert apportion(D("2000.00"), start, end, start, end) == D("2000.00")


def test_instalments_put_rounding_on_the_first():
    assert instalments(D("1000.01"), 10) == [D("100.01")] + [D("100.00")] * 9
    assert instalments(D("1333.33"), 10) == [D("133.36")] + [D("133.33")] * 9
    assert sum(instalments(D("2369.73"), 12)) == D("2369.73")


def test_business_rates_gross_and_small_business_taper():
    assert business_rates_gross(10000, D("0.499")) == D("4990.00")
    assert business_rates_gross(27750, D("0.555")) == D("15401.25")
    assert small_business_relief_percent(12000, 12000, 15000) == D(100)
    assert small_business_relief_percent(13500, 12000, 15000) == D(50)
    assert small_business_relief_percent(15000, 12000, 15000) == D(0)


def test_tax_and_financial_years():
    assert tax_year_of(dt.date(2026, 4, 5)) == "2025-26"
    assert tax_year_of(dt.date(2026, 4, 6)) == "2026-27"
    assert financial_year_of(dt.date(2026, 3, 31)) == "2025-26"
    assert financial_year_of(dt.date(2026, 4, 1)) == "2026-27"
    assert tax_year_bounds("2025-26") == (dt.date(2025, 4, 6), dt.date(2026, 4, 5))
    assert is_year_label("1999-00") and is_year_label("2025-26")
    assert not is_year_label("2025-27") and not is_year_label("2025-2026")


@pytest.mark.parametrize("pay, section_rate", [
    ("17800.00", "5.5"), ("17800.01", "5.8"), ("45600.00", "6.5"), ("57700.00", "6.8"),
    ("81000.00", "8.5"), ("114800.00", "9.9"), ("135300.00", "10.5"), ("203000.00", "11.4"), ("250000.00", "12.5"),
])
def test_lgps_bands_2025_26(pay, section_rate):
    assert refdata.lgps_rate("2025-26", D(pay)) == D(section_rate)


def test_reference_data_has_no_figure_for_an_uncovered_year():
    assert refdata.ni_letters("2031-32") is None
    assert refdata.ni_thresholds("2031-32") is None and refdata.ni_thresholds("2023-24") is None
    assert refdata.lgps_rate("2031-32", D("20000")) is None
    assert refdata.business_rates("england", "2031-32") is None
    assert refdata.business_rates("wales", "2025-26") is None


# --- National Insurance ---------------------------------------------------------------------------

LIMITS = ("lower_earnings_limit", "primary_threshold", "secondary_threshold", "upper_earnings_limit")


@pytest.mark.parametrize("frequency, expected", [
    # 2025-26 as regulation 11 of the Contributions Regulations 2001 gives them (LEL, PT, ST, UEL)
    ("W1", ("125", "242", "96", "967")),          # the published weekly figures
    ("W2", ("250", "484", "193", "1934")),        # ST 5,000 / 52 x 2 = 192.31 -> 193, not 2 x 96
    ("W4", ("500", "967", "385", "3867")),        # PT 12,570 / 52 x 4 = 966.92 -> 967, not 4 x 242
    ("M1", ("542", "1048", "417", "4189")),       # the published monthly figures
    ("M3", ("1625", "3143", "1250", "12568")),    # LEL 125 x 4 1/3 x 3; PT 12,570 / 4 = 3142.50 -> 3143
    ("M6", ("3250", "6285", "2500", "25135")),
    ("MA", ("6500", "12570", "5000", "50270")),   # the published yearly figures
])
def test_thresholds_for_each_pay_frequency_2025_26(frequency, expected):
    found = ni_period_thresholds(refdata.ni_thresholds("2025-26"), frequency)
    assert tuple(found[name] for name in LIMITS) == tuple(D(f"{e}.00") for e in expected)


def test_published_monthly_figures_are_used_as_they_stand():
    thresholds = refdata.ni_thresholds("2024-25")
    monthly = ni_period_thresholds(thresholds, "M1")
    assert monthly["secondary_threshold"] == D("758.00")       # 9,100 / 12 = 758.33: the law sets 758 itself
    assert monthly["upper_earnings_limit"] == D("4189.00")     # 50,270 / 12 = 4189.17
    assert ni_period_thresholds(thresholds, "M3")["secondary_threshold"] == D("2275.00")  # 9,100 / 4
    assert ni_period_thresholds(refdata.ni_thresholds("2026-27"), "M1")["lower_earnings_limit"] == D("559.00")


def test_periods_covered_lengthen_the_earnings_period():
    thresholds = refdata.ni_thresholds("2025-26")
    assert ni_earnings_period("W1", 2) == ("week", 2) and ni_earnings_period("W4", 2) == ("week", 8)
    assert ni_earnings_period("M3", 2) == ("month", 6) and ni_earnings_period("M1", 12) == ("month", 12)
    assert ni_period_thresholds(thresholds, "W1", 2) == ni_period_thresholds(thresholds, "W2")
    assert ni_period_thresholds(thresholds, "M1", 12) == ni_period_thresholds(thresholds, "MA")
    assert ni_earnings_period("IR") == ("week", 1) and ni_earnings_period("IO", 3, by_month=True) == ("month", 3)
    with pytest.raises(ValueError):
        ni_earnings_period("M1", 0)
    with pytest.raises(ValueError, match="not an RTI pay frequency"):
        ni_earnings_period("M2")


@pytest.mark.parametrize("pay, buckets", [
    ("541.99", ("0.00", "0.00", "0.00")),          # below the LEL: nothing, not even at the LEL
    ("542.00", ("542.00", "0.00", "0.00")),
    ("1048.01", ("542.00", "506.00", "0.01")),     # the pence stay in the bucket the pay ends in
    ("3200.00", ("542.00", "506.00", "2152.00")),
    ("9000.00", ("542.00", "506.00", "3141.00")),  # above the UEL: in no bucket
    ("-100.00", ("0.00", "0.00", "0.00")),
])
def test_monthly_buckets_2025_26(pay, buckets):
    assert ni_period_buckets(D(pay), refdata.ni_thresholds("2025-26"), "M1") == NiBuckets(*map(D, buckets))


YEARS = st.sampled_from(["2024-25", "2025-26", "2026-27"])
FREQUENCIES = st.sampled_from(["W1", "W2", "W4", "M1", "M3", "M6", "MA", "IO", "IR"])
PAY = st.integers(min_value=-100_000, max_value=10_000_000).map(lambda pence: D(pence).scaleb(-2))


@given(YEARS, FREQUENCIES, st.integers(min_value=1, max_value=12), st.booleans())
def test_period_thresholds_keep_their_order_and_the_statutory_rounding(year, frequency, covered, by_month):
    thresholds = refdata.ni_thresholds(year)
    limits = ni_period_thresholds(thresholds, frequency, covered, by_month)
    assert limits["lower_earnings_limit"] <= limits["primary_threshold"] <= limits["upper_earnings_limit"]
    assert limits["secondary_threshold"] < limits["upper_earnings_limit"]
    assert all(value == value.to_integral_value() for value in limits.values())  # whole pounds
    unit, count = ni_earnings_period(frequency, covered, by_month)
    if (unit, count) in (("week", 1), ("month", 1), ("month", 12)):
        return
    for name in ("primary_threshold", "secondary_threshold", "upper_earnings_limit"):
        exact = Fraction(thresholds[name]["yearly"]) * count / (52 if unit == "week" else 12)
        assert exact <= limits[name] < exact + 1, name  # rounded up to the next whole pound
    if unit == "week":
        assert limits["lower_earnings_limit"] == thresholds["lower_earnings_limit"]["weekly"] * count


@given(PAY, YEARS, FREQUENCIES, st.integers(min_value=1, max_value=5))
def test_buckets_never_exceed_the_pay_nor_their_band(pay, year, frequency, covered):
    thresholds = refdata.ni_thresholds(year)
    limits = ni_period_thresholds(thresholds, frequency, covered)
    lel, pt, uel = (limits[n] for n in ("lower_earnings_limit", "primary_threshold", "upper_earnings_limit"))
    buckets = ni_period_buckets(pay, thresholds, frequency, covered)
    assert buckets.total <= max(pay, D(0))
    assert buckets.at_lel in (D(0), lel) and D(0) <= buckets.lel_to_pt <= pt - lel
    assert D(0) <= buckets.pt_to_uel <= uel - pt
    if lel <= pay <= uel:
        assert buckets.total == pay  # every penny between the LEL and the UEL is in a bucket
    assert buckets == ni_earnings_buckets(pay, lel, pt, uel)


@given(PAY, PAY)
def test_more_pay_never_empties_a_bucket(first, second):
    thresholds = refdata.ni_thresholds("2025-26")
    low, high = sorted((first, second))
    below, above = (ni_period_buckets(p, thresholds, "W1") for p in (low, high))
    assert below.at_lel <= above.at_lel and below.lel_to_pt <= above.lel_to_pt
    assert below.pt_to_uel <= above.pt_to_uel
