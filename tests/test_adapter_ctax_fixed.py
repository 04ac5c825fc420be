"""The ctax-fixed adapter: a legacy council tax system's fixed-width extract, read and written."""

import copy
import datetime as dt
import json
import re
import string
import tracemalloc
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import plugshare.adapters.ctax_fixed as package
from plugshare.adapters.contract import AdapterError, Converted, Rejected
from plugshare.adapters.ctax_fixed import CtaxFixedAdapter
from plugshare.adapters.ctax_fixed import layout as L
from plugshare.cli import main
from plugshare.conversion import CanonicalSource, convert
from plugshare.plugins import make_host
from plugshare.samples import run_sample, sample_conversions
from plugshare.validation.validator import MessageValidator

SAMPLES = Path(__file__).resolve().parents[1] / "src" / "plugshare" / "adapters" / "samples" / "ctax-fixed"
GOOD, BAD, CANONICAL = SAMPLES / "extract-2025.txt", SAMPLES / "one-bad-record.txt", SAMPLES / "canonical.ndjson"
READ = {"council": "E07000992"}
WRITE = {"council": "E07000992", "billing_authority": "9912"}
VALIDATOR = MessageValidator()
NS = "native.ctax-fixed"


def good_lines() -> list[str]:
    return GOOD.read_bytes().decode("ascii").split("\r\n")[:-1]


def canonical() -> list[dict]:
    return [json.loads(line) for line in CANONICAL.read_text().splitlines()]


def save(tmp_path: Path, lines: list[str], name: str = "edited.txt", retrail: bool = False) -> Path:
    if retrail:
        lines = lines[:-1] + [trailer(lines)]
    path = tmp_path / name
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8", "surrogateescape"))
    return path


def trailer(lines: list[str]) -> str:
    """The TRL record for these lines, computed independently of the adapter."""
    body = [line for line in lines if line[:3] not in ("HDR", "TRL")]
    counts = "".join(f"{sum(line.startswith(kind) for line in body):07d}" for kind in ("PRP", "ACC", "BIL", "INS",
                                                                                        "PAY"))

    def total(kind: str, start: int, end: int) -> str:
        value = sum(int(line[start - 1:end]) for line in body if line.startswith(kind))
        return ("-" if value < 0 else "+") + f"{abs(value):014d}"

    return ("TRL" + counts + f"{len(body) + 2:08d}" + total("BIL", 107, 118) + total("INS", 30, 41)
            + total("PAY", 37, 48))


def read(path, **options) -> list:
    return list(CtaxFixedAdapter({**READ, **options}).read(str(path)))


def write(messages, path, **options) -> tuple[list, bytes | None]:
    outcomes = list(CtaxFixedAdapter({**WRITE, **options}).write(messages, str(path)))
    return outcomes, path.read_bytes() if path.exists() else None


def must_problems(message: dict) -> list:
    return [p for p in VALIDATOR.check(message)[1] if p.level == "MUST"]


def only(outcomes, kind=Rejected):
    found = [o for o in outcomes if isinstance(o, kind)]
    return found


def line_of(lines: list[str], start: str) -> int:
    return next(index for index, line in enumerate(lines) if line.startswith(start))


def data_of(messages: list[dict], subject: str) -> dict:
    return next(m["data"] for m in messages if m["subject"] == subject)


# --- the samples -------------------------------------------------------------------------------


def test_the_adapter_is_a_builtin_plugin():
    assert make_host(load_entry_points=False).adapter("ctax-fixed") is CtaxFixedAdapter


def test_the_good_sample_reads_into_valid_messages_of_each_type():
    outcomes = read(GOOD)
    assert len(outcomes) == 35 and all(isinstance(o, Converted) for o in outcomes)
    messages = [m for o in outcomes for m in o.messages]
    assert Counter(m["type"].removeprefix("uk.plugshare.") for m in messages) == {
        "revenues.property": 8, "revenues.council-tax-account": 8, "revenues.council-tax-bill": 8,
        "revenues.payment": 11}
    assert all(VALIDATOR.check(m)[1] == [] for m in messages)  # not even a SHOULD warning
    assert [o.position.line for o in outcomes[:3]] == [2, 3, 4] and outcomes[16].position.line == 18
    assert {m["time"] for m in messages} == {"2025-09-30T02:15:00Z"}  # the header's extract time
    assert {m["source"] for m in messages} == {"urn:plugshare:E07000992:ctax-fixed"}


def test_what_the_good_sample_holds():
    messages = [m for o in read(GOOD) for m in o.messages]
    flat = data_of(messages, "E07000992-ctp-P000101")
    assert flat["address"] == {"saon": "Flat 2", "paon": "Westgate House", "street": "Westgate", "town": "Ashcombe",
                               "postcode": "CB21 4RT", "country": "GB", "uprn": 992000000101, "usrn": 99200011}
    assert flat["council_tax"] == {"valuation_list": "england-1991", "band": "A", "effective_date": "1993-04-01"}
    assert flat["extensions"] == {NS: {"property_type": "FL", "ward": "AW01"}} and flat["nation"] == "england"
    bands = {data_of(messages, f"E07000992-ctp-P00010{n}")["council_tax"]["band"] for n in range(1, 9)}
    assert bands == set("ABCDEFGH")
    single = data_of(messages, "E07000992-cta-9920000101")
    assert single["discounts"] == [{"discount_type": "single_person", "percent": "25",
                                    "period": {"start": "2021-09-01"}}]
    assert single["liable_parties"][0]["party"]["name"] == {"title": "Ms", "given_name": "Niamh",
                                                            "family_name": "Garside"}
    student = data_of(messages, "E07000992-cta-9920000104")
    assert student["exemption"] == {"exemption_class": "N", "period": {"start": "2025-09-01"}}
    empty = data_of(messages, "E07000992-cta-9920000106")
    assert empty["liable_parties"][0]["party"] == {"organisation_name": "Carrow Lettings Ltd"}
    assert empty["premium"] == {"premium_type": "long_term_empty", "percent": "100",
                                "period": {"start": "2024-04-01"}, "empty_since": "2022-10-03"}
    assert data_of(messages, "E07000992-cta-9920000105")["premium"]["premium_type"] == "second_home"
    assert data_of(messages, "E07000992-cta-9920000102")["instalments_requested"] == 12
    twelve = data_of(messages, "E07000992-ctb-9920000102-2025-26-01")["instalments"]
    assert len(twelve) == 12 and twelve[0]["amount"] == "135.90" and {i["amount"] for i in twelve[1:]} == {"135.86"}
    reduced = data_of(messages, "E07000992-ctb-9920000103-2025-26-01")
    assert (reduced["period_charge"], reduced["reduction"], reduced["amount_payable"]) == \
        ("1397.45", "558.98", "838.47")
    assert reduced["extensions"] == {NS: {"ctr_scheme": "WA"}}
    assert data_of(messages, "E07000992-ctb-9920000104-2025-26-01")["instalments"] == []
    reversal = data_of(messages, "E07000992-ctpay-T25000009")
    assert reversal["payment_type"] == "reversal" and reversal["amount"] == "135.86"
    assert reversal["reverses_payment_id"] == "E07000992-ctpay-T25000008"
    assert reversal["extensions"] == {NS: {"reversal_reason": "RDP", "batch": "005107"}}
    refund = data_of(messages, "E07000992-ctpay-T25000010")
    assert (refund["payment_type"], refund["amount"], refund["method"]) == ("refund", "120.00", "bank_transfer")


def test_every_line_has_its_types_width_and_a_crlf():
    raw = GOOD.read_bytes()
    assert raw.endswith(b"\r\n") and raw.count(b"\n") == raw.count(b"\r\n") and raw.isascii()
    widths = {"HDR": 29, "PRP": 219, "ACC": 314, "BIL": 122, "INS": 41, "PAY": 89, "TRL": 91}
    lines = good_lines()
    assert lines[0].startswith("HDR") and lines[-1].startswith("TRL")
    assert all(len(line) == widths[line[:3]] for line in lines)
    assert lines[-1] == trailer(lines)


def test_the_cli_converts_the_good_sample_and_its_output_validates(tmp_path):
    out = tmp_path / "ctax.ndjson"
    result = CliRunner().invoke(main, ["convert", "--from", "ctax-fixed", "--to", "canonical", str(GOOD), str(out),
                                       "--option", "council=E07000992"])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == CANONICAL.read_bytes()
    validated = CliRunner().invoke(main, ["validate", str(out)])
    assert validated.exit_code == 0, validated.output


def test_the_bad_sample_quarantines_exactly_its_one_record(tmp_path):
    out, quarantine = tmp_path / "ctax.ndjson", tmp_path / "rejected.ndjson"
    result = CliRunner().invoke(main, ["convert", "--from", "ctax-fixed", "--to", "canonical", str(BAD), str(out),
                                       "--option", "council=E07000992", "--quarantine", str(quarantine)])
    assert result.exit_code == 1, result.output
    assert len(out.read_text().splitlines()) == 34
    (entry,) = [json.loads(line) for line in quarantine.read_text().splitlines()]
    assert (entry["stage"], entry["record"], entry["line"]) == ("read", 4, 5)
    assert entry["native"] == BAD.read_bytes().decode("ascii").split("\r\n")[4]
    assert entry["reason"].startswith("band code (position 205): vendor code '0' has no translation")
    outcomes = read(BAD)
    assert [type(o) for o in outcomes].count(Rejected) == 1 and isinstance(outcomes[3], Rejected)
    assert all(not must_problems(m) for o in outcomes if isinstance(o, Converted) for m in o.messages)


def test_writing_the_canonical_sample_gives_the_extract_byte_for_byte(tmp_path):
    messages = canonical()
    assert all(not must_problems(m) for m in messages)
    outcomes, written = write(messages, tmp_path / "extract.txt")
    assert all(isinstance(o, Converted) for o in outcomes) and len(outcomes) == 35
    assert written == GOOD.read_bytes()
    result = CliRunner().invoke(main, ["convert", "--from", "canonical", "--to", "ctax-fixed", str(CANONICAL),
                                       str(tmp_path / "cli.txt"), "--option", "council=E07000992",
                                       "--option", "billing_authority=9912"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "cli.txt").read_bytes() == GOOD.read_bytes()


def test_native_canonical_native_canonical_is_stable(tmp_path):
    first = [m for o in read(GOOD) for m in o.messages]
    _, written = write(first, tmp_path / "again.txt")
    assert written == GOOD.read_bytes()
    second = [m for o in read(tmp_path / "again.txt") for m in o.messages]
    assert second == first


def test_the_sample_manifest_runs(tmp_path):
    conversions = [c for c in sample_conversions() if c.adapter == "ctax-fixed"]
    assert [c.name for c in conversions] == ["good", "one-bad-record", "write"]
    for conversion in conversions:
        result = run_sample(conversion, tmp_path)
        assert result.ok, (conversion.name, result.failures)
    assert conversions[2].output_equals == GOOD


def test_the_docstring_tables_are_the_layouts():
    doc = package.__doc__
    sections = re.split(r"^``([A-Z]{3})`` [^\n]*?(\d+) characters", doc, flags=re.M)
    tables = {sections[i]: (int(sections[i + 1]), sections[i + 2]) for i in range(1, len(sections), 3)}
    assert set(tables) == set(L.LAYOUTS)
    for kind, (width, table) in tables.items():
        assert width == L.WIDTHS[kind], kind
        rows = re.findall(r"^ (\d+)-(\d+) +(\d+) +([NADM])? ", table, flags=re.M)
        covered = 1
        for start, end, size, field_type in rows:
            start, end, size = int(start), int(end), int(size)
            assert start == covered and end - start + 1 == size, (kind, start)
            if field_type:
                (spec,) = [f for f in L.LAYOUTS[kind] if f.start == start]
                assert (spec.end, spec.kind) == (end, field_type), (kind, spec.name)
            covered = end + 1
        assert covered == L.WIDTHS[kind] + 1, kind


# --- the format's rules, reading ------------------------------------------------------------------


def test_a_record_of_the_wrong_width_is_rejected_with_its_lines(tmp_path):
    lines = good_lines()
    index = line_of(lines, "BIL9920000101")
    lines[index] = lines[index].rstrip()  # an editor trimmed the blank reduction scheme
    outcomes = read(save(tmp_path, lines))
    (rejected,) = only(outcomes)
    assert rejected.reason.startswith("the bill record is 120 characters; BIL records are 122")
    assert rejected.position.line == index + 1 and len(rejected.native) == 11 and rejected.native[0] == lines[index]
    assert len(outcomes) == 35


def test_characters_outside_printable_ascii_are_named(tmp_path):
    lines = good_lines()
    index = line_of(lines, "ACC9920000101")
    lines[index] = lines[index].replace("Garside   ", "Garsidé   ")
    later = line_of(lines, "ACC9920000103")
    lines[later] = lines[later].replace("Pennock ", "Pennock\t")
    raw = save(tmp_path, lines).read_bytes().replace(b"Ellen ", b"Ellen\xe9")
    (tmp_path / "latin1.txt").write_bytes(raw)
    rejected = only(read(tmp_path / "latin1.txt"))
    assert len(rejected) == 2
    assert "party 1 surname or organisation name (positions 92-126): character 'é'" in rejected[0].reason
    assert "byte 0xE9" in rejected[1].reason and "party 1 forename" in rejected[1].reason


def test_digits_dates_and_money_are_checked(tmp_path):
    lines = good_lines()
    prp = line_of(lines, "PRPP000102")
    lines[prp] = lines[prp][:13] + "99200000O102" + lines[prp][25:]
    acc = line_of(lines, "ACC9920000102")
    lines[acc] = lines[acc][:24] + "20160231" + lines[acc][32:]
    bill = line_of(lines, "BIL9920000103")
    lines[bill] = lines[bill][:47] + "0" + lines[bill][48:]
    rejected = only(read(save(tmp_path, lines, retrail=True)))
    assert [r.position.line for r in rejected] == [prp + 1, acc + 1, bill + 1]
    assert rejected[0].reason == "UPRN (positions 14-25) must be 12 digits, zero-padded; it is '99200000O102'"
    assert "liability start (positions 25-32): '20160231' is not a date in the form YYYYMMDD" in rejected[1].reason
    assert "Band D charge (positions 48-59): '000000209618' is not an amount: a sign (+ or -) and 11 digits" in \
        rejected[2].reason


def test_an_amount_the_trailer_sums_that_cannot_be_read_fails_the_trailer_check(tmp_path):
    lines = good_lines()
    pay = line_of(lines, "PAYT25000003")
    lines[pay] = lines[pay][:36] + " " + lines[pay][37:]
    with pytest.raises(AdapterError, match=r"payments net total 2156\.27 but the records total 1643\.87 \(a "
                                           r"difference of 512\.40, 1 amount\(s\) unreadable and not counted\)"):
        read(save(tmp_path, lines))


@pytest.mark.parametrize("start, old, new, reason", [
    ("PRPP000101", "992000000101", "000000000000", "UPRN (positions 14-25) is zero"),
    ("PRPP000103", "CB21 4HJ", "CB21 XXX", "postcode (positions 194-201) 'CB21 XXX' is not a UK postcode"),
    ("PRPP000105", "E915", "   5", "valuation list code (positions 202-204) and band code (position 205) go together"),
    ("ACC9920000105", "L2018030200000000", "L0000000000000000", "liability start (positions 25-32) is blank"),
    ("ACC9920000107", "TNPDr      Grace", "TNXDr      Grace", "party 1 kind (position 43) is 'X'"),
    ("ACC9920000107", "TNPDr      Grace", "TN Dr      Grace", "party 1 kind (position 43) is blank; it is P (a "),
    ("ACC9920000107", "TNPDr      Grace", "  PDr      Grace", "party 1 liability role (positions 41-42) is blank"),
    ("ACC9920000107", "L2025", "X2025", "account status (position 24): vendor code 'X' has no translation"),
    ("ACC9920000101", "SPD02500", "SPX02500", "discount 1 code (positions 213-215): vendor code 'SPX'"),
    ("ACC9920000104", "N 20250901", "A 20250901", "class A was abolished on 1 April 2013"),
    ("ACC9920000106", "LTE10000", "LTX10000", "premium code (positions 279-281): vendor code 'LTX'"),
    ("ACC9920000106", "BT10", "ZZ10", "payment method code (positions 311-312): vendor code 'ZZ'"),
    ("ACC9920000101", "TNPMs      Niamh   ", "TNOMs      Niamh   ", "organisation (kind O): its name goes in the"),
    ("BIL9920000101", "0250000000N+", "0250000000X+", "exempt flag (position 70) is 'X'; it is Y or N"),
    ("BIL9920000101", "E911", "E91J", "band code (position 47): vendor code 'J'"),
    ("BIL9920000101", "99200001012025", "9920/001012025", "account reference (positions 4-13) '9920/00101'"),
    ("PAYT25000001", "RCP", "RCX", "transaction type (positions 26-28): vendor code 'RCX'"),
    ("PAYT25000001", "RCP20250401+", "RCP20250401-", "a RCP transaction (payment) is recorded with a positive"),
    ("PAYT25000010", "RFD20250520-", "RFD20250520+", "a RFD transaction (refund) is recorded with a negative"),
    ("PAYT25000002", "+00000013590DD", "+00000013590  ", "payment method code (positions 49-50) is blank"),
])
def test_a_record_breaking_the_formats_rules_is_rejected_naming_the_field(tmp_path, start, old, new, reason):
    lines = good_lines()
    index = line_of(lines, start)
    assert old in lines[index] and len(new) == len(old)
    lines[index] = lines[index].replace(old, new, 1)
    outcomes = read(save(tmp_path, lines, retrail=True))
    (rejected,) = only(outcomes)
    assert reason in rejected.reason, rejected.reason
    assert rejected.position.line == index + 1
    assert len(outcomes) == 35


def test_a_bills_instalments_must_match_it(tmp_path):
    lines = good_lines()
    bill = line_of(lines, "BIL9920000101")
    wrong_count = lines[:bill + 1] + lines[bill + 2:]  # one instalment record missing
    (rejected,) = only(read(save(tmp_path, wrong_count, "count.txt", retrail=True)))
    assert "the bill gives 10 instalment(s)" in rejected.reason and "but 9 instalment record(s) follow it" in \
        rejected.reason
    swapped = list(lines)
    swapped[bill + 1], swapped[bill + 2] = swapped[bill + 2], swapped[bill + 1]
    (rejected,) = only(read(save(tmp_path, swapped, "order.txt")))
    assert f"the instalment record on line {bill + 2} is number 02; instalment 1 was expected" in rejected.reason
    other = list(lines)
    other[bill + 3] = other[bill + 3].replace("9920000101", "9920000199")
    (rejected,) = only(read(save(tmp_path, other, "other.txt")))
    assert "belongs to account 9920000199" in rejected.reason
    broken = list(lines)
    broken[bill + 4] = broken[bill + 4][:21] + "20250631" + broken[bill + 4][29:]
    (rejected,) = only(read(save(tmp_path, broken, "date.txt")))
    assert rejected.reason.startswith(f"the instalment record on line {bill + 5}: due date (positions 22-29)")


def test_an_instalment_without_its_bill_and_an_unknown_record_type_are_rejected(tmp_path):
    lines = good_lines()
    orphan = lines[line_of(lines, "INS9920000101")]
    lines.insert(line_of(lines, "PAY") + 1, orphan)
    lines.insert(1, "XYZ" + " " * 20)
    outcomes = read(save(tmp_path, lines, retrail=True))
    rejected = only(outcomes)
    assert len(rejected) == 2 and len(outcomes) == 37
    assert "record type 'XYZ' is not one of this extract's" in rejected[0].reason
    assert "an instalment record with no bill before it" in rejected[1].reason
    assert rejected[1].native == orphan
    exempt = next(o for o in outcomes if o.native[0].startswith("BIL9920000104"))
    assert isinstance(exempt, Converted) and exempt.native == [exempt.native[0]]  # no instalment records


def test_a_thirteenth_instalment_record_is_not_buffered_into_the_bill(tmp_path):
    lines = good_lines()
    bill = line_of(lines, "BIL9920000102")
    last = lines[bill + 12]
    lines.insert(bill + 13, last[:19] + "13" + last[21:])
    lines[bill] = lines[bill][:118] + "13" + lines[bill][120:]
    outcomes = read(save(tmp_path, lines, retrail=True))
    rejected = only(outcomes)
    assert "the bill gives 13 instalment(s)" in rejected[0].reason and "but 12" in rejected[0].reason
    assert "an instalment record with no bill before it" in rejected[1].reason


def test_codes_that_share_a_value_are_kept_and_written_back(tmp_path):
    lines = good_lines()
    index = line_of(lines, "ACC9920000104")
    lines[index] = lines[index].replace("N 20250901", "F220250901")
    discount = line_of(lines, "ACC9920000101")
    lines[discount] = lines[discount].replace("SPD02500", "DST02500")
    path = save(tmp_path, lines)
    messages = [m for o in read(path) for m in o.messages]
    estate = data_of(messages, "E07000992-cta-9920000104")
    assert estate["exemption"]["exemption_class"] == "F"
    assert estate["extensions"] == {NS: {"exemption_class": "F2"}}
    student = data_of(messages, "E07000992-cta-9920000101")
    assert student["discounts"][0]["discount_type"] == "status_disregard"
    assert student["extensions"] == {NS: {"discount_1_code": "DST"}}
    assert data_of(messages, "E07000992-cta-9920000108")["extensions"] == {NS: {"payment_method": "CC"}}
    assert data_of(messages, "E07000992-ctpay-T25000004")["extensions"] == {NS: {"method": "CC", "batch": "004102"}}
    _, written = write(messages, tmp_path / "back.txt")
    assert written == path.read_bytes()
    changed = copy.deepcopy(messages)
    data_of(changed, "E07000992-cta-9920000104")["exemption"]["exemption_class"] = "E"  # the kept F2 no longer fits
    _, written = write(changed, tmp_path / "changed.txt")
    assert written.decode().split("\r\n")[index][260:270] == "E 20250901"


def test_unmapped_native_fields_are_kept_in_extensions_and_restored(tmp_path):
    messages = canonical()
    flat = data_of(messages, "E07000992-ctp-P000101")
    assert flat["extensions"][NS] == {"property_type": "FL", "ward": "AW01"}
    flat["extensions"][NS]["ward"] = "AW09"
    _, written = write(messages, tmp_path / "out.txt")
    line = written.decode().split("\r\n")[1]
    assert line[213:219] == "FLAW09"
    flat["extensions"][NS]["colour"] = "blue"
    outcomes, _ = write(messages, tmp_path / "out2.txt")
    (rejected,) = only(outcomes)
    assert "extensions native.ctax-fixed holds colour, which the extract's PRP record has no field for" in \
        rejected.reason


# --- whole-file problems ------------------------------------------------------------------------


def test_the_trailer_is_checked_before_any_record_is_converted(tmp_path):
    lines = good_lines()
    lines[-1] = lines[-1][:31] + "0000012" + lines[-1][38:]
    outcomes = CtaxFixedAdapter(READ).read(str(save(tmp_path, lines)))
    with pytest.raises(AdapterError, match=r"line 108: the trailer says payment records 12 but the file has 11"):
        next(outcomes)


def test_a_hash_total_that_differs_names_the_difference(tmp_path):
    lines = good_lines()
    pay = line_of(lines, "PAYT25000005")
    lines[pay] = lines[pay][:36] + "+00000008392" + lines[pay][48:]
    with pytest.raises(AdapterError, match=r"payments net total 2156\.27 but the records total 2156\.28 \(a "
                                           r"difference of 0\.01\)"):
        read(save(tmp_path, lines))
    lines.pop(line_of(lines, "INS9920000101"))
    with pytest.raises(AdapterError, match=r"instalment records 71 but the file has 70.*records in the file 108 but "
                                           r"the file has 107"):
        read(save(tmp_path, lines))


@pytest.mark.parametrize("edit, message", [
    (lambda lines: lines[:-1], "ends without its TRL trailer record"),
    (lambda lines: lines + ["PAY"], "line 109: more follows the TRL trailer on line 108"),
    (lambda lines: lines[1:], "expected the HDR header record, found 'PRP'"),
    (lambda lines: [lines[0][:25] + "CT02"] + lines[1:],
     r"gives layout 'CT02' \(layout version \(positions 26-29\)\); this adapter reads layout CT03"),
    (lambda lines: [lines[0] + " "] + lines[1:], "the header is 30 characters; it is 29"),
    (lambda lines: [lines[0][:7] + "20250931" + lines[0][15:]] + lines[1:], "extract date .* is not a date"),
    (lambda lines: [lines[0][:15] + "251500" + lines[0][21:]] + lines[1:], "extract time .* is not a time HHMMSS"),
    (lambda lines: lines[:5] + [lines[0]] + lines[5:], "line 6: a second HDR header"),
    (lambda lines: lines[:-1] + [lines[-1][:-1]], "the trailer is 90 characters; it is 91"),
])
def test_broken_headers_and_trailers_are_adapter_errors(tmp_path, edit, message):
    with pytest.raises(AdapterError, match=message):
        read(save(tmp_path, edit(good_lines())))


def test_missing_empty_standard_input_and_another_authoritys_files(tmp_path):
    with pytest.raises(AdapterError, match="cannot be read"):
        read(tmp_path / "nowhere.txt")
    (tmp_path / "empty.txt").write_text("\r\n")
    with pytest.raises(AdapterError, match="the file is empty"):
        read(tmp_path / "empty.txt")
    with pytest.raises(AdapterError, match="not standard input"):
        read("-")
    with pytest.raises(AdapterError, match="billing authority 9912's, not 9911's"):
        read(GOOD, billing_authority="9911")
    assert len(read(GOOD, billing_authority="9912")) == 35
    with pytest.raises(AdapterError, match="not in England, Wales or Scotland"):
        read(GOOD, council="N09000001")


def test_lf_line_ends_and_the_as_at_option_are_read(tmp_path):
    path = tmp_path / "lf.txt"
    path.write_text("\n".join(good_lines()) + "\n")
    outcomes = read(path, as_at="2025-10-01T06:00:00Z")
    assert len(outcomes) == 35 and {m["time"] for o in outcomes for m in o.messages} == {"2025-10-01T06:00:00Z"}


# --- writing ----------------------------------------------------------------------------------


def test_messages_the_extract_cannot_hold_are_rejected_with_reasons(tmp_path):
    messages = canonical()
    by_subject = {m["subject"]: m for m in messages}
    foreign = copy.deepcopy(by_subject["E07000992-ctp-P000101"])
    foreign["data"]["id"] = foreign["subject"] = "E07000992-prop00001"
    other_council = copy.deepcopy(by_subject["E07000992-ctp-P000102"])
    other_council["council"] = "E07000991"
    deletion = {k: v for k, v in by_subject["E07000992-ctp-P000103"].items() if k != "data"} | {"action": "delete"}
    crowded = copy.deepcopy(by_subject["E07000992-cta-9920000102"])
    third = copy.deepcopy(crowded["data"]["liable_parties"][0])
    third["party"]["name"]["given_name"] = "Yusuf"
    crowded["data"]["liable_parties"].append(third)
    long_name = copy.deepcopy(by_subject["E07000992-cta-9920000101"])
    long_name["data"]["liable_parties"][0]["party"]["name"]["given_name"] = "Niamh-Bethan-Morag-Ellen"
    accented = copy.deepcopy(by_subject["E07000992-cta-9920000103"])
    accented["data"]["liable_parties"][0]["party"]["name"]["family_name"] = "Pennöck"
    rates = copy.deepcopy(by_subject["E07000992-ctpay-T25000001"])
    rates["data"]["account_kind"] = "business_rates"
    fractional = copy.deepcopy(by_subject["E07000992-cta-9920000101"])
    fractional["data"]["discounts"][0]["percent"] = "33.333"
    other_dates = copy.deepcopy(by_subject["E07000992-cta-9920000108"])
    other_dates["data"]["liable_parties"][1]["liable_from"] = "2012-01-01"
    person = copy.deepcopy(next(m for m in messages if m["type"].endswith("property")))
    person["type"] = "uk.plugshare.hr.person"
    batch = [foreign, other_council, deletion, crowded, long_name, accented, rates, fractional, other_dates, person]
    outcomes, _ = write(batch, tmp_path / "out.txt")
    reasons = [o.reason for o in outcomes]
    assert all(isinstance(o, Rejected) for o in outcomes)
    assert "'E07000992-prop00001' is not an id this extract's references make (E07000992-ctp-<reference>)" in \
        reasons[0]
    assert "the message is council E07000991's; this extract is E07000992's" in reasons[1]
    assert "deletion cannot be written" in reasons[2]
    assert "3 liable parties; the extract holds two" in reasons[3]
    assert "party 1 forename (positions 52-71): 'Niamh-Bethan-Morag-Ellen' is 24 characters; the field holds 20" \
        in reasons[4]
    assert "character 'ö' is not printable ASCII" in reasons[5]
    assert "a business_rates payment has no place" in reasons[6]
    assert "33.333% has more than the two decimal places" in reasons[7]
    assert "liable party 2 is liable from 2012-01-01" in reasons[8]
    assert "hr.person message has no place in a council tax extract" in reasons[9]


@pytest.mark.parametrize("percent, expected", [
    ("abc", "discount 1 percent 'abc' is not a percent such as 25 or 12.5"),
    ("Infinity", "discount 1 percent 'Infinity' is not a percent such as 25 or 12.5"),
    ("NaN", "discount 1 percent 'NaN' is not a percent such as 25 or 12.5"),
    ("1e2", "discount 1 percent '1e2' is not a percent such as 25 or 12.5"),
    ("-25", "discount 1 percent '-25' is not a percent such as 25 or 12.5"),
    (25, "discount 1 percent 25 is not a percent such as 25 or 12.5"),
])
def test_a_garbled_percent_is_rejected_and_the_rest_written(tmp_path, percent, expected):
    messages = canonical()
    garbled = next(m for m in messages if m["subject"] == "E07000992-cta-9920000101")
    garbled["data"]["discounts"][0]["percent"] = percent
    outcomes, written = write(messages, tmp_path / "out.txt")
    (rejected,) = only(outcomes)
    assert rejected.reason.startswith(expected), rejected.reason
    assert len(only(outcomes, Converted)) == len(messages) - 1 and written is not None


def test_a_message_that_skipped_validation_is_named_by_its_field_not_its_values(tmp_path):
    by_subject = {m["subject"]: m for m in canonical()}
    no_liability = copy.deepcopy(by_subject["E07000992-cta-9920000101"])
    del no_liability["data"]["liability"]
    parties = copy.deepcopy(by_subject["E07000992-cta-9920000102"])
    parties["data"]["liable_parties"] = 19900101  # not a list
    outcomes, _ = write([no_liability, parties], tmp_path / "out.txt")
    reasons = [o.reason for o in only(outcomes)]
    assert reasons == ["the message lacks or garbles a field the extract needs (it has no liability); validate it "
                       "first",
                       "the message lacks or garbles a field the extract needs (a value of the wrong kind: "
                       "TypeError); validate it first"]


def converted_to_extract(messages: list[dict], tmp_path: Path):
    """The messages written through the conversion: its summary, and the outcomes the writer gave."""
    source = tmp_path / "messages.ndjson"
    source.write_text("".join(json.dumps(m) + "\n" for m in messages))
    outcomes = []

    class Recording(CtaxFixedAdapter):
        def write(self, messages, target):
            for outcome in super().write(messages, target):
                outcomes.append(outcome)
                yield outcome

    summary = convert(CanonicalSource(), str(source), Recording(WRITE), str(tmp_path / "extract.txt"))
    return summary, outcomes


def test_writing_the_canonical_sample_reports_nothing_lost(tmp_path):
    summary, outcomes = converted_to_extract(canonical(), tmp_path)
    assert (summary.written, summary.quarantined) == (35, 0)
    assert summary.not_written == {} and all(o.lost == [] for o in outcomes)
    assert (tmp_path / "extract.txt").read_bytes() == GOOD.read_bytes()


def test_values_the_extract_has_no_field_for_are_reported_not_dropped(tmp_path):
    messages = canonical()
    for message in messages:
        data = message["data"]
        if message["subject"] == "E07000992-cta-9920000101":
            party = data["liable_parties"][0]["party"]
            party["name"]["preferred_name"] = "Nia"
            party["birth_date"] = "1990-01-01"
            party["correspondence_address"] = {"paon": "2", "street": "Mill Lane", "town": "Ely", "country": "GB"}
            data["discounts"][0]["percent"] = "25.00"  # the same percent, written as 02500
        elif message["subject"] == "E07000992-ctp-P000101":
            data["source_ids"].append({"scheme": "llpg", "value": "LLPG-101"})
            data["address"]["administrative_area"] = "Fenshire"
        elif message["subject"] == "E07000992-ctpay-T25000001":
            data["reference"] = "9920000101 "  # the reader trims the space
    summary, outcomes = converted_to_extract(messages, tmp_path)
    assert (summary.written, summary.quarantined) == (35, 0)
    assert dict(summary.not_written) == {
        "revenues.council-tax-account /data/liable_parties/*/party/name/preferred_name": 1,
        "revenues.council-tax-account /data/liable_parties/*/party/birth_date": 1,
        "revenues.council-tax-account /data/liable_parties/*/party/correspondence_address": 1,
        "revenues.property /data/source_ids/*": 1, "revenues.property /data/address/administrative_area": 1,
        "revenues.payment /data/reference": 1}
    lost = {o.messages[0]["subject"]: sorted(o.lost) for o in outcomes if o.lost}
    assert lost == {
        "E07000992-cta-9920000101": ["/data/liable_parties/0/party/birth_date",
                                     "/data/liable_parties/0/party/correspondence_address",
                                     "/data/liable_parties/0/party/name/preferred_name"],
        "E07000992-ctp-P000101": ["/data/address/administrative_area", "/data/source_ids/1"],
        "E07000992-ctpay-T25000001": ["/data/reference"]}
    assert (tmp_path / "extract.txt").read_bytes() == GOOD.read_bytes()  # the extract is as before


def test_an_empty_extract_is_a_header_and_a_zero_trailer(tmp_path):
    outcomes, written = write([], tmp_path / "empty.txt", as_at="2025-10-01T01:30:00Z", financial_year="2025-26")
    assert outcomes == []
    assert written == (b"HDR9912202510010130002025CT03\r\nTRL" + b"0" * 35 + b"00000002"
                       + (b"+" + b"0" * 14) * 3 + b"\r\n")
    assert read(tmp_path / "empty.txt") == []


def test_writing_needs_the_billing_authority(tmp_path):
    with pytest.raises(AdapterError, match="--option billing_authority=NNNN"):
        list(CtaxFixedAdapter(READ).write(canonical(), str(tmp_path / "out.txt")))
    with pytest.raises(AdapterError, match="must be the 4-digit billing authority code"):
        write(canonical(), tmp_path / "out.txt", billing_authority="99123")
    with pytest.raises(AdapterError, match="is not a financial year such as 2025-26"):
        write(canonical(), tmp_path / "out.txt", financial_year="2025")


def test_writing_streams_and_leaves_no_partial_file_when_stopped(tmp_path):
    template = canonical()[0]
    pulled = []

    def messages():
        for number in range(1, 1_000_000):
            pulled.append(number)
            message = copy.deepcopy(template)
            message["data"]["id"] = message["subject"] = f"E07000992-ctp-Q{number:08d}"
            yield message

    outcomes = CtaxFixedAdapter(WRITE).write(messages(), str(tmp_path / "out.txt"))
    first = [next(outcomes) for _ in range(5)]
    assert all(isinstance(o, Converted) for o in first) and len(pulled) == 5
    outcomes.close()
    assert list(tmp_path.iterdir()) == []


# --- round trips of generated records --------------------------------------------------------------

TEXT = st.text(alphabet=string.ascii_letters + string.digits + " '-&.,/", min_size=1, max_size=20) \
    .map(str.strip).filter(bool)
REFERENCE = st.from_regex(r"[A-Z0-9]{1,10}", fullmatch=True)
DATE = st.dates(min_value=dt.date(1993, 4, 1), max_value=dt.date(2030, 3, 31)).map(lambda d: d.isoformat())
PENCE = st.integers(min_value=0, max_value=10 ** 9)


def money(pence: int) -> str:
    return f"{pence // 100}.{pence % 100:02d}"


@st.composite
def properties(draw):
    reference = draw(REFERENCE)
    address = {name: draw(TEXT) for name in ("saon", "paon", "street", "locality", "town") if draw(st.booleans())}
    address.update(postcode=draw(st.sampled_from(["CB21 4RT", "CB1 2AB", "CB22 7QS"])), country="GB",
                   uprn=draw(st.integers(min_value=1, max_value=999_999_999_999)))
    record = {"id": f"E07000992-ctp-{reference}", "source_ids": [{"scheme": "ctax-fixed", "value": reference}],
              "extensions": {}, "address": address, "nation": "england", "domestic": True}
    if draw(st.booleans()):
        record["council_tax"] = {"valuation_list": "england-1991", "band": draw(st.sampled_from("ABCDEFGH"))}
    if draw(st.booleans()):
        record["extensions"] = {NS: {"property_type": draw(st.sampled_from(["FL", "TE", "DE"]))}}
    return "revenues.property", record


@st.composite
def accounts(draw):
    reference = draw(REFERENCE)
    start = draw(DATE)
    parties = []
    for _ in range(draw(st.integers(min_value=1, max_value=2))):
        if draw(st.booleans()):
            party = {"organisation_name": draw(TEXT)}
        else:
            party = {"name": {"given_name": draw(TEXT), "family_name": draw(TEXT)}}
            if draw(st.booleans()):
                party["name"]["middle_names"] = draw(TEXT)
        parties.append({"party": party, "role": draw(st.sampled_from(["tenant", "joint", "owner_occupier"])),
                        "liable_from": start})
    discounts = [{"discount_type": draw(st.sampled_from(["single_person", "status_disregard", "local"])),
                  "percent": draw(st.sampled_from(["25", "50", "12.5", "100"])), "period": {"start": draw(DATE)}}
                 for _ in range(draw(st.integers(min_value=0, max_value=2)))]
    record = {"id": f"E07000992-cta-{reference}", "source_ids": [{"scheme": "ctax-fixed", "value": reference}],
              "extensions": {}, "account_reference": reference, "property_id": f"E07000992-ctp-{draw(REFERENCE)}",
              "status": draw(st.sampled_from(["open", "closed"])), "liability": {"start": start},
              "liable_parties": parties, "discounts": discounts,
              "payment_method": draw(st.sampled_from(["direct_debit", "card", "cash"]))}
    requested = draw(st.sampled_from([10, 12, None]))
    if requested:
        record["instalments_requested"] = requested
    return "revenues.council-tax-account", record


@st.composite
def bills(draw):
    reference, year = draw(REFERENCE), draw(st.integers(min_value=1993, max_value=2030))
    label = f"{year}-{(year + 1) % 100:02d}"
    amounts = draw(st.lists(PENCE, max_size=12))
    record = {"id": f"E07000992-ctb-{reference}-{label}-01", "source_ids": [{"scheme": "ctax-fixed",
                                                                             "value": f"{reference}/{year}/01"}],
              "extensions": {}, "account_id": f"E07000992-cta-{reference}", "financial_year": label,
              "issue_date": draw(DATE), "period": {"start": draw(DATE), "end": draw(DATE)},
              "valuation_list": "england-1991", "band": draw(st.sampled_from("ABCDEFGH")),
              "band_d_charge": money(draw(PENCE)), "discount_percent": "0", "premium_percent": "0", "exempt": False,
              "annual_charge": money(draw(PENCE)), "period_charge": money(draw(PENCE)), "reduction": "0.00",
              "amount_payable": money(sum(amounts)),
              "instalments": [{"due_date": draw(DATE), "amount": money(a)} for a in amounts]}
    return "revenues.council-tax-bill", record


@st.composite
def payments(draw):
    reference = draw(REFERENCE)
    kind = draw(st.sampled_from(["payment", "refund", "reversal"]))
    record = {"id": f"E07000992-ctpay-{reference}", "source_ids": [{"scheme": "ctax-fixed", "value": reference}],
              "extensions": {}, "account_kind": "council_tax", "account_id": f"E07000992-cta-{draw(REFERENCE)}",
              "payment_type": kind, "amount": money(draw(PENCE) + 1), "received_date": draw(DATE),
              "method": draw(st.sampled_from(["direct_debit", "cheque", "paypoint"]))}
    if kind == "reversal":
        record["reverses_payment_id"] = f"E07000992-ctpay-{draw(REFERENCE)}"
    return "revenues.payment", record


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=st.lists(st.one_of(properties(), accounts(), bills(), payments()), min_size=1, max_size=8))
def test_generated_records_round_trip_through_the_extract(tmp_path, records):
    adapter = CtaxFixedAdapter({**WRITE, "as_at": "2025-09-30T02:15:00Z"})
    messages = [adapter.message(kind, record) for kind, record in records]
    first = tmp_path / "first.txt"
    first.unlink(missing_ok=True)
    outcomes, written = write(messages, first, as_at="2025-09-30T02:15:00Z")
    assert all(isinstance(o, Converted) for o in outcomes), [o.reason for o in outcomes if isinstance(o, Rejected)]
    lines = written.decode("ascii").split("\r\n")[:-1]
    assert lines[-1] == trailer(lines)
    read_back = [m for o in read(first) for m in o.messages]
    assert [m["data"] for m in read_back] == [record for _, record in records]
    second = tmp_path / "second.txt"
    second.unlink(missing_ok=True)
    _, again = write(read_back, second)
    assert again == written


# --- memory ---------------------------------------------------------------------------------------


def test_reading_a_large_extract_keeps_memory_flat(tmp_path):
    lines = good_lines()
    prp, pay = lines[1], lines[line_of(lines, "PAYT25000001")]
    records = 25_000
    path = tmp_path / "large.txt"
    with path.open("w", encoding="ascii", newline="") as out:
        out.write(lines[0] + "\r\n")
        for number in range(records):  # 50,000 records, about 8 MB, written as generated
            out.write(f"PRPQ{number:09d}{prp[13:]}\r\n")
            out.write(f"PAYT{number:011d}{pay[15:]}\r\n")
        total = int(pay[36:48]) * records
        out.write(f"TRL{records:07d}{0:07d}{0:07d}{0:07d}{records:07d}{2 * records + 2:08d}+{0:014d}+{0:014d}"
                  f"+{total:014d}\r\n")
    tracemalloc.start()
    try:
        count = 0
        for outcome in CtaxFixedAdapter(READ).read(str(path)):
            assert isinstance(outcome, Converted)
            count += 1
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == 2 * records
    assert peak < 2_000_000, f"peak {peak} bytes: records are being held"  # the messages alone would be ~100 MB
