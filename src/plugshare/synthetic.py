"""Synthetic data for a shared service of three fictional councils, made from a seed.

Every record is built through the models and every figure through
``plugshare.calculations``, so the output is what a correct system would hold.
The same seed gives the same messages, byte for byte. Names, NI numbers,
addresses and bank details are drawn at random in valid formats and describe
no one. Sizes scale up for benchmarks.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from plugshare import refdata
from plugshare.calculations import (
    SECONDARY_THRESHOLD,
    apportion,
    business_rates_gross,
    council_tax_annual_charge,
    financial_year_bounds,
    instalments,
    ni_period_buckets,
    ni_period_thresholds,
    round_penny,
    small_business_relief_percent,
    tax_year_bounds,
)
from plugshare.models import cloudevents_type, hr, message_model, payroll, revenues
from plugshare.models.common import Identifier, Period, PersonName, PropertyAddress, Record
from plugshare.models.version import STANDARD_VERSION, schema_id

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Council:
    gss_code: str
    name: str
    town: str
    postcode_area: str
    paye_reference: str
    accounts_office_reference: str
    billing_authority_code: str
    band_d_charge: Decimal


COUNCILS = (
    Council("E07000991", "Fenmoor District Council", "Fenmoor", "PE", "991/FM00123", "991PA00012345", "9911",
            Decimal("2187.44")),
    Council("E07000992", "Ashcombe Borough Council", "Ashcombe", "CB", "992/AB00456", "992PB00067890", "9912",
            Decimal("2096.18")),
    Council("E07000993", "Wrenfield District Council", "Wrenfield", "IP", "993/WR00789", "993PC0001234X", "9913",
            Decimal("2243.90")),
)

GIVEN = ("Alex", "Sam", "Priya", "Tomasz", "Aisha", "Owen", "Grace", "Ravi", "Niamh", "Kofi", "Ellen", "Marek",
         "Yusuf", "Hannah", "Callum", "Zara", "Ieuan", "Morag", "Bethan", "Dylan")
FAMILY = ("Ashdown", "Brierley", "Carrow", "Dunmore", "Elstow", "Fairley", "Garside", "Hollins", "Ingram",
          "Jessop", "Kettle", "Lowther", "Marlow", "Northey", "Oakes", "Pennock", "Quarrie", "Rudd", "Stainer",
          "Tullett")
STREETS = ("Mill Lane", "Church Street", "Station Road", "The Green", "Orchard Close", "High Street",
           "Meadow View", "Westgate", "Willow Way", "Chapel Row")
# Prefix letters for synthetic NI numbers: none of these pairs is a never-issued prefix.
NINO_FIRST = "ABCEHJKLMPRSTWXY"
NINO_SECOND = "ABCEHJKLMPRSTWXY"
SYNTHETIC_SORT_CODE_PREFIX = "08"

DIRECTORATES = {
    "Resources": ("Finance", "HR and Payroll"),
    "Place": ("Planning", "Waste and Streets"),
    "People": ("Housing", "Communities"),
}
JOBS = (("Officer", 12, 17), ("Senior Officer", 18, 24), ("Team Leader", 25, 31), ("Manager", 32, 40))


@dataclass(frozen=True)
class Sizes:
    employees: int = 12
    dwellings: int = 15
    hereditaments: int = 4


class ServiceGenerator:
    """Builds the messages of one shared service; ``messages()`` yields them in load order."""

    def __init__(self, seed: int = 2026, councils: tuple[Council, ...] = COUNCILS, sizes: Sizes = Sizes(),
                 tax_year: str = "2025-26", pay_period: int = 6):
        self.rng = random.Random(seed)
        self.councils = councils
        self.sizes = sizes
        self.tax_year = tax_year
        self.pay_period = pay_period
        year_start, _ = tax_year_bounds(tax_year)
        self.as_at = dt.datetime(year_start.year, 9, 30, 17, 0, tzinfo=dt.UTC)
        self._nino_serial = self.rng.randrange(100000, 400000)

    # --- envelope -------------------------------------------------------------

    def message(self, record: Record, council: Council, system: str) -> dict:
        model = message_model(record.message_type)
        envelope = model(
            specversion="1.0",
            id=str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
            source=f"urn:plugshare:{council.gss_code}:{system}",
            type=cloudevents_type(record.message_type),
            time=self.as_at,
            dataschema=schema_id(f"{record.message_type}.json"),
            subject=record.id,
            council=council.gss_code,
            action="upsert",
            schemaversion=STANDARD_VERSION,
            data=record,
        )
        return envelope.model_dump(mode="json", exclude_none=True)

    def messages(self) -> Iterator[dict]:
        for council in self.councils:
            yield from self.hr_and_payroll(council)
            yield from self.council_tax(council)
            yield from self.business_rates(council)

    # --- people -----------------------------------------------------------------

    def _nino(self) -> str:
        self._nino_serial += self.rng.randrange(1, 97)
        return self.rng.choice(NINO_FIRST) + self.rng.choice(NINO_SECOND) + f"{self._nino_serial % 1000000:06d}" \
            + self.rng.choice("ABCD")

    def _name(self) -> PersonName:
        return PersonName(given_name=self.rng.choice(GIVEN), family_name=self.rng.choice(FAMILY))

    def _postcode(self, council: Council) -> str:
        return f"{council.postcode_area}{self.rng.randrange(1, 30)} {self.rng.randrange(1, 10)}" \
               f"{self.rng.choice('ABDEFGHJLNPQRSTUWXYZ')}{self.rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"

    def _address(self, council: Council, uprn: int | None = None) -> dict:
        return dict(paon=str(self.rng.randrange(1, 120)), street=self.rng.choice(STREETS), town=council.town,
                    postcode=self._postcode(council), uprn=uprn)

    # --- HR and payroll ---------------------------------------------------------------

    def hr_and_payroll(self, council: Council) -> Iterator[dict]:
        code = council.gss_code
        root = hr.OrgUnit(id=f"{code}-ou-root", name=council.name, kind="council")
        yield self.message(root, council, "hr")
        teams: list[hr.OrgUnit] = []
        for directorate, services in DIRECTORATES.items():
            parent = hr.OrgUnit(id=f"{code}-ou-{directorate.lower()}", name=directorate, kind="directorate",
                                parent_id=root.id)
            yield self.message(parent, council, "hr")
            for service in services:
                slug = service.lower().replace(" ", "-")
                unit = hr.OrgUnit(id=f"{code}-ou-{slug}", name=service, kind="service", parent_id=parent.id,
                                  cost_centre=f"CC{self.rng.randrange(1000, 9999)}")
                teams.append(unit)
                yield self.message(unit, council, "hr")

        year_start, _ = tax_year_bounds(self.tax_year)
        pay_run_id = f"{code}-payrun-{self.tax_year}-M{self.pay_period:02d}"
        payment_date = dt.date(year_start.year, 3 + self.pay_period, 25)
        payslips: list[payroll.Payslip] = []
        for number in range(1, self.sizes.employees + 1):
            records, payslip = self._employee(council, number, teams, pay_run_id, payment_date)
            for record, system in records:
                yield self.message(record, council, system)
            payslips.append(payslip)

        totals = payroll.PayRunTotals(
            gross_pay=sum((p.gross_pay for p in payslips), ZERO),
            net_pay=sum((p.net_pay for p in payslips), ZERO),
            tax_deducted=sum((p.tax_deducted for p in payslips), ZERO),
            employee_ni=sum((n.employee_contribution for p in payslips for n in p.ni), ZERO),
            employer_ni=sum((n.employer_contribution for p in payslips for n in p.ni), ZERO),
        )
        period_start = dt.date(year_start.year, 3 + self.pay_period, 1)
        run = payroll.PayRun(
            id=pay_run_id, employer_paye_reference=council.paye_reference,
            accounts_office_reference=council.accounts_office_reference, tax_year=self.tax_year,
            pay_frequency="M1", period_number=self.pay_period, period_start=period_start,
            period_end=(period_start.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1),
            payment_date=payment_date, run_type="normal", payslip_count=len(payslips), totals=totals,
        )
        yield self.message(run, council, "payroll")
        for payslip in payslips:
            yield self.message(payslip, council, "payroll")

    def _employee(self, council: Council, number: int, teams, pay_run_id: str, payment_date: dt.date):
        rng = self.rng
        code = council.gss_code
        person_id, employment_id = f"{code}-p{number:05d}", f"{code}-e{number:05d}"
        team = rng.choice(teams)
        title, low, high = rng.choice(JOBS)
        scp = rng.randrange(low, high + 1)
        annual_salary = Decimal(21000 + (scp - 2) * 950 + rng.randrange(0, 900))
        fte = rng.choice((1.0, 1.0, 1.0, 0.8, 0.6, 0.5))
        start = dt.date(rng.randrange(2004, 2025), rng.randrange(1, 13), 1)
        position = hr.Position(
            id=f"{code}-pos{number:05d}", title=f"{team.name} {title}", org_unit_id=team.id, status="active",
            grade=hr.Grade(pay_scale="njc", code=f"G{(scp + 3) // 4}", spinal_column_point=scp),
            budgeted_fte=fte, cost_centre=team.cost_centre, start_date=start,
        )
        tupe = rng.random() < 0.15
        person = hr.Person(
            id=person_id, source_ids=[Identifier(scheme=f"{code.lower()}-payroll", value=f"{number:06d}")],
            name=self._name(),
            birth_date=dt.date(rng.randrange(1960, 2004), rng.randrange(1, 13), rng.randrange(1, 29)),
            legal_sex=rng.choice(("F", "M")), ni_number=self._nino(),
            address=self._address(council),
        )
        employment = hr.Employment(
            id=employment_id, person_id=person_id, employer=code, payroll_id=f"{number:06d}", status="active",
            contract_type=rng.choice(("permanent", "permanent", "fixed_term")), start_date=start,
            continuous_service_date=start.replace(year=start.year - 3) if tupe else start,
            tupe_transfer=hr.TupeTransfer(previous_employer="Former Shared Services Ltd", transfer_date=start)
            if tupe else None,
            assignments=[hr.Assignment(
                position_id=position.id, start_date=start, grade=position.grade, cost_centre=team.cost_centre,
                working_pattern=hr.WorkingPattern(fte=fte, contracted_hours_per_week=round(37 * fte, 2),
                                                  weeks_per_year=52.143 if rng.random() > 0.1 else 39.0),
            )],
            extensions={f"gov.uk.{code.lower()}": {"local_department_code": team.cost_centre}},
        )
        bank = payroll.BankAccount(
            id=f"{code}-ba{number:05d}", person_id=person_id,
            account_name=f"{person.name.given_name} {person.name.family_name}".upper(),
            sort_code=SYNTHETIC_SORT_CODE_PREFIX + f"{rng.randrange(0, 10000):04d}",
            account_number=f"{rng.randrange(0, 10**8):08d}", effective_from=start,
        )
        pay = round_penny(annual_salary * Decimal(str(fte)))
        lgps_rate = refdata.lgps_rate(self.tax_year, pay) or Decimal("6.5")
        pension = payroll.PensionMembership(
            id=f"{code}-pm{number:05d}", person_id=person_id, employment_id=employment_id, scheme="lgps",
            lgps_section="main", start_date=start, auto_enrolled=True, rates_year=self.tax_year,
            annual_pensionable_pay=pay, employee_rate_percent=lgps_rate, employer_rate_percent=Decimal("18.5"),
        )
        regime = "S" if rng.random() < 0.05 else "C" if rng.random() < 0.05 else None
        tax_code = payroll.TaxCode(code="1257L", regime=regime)
        plans = ["02"] if rng.random() < 0.2 else []
        tax_details = payroll.TaxDetails(
            id=f"{code}-td{number:05d}-{self.tax_year}", employment_id=employment_id, tax_year=self.tax_year,
            effective_from=tax_year_bounds(self.tax_year)[0], tax_code=tax_code, ni_letter="A",
            student_loan_plans=plans,
        )
        payslip = self._payslip(code, number, pay, lgps_rate, tax_code, plans, pension.id, pay_run_id,
                                employment_id, person_id, payment_date)
        records = [(person, "hr"), (position, "hr"), (employment, "hr"), (tax_details, "payroll"),
                   (bank, "payroll"), (pension, "payroll")]
        if rng.random() < 0.3:
            records.append((self._absence(code, number, person_id, employment_id), "hr"))
        return records, payslip

    def _absence(self, code: str, number: int, person_id: str, employment_id: str) -> hr.Absence:
        year_start, _ = tax_year_bounds(self.tax_year)
        start = year_start + dt.timedelta(days=self.rng.randrange(10, 150))
        kind = self.rng.choice(("annual_leave", "sickness", "sickness", "bereavement"))
        days = self.rng.randrange(1, 15) if kind == "sickness" else self.rng.randrange(1, 6)
        end = start + dt.timedelta(days=days - 1)
        fit_note = None
        if kind == "sickness" and days > 7:
            fit_note = hr.FitNote(issued_date=start + dt.timedelta(days=7),
                                  covers=hr.FitNotePeriod(start=start, end=end))
        return hr.Absence(id=f"{code}-ab{number:05d}", person_id=person_id, employment_id=employment_id,
                          absence_type=kind, start_date=start, end_date=end, unit="days", amount=float(days),
                          fit_note=fit_note)

    def _payslip(self, code, number, annual_pay, lgps_rate, tax_code, plans, pension_id, pay_run_id,
                 employment_id, person_id, payment_date) -> payroll.Payslip:
        """A monthly payslip with simplified but self-consistent tax, NI, pension and loan figures."""
        basic = round_penny(annual_pay / 12)
        earnings = [payroll.Earning(category="basic", code="BASIC", description="Basic pay", amount=basic)]
        if self.rng.random() < 0.25:
            hours = self.rng.randrange(2, 12)
            rate = round_penny(annual_pay / Decimal("1950.3") * Decimal("1.5"))
            earnings.append(payroll.Earning(category="overtime", code="OT15", description="Overtime at 1.5",
                                            amount=round_penny(rate * hours), quantity=float(hours), rate=rate))
        gross = sum((e.amount for e in earnings), ZERO)
        pension_employee = round_penny(basic * lgps_rate / 100)
        taxable = gross - pension_employee
        tax = max(ZERO, round_penny((taxable - Decimal("1047.50")) * Decimal("0.20")))
        months = Decimal(self.pay_period)
        thresholds = refdata.ni_thresholds(self.tax_year)
        if thresholds is None:
            raise ValueError(f"no NI thresholds for {self.tax_year} in the reference data")
        buckets = ni_period_buckets(gross, thresholds, "M1")
        secondary = ni_period_thresholds(thresholds, "M1")[SECONDARY_THRESHOLD]
        employee_ni = round_penny(buckets.pt_to_uel * Decimal("0.08"))
        employer_ni = round_penny(max(ZERO, gross - secondary) * Decimal("0.15"))
        # every month of the year so far paid the same: the letter's year to date is the period's times the months
        ni = payroll.NiContribution(
            letter="A", nicable_pay=gross, earnings_at_lel=buckets.at_lel, earnings_lel_to_pt=buckets.lel_to_pt,
            earnings_pt_to_uel=buckets.pt_to_uel, employee_contribution=employee_ni,
            employer_contribution=employer_ni,
            year_to_date=payroll.NiYearToDate(
                nicable_pay=gross * months, earnings_at_lel=buckets.at_lel * months,
                earnings_lel_to_pt=buckets.lel_to_pt * months, earnings_pt_to_uel=buckets.pt_to_uel * months,
                employee_contribution=employee_ni * months, employer_contribution=employer_ni * months),
        )
        deductions = [
            payroll.Deduction(category="income_tax", code="PAYE", amount=tax),
            payroll.Deduction(category="employee_ni", code="NIC", amount=ni.employee_contribution),
            payroll.Deduction(category="pension", code="LGPS", amount=pension_employee),
        ]
        loans = []
        if plans:
            loan = round_penny(max(ZERO, gross - Decimal("2372.50")) * Decimal("0.09")).quantize(Decimal("1"))
            loans.append(payroll.StudentLoanDeduction(plan="02", amount=Decimal(loan)))
            deductions.append(payroll.Deduction(category="student_loan", code="SL2", amount=Decimal(loan)))
        total_deductions = sum((d.amount for d in deductions), ZERO)
        return payroll.Payslip(
            id=f"{pay_run_id}-{number:05d}", pay_run_id=pay_run_id, employment_id=employment_id,
            person_id=person_id, payroll_id=f"{number:06d}", tax_year=self.tax_year, pay_frequency="M1",
            period_number=self.pay_period, payment_date=payment_date, hours_band="D", tax_code=tax_code,
            earnings=earnings, deductions=deductions, gross_pay=gross, taxable_pay=taxable, tax_deducted=tax,
            ni=[ni], student_loans=loans,
            pensions=[payroll.PensionContribution(pension_membership_id=pension_id, pensionable_pay=basic,
                                                  employee_contribution=pension_employee,
                                                  employer_contribution=round_penny(basic * Decimal("0.185")))],
            total_deductions=total_deductions, net_pay=gross - total_deductions,
            year_to_date=payroll.YearToDate(
                gross_pay=gross * months, taxable_pay=taxable * months, tax_deducted=tax * months,
                employee_ni=ni.employee_contribution * months, employer_ni=ni.employer_contribution * months,
                student_loan=sum((x.amount for x in loans), ZERO) * months, employee_pension=pension_employee * months,
            ),
        )

    # --- council tax ---------------------------------------------------------------------

    def council_tax(self, council: Council) -> Iterator[dict]:
        code = council.gss_code
        year = self.tax_year
        year_start, year_end = financial_year_bounds(year)
        ratios = refdata.band_ratios("england-1991", year)
        for number in range(1, self.sizes.dwellings + 1):
            uprn = int(code[-3:]) * 10**8 + number
            band = self.rng.choice("AABBBCCCDDEFGH")
            prop = revenues.Property(
                id=f"{code}-prop{number:05d}", address=PropertyAddress(**self._address(council, uprn)),
                nation="england", domestic=True,
                council_tax=revenues.Banding(valuation_list="england-1991", band=band),
            )
            yield self.message(prop, council, "revenues")
            roll = self.rng.random()
            discounts, premium, exemption = [], None, None
            discount_percent, premium_percent, exempt = Decimal(0), Decimal(0), False
            parties = [revenues.LiableParty(party=revenues.Party(name=self._name()), role="owner_occupier",
                                            liable_from=year_start - dt.timedelta(days=self.rng.randrange(30, 4000)))]
            if roll < 0.3:
                discounts.append(revenues.Discount(discount_type="single_person", percent=Decimal(25),
                                                   period=Period(start=year_start)))
                discount_percent = Decimal(25)
            elif roll < 0.36:
                premium = revenues.Premium(premium_type="long_term_empty", percent=Decimal(100),
                                           period=Period(start=year_start),
                                           empty_since=year_start - dt.timedelta(days=800))
                premium_percent = Decimal(100)
                parties[0] = parties[0].model_copy(update={"role": "owner_of_empty"})
            elif roll < 0.4:
                exemption = revenues.Exemption(exemption_class="N", period=Period(start=year_start))
                exempt = True
            else:
                parties.append(parties[0].model_copy(update={"party": revenues.Party(name=self._name()),
                                                             "role": "joint"}))
            count = 12 if self.rng.random() < 0.2 else 10
            account = revenues.CouncilTaxAccount(
                id=f"{code}-cta{number:05d}", account_reference=f"{code[-3:]}{number:07d}", property_id=prop.id,
                status="open", liability=Period(start=parties[0].liable_from), liable_parties=parties,
                discounts=discounts, exemption=exemption, premium=premium,
                payment_method=self.rng.choice(("direct_debit", "direct_debit", "card", "bank_transfer")),
                instalments_requested=count,
            )
            yield self.message(account, council, "revenues")
            annual = council_tax_annual_charge(council.band_d_charge, ratios[band], discount_percent,
                                               premium_percent, exempt)
            period_charge = apportion(annual, year_start, year_end, year_start, year_end)
            reduction = round_penny(period_charge * Decimal("0.5")) if self.rng.random() < 0.1 else ZERO
            payable = period_charge - reduction
            due = [dt.date(year_start.year + (m > 12), (m - 1) % 12 + 1, 1) for m in range(4, 4 + count)]
            bill = revenues.CouncilTaxBill(
                id=f"{code}-ctb{number:05d}-{year}", account_id=account.id, financial_year=year,
                issue_date=year_start - dt.timedelta(days=21), period=Period(start=year_start, end=year_end),
                valuation_list="england-1991", band=band, band_d_charge=council.band_d_charge,
                discount_percent=discount_percent, premium_percent=premium_percent, exempt=exempt,
                annual_charge=annual, period_charge=period_charge, reduction=reduction, amount_payable=payable,
                instalments=[revenues.Instalment(due_date=d, amount=a)
                             for d, a in zip(due, instalments(payable, count), strict=True)] if payable > 0 else [],
            )
            yield self.message(bill, council, "revenues")
            for index, instalment in enumerate(bill.instalments[:3]):
                payment = revenues.Payment(
                    id=f"{code}-pay{number:05d}-{index + 1}", account_kind="council_tax", account_id=account.id,
                    payment_type="payment", amount=instalment.amount, received_date=instalment.due_date,
                    method=account.payment_method, reference=account.account_reference,
                )
                yield self.message(payment, council, "revenues")

    # --- business rates -----------------------------------------------------------------------

    def business_rates(self, council: Council) -> Iterator[dict]:
        code = council.gss_code
        year = self.tax_year
        year_start, year_end = financial_year_bounds(year)
        figures = refdata.business_rates("england", year)
        uses = (("CS", "Shop and premises", "249"), ("CO", "Offices and premises", "203"),
                ("IF", "Workshop and premises", "096"), ("LX", "Cafe and premises", "226"))
        for number in range(1, self.sizes.hereditaments + 1):
            use = self.rng.choice(uses)
            rv = self.rng.choice((4900, 9800, 13250, 14500, 27750, 52000, 86500))
            uarn = int(code[-3:]) * 10**7 + number
            address = self._address(council)
            hereditament = revenues.BusinessRatesHereditament(
                id=f"{code}-her{number:05d}", uarn=uarn, rating_list="2023", list_entry_number=number,
                billing_authority_code=council.billing_authority_code, ba_reference=f"N{number:08d}",
                primary_description_code=use[0], description=use[1].upper(),
                full_property_identifier=f"{address['paon']}, {address['street'].upper()}, {council.town.upper()}",
                address=revenues.VoaAddress(number_or_name=address["paon"], street=address["street"].upper(),
                                            town=council.town.upper(), postcode=address["postcode"]),
                effective_date=dt.date(2023, 4, 1), rateable_value=rv,
                assessment_reference=f"{self.rng.randrange(10**9, 10**10)}", scat_code=use[2], scat_suffix="G",
                current_from=dt.date(2023, 4, 1),
            )
            yield self.message(hereditament, council, "rates")
            kind = "small_business" if rv < figures["small_business_multiplier_below_rv"] else "standard"
            multiplier = Decimal(figures["multipliers"][kind])
            gross = business_rates_gross(rv, multiplier)
            reliefs = []
            taper = figures["small_business_rate_relief"]
            if rv < taper["nil_relief_from_rv"]:
                percent = small_business_relief_percent(rv, taper["full_relief_up_to_rv"], taper["nil_relief_from_rv"])
                reliefs.append(revenues.Relief(relief_type="small_business", percent=round(percent, 2),
                                               amount=round_penny(gross * percent / 100)))
            net = gross - sum((r.amount for r in reliefs), ZERO)
            account = revenues.BusinessRatesAccount(
                id=f"{code}-bra{number:05d}-{year}", account_reference=f"R{code[-3:]}{number:06d}",
                hereditament_id=hereditament.id, nation="england",
                ratepayer=revenues.Party(organisation_name=f"{self.rng.choice(FAMILY)} {use[1].split()[0]} Ltd"),
                financial_year=year, liability=Period(start=year_start, end=year_end), occupied=True,
                rateable_value=rv, multiplier=revenues.Multiplier(kind=kind, value=multiplier),
                gross_charge=gross, reliefs=reliefs, net_charge=net,
            )
            yield self.message(account, council, "rates")


def generate(seed: int = 2026, sizes: Sizes = Sizes()) -> Iterator[dict]:
    """The messages of the example shared service, in load order."""
    return ServiceGenerator(seed=seed, sizes=sizes).messages()
