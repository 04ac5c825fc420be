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

