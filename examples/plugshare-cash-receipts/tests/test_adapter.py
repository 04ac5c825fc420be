"""The cash-receipts adapter, tested with plugshare's pytest plugin (its fixtures need no import).

Run with ``pytest`` in this directory, installed (``pip install -e .[test]``) or not
(``PYTHONPATH=src pytest``).
"""

import csv
import datetime as dt
import json
from collections import Counter
from decimal import Decimal
from pathlib import Path

import plugshare.cli
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plugshare.adapters import AdapterError, Converted, Rejected
from plugshare.samples import run_sample, sample_conversions
from plugshare.testing import assert_registered, load_canonical

from plugshare_cash_receipts import plugin
from plugshare_cash_receipts.adapter import COLUMNS, METHODS, CashReceiptsAdapter

SAMPLES = Path(plugin.__file__).parent / "samples"
GOOD, BAD, CANONICAL = (SAMPLES / "receipts-2025-04-01.csv", SAMPLES / "bad-unknown-method.csv",
                        SAMPLES / "canonical-receipts.ndjson")
OPTIONS = {"council": "E07000991", "as_at": "2025-04-01T18:00:00Z"}
HEADER = ",".join(COLUMNS)


@pytest.fixture
def receipts(plugshare_adapter):
    return plugshare_adapter(CashReceiptsAdapter, **OPTIONS)


def csv_file(tmp_path, *rows: str, header: str = HEADER, name: str = "receipts.csv") -> Path:
    path = tmp_path / name
    path.write_bytes("".join(f"{line}\r\n" for line in (header, *rows)).encode())
    return path


def row(**fields: str) -> str:
    values = {"receipt_no": "R2504020001", "posted_date": "02/04/2025", "fund": "CTAX", "account_ref": "9910000001",
              "txn_type": "P", "amount": "170.14", "mop": "DD", "reversal_of": "", "channel": "BANK",
              "batch_no": "DD250402", "cashier": "SYSTEM", **fields}
    return ",".join(values[name] for name in COLUMNS)


def reason_of(receipts, tmp_path, **fields: str) -> str:
    (outcome,) = receipts.read(csv_file(tmp_path, row(**fields)))
    assert isinstance(outcome, Rejected), f"{fields} was converted"
    return outcome.reason


# --- registration and the samples ------------------------------------------------------


def test_the_plugin_registers_the_adapter_beside_the_builtins(plugshare_host):
    entry = assert_registered("cash-receipts", plugin)
    assert entry.adapter is CashReceiptsAdapter
    assert "bacs18" in plugshare_host(plugin).adapters()


def test_the_good_sample_converts_into_valid_payments(receipts):
    messages = receipts.assert_output_validates(GOOD)
    assert Counter(m["type"] for m in messages) == {"uk.plugshare.revenues.payment": 13}
    data = [m["data"] for m in messages]
    assert Counter(d["payment_type"] for d in data) == {"payment": 11, "refund": 1, "reversal": 1}
    assert Counter(d["account_kind"] for d in data) == {"council_tax": 10, "business_rates": 3}
    assert data[0] == {
        "id": "E07000991-rcpt-R2504010001", "source_ids": [{"scheme": "cash-receipts", "value": "R2504010001"}],
        "extensions": {"native.cash-receipts": {"channel": "BANK", "batch_no": "DD250401", "cashier": "SYSTEM"}},
        "received_date": "2025-04-01", "account_kind": "council_tax", "payment_type": "payment",
        "method": "direct_debit", "account_id": "E07000991-ctax-9910000001", "reference": "9910000001",
        "amount": "170.14"}
    reversal = data[-1]
    assert (reversal["amount"], reversal["reverses_payment_id"]) == ("120.00", "E07000991-rcpt-R2504010004")


def test_the_bad_sample_rejects_its_one_bad_record_with_a_reason(receipts):
    (rejected,) = receipts.assert_rejects(BAD, ["mop", "'ALLP'"], count=1)
    assert (rejected.position.record, rejected.position.line) == (6, 7)
    assert rejected.native["receipt_no"] == "R2504010006"
    assert rejected.reason.startswith("receipt R2504010006: ")


def test_through_the_command_line_the_sample_converts_and_validates(plugshare_entry_points, tmp_path):
    plugshare_entry_points(cash_receipts="plugshare_cash_receipts.plugin")
    runner, out = CliRunner(), tmp_path / "out.ndjson"
    result = runner.invoke(plugshare.cli.main, ["convert", "--from", "cash-receipts", "--to", "canonical", str(GOOD),
                                                str(out), "--option", "council=E07000991"])
    assert result.exit_code == 0, result.output
    assert "read 13 records: 13 converted, 0 quarantined" in result.output
    result = runner.invoke(plugshare.cli.main, ["validate", str(out)])
    assert result.exit_code == 0, result.output


def test_through_the_command_line_the_bad_record_is_quarantined(plugshare_entry_points, tmp_path):
    plugshare_entry_points(cash_receipts="plugshare_cash_receipts.plugin")
    quarantine = tmp_path / "quarantine.ndjson"
    result = CliRunner().invoke(plugshare.cli.main, [
        "convert", "--from", "cash-receipts", "--to", "canonical", str(BAD), str(tmp_path / "out.ndjson"),
        "--option", "council=E07000991", "--quarantine", str(quarantine)])
    assert result.exit_code == 1, result.output
    assert "12 converted, 1 quarantined" in result.output
    (entry,) = [json.loads(line) for line in quarantine.read_text().splitlines()]
    assert (entry["stage"], entry["record"], entry["line"]) == ("read", 6, 7)
    assert entry["native"]["mop"] == "ALLP" and "no translation" in entry["reason"]
    assert len((tmp_path / "out.ndjson").read_text().splitlines()) == 12


def test_the_library_conversion_counts_add_up(receipts, tmp_path):
    conversion = receipts.convert(BAD, tmp_path)
    summary = conversion.summary
    assert (summary.read, summary.converted, summary.quarantined) == (13, 12, 1)
    assert conversion.quarantined[0]["native"]["receipt_no"] == "R2504010006"


# --- the samples manifest and the conformance suite ------------------------------------


def test_every_conversion_the_samples_manifest_declares_holds(plugshare_host, tmp_path):
    conversions = {c.name: c for c in sample_conversions(SAMPLES.parent)}
    assert set(conversions) == {"good", "one-bad-record", "write"}
    assert (conversions["good"].input, conversions["one-bad-record"].input) == (GOOD, BAD)
    host = plugshare_host(plugin)
    for name, conversion in conversions.items():
        result = run_sample(conversion, tmp_path / name, host)
        assert result.ok, f"{conversion.label}: {result.failures}"


def test_the_conformance_suite_certifies_the_adapter_writing_its_own_sample(plugshare_entry_points, tmp_path):
    plugshare_entry_points(cash_receipts="plugshare_cash_receipts.plugin")
    profiles = [arg for profile in CashReceiptsAdapter.conformance_profiles for arg in ("--profile", profile)]
    result = CliRunner().invoke(plugshare.cli.main, ["conformance", "run", "--adapter", "cash-receipts", *profiles,
                                                     "--out", str(tmp_path / "reports")])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "reports" / "report.json").read_text(encoding="utf-8"))
    assert report["verdict"] == "conforms"
    assert set(report["profiles"]) == set(CashReceiptsAdapter.conformance_profiles)
    # the corpus's payments are not keyed by receipt numbers: the report says the good sample was written instead
    (said,) = [r["detail"] for r in report["readiness"] if r["need"] == "round-trip input"]
    assert "refused every corpus message of revenues.payment" in said and "sample 'good'" in said


# --- writing and the round trip ---------------------------------------------------------


def test_writing_the_canonical_sample_gives_the_native_sample_byte_for_byte(receipts, tmp_path):
    assert all(m["type"] == "uk.plugshare.revenues.payment" for m in load_canonical(CANONICAL))
    receipts.assert_writes(CANONICAL, GOOD, tmp_path)


def test_native_canonical_native_canonical_is_stable(receipts, tmp_path):
    receipts.assert_round_trip(GOOD, tmp_path, identical=True)


METHOD_CODES = st.sampled_from(METHODS.codes)
RECEIPT = st.fixed_dictionaries({
    "fund": st.sampled_from(["CTAX", "NNDR"]), "txn_type": st.sampled_from(["P", "R"]), "mop": METHOD_CODES,
    "pence": st.integers(min_value=1, max_value=10 ** 11),
    "day": st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 31)).map(lambda d: d.strftime("%d/%m/%Y")),
    "channel": st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=20)
                 .filter(lambda text: text == text.strip()),
})


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(receipts_drawn=st.lists(RECEIPT, min_size=1, max_size=8))
def test_generated_receipts_round_trip_and_validate(receipts, tmp_path, receipts_drawn):
    rows = []
    for number, drawn in enumerate(receipts_drawn, start=1):
        amount = f"{Decimal(drawn['pence']).scaleb(-2):f}"
        rows.append([f"R{number:06d}", drawn["day"], drawn["fund"], f"{number:010d}", drawn["txn_type"],
                     amount if drawn["txn_type"] == "P" else f"-{amount}", drawn["mop"], "", drawn["channel"], "",
                     ""])
    source = tmp_path / "generated.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([list(COLUMNS), *rows])
    messages = receipts.assert_output_validates(source)
    assert [m["data"]["amount"] for m in messages] == [r[5].lstrip("-") for r in rows]
    receipts.assert_round_trip(source, tmp_path, identical=True)


def test_every_value_the_file_cannot_carry_is_reported_lost(receipts, tmp_path):
    written = receipts.assert_reports_loss(CANONICAL, tmp_path)  # with a second source id added to each message
    assert len(written) == 13
    assert all(outcome.lost == ["/data/source_ids/1"] for outcome in written)


def test_writing_names_the_values_it_drops_and_takes_the_key_from_the_id(receipts, tmp_path):
    good = load_canonical(CANONICAL)[0]
    other = json.loads(json.dumps(good))
    other["data"]["reference"] = "BILL 2025/123"
    other["data"]["source_ids"].append({"scheme": "ledger", "value": "L-77"})
    renumbered = json.loads(json.dumps(good))
    renumbered["data"]["id"] = renumbered["subject"] = "E07000991-rcpt-R9"
    unknown_mop = json.loads(json.dumps(good))
    unknown_mop["data"]["extensions"]["native.cash-receipts"]["mop"] = "CASH"  # not a code of direct_debit
    outcomes = receipts.write([good, other, renumbered, unknown_mop], tmp_path / "out.csv")
    assert [o.lost for o in outcomes] == [[], ["/data/source_ids/1", "/data/reference"],
                                          ["/data/source_ids/0/value"],
                                          ["/data/extensions/native.cash-receipts/mop"]]
    lines = (tmp_path / "out.csv").read_text().splitlines()
    assert [line.split(",")[0] for line in lines[1:]] == ["R2504010001", "R2504010001", "R9", "R2504010001"]
    assert lines[4].split(",")[6] == "DD"


def test_the_conversion_reports_what_writing_left_out(plugshare_entry_points, tmp_path):
    plugshare_entry_points(cash_receipts="plugshare_cash_receipts.plugin")
    message = load_canonical(CANONICAL)[0]
    message["data"]["reference"] = "BILL 2025/123"
    source = tmp_path / "in.ndjson"
    source.write_text(json.dumps(message) + "\n")
    result = CliRunner().invoke(plugshare.cli.main, ["convert", "--from", "canonical", "--to", "cash-receipts",
                                                     str(source), str(tmp_path / "out.csv"),
                                                     "--option", "council=E07000991"])
    assert result.exit_code == 0, result.output
    assert "values cash-receipts has no place for" in result.output
    assert "1 revenues.payment /data/reference" in result.output


def test_writing_rejects_what_the_file_cannot_carry(receipts, tmp_path):
    good = load_canonical(CANONICAL)[0]
    deletion = {key: value for key, value in good.items() if key != "data"} | {"action": "delete"}
    foreign = json.loads(json.dumps(good))
    foreign["data"]["account_id"] = "E07000991-cta00001"
    extra = json.loads(json.dumps(good))
    extra["data"]["extensions"]["native.cash-receipts"]["payer_name"] = "K JESSOP"
    bank_account = dict(good, type="uk.plugshare.payroll.bank-account")
    outcomes = receipts.write([good, deletion, foreign, extra, bank_account], tmp_path / "out.csv")
    assert [type(o).__name__ for o in outcomes] == ["Converted", "Rejected", "Rejected", "Rejected", "Rejected"]
    reasons = [o.reason for o in outcomes[1:]]
    assert "reversal" in reasons[0]
    assert "<council>-ctax-<account reference>" in reasons[1]
    assert "extra_columns=payer_name" in reasons[2]
    assert "revenues.payment only" in reasons[3]
    assert len((tmp_path / "out.csv").read_text().splitlines()) == 2


def test_writing_streams_and_leaves_no_partial_file_when_stopped(receipts, tmp_path):
    pulled = []
    template = load_canonical(CANONICAL)[0]

    def messages():
        for number in range(1, 100_000):
            pulled.append(number)
            message = json.loads(json.dumps(template))
            message["data"]["source_ids"][0]["value"] = f"R{number:09d}"
            yield message

    outcomes = receipts.adapter().write(messages(), str(tmp_path / "out.csv"))
    first = [next(outcomes) for _ in range(3)]
    assert all(isinstance(o, Converted) for o in first) and len(pulled) == 3
    outcomes.close()
    assert list(tmp_path.iterdir()) == []


# --- the format's rules --------------------------------------------------------------------


@pytest.mark.parametrize(("fields", "says"), [
    ({"posted_date": "31/04/2025"}, "posted_date: '31/04/2025' is not a date"),
    ({"posted_date": "2025-04-01"}, "posted_date: '2025-04-01' is not a date"),
    ({"amount": "12.345"}, "fractions of a penny"),
    ({"amount": "twelve"}, "not an amount of money"),
    ({"amount": "0.00"}, "moves no money"),
    ({"amount": "-12.00"}, "negative, but txn_type P is a payment"),
    ({"txn_type": "R", "amount": "12.00"}, "positive, but a refund"),
    ({"txn_type": "X", "amount": "-12.00"}, "a reversal (txn_type X) must name the receipt"),
    ({"reversal_of": "R2504010001"}, "a payment reverses nothing"),
    ({"fund": "PCN"}, "fund: vendor code 'PCN' has no translation"),
    ({"txn_type": "Q"}, "txn_type: vendor code 'Q'"),
    ({"mop": "BTC"}, "vendor code 'BTC'"),
    ({"receipt_no": "R-1"}, "receipt_no: 'R-1' is not 1 to 20 letters and digits"),
    ({"receipt_no": "R" * 21}, "is not 1 to 20 letters and digits"),
    ({"account_ref": "99 100"}, "account_ref: '99 100'"),
    ({"account_ref": ""}, "account_ref is empty; it is required"),
    ({"posted_date": " "}, "posted_date is empty"),
])
def test_each_rule_of_the_format_rejects_the_record_naming_the_field(receipts, tmp_path, fields, says):
    assert says in reason_of(receipts, tmp_path, **fields)


@pytest.mark.parametrize(("text", "amount"), [("1,234.56", "1234.56"), ("£12.00", "12.00"), (" 7.5 ", "7.50")])
def test_amounts_are_read_in_the_forms_exports_use(receipts, tmp_path, text, amount):
    (outcome,) = receipts.read(csv_file(tmp_path, row(amount=f'"{text}"')))
    assert outcome.messages[0]["data"]["amount"] == amount


def test_a_record_with_a_field_too_many_is_rejected_with_its_line(receipts, tmp_path):
    (first, second) = receipts.read(csv_file(tmp_path, row() + ",EXTRA", "", row(receipt_no="R2")))
    assert isinstance(first, Rejected) and "12 fields and the header 11" in first.reason
    assert isinstance(second, Converted) and (second.position.record, second.position.line) == (2, 4)


def test_a_record_of_the_wrong_width_with_a_byte_that_is_not_text_is_quarantined(receipts, tmp_path):
    path = tmp_path / "cp1252.csv"
    path.write_bytes((HEADER + "\r\n" + row(cashier="CAFÉ") + ",EXTRA\r\n" + row(receipt_no="R2") + "\r\n")
                     .encode("cp1252"))
    (rejected, _) = receipts.read(path)
    assert rejected.native[10] == "CAF\\xc9"  # as text, as the other rejections show such a byte
    conversion = receipts.convert(path, tmp_path)
    assert (conversion.summary.read, conversion.summary.converted, conversion.summary.quarantined) == (2, 1, 1)
    (entry,) = conversion.quarantined
    assert entry["native"][10:] == ["CAF\\xc9", "EXTRA"] and "12 fields and the header 11" in entry["reason"]


@pytest.mark.parametrize(("content", "says"), [
    (b"", "the file is empty"),
    (b"receipt_no,posted_date,fund,amount\r\n", "the header lacks account_ref, txn_type, mop"),
    (HEADER.encode() + b",fund\r\n", "names fund more than once"),
])
def test_whole_file_problems_are_adapter_errors(receipts, tmp_path, content, says):
    path = tmp_path / "input.csv"
    path.write_bytes(content)
    receipts.assert_refuses(path, says)


def test_a_missing_file_and_an_unknown_encoding_are_adapter_errors(receipts, tmp_path):
    receipts.assert_refuses(tmp_path / "nowhere.csv", "cannot be read")
    with pytest.raises(AdapterError, match="not an encoding"):
        receipts.read(GOOD, encoding="ebcdic-martian")


def test_a_byte_that_is_not_text_is_named_and_the_other_records_convert(receipts, tmp_path):
    path = tmp_path / "cp1252.csv"
    path.write_bytes((HEADER + "\r\n" + row(cashier="CAFÉ") + "\r\n" + row(receipt_no="R2") + "\r\n").encode("cp1252"))
    (rejected, converted) = receipts.read(path)
    assert rejected.reason == ("receipt R2504020001: cashier: byte 0xC9 is not utf-8 text; give --option "
                               "encoding=... (e.g. cp1252 for a Windows export) or correct the record")
    assert rejected.native["cashier"] == "CAF\\xc9" and isinstance(converted, Converted)


def test_a_windows_export_reads_with_the_encoding_option(receipts, tmp_path):
    path = tmp_path / "cp1252.csv"
    path.write_bytes((HEADER + "\r\n" + row(cashier="CAFÉ", amount='"£12.00"') + "\r\n").encode("cp1252"))
    (outcome,) = receipts.read(path, encoding="cp1252")
    assert outcome.messages[0]["data"]["extensions"]["native.cash-receipts"]["cashier"] == "CAFÉ"
    receipts.assert_round_trip(path, tmp_path, encoding="cp1252")


# --- nothing is lost -----------------------------------------------------------------------


def test_unmapped_native_fields_are_kept_and_written_back(receipts, tmp_path):
    messages = receipts.messages(GOOD)
    assert messages[6]["data"]["extensions"]["native.cash-receipts"] == {
        "channel": "BANK", "batch_no": "BK250401", "cashier": "SYSTEM", "mop": "FP"}
    assert messages[6]["data"]["method"] == "bank_transfer"
    assert "mop" not in messages[8]["data"]["extensions"]["native.cash-receipts"]  # BACS: what writing gives


def test_a_column_of_another_export_is_kept_and_written_with_extra_columns(receipts, tmp_path):
    source = csv_file(tmp_path, row() + ",K JESSOP", header=HEADER + ",payer_name")
    (message,) = receipts.messages(source)
    assert message["data"]["extensions"]["native.cash-receipts"]["payer_name"] == "K JESSOP"
    (refused,) = receipts.write([message], tmp_path / "without.csv")
    assert isinstance(refused, Rejected) and "extra_columns=payer_name" in refused.reason
    receipts.assert_round_trip(source, tmp_path, identical=True, extra_columns="payer_name")


# --- streaming -----------------------------------------------------------------------------


def test_memory_stays_flat_for_a_large_export(receipts, tmp_path):
    path = tmp_path / "large.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(HEADER + "\r\n")
        for number in range(50_000):
            handle.write(row(receipt_no=f"R{number:09d}", account_ref=f"991{number:07d}") + "\r\n")
    # 50,000 payment messages held at once would take well over 100 MB
    assert receipts.assert_streams(path, max_peak=1_000_000) == 50_000
