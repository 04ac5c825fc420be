"""A status line on a terminal: rewritten in place there, and kept out of pipes and files unless asked.

Conversions and migrations show how far they have got on standard error; on a terminal the line is
rewritten and cleared at the end, elsewhere (when asked with ``--progress``) each update is a line of its own.
"""

from __future__ import annotations

from typing import IO


def is_terminal(stream: IO[str]) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


class StatusLine:
    """``show`` None shows the line only on a terminal; True or False decides regardless."""

    def __init__(self, stream: IO[str], *, show: bool | None = None):
        self.stream = stream
        self.terminal = is_terminal(stream)
        self.shown = self.terminal if show is None else show
        self._width = 0

    def write(self, text: str) -> None:
        if not self.shown:
            return
        if self.terminal:
            self.stream.write("\r" + text.ljust(self._width))
            self._width = max(self._width, len(text))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def finish(self) -> None:
        """Clear the line, if one was drawn, leaving the cursor where it started."""
        if self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0
