"""The domain arithmetic against figures worked out by hand."""

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest

from plugshare import refdata
from plugshare.calculations import (
    apportion,
    business_rates_gross,
    council_tax_annual_charge,
    financial_year_of,
    instalments,
    is_year_label,
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
    assert refdata.lgps_rate("2031-32", D("20000")) is None
    assert refdata.business_rates("england", "2031-32") is None
    assert refdata.business_rates("wales", "2025-26") is None
