"""The voa-list adapter: the VOA's compiled rating list ('*'-separated list entries) read and written."""

import datetime as dt
import json
import tracemalloc
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plugshare.adapters.contract import AdapterError, Converted, Rejected
from plugshare.adapters.voa_list import VoaListAdapter
from plugshare.adapters.voa_list.layout import NAMES
from plugshare.adapters.voa_list.writer import Writer
from plugshare.cli import main
from plugshare.conversion import CanonicalSource, Quarantine, convert
from plugshare.plugins import make_host
from plugshare.validation.validator import MessageValidator

SAMPLES = Path(__file__).resolve().parents[1] / "src" / "plugshare" / "adapters" / "samples" / "voa-list"
GOOD, BAD, CANONICAL = SAMPLES / "list-2023.txt", SAMPLES / "one-bad-record.txt", SAMPLES / "canonical.ndjson"
OPTIONS = {"council": "E07000991", "as_at": "2025-09-30T17:00:00Z"}
VALIDATOR = MessageValidator()
HEREDITAMENT = "uk.plugshare.revenues.business-rates-hereditament"
#: a list entry as field values, numbered as the VOA numbers them (1-28)
ENTRY = ["1", "9911", "", "N00000001", "CS", "SHOP AND PREMISES", "9910000001", "17, MILL LANE, FENMOOR", "",
         "17", "MILL LANE", "FENMOOR", "", "", "PE20 9NF", "", "", "4900", "", "99100000001", "", "249G", "", "", "",
         "99112300001", "01-APR-2023", ""]


def adapter(**options):
    return VoaListAdapter({**OPTIONS, **options})


def line(**changes) -> str:
    """The sample entry with fields changed, by number: line(f18="12,500")."""
    values = list(ENTRY)
    for key, value in changes.items():
        values[int(key[1:]) - 1] = value
    return "*".join(values) + "*"


def read_lines(tmp_path, *lines, eol="\r\n", **options):
    path = tmp_path / "list.txt"
    path.write_bytes("".join(text + eol for text in lines).encode("latin-1"))
    return list(adapter(**options).read(str(path)))


def read_one(tmp_path, text, **options):
    (outcome,) = read_lines(tmp_path, text, **options)
    return outcome


def must_problems(message):
    return [p for p in VALIDATOR.check(message)[1] if p.level == "MUST"]


def canonical():
    return [json.loads(text) for text in CANONICAL.read_text().splitlines()]


def written_line(message, **options) -> str:
    return Writer(adapter(**options), "unused").line(message)


# --- samples ----------------------------------------------------------------------------


def test_the_adapter_is_a_builtin_plugin_that_reads_and_writes_hereditaments():
    cls = make_host(load_entry_points=False).adapter("voa-list")
    assert cls is VoaListAdapter
    assert cls.reads == cls.writes == ("revenues.business-rates-hereditament",)
    options = {o["name"]: o["default"] for o in cls.describe()["options"]}
    assert options["rating_list"] == "2023" and options["other_councils"] == "reject"
    assert options["billing_authorities"] == "9911=E07000991,9912=E07000992,9913=E07000993"


def test_the_good_sample_reads_into_valid_hereditaments():
    outcomes = list(adapter().read(str(GOOD)))
    assert len(outcomes) == 15 and all(isinstance(o, Converted) for o in outcomes)
    assert [o.position.line for o in outcomes] == list(range(1, 16))
    messages = [m for o in outcomes for m in o.messages]
    assert {m["type"] for m in messages} == {HEREDITAMENT} and len(messages) == 15
    assert all(VALIDATOR.check(m)[1] == [] for m in messages)
    assert {m["council"] for m in messages} == {"E07000991"}
    data = {m["data"]["assessment_reference"]: m["data"] for m in messages}
    shop = data["99100000001"]
    assert shop["id"] == "E07000991-voa-99100000001" and shop["uarn"] == 9910000001
    assert shop["source_ids"] == [{"scheme": "voa-uarn", "value": "9910000001"}]
    assert (shop["rating_list"], shop["billing_authority_code"], shop["list_entry_number"]) == ("2023", "9911", 1)
    assert shop["address"] == {"number_or_name": "17", "street": "MILL LANE", "town": "FENMOOR",
                               "postcode": "PE20 9NF"}
    assert (shop["scat_code"], shop["scat_suffix"], shop["rateable_value"]) == ("249", "G", 4900)
    assert shop["effective_date"] == shop["current_from"] == "2023-04-01" and shop["composite"] is False
    assert shop["extensions"] == {"native.voa-list": {"effective_date": ""}}  # blank in the compiled list
    assert data["99100000004"]["composite"] is True
    appeal = data["99100000006"]
    assert appeal["appeal_settlement_code"] == "A" and appeal["list_alteration_date"] == "2024-11-14"
    assert appeal["extensions"] == {}
    ended, successor = data["99100000007"], data["99100000008"]
    assert ended["uarn"] == successor["uarn"] and ended["current_to"] == "2024-06-11"
    assert successor["effective_date"] == "2024-04-01" and "current_to" not in successor
    warehouse = data["99100000005"]
    assert warehouse["sub_street_level_1"] == "FENMOOR TRADING ESTATE" and warehouse["address"]["county"] == "FENSHIRE"
    assert warehouse["firm_name"] == "DUNMORE DISTRIBUTION LTD"
    assert data["99100000010"]["ndr_community_code"] == "FENM"
    assert {d["primary_description_code"] for d in data.values()} >= {"CS", "CO", "CL", "CW", "IF3"}


def test_the_good_sample_converts_through_the_cli_and_validates(tmp_path):
    out = tmp_path / "out.ndjson"
    result = CliRunner().invoke(main, ["convert", "--from", "voa-list", "--to", "canonical", str(GOOD), str(out),
                                       "--option", "council=E07000991", "--option", "as_at=2025-09-30T17:00:00Z"])
    assert result.exit_code == 0, result.output
    assert "read 15 records: 15 converted, 0 quarantined" in result.output
    assert out.read_bytes() == CANONICAL.read_bytes()
    validated = CliRunner().invoke(main, ["validate", str(out)])
    assert validated.exit_code == 0, validated.output


def test_the_bad_sample_quarantines_its_one_bad_record_through_the_cli(tmp_path):
    out, quarantine = tmp_path / "out.ndjson", tmp_path / "quarantine.ndjson"
    result = CliRunner().invoke(main, ["convert", "--from", "voa-list", "--to", "canonical", str(BAD), str(out),
                                       "--option", "council=E07000991", "--quarantine", str(quarantine)])
    assert result.exit_code == 1, result.output
    assert len(out.read_text().splitlines()) == 14
    (entry,) = [json.loads(text) for text in quarantine.read_text().splitlines()]
    assert (entry["stage"], entry["record"], entry["line"]) == ("read", 6, 6)
    assert entry["native"] == BAD.read_text().splitlines()[5]
    assert "27 fields" in entry["reason"] and "exactly 28" in entry["reason"]


def test_the_canonical_sample_writes_the_list_byte_for_byte(tmp_path):
    messages = canonical()
    assert len(messages) == 15 and all(not must_problems(m) for m in messages)
    out = tmp_path / "extract.txt"
    outcomes = list(adapter().write(messages, str(out)))
    assert all(isinstance(o, Converted) for o in outcomes)
    assert out.read_bytes() == GOOD.read_bytes()
    result = CliRunner().invoke(main, ["convert", "--from", "canonical", "--to", "voa-list", str(CANONICAL),
                                       str(tmp_path / "cli.txt"), "--option", "council=E07000991"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "cli.txt").read_bytes() == GOOD.read_bytes()


def test_native_canonical_native_canonical_is_stable(tmp_path):
    first = [m for o in adapter().read(str(GOOD)) for m in o.messages]
    list(adapter().write(first, str(tmp_path / "again.txt")))
    assert (tmp_path / "again.txt").read_bytes() == GOOD.read_bytes()
    second = [m for o in adapter().read(str(tmp_path / "again.txt")) for m in o.messages]
    assert second == first


# --- the format's rules: fields, characters, widths, codes, dates, money -------------------


@pytest.mark.parametrize("text, count", [
    (line(f28="11-JUN-2024")[:-1], "28 fields and does not end with '*'"),  # the trailing '*' lost
    (line().replace("*MILL LANE*", "*MILL LANE", 1), "27 fields"),
    (line() + "*", "29 fields"),
    (line().replace("MILL LANE", "MILL*LANE", 1), "29 fields"),  # a '*' inside a value cannot be read
])
def test_a_line_of_other_than_28_fields_is_rejected_naming_the_count(tmp_path, text, count):
    outcome = read_one(tmp_path, text)
    assert isinstance(outcome, Rejected) and count in outcome.reason
    assert outcome.native == text and outcome.position.line == 1


def test_a_byte_that_is_not_ascii_is_named_with_its_field(tmp_path):
    path = tmp_path / "list.txt"
    path.write_bytes(line(f11="CAF\u00c9 ROW").encode("utf-8") + b"\r\n" + line(f11="CAF\xc9 ROW").encode("latin-1")
                     + b"\r\n" + line(f6="SHOP\tAND PREMISES").encode() + b"\r\n")
    first, second, third = adapter().read(str(path))
    assert "field 11 (street): byte 0xC3 at character 4 is not ASCII" in first.reason
    assert "'CAFÉ ROW' as UTF-8" in first.reason and "BA reference N00000001, UARN 9910000001" in first.reason
    assert "field 11 (street): byte 0xC9" in second.reason and second.native.count("\\xc9") == 1
    assert "field 6 (primary description text): control character 0x09" in third.reason
    with open(tmp_path / "q.ndjson", "w", encoding="utf-8") as stream:  # the quarantine can hold every one
        summary = convert(adapter(), str(path), None, str(tmp_path / "out.ndjson"), Quarantine(stream))
    assert summary.quarantined == 3


@pytest.mark.parametrize("field, value, message", [
    ("f18", "12,500", "field 18 (rateable value): '12,500' is not a whole number (digits only in whole pounds"),
    ("f18", "12500.00", "field 18 (rateable value): '12500.00' is not a whole number"),
    ("f18", "", "field 18 (rateable value) is blank"),
    ("f18", "12345678901", "field 18 (rateable value): '12345678901' is 11 characters; the field holds 10"),
    ("f7", "991X", "field 7 (UARN): '991X' is not a whole number"),
    ("f7", "0", "field 7 (UARN) is 0"),
    ("f1", "0", "field 1 (incrementing entry number) is 0"),
    ("f4", "", "field 4 (BA reference) is blank"),
    ("f4", "N" * 26, "field 4 (BA reference): 'NNNNNNNNNNNNNNNNNNNNNNNNNN' is 26 characters; the field holds 25"),
    ("f2", "991", "field 2 (billing authority code): '991' is not the 4-digit code"),
    ("f2", "99A1", "field 2 (billing authority code): '99A1' is not a whole number"),
    ("f5", "cs", "field 5 (primary description code): 'cs' is not a VOA description code"),
    ("f6", "", "field 6 (primary description text) is blank"),
    ("f15", "PE20", "field 15 (postcode): 'PE20' is not a UK postcode"),
    ("f17", "Y", "field 17 (composite indicator): 'Y' is not 'C'"),
    ("f22", "249GG", "field 22 (SCAT code and suffix): '249GG' is 5 characters; the field holds 4"),
    ("f22", "24G", "field 22 (SCAT code and suffix): '24G' is not a SCAT code"),
    ("f16", "01/04/2023", "field 16 (effective date): '01/04/2023' is not a date in the list's form DD-MON-YYYY"),
    ("f21", "31-FEB-2024", "field 21 (list alteration date): '31-FEB-2024' names a day the calendar does not have"),
    ("f27", "", "field 27 (current from date) is blank"),
    ("f28", "2024-06-11", "field 28 (current to date): '2024-06-11' is not a date"),
])
def test_each_field_rule_rejects_the_entry_naming_the_field(tmp_path, field, value, message):
    outcome = read_one(tmp_path, line(**{field: value}))
    assert isinstance(outcome, Rejected), outcome
    assert message in outcome.reason and "Traceback" not in outcome.reason


def test_the_billing_authority_code_must_name_the_council(tmp_path):
    unknown = read_one(tmp_path, line(f2="0435"))
    assert "'0435' is not in option billing_authorities (9911 = E07000991, 9912 = E07000992" in unknown.reason
    other = read_one(tmp_path, line(f2="9912"))
    assert isinstance(other, Rejected)
    assert "9912 is E07000992's, not E07000991's" in other.reason and "--option council=E07000992" in other.reason
    converted = read_one(tmp_path, line(f2="9912"), other_councils="convert")
    (message,) = converted.messages
    assert message["council"] == "E07000992" and message["data"]["id"] == "E07000992-voa-99100000001"
    assert message["source"] == "urn:plugshare:E07000992:voa-list" and not must_problems(message)
    mapped = read_one(tmp_path, line(f2="0435"), council="E06000042", billing_authorities="0435=E06000042")
    assert mapped.messages[0]["council"] == "E06000042"


def test_the_rating_list_option_sets_the_list_and_the_blank_effective_date(tmp_path):
    (message,) = read_one(tmp_path, line(f27="01-APR-2026"), rating_list="2026").messages
    assert message["data"]["rating_list"] == "2026" and message["data"]["effective_date"] == "2026-04-01"
    assert not must_problems(message)


def test_an_entry_ending_before_it_starts_is_quarantined_by_the_standard(tmp_path):
    path = tmp_path / "list.txt"
    path.write_text(line(f28="31-MAR-2023") + "\n")
    with open(tmp_path / "q.ndjson", "w") as stream:
        summary = convert(adapter(), str(path), None, str(tmp_path / "out.ndjson"), Quarantine(stream))
    assert summary.quarantined == 1
    (entry,) = [json.loads(text) for text in (tmp_path / "q.ndjson").read_text().splitlines()]
    assert entry["stage"] == "validate" and "current_to 2023-03-31 is before current_from" in entry["reason"]


# --- kept forms: what the list wrote, restored on writing -----------------------------------


def test_forms_the_adapter_would_write_otherwise_are_kept_and_restored(tmp_path):
    text = line(f1="0001", f11="  MILL LANE ", f15="pe209nf", f16="01-apr-2023", f18="0004900")
    outcome = read_one(tmp_path, text, eol="\n")
    (message,) = outcome.messages
    data = message["data"]
    assert data["address"]["postcode"] == "PE20 9NF" and data["address"]["street"] == "MILL LANE"
    assert (data["list_entry_number"], data["rateable_value"], data["effective_date"]) == (1, 4900, "2023-04-01")
    assert data["extensions"]["native.voa-list"] == {"entry_number": "0001", "street": "  MILL LANE ",
                                                     "postcode": "pe209nf", "effective_date": "01-apr-2023",
                                                     "rateable_value": "0004900"}
    assert not must_problems(message)
    assert written_line(message) == text
    # a value changed in the standard wins over the form kept for the old one
    message["data"]["address"]["postcode"] = "PE21 4AB"
    message["data"]["rateable_value"] = 5100
    assert written_line(message) == line(f1="0001", f11="  MILL LANE ", f15="PE21 4AB", f16="01-apr-2023",
                                         f18="5100")


def test_a_blank_effective_date_is_written_blank_until_the_date_changes(tmp_path):
    (message,) = read_one(tmp_path, line()).messages
    assert written_line(message) == line()
    message["data"]["effective_date"] = "2024-01-15"
    assert written_line(message).split("*")[15] == "15-JAN-2024"


def test_empty_optional_values_are_written_as_blank_fields(tmp_path):
    (message,) = read_one(tmp_path, line()).messages
    message["data"].update(scat_suffix="", ndr_community_code="", firm_name=" ")
    assert written_line(message) == line(f22="249")
    assert "scat_suffix" not in read_one(tmp_path, line(f22="249")).messages[0]["data"]


# --- writing: what cannot be written ---------------------------------------------------


def sample_message(**data):
    message = json.loads(CANONICAL.read_text().splitlines()[0])
    message["data"].update(data)
    return message


@pytest.mark.parametrize("change, message", [
    ({"description": "SHOP * PREMISES"}, "field 6 (primary description text): 'SHOP * PREMISES' holds a '*'"),
    ({"firm_name": "CAF\u00c9 ROUGE LTD"}, "field 9 (firm name): 'É' at character 4 of 'CAFÉ ROUGE LTD' is not ASCII"),
    ({"ba_reference": "N" * 26}, "field 4 (BA reference): 'NNNNNNNNNNNNNNNNNNNNNNNNNN' is 26 characters"),
    ({"rateable_value": 12_345_678_901}, "field 18 (rateable value): '12345678901' is 11 characters"),
    ({"uarn": 123_456_789_012}, "field 7 (UARN): '123456789012' is 12 characters; the field holds 11"),
    ({"assessment_reference": "A1234"}, "field 20 (assessment reference): 'A1234' is not a whole number"),
    ({"scat_code": None, "scat_suffix": "G"}, "field 22 (SCAT code and suffix): 'G' is not a SCAT code"),
    ({"address": {"postcode": "NOT A PC"}}, "field 15 (postcode): 'NOT A PC' is not a UK postcode"),
    ({"rating_list": "2017"}, "the entry is in the 2017 list; this extract is of the 2023 list"),
    ({"billing_authority_code": "0435"}, "field 2 (billing authority code) '0435' is not in option"),
    ({"billing_authority_code": "9912"}, "billing_authority_code 9912 is E07000992's (option billing_authorities), "
                                         "but the message is E07000991's"),
])
def test_a_message_the_list_cannot_carry_is_rejected_naming_the_field(change, message):
    with pytest.raises(Exception) as caught:
        written_line(sample_message(**change))
    assert message in str(caught.value)


def test_another_councils_message_is_written_only_when_asked():
    other = sample_message(billing_authority_code="9912")
    other["council"] = "E07000992"
    with pytest.raises(Exception, match="9912 is E07000992's, not E07000991's"):
        written_line(other)
    assert written_line(other, other_councils="convert").split("*")[1] == "9912"


def test_writing_rejects_deletions_and_other_types_and_makes_no_file_without_entries(tmp_path):
    good = canonical()[0]
    deletion = {key: value for key, value in good.items() if key != "data"} | {"action": "delete"}
    payslip = {"type": "uk.plugshare.payroll.payslip", "council": "E07000991", "data": {}}
    garbled = {**good, "data": {"id": "x"}}
    target = tmp_path / "extract.txt"
    outcomes = list(adapter().write([deletion, payslip, garbled, good], str(target)))
    assert [type(o) for o in outcomes] == [Rejected, Rejected, Rejected, Converted]
    assert "deletion of E07000991-voa-99100000001 cannot be written" in outcomes[0].reason
    assert "payroll.payslip message has no place in a rating list extract" in outcomes[1].reason
    assert "lacks or garbles a field" in outcomes[2].reason
    assert target.read_text(encoding="ascii").count("\n") == 1
    empty = tmp_path / "empty.txt"
    with pytest.raises(AdapterError, match="no list entry could be written"):
        list(adapter().write([deletion], str(empty)))
    assert not empty.exists() and not (tmp_path / "empty.txt.part").exists()


def test_writing_streams_and_leaves_no_partial_file_when_stopped(tmp_path):
    pulled = []
    template = canonical()[0]

    def messages():
        for number in range(1, 1_000_000):
            pulled.append(number)
            message = json.loads(json.dumps(template))
            message["data"]["assessment_reference"] = str(number)
            yield message

    outcomes = adapter().write(messages(), str(tmp_path / "out.txt"))
    first = [next(outcomes) for _ in range(5)]
    assert all(isinstance(o, Converted) for o in first) and len(pulled) == 5
    outcomes.close()
    assert list(tmp_path.iterdir()) == []


# --- writing: what is written but not carried is reported ---------------------------------


def converted_to_list(messages: list[dict], tmp_path: Path):
    """The messages written through the conversion: its summary, and the outcomes the writer gave."""
    source = tmp_path / "messages.ndjson"
    source.write_text("".join(json.dumps(m) + "\n" for m in messages))
    outcomes = []

    class Recording(VoaListAdapter):
        def write(self, messages, target):
            for outcome in super().write(messages, target):
                outcomes.append(outcome)
                yield outcome

    summary = convert(CanonicalSource(), str(source), Recording(OPTIONS), str(tmp_path / "list.txt"))
    return summary, outcomes


def test_writing_the_canonical_sample_reports_nothing_lost(tmp_path):
    summary, outcomes = converted_to_list(canonical(), tmp_path)
    assert (summary.written, summary.quarantined) == (15, 0)
    assert summary.not_written == {} and all(o.lost == [] for o in outcomes)
    assert (tmp_path / "list.txt").read_bytes() == GOOD.read_bytes()


def test_values_the_list_has_no_field_for_are_reported_not_dropped(tmp_path):
    messages = canonical()
    first, second = messages[0]["data"], messages[1]["data"]
    first["uprn"] = 100090000101
    first["source_ids"].append({"scheme": "llpg", "value": "L-101"})
    second["effective_date"] = "2024-01-15"  # the blank form kept for the list's first day no longer reads so
    second["firm_name"] += " "  # the reader trims it
    summary, outcomes = converted_to_list(messages, tmp_path)
    assert (summary.written, summary.quarantined) == (15, 0)
    kind = "revenues.business-rates-hereditament"
    assert dict(summary.not_written) == {f"{kind} /data/uprn": 1, f"{kind} /data/source_ids/*": 1,
                                         f"{kind} /data/extensions/native.voa-list/effective_date": 1,
                                         f"{kind} /data/firm_name": 1}
    assert [sorted(o.lost) for o in outcomes[:2]] == [
        ["/data/source_ids/1", "/data/uprn"], ["/data/extensions/native.voa-list/effective_date", "/data/firm_name"]]
    assert all(o.lost == [] for o in outcomes[2:])
    assert (tmp_path / "list.txt").read_text().splitlines()[1].split("*")[15] == "15-JAN-2024"


# --- whole-file problems and options --------------------------------------------------------


@pytest.mark.parametrize("content, message", [
    (b"", "holds no list entries"),
    (b"\r\n\r\n", "holds no list entries"),
    (b"\xef\xbb\xbf" + line().encode() + b"\r\n", "UTF-8 byte order mark"),
    (b"1,9911,,N00000001,CS,SHOP AND PREMISES\r\n", "no '\\*' separates the fields"),
    (("*".join(NAMES) + "*\r\n").encode(), "looks like a header row"),
])
def test_a_file_that_is_not_a_list_is_an_adapter_error(tmp_path, content, message):
    path = tmp_path / "list.txt"
    path.write_bytes(content)
    with pytest.raises(AdapterError, match=message):
        list(adapter().read(str(path)))


def test_a_missing_file_is_an_adapter_error(tmp_path):
    with pytest.raises(AdapterError, match="nowhere.txt: cannot be read"):
        list(adapter().read(str(tmp_path / "nowhere.txt")))


def test_blank_lines_are_skipped_and_positions_follow_the_file(tmp_path):
    outcomes = read_lines(tmp_path, line(), "", line(f20="99100000002"), eol="\n")
    assert [(o.position.record, o.position.line) for o in outcomes] == [(1, 1), (2, 3)]


@pytest.mark.parametrize("options, message", [
    ({"rating_list": "23"}, "option rating_list='23'"),
    ({"billing_authorities": "9911:E07000991"}, "'9911:E07000991' is not CODE=GSS"),
    ({"billing_authorities": "991=E07000991"}, "a billing authority code is 4 digits"),
    ({"billing_authorities": "9911=E07000991,9911=E07000992"}, "code 9911 is given twice"),
    ({"billing_authorities": "9912=E07000992"}, "option council=E07000991: option billing_authorities gives it no"),
    ({"other_councils": "keep"}, "option other_councils='keep': use reject or convert"),
])
def test_options_are_checked(options, message):
    with pytest.raises(AdapterError, match=message):
        adapter(**options)


# --- generated entries: every valid line reads and writes back the same ---------------------

PRINTABLE = "".join(chr(code) for code in range(0x20, 0x7F) if chr(code) != "*")


def text(size, required=False):
    value = st.text(alphabet=PRINTABLE, max_size=size)
    return value.filter(lambda v: v.strip()) if required else value


def padded(strategy):
    """A value, as written or with spaces around it (a form the list may have)."""
    return st.tuples(st.sampled_from(["", " "]), strategy, st.sampled_from(["", "  "])).map("".join)


DATES = st.dates(min_value=dt.date(2023, 4, 1), max_value=dt.date(2035, 12, 31))
VOA_DATE = DATES.map(lambda d: d.strftime("%d-") + "JANFEBMARAPRMAYJUNJULAUGSEPOCTNOVDEC"[3 * d.month - 3:3 * d.month]
                     + d.strftime("-%Y"))
POSTCODES = st.builds(lambda n, d, a, b: f"PE{n} {d}{a}{b}", st.integers(1, 29), st.integers(0, 9),
                      *[st.sampled_from("ABDEFGHJLNPQRSTUWXYZ")] * 2)
ENTRIES = st.fixed_dictionaries({
    "f1": st.one_of(st.just(""), st.integers(1, 10 ** 9).map(str)),
    "f2": st.sampled_from(["9911", " 9911"]),
    "f3": text(10), "f4": padded(text(20, required=True).map(str.strip).filter(bool)),
    "f5": st.from_regex(r"[A-Z0-9]{1,5}", fullmatch=True),
    "f6": text(100, required=True).filter(lambda v: len(v.strip()) <= 100),
    "f7": st.integers(1, 10 ** 11 - 1).map(str),
    "f8": text(200), "f9": text(100), "f10": text(100), "f11": text(100), "f12": text(100), "f13": text(100),
    "f14": text(100),
    "f15": st.one_of(st.just(""), POSTCODES, POSTCODES.map(str.lower), POSTCODES.map(lambda p: p.replace(" ", ""))),
    "f16": st.one_of(st.just(""), VOA_DATE, VOA_DATE.map(str.lower)),
    "f17": st.sampled_from(["", "C"]),
    "f18": st.integers(0, 10 ** 10 - 1).map(str) | st.integers(0, 99999).map(lambda n: f"{n:08d}"),
    "f19": st.from_regex(r"[A-Z0-9]{0,5}", fullmatch=True),
    "f20": st.integers(1, 10 ** 11 - 1).map(str),
    "f21": st.one_of(st.just(""), VOA_DATE),
    "f22": st.one_of(st.just(""), st.from_regex(r"[0-9]{3}[A-Z]?", fullmatch=True)),
    "f23": text(100), "f24": text(100), "f25": text(100), "f26": text(20),
    "f27": VOA_DATE,
})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entry=ENTRIES)
def test_every_valid_entry_reads_valid_and_writes_back_the_same(tmp_path, entry):
    text_line = line(**entry, f28="")
    outcome = read_one(tmp_path, text_line)
    assert isinstance(outcome, Converted), outcome.reason
    (message,) = outcome.messages
    assert not must_problems(message), must_problems(message)
    assert written_line(message) == text_line
    again = tmp_path / "again.txt"
    again.write_text(written_line(message) + "\r\n", encoding="ascii")
    assert [m for o in adapter().read(str(again)) for m in o.messages] == [message]


# --- memory stays flat -------------------------------------------------------------------------


def generate_list(path: Path, entries: int) -> int:
    """A benchmark-sized list: ``entries`` varied synthetic entries of Fenmoor, written as a stream."""
    uses = (("CS", "SHOP AND PREMISES", "249G"), ("CO", "OFFICES AND PREMISES", "203G"),
            ("CL", "PUBLIC HOUSE AND PREMISES", "226G"), ("CW", "WAREHOUSE AND PREMISES", "151G"))
    streets = ("MILL LANE", "CHURCH STREET", "STATION ROAD", "THE GREEN", "HIGH STREET", "WESTGATE")
    with open(path, "w", encoding="ascii", newline="") as handle:
        for number in range(1, entries + 1):
            code, description, scat = uses[number % len(uses)]
            street = streets[number % len(streets)]
            values = list(ENTRY)
            values[0], values[3], values[4], values[5] = str(number), f"N{number:08d}", code, description
            values[6], values[7] = str(9910000000 + number), f"{number % 300 + 1}, {street}, FENMOOR"
            values[9], values[10] = str(number % 300 + 1), street
            values[14] = f"PE{number % 29 + 1} {number % 10}{'ABDEFGHJLN'[number % 10]}{'PQRSTUWXYZ'[number % 7]}"
            values[16] = "C" if number % 17 == 0 else ""
            values[17], values[19], values[21] = str(1000 + number * 7 % 90000), f"991{number:08d}", scat
            handle.write("*".join(values) + "*\r\n")
    return path.stat().st_size


def test_reading_a_large_list_keeps_memory_flat(tmp_path):
    path = tmp_path / "big.txt"
    size = generate_list(path, 50_000)
    count = 0
    tracemalloc.start()
    try:
        for outcome in adapter().read(str(path)):
            assert isinstance(outcome, Converted)
            count += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 50_000
    assert peak < size / 20, f"peak {peak:,} bytes for an input of {size:,}"
