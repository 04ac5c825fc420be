"""The bacs18 adapter: Standard 18 Direct Credit files written from payslips and read back as bank accounts."""

import copy
import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plugshare.adapters.bacs18 import Bacs18Adapter
from plugshare.adapters.bacs18.layout import utl1
from plugshare.adapters.contract import AdapterError, Converted, Rejected
from plugshare.conversion import CanonicalSource, Quarantine, convert
from plugshare.plugins import make_host
from plugshare.validation.validator import MessageValidator

SAMPLES = Path(__file__).resolve().parents[1] / "src" / "plugshare" / "adapters" / "samples" / "bacs18"
GOOD, BAD, CANONICAL = SAMPLES / "payroll-2025-09.txt", SAMPLES / "bad-account-number.txt", \
    SAMPLES / "canonical-payroll.ndjson"
WRITE = {"council": "E07000991", "as_at": "2025-09-22T17:00:00Z", "originator_sort_code": "089900",
         "originator_account": "10000991", "sun": "991001", "user_name": "Fenmoor DC Payroll",
         "processing_date": "2025-09-24"}
READ = {"council": "E07000991", "as_at": "2025-09-30T17:00:00Z"}
VALIDATOR = MessageValidator()


def canonical() -> list[dict]:
    return [json.loads(line) for line in CANONICAL.read_text().splitlines()]


def good_lines() -> list[str]:
    return GOOD.read_bytes().decode("ascii").split("\r\n")


def write(messages, path, **options):
    outcomes = list(Bacs18Adapter({**WRITE, **options}).write(messages, str(path)))
    return outcomes, (path.read_bytes().decode("ascii").split("\r\n")[:-1] if path.exists() else None)


def read(path, **options):
    return list(Bacs18Adapter({**READ, **options}).read(str(path)))


def must_problems(message):
    return [p for p in VALIDATOR.check(message)[1] if p.level == "MUST"]


def bank_account(number: int, name: str = "KOFI JESSOP", account: str = "65905026", **extra) -> dict:
    data = {"id": f"E07000991-ba{number:05d}", "source_ids": [], "extensions": {},
            "person_id": f"E07000991-p{number:05d}", "account_name": name, "sort_code": "089833",
            "account_number": account, "effective_from": "2014-02-01", **extra}
    return Bacs18Adapter(READ).message("payroll.bank-account", data)


def payslip(number: int, net_pay: str = "3481.16", payment_date: str = "2025-09-25", **extra) -> dict:
    message = copy.deepcopy(next(m for m in canonical() if m["type"].endswith("payslip")))
    fields = {"id": f"E07000991-slip-{number:05d}", "person_id": f"E07000991-p{number:05d}",
              "payroll_id": f"{number:06d}", "net_pay": net_pay, "payment_date": payment_date}
    message["data"].update({**fields, **extra})
    return message


def rejections(outcomes):
    return [o.reason for o in outcomes if isinstance(o, Rejected)]


# --- samples ----------------------------------------------------------------------


def test_the_adapter_is_a_builtin_plugin():
    assert make_host(load_entry_points=False).adapter("bacs18") is Bacs18Adapter


def test_the_canonical_sample_is_valid_and_writes_the_good_sample_byte_for_byte(tmp_path):
    messages = canonical()
    assert {m["type"] for m in messages} == {"uk.plugshare.payroll.bank-account", "uk.plugshare.payroll.payslip"}
    assert all(not must_problems(m) for m in messages)
    outcomes, _ = write(messages, tmp_path / "out.txt")
    assert all(isinstance(o, Converted) for o in outcomes)
    assert [o.position.record for o in outcomes] == list(range(1, len(messages) + 1))
    assert (tmp_path / "out.txt").read_bytes() == GOOD.read_bytes()


def test_a_reference_gives_the_person_id_rti_fps_gives_its_payroll_id(tmp_path):
    """Spaces, / and & are escaped, never replaced, so that the id is the FPS PayId's and no other reference's."""
    from plugshare.adapters.rti_fps import RtiFpsAdapter

    outcomes, _ = write([bank_account(1), payslip(1, payroll_id="AB 12/3&4.5-6")], tmp_path / "out.txt")
    assert all(isinstance(o, Converted) for o in outcomes)
    (account,) = [o.messages[0]["data"] for o in read(tmp_path / "out.txt")]
    assert account["person_id"] == "E07000991-payroll-AB_2012_2F3_264.5-6"
    fps = Path(__file__).resolve().parents[1] / "src" / "plugshare" / "adapters" / "samples" / "rti-fps"
    text = (fps / "fps-2025-09.xml").read_text().replace("<PayId>000101</PayId>", "<PayId>AB 12/3&amp;4.5-6</PayId>")
    (tmp_path / "fps.xml").write_text(text)
    person = next(iter(RtiFpsAdapter(READ).read(str(tmp_path / "fps.xml")))).messages[0]["data"]
    assert person["id"] == account["person_id"]


def test_the_good_sample_reads_into_valid_bank_accounts():
    outcomes = read(GOOD)
    assert len(outcomes) == 5 and all(isinstance(o, Converted) for o in outcomes)
    assert [o.position.line for o in outcomes] == [5, 6, 7, 8, 9]
    for outcome in outcomes:
        (message,) = outcome.messages
        assert message["type"] == "uk.plugshare.payroll.bank-account"
        assert VALIDATOR.check(message)[1] == []
    first = outcomes[0].messages[0]["data"]
    assert first["account_name"] == "KOFI JESSOP" and first["sort_code"] == "089833"
    assert first["person_id"] == "E07000991-payroll-000001" and first["effective_from"] == "2025-09-24"
    assert first["source_ids"] == [{"scheme": "bacs18", "value": "000001"}]
    assert "65905026" not in first["id"]
    assert first["extensions"]["native.bacs18"]["amount"] == "3481.16"


def test_the_bad_sample_has_exactly_one_rejection_with_a_readable_masked_reason():
    outcomes = read(BAD)
    rejected = [o for o in outcomes if isinstance(o, Rejected)]
    assert len(outcomes) == 5 and len(rejected) == 1
    (bad,) = rejected
    assert bad.position.line == 7 and bad.position.record == 3
    assert bad.native == BAD.read_text().splitlines()[6]
    assert "destination account number" in bad.reason and "8 digits" in bad.reason
    assert "770790O8" not in bad.reason and "ending O8" in bad.reason
    assert all(not must_problems(m) for o in outcomes if isinstance(o, Converted) for m in o.messages)


# --- widths, character set, contra and trailer --------------------------------------


def test_labels_are_80_data_records_100_in_standard_order(tmp_path):
    _, lines = write(canonical(), tmp_path / "out.txt")
    assert [line[:4] for line in lines[:4]] == ["VOL1", "HDR1", "HDR2", "UHL1"]
    assert [line[:4] for line in lines[-3:]] == ["EOF1", "EOF2", "UTL1"]
    assert all(len(line) == 80 for line in lines[:4] + lines[-3:])
    assert all(len(line) == 100 for line in lines[4:-3])
    assert lines[3][4:10] == " 25267"  # 24 September 2025 is day 267
    assert lines[1][5:11] == "991001" and lines[0][41:47] == "991001"
    credit = lines[4]
    assert credit[14] == "0" and credit[15:17] == "99" and credit[17:31] == "08990010000991"
    assert credit[35:46] == "00000348116" and credit[46:64] == "FENMOOR DC PAYROLL"
    assert credit[64:82] == "000001".ljust(18) and credit[82:100] == "KOFI JESSOP".ljust(18)


def test_the_contra_balances_the_credits_and_the_trailer_counts_them(tmp_path):
    _, lines = write(canonical(), tmp_path / "out.txt")
    credits, contra, utl1 = lines[4:-4], lines[-4], lines[-1]
    total = sum(int(line[35:46]) for line in credits)
    assert contra[15:17] == "17" and contra[64:82].strip() == "CONTRA"
    assert contra[0:14] == contra[17:31] == "08990010000991"
    assert int(contra[35:46]) == total == 1505389
    assert (int(utl1[4:17]), int(utl1[17:30]), int(utl1[30:37]), int(utl1[37:44])) == (total, total, 1, 5)
    assert lines[-3][4:] == lines[1][4:] and lines[-2][4:] == lines[2][4:]


def test_a_contra_that_would_pass_11_digits_closes_a_section(tmp_path):
    messages = [bank_account(1), bank_account(2, account="12345678"),
                payslip(1, net_pay="600000000.00"), payslip(2, net_pay="600000000.00")]
    outcomes, lines = write(messages, tmp_path / "big.txt")
    assert all(isinstance(o, Converted) for o in outcomes)
    contras = [line for line in lines if line[64:70] == "CONTRA"]
    assert [int(c[35:46]) for c in contras] == [60000000000, 60000000000]
    assert lines[-1][4:44] == "0120000000000" + "0120000000000" + "0000002" + "0000002"
    assert [o.messages[0]["data"]["extensions"]["native.bacs18"]["amount"] for o in read(tmp_path / "big.txt")] \
        == ["600000000.00", "600000000.00"]


def test_lower_case_is_converted_and_other_characters_are_rejected_by_name(tmp_path):
    messages = [bank_account(1, name="kofi jessop-smith & co."), payslip(1),
                bank_account(2, name="Siobhán O'Brien"), payslip(2)]
    outcomes, lines = write(messages, tmp_path / "out.txt")
    assert lines[4][82:100] == "KOFI JESSOP-SMITH "
    reasons = rejections(outcomes)
    assert len(reasons) == 2
    assert "'á'" in reasons[0] and "BACS character set" in reasons[0]
    assert "E07000991-p00002" in reasons[1] and "refused" in reasons[1]


def test_reading_converts_lower_case_and_names_a_character_outside_the_set(tmp_path):
    lines = good_lines()
    lines[4] = lines[4][:82] + "kofi jessop".ljust(18)
    lines[5] = lines[5][:82] + "KOFI RUDDÉ".ljust(18)
    path = tmp_path / "edited.txt"
    path.write_text("\r\n".join(lines))
    outcomes = read(path)
    assert outcomes[0].messages[0]["data"]["account_name"] == "KOFI JESSOP"
    assert isinstance(outcomes[1], Rejected) and "'É'" in outcomes[1].reason
    assert "destination account name (positions 83-100)" in outcomes[1].reason


def test_a_byte_that_is_not_utf8_is_named_not_dropped(tmp_path):
    data = GOOD.read_bytes().replace(b"KOFI RUDD ", b"KOFI RUDD\xe9")
    path = tmp_path / "latin1.txt"
    path.write_bytes(data)
    outcomes = read(path)
    assert isinstance(outcomes[1], Rejected) and "byte 0xE9" in outcomes[1].reason


def test_a_record_of_the_wrong_width_is_rejected_with_its_line(tmp_path):
    lines = good_lines()
    lines[6] = lines[6].rstrip()  # an editor trimmed the padding: the amount is still there, so it balances
    path = tmp_path / "trimmed.txt"
    path.write_text("\r\n".join(lines))
    outcomes = read(path)
    assert isinstance(outcomes[2], Rejected) and "is 95 characters" in outcomes[2].reason
    assert outcomes[2].native == lines[6] and outcomes[2].position.line == 7


def test_a_direct_debit_record_is_rejected_with_its_code(tmp_path):
    lines = good_lines()
    lines.insert(9, lines[4][:15] + "01" + lines[4][17:])  # a debit: not balanced by the debit contra
    lines[13] = utl1(debit_total=1505389 + 348116, credit_total=1505389, debit_count=2, credit_count=5)
    path = tmp_path / "dd.txt"
    path.write_text("\r\n".join(lines))
    outcomes = read(path)
    assert [type(o) for o in outcomes] == [Converted] * 5 + [Rejected]
    assert "transaction code 01 is a first direct debit" in outcomes[5].reason


def test_a_multi_day_file_gives_each_payment_its_own_processing_day(tmp_path):
    lines = good_lines()
    lines[2] = lines[2][:10] + "00106" + lines[2][15:]
    lines[3] = lines[3][:28] + "4 MULTI  " + lines[3][37:]
    for index in range(4, 10):
        lines[index] += " 25268"  # 25 September 2025
    path = tmp_path / "multi.txt"
    path.write_text("\r\n".join(lines))
    outcomes = read(path)
    assert len(outcomes) == 5 and all(isinstance(o, Converted) for o in outcomes)
    assert {o.messages[0]["data"]["effective_from"] for o in outcomes} == {"2025-09-25"}


def test_through_the_pipeline_the_bad_record_is_quarantined_and_the_good_sample_rewritten(tmp_path):
    quarantine_path = tmp_path / "quarantine.ndjson"
    with quarantine_path.open("w") as stream:
        summary = convert(Bacs18Adapter(READ), str(BAD), None, str(tmp_path / "out.ndjson"), Quarantine(stream))
    assert (summary.read, summary.converted, summary.quarantined) == (5, 4, 1)
    (entry,) = [json.loads(line) for line in quarantine_path.read_text().splitlines()]
    assert entry["line"] == 7 and entry["stage"] == "read"
    summary = convert(CanonicalSource(), str(CANONICAL), Bacs18Adapter(WRITE), str(tmp_path / "again.txt"))
    assert (summary.converted, summary.written, summary.quarantined) == (10, 10, 0)
    assert (tmp_path / "again.txt").read_bytes() == GOOD.read_bytes()


# --- what a payment file does not carry -------------------------------------------------


def converted_to_bacs(messages: list[dict], tmp_path: Path):
    """The messages written through the conversion: its summary, and the outcomes the writer gave."""
    source = tmp_path / "messages.ndjson"
    source.write_text("".join(json.dumps(m) + "\n" for m in messages))
    outcomes = []

    class Recording(Bacs18Adapter):
        def write(self, messages, target):
            for outcome in super().write(messages, target):
                outcomes.append(outcome)
                yield outcome

    summary = convert(CanonicalSource(), str(source), Recording(WRITE), str(tmp_path / "out.txt"))
    return summary, outcomes


def test_writing_the_canonical_sample_reports_nothing_lost(tmp_path):
    summary, outcomes = converted_to_bacs(canonical(), tmp_path)
    assert (summary.written, summary.quarantined) == (10, 0)
    assert summary.not_written == {} and all(o.lost == [] for o in outcomes)
    assert (tmp_path / "out.txt").read_bytes() == GOOD.read_bytes()


def test_what_the_payments_cannot_carry_of_a_bank_account_is_reported(tmp_path):
    messages = canonical()
    accounts = {m["data"]["person_id"]: m["data"] for m in messages if m["type"].endswith("bank-account")}
    first, second, third = (accounts[f"E07000991-p0000{n}"] for n in (1, 2, 3))
    first.update(account_name="Kofi Jessop-Abercrombie", source_ids=[{"scheme": "payroll", "value": "000001"}],
                 extensions={"native.bacs18": {"amount": "3481.16", "user_name": "FENMOOR DC PAYROLL"}})
    second["building_society_roll_number"] = "roll 12/34"  # written upper case, as the reference
    third["source_ids"] = [{"scheme": "bacs18", "value": "000003"}]  # the reference the payment carries
    summary, outcomes = converted_to_bacs(messages, tmp_path)
    assert (summary.written, summary.quarantined) == (10, 0)
    assert dict(summary.not_written) == {
        "payroll.bank-account /data/account_name": 1, "payroll.bank-account /data/source_ids/*": 1,
        "payroll.bank-account /data/extensions/native.bacs18/amount": 1,
        "payroll.bank-account /data/extensions/native.bacs18/user_name": 1,
        "payroll.bank-account /data/building_society_roll_number": 1}
    lost = {o.messages[0]["data"]["id"]: o.lost for o in outcomes if o.lost}
    assert lost == {first["id"]: ["/data/account_name", "/data/source_ids/0", "/data/extensions/native.bacs18/amount",
                                  "/data/extensions/native.bacs18/user_name"],
                    second["id"]: ["/data/building_society_roll_number"]}
    # payslips: the payment is made from them; they are not records of the file, and nothing is declared
    assert all(o.lost == [] for o in outcomes if o.messages[0]["type"].endswith("payslip"))
    lines = (tmp_path / "out.txt").read_text().splitlines()
    assert lines[4][82:100] == "KOFI JESSOP-ABERCR" and lines[5][64:82] == "ROLL 12/34".ljust(18)


# --- whole-file problems ----------------------------------------------------------


def edited(tmp_path, line: int, text: str) -> Path:
    lines = good_lines()
    lines[line] = text
    path = tmp_path / "edited.txt"
    path.write_text("\r\n".join(lines))
    return path


def test_a_contra_that_does_not_balance_names_the_difference(tmp_path):
    contra = good_lines()[9]
    path = edited(tmp_path, 9, contra[:35] + "00001505390" + contra[46:])
    with pytest.raises(AdapterError, match=r"line 10: the contra debits 15053.90 but the 5 payment\(s\) before it "
                                           r"total 15053.89.*a difference of 0.01"):
        read(path)


def test_trailer_totals_and_counts_are_checked(tmp_path):
    utl1 = good_lines()[12]
    path = edited(tmp_path, 12, utl1[:37] + "0000006" + utl1[44:])
    with pytest.raises(AdapterError, match="UTL1 says credit record count 6 but the records give 5"):
        read(path)


@pytest.mark.parametrize("line, text, message", [
    (1, "HDR1A991001S", "the HDR1 label is 12 characters; Standard 18 labels are 80"),
    (0, "destination_sort_code,account", "expected the VOL1 label"),
    (3, "UHL1 25400" + " " * 70, "names day 400 of 2025"),
    (2, "HDR2F0200000120" + " " * 65, "records of 120 characters"),
    (12, "", "ends before|expected the UTL1 label"),
])
def test_broken_labels_are_adapter_errors(tmp_path, line, text, message):
    with pytest.raises(AdapterError, match=message):
        read(edited(tmp_path, line, text))


def test_a_missing_or_empty_file_is_an_adapter_error(tmp_path):
    with pytest.raises(AdapterError, match="cannot be read"):
        read(tmp_path / "nowhere.txt")
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(AdapterError, match="ends before its VOL1"):
        read(tmp_path / "empty.txt")


def test_a_direct_debit_collection_file_is_refused(tmp_path):
    contra = good_lines()[9]
    with pytest.raises(AdapterError, match="Direct Debit collection file"):
        read(edited(tmp_path, 9, contra[:15] + "99" + contra[17:]))


# --- writing: reasons, options, streaming ------------------------------------------


def test_payslips_that_cannot_be_paid_are_rejected_with_reasons(tmp_path):
    messages = [
        bank_account(1), payslip(1),
        payslip(2),  # no bank account
        bank_account(3), payslip(3, net_pay="0.00"),
        bank_account(4, effective_to="2020-01-31"), payslip(4),
        bank_account(5), payslip(5, payment_date="2025-10-24"),
        bank_account(6), payslip(6, payroll_id="PAYROLL-NUMBER-000000006"),
        bank_account(7), bank_account(7, id="E07000991-ba00077"), payslip(7),
        {**payslip(8), "action": "delete"},
    ]
    outcomes, lines = write(messages, tmp_path / "out.txt")
    reasons = rejections(outcomes)
    assert len(reasons) == 7 and len(lines) == 4 + 1 + 1 + 3
    assert "no bank account for person E07000991-p00002" in reasons[0]
    assert "net pay is 0.00" in reasons[1]
    assert "none of the 1 bank account(s)" in reasons[2] and "current on 2025-09-25" in reasons[2]
    assert "payment date 2025-10-24 differs from this file's 2025-09-25" in reasons[3]
    assert "longer than the 18 characters" in reasons[4]
    assert "two bank accounts current" in reasons[5]
    assert "deletion cannot be written" in reasons[6]


def test_no_reason_shows_a_full_account_number(tmp_path):
    messages = [bank_account(1, account="6590502X"), payslip(1), bank_account(2, account="12345678"),
                payslip(2, net_pay="-5.00"), bank_account(3), payslip(3)]
    outcomes, _ = write(messages, tmp_path / "out.txt")
    reasons = rejections(outcomes)
    assert reasons and not any("6590502" in r or "12345678" in r for r in reasons)
    with pytest.raises(AdapterError) as caught:
        write(canonical(), tmp_path / "x.txt", originator_account="1000099")
    assert "1000099" not in str(caught.value) and "originator_account" in str(caught.value)


def test_writing_needs_the_originator_options(tmp_path):
    with pytest.raises(AdapterError, match="--option sun=") as caught:
        list(Bacs18Adapter(READ).write(canonical(), str(tmp_path / "out.txt")))
    assert "--option originator_sort_code=" in str(caught.value)
    with pytest.raises(AdapterError, match="option sun must be"):
        write(canonical(), tmp_path / "out.txt", sun="99100")
    with pytest.raises(AdapterError, match="'_'"):
        write(canonical(), tmp_path / "out.txt", user_name="FENMOOR_PAYROLL")


def test_no_payment_means_no_file_and_an_adapter_error(tmp_path):
    target = tmp_path / "out.txt"
    adapter = Bacs18Adapter(WRITE)
    outcomes = adapter.write([bank_account(1), payslip(2)], str(target))
    assert isinstance(next(outcomes), Converted) and isinstance(next(outcomes), Rejected)
    with pytest.raises(AdapterError, match="no BACS file was made"):
        next(outcomes)
    assert list(tmp_path.iterdir()) == []


def test_writing_streams_and_leaves_no_partial_file_when_stopped(tmp_path):
    pulled = []

    def messages():
        for number in range(1, 100_000):
            pulled.append(number)
            yield bank_account(number, account=f"{number:08d}")
            yield payslip(number)

    outcomes = Bacs18Adapter(WRITE).write(messages(), str(tmp_path / "out.txt"))
    first = [next(outcomes) for _ in range(6)]
    assert all(isinstance(o, Converted) for o in first) and len(pulled) == 3
    outcomes.close()
    assert list(tmp_path.iterdir()) == []


# --- round trip ----------------------------------------------------------------

NAMES = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.&/- ", min_size=1,
                max_size=40).filter(lambda name: name.strip() != "")
PENCE = st.integers(min_value=1, max_value=10 ** 11 - 1)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(people=st.lists(st.tuples(NAMES, PENCE), min_size=1, max_size=6))
def test_bank_accounts_round_trip_through_bacs(tmp_path, people):
    messages = []
    for number, (name, pence) in enumerate(people, start=1):
        messages += [bank_account(number, name=name, account=f"{number * 7919:08d}"),
                     payslip(number, net_pay=f"{Decimal(pence).scaleb(-2):f}")]
    first = tmp_path / "first.txt"
    first.unlink(missing_ok=True)
    outcomes, lines = write(messages, first)
    assert all(isinstance(o, Converted) for o in outcomes)
    assert all(len(line) in (80, 100) for line in lines)
    read_back = [o.messages[0]["data"] for o in read(first)]
    assert len(read_back) == len(people)
    for number, ((name, pence), data) in enumerate(zip(people, read_back, strict=True), start=1):
        assert data["account_name"] == name.strip().upper()[:18].rstrip()
        assert (data["sort_code"], data["account_number"]) == ("089833", f"{number * 7919:08d}")
        assert data["extensions"]["native.bacs18"]["amount"] == f"{Decimal(pence).scaleb(-2):f}"

    # native -> canonical -> native -> canonical: the bank accounts read back, paid again, read the same
    again = []
    for data, (_, pence) in zip(read_back, people, strict=True):
        again.append(Bacs18Adapter(READ).message("payroll.bank-account", data))
        slip = payslip(0, net_pay=f"{Decimal(pence).scaleb(-2):f}")
        slip["data"].update(person_id=data["person_id"], payroll_id=data["source_ids"][0]["value"])
        again.append(slip)
    second = tmp_path / "second.txt"
    second.unlink(missing_ok=True)
    write(again, second)
    assert second.read_bytes() == first.read_bytes()
    assert [o.messages[0]["data"] for o in read(second)] == read_back
