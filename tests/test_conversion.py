"""The conversion pipeline: every record converted or quarantined, counts add up, output validates."""

import datetime as dt
import io
import json

import pytest

from plugshare.adapters.contract import Adapter, AdapterError, Converted, Position, RecordError, Rejected
from plugshare.conversion import CanonicalSource, Quarantine, convert, lost_values
from plugshare.validation.validator import MessageValidator


class PipePeople(Adapter):
    """``id|given|family|nino`` lines <-> hr.person; for testing the pipeline only."""

    key = "pipe-people"
    title = "pipe-delimited people"
    reads = writes = ("hr.person",)

    def read(self, source):
        with open(source, encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                position = Position(source, number, number)
                fields = line.rstrip("\n").split("|")
                if len(fields) != 4:
                    yield Rejected(position, line, f"has {len(fields)} fields; a person line has 4")
                    continue
                number_, given, family, nino = fields
                record = {"id": f"p{number_}", "name": {"given_name": given, "family_name": family}}
                if nino:
                    record["ni_number"] = nino
                yield Converted(position, [self.message("hr.person", record)], native=line)

    def write(self, messages, target):
        with open(target, "w", encoding="utf-8") as out:
            for number, message in enumerate(messages, start=1):
                position = Position("messages", number)
                data = message["data"]
                try:
                    if "|" in data["name"]["family_name"]:
                        raise RecordError("a family name with | cannot be written in this format")
                except RecordError as exc:
                    yield Rejected(position, message, exc.reason)
                    continue
                out.write(f"{data['id'][1:]}|{data['name']['given_name']}|{data['name']['family_name']}|"
                          f"{data.get('ni_number', '')}\n")
                yield Converted(position, [message])


OPTIONS = {"council": "E07000991", "as_at": "2025-09-30T17:00:00Z"}


@pytest.fixture
def people(tmp_path):
    path = tmp_path / "people.txt"
    path.write_text("1|Ada|Lane|AB123456C\n2|Ben|Moss\n3|Cal|Reed|DQ123456C\n4|Dee|Hart|\n")
    return path


def test_every_record_read_is_converted_or_quarantined_with_a_reason(people, tmp_path):
    out = tmp_path / "out.ndjson"
    quarantined = io.StringIO()
    summary = convert(PipePeople(OPTIONS), str(people), None, str(out), Quarantine(quarantined))
    assert (summary.read, summary.converted, summary.quarantined) == (4, 2, 2)
    assert summary.read == summary.converted + summary.quarantined
    entries = [json.loads(line) for line in quarantined.getvalue().splitlines()]
    assert [(e["stage"], e["record"]) for e in entries] == [("read", 2), ("validate", 3)]
    assert entries[0]["native"] == "2|Ben|Moss\n" and "has 3 fields" in entries[0]["reason"]
    assert entries[1]["native"] == "3|Cal|Reed|DQ123456C\n"
    assert entries[1]["requirement"].startswith("PS-") and "/data/ni_number" in entries[1]["reason"]
    assert "DQ123456C" not in entries[1]["reason"]  # reasons never show an NI number
    assert summary.exit_code() == 1 and summary.exit_code(max_rejects=2) == 0


def test_canonical_output_validates_and_is_written_whole(people, tmp_path):
    out = tmp_path / "out.ndjson"
    convert(PipePeople(OPTIONS), str(people), None, str(out))
    validator = MessageValidator()
    lines = out.read_text().splitlines()
    assert len(lines) == 2
    for line in lines:
        assert validator.check(json.loads(line))[1] == []
    assert not (tmp_path / "out.ndjson.part").exists()


def test_native_to_canonical_to_native_is_stable(people, tmp_path):
    canonical = tmp_path / "c.ndjson"
    convert(PipePeople(OPTIONS), str(people), None, str(canonical))
    native = tmp_path / "again.txt"
    summary = convert(CanonicalSource(), str(canonical), PipePeople(OPTIONS), str(native))
    assert summary.written == 2 and summary.quarantined == 0
    again = tmp_path / "again.ndjson"
    convert(PipePeople(OPTIONS), str(native), None, str(again))
    assert canonical.read_text() == again.read_text()


def test_a_message_the_target_cannot_write_is_quarantined_and_counted_once(tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("1|Ada|Lane|\n")
    canonical = tmp_path / "c.ndjson"
    convert(PipePeople(OPTIONS), str(source), None, str(canonical))
    message = json.loads(canonical.read_text())
    message["data"]["name"]["family_name"] = "La|ne"
    canonical.write_text(json.dumps(message) + "\n" + json.dumps({**message, "id": "other"}) + "\n")
    quarantined = io.StringIO()
    summary = convert(CanonicalSource(), str(canonical), PipePeople(OPTIONS), str(tmp_path / "o.txt"),
                      Quarantine(quarantined))
    assert (summary.read, summary.converted, summary.quarantined, summary.written) == (2, 0, 2, 0)
    assert all(json.loads(line)["stage"] == "write" for line in quarantined.getvalue().splitlines())


def test_types_the_target_does_not_carry_are_counted_not_lost_silently(tmp_path):
    canonical = tmp_path / "c.ndjson"
    canonical.write_text(open("spec/examples/valid/hr.position.json").read().replace("\n", " ") + "\n")
    summary = convert(CanonicalSource(), str(canonical), PipePeople(OPTIONS), str(tmp_path / "o.txt"))
    assert summary.not_carried == {"hr.position": 1} and summary.exit_code() == 0


def test_an_unreadable_input_is_an_adapter_error_not_a_traceback(tmp_path):
    with pytest.raises(AdapterError, match="no such file"):
        convert(CanonicalSource(), str(tmp_path / "missing.ndjson"), None, str(tmp_path / "o.ndjson"))


def test_options_are_checked_against_the_declaration():
    with pytest.raises(AdapterError, match="needs --option council="):
        PipePeople({})
    with pytest.raises(AdapterError, match="has no option colour"):
        PipePeople({**OPTIONS, "colour": "red"})
    with pytest.raises(AdapterError, match="GSS code"):
        PipePeople({"council": "E0799"})


def test_values_the_target_has_no_place_for_are_reported_not_silently_dropped(people, tmp_path):
    canonical = tmp_path / "people.ndjson"
    convert(PipePeople(OPTIONS), str(people), None, str(canonical))
    lines = [json.loads(line) for line in canonical.read_text().splitlines()]
    lines[0]["data"]["extensions"] = {"gov.uk.e07000991": {"locality_code": "F1"},
                                      "native.pipe-people": {"kept": "x"}}
    lines[0]["data"]["name"]["title"] = "Dr"
    canonical.write_text("".join(json.dumps(m) + "\n" for m in lines))

    class Declaring(PipePeople):
        def write(self, messages, target):
            for outcome in super().write(messages, target):
                if "title" in outcome.messages[0]["data"]["name"]:
                    outcome.lost.append("/data/name/title")
                yield outcome

    summary = convert(CanonicalSource(), str(canonical), Declaring(OPTIONS), str(tmp_path / "out.txt"))
    assert summary.quarantined == 0 and summary.written == len(lines)
    assert dict(summary.not_written) == {"hr.person /data/extensions/gov.uk.e07000991": 1,
                                         "hr.person /data/name/title": 1}
    assert summary.as_dict()["not_written"]


# --- the quarantine never stops a conversion ------------------------------------------------------


def test_the_quarantine_writes_a_native_record_with_undecodable_bytes_as_text(tmp_path):
    path = tmp_path / "q.ndjson"
    with path.open("w", encoding="utf-8") as stream:
        Quarantine(stream).add("read", Position("in.csv", 2, 3), ["R1", "CAF\udcc9", "\ud800"],
                               "the record has 3 fields and the header 11")
    (entry,) = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert entry["native"] == ["R1", "CAF\\xc9", "\\ud800"] and entry["record"] == 2


def test_the_quarantine_writes_what_json_cannot_hold_and_a_narrow_encoding(tmp_path):
    looped: list = ["a"]
    looped.append(looped)
    stream = io.StringIO()
    quarantine = Quarantine(stream)
    quarantine.add("read", Position("in", 1), {("a", "b"): 1}, "a key that is not text")
    quarantine.add("read", Position("in", 2), looped, "a cycle")
    quarantine.add("read", Position("in", 3), {"when": dt.date(2025, 4, 1)}, "a date object")
    entries = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [e["native"] for e in entries] == ["{('a', 'b'): 1}", "['a', [...]]", {"when": "2025-04-01"}]
    path = tmp_path / "ascii.ndjson"
    with path.open("w", encoding="ascii") as narrow:
        Quarantine(narrow).add("read", Position("in", 1), {"cashier": "CAFÉ"}, "naïve reason")
    (entry,) = [json.loads(line) for line in path.read_text(encoding="ascii").splitlines()]
    assert entry["native"] == {"cashier": "CAFÉ"} and entry["reason"] == "naïve reason"


def test_a_rejection_with_undecodable_bytes_is_quarantined_and_the_conversion_goes_on(tmp_path):
    class RawFields(PipePeople):
        def read(self, source):
            with open(source, encoding="utf-8", errors="surrogateescape") as handle:
                for number, line in enumerate(handle, start=1):
                    yield Rejected(Position(source, number), line.rstrip("\n").split("|"), "bad byte \udce9")

    source = tmp_path / "in.txt"
    source.write_bytes(b"1|Ren\xe9|Lane|\n2|Ada|Lane|\n")
    quarantine = tmp_path / "q.ndjson"
    with quarantine.open("w", encoding="utf-8") as stream:
        summary = convert(RawFields(OPTIONS), str(source), None, str(tmp_path / "o.ndjson"), Quarantine(stream))
    assert (summary.read, summary.quarantined) == (2, 2)
    entries = [json.loads(line) for line in quarantine.read_text(encoding="utf-8").splitlines()]
    assert entries[0]["native"] == ["1", "Ren\\xe9", "Lane", ""]
    assert dict(summary.reasons) == {"bad byte \\xe9": 2}


# --- lost values ---------------------------------------------------------------------------------


def test_lost_values_fold_list_indexes_only_and_skip_empty_namespaces():
    message = {"type": "uk.plugshare.revenues.property",
               "data": {"source_ids": [{"scheme": "a", "value": "1"}, {"scheme": "b", "value": "2"}],
                        "extensions": {"native.voa-list": {"2024": "x"}, "gov.uk.e07000991": {},
                                       "native.other": {"kept": "y"}, "a/b": {"c": "d"}}}}
    target = PipePeople(OPTIONS)
    assert lost_values(message, target, ["/data/source_ids/1", "/data/extensions/native.voa-list/2024",
                                         "/data/source_ids/1/value", "/data/missing/3"]) == [
        "/data/source_ids/*", "/data/extensions/native.voa-list/2024", "/data/source_ids/*/value",
        "/data/missing/3", "/data/extensions/native.voa-list", "/data/extensions/native.other",
        "/data/extensions/a~1b"]
