"""Revenues messages: council tax and business rates (NNDR).

A property is keyed by its UPRN and banded on its nation's valuation list;
accounts carry who is liable and what reduces or increases the charge; bills
state the figures and the instalment plan so that the arithmetic can be
checked. Business rates hereditaments carry the VOA rating list fields.
"""

from __future__ import annotations

from enum import Enum

from pydantic import Field

from plugshare.models.common import Address, Canonical, Nation, Period, PersonName, PropertyAddress, Record
from plugshare.models.types import Date, FinancialYear, NonNegativeMoney, Rate, RecordId


class ValuationList(str, Enum):
    """The council tax valuation list a band was set on."""

    ENGLAND_1991 = "england-1991"
    WALES_2003 = "wales-2003"
    SCOTLAND_1991 = "scotland-1991"


class CouncilTaxBand(str, Enum):
    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"
    F = "F"
    G = "G"
    H = "H"
    I = "I"  # noqa: E741  Wales only


class Banding(Canonical):
    valuation_list: ValuationList
    band: CouncilTaxBand
    effective_date: Date | None = None


class Property(Record):
    """A property (dwelling or non-domestic) known by its UPRN."""

    message_type = "revenues.property"

    address: PropertyAddress
    nation: Nation
    domestic: bool = Field(description="True for a dwelling (council tax); false for a hereditament (NNDR).")
    council_tax: Banding | None = Field(None, description="The council tax band of a dwelling.")


class Party(Canonical):
    """A person or organisation that can be liable; exactly one of name and organisation_name."""

    model_config = Canonical.model_config | {
        "json_schema_extra": {
            "oneOf": [{"required": ["name"]}, {"required": ["organisation_name"]}],
            "x-requirement": "PS-COM-009",
        }
    }

    name: PersonName | None = None
    organisation_name: str | None = Field(None, min_length=1, max_length=120)
    birth_date: Date | None = Field(None, description="Personal data: never shown in reports or logs.")
    correspondence_address: Address | None = None


class LiabilityRole(str, Enum):
    OWNER_OCCUPIER = "owner_occupier"
    TENANT = "tenant"
    JOINT = "joint"
    OWNER_OF_EMPTY = "owner_of_empty"
    LANDLORD_HMO = "landlord_hmo"
    EXECUTOR = "executor"


class LiableParty(Canonical):
    party: Party
    role: LiabilityRole
    liable_from: Date
    liable_to: Date | None = None


class DiscountType(str, Enum):
    SINGLE_PERSON = "single_person"
    STATUS_DISREGARD = "status_disregard"  # e.g. students, carers, severely mentally impaired
    EMPTY_PROPERTY = "empty_property"
    LOCAL = "local"


class Discount(Canonical):
    discount_type: DiscountType
    percent: Rate = Field(description="Share of the charge removed, e.g. \"25\" for the single person discount.")
    period: Period


class ExemptionClass(str, Enum):
    """England's exemption classes; A and C were abolished in 2013."""

    B = "B"
    D = "D"
    E = "E"
    F = "F"
    G = "G"
    H = "H"
    I = "I"  # noqa: E741
    J = "J"
    K = "K"
    L = "L"
    M = "M"
    N = "N"
    O = "O"  # noqa: E741
    P = "P"
    Q = "Q"
    R = "R"
    S = "S"
    T = "T"
    U = "U"
    V = "V"
    W = "W"


class Exemption(Canonical):
    exemption_class: ExemptionClass
    period: Period


class PremiumType(str, Enum):
    LONG_TERM_EMPTY = "long_term_empty"
    SECOND_HOME = "second_home"


class Premium(Canonical):
    premium_type: PremiumType
    percent: Rate = Field(description="Increase on the charge, e.g. \"100\" doubles it.")
    period: Period
    empty_since: Date | None = Field(None, description="Required for the long-term empty premium.")


class PaymentMethod(str, Enum):
    DIRECT_DEBIT = "direct_debit"
    STANDING_ORDER = "standing_order"
    BANK_TRANSFER = "bank_transfer"
    CARD = "card"
    CASH = "cash"
    CHEQUE = "cheque"
    POST_OFFICE = "post_office"
    PAYPOINT = "paypoint"


class AccountStatus(str, Enum):
    OPEN = "open"
    CLOSED = "closed"


class CouncilTaxAccount(Record):
    message_type = "revenues.council-tax-account"

    account_reference: str = Field(min_length=1, max_length=20)
    property_id: RecordId
    status: AccountStatus
    liability: Period
    liable_parties: list[LiableParty] = Field(min_length=1)
    discounts: list[Discount] = Field(default_factory=list)
    exemption: Exemption | None = None
    premium: Premium | None = None
    payment_method: PaymentMethod | None = None
    instalments_requested: int = Field(10, ge=1, le=12, description="10 by default; 12 on request.")


class Instalment(Canonical):
    due_date: Date
    amount: NonNegativeMoney


class CouncilTaxBill(Record):
    """A demand notice for a financial year (or the part of it the account is liable for)."""

    message_type = "revenues.council-tax-bill"

    account_id: RecordId
    financial_year: FinancialYear
    issue_date: Date
    period: Period = Field(description="The days charged, within the financial year.")
    valuation_list: ValuationList
    band: CouncilTaxBand
    band_d_charge: NonNegativeMoney = Field(description="The year's Band D charge, all preceptors included.")
    discount_percent: Rate = Field(description="Combined discount, e.g. \"25\".")
    premium_percent: Rate = Field(description="Premium, e.g. \"100\".")
    exempt: bool = False
    annual_charge: NonNegativeMoney = Field(
        description="Band D charge x band ratio x (1 - discount) x (1 + premium), rounded to the penny; "
                    "0.00 when exempt."
    )
    period_charge: NonNegativeMoney = Field(description="annual_charge apportioned by days of the period.")
    reduction: NonNegativeMoney = Field(description="Council tax reduction awarded for the period.")
    amount_payable: NonNegativeMoney = Field(description="period_charge minus reduction.")
    instalments: list[Instalment] = Field(description="Sum exactly to amount_payable.")


class PaymentType(str, Enum):
    PAYMENT = "payment"
    REFUND = "refund"
    REVERSAL = "reversal"


class AccountKind(str, Enum):
    COUNCIL_TAX = "council_tax"
    BUSINESS_RATES = "business_rates"


class Payment(Record):
    """Money received on, or refunded from, a revenues account."""

    message_type = "revenues.payment"

    account_kind: AccountKind
    account_id: RecordId
    payment_type: PaymentType
    amount: NonNegativeMoney = Field(description="Always positive; payment_type gives the direction.")
    received_date: Date
    method: PaymentMethod
    reference: str | None = Field(None, max_length=35)
    reverses_payment_id: RecordId | None = Field(None, description="Required for a reversal.")


class VoaAddress(Canonical):
    """The address as the VOA rating list writes it."""

    number_or_name: str | None = Field(None, max_length=100)
    street: str | None = Field(None, max_length=100)
    town: str | None = Field(None, max_length=100)
    postal_district: str | None = Field(None, max_length=100)
    county: str | None = Field(None, max_length=100)
    postcode: str | None = Field(None, max_length=8)


class BusinessRatesHereditament(Record):
    """A rating list entry: the fields of the VOA compiled list."""

    message_type = "revenues.business-rates-hereditament"

    uarn: int = Field(ge=1, description="VOA Unique Address Reference Number.")
    uprn: int | None = Field(None, ge=1, le=999_999_999_999)
    rating_list: str = Field(pattern="^[0-9]{4}$", description="The list's year, e.g. \"2023\".")
    list_entry_number: int | None = Field(None, ge=1)
    billing_authority_code: str = Field(pattern="^[0-9]{4}$")
    ndr_community_code: str | None = Field(None, max_length=10)
    ba_reference: str = Field(min_length=1, max_length=25)
    primary_description_code: str = Field(pattern="^[A-Z0-9]{1,5}$")
    description: str = Field(min_length=1, max_length=100)
    full_property_identifier: str | None = Field(None, max_length=500)
    firm_name: str | None = Field(None, max_length=100)
    address: VoaAddress
    effective_date: Date
    composite: bool = Field(False, description="Part domestic, part non-domestic.")
    rateable_value: int = Field(ge=0, description="Whole pounds.")
    appeal_settlement_code: str | None = Field(None, max_length=5)
    assessment_reference: str = Field(min_length=1, max_length=20)
    list_alteration_date: Date | None = None
    scat_code: str | None = Field(None, pattern="^[0-9]{3}$")
    scat_suffix: str | None = Field(None, pattern="^[A-Z]?$")
    sub_street_level_3: str | None = Field(None, max_length=100)
    sub_street_level_2: str | None = Field(None, max_length=100)
    sub_street_level_1: str | None = Field(None, max_length=100)
    case_number: str | None = Field(None, max_length=20)
    current_from: Date
    current_to: Date | None = None


class MultiplierKind(str, Enum):
    SMALL_BUSINESS = "small_business"
    STANDARD = "standard"
    SMALL_BUSINESS_RHL = "small_business_rhl"  # retail, hospitality and leisure (from 2026-27)
    STANDARD_RHL = "standard_rhl"
    HIGH_VALUE = "high_value"  # rateable value of 500,000 or more (from 2026-27)


class Multiplier(Canonical):
    kind: MultiplierKind
    value: Rate = Field(description="Pounds per pound of rateable value, e.g. \"0.555\".")


class ReliefType(str, Enum):
    SMALL_BUSINESS = "small_business"
    CHARITABLE = "charitable"
    DISCRETIONARY = "discretionary"
    RURAL = "rural"
    RETAIL_HOSPITALITY_LEISURE = "retail_hospitality_leisure"
    EMPTY_PROPERTY = "empty_property"
    TRANSITIONAL = "transitional"
    OTHER = "other"


class Relief(Canonical):
    relief_type: ReliefType
    percent: Rate | None = None
    amount: NonNegativeMoney


class BusinessRatesAccount(Record):
    """A ratepayer's liability for a hereditament in a financial year."""

    message_type = "revenues.business-rates-account"

    account_reference: str = Field(min_length=1, max_length=20)
    hereditament_id: RecordId
    nation: Nation
    ratepayer: Party
    financial_year: FinancialYear
    liability: Period
    occupied: bool
    rateable_value: int = Field(ge=0)
    multiplier: Multiplier
    gross_charge: NonNegativeMoney = Field(description="Rateable value x multiplier for the year, to the penny.")
    reliefs: list[Relief] = Field(default_factory=list)
    net_charge: NonNegativeMoney = Field(description="Gross charge minus reliefs.")
