"""What the FPS schema says, as declarations: namespaces by tax year, element order, code lists, value forms.

Element orders are the XSD sequences as this adapter writes them (see the
package docstring for the sources); reading accepts children in any order.
Value checks raise :class:`RecordError` naming the element, and never repeat
an NI number or a date of birth.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

from plugshare.adapters.contract import RecordError
from plugshare.adapters.mapping import CodeList
from plugshare.identifiers import (
    ACCOUNTS_OFFICE_REFERENCE_PATTERN,
    is_postcode,
    mask_nino,
    nino_problem,
    normalise_nino,
    normalise_postcode,
)

ENVELOPE_NS = "http://www.govtalk.gov.uk/CM/envelope"
RTI_NS_PREFIX = "http://www.govtalk.gov.uk/taxation/PAYE/RTI/"
FPS_NS_PREFIX = RTI_NS_PREFIX + "FullPaymentSubmission/"
MESSAGE_CLASS = "HMRC-PAYE-RTI-FPS"

#: FPS namespaces this adapter reads and writes: "<YY-YY>/<version>" -> the tax year. HMRC names each
#: year's XSD after the year the tax year ends (FullPaymentSubmission-2026-v1-0.xsd is 2025-26).
KNOWN_NAMESPACES = {"24-25/1": "2024-25", "25-26/1": "2025-26", "26-27/1": "2026-27"}
NAMESPACE_OF_YEAR = {year: FPS_NS_PREFIX + suffix for suffix, year in KNOWN_NAMESPACES.items()}

#: other RTI messages, named when one is given in place of an FPS
OTHER_RTI_MESSAGES = {"EmployerPaymentSummary": "an Employer Payment Summary (EPS)",
                      "EarlierYearUpdate": "an Earlier Year Update (EYU)",
                      "NINOverificationRequest": "an NI number verification request (NVREQ)"}

# --- element order (XSD sequences) ----------------------------------------------------

ORDER = {
    "": ("EmployeeDetails", "Employment"),
    "EmployeeDetails": ("NINO", "Name", "Address", "BirthDate", "Gender", "PassportNumber", "PartnerDetails"),
    "EmployeeDetails/Name": ("Ttl", "Fore", "Initials", "Sur"),
    "EmployeeDetails/Address": ("Line", "UKPostcode", "ForeignCountry"),
    "Employment": ("OffPayrollWorker", "OccPenInd", "DirectorsNIC", "TaxWkOfApptOfDirector", "Starter", "PayId",
                   "PayIdChgd", "PaymentToANonIndividual", "IrrEmp", "LeavingDate", "FiguresToDate", "Payment",
                   "NIlettersAndValues", "EmployeeWorkplacePostcode"),
    "Employment/Starter": ("StartDate", "StartDec", "StudentLoan", "PostgradLoan", "OccPension", "StatePension",
                           "Seconded"),
    "Employment/FiguresToDate": ("TaxablePay", "TotalTax", "StudentLoansTD", "PostgradLoansTD",
                                 "BenefitsTaxedViaPayrollYTD", "EmpeePenContribnsPaidYTD",
                                 "EmpeePenContribnsNotPaidYTD"),
    "Employment/Payment": ("BacsHashCode", "PayFreq", "PmtDate", "LateReason", "WeekNo", "MonthNo",
                           "PeriodsCovered", "AggregatedEarnings", "PmtAfterLeaving", "HoursWorked", "TaxCode",
                           "TaxablePay", "NonTaxOrNICPmt", "DednsFromNetPay", "PayAfterStatDedns",
                           "BenefitsTaxedViaPayroll", "Class1ANICsYTD", "Benefits", "EmpeePenContribnsPaid",
                           "ItemsSubjectToClass1NIC", "EmpeePenContribnsNotPaid", "StudentLoanRecovered",
                           "PostgradLoanRecovered", "TaxDeductedOrRefunded", "OnStrike", "UnpaidAbsence",
                           "SMPYTD", "SPPYTD", "SAPYTD", "ShPPYTD", "SPBPYTD", "SNCPYTD",
                           "TrivialCommutationPayment", "FlexibleDrawdown"),
    "Employment/NIlettersAndValues": ("NIletter", "GrossEarningsForNICsInPd", "GrossEarningsForNICsYTD", "AtLELYTD",
                                      "LELtoPTYTD", "PTtoUELYTD", "TotalEmpNICInPd", "TotalEmpNICYTD",
                                      "EmpeeContribnsInPd", "EmpeeContribnsYTD"),
    "EmpRefs": ("OfficeNo", "PayeRef", "AORef", "ECON", "COTAXRef", "SAUTR"),
}

#: the elements of FullPaymentSubmission besides the employees
SUBMISSION_PARTS = ("EmpRefs", "RelatedTaxYear", "Employee", "FinalSubmission")

# --- code lists -----------------------------------------------------------------------

PAY_FREQUENCIES = CodeList("PayFreq", {code: code for code in ("W1", "W2", "W4", "M1", "M3", "M6", "MA", "IO", "IR")},
                           case_sensitive=True)
WEEKLY = frozenset({"W1", "W2", "W4"})
MONTHLY = frozenset({"M1", "M3", "M6", "MA"})
HOURS_BANDS = CodeList("HoursWorked", {band: band for band in "ABCDE"}, case_sensitive=True)
GENDERS = CodeList("Gender", {"M": "M", "F": "F"}, case_sensitive=True)
STARTER_DECLARATIONS = CodeList("StartDec", {code: code for code in "ABC"}, case_sensitive=True)
PLAN_TYPES = CodeList("StudentLoanRecovered PlanType", {"01": "01", "02": "02", "04": "04"}, case_sensitive=True)
TAX_REGIMES = CodeList("TaxCode TaxRegime", {"S": "S", "C": "C"}, case_sensitive=True)

# --- value forms ------------------------------------------------------------------------

#: RTI amounts: pounds with exactly two decimal places, at most 11 digits in all
_MONEY = re.compile(r"(-?)([0-9]{1,9})\.([0-9]{2})")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
@dataclass(frozen=True)
class TextForm:
    """The characters a text element may hold: a set for the first character and one for the rest."""

    what: str
    first: str
    rest: str

    def problem(self, value: str) -> str | None:
        for index, char in enumerate(value):
            allowed = self.first if index == 0 else self.rest
            if not re.fullmatch(f"[{allowed}]", char):
                where = "to start it" if index == 0 else f"(position {index + 1})"
                return f"character {char!r} is not allowed {where}: {self.what}"
        return None


_LETTERS = "A-Za-z"
#: this adapter's reading of the RTI character sets (see the package docstring)
NAME = TextForm("letters, spaces, apostrophes, hyphens and full stops, starting with a letter", _LETTERS,
                _LETTERS + " '.\\-")
TITLE = TextForm("letters and full stops, starting with a letter", _LETTERS, _LETTERS + ".")
ADDRESS_LINE = TextForm("letters, digits, spaces and , . ( ) / & ' ! \" -, starting with a letter or digit",
                        _LETTERS + "0-9", _LETTERS + "0-9 ,.()/&'!\"\\-")
PAY_ID = TextForm("printable ASCII characters", "!-~", " -~")
TAX_YEAR = re.compile(r"([0-9]{2})-([0-9]{2})")
OFFICE_NUMBER = re.compile(r"[0-9]{3}")
OFFICE_REFERENCE = re.compile(r"[A-Z0-9]{1,10}")
WIDTHS = {"Ttl": 4, "Fore": 35, "Initials": 35, "Sur": 35, "Line": 35, "PayId": 35}


def money(text: str, field: str, *, signed: bool = True, whole: bool = False) -> str:
    """An RTI amount -> the standard's money string; the form is checked, never repaired."""
    match = _MONEY.fullmatch(text)
    if not match or (match.group(1) and not signed):
        kind = "an amount such as 1234.56" if signed else "an amount of zero or more such as 1234.56"
        raise RecordError(f"{field}: {text!r} is not {kind} (pounds, a point and two digits of pence)")
    if whole and match.group(3) != "00":
        raise RecordError(f"{field}: {text} has pence; HMRC takes student and postgraduate loan recoveries in whole "
                          f"pounds (e.g. 294.00)")
    return f"{Decimal(text):f}"


def fps_amount(value: str | Decimal, field: str, *, signed: bool = True, whole: bool = False) -> str:
    """The standard's money -> the FPS form, checked against the FPS widths."""
    text = f"{Decimal(value).quantize(Decimal('0.01')):f}"
    return money(text, field, signed=signed, whole=whole)


def date(text: str, field: str, *, private: bool = False) -> str:
    problem = None
    if not _DATE.fullmatch(text):
        problem = "is not a date in the form YYYY-MM-DD"
    else:
        try:
            dt.date.fromisoformat(text)
        except ValueError:
            problem = "is not a calendar date"
    if problem:
        shown = "(value withheld: personal data)" if private else repr(text)
        raise RecordError(f"{field} {shown} {problem}")
    return text


def number(text: str, field: str, lowest: int, highest: int) -> int:
    if not re.fullmatch(r"[0-9]{1,3}", text) or not lowest <= int(text) <= highest:
        raise RecordError(f"{field}: {text!r} is not a whole number from {lowest} to {highest}")
    return int(text)


def text_of(value: str, field: str, form: TextForm, element: str) -> str:
    """Text checked against the width of its FPS element and its character set, naming the first bad character."""
    width = WIDTHS[element]
    if not value:
        raise RecordError(f"{field} is empty")
    if len(value) > width:
        raise RecordError(f"{field}: {value!r} is {len(value)} characters; the FPS holds at most {width}")
    problem = form.problem(value)
    if problem:
        raise RecordError(f"{field}: {value!r}: {problem}")
    return value


def ni_number(text: str, field: str) -> str:
    value = normalise_nino(text)
    problem = nino_problem(value)
    if problem:
        raise RecordError(f"{field} {mask_nino(value)} is not a valid NI number ({problem})")
    return value


def postcode(text: str, field: str) -> str:
    value = normalise_postcode(text)
    if not is_postcode(value):
        raise RecordError(f"{field}: {text!r} is not a UK postcode such as PE13 2AB")
    return value


def rti_year(text: str, field: str) -> str:
    """RTI's ``25-26`` -> the standard's ``2025-26``."""
    match = TAX_YEAR.fullmatch(text)
    if not match or (int(match.group(1)) + 1) % 100 != int(match.group(2)):
        raise RecordError(f"{field}: {text!r} is not a tax year such as 25-26")
    return f"20{match.group(1)}-{match.group(2)}"


def accounts_office_reference(text: str, field: str) -> str:
    if not re.fullmatch(ACCOUNTS_OFFICE_REFERENCE_PATTERN, text):
        raise RecordError(f"{field}: {text!r} is not an Accounts Office reference such as 123PA00012345")
    return text
