"""Payroll messages, shaped to carry everything an RTI Full Payment Submission needs.

Figures are exact decimal strings (see ``types.Money``). A payslip lists its
earnings and deductions and states the totals, so that the arithmetic can be
checked to the penny; tax, NI, student loan and pension figures sit beside the
lines in the form RTI reports them.
"""

from __future__ import annotations

from decimal import Decimal
from enum import Enum

from pydantic import Field

from plugshare.models.common import Canonical, Record
from plugshare.models.types import (
    AccountNumber,
    AccountsOfficeReference,
    Date,
    FinancialYear,
    Money,
    NonNegativeMoney,
    PayeReference,
    Rate,
    RecordId,
    SortCode,
    TaxCodeText,
    TaxYear,
)


class PayFrequency(str, Enum):
    """RTI pay frequencies; four-weekly (W4) is a UK need that generic HR models lack."""

    WEEKLY = "W1"
    FORTNIGHTLY = "W2"
    FOUR_WEEKLY = "W4"
    MONTHLY = "M1"
    QUARTERLY = "M3"
    HALF_YEARLY = "M6"
    ANNUALLY = "MA"
    ONE_OFF = "IO"
    IRREGULAR = "IR"


class TaxRegime(str, Enum):
    SCOTLAND = "S"
    WALES = "C"


class TaxCode(Canonical):
    """A tax code in RTI's parts; the rest of the UK is the absence of a regime."""

    code: TaxCodeText
    regime: TaxRegime | None = None
    non_cumulative: bool = Field(False, description="Week 1 / month 1 (emergency) basis.")


class StarterDeclaration(str, Enum):
    A = "A"  # first job since 6 April, no benefits or pensions
    B = "B"  # only job now
    C = "C"  # another job or pension


class StudentLoanPlan(str, Enum):
    PLAN_1 = "01"
    PLAN_2 = "02"
    PLAN_4 = "04"
    POSTGRADUATE = "PGL"


class PayRunType(str, Enum):
    NORMAL = "normal"
    SUPPLEMENTARY = "supplementary"
    CORRECTION = "correction"


class PayRunTotals(Canonical):
    gross_pay: Money
    net_pay: Money
    tax_deducted: Money
    employee_ni: Money
    employer_ni: Money


class PayRun(Record):
    """One payroll run for one employer PAYE scheme, pay frequency and period."""

    message_type = "payroll.pay-run"

    employer_paye_reference: PayeReference
    accounts_office_reference: AccountsOfficeReference | None = None
    tax_year: TaxYear
    pay_frequency: PayFrequency
    period_number: int = Field(ge=1, le=56, description="Tax week (W1, W2, W4) or tax month (M1, M3, M6, MA).")
    period_start: Date
    period_end: Date
    payment_date: Date
    run_type: PayRunType
    payslip_count: int = Field(ge=0)
    totals: PayRunTotals


class EarningCategory(str, Enum):
    BASIC = "basic"
    OVERTIME = "overtime"
    ALLOWANCE = "allowance"
    BONUS = "bonus"
    ARREARS = "arrears"
    HOLIDAY_PAY = "holiday_pay"
    STATUTORY_SICK_PAY = "statutory_sick_pay"
    STATUTORY_MATERNITY_PAY = "statutory_maternity_pay"
    STATUTORY_PATERNITY_PAY = "statutory_paternity_pay"
    STATUTORY_ADOPTION_PAY = "statutory_adoption_pay"
    STATUTORY_SHARED_PARENTAL_PAY = "statutory_shared_parental_pay"
    STATUTORY_PARENTAL_BEREAVEMENT_PAY = "statutory_parental_bereavement_pay"
    OTHER = "other"


class DeductionCategory(str, Enum):
    INCOME_TAX = "income_tax"
    EMPLOYEE_NI = "employee_ni"
    STUDENT_LOAN = "student_loan"
    POSTGRADUATE_LOAN = "postgraduate_loan"
    PENSION = "pension"
    ATTACHMENT_OF_EARNINGS = "attachment_of_earnings"
    UNION = "union"
    SALARY_SACRIFICE = "salary_sacrifice"
    OTHER = "other"


class Earning(Canonical):
    category: EarningCategory
    code: str = Field(min_length=1, max_length=20, description="The payroll's own element code.")
    description: str | None = Field(None, max_length=100)
    amount: Money = Field(description="Negative for a recovery of an earlier overpayment.")
    quantity: float | None = Field(None, description="Hours or days, where the element has them.")
    rate: Rate | None = None


class Deduction(Canonical):
    category: DeductionCategory
    code: str = Field(min_length=1, max_length=20)
    description: str | None = Field(None, max_length=100)
    amount: Money = Field(description="Negative for a refund, e.g. of tax.")


class NiYearToDate(Canonical):
    """One NI category letter's figures for the tax year to date, including this payslip, as RTI reports them."""

    nicable_pay: Money = Field(description="Gross earnings for NICs under this letter in the tax year to date.")
    earnings_at_lel: NonNegativeMoney = Field(description="Earnings at the Lower Earnings Limit, year to date.")
    earnings_lel_to_pt: NonNegativeMoney = Field(
        description="Earnings above the LEL up to the Primary Threshold, year to date.")
    earnings_pt_to_uel: NonNegativeMoney = Field(
        description="Earnings above the PT up to the Upper Earnings Limit, year to date.")
    employee_contribution: Money = Field(description="Employee (primary) contributions, year to date.")
    employer_contribution: Money = Field(description="Employer (secondary) contributions, year to date.")


class NiContribution(Canonical):
    """NI for one category letter in the period, with RTI's earnings buckets for the period."""

    letter: str = Field(pattern="^[A-Z]$", description="NI category letter valid in the tax year.")
    nicable_pay: Money | None = Field(
        None, description="The period's gross earnings for NICs under this letter (RTI GrossEarningsForNICsInPd).")
    earnings_at_lel: NonNegativeMoney = Field(
        description="The period's earnings at the Lower Earnings Limit: the LEL for the earnings period when "
                    "the earnings reach it, else 0.00.")
    earnings_lel_to_pt: NonNegativeMoney = Field(
        description="The period's earnings above the LEL up to the Primary Threshold.")
    earnings_pt_to_uel: NonNegativeMoney = Field(
        description="The period's earnings above the PT up to the Upper Earnings Limit.")
    employee_contribution: Money = Field(description="Employee (primary) contributions in the period.")
    employer_contribution: Money = Field(description="Employer (secondary) contributions in the period.")
    year_to_date: NiYearToDate | None = Field(
        None, description="This letter's figures for the tax year to date, including this payslip.")


class StudentLoanDeduction(Canonical):
    plan: StudentLoanPlan
    amount: Money


class PensionContribution(Canonical):
    pension_membership_id: RecordId
    pensionable_pay: NonNegativeMoney
    employee_contribution: Money
    employer_contribution: Money


class YearToDate(Canonical):
    """Totals for the tax year to date, including this payslip."""

    gross_pay: Money
    taxable_pay: Money
    tax_deducted: Money
    employee_ni: Money
    employer_ni: Money
    student_loan: Money = Decimal("0.00")
    employee_pension: Money = Decimal("0.00")


class HoursBand(str, Enum):
    """RTI normal hours worked: A under 16, B 16-23.99, C 24-29.99, D 30 or more, E other."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"


class Payslip(Record):
    """One employee's pay in one pay run."""

    message_type = "payroll.payslip"

    pay_run_id: RecordId
    employment_id: RecordId
    person_id: RecordId
    payroll_id: str = Field(min_length=1, max_length=35, description="Payroll id as reported on RTI.")
    tax_year: TaxYear
    pay_frequency: PayFrequency
    period_number: int = Field(ge=1, le=56, description="Tax week (W1, W2, W4) or tax month (M1, M3, M6, MA).")
    periods_covered: int = Field(1, ge=1, le=56)
    payment_date: Date
    hours_band: HoursBand | None = None
    tax_code: TaxCode
    earnings: list[Earning]
    deductions: list[Deduction]
    gross_pay: Money = Field(description="Sum of the earnings.")
    taxable_pay: Money
    tax_deducted: Money = Field(description="Income tax in the period; negative for a refund.")
    ni: list[NiContribution] = Field(default_factory=list)
    student_loans: list[StudentLoanDeduction] = Field(default_factory=list)
    pensions: list[PensionContribution] = Field(default_factory=list)
    total_deductions: Money = Field(description="Sum of the deductions.")
    net_pay: Money = Field(description="Gross pay minus total deductions, to the penny.")
    year_to_date: YearToDate


class TaxDetails(Record):
    """What the payroll holds to tax an employment in a tax year (from a P45, starter checklist or P6/P9)."""

    message_type = "payroll.tax-details"

    employment_id: RecordId
    tax_year: TaxYear
    effective_from: Date
    tax_code: TaxCode
    ni_letter: str = Field(pattern="^[A-Z]$")
    starter_declaration: StarterDeclaration | None = None
    student_loan_plans: list[StudentLoanPlan] = Field(default_factory=list)
    previous_employment_pay: NonNegativeMoney | None = Field(None, description="From a P45, this tax year.")
    previous_employment_tax: Money | None = None


class BankAccount(Record):
    """Where a person's net pay goes."""

    message_type = "payroll.bank-account"

    person_id: RecordId
    account_name: str = Field(min_length=1, max_length=60)
    sort_code: SortCode
    account_number: AccountNumber = Field(description="Personal data: never shown in reports or logs.")
    building_society_roll_number: str | None = Field(None, max_length=18)
    effective_from: Date
    effective_to: Date | None = None


class PensionScheme(str, Enum):
    LGPS = "lgps"  # Local Government Pension Scheme (England and Wales)
    LGPS_SCOTLAND = "lgps_scotland"
    TEACHERS = "teachers"
    NHS = "nhs"
    AUTO_ENROLMENT = "auto_enrolment"
    OTHER = "other"


class LgpsSection(str, Enum):
    MAIN = "main"
    FIFTY_FIFTY = "fifty_fifty"


class PensionMembership(Record):
    """A person's membership of a pension scheme through an employment."""

    message_type = "payroll.pension-membership"

    person_id: RecordId
    employment_id: RecordId
    scheme: PensionScheme
    lgps_section: LgpsSection | None = Field(None, description="Required for LGPS members.")
    start_date: Date
    end_date: Date | None = None
    auto_enrolled: bool = False
    opted_out: bool = False
    rates_year: FinancialYear = Field(description="The financial year the rates below apply to.")
    annual_pensionable_pay: NonNegativeMoney | None = Field(
        None, description="Actual pensionable pay in rates_year, which bands the LGPS employee rate."
    )
    employee_rate_percent: Rate
    employer_rate_percent: Rate
