"""Validation streams: it reads as it reports, so memory stays flat for any input size."""

import io
import json

from plugshare.validation.reader import read_stream
from plugshare.validation.validator import validate_entries
from tests.conftest import load_example


class CountingStream(io.RawIOBase):
    """A virtual NDJSON file of ``lines`` copies of a message, counting the bytes handed out."""

    def __init__(self, line: bytes, lines: int):
        self.line, self.remaining, self.bytes_read = line, lines, 0
        self.pending = b""

    def readable(self):
        return True

    def readinto(self, buffer):
        while len(self.pending) < len(buffer) and self.remaining:
            self.pending += self.line
            self.remaining -= 1
        chunk, self.pending = self.pending[:len(buffer)], self.pending[len(buffer):]
        buffer[:len(chunk)] = chunk
        self.bytes_read += len(chunk)
        return len(chunk)


def test_reports_come_before_the_input_is_read_to_the_end():
    line = (json.dumps(load_example("payroll.payslip.json")) + "\n").encode()
    raw = CountingStream(line, lines=200_000)  # about 600 MB if it were all read
    reports = validate_entries(read_stream(io.BufferedReader(raw), "virtual.ndjson", kind="ndjson"))
    first = [next(reports) for _ in range(50)]
    assert all(r.valid for r in first)
    assert raw.bytes_read < 1_000_000


def test_line_numbers_follow_the_input():
    line = (json.dumps(load_example("hr.person.json")) + "\n").encode()
    text = line + b"\n" + b"not json\n" + line
    reports = list(validate_entries(read_stream(io.BufferedReader(io.BytesIO(text)), "s.ndjson", "ndjson")))
    assert [(r.location.line, r.valid) for r in reports] == [(1, True), (3, False), (4, True)]


def test_a_conversion_streams_its_input_to_its_output(tmp_path):
    """Converting holds one record at a time: peak memory is a small fraction of the input's size."""
    import tracemalloc

    from plugshare.conversion import CanonicalSource, Quarantine, convert

    message = load_example("payroll.payslip.json")
    source = tmp_path / "big.ndjson"
    with open(source, "w") as handle:
        for number in range(4000):
            message["id"] = f"00000000-0000-4000-8000-{number:012d}"
            handle.write(json.dumps(message) + "\n")
    size = source.stat().st_size
    tracemalloc.start()
    try:
        with open(tmp_path / "q.ndjson", "w") as stream:
            summary = convert(CanonicalSource(), str(source), None, str(tmp_path / "out.ndjson"), Quarantine(stream))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert summary.read == summary.converted == 4000
    assert peak < size / 5, f"peak {peak:,} bytes for an input of {size:,}"
