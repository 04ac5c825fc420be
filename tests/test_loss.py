"""The loss rule when writing: what a written message loses is what reading it back would not give again."""

from plugshare.adapters.loss import not_restored

NAMESPACE = "native.hr-csv"


def test_what_is_lost_is_what_the_record_read_back_lacks_or_holds_otherwise():
    data = {"id": "x", "budgeted_fte": "1.0", "middle_names": "",
            "source_ids": [{"scheme": "payroll", "value": "7"}, {"scheme": "hr-csv", "value": "x"}],
            "name": {"given_name": "Ann", "preferred_name": "Annie"}, "tupe_transfer": {"a": "1", "b": "2"},
            "extensions": {NAMESPACE: {"Same": "1", "Blank": "", "Locker/Bay": "3"}, "gov.uk.e07000991": {"y": 1}}}
    back = {"id": "x", "budgeted_fte": "1", "source_ids": [{"scheme": "hr-csv", "value": "x"}],
            "name": {"given_name": "Ann"}, "extensions": {NAMESPACE: {"Same": "1"}}}
    assert not_restored(data, back, NAMESPACE) == [
        "/data/source_ids/0", "/data/name/preferred_name", "/data/tupe_transfer",  # nothing of it kept: whole
        "/data/extensions/native.hr-csv/Blank", "/data/extensions/native.hr-csv/Locker~1Bay"]
    assert not_restored(data, None, NAMESPACE) == ["/data"]  # would not read back at all



def test_a_false_or_blank_value_that_reads_back_as_a_value_is_lost():
    assert not_restored({"occupied": False}, {"occupied": True}, NAMESPACE) == ["/data/occupied"]
    assert not_restored({"note": ""}, {"note": "n/a"}, NAMESPACE) == ["/data/note"]
    assert not_restored({"flags": {"a": False, "b": True}}, {"flags": {"a": True, "b": True}}, NAMESPACE) == [
        "/data/flags/a"]
    # absent, blank or false read back as absent, blank or false: nothing was carried, nothing is lost
    assert not_restored({"occupied": False, "note": "", "tags": []}, {"note": None, "tags": False}, NAMESPACE) == []


def test_number_texts_match_by_value_only_when_their_whole_digits_are_written_alike():
    data = {"payroll_id": "010231", "reference": "007", "fte": "25.0", "rate": "0.50", "minus": "-3.10"}
    back = {"payroll_id": "10231", "reference": "7", "fte": "25", "rate": "0.5", "minus": "-3.1"}
    assert not_restored(data, back, NAMESPACE) == ["/data/payroll_id", "/data/reference"]
