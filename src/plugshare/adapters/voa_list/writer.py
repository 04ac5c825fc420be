"""Writing a list extract from hereditament messages, one line per message, as the messages arrive.

Nothing is buffered: each message is checked, laid out and written at once.
The file is opened with the first entry written, beside the target, and
moved into place only when complete; with no entry at all no file is made.
Each line is read back in memory as the reader reads it; what of its message
it would not give again goes in the outcome's ``lost`` (see :mod:`plugshare.adapters.loss`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from plugshare.adapters.contract import (
    AdapterError,
    Outcome,
    Position,
    RecordError,
    take_message,
)
from plugshare.adapters.files import NativeOutput
from plugshare.adapters.loss import not_restored
from plugshare.adapters.voa_list.entry import HEREDITAMENT, kept_forms, to_record, writable
from plugshare.adapters.voa_list.layout import SEPARATOR

if TYPE_CHECKING:
    from plugshare.adapters.voa_list import VoaListAdapter

LINE_END = "\r\n"


class Writer:
    def __init__(self, adapter: VoaListAdapter, target: str):
        self.adapter, self.target = adapter, target
        self.out: NativeOutput | None = None
        self.written = 0

    def run(self, messages: Iterable[dict[str, Any]]) -> Iterator[Outcome]:
        finished = False
        try:
            for number, message in enumerate(messages, start=1):
                yield take_message(Position("messages", number), message, lambda m=message: self._take(m),
                                   "a list entry")
            if not self.written:
                raise AdapterError(f"{self.target}: no list entry could be written, so no file was made; see the "
                                   f"rejected messages")
            finished = True
        finally:
            self._close(finished)

    def line(self, message: dict[str, Any]) -> str:
        """One message -> its list line (without the line end); RecordError when it cannot be written."""
        return SEPARATOR.join(self.values(message)) + SEPARATOR

    def _take(self, message: dict[str, Any]) -> list[str]:
        """Write one message's line; what of it the line does not carry."""
        values = self.values(message)
        self._write(SEPARATOR.join(values) + SEPARATOR)
        return self.lost(message, values)

    def values(self, message: dict[str, Any]) -> list[str]:
        """One message -> the 28 values of its list line; RecordError when it cannot be written."""
        kind = str(message.get("type", "")).removeprefix("uk.plugshare.")
        if kind != HEREDITAMENT:
            raise RecordError(f"a {kind or 'message without a type'} message has no place in a rating list "
                              f"extract (it carries {HEREDITAMENT} only)")
        if message.get("action", "upsert") == "delete":
            raise RecordError(f"the deletion of {message.get('subject')} cannot be written: a list extract holds "
                              f"the entries in the list; leave the entry out, or end it with current_to")
        data, council = message["data"], message["council"]
        code = data["billing_authority_code"]
        owner = self.adapter.council_for(code)
        if owner != council:
            raise RecordError(f"billing_authority_code {code} is {owner}'s (option billing_authorities), but the "
                              f"message is {council}'s; correct the code or the message's council")
        self.adapter.accept(code, owner)
        if data["rating_list"] != self.adapter.rating_list:
            raise RecordError(f"the entry is in the {data['rating_list']} list; this extract is of the "
                              f"{self.adapter.rating_list} list (option rating_list): write it to another extract")
        kept = (data.get("extensions") or {}).get(self.adapter.extension_namespace) or {}
        return writable(data, council, kept)

    def lost(self, message: dict[str, Any], values: list[str]) -> list[str]:
        """What of a message its line does not carry: the line read back as the reader reads it, compared."""
        data, namespace = message["data"], self.adapter.extension_namespace
        try:
            back = to_record(values, message["council"], data["rating_list"])
        except RecordError:  # the line would not read back at all
            return not_restored(data, None, namespace)
        kept = kept_forms(values, back)
        if kept:
            back["extensions"] = {namespace: kept}
        return not_restored(data, back, namespace)

    def _write(self, line: str) -> None:
        if self.out is None:
            self._open()
        assert self.out is not None
        self.out.write(line + LINE_END)
        self.written += 1

    def _open(self) -> None:
        self.out = NativeOutput(self.target, encoding="ascii", newline="")

    def _close(self, finished: bool) -> None:
        if self.out is not None:
            self.out.close(finished)
