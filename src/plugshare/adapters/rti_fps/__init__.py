"""rti-fps: HMRC RTI Full Payment Submission (FPS) XML, read into people, tax details and payslips, and written back.

The format
----------
An FPS is the XML an employer's payroll sends HMRC each pay day: a GovTalk
envelope (``GovTalkMessage``, namespace ``http://www.govtalk.gov.uk/CM/envelope``:
``Header/MessageDetails/Class`` ``HMRC-PAYE-RTI-FPS``, ``GovTalkDetails/Keys``)
whose ``Body`` holds the ``IRenvelope`` in the namespace of the tax year's FPS
schema, ``http://www.govtalk.gov.uk/taxation/PAYE/RTI/FullPaymentSubmission/25-26/1``
for 2025-26. HMRC names each XSD after the year the tax year ends
(``FullPaymentSubmission-2026-v1-0.xsd`` is 2025-26). This adapter knows
``24-25/1``, ``25-26/1`` and ``26-27/1``; another FPS namespace is refused
naming it and the ones known, and another RTI message (EPS, EYU, NVREQ) is
named as such. An ``IRenvelope`` on its own, as payroll exports sometimes
give it, is read too. ``IRenvelope`` holds ``IRheader`` (``Keys``
TaxOfficeNumber and TaxOfficeReference, ``PeriodEnd``, ``DefaultCurrency``,
``IRmark``, ``Sender``) and ``FullPaymentSubmission``: ``EmpRefs`` (``OfficeNo``
3 digits, ``PayeRef`` up to 10 capitals or digits, ``AORef`` the Accounts
Office reference ``123PA00012345``, and optionally ``ECON``, ``COTAXRef``,
``SAUTR``), ``RelatedTaxYear`` (``25-26``, which must be the namespace's year),
one ``Employee`` per employment paid, and ``FinalSubmission``.

Sources: HMRC's RTI business validation rules for the 2025-26 FPS as
published in its schematron (namespace, RelatedTaxYear against the schema
year, IRheader keys matching EmpRefs, NI letter rules), HMRC's RTI test
submissions and open payroll libraries that write the FPS element by element
(element names and order, ``TotalEmpNICInPd`` as employee plus employer NICs,
``PayAfterStatDedns`` as taxable pay less tax, NICs and loans), and the
namespace-per-year lists those libraries keep. The XSD files themselves are
not redistributed: orders and widths below are as this adapter applies them
(``schema.py``), and where a width or character set is this adapter's reading
of HMRC's guidance it says so.

Employee -> canonical (one native record, three messages)
----------------------------------------------------------
Ids come from ``Employment/PayId`` (required here, though optional in the
XSD: the standard's payslip needs the payroll id): ``<council>-payroll-<PayId>``,
made by ``plugshare.adapters.mapping.payroll_person_id``: letters, digits, ``.``
and ``-`` as they are, every other character escaped (a space as ``_20``, ``/``
as ``_2F``, ``_`` as ``_5F``), so that two PayIds never give the same ids. It is
the person id bacs18 derives from a payment reference holding the same payroll
id, where Bacs can carry that id (upper case and the BACS character set: Bacs
upper-cases references, so PayId ``ab12`` and reference ``AB12`` are two people).

**hr.person** (``id`` as above, ``source_ids`` ``[{rti-fps, PayId}]``):
``EmployeeDetails/NINO`` ni_number (optional; checked, never repeated in a
reason), ``Name/Ttl`` title (4 letters at most), the first ``Name/Fore``
given_name and a second middle_names, ``Name/Sur`` family_name (35
characters, letters, space, ``'`` ``-`` ``.``), ``BirthDate`` birth_date,
``Gender`` (M, F) legal_sex. ``Address/Line`` (1 to 4 lines of 35): the first
line is ``paon`` and ``street`` when it starts with a house number (``14 Mill
Lane``), else ``street``; the others are the town (2 lines), locality and town
(3), or locality, town and administrative_area (4); ``UKPostcode`` postcode;
country GB. An address with ``ForeignCountry`` has no ISO country code to map to: it is kept
whole in extensions and the person has no address.

**payroll.tax-details** (``<person id>-tax-<year>``, employment
``<person id>-employment``; made when the employment has an NI letter): the
payment's tax code, ``effective_from`` the payment date (the FPS shows the code
operated then, not when it began), ``ni_letter`` the letter of the last
``NIlettersAndValues`` with NI-able earnings in the period (else the last),
``Starter/StartDec`` starter_declaration (kept with the Starter on the payslip
when no tax details are made), and the plans of the payment's loans as
student_loan_plans.

**payroll.payslip** (``<person id>-<year>-<PayFreq>-<period>-<YYYYMMDD>``;
``pay_run_id`` ``<council>-payrun-<year>-<PayFreq>-<period>-<YYYYMMDD>``, a run
being a frequency, period and payment date: no payroll.pay-run message is
made, as an FPS names no run and gives no period dates). ``Payment``:
``PayFreq`` (W1 W2 W4 M1 M3 M6 MA IO IR) pay_frequency, ``PmtDate``
payment_date, ``WeekNo`` (1-56, weekly frequencies) or ``MonthNo`` (1-12,
monthly ones; either for IO and IR, the one used kept) period_number,
``PeriodsCovered``, ``HoursWorked`` (A-E) hours_band, ``TaxCode`` code (without
prefix or basis) with ``TaxRegime`` (S, C) regime and ``BasisNonCumulative="yes"``
non_cumulative, ``TaxablePay`` taxable_pay, ``TaxDeductedOrRefunded``
tax_deducted, ``StudentLoanRecovered`` (``PlanType`` 01, 02, 04; whole pounds)
and ``PostgradLoanRecovered`` (plan PGL) student_loans. Amounts are pounds with
two decimal places (11 digits at most); loans are whole pounds.

*NI*. Each ``NIlettersAndValues`` -> one ni entry: ``NIletter`` letter;
for the period, ``GrossEarningsForNICsInPd`` nicable_pay,
``EmpeeContribnsInPd`` employee_contribution and ``TotalEmpNICInPd`` minus it
employer_contribution; for the year to date, exactly as the FPS gives them,
year_to_date: ``GrossEarningsForNICsYTD`` nicable_pay, ``AtLELYTD``
earnings_at_lel, ``LELtoPTYTD`` earnings_lel_to_pt, ``PTtoUELYTD``
earnings_pt_to_uel, ``EmpeeContribnsYTD`` employee_contribution and
``TotalEmpNICYTD`` minus it employer_contribution. An FPS carries the earnings
buckets for the year to date only, so the entry's **period** buckets are
*derived*: ``GrossEarningsForNICsInPd`` split at the lower earnings limit,
primary threshold and upper earnings limit of the tax year
(``spec/reference-data/ni-thresholds.json``) for the payment's earnings period,
which is ``PayFreq`` (IO and IR: a week, or a month when dated by ``MonthNo``)
times ``PeriodsCovered`` (``plugshare.calculations.ni_period_buckets``; README
section 9.2 of the standard). Each letter's pay is split on its own. These are
the buckets the law gives; a payroll that multiplied the weekly or monthly
thresholds instead may have had buckets a few pounds different, which the FPS
does not show.

*The lines*. An FPS has totals, not the payroll's earnings and deductions, so
the payslip's lines are made from them, coded ``FPS-...`` so that writing can
read them back. With T = TaxablePay, P = EmpeePenContribnsPaid (net pay
arrangement pension, taken before tax), U = NonTaxOrNICPmt, X = tax, N =
employee NICs, S and G = student and postgraduate loans, R =
EmpeePenContribnsNotPaid (relief at source), D = DednsFromNetPay and A =
PayAfterStatDedns: earnings ``FPS-PAY`` T + P (category other) and, if any,
``FPS-NONTAX`` U; deductions ``FPS-TAX`` X (income_tax), ``FPS-NI-<letter>``
per letter (employee_ni), ``FPS-SL-<plan>`` (student_loan), ``FPS-PGL``
(postgraduate_loan), and, when not zero, ``FPS-PEN-NPA`` P, ``FPS-PEN-RAS`` R,
``FPS-NETPAY`` D (category other: an FPS names no pension scheme, pensionable
pay or employer contribution, which the standard's pensions need) and
``FPS-ADJ`` (T - X - N - S - G) - A, which is zero when the file is
consistent and otherwise carries what A says besides (payrolled benefits, for
instance). So gross_pay = T + P + U and net_pay = A + U - R - D, to the penny.
``year_to_date`` from ``FiguresToDate``: taxable_pay ``TaxablePay``,
tax_deducted ``TotalTax``, student_loan ``StudentLoansTD`` + ``PostgradLoansTD``,
employee_pension ``EmpeePenContribnsPaidYTD`` + ``EmpeePenContribnsNotPaidYTD``,
gross_pay ``TaxablePay`` + ``EmpeePenContribnsPaidYTD`` to date + this period's
U, employee_ni and employer_ni the sums over the letters of
``EmpeeContribnsYTD`` and ``TotalEmpNICYTD`` less it. The FPS has no gross pay to
date and gives NonTaxOrNICPmt for the period only, so gross_pay to date
under-counts by the payments not subject to tax or NICs of earlier periods.

Kept, rejected, safety
----------------------
Every element the mapping does not take is kept in extensions
``native.rti-fps`` under its path from the Employee, ``EmployeeDetails/...`` on
the person and ``Employment/...`` on the payslip: text as a string, an element
with attributes or children as ``{"attributes", "text", "children": [[name,
value]]}``, a repeated one as a list. Kept besides: ``EmpRefs/*`` on each
payslip; the parts of each sum to date (``FiguresToDate/StudentLoansTD`` and
``PostgradLoansTD``; ``EmpeePenContribnsPaidYTD`` and
``EmpeePenContribnsNotPaidYTD``), those given, as given, when the payslip's
loans and pension lines would not split the sum so again (see Writing), zeros
included; the Payment figures ``NonTaxOrNICPmt``, ``DednsFromNetPay``,
``EmpeePenContribnsPaid`` and ``EmpeePenContribnsNotPaid`` when given as zero
(they make no line); ``Starter/StartDate``; and ``Payment/MonthNo`` for an IO or
IR payment dated by month. The GovTalk header, the IRheader
(including any ``IRmark``, not verified) and ``FinalSubmission`` describe the
transmission, not an employee, and are not kept.

An Employee is Rejected, naming the element, for: a missing required element
(``PayId``, ``Name/Sur``, ``Fore``, ``BirthDate``, ``Gender``, ``FiguresToDate``,
``Payment`` and its required figures), an element repeated that may appear once,
an attribute the FPS does not define (on any element the mapping takes: those
holding others have none), text beside the elements of one that holds others,
an element from another namespace, an
unknown code (PayFreq, HoursWorked, Gender, StartDec, PlanType, TaxRegime), a
tax code that does not exist under its regime, a bad NI number, date,
postcode, amount, period or character, a WeekNo for a monthly frequency, one
NI letter twice, or NI letters in a tax year the reference data has no NI
thresholds for (the period's buckets cannot then be derived; the reason names
the year). The native record in the quarantine is the Employee's XML
with ``NINO`` and ``BirthDate`` masked; the position gives the line of its
``<Employee>`` in the file. The whole file is refused (AdapterError), naming the
line, when it is not well-formed XML (with the line and column), is not an FPS,
has an unknown namespace, EmpRefs or RelatedTaxYear that are missing, malformed
(an attribute or a repeated EmpRefs part included) or contradict the IRheader
or the namespace, no Employee, an ``Employee``
anywhere but directly in the FullPaymentSubmission, or in the GovTalkMessage
(EnvelopeVersion, Header, GovTalkDetails, Body), its Body (IRenvelope), the
IRenvelope (IRheader, FullPaymentSubmission) or the FullPaymentSubmission
(EmpRefs, RelatedTaxYear, Employee, FinalSubmission) an element that is not one
of its parts or not in its namespace: nothing in them is left unread. The file
is parsed with defusedxml's ``iterparse``, a line at a time, employee by
employee, each Employee removed from the tree once mapped; a DOCTYPE is refused
before any entity is expanded or fetched ("the file declares XML entities (a
DTD)...").

Writing (hr.person, payroll.tax-details, payroll.payslip)
---------------------------------------------------------
Each payslip becomes one Employee, written at once, with the hr.person
(``person_id``) and payroll.tax-details (``employment_id`` and tax year) that
came before it in the stream: those wait in a buffer of at most
``max_pending`` messages (default 1000), the oldest unused leaving first with
a Rejected outcome; their outcome is given when a payslip uses them (a later
version of the same record replaces an earlier one; an earlier one that no
payslip used is Rejected, naming the message that replaced it), so outcomes
may come out of stream order, each with its message's number. The inverse of
reading: T, X, loans and NI from their fields; P from pension deductions and
``FPS-PEN-NPA``; R from ``FPS-PEN-RAS``; U from ``FPS-NONTAX`` earnings; D from
every other deduction that is not statutory, pension, salary_sacrifice or
``FPS-ADJ``; A = net_pay - U + R + D. Optional Payment figures are written when
their lines exist or the payslip keeps them given as zero. Each sum to date is
written as its two FPS parts: as the payslip keeps them when they still add up
to it; else wholly to the part the payslip's lines name (student loan plans,
the tax details' too, against the postgraduate loan; pension deductions and
``FPS-PEN-NPA`` against ``FPS-PEN-RAS``), and a sum of zero as neither part;
where the lines name both parts or neither and the sum is not zero, the
payslip is Rejected rather than a split guessed for HMRC. A ``Starter`` is
written only from the payslip's kept ``Employment/Starter/*``, with the tax
details' starter_declaration as StartDec: a declaration alone gives no start
date, and is named in the tax details' ``lost``. Each ni entry gives its letter's
``GrossEarningsForNICsInPd`` (nicable_pay), ``EmpeeContribnsInPd`` and
``TotalEmpNICInPd`` (employee plus employer contribution), and from
year_to_date every ``...YTD`` figure; its period buckets are not written, the
FPS having no place for them (reading derives them again, and period buckets
that differ from the derived ones are named in ``lost``). The envelope is
written with the first employee: its tax year names the namespace, the PAYE
scheme comes from ``paye_reference`` and ``accounts_office_reference`` alone
(no kept ECON, COTAXRef or SAUTR is written with them: reading back, kept
EmpRefs that differ from them are named lost) or else from the first payslip's kept
EmpRefs, PeriodEnd from ``period_end`` or its payment date; a payslip of
another year, or without those options of another scheme, is Rejected. A
payslip sent twice is written twice: no id is remembered beyond the buffer.
The GovTalk header carries Class, Qualifier, Function and
Transformation; SenderDetails, ChannelRouting and the IRmark are left to the
software that submits the file to HMRC. Each Employee is read back in memory
before it is written: one that would not read back is Rejected, and each
message's outcome names in ``lost`` the values reading back would not give
(a canonical id not made from the PayId, earnings and deductions other than
the ``FPS-`` lines, pension memberships, preferred names...), which the
conversion reports. Written in this adapter's canonical
form (``document.py``), an FPS read and written again is byte for byte the
same when it was in that form, but for empty elements the mapping takes (an
empty ``NINO``, ``Ttl``, ``Fore``, ``Line``, ``UKPostcode`` or optional figure
carries no value, so it is neither kept nor named lost, and is not written
again); any FPS read, written and read again gives the same messages.

Rejected when writing: deletions, a payslip without its hr.person before it, a
person without birth_date or legal_sex, or with neither NI number nor
address, a name or address line the FPS cannot hold (named), a foreign
address, more than four address lines, a tax year this adapter has no
namespace for, no hours_band, a loan in pence, an ni entry without
year_to_date or nicable_pay (the FPS needs each letter's figures to date and
its NICable pay in the period), a sum to date its lines cannot split (above), a
message of another council; and at the end any person or tax details no payslip
used (with the reason of the payslip that could not use them, if one came).

Not supported: writing a person's preferred name, email or phone (an FPS has
no place for them), the EPS and other RTI messages, verifying or computing
the IRmark, the FPS of tax years before 2024-25, and payroll.pay-run messages.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from plugshare.adapters.contract import (
    AS_AT,
    COUNCIL,
    Adapter,
    Converted,
    Option,
    Outcome,
    Position,
    RecordError,
    Rejected,
)
from plugshare.adapters.rti_fps.document import as_node, lines, local
from plugshare.adapters.rti_fps.employee import PAYSLIP, PERSON, TAX_DETAILS, read_employee
from plugshare.adapters.rti_fps.reader import employees
from plugshare.adapters.rti_fps.writer import Writer
from plugshare.hookspecs import hookimpl
from plugshare.identifiers import mask_nino

#: how a native record shows an NI number and a date of birth
MASKED = {"NINO": mask_nino, "BirthDate": lambda text: "****-**-**"}


class RtiFpsAdapter(Adapter):
    key = "rti-fps"
    title = "HMRC RTI Full Payment Submission (FPS) XML"
    description = ("Reads an FPS (GovTalkMessage or IRenvelope, tax years 2024-25 to 2026-27) employee by employee "
                   "into hr.person, payroll.tax-details and payroll.payslip, safely (no DTD, no entities), and "
                   "writes an FPS back from those messages.")
    reads = (PERSON, TAX_DETAILS, PAYSLIP)
    writes = (PERSON, TAX_DETAILS, PAYSLIP)
    options = (
        COUNCIL, AS_AT,
        Option("paye_reference", "Writing: the employer's PAYE reference, e.g. 991/FM00123. Default: the one kept "
                                 "on payslips read from an FPS."),
        Option("accounts_office_reference", "Writing: the employer's Accounts Office reference, e.g. 991PA00012345 "
                                            "(with paye_reference). Default: as kept on the payslips."),
        Option("period_end", "Writing: the IRheader PeriodEnd (YYYY-MM-DD). Default: the first payment date."),
        Option("final_submission", "Writing: yes marks the FPS as the final submission for the tax year.",
               default="no"),
        Option("max_pending", "Writing: how many hr.person and payroll.tax-details messages may wait for their "
                              "payslip (the oldest unused is rejected beyond it).", default="1000"),
    )
    source_kind = "file"

    def read(self, source: str) -> Iterator[Outcome]:
        for number, line, element, submission in employees(source):
            position = Position(source, number, line)
            native = "\n".join(lines(as_node(element, MASKED)))
            try:
                records = read_employee(element, submission, self.council)
            except RecordError as exc:
                yield Rejected(position, native, f"Employee {number}{_pay_id(element)}: {exc.reason}",
                               exc.requirement)
                continue
            yield Converted(position, [self.message(kind, record) for kind, record in records], native=native)

    def write(self, messages: Iterable[dict[str, Any]], target: str) -> Iterator[Outcome]:
        yield from Writer(self, target).run(messages)


def _pay_id(element) -> str:
    for employment in element:
        if local(employment.tag)[1] == "Employment":
            for child in employment:
                if local(child.tag)[1] == "PayId" and (child.text or "").strip():
                    return f" (PayId {(child.text or '').strip()[:35]})"
    return ""


@hookimpl
def plugshare_register_adapters(register):
    register(RtiFpsAdapter)
