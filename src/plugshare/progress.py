"""What a conversion shows people: a progress line on a terminal and a summary of counts."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from plugshare.conversion import ConversionSummary
from plugshare.terminal import StatusLine


class ProgressLine(StatusLine):
    """One line on a terminal's standard error, rewritten at most once an interval (five times a second).

    ``show`` None (the default) shows the line only when ``stream`` is a terminal, so nothing is
    written into a pipe or a file; True or False decides regardless (``--progress`` /
    ``--no-progress``). The first line comes one interval after the start, so that its rate
    (records a second) is measured over at least that long; a conversion quicker than that
    shows no line at all.
    """

    def __init__(self, stream: IO[str], interval: float = 0.2, *, show: bool | None = None):
        super().__init__(stream, show=show)
        self.terminal = True  # a conversion's line is always rewritten in place, even when asked for in a pipe
        self.interval = interval
        self._started = time.monotonic()
        self._last = self._started

    def update(self, summary: ConversionSummary) -> None:
        if not self.shown:
            return
        now = time.monotonic()
        if now - self._last < self.interval:
            return
        self._last = now
        elapsed = now - self._started
        rate = f"{summary.read / elapsed:,.0f} a second, " if elapsed > 0 else ""  # elapsed 0: interval 0
        self.write(f"  read {summary.read:,} records: {summary.converted:,} converted, {summary.quarantined:,} "
                   f"quarantined ({rate}{elapsed:.0f} s)")


def summary_lines(summary: ConversionSummary, from_key: str, to_key: str, quarantine: Path | None,
                  max_rejects: int) -> Iterator[str]:
    yield (f"{from_key} -> {to_key}: read {summary.read} records: {summary.converted} converted, "
           f"{summary.quarantined} quarantined")
    if summary.by_type:
        yield "  messages: " + ", ".join(f"{count} {name}" for name, count in sorted(summary.by_type.items()))
    if to_key != "canonical" or summary.written:
        yield f"  written: {summary.written} messages" + (
            f", {summary.write_rejected} could not be written" if summary.write_rejected else "")
    if summary.not_written:
        yield f"  values {to_key} has no place for (reported, not written):"
        for what, count in sorted(summary.not_written.items(), key=lambda item: (-item[1], item[0]))[:8]:
            yield f"    {count} {what}"
        if len(summary.not_written) > 8:
            yield f"    and {len(summary.not_written) - 8} more kinds"
    if summary.not_carried:
        yield (f"  not carried by {to_key} (left out, not an error): "
               + ", ".join(f"{count} {name}" for name, count in sorted(summary.not_carried.items())))
    if summary.quarantined:
        for reason, count in summary.reasons.most_common(5):
            yield f"  quarantined {count}: {reason}"
        if quarantine is not None:
            yield f"  the quarantined records, with their positions and reasons, are in {quarantine}"
        else:
            yield "  give --quarantine FILE to keep the quarantined records with their reasons"
        if summary.quarantined <= max_rejects:
            yield f"  within --max-rejects {max_rejects}"
