"""Native files: read as numbered lines, written so that a conversion never leaves half a file behind."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

from plugshare.adapters.contract import AdapterError


def numbered_lines(path: str) -> Iterator[tuple[int, str]]:
    """Numbered lines without their line ends; bytes that are not UTF-8 are kept (surrogate-escaped) so that a
    reason can name them, never dropped. A file that cannot be opened is an :class:`AdapterError`."""
    try:
        handle = open(path, encoding="utf-8", errors="surrogateescape", newline="")
    except OSError as exc:
        raise AdapterError(f"{path}: cannot be read ({exc.strerror}); check the file name and that it is a "
                           f"file") from None
    with handle:
        for number, raw in enumerate(handle, start=1):
            yield number, raw.rstrip("\r\n")


class NativeOutput:
    """Text written to ``<target>.part`` and moved into place only when the whole stream is written.

    ``-`` is standard output, written as it comes. A writer calls :meth:`close` with
    ``finished=False`` when it stops early (an error, an input that cannot be used), and the
    partial file is removed, so an earlier complete file of the same name stays as it was.
    """

    def __init__(self, target: str, *, encoding: str, newline: str):
        self.target = target
        self.partial = None if target == "-" else target + ".part"
        if self.partial is None:
            self.stream = sys.stdout
            return
        try:
            self.stream = open(self.partial, "w", encoding=encoding, newline=newline)
        except OSError as exc:
            raise AdapterError(f"{target}: cannot be written ({exc.strerror})") from None

    def write(self, text: str) -> None:
        self.stream.write(text)

    def close(self, finished: bool) -> None:
        if self.partial is None:
            self.stream.flush()
            return
        self.stream.close()
        if finished:
            os.replace(self.partial, self.target)
        else:
            os.remove(self.partial)
