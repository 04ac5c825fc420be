"""The progress line a conversion shows on a terminal, and only there."""

import io

import pytest

from plugshare import progress
from plugshare.conversion import ConversionSummary
from plugshare.progress import ProgressLine


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def clock(monkeypatch):
    """A clock the test moves: ``clock.now`` is what time.monotonic() gives the progress line."""

    class Clock:
        now = 1000.0

    monkeypatch.setattr(progress.time, "monotonic", lambda: Clock.now)
    return Clock


def counts(read: int, quarantined: int = 0) -> ConversionSummary:
    return ConversionSummary(read=read, converted=read - quarantined, quarantined=quarantined)


def test_the_first_line_comes_after_an_interval_with_a_rate_measured_over_it(clock):
    stream = Terminal()
    line = ProgressLine(stream)
    clock.now += 0.0001
    line.update(counts(1))  # at once: no line, and no rate of 10,000 a second
    assert stream.getvalue() == ""
    clock.now += 0.2
    line.update(counts(50))
    assert stream.getvalue() == "\r  read 50 records: 50 converted, 0 quarantined (250 a second, 0 s)"


def test_the_line_is_rewritten_at_most_once_an_interval_and_cleared_exactly(clock):
    stream = Terminal()
    line = ProgressLine(stream, interval=1.0)
    clock.now += 1.0
    line.update(counts(12_000, 3))
    first = "  read 12,000 records: 11,997 converted, 3 quarantined (12,000 a second, 1 s)"
    clock.now += 0.5
    line.update(counts(18_000, 3))  # within the interval: not rewritten
    assert stream.getvalue() == "\r" + first
    clock.now += 0.5
    line.update(counts(20_000))
    second = "  read 20,000 records: 20,000 converted, 0 quarantined (10,000 a second, 2 s)"
    assert stream.getvalue() == "\r" + first + "\r" + second.ljust(len(first))
    line.finish()
    assert stream.getvalue().endswith("\r" + " " * len(first) + "\r")


def test_nothing_is_written_when_the_stream_is_not_a_terminal_unless_asked(clock):
    piped = io.StringIO()
    line = ProgressLine(piped)
    clock.now += 5
    line.update(counts(10))
    line.finish()
    assert not line.shown and piped.getvalue() == ""
    asked = ProgressLine(piped, show=True)
    clock.now += 5
    asked.update(counts(10))
    assert asked.shown and piped.getvalue().startswith("\r  read 10 records")
    refused = ProgressLine(Terminal(), show=False)
    clock.now += 5
    refused.update(counts(10))
    assert refused.stream.getvalue() == ""


def test_a_quick_conversion_shows_no_line_and_finish_writes_nothing(clock):
    stream = Terminal()
    line = ProgressLine(stream)
    line.update(counts(3))
    line.finish()
    assert stream.getvalue() == ""
