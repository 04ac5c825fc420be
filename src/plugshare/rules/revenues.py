"""Revenues rules: bands by nation, the council tax charge and its instalments, business rates."""

from __future__ import annotations

from decimal import Decimal

from plugshare import refdata
from plugshare.calculations import (
    apportion,
    business_rates_gross,
    council_tax_annual_charge,
    financial_year_bounds,
    financial_year_of,
    round_penny,
    small_business_relief_percent,
)
from plugshare.rules.base import Violation, rule
from plugshare.rules.common import as_date
from plugshare.rules.payroll import money, total

VALUATION_LIST_OF_NATION = {"england": "england-1991", "wales": "wales-2003", "scotland": "scotland-1991"}
SINGLE_PERSON_DISCOUNT = Decimal(25)


def _band_problem(valuation_list: str, band: str, year: str | None) -> str | None:
    ratios = refdata.band_ratios(valuation_list, year or "9999-00")
    if ratios is not None and band not in ratios:
        return f"band {band} does not exist on the {valuation_list} valuation list (bands {''.join(sorted(ratios))})"
    return None


@rule("PS-CT-001", "band-exists-in-nation", "MUST",
      "A council tax band MUST exist on its valuation list: band I only in Wales (2003 valuations).",
      "revenues.property", "revenues.council-tax-bill")
def band_exists(message):
    data = message["data"]
    if message["type"].endswith("council-tax-bill"):
        problem = _band_problem(data["valuation_list"], data["band"], data["financial_year"])
        if problem:
            yield Violation("/data/band", problem)
    elif "council_tax" in data:
        problem = _band_problem(data["council_tax"]["valuation_list"], data["council_tax"]["band"], None)
        if problem:
            yield Violation("/data/council_tax/band", problem)


@rule("PS-CT-002", "valuation-list-of-nation", "MUST",
      "A property's council tax band MUST be on its nation's valuation list (England 1991, Wales 2003, "
      "Scotland 1991); a property in Northern Ireland has no council tax band, and neither has a "
      "non-domestic property.", "revenues.property")
def valuation_list_of_nation(message):
    data = message["data"]
    if "council_tax" not in data:
        return
    if not data["domestic"]:
        yield Violation("/data/council_tax", "a non-domestic property has no council tax band")
        return
    expected = VALUATION_LIST_OF_NATION.get(data["nation"])
    actual = data["council_tax"]["valuation_list"]
    if expected is None:
        yield Violation("/data/council_tax", f"there is no council tax in {data['nation']}")
    elif actual != expected:
        yield Violation("/data/council_tax/valuation_list",
                        f"a property in {data['nation']} is banded on the {expected} list, not {actual}")


@rule("PS-CT-003", "single-person-discount", "MUST",
      "A single person discount MUST be 25 percent.", "revenues.council-tax-account")
def single_person_discount(message):
    for index, discount in enumerate(message["data"]["discounts"]):
        if discount["discount_type"] == "single_person" and Decimal(discount["percent"]) != SINGLE_PERSON_DISCOUNT:
            yield Violation(f"/data/discounts/{index}/percent",
                            f"the single person discount is 25%, not {discount['percent']}%")


@rule("PS-CT-004", "premium-within-limits", "MUST",
      "A premium MUST NOT exceed what the law allows in the nation and year it starts: a long-term empty "
      "premium needs empty_since and is capped by how long the dwelling has been empty; a second homes "
      "premium is capped at its maximum.", "revenues.council-tax-account")
def premium_within_limits(message):
    data = message["data"]
    premium = data.get("premium")
    if premium is None:
        return
    start = as_date(premium["period"]["start"])
    year = financial_year_of(start)
    percent = Decimal(premium["percent"])
    if premium["premium_type"] == "second_home":
        cap = refdata.second_home_max_percent("england", year)
        if cap is None:
            yield Violation("/data/premium", f"no second homes premium is allowed in {year}")
        elif percent > cap:
            yield Violation("/data/premium/percent", f"a second homes premium is at most {cap}%, not {percent}%")
        return
    if "empty_since" not in premium:
        yield Violation("/data/premium/empty_since",
                        "a long-term empty premium needs the date the dwelling became empty")
        return
    empty_since = as_date(premium["empty_since"])
    years_empty = (start - empty_since).days // 365
    tiers = refdata.long_term_empty_tiers("england", year) or []
    allowed = max((Decimal(t["max_percent"]) for t in tiers if years_empty >= t["min_years_empty"]),
                  default=Decimal(0))
    if percent > allowed:
        yield Violation("/data/premium/percent",
                        f"after {years_empty} whole years empty the premium is at most {allowed}% in {year}, "
                        f"not {percent}%")


def _bill_year(data):
    return financial_year_bounds(data["financial_year"])


@rule("PS-CT-005", "annual-charge-formula", "MUST",
      "A bill's annual_charge MUST equal band_d_charge x the band's ratio x (1 - discount_percent/100) x "
      "(1 + premium_percent/100), rounded half up to the penny, and 0.00 when exempt.",
      "revenues.council-tax-bill")
def annual_charge(message):
    data = message["data"]
    ratios = refdata.band_ratios(data["valuation_list"], data["financial_year"])
    if ratios is None or data["band"] not in ratios:
        return  # PS-CT-001 reports an unknown band
    expected = council_tax_annual_charge(
        money(data["band_d_charge"]), ratios[data["band"]], Decimal(data["discount_percent"]),
        Decimal(data["premium_percent"]), data["exempt"],
    )
    if money(data["annual_charge"]) != expected:
        yield Violation("/data/annual_charge",
                        f"{data['annual_charge']} does not agree with band {data['band']} at Band D "
                        f"{data['band_d_charge']}, discount {data['discount_percent']}%, premium "
                        f"{data['premium_percent']}% (expected {expected:.2f})")


@rule("PS-CT-006", "period-charge-apportioned", "MUST",
      "A bill's period MUST lie within its financial year, and period_charge MUST equal annual_charge x the "
      "days of the period / the days of the year, rounded half up to the penny.", "revenues.council-tax-bill")
def period_charge(message):
    data = message["data"]
    year_start, year_end = _bill_year(data)
    first = as_date(data["period"]["start"])
    last = as_date(data["period"].get("end", str(year_end)))
    if first < year_start or last > year_end:
        yield Violation("/data/period", f"the period {first} to {last} is outside {data['financial_year']}")
        return
    expected = apportion(money(data["annual_charge"]), first, last, year_start, year_end)
    if money(data["period_charge"]) != expected:
        yield Violation("/data/period_charge", f"{data['period_charge']} is not the annual charge apportioned to "
                                               f"{(last - first).days + 1} days ({expected:.2f})")


@rule("PS-CT-007", "amount-payable", "MUST",
      "A bill's amount_payable MUST equal period_charge minus reduction.", "revenues.council-tax-bill")
def amount_payable(message):
    data = message["data"]
    expected = money(data["period_charge"]) - money(data["reduction"])
    if money(data["amount_payable"]) != expected:
        yield Violation("/data/amount_payable", f"{data['amount_payable']} is not period charge "
                                                f"{data['period_charge']} minus reduction {data['reduction']} "
                                                f"({expected:.2f})")


@rule("PS-CT-008", "instalments-sum-to-bill", "MUST",
      "A bill's instalments MUST sum exactly to its amount_payable.", "revenues.council-tax-bill")
def instalments_sum(message):
    data = message["data"]
    stated = total(data["instalments"])
    if stated != money(data["amount_payable"]):
        yield Violation("/data/instalments", f"the instalments sum to {stated:.2f}, not the amount payable "
                                             f"{data['amount_payable']}")


@rule("PS-CT-009", "instalment-dates", "MUST",
      "Instalment due dates MUST be in ascending order, none on the same day, all within the financial year "
      "and none before the bill's issue_date.", "revenues.council-tax-bill")
def instalment_dates(message):
    data = message["data"]
    year_start, year_end = _bill_year(data)
    previous = None
    for index, instalment in enumerate(data["instalments"]):
        due = as_date(instalment["due_date"])
        pointer = f"/data/instalments/{index}/due_date"
        if previous is not None and due <= previous:
            yield Violation(pointer, f"{due} is not after the previous instalment ({previous})")
        if not year_start <= due <= year_end:
            yield Violation(pointer, f"{due} is outside {data['financial_year']}")
        if instalment["due_date"] < data["issue_date"]:
            yield Violation(pointer, f"{due} is before the bill was issued ({data['issue_date']})")
        previous = due


@rule("PS-CT-010", "instalment-plan-shape", "SHOULD",
      "A bill SHOULD have at most 12 instalments, equal but for the first, which takes the rounding "
      "difference.", "revenues.council-tax-bill")
def instalment_shape(message):
    amounts = [money(i["amount"]) for i in message["data"]["instalments"]]
    if len(amounts) > 12:
        yield Violation("/data/instalments", f"{len(amounts)} instalments; at most 12 are expected")
    if len(set(amounts[1:])) > 1:
        yield Violation("/data/instalments", "instalments after the first differ from one another")


@rule("PS-REV-001", "reversal-names-payment", "MUST",
      "A reversal MUST name the payment it reverses in reverses_payment_id; a payment or refund MUST NOT.",
      "revenues.payment")
def reversal_names_payment(message):
    data = message["data"]
    if data["payment_type"] == "reversal" and "reverses_payment_id" not in data:
        yield Violation("/data/reverses_payment_id", "a reversal must name the payment it reverses")
    if data["payment_type"] != "reversal" and "reverses_payment_id" in data:
        yield Violation("/data/reverses_payment_id", f"a {data['payment_type']} reverses nothing")


@rule("PS-NDR-001", "gross-charge-formula", "MUST",
      "A business rates account's gross_charge MUST equal rateable_value x the multiplier, rounded half up "
      "to the penny.", "revenues.business-rates-account")
def gross_charge(message):
    data = message["data"]
    expected = business_rates_gross(data["rateable_value"], Decimal(data["multiplier"]["value"]))
    if money(data["gross_charge"]) != expected:
        yield Violation("/data/gross_charge", f"{data['gross_charge']} is not rateable value "
                                              f"{data['rateable_value']} x {data['multiplier']['value']} "
                                              f"({expected:.2f})")


@rule("PS-NDR-002", "net-charge-after-reliefs", "MUST",
      "A business rates account's net_charge MUST equal gross_charge minus the sum of its reliefs, and the "
      "reliefs MUST NOT exceed the gross charge.", "revenues.business-rates-account")
def net_charge(message):
    data = message["data"]
    reliefs = total(data["reliefs"])
    expected = money(data["gross_charge"]) - reliefs
    if expected < 0:
        yield Violation("/data/reliefs", f"reliefs of {reliefs:.2f} exceed the gross charge {data['gross_charge']}")
    elif money(data["net_charge"]) != expected:
        yield Violation("/data/net_charge", f"{data['net_charge']} is not gross {data['gross_charge']} minus "
                                            f"reliefs {reliefs:.2f} ({expected:.2f})")


@rule("PS-NDR-003", "multiplier-in-force", "MUST",
      "The multiplier MUST be the one in force for its kind in the nation and financial year, and the small "
      "business multipliers MUST NOT apply at or above their rateable value threshold, nor the high value "
      "multiplier below its own.",
      "revenues.business-rates-account")
def multiplier_in_force(message):
    data = message["data"]
    figures = refdata.business_rates(data["nation"], data["financial_year"])
    if figures is None:
        yield Violation("/data/multiplier", f"no business rates figures for {data['nation']} "
                                            f"{data['financial_year']} in the reference data; not checked",
                        level="SHOULD")
        return
    kind, value = data["multiplier"]["kind"], Decimal(data["multiplier"]["value"])
    in_force = figures["multipliers"].get(kind)
    if in_force is None:
        yield Violation("/data/multiplier/kind", f"there is no {kind} multiplier in {data['financial_year']}")
    elif value != Decimal(in_force):
        yield Violation("/data/multiplier/value", f"the {kind} multiplier for {data['financial_year']} is "
                                                  f"{in_force}, not {data['multiplier']['value']}")
    threshold = figures.get("small_business_multiplier_below_rv")
    if kind.startswith("small_business") and threshold is not None and data["rateable_value"] >= threshold:
        yield Violation("/data/multiplier/kind", f"the {kind} multiplier applies below a rateable value "
                                                 f"of {threshold}")
    high_value_from = figures.get("high_value_multiplier_from_rv")
    if kind == "high_value" and high_value_from is not None and data["rateable_value"] < high_value_from:
        yield Violation("/data/multiplier/kind", f"the high_value multiplier applies from a rateable value "
                                                 f"of {high_value_from}")


@rule("PS-NDR-004", "small-business-relief-taper", "MUST",
      "Small business rate relief MUST follow the taper in force: 100% up to the lower rateable value "
      "threshold, falling in a straight line to nil at the upper; its amount MUST be that percentage of the "
      "gross charge, to the penny.", "revenues.business-rates-account")
def small_business_relief(message):
    data = message["data"]
    figures = refdata.business_rates(data["nation"], data["financial_year"])
    taper = (figures or {}).get("small_business_rate_relief")
    for index, relief in enumerate(data["reliefs"]):
        if relief["relief_type"] != "small_business" or taper is None:
            continue
        percent = small_business_relief_percent(
            data["rateable_value"], taper["full_relief_up_to_rv"], taper["nil_relief_from_rv"])
        expected = round_penny(money(data["gross_charge"]) * percent / 100)
        if money(relief["amount"]) != expected:
            yield Violation(f"/data/reliefs/{index}/amount",
                            f"small business rate relief at rateable value {data['rateable_value']} is "
                            f"{percent.normalize():f}% of the gross charge ({expected:.2f}), not {relief['amount']}")
