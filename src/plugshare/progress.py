"""What a conversion shows people: a progress line on a terminal and a summary of counts."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from plugshare.conversion import ConversionSummary


class ProgressLine:
    """One line on standard error, rewritten at most five times a second; nothing when not a terminal."""

    def __init__(self, stream: IO[str], interval: float = 0.2):
        self.stream = stream
        self.interval = interval
        self._started = time.monotonic()
        self._last = 0.0
        self._width = 0

    def update(self, summary: ConversionSummary) -> None:
        now = time.monotonic()
        if now - self._last < self.interval:
            return
        self._last = now
        elapsed = max(now - self._started, 1e-9)
        text = (f"  read {summary.read:,} records: {summary.converted:,} converted, {summary.quarantined:,} "
                f"quarantined ({summary.read / elapsed:,.0f} a second, {elapsed:.0f} s)")
        self.stream.write("\r" + text.ljust(self._width))
        self._width = max(self._width, len(text))
        self.stream.flush()

    def finish(self) -> None:
        if self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()


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
