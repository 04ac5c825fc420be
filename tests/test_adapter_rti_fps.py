"""The rti-fps adapter: HMRC FPS XML read safely into people, tax details and payslips, and written back."""

from __future__ import annotations

import json
import re
import tracemalloc
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import plugshare.cli
from plugshare.adapters.contract import AdapterError, Converted, Rejected
from plugshare.adapters.rti_fps import RtiFpsAdapter
from plugshare.adapters.rti_fps.document import Node, leaf, lines
from plugshare.conversion import CanonicalSource, convert
from plugshare.plugins import make_host
from plugshare.synthetic import ServiceGenerator
from plugshare.validation.validator import MessageValidator

SAMPLES = Path(__file__).resolve().parents[1] / "src" / "plugshare" / "adapters" / "samples" / "rti-fps"
GOOD, BAD, CANONICAL = SAMPLES / "fps-2025-09.xml", SAMPLES / "one-bad-record.xml", SAMPLES / "canonical.ndjson"
LAUGHS, EXTERNAL = SAMPLES / "billion-laughs.xml", SAMPLES / "external-entity.xml"
READ = {"council": "E07000991", "as_at": "2025-09-30T17:00:00Z"}
KEY = "rti-fps"
VALIDATOR = MessageValidator()
FULL_NINO = re.compile(r"[A-Z]{2}[0-9]{6}[A-D]")
REFUSED = "the file declares XML entities (a DTD); FPS files never do, and this one is refused for safety"


def read(path, **options):
    return list(RtiFpsAdapter({**READ, **options}).read(str(path)))


def write(messages, path, **options):
    outcomes = list(RtiFpsAdapter({"council": "E07000991", **options}).write(messages, str(path)))
    return outcomes, (path.read_bytes() if path.exists() else None)


def canonical() -> list[dict]:
    return [json.loads(line) for line in CANONICAL.read_text().splitlines()]


def messages_of(outcomes) -> list[dict]:
    return [m for o in outcomes if isinstance(o, Converted) for m in o.messages]


def problems(message):
    return [p for p in VALIDATOR.check(message)[1] if p.level == "MUST"]


def data(outcomes, kind: str) -> list[dict]:
    return [m["data"] for m in messages_of(outcomes) if m["type"] == f"uk.plugshare.{kind}"]


def edited(tmp_path, old: str, new: str, source: Path = GOOD, name: str = "edited.xml") -> Path:
    text = source.read_text()
    assert old in text, old
    path = tmp_path / name
    path.write_text(text.replace(old, new, 1))
    return path


def run_cli(*args):
    return CliRunner().invoke(plugshare.cli.main, list(args), catch_exceptions=False)


# --- samples ------------------------------------------------------------------------------


def test_the_adapter_is_a_builtin_plugin():
    assert make_host(load_entry_points=False).adapter(KEY) is RtiFpsAdapter


def test_the_good_sample_reads_into_valid_people_tax_details_and_payslips():
    outcomes = read(GOOD)
    assert len(outcomes) == 7 and all(isinstance(o, Converted) for o in outcomes)
    assert [o.position.record for o in outcomes] == list(range(1, 8))
    assert [o.position.line for o in outcomes] == [36, 85, 134, 187, 238, 290, 337]
    messages = messages_of(outcomes)
    assert Counter(m["type"].removeprefix("uk.plugshare.") for m in messages) == {
        "hr.person": 7, "payroll.tax-details": 7, "payroll.payslip": 7}
    assert all(VALIDATOR.check(m)[1] == [] for m in messages)
    assert all("<NINO>" in o.native and not FULL_NINO.search(o.native) for o in outcomes)


def test_the_sample_covers_regimes_bases_loans_letters_and_frequencies():
    outcomes = read(GOOD)
    people = {p["source_ids"][0]["value"]: p for p in data(outcomes, "hr.person")}
    slips = {s["payroll_id"]: s for s in data(outcomes, "payroll.payslip")}
    taxes = {t["employment_id"]: t for t in data(outcomes, "payroll.tax-details")}
    kofi = slips["000101"]
    assert kofi["id"] == "E07000991-payroll-000101-2025-26-M1-06-20250925"
    assert kofi["person_id"] == people["000101"]["id"] == "E07000991-payroll-000101"
    assert (kofi["gross_pay"], kofi["taxable_pay"], kofi["net_pay"]) == ("3200.00", "2992.00", "2431.09")
    assert people["000101"]["address"] == {"paon": "14", "street": "Mill Lane", "town": "Fenmoor",
                                           "postcode": "PE13 2AB", "country": "GB"}
    assert slips["000102"]["tax_code"] == {"code": "1257L", "regime": "S", "non_cumulative": False}
    assert people["000102"]["name"] == {"title": "Mrs", "given_name": "Morag", "middle_names": "Ailsa",
                                        "family_name": "Quarrie"}
    assert people["000102"]["address"]["locality"] == "Wrenby"
    assert slips["000103"]["tax_code"]["regime"] == "C"
    assert slips["000103"]["student_loans"] == [{"plan": "02", "amount": "47.00"}]
    assert people["000103"]["address"]["administrative_area"] == "Cambridgeshire"
    tomasz = taxes["E07000991-payroll-000104-employment"]
    assert tomasz["tax_code"]["non_cumulative"] is True and tomasz["starter_declaration"] == "B"
    assert slips["000104"]["extensions"]["native.rti-fps"]["Employment/Starter/StartDate"] == "2025-09-01"
    assert slips["000105"]["student_loans"] == [{"plan": "PGL", "amount": "111.00"}]
    assert slips["000105"]["year_to_date"]["student_loan"] == "666.00"
    owen = slips["000106"]["ni"][0]
    assert (owen["letter"], owen["employee_contribution"], owen["employer_contribution"]) == ("C", "0.00", "154.95")
    grace = slips["000107"]
    assert (grace["pay_frequency"], grace["period_number"], grace["hours_band"]) == ("W4", 28, "B")
    assert grace["extensions"]["native.rti-fps"]["Employment/Payment/UnpaidAbsence"] == "yes"
    assert [e["code"] for e in grace["earnings"]] == ["FPS-PAY", "FPS-NONTAX"]


def test_ni_period_buckets_are_derived_and_the_year_to_date_is_the_fps_s():
    slips = {s["payroll_id"]: s for s in data(read(GOOD), "payroll.payslip")}
    # monthly 2025-26: LEL 542, PT 1048, UEL 4189; the FPS's buckets are all year to date
    assert slips["000101"]["ni"] == [{
        "letter": "A", "nicable_pay": "3200.00", "earnings_at_lel": "542.00", "earnings_lel_to_pt": "506.00",
        "earnings_pt_to_uel": "2152.00", "employee_contribution": "172.16", "employer_contribution": "417.45",
        "year_to_date": {"nicable_pay": "19200.00", "earnings_at_lel": "3252.00", "earnings_lel_to_pt": "3036.00",
                         "earnings_pt_to_uel": "12912.00", "employee_contribution": "1032.96",
                         "employer_contribution": "2504.70"}}]
    # four-weekly: LEL 4 x 125, PT 12,570 / 52 x 4 = 966.92 rounded up to 967 (regulation 11)
    grace = slips["000107"]["ni"][0]
    assert (grace["earnings_at_lel"], grace["earnings_lel_to_pt"], grace["earnings_pt_to_uel"]) == (
        "500.00", "467.00", "413.00")
    assert grace["year_to_date"]["earnings_lel_to_pt"] == "3269.00"
    for slip in slips.values():
        assert not any("NIlettersAndValues" in key for key in slip["extensions"]["native.rti-fps"])
        assert slip["year_to_date"]["employee_ni"] == slip["ni"][0]["year_to_date"]["employee_contribution"]


@pytest.mark.parametrize("old, new, buckets", [
    ("<GrossEarningsForNICsInPd>3200.00<", "<GrossEarningsForNICsInPd>500.00<", ("0.00", "0.00", "0.00")),
    ("<GrossEarningsForNICsInPd>3200.00<", "<GrossEarningsForNICsInPd>900.50<", ("542.00", "358.50", "0.00")),
    ("<GrossEarningsForNICsInPd>3200.00<", "<GrossEarningsForNICsInPd>5000.00<", ("542.00", "506.00", "3141.00")),
    ("<GrossEarningsForNICsInPd>3200.00<", "<GrossEarningsForNICsInPd>-40.00<", ("0.00", "0.00", "0.00")),
    ("<PeriodsCovered>1</PeriodsCovered>", "<PeriodsCovered>3</PeriodsCovered>", ("1625.00", "1518.00", "57.00")),
    ("<PayFreq>M1</PayFreq>", "<PayFreq>IR</PayFreq>", ("542.00", "506.00", "2152.00")),  # IR dated by month
    # IR dated by week: a week's thresholds (LEL 125, PT 242, UEL 967), so the frequency is not ignored
    ("<PayFreq>M1</PayFreq>\n              <PmtDate>2025-09-25</PmtDate>\n              <MonthNo>6</MonthNo>",
     "<PayFreq>IR</PayFreq>\n              <PmtDate>2025-09-25</PmtDate>\n              <WeekNo>26</WeekNo>",
     ("125.00", "117.00", "725.00")),
])
def test_period_buckets_follow_the_earnings_period(tmp_path, old, new, buckets):
    slip = data(read(edited(tmp_path, old, new)), "payroll.payslip")[0]
    entry = slip["ni"][0]
    assert (entry["earnings_at_lel"], entry["earnings_lel_to_pt"], entry["earnings_pt_to_uel"]) == buckets
    assert entry["year_to_date"]["earnings_pt_to_uel"] == "12912.00"


def test_a_tax_year_without_ni_thresholds_rejects_each_employee(monkeypatch):
    from plugshare import refdata

    monkeypatch.setattr(refdata, "ni_thresholds", lambda tax_year: None)
    outcomes = read(GOOD)
    assert len(outcomes) == 7 and all(isinstance(o, Rejected) for o in outcomes)
    assert outcomes[0].reason == (
        "Employee 1 (PayId 000101): the reference data has no NI thresholds for 2025-26, so the period's earnings "
        "buckets of NIlettersAndValues cannot be derived (an FPS carries them for the year to date only)")
    assert not FULL_NINO.search(outcomes[0].reason)


def test_payslip_lines_are_made_from_the_fps_totals_to_the_penny():
    slip = {s["payroll_id"]: s for s in data(read(GOOD), "payroll.payslip")}["000105"]
    assert [(d["category"], d["code"], d["amount"]) for d in slip["deductions"]] == [
        ("income_tax", "FPS-TAX", "463.55"), ("employee_ni", "FPS-NI-A", "204.16"),
        ("postgraduate_loan", "FPS-PGL", "111.00"), ("other", "FPS-PEN-NPA", "234.00"),
        ("other", "FPS-NETPAY", "12.50")]
    # PayAfterStatDedns 2587.29 less DednsFromNetPay 12.50
    assert (slip["gross_pay"], slip["total_deductions"], slip["net_pay"]) == ("3600.00", "1025.21", "2574.79")


def test_an_inconsistent_pay_after_statutory_deductions_gets_an_adjustment_line(tmp_path):
    path = edited(tmp_path, "<PayAfterStatDedns>2431.09</PayAfterStatDedns>",
                  "<PayAfterStatDedns>2311.09</PayAfterStatDedns>")
    outcomes = read(path)
    slip = data(outcomes, "payroll.payslip")[0]
    assert slip["deductions"][-1]["code"] == "FPS-ADJ" and slip["deductions"][-1]["amount"] == "120.00"
    assert slip["net_pay"] == "2311.09" and not problems(messages_of(outcomes)[2])
    _, written = write(messages_of(outcomes), tmp_path / "again.xml")
    assert written == path.read_bytes()


def test_converting_through_the_cli_gives_the_canonical_sample_which_validates(tmp_path):
    out = tmp_path / "out.ndjson"
    result = run_cli("convert", "--from", KEY, "--to", "canonical", str(GOOD), str(out),
                     "--option", "council=E07000991", "--option", "as_at=2025-09-30T17:00:00Z")
    assert result.exit_code == 0, result.output
    assert "read 7 records: 7 converted, 0 quarantined" in result.output
    assert out.read_bytes() == CANONICAL.read_bytes()
    assert run_cli("validate", str(out)).exit_code == 0


def test_the_bad_sample_quarantines_one_employee_with_a_masked_reason(tmp_path):
    quarantine = tmp_path / "quarantine.ndjson"
    out = tmp_path / "out.ndjson"
    result = run_cli("convert", "--from", KEY, "--to", "canonical", str(BAD), str(out), "--quarantine",
                     str(quarantine), "--option", "council=E07000991", "--option", "as_at=2025-09-30T17:00:00Z")
    assert result.exit_code == 1
    assert len(out.read_text().splitlines()) == 18
    (entry,) = [json.loads(line) for line in quarantine.read_text().splitlines()]
    assert (entry["stage"], entry["record"], entry["line"]) == ("read", 3, 134)
    assert entry["reason"].startswith("Employee 3 (PayId 000103): EmployeeDetails/NINO QQ******* is not a valid NI")
    assert "<NINO>QQ*******</NINO>" in entry["native"] and "<BirthDate>****-**-**</BirthDate>" in entry["native"]
    assert "QQ123456C" not in json.dumps(entry) and "1998-02-24" not in json.dumps(entry)
    assert "QQ123456C" not in result.output


def test_the_canonical_sample_writes_the_good_sample_byte_for_byte(tmp_path):
    messages = canonical()
    assert all(not problems(m) for m in messages)
    outcomes, written = write(messages, tmp_path / "fps.xml")
    assert all(isinstance(o, Converted) and o.lost == [] for o in outcomes)
    assert sorted(o.position.record for o in outcomes) == list(range(1, 22))
    assert written == GOOD.read_bytes()


# --- safety and whole-file problems -----------------------------------------------------------


@pytest.mark.parametrize("sample", [LAUGHS, EXTERNAL])
def test_entity_declarations_are_refused_early_with_little_memory(sample):
    tracemalloc.start()
    try:
        with pytest.raises(AdapterError) as caught:
            read(sample)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(caught.value) == f"{sample} line 2: {REFUSED}"
    assert peak < 1_000_000


@pytest.mark.parametrize("sample", [LAUGHS, EXTERNAL])
def test_the_cli_refuses_entities_without_a_traceback(tmp_path, sample):
    result = CliRunner().invoke(plugshare.cli.main, ["convert", "--from", KEY, "--to", "canonical", str(sample),
                                                     str(tmp_path / "out.ndjson"), "-o", "council=E07000991"])
    assert result.exit_code == 2 and REFUSED in result.output
    assert "Traceback" not in result.output and "root:" not in result.output and "lollol" not in result.output
    assert not (tmp_path / "out.ndjson").exists()


def test_malformed_xml_is_an_error_with_its_line_and_column(tmp_path):
    path = edited(tmp_path, "<Sur>Quarrie</Sur>", "<Sur>Quarrie</Surname>")
    with pytest.raises(AdapterError, match=r"line 92 column 29: the file is not well-formed XML \(mismatched tag\)"):
        read(path)
    cut = tmp_path / "cut.xml"
    cut.write_bytes(GOOD.read_bytes()[:3000])
    with pytest.raises(AdapterError, match=r"cut.xml line \d+ column \d+: the file is not well-formed XML"):
        read(cut)


def test_a_missing_empty_or_foreign_file_is_an_adapter_error(tmp_path):
    with pytest.raises(AdapterError, match="cannot be read"):
        read(tmp_path / "nowhere.xml")
    (tmp_path / "empty.xml").write_text("")
    with pytest.raises(AdapterError, match="empty or holds no XML"):
        read(tmp_path / "empty.xml")
    (tmp_path / "other.xml").write_text("<Payroll><Row/></Payroll>")
    with pytest.raises(AdapterError, match="the document is <Payroll>"):
        read(tmp_path / "other.xml")


@pytest.mark.parametrize("old, new, message", [
    ("FullPaymentSubmission/25-26/1", "FullPaymentSubmission/27-28/1",
     r"namespace .*27-28/1 \(schema 27-28/1\) is unknown to this adapter, which reads the FPS of the tax years "
     r"24-25/1 \(2024-25\), 25-26/1 \(2025-26\), 26-27/1 \(2026-27\)"),
    ("FullPaymentSubmission/25-26/1", "EmployerPaymentSummary/25-26/1", "Employer Payment Summary"),
    ("<Class>HMRC-PAYE-RTI-FPS</Class>", "<Class>HMRC-PAYE-RTI-EPS</Class>", "message class is 'HMRC-PAYE-RTI-EPS'"),
    ("<RelatedTaxYear>25-26</RelatedTaxYear>", "<RelatedTaxYear>24-25</RelatedTaxYear>",
     "line 35: RelatedTaxYear is 2024-25 but the namespace is the FPS of 2025-26"),
    ("<PayeRef>FM00123</PayeRef>", "<PayeRef>FM00999</PayeRef>",
     "TaxOfficeReference is 'FM00123' but EmpRefs PayeRef is 'FM00999'"),
    ("<AORef>991PA00012345</AORef>", "<AORef>991PA0001234</AORef>", "not an Accounts Office reference"),
    ("<AORef>991PA00012345</AORef>", "", "EmpRefs has no AORef"),
    ("<RelatedTaxYear>25-26</RelatedTaxYear>", "", "an Employee comes before the EmpRefs and RelatedTaxYear"),
    ("<RelatedTaxYear>25-26</RelatedTaxYear>", "<RelatedTaxYear>25-26</RelatedTaxYear><Extra/>",
     "<Extra> is not part of a FullPaymentSubmission"),
    ("        <Employee>", '        <Employee xmlns="urn:other">', "<Employee> in namespace 'urn:other' is inside"),
    ("<PayeRef>FM00123</PayeRef>", '<PayeRef Kind="x">FM00123</PayeRef>',
     "line 30: EmpRefs/PayeRef has attribute Kind"),
    ("<EmpRefs>", '<EmpRefs Scheme="2">', "line 30: EmpRefs has attribute Scheme"),
    ("<AORef>991PA00012345</AORef>", "<AORef>991PA00012345</AORef><AORef>991PA00012346</AORef>",
     "EmpRefs/AORef appears twice"),
    ("<RelatedTaxYear>25-26</RelatedTaxYear>", '<RelatedTaxYear Final="yes">25-26</RelatedTaxYear>',
     "RelatedTaxYear has attribute Final"),
])
def test_envelope_problems_are_adapter_errors(tmp_path, old, new, message):
    with pytest.raises(AdapterError, match=message):
        read(edited(tmp_path, old, new))


def test_an_employee_before_the_employer_refs_or_none_at_all_is_an_error(tmp_path):
    text = GOOD.read_text()
    refs = text[text.index("        <EmpRefs>"):text.index("        <Employee>")]
    moved = text.replace(refs, "").replace("      </FullPaymentSubmission>", refs + "      </FullPaymentSubmission>")
    (tmp_path / "late.xml").write_text(moved)
    with pytest.raises(AdapterError, match="line 30: an Employee comes before the EmpRefs"):
        read(tmp_path / "late.xml")
    body = text[text.index("        <Employee>"):text.index("      </FullPaymentSubmission>")]
    (tmp_path / "none.xml").write_text(text.replace(body, ""))
    with pytest.raises(AdapterError, match="the FPS holds no Employee"):
        read(tmp_path / "none.xml")


def test_an_employee_outside_the_full_payment_submission_is_an_error_not_dropped(tmp_path):
    text = GOOD.read_text()
    first = text[text.index("        <Employee>"):text.index("        </Employee>") + len("        </Employee>\n")]
    moved = text.replace(first, "", 1).replace("      </FullPaymentSubmission>\n",
                                                "      </FullPaymentSubmission>\n" + first)
    (tmp_path / "moved.xml").write_text(moved)
    with pytest.raises(AdapterError, match=r"moved.xml line 338: an <Employee> is inside <IRenvelope>, not in the "
                                           r"FullPaymentSubmission, so it would not be read"):
        read(tmp_path / "moved.xml")


@pytest.mark.parametrize("old, new, message", [
    ("        <Sender>Employer</Sender>", "        <Sender>Employer</Sender>\n<Employee/>",
     "line 28: an <Employee> is inside <IRheader>"),
    ("          <PayId>000101</PayId>", "          <PayId>000101</PayId>\n<Employee/>",
     "line 54: an <Employee> is inside <Employment>"),
    ("  <Body>", "  <Note>x</Note>\n  <Body>",
     "line 18: <Note> is not part of a GovTalkMessage (it holds EnvelopeVersion, Header, GovTalkDetails, Body)"),
    ("    <IRenvelope", "    <Other/>\n    <IRenvelope",
     "line 19: <Other> is not part of a Body (it holds IRenvelope)"),
    ("      <FullPaymentSubmission>", "      <Stray>x</Stray>\n      <FullPaymentSubmission>",
     "line 29: <Stray> is not part of an IRenvelope (it holds IRheader, FullPaymentSubmission)"),
    ("      <FullPaymentSubmission>", '      <FullPaymentSubmission xmlns="urn:other">',
     "line 29: <FullPaymentSubmission> in namespace 'urn:other' is inside the IRenvelope"),
    ("  <Body>", '  <Body xmlns="urn:other">', "line 18: <Body> in namespace 'urn:other' is inside the GovTalkMessage"),
])
def test_every_part_of_the_envelope_is_known_and_in_place(tmp_path, old, new, message):
    with pytest.raises(AdapterError, match=re.escape(message)):
        read(edited(tmp_path, old, new))


def test_a_bare_irenvelope_is_read(tmp_path):
    text = GOOD.read_text()
    start, end = text.index("    <IRenvelope"), text.index("  </Body>")
    (tmp_path / "bare.xml").write_text(text[start:end])
    assert [type(o) for o in read(tmp_path / "bare.xml")] == [Converted] * 7


def test_different_pay_ids_give_different_ids(tmp_path):
    path = edited(tmp_path, "<PayId>000101</PayId>", "<PayId>A B</PayId>")
    path = edited(tmp_path, "<PayId>000102</PayId>", "<PayId>A_B</PayId>", source=path, name="again.xml")
    people = data(read(path), "hr.person")[:2]
    assert [p["id"] for p in people] == ["E07000991-payroll-A_20B", "E07000991-payroll-A_5FB"]
    slips = data(read(path), "payroll.payslip")[:2]
    assert slips[0]["id"] != slips[1]["id"] and slips[0]["person_id"] == people[0]["id"]


# --- the format's rules, one rejected employee at a time ---------------------------------------


@pytest.mark.parametrize("old, new, reason", [
    ("<PayFreq>M1</PayFreq>", "<PayFreq>M2</PayFreq>", "PayFreq: vendor code 'M2' has no translation"),
    ("<HoursWorked>D</HoursWorked>", "<HoursWorked>F</HoursWorked>", "HoursWorked: vendor code 'F'"),
    ("<Gender>M</Gender>", "<Gender>X</Gender>", "Gender: vendor code 'X'"),
    ('PlanType="02"', 'PlanType="05"', "PlanType: vendor code '05' has no translation"),
    ('<TaxCode TaxRegime="S">', '<TaxCode TaxRegime="W">', "TaxRegime: vendor code 'W'"),
    ("<TaxCode>1257L</TaxCode>", "<TaxCode>S1257L</TaxCode>", "'S1257L' is not a PAYE tax code"),
    ("<TaxCode>1257L</TaxCode>", "<TaxCode>D2</TaxCode>", "D2 exists only under the Scottish regime"),
    ("<TaxCode>1257L</TaxCode>", '<TaxCode BasisNonCumulative="no">1257L</TaxCode>', "BasisNonCumulative is 'no'"),
    ("<MonthNo>6</MonthNo>", "<MonthNo>13</MonthNo>", "MonthNo: '13' is not a whole number from 1 to 12"),
    ("<MonthNo>6</MonthNo>", "<WeekNo>26</WeekNo>", "pay frequency M1 counts its periods in MonthNo"),
    ("<MonthNo>6</MonthNo>", "", "needs one of WeekNo and MonthNo"),
    ("<PmtDate>2025-09-25</PmtDate>", "<PmtDate>25/09/2025</PmtDate>", "'25/09/2025' is not a date in the form"),
    ("<BirthDate>1986-05-17</BirthDate>", "<BirthDate>1986-02-30</BirthDate>",
     "BirthDate (value withheld: personal data) is not a calendar date"),
    ("<TaxablePay>2992.00</TaxablePay>", "<TaxablePay>2992.5</TaxablePay>", "'2992.5' is not an amount"),
    ('PlanType="02">47.00', 'PlanType="02">47.50', "has pence; HMRC takes student and postgraduate loan"),
    ("<AtLELYTD>3252.00</AtLELYTD>", "<AtLELYTD>-3252.00</AtLELYTD>", "is not an amount of zero or more"),
    ("<Sur>Jessop</Sur>", f"<Sur>{'J' * 36}</Sur>", "is 36 characters; the FPS holds at most 35"),
    ("<Fore>Kofi</Fore>", "<Fore>K0fi</Fore>", "character '0' is not allowed (position 2)"),
    ("<Ttl>Mr</Ttl>", "<Ttl>Mister</Ttl>", "Ttl: 'Mister' is 6 characters; the FPS holds at most 4"),
    ("<Fore>Kofi</Fore>", "<Initials>K</Initials>", "no Fore (forename)"),
    ("<PayId>000101</PayId>", "", "Employment/PayId is missing"),
    ("<NIletter>A</NIletter>", "<NIletter>a</NIletter>", "'a' is not an NI category letter"),
    ("<Line>Fenmoor</Line>", "<Line>Fenmoor</Line>" * 4, "has 5 Line elements; the FPS allows four"),
    ("<UKPostcode>PE13 2AB</UKPostcode>", "<UKPostcode>PE13</UKPostcode>", "'PE13' is not a UK postcode"),
    ("<PayFreq>M1</PayFreq>", '<PayFreq Kind="x">M1</PayFreq>', "PayFreq has attribute Kind"),
    ("<PayFreq>M1</PayFreq>", "<PayFreq>M1</PayFreq><PayFreq>M1</PayFreq>", "PayFreq appears 2 times"),
    ("<PayFreq>M1</PayFreq>", '<PayFreq xmlns="urn:other">M1</PayFreq>', "in namespace 'urn:other'"),
    ("<TaxDeductedOrRefunded>388.75</TaxDeductedOrRefunded>", "", "TaxDeductedOrRefunded is missing"),
    ("<Gender>M</Gender>", "", "EmployeeDetails/Gender is missing"),
    ("<TaxablePay>2992.00</TaxablePay>", "<TaxablePay><Pounds>2992</Pounds></TaxablePay>",
     "holds elements where the FPS has text"),
    ("<Payment>", '<Payment Extra="1">', "Employment/Payment has attribute Extra, which the FPS does not define"),
    ("        <Employee>", '        <Employee Id="9">', "Employee has attribute Id, which the FPS does not define"),
    ("<Name>", '<Name xml:lang="en">', "EmployeeDetails/Name has attribute lang"),
    ("<NIlettersAndValues>", '<NIlettersAndValues Kind="x">', "Employment/NIlettersAndValues has attribute Kind"),
    ("<FiguresToDate>", "<FiguresToDate>2025", "Employment/FiguresToDate holds text where the FPS has elements only"),
])
def test_each_broken_rule_rejects_the_employee_naming_the_element(tmp_path, old, new, reason):
    outcomes = read(edited(tmp_path, old, new))
    rejected = [o for o in outcomes if isinstance(o, Rejected)]
    assert len(outcomes) == 7 and len(rejected) == 1
    assert reason in rejected[0].reason, rejected[0].reason
    assert not FULL_NINO.search(rejected[0].reason)
    assert all(not problems(m) for m in messages_of(outcomes))


def test_one_nino_letter_twice_is_rejected(tmp_path):
    text = GOOD.read_text()
    block = text[text.index("            <NIlettersAndValues>"):text.index("          </Employment>")]
    path = tmp_path / "twice.xml"
    path.write_text(text.replace(block, block * 2, 1))
    (first, *_) = read(path)
    assert isinstance(first, Rejected) and "NI letter A has two NIlettersAndValues" in first.reason


def test_no_reason_shows_an_ni_number_or_a_birth_date(tmp_path):
    path = edited(tmp_path, "<NINO>JK102345A</NINO>", "<NINO>JK102345E</NINO>")
    (first, *_) = read(path)
    assert "JK******" in first.reason and "JK102345" not in first.reason
    path = edited(tmp_path, "<BirthDate>1986-05-17</BirthDate>", "<BirthDate>17/05/1986</BirthDate>")
    (first, *_) = read(path)
    assert "withheld" in first.reason and "1986" not in first.reason


# --- the loss rule -----------------------------------------------------------------------------

EXTRAS = [
    ("              <Sur>Jessop</Sur>", "              <Initials>KA</Initials>\n              <Sur>Jessop</Sur>"),
    ("            <Gender>M</Gender>\n", "            <Gender>M</Gender>\n            <PassportNumber>P1234567"
                                       "</PassportNumber>\n"),
    ("            <PayId>000101</PayId>", "            <OffPayrollWorker>no</OffPayrollWorker>\n"
                                        "            <PayId>000101</PayId>\n            <IrrEmp>yes</IrrEmp>"),
    ("              <PayAfterStatDedns>2431.09</PayAfterStatDedns>\n",
     "              <PayAfterStatDedns>2431.09</PayAfterStatDedns>\n"
     "              <BenefitsTaxedViaPayroll>120.00</BenefitsTaxedViaPayroll>\n"
     "              <Benefits>\n                <Car>\n                  <Make>Ford</Make>\n"
     '                  <CashEquiv Revised="yes">84.00</CashEquiv>\n                </Car>\n'
     "              </Benefits>\n"),
    ("              <TaxDeductedOrRefunded>388.75</TaxDeductedOrRefunded>\n",
     "              <TaxDeductedOrRefunded>388.75</TaxDeductedOrRefunded>\n"
     "              <OnStrike>yes</OnStrike>\n"
     '              <TrivialCommutationPayment type="A">100.00</TrivialCommutationPayment>\n'
     '              <TrivialCommutationPayment type="B">50.00</TrivialCommutationPayment>\n'),
    ("              <EmpeeContribnsYTD>1032.96</EmpeeContribnsYTD>\n            </NIlettersAndValues>\n",
     "              <EmpeeContribnsYTD>1032.96</EmpeeContribnsYTD>\n            </NIlettersAndValues>\n"
     "            <EmployeeWorkplacePostcode>PE13 2AB</EmployeeWorkplacePostcode>\n"),
]


def test_unmapped_elements_are_kept_in_extensions_and_written_back_in_place(tmp_path):
    text = GOOD.read_text()
    for old, new in EXTRAS:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / "extras.xml"
    path.write_text(text)
    outcomes = read(path)
    person, _, slip = outcomes[0].messages
    kept_person = person["data"]["extensions"]["native.rti-fps"]
    kept = slip["data"]["extensions"]["native.rti-fps"]
    assert kept_person == {"EmployeeDetails/Name/Initials": "KA", "EmployeeDetails/PassportNumber": "P1234567"}
    assert kept["Employment/OffPayrollWorker"] == "no" and kept["Employment/IrrEmp"] == "yes"
    assert kept["Employment/Payment/BenefitsTaxedViaPayroll"] == "120.00"
    assert kept["Employment/Payment/Benefits"] == {"children": [["Car", {"children": [
        ["Make", "Ford"], ["CashEquiv", {"attributes": {"Revised": "yes"}, "text": "84.00"}]]}]]}
    assert kept["Employment/Payment/TrivialCommutationPayment"] == [
        {"attributes": {"type": "A"}, "text": "100.00"}, {"attributes": {"type": "B"}, "text": "50.00"}]
    assert kept["Employment/EmployeeWorkplacePostcode"] == "PE13 2AB"
    assert all(not problems(m) for m in messages_of(outcomes))
    _, written = write(messages_of(outcomes), tmp_path / "again.xml")
    assert written == path.read_bytes()


def test_year_to_date_gross_pay_includes_the_period_s_non_taxable_payment(tmp_path):
    """The FPS has no gross to date; the period's NonTaxOrNICPmt is the one non-taxable payment it shows."""
    grace = {s["payroll_id"]: s for s in data(read(GOOD), "payroll.payslip")}["000107"]
    assert grace["year_to_date"]["gross_pay"] == "9684.30"  # 9660.00 taxable to date + 24.30
    # her first pay day of the year: the year to date is the period, and no PS-PAY-011 warning comes
    path = edited(tmp_path, "<TaxablePay>9660.00</TaxablePay>", "<TaxablePay>1380.00</TaxablePay>")
    (outcome,) = [o for o in read(path) if "000107" in o.native]
    slip = outcome.messages[2]
    assert slip["data"]["year_to_date"]["gross_pay"] == slip["data"]["gross_pay"] == "1404.30"
    assert not [p for p in VALIDATOR.check(slip)[1] if p.requirement == "PS-PAY-011"]


def test_zero_figures_given_are_written_again(tmp_path):
    path = edited(tmp_path, "<TotalTax>2332.50</TotalTax>\n", "<TotalTax>2332.50</TotalTax>\n"
                  "              <StudentLoansTD>0.00</StudentLoansTD>\n"
                  "              <PostgradLoansTD>0.00</PostgradLoansTD>\n")
    path = edited(tmp_path, "<EmpeePenContribnsPaidYTD>1248.00</EmpeePenContribnsPaidYTD>\n",
                  "<EmpeePenContribnsPaidYTD>1248.00</EmpeePenContribnsPaidYTD>\n"
                  "              <EmpeePenContribnsNotPaidYTD>0.00</EmpeePenContribnsNotPaidYTD>\n",
                  source=path, name="again.xml")
    path = edited(tmp_path, "<TaxablePay>2992.00</TaxablePay>\n", "<TaxablePay>2992.00</TaxablePay>\n"
                  "              <NonTaxOrNICPmt>0.00</NonTaxOrNICPmt>\n"
                  "              <DednsFromNetPay>0.00</DednsFromNetPay>\n", source=path, name="zeros.xml")
    outcomes = read(path)
    assert all(isinstance(o, Converted) for o in outcomes)
    kept = outcomes[0].messages[2]["data"]["extensions"]["native.rti-fps"]
    assert kept["Employment/Payment/NonTaxOrNICPmt"] == "0.00"
    assert kept["Employment/FiguresToDate/PostgradLoansTD"] == "0.00"
    written_outcomes, written = write(messages_of(outcomes), tmp_path / "written.xml")
    assert all(isinstance(o, Converted) and o.lost == [] for o in written_outcomes)
    assert written == path.read_bytes()


def test_empty_elements_carry_nothing_and_are_not_written_again(tmp_path):
    """The package docstring says so: an empty Fore or Line gives no value, so the round trip drops it."""
    path = edited(tmp_path, "<Fore>Kofi</Fore>", "<Fore/>\n              <Fore>Kofi</Fore>")
    path = edited(tmp_path, "<Line>Fenmoor</Line>", "<Line/>\n              <Line>Fenmoor</Line>", source=path,
                  name="empty.xml")
    outcomes = read(path)
    assert messages_of(outcomes) == messages_of(read(GOOD))
    _, written = write(messages_of(outcomes), tmp_path / "written.xml")
    assert written == GOOD.read_bytes()


def test_a_foreign_address_is_kept_whole(tmp_path):
    path = edited(tmp_path, "<UKPostcode>PE13 2AB</UKPostcode>", "<ForeignCountry>France</ForeignCountry>")
    outcomes = read(path)
    person = outcomes[0].messages[0]["data"]
    assert "address" not in person
    assert person["extensions"]["native.rti-fps"]["EmployeeDetails/Address"]["children"][-1] == [
        "ForeignCountry", "France"]
    _, written = write(messages_of(outcomes), tmp_path / "again.xml")
    assert written == path.read_bytes()


def test_an_irregular_payment_dated_by_month_keeps_that(tmp_path):
    path = edited(tmp_path, "<PayFreq>M1</PayFreq>", "<PayFreq>IR</PayFreq>")
    outcomes = read(path)
    slip = outcomes[0].messages[2]["data"]
    assert slip["pay_frequency"] == "IR" and slip["extensions"]["native.rti-fps"]["Employment/Payment/MonthNo"] == "6"
    _, written = write(messages_of(outcomes), tmp_path / "again.xml")
    assert written == path.read_bytes()


# --- writing ---------------------------------------------------------------------------------------


def triples():
    messages = canonical()
    return [messages[i:i + 3] for i in range(0, len(messages), 3)]


def test_a_person_must_come_before_their_payslip(tmp_path):
    first, *rest = triples()
    person, tax, slip = first
    outcomes, written = write([slip, person, tax] + [m for group in rest for m in group], tmp_path / "out.xml")
    rejected = {o.position.record: o.reason for o in outcomes if isinstance(o, Rejected)}
    assert set(rejected) == {1, 2, 3}
    assert "no hr.person E07000991-payroll-000101 came before this payslip" in rejected[1]
    assert "was not written: no payslip for it came in the stream" in rejected[2]
    assert sorted(o.position.record for o in outcomes) == list(range(1, 22))
    assert written.count(b"<Employee>") == 6


def test_the_buffer_is_bounded(tmp_path):
    groups = triples()
    people = [group[0] for group in groups]
    slips = [group[2] for group in groups]
    outcomes, written = write(people + slips, tmp_path / "out.xml", max_pending="3")
    rejected = sorted(o.position.record for o in outcomes if isinstance(o, Rejected))
    assert rejected == [1, 2, 3, 4, 8, 9, 10, 11]  # four people left the buffer unused, so four payslips failed
    assert written.count(b"<Employee>") == 3
    reasons = [o.reason for o in outcomes if isinstance(o, Rejected)]
    assert any("within the next 3 messages (--option max_pending)" in reason for reason in reasons)


def test_writing_rejects_what_an_fps_cannot_carry(tmp_path):
    groups = triples()
    person, tax, slip = (json.loads(json.dumps(m)) for m in groups[0])
    del person["data"]["birth_date"]
    person2, tax2, slip2 = (json.loads(json.dumps(m)) for m in groups[1])
    person2["data"]["name"]["family_name"] = "Quarrié"
    slip3 = json.loads(json.dumps(groups[2][2]))
    slip3["tax_year"] = slip3["data"]["tax_year"] = "2023-24"
    person4 = json.loads(json.dumps(groups[3][0]))
    person4["council"] = "E07000992"
    deletion = {**groups[4][2], "action": "delete"}
    other = {**groups[5][2], "type": "uk.plugshare.payroll.bank-account"}
    stream = [person, tax, slip, person2, tax2, slip2, *groups[2][:2], slip3, person4, deletion, *groups[6], other]
    outcomes, written = write(stream, tmp_path / "out.xml")
    reasons = [o.reason for o in outcomes if isinstance(o, Rejected)]
    assert any("has no birth_date; an FPS needs the employee's BirthDate" in r for r in reasons)
    assert any("name.family_name (Sur): 'Quarrié': character 'é' is not allowed" in r for r in reasons)
    assert any("tax year 2023-24: this adapter writes the FPS of 2024-25, 2025-26, 2026-27" in r for r in reasons)
    assert any("council E07000992's; this FPS is written for council E07000991" in r for r in reasons)
    assert any("deletion cannot be written" in r for r in reasons)
    assert any("payroll.bank-account message has no place in an FPS" in r for r in reasons)
    assert sum("its payslip could not be written (hr.person E07000991-payroll-000101 has no birth_date" in r
               for r in reasons) == 2  # the person and their tax details
    assert written.count(b"<Employee>") == 1 and b"<PayId>000107</PayId>" in written


@pytest.mark.parametrize("field, reason", [
    ("year_to_date", "ni/0 (letter A) has no year_to_date; an FPS reports each letter's earnings buckets and "
                     "contributions for the year to date"),
    ("nicable_pay", "ni/0 (letter A) has no nicable_pay; an FPS reports each letter's gross earnings for NICs in "
                    "the period (GrossEarningsForNICsInPd)"),
])
def test_a_payslip_without_its_ni_figures_is_rejected_with_its_person(tmp_path, field, reason):
    groups = triples()
    person, tax, slip = (json.loads(json.dumps(m)) for m in groups[0])
    del slip["data"]["ni"][0][field]
    assert not problems(slip)  # valid: the figures are optional in the standard, but the FPS needs them
    outcomes, written = write([person, tax, slip, *groups[1]], tmp_path / "out.xml")
    rejected = {o.position.record: o.reason for o in outcomes if isinstance(o, Rejected)}
    assert set(rejected) == {1, 2, 3} and rejected[3].startswith(reason)
    assert "its payslip could not be written (ni/0 (letter A) has no" in rejected[1]
    assert written.count(b"<Employee>") == 1


def test_period_buckets_that_disagree_with_the_thresholds_are_reported_lost(tmp_path):
    """The FPS has no period buckets: reading back derives them, so other figures are named as not written."""
    person, tax, slip = (json.loads(json.dumps(m)) for m in triples()[6])
    entry = slip["data"]["ni"][0]
    entry["earnings_lel_to_pt"], entry["earnings_pt_to_uel"] = "468.00", "412.00"  # PT taken as 4 x 242
    outcomes, written = write([person, tax, slip], tmp_path / "out.xml")
    assert all(isinstance(o, Converted) for o in outcomes)
    assert outcomes[-1].lost == ["/data/ni/0/earnings_lel_to_pt", "/data/ni/0/earnings_pt_to_uel"]
    assert b"<LELtoPTYTD>3269.00</LELtoPTYTD>" in written and b"468.00" not in written


def test_several_letters_are_written_from_their_own_year_to_date(tmp_path):
    text = GOOD.read_text()
    block = text[text.index("            <NIlettersAndValues>"):text.index("          </Employment>")]
    second = (block.replace("<NIletter>A</NIletter>", "<NIletter>M</NIletter>")
              .replace("<GrossEarningsForNICsInPd>3200.00<", "<GrossEarningsForNICsInPd>0.00<")
              .replace("<TotalEmpNICInPd>589.61<", "<TotalEmpNICInPd>0.00<")
              .replace("<EmpeeContribnsInPd>172.16<", "<EmpeeContribnsInPd>0.00<"))
    path = tmp_path / "two-letters.xml"
    path.write_text(text.replace(block, block + second, 1))
    outcomes = read(path)
    slip = outcomes[0].messages[2]["data"]
    assert [entry["letter"] for entry in slip["ni"]] == ["A", "M"]
    assert slip["ni"][1]["earnings_at_lel"] == "0.00" and slip["ni"][1]["year_to_date"]["nicable_pay"] == "19200.00"
    assert slip["year_to_date"]["employee_ni"] == "2065.92"  # both letters' EmpeeContribnsYTD
    assert not [p for p in problems(outcomes[0].messages[2]) if p.requirement == "PS-PAY-017"]
    _, written = write(messages_of(outcomes), tmp_path / "again.xml")
    assert written == path.read_bytes()


def copies(group: int) -> list[dict]:
    return [json.loads(json.dumps(m)) for m in triples()[group]]


def test_year_to_date_loans_go_to_the_part_the_plans_name(tmp_path):
    """A postgraduate-only payslip whose split is not kept: its loans to date are PostgradLoansTD."""
    person, tax, slip = copies(4)
    kept = slip["data"]["extensions"]["native.rti-fps"]
    kept.pop("Employment/FiguresToDate/PostgradLoansTD", None)
    outcomes, written = write([person, tax, slip], tmp_path / "out.xml")
    assert all(isinstance(o, Converted) for o in outcomes)
    assert b"<PostgradLoansTD>666.00</PostgradLoansTD>" in written and b"<StudentLoansTD>" not in written
    assert outcomes[-1].lost == []


def test_a_split_kept_from_the_fps_is_written_again(tmp_path):
    """Loans to date under both parts while only a postgraduate loan is recovered: the parts are kept."""
    path = edited(tmp_path, "<TotalTax>2781.30</TotalTax>\n", "<TotalTax>2781.30</TotalTax>\n"
                  "              <StudentLoansTD>120.00</StudentLoansTD>\n")
    outcomes = read(path)
    slip = data(outcomes, "payroll.payslip")[4]
    assert slip["year_to_date"]["student_loan"] == "786.00"
    assert {key: value for key, value in slip["extensions"]["native.rti-fps"].items() if "ToDate" in key} == {
        "Employment/FiguresToDate/StudentLoansTD": "120.00", "Employment/FiguresToDate/PostgradLoansTD": "666.00"}
    _, written = write(messages_of(outcomes), tmp_path / "written.xml")
    assert written == path.read_bytes()


@pytest.mark.parametrize("field, change, reason", [
    ("student_loan", lambda slip: slip["student_loans"].append({"plan": "02", "amount": "30.00"}),
     "year_to_date.student_loan 666.00 cannot be split into the FPS's StudentLoansTD and PostgradLoansTD"),
    ("student_loan", lambda slip: slip["student_loans"].clear(),
     "year_to_date.student_loan 666.00 cannot be split into the FPS's StudentLoansTD and PostgradLoansTD"),
    ("employee_pension", lambda slip: slip["deductions"].append(
        {"category": "other", "code": "FPS-PEN-RAS", "amount": "10.00"}),
     "year_to_date.employee_pension 1404.00 cannot be split into the FPS's EmpeePenContribnsPaidYTD and "
     "EmpeePenContribnsNotPaidYTD"),
])
def test_a_sum_to_date_the_lines_cannot_split_rejects_the_payslip(tmp_path, field, change, reason):
    person, tax, slip = copies(4)
    slip["data"]["extensions"]["native.rti-fps"].pop("Employment/FiguresToDate/PostgradLoansTD", None)
    change(slip["data"])
    tax["data"]["student_loan_plans"] = [loan["plan"] for loan in slip["data"]["student_loans"]]
    outcomes, written = write([person, tax, slip, *triples()[0]], tmp_path / "out.xml")
    rejected = {o.position.record: o.reason for o in outcomes if isinstance(o, Rejected)}
    assert set(rejected) == {1, 2, 3} and rejected[3].startswith(reason), rejected
    assert written.count(b"<Employee>") == 1


def test_a_starter_is_written_only_from_the_payslip_s_starter(tmp_path):
    person, tax, slip = copies(0)
    tax["data"]["starter_declaration"] = "A"
    outcomes, written = write([person, tax, slip], tmp_path / "out.xml")
    assert b"<Starter>" not in written and b"<StartDate>" not in written
    lost = {o.position.record: o.lost for o in outcomes}
    assert lost[2] == ["/data/starter_declaration"] and lost[3] == []


def test_a_starter_declaration_without_tax_details_is_kept(tmp_path):
    """Without NI letters no tax details are made: the StartDec stays with the payslip's Starter."""
    text = GOOD.read_text()
    start = text.index("<PayId>000104</PayId>")
    block = text[text.index("            <NIlettersAndValues>", start):text.index("          </Employment>", start)]
    path = tmp_path / "no-letters.xml"
    path.write_text(text.replace(block, "", 1))
    (outcome,) = [o for o in read(path) if "000104" in o.native]
    assert [m["type"] for m in outcome.messages] == ["uk.plugshare.hr.person", "uk.plugshare.payroll.payslip"]
    assert outcome.messages[1]["data"]["extensions"]["native.rti-fps"]["Employment/Starter/StartDec"] == "B"
    _, written = write(messages_of(read(path)), tmp_path / "written.xml")
    assert written == path.read_bytes()


def test_the_options_name_the_whole_scheme(tmp_path):
    """paye_reference replaces the kept EmpRefs whole: no ECON, COTAXRef or SAUTR of the other scheme stays."""
    messages = canonical()
    for message in messages:
        if message["type"].endswith("payslip"):
            message["data"]["extensions"]["native.rti-fps"].update(
                {"EmpRefs/ECON": "E1234567890A", "EmpRefs/SAUTR": "1234567890"})
    outcomes, written = write(messages, tmp_path / "out.xml", paye_reference="991/FM00777",
                              accounts_office_reference="991PA00077777")
    assert b"<ECON>" not in written and b"<SAUTR>" not in written
    slips = [o for o in outcomes if o.messages[0]["type"].endswith("payslip")]
    assert all({"/data/extensions/native.rti-fps/EmpRefs~1ECON", "/data/extensions/native.rti-fps/EmpRefs~1SAUTR",
                "/data/extensions/native.rti-fps/EmpRefs~1PayeRef"} <= set(o.lost) for o in slips)


def test_a_replaced_person_is_rejected_naming_its_replacement(tmp_path):
    person, tax, slip = copies(0)
    newer = json.loads(json.dumps(person))
    newer["data"]["name"]["given_name"] = "Kwame"
    outcomes, written = write([person, newer, tax, slip], tmp_path / "out.xml")
    by_record = {o.position.record: o for o in outcomes}
    assert isinstance(by_record[1], Rejected)
    assert by_record[1].reason == ("hr.person E07000991-payroll-000101 was not written: replaced by message 2, a "
                                   "later version of the same record, before any payslip used it")
    assert all(isinstance(by_record[n], Converted) for n in (2, 3, 4)) and b"<Fore>Kwame</Fore>" in written


def test_a_payslip_failing_on_a_garbled_field_names_the_failure_on_its_person(tmp_path):
    person, tax, slip = copies(0)
    del person["data"]["name"]["family_name"]
    outcomes, _ = write([person, tax, slip, *triples()[1]], tmp_path / "out.xml")
    rejected = {o.position.record: o.reason for o in outcomes if isinstance(o, Rejected)}
    assert set(rejected) == {1, 2, 3}
    assert rejected[3].startswith("the message lacks or garbles a field the FPS needs (it has no family_name)")
    assert rejected[1] == ("hr.person E07000991-payroll-000101 was not written: its payslip could not be written "
                           "(the message lacks or garbles a field the FPS needs (it has no family_name); validate "
                           "it first)")


def test_no_payslip_written_means_no_file(tmp_path):
    person = canonical()[0]
    with pytest.raises(AdapterError, match="no FPS was made"):
        write([person], tmp_path / "out.xml")
    assert list(tmp_path.iterdir()) == []


def test_writing_streams_and_leaves_no_partial_file_when_stopped(tmp_path):
    pulled = []
    groups = triples()

    def messages():
        for number in range(100_000):
            pulled.append(number)
            yield from groups[number % 7]

    outcomes = RtiFpsAdapter({"council": "E07000991"}).write(messages(), str(tmp_path / "out.xml"))
    first = [next(outcomes) for _ in range(9)]
    assert all(isinstance(o, Converted) for o in first) and len(pulled) == 3
    outcomes.close()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("options, message", [
    ({"paye_reference": "991/FM00123"}, "together"),
    ({"paye_reference": "991-FM00123", "accounts_office_reference": "991PA00012345"}, "not a PAYE reference"),
    ({"paye_reference": "991/FM00123", "accounts_office_reference": "991XX"}, "Accounts Office reference"),
    ({"period_end": "25/09/2025"}, "period_end"),
    ({"final_submission": "maybe"}, "use yes or no"),
    ({"max_pending": "0"}, "max_pending"),
])
def test_write_options_are_checked(tmp_path, options, message):
    with pytest.raises(AdapterError, match=message):
        write(canonical(), tmp_path / "out.xml", **options)


def test_options_name_the_scheme_period_end_and_final_submission(tmp_path):
    outcomes, written = write(canonical(), tmp_path / "out.xml", paye_reference="991/FM00777",
                              accounts_office_reference="991PA00077777", period_end="2025-09-30",
                              final_submission="yes")
    text = written.decode()
    assert "<PayeRef>FM00777</PayeRef>" in text and '<Key Type="TaxOfficeReference">FM00777</Key>' in text
    assert "<PeriodEnd>2025-09-30</PeriodEnd>" in text and "<ForYear>yes</ForYear>" in text
    again = read(tmp_path / "out.xml")
    assert len(again) == 7 and all(isinstance(o, Converted) for o in again)
    assert data(again, "payroll.payslip")[0]["extensions"]["native.rti-fps"]["EmpRefs/PayeRef"] == "FM00777"


def test_payslips_from_another_payroll_are_written_and_read_back(tmp_path):
    """Synthetic messages have real earnings lines, LGPS pensions and no kept FPS figures."""
    messages = [m for m in ServiceGenerator().messages() if m["council"] == "E07000991"
                and m["type"].removeprefix("uk.plugshare.") in RtiFpsAdapter.writes]
    slips = [m["data"] for m in messages if m["type"].endswith("payslip")]
    outcomes, written = write(messages, tmp_path / "out.xml", paye_reference="991/FM00123",
                              accounts_office_reference="991PA00012345")
    assert all(isinstance(o, Converted) for o in outcomes)
    for outcome in outcomes:  # every message's own outcome, not the last of its type
        kind = outcome.messages[0]["type"].removeprefix("uk.plugshare.")
        if kind == "hr.person":
            assert outcome.lost == ["/data/id", "/data/source_ids/0/scheme"]
        elif kind == "payroll.tax-details":
            assert outcome.lost == ["/data/id", "/data/employment_id", "/data/effective_from"]
        else:
            assert {"/data/id", "/data/earnings/0/code", "/data/pensions"} <= set(outcome.lost)
            assert not [p for p in outcome.lost if p.startswith(("/data/ni", "/data/year_to_date"))], outcome.lost
    summary = convert(CanonicalSource(), str(_ndjson(tmp_path, messages)), RtiFpsAdapter(
        {"council": "E07000991", "paye_reference": "991/FM00123", "accounts_office_reference": "991PA00012345"}),
        str(tmp_path / "converted.xml"))
    assert summary.not_written["hr.person /data/id"] == 12 and summary.quarantined == 0
    again = read(tmp_path / "out.xml")
    assert all(isinstance(o, Converted) for o in again)
    assert all(not problems(m) for m in messages_of(again))
    for original, copy in zip(slips, data(again, "payroll.payslip"), strict=True):
        for field in ("taxable_pay", "tax_deducted", "net_pay", "gross_pay", "student_loans", "tax_code",
                      "pay_frequency", "period_number"):
            assert copy[field] == original[field], field
        pension = sum(Decimal(d["amount"]) for d in original["deductions"] if d["category"] == "pension")
        assert copy["ni"] == original["ni"]
        assert copy["year_to_date"] == original["year_to_date"]
        assert [d["amount"] for d in copy["deductions"] if d["code"] == "FPS-PEN-NPA"] == [f"{pension:.2f}"]
    # the sums to date split by the lines: plan 2 loans to StudentLoansTD, LGPS (net pay arrangement) pension
    employees = written.decode().split("<Employee>")[1:]
    for original, employee in zip(slips, employees, strict=True):
        ytd = original["year_to_date"]
        assert f"<EmpeePenContribnsPaidYTD>{ytd['employee_pension']}<" in employee
        assert "NotPaidYTD" not in employee and "PostgradLoansTD" not in employee
        assert (f"<StudentLoansTD>{ytd['student_loan']}<" in employee) == bool(original["student_loans"])


def _ndjson(tmp_path, messages) -> Path:
    path = tmp_path / "messages.ndjson"
    path.write_text("".join(json.dumps(m) + "\n" for m in messages))
    return path


# --- streaming --------------------------------------------------------------------------------------

NAMESPACE = "http://www.govtalk.gov.uk/taxation/PAYE/RTI/FullPaymentSubmission/25-26/1"


def compact_employee(number: int) -> str:
    return (f"<Employee><EmployeeDetails><Name><Fore>Sam</Fore><Sur>Rudd</Sur></Name><BirthDate>1990-01-01"
            f"</BirthDate><Gender>F</Gender></EmployeeDetails><Employment><PayId>{number:08d}</PayId><FiguresToDate>"
            f"<TaxablePay>6000.00</TaxablePay><TotalTax>600.00</TotalTax></FiguresToDate><Payment><PayFreq>M1"
            f"</PayFreq><PmtDate>2025-09-25</PmtDate><MonthNo>6</MonthNo><PeriodsCovered>1</PeriodsCovered>"
            f"<HoursWorked>D</HoursWorked><TaxCode>1257L</TaxCode><TaxablePay>1000.00</TaxablePay><PayAfterStatDedns>"
            f"900.00</PayAfterStatDedns><TaxDeductedOrRefunded>100.00</TaxDeductedOrRefunded></Payment></Employment>"
            f"</Employee>\n")


def test_reading_a_large_fps_keeps_memory_flat(tmp_path):
    path = tmp_path / "large.xml"
    count = 20_000
    with path.open("w") as out:
        out.write(f'<IRenvelope xmlns="{NAMESPACE}"><FullPaymentSubmission><EmpRefs><OfficeNo>991</OfficeNo>'
                  f'<PayeRef>FM00123</PayeRef><AORef>991PA00012345</AORef></EmpRefs>'
                  f'<RelatedTaxYear>25-26</RelatedTaxYear>\n')
        for number in range(count):
            out.write(compact_employee(number))
        out.write("</FullPaymentSubmission></IRenvelope>\n")
    size = path.stat().st_size
    tracemalloc.start()
    try:
        seen = lines_seen = 0
        for outcome in RtiFpsAdapter(READ).read(str(path)):
            assert isinstance(outcome, Converted) and len(outcome.messages) == 2
            seen += 1
            lines_seen = outcome.position.line
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert seen == count and lines_seen == count + 1
    assert size > 10_000_000 and peak < 2_000_000


# --- round trip ------------------------------------------------------------------------------------

NAME_TEXT = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'-. ", min_size=1,
                    max_size=34).map(lambda s: ("Q" + s)[:35].strip())
LINE_TEXT = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijkl0123456789 ,.()/&'!-\"", min_size=0,
                    max_size=30).map(lambda s: ("A" + s).strip())
PENCE = st.integers(min_value=-500_000, max_value=900_000).map(lambda p: f"{Decimal(p).scaleb(-2):.2f}")
POSITIVE = st.integers(min_value=0, max_value=9_000_000).map(lambda p: f"{Decimal(p).scaleb(-2):.2f}")
NONZERO = st.integers(min_value=1, max_value=400_000).map(lambda p: f"{Decimal(p).scaleb(-2):.2f}")
POUNDS = st.integers(min_value=0, max_value=5000).map(lambda p: f"{p}.00")
CODES = st.sampled_from([("1257L", None), ("1257L", "S"), ("1257L", "C"), ("K475", None), ("BR", "C"), ("0T", None),
                         ("NT", None), ("D2", "S"), ("D0", None)])


NI_NAMES = ("GrossEarningsForNICsInPd", "GrossEarningsForNICsYTD", "AtLELYTD", "LELtoPTYTD", "PTtoUELYTD",
            "TotalEmpNICInPd", "TotalEmpNICYTD", "EmpeeContribnsInPd", "EmpeeContribnsYTD")


@st.composite
def employees(draw, number):
    frequency = draw(st.sampled_from(["W1", "W2", "W4", "M1", "M3", "M6", "MA", "IO", "IR"]))
    by_week = frequency.startswith("W") or (frequency in ("IO", "IR") and draw(st.booleans()))
    period = draw(st.integers(1, 56 if by_week else 12))
    code, regime = draw(CODES)
    loans = draw(st.lists(st.sampled_from(["01", "02", "04"]), max_size=1))
    postgraduate = draw(st.booleans())
    optional = {name: draw(st.none() | NONZERO) for name in ("NonTaxOrNICPmt", "DednsFromNetPay",
                                                               "EmpeePenContribnsPaid", "EmpeePenContribnsNotPaid")}
    letters = draw(st.lists(st.sampled_from("ABCHJMXZ"), min_size=1, max_size=2, unique=True))
    address = draw(st.lists(LINE_TEXT, min_size=1, max_size=4))
    name = [leaf("Fore", draw(NAME_TEXT))] + ([leaf("Fore", draw(NAME_TEXT))] if draw(st.booleans()) else [])
    if draw(st.booleans()):
        name.insert(0, leaf("Ttl", draw(st.sampled_from(["Mr", "Mrs", "Ms", "Dr", "Revd"]))))
    details = [leaf("NINO", f"AB{number:06d}C"), Node("Name", children=[*name, leaf("Sur", draw(NAME_TEXT))]),
               Node("Address", children=[leaf("Line", line) for line in address]
                    + ([leaf("UKPostcode", "PE13 2AB")] if draw(st.booleans()) else [])),
               leaf("BirthDate", "1980-02-29"), leaf("Gender", draw(st.sampled_from("MF")))]
    employment = []
    if draw(st.booleans()):
        employment.append(Node("Starter", children=[leaf("StartDate", "2025-04-07")]
                               + ([leaf("StartDec", draw(st.sampled_from("ABC")))] if draw(st.booleans()) else [])))
    employment.append(leaf("PayId", f"P-{number:04d}"))
    figures = [leaf("TaxablePay", draw(PENCE)), leaf("TotalTax", draw(PENCE))]
    if loans:
        figures.append(leaf("StudentLoansTD", draw(POUNDS)))
    if postgraduate:
        figures.append(leaf("PostgradLoansTD", draw(POUNDS)))
    for name, kept in (("EmpeePenContribnsPaidYTD", "EmpeePenContribnsPaid"),
                       ("EmpeePenContribnsNotPaidYTD", "EmpeePenContribnsNotPaid")):
        if optional[kept]:
            figures.append(leaf(name, draw(POSITIVE)))
    employment.append(Node("FiguresToDate", children=figures))
    attributes = {**({"BasisNonCumulative": "yes"} if draw(st.booleans()) else {}),
                  **({"TaxRegime": regime} if regime else {})}
    covered = str(draw(st.integers(1, 5)))
    payment = [leaf("PayFreq", frequency), leaf("PmtDate", "2025-09-25"),
               leaf("WeekNo" if by_week else "MonthNo", str(period)), leaf("PeriodsCovered", covered),
               leaf("HoursWorked", draw(st.sampled_from("ABCDE"))), Node("TaxCode", code, attributes=attributes),
               leaf("TaxablePay", draw(PENCE))]
    payment += [leaf(name, optional[name]) for name in ("NonTaxOrNICPmt", "DednsFromNetPay") if optional[name]]
    payment.append(leaf("PayAfterStatDedns", draw(PENCE)))
    payment += [leaf(name, optional[name]) for name in ("EmpeePenContribnsPaid", "EmpeePenContribnsNotPaid")
                if optional[name]]
    payment += [Node("StudentLoanRecovered", draw(POUNDS), attributes={"PlanType": plan}) for plan in loans]
    if postgraduate:
        payment.append(leaf("PostgradLoanRecovered", draw(POUNDS)))
    payment.append(leaf("TaxDeductedOrRefunded", draw(PENCE)))
    employment.append(Node("Payment", children=payment))
    for letter in letters:
        values = [leaf("NIletter", letter)] + [leaf(name, draw(POSITIVE if "LEL" in name or "UEL" in name else PENCE))
                                               for name in NI_NAMES]
        employment.append(Node("NIlettersAndValues", children=values))
    return Node("Employee", children=[Node("EmployeeDetails", children=details),
                                      Node("Employment", children=employment)])


def fps_document(people: list[Node]) -> str:
    text = GOOD.read_text()
    head = text[:text.index("        <Employee>")]
    tail = text[text.index("      </FullPaymentSubmission>"):]
    return head + "".join("\n".join(lines(person, 4)) + "\n" for person in people) + tail


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(st.data())
def test_fps_to_canonical_to_fps_is_byte_for_byte_and_stable(tmp_path, data):
    people = [data.draw(employees(number)) for number in range(1, data.draw(st.integers(1, 3)) + 1)]
    source = tmp_path / "source.xml"
    source.write_text(fps_document(people))
    first = read(source)
    assert all(isinstance(o, Converted) for o in first), [o.reason for o in first if isinstance(o, Rejected)]
    target = tmp_path / "written.xml"
    target.unlink(missing_ok=True)
    outcomes, written = write(messages_of(first), target)
    assert all(isinstance(o, Converted) and o.lost == [] for o in outcomes)
    assert written == source.read_bytes()
    assert messages_of(read(target)) == messages_of(first)
    arithmetic = {f"PS-PAY-00{n}" for n in range(1, 8)}
    for message in messages_of(first):
        assert not [p for p in problems(message) if p.requirement in arithmetic or p.requirement.startswith("PS-COM")]
