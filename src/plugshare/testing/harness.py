"""The adapter harness of :mod:`plugshare.testing`: one adapter and the checks every adapter must pass."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plugshare.testing.checks import (
    _MAX_LISTED,
    DEFAULT_OPTIONS,
    _check_outcome,
    _differences,
    _first_difference,
    _identity,
    _listed,
    _name,
    _position_problems,
    _problem_lines,
    _unreadable,
    load_canonical,
)

if TYPE_CHECKING:
    from plugshare.adapters.contract import Adapter, AdapterError, Converted, Outcome, Rejected
    from plugshare.conversion import ConversionSummary
    from plugshare.validation.validator import MessageValidator

@dataclass
class Conversion:
    """What :meth:`AdapterHarness.convert` did: the summary, the output file and the quarantine's entries."""

    summary: ConversionSummary
    output: Path
    quarantined: list[dict[str, Any]] = field(default_factory=list)


class AdapterHarness:
    """One adapter class and its options, with the checks every adapter must pass.

    A new adapter instance is made for each read and write, as ``plugshare convert`` does.
    Sources and targets may be ``str`` or :class:`~pathlib.Path`.
    """

    def __init__(self, adapter: type[Adapter] | str, options: Mapping[str, str] | None = None, *,
                 validator: MessageValidator | None = None):
        if isinstance(adapter, str):
            from plugshare.plugins import make_host

            adapter = make_host().adapter(adapter)
        self.adapter_class = adapter
        declared = {option.name for option in adapter.options}
        self.options = {name: value for name, value in DEFAULT_OPTIONS.items() if name in declared}
        self.options.update(options or {})
        self._validator = validator

    @property
    def validator(self) -> MessageValidator:
        if self._validator is None:
            from plugshare.validation.validator import MessageValidator

            self._validator = MessageValidator()
        return self._validator

    def adapter(self, **options: str) -> Adapter:
        """A new adapter with the harness's options, and these on top."""
        return self.adapter_class({**self.options, **options})

    # --- doing ---------------------------------------------------------------------

    def read(self, source: str | Path, **options: str) -> list[Outcome]:
        """Every outcome of reading ``source``; anything but Converted or Rejected fails."""
        __tracebackhide__ = True
        outcomes = list(self.adapter(**options).read(str(source)))
        for outcome in outcomes:
            _check_outcome(outcome, "read")
        return outcomes

    def messages(self, source: str | Path, **options: str) -> list[dict[str, Any]]:
        """The messages of the converted records of ``source``, in order."""
        from plugshare.adapters.contract import Converted

        return [m for outcome in self.read(source, **options) if isinstance(outcome, Converted)
                for m in outcome.messages]

    def write(self, messages: Iterable[dict[str, Any]] | str | Path, target: str | Path,
              **options: str) -> list[Outcome]:
        """Write messages (or a canonical JSON/NDJSON file of them) to ``target``; every outcome."""
        __tracebackhide__ = True
        if isinstance(messages, (str, Path)):
            messages = load_canonical(messages)
        outcomes = list(self.adapter(**options).write(messages, str(target)))
        for outcome in outcomes:
            _check_outcome(outcome, "write")
        return outcomes

    def convert(self, source: str | Path, tmp_path: Path, **options: str) -> Conversion:
        """Run ``plugshare convert --from KEY --to canonical`` on ``source``, with a quarantine, in ``tmp_path``."""
        from plugshare.conversion import Quarantine, convert

        output, quarantine = Path(tmp_path) / "converted.ndjson", Path(tmp_path) / "quarantine.ndjson"
        with quarantine.open("w", encoding="utf-8") as stream:
            summary = convert(self.adapter(**options), str(source), None, str(output), Quarantine(stream),
                              validator=self.validator)
        entries = [json.loads(line) for line in quarantine.read_text(encoding="utf-8").splitlines()]
        return Conversion(summary, output, entries)

    # --- checking ------------------------------------------------------------------

    def assert_output_validates(self, source: str | Path, *, rejected: int | None = 0, strict: bool = False,
                                **options: str) -> list[dict[str, Any]]:
        """Every message made from ``source`` passes the standard; returns the messages.

        Fails, listing requirement id, pointer and reason per problem and the record it came
        from, when a message has a MUST problem (a SHOULD one too, if ``strict``), when a
        converted record made no message, when nothing converted at all, or when the number of
        rejected records is not ``rejected`` (``None``: any number).
        """
        __tracebackhide__ = True
        from plugshare.adapters.contract import Converted, Rejected

        outcomes = self.read(source, **options)
        lines, messages = [], []
        for outcome in outcomes:
            if isinstance(outcome, Rejected):
                continue
            if not outcome.messages:
                lines.append(f"{outcome.position}: converted, but the adapter made no message from it")
            for message in outcome.messages:
                messages.append(message)
                lines += [f"{outcome.position} ({_name(message)}): {line}"
                          for line in _problem_lines(self.validator, message, strict)]
        refused = [o for o in outcomes if isinstance(o, Rejected)]
        if not any(isinstance(o, Converted) for o in outcomes):
            lines.append(f"no record of {source} was converted ({len(refused)} rejected)")
        if rejected is not None and len(refused) != rejected:
            lines.append(f"{len(refused)} record(s) rejected, {rejected} expected" + "".join(
                f"\n    {o.position}: {o.reason}" for o in refused[:_MAX_LISTED]))
        if lines:
            raise AssertionError(f"{self.adapter_class.key}: the output of {source} does not pass the standard:\n"
                                 + _listed(lines))
        return messages

    def assert_rejects(self, source: str | Path, reason_contains: str | Iterable[str] = (), *,
                       count: int | None = None, never_shows: Iterable[str] = (), **options: str) -> list[Rejected]:
        """Reading ``source`` rejects records, each with a reason a person can read; returns the rejections.

        Fails when nothing (or not ``count`` records) is rejected; when a reason is empty, a
        traceback or an exception's repr, shows an NI number or any text in ``never_shows``, or
        (per text in ``reason_contains``, case aside) no reason contains it; when a rejection
        lacks its native record; when two outcomes claim one position or a record number is not
        from 1 (the counts must add up: one outcome per native record); and when the adapter
        raises instead of rejecting.
        """
        __tracebackhide__ = True
        from plugshare.adapters.contract import AdapterError, Rejected

        try:
            outcomes = self.read(source, **options)
        except AdapterError as exc:
            raise AssertionError(f"{self.adapter_class.key}: reading {source} raised AdapterError({exc}); a bad "
                                 "record must be Rejected with its reason, not fail the whole input") from None
        except AssertionError:
            raise
        except Exception as exc:
            raise AssertionError(f"{self.adapter_class.key}: reading {source} crashed with {exc!r}; expected bad "
                                 "input must be Rejected with a reason a person understands") from exc
        refused = [o for o in outcomes if isinstance(o, Rejected)]
        lines = []
        if not refused:
            lines.append(f"no record of {source} was rejected ({len(outcomes)} read)")
        elif count is not None and len(refused) != count:
            lines.append(f"{len(refused)} record(s) rejected, {count} expected")
        hidden = [text for text in never_shows if text]
        for outcome in refused:
            problem = _unreadable(outcome.reason)
            shown = [text for text in hidden if text in str(outcome.reason)]
            if problem:
                lines.append(f"{outcome.position}: the reason {problem}: {outcome.reason!r}")
            if shown:
                lines.append(f"{outcome.position}: the reason shows {', '.join(map(repr, shown))}: {outcome.reason!r}")
            if outcome.native is None:
                lines.append(f"{outcome.position}: the rejection does not carry the native record, so the "
                             "quarantine cannot hold it for correction")
        wanted = [reason_contains] if isinstance(reason_contains, str) else list(reason_contains)
        for text in wanted:
            if not any(text.lower() in str(o.reason).lower() for o in refused):
                lines.append(f"no reason contains {text!r}; the reasons are: "
                             + "; ".join(str(o.reason) for o in refused[:_MAX_LISTED]))
        lines += _position_problems(outcomes)
        if lines:
            raise AssertionError(f"{self.adapter_class.key}: the rejections of {source} are wrong:\n"
                                 + _listed(lines))
        return refused

    def assert_refuses(self, source: str | Path, message_contains: str = "", **options: str) -> AdapterError:
        """Reading ``source`` raises AdapterError (a whole-input problem) whose message contains the text.

        Fails when reading succeeds, when the AdapterError does not say the text or its message is
        not one a person can read, and when reading raises anything else: a whole-input problem
        must be an AdapterError, so that ``plugshare convert`` prints it and exits 2 instead of
        showing a traceback.
        """
        __tracebackhide__ = True
        from plugshare.adapters.contract import AdapterError

        try:
            outcomes = self.read(source, **options)
        except AdapterError as exc:
            if message_contains.lower() not in str(exc).lower():
                raise AssertionError(f"the AdapterError does not say {message_contains!r}: {exc}") from None
            if _unreadable(str(exc)):
                raise AssertionError(f"the AdapterError's message {_unreadable(str(exc))}: {exc}") from None
            return exc
        except AssertionError:  # a harness check of the outcomes
            raise
        except Exception as exc:
            raise AssertionError(f"{self.adapter_class.key}: reading {source} raised {type(exc).__name__} instead of "
                                 f"an AdapterError ({exc}); a whole-input problem must be an AdapterError saying what "
                                 "is wrong, where, and what to do") from exc
        raise AssertionError(f"{self.adapter_class.key}: {source} was read ({len(outcomes)} outcomes) instead of "
                             "refused with an AdapterError")

    def assert_round_trip(self, source: str | Path, tmp_path: Path, *, ignore: Iterable[str] = (),
                          identical: bool = False, **options: str) -> list[dict[str, Any]]:
        """native -> canonical -> native -> canonical gives the same canonical messages; returns them.

        Messages are compared without the envelope's ``id`` and ``time`` (and the dotted paths
        in ``ignore``), matched by type and subject. With ``identical``, the native file
        written must also equal ``source`` byte for byte. ``options`` are given to every adapter
        of the trip, on top of the harness's. Fails naming each field lost or changed.
        """
        __tracebackhide__ = True
        from plugshare.adapters.contract import Converted, Rejected

        key = self.adapter_class.key
        first = self.read(source, **options)
        refused = [o for o in first if isinstance(o, Rejected)]
        if refused:
            raise AssertionError(f"{key}: {len(refused)} record(s) of {source} were rejected (first: "
                                 f"{refused[0].position}: {refused[0].reason}); a round trip needs a source that "
                                 "converts whole")
        before = [m for o in first if isinstance(o, Converted) for m in o.messages]
        target = Path(tmp_path) / (f"round-trip{Path(source).suffix}" if Path(source).is_file() else "round-trip")
        outcomes = self.write(before, target, **options)
        failed = [o for o in outcomes if isinstance(o, Rejected)]
        if failed or len(outcomes) != len(before):
            raise AssertionError(f"{key}: writing the {len(before)} message(s) read back gave {len(outcomes)} "
                                 f"outcome(s), {len(failed)} rejected:\n"
                                 + _listed([f"message {o.position.record}: {o.reason}" for o in failed]))
        second = self.read(target, **options)
        refused = [o for o in second if isinstance(o, Rejected)]
        if refused:
            raise AssertionError(f"{key}: what it wrote does not read back:\n"
                                 + _listed([f"{o.position}: {o.reason}" for o in refused]))
        after = [m for o in second if isinstance(o, Converted) for m in o.messages]
        lines = _differences(before, after, list(ignore))
        if identical and Path(source).is_file() and target.read_bytes() != Path(source).read_bytes():
            lines.append(_first_difference(Path(source), target))
        if lines:
            raise AssertionError(f"{key}: the round trip of {source} through {target.name} is not stable:\n"
                                 + _listed(lines))
        return before

    def assert_writes(self, messages: Iterable[dict[str, Any]] | str | Path, expected: str | Path,
                      tmp_path: Path, **write_options: str) -> Path:
        """Writing the messages (or a canonical file) makes a file equal to ``expected`` byte for byte."""
        __tracebackhide__ = True
        from plugshare.adapters.contract import Rejected

        expected = Path(expected)
        target = Path(tmp_path) / f"written-{expected.name}"
        outcomes = self.write(messages, target, **write_options)
        failed = [f"message {o.position.record}: {o.reason}" for o in outcomes if isinstance(o, Rejected)]
        if failed:
            raise AssertionError(f"{self.adapter_class.key}: {len(failed)} message(s) were not written:\n"
                                 + _listed(failed))
        if not target.exists() or target.read_bytes() != expected.read_bytes():
            raise AssertionError(f"{self.adapter_class.key}: the file written differs from {expected}: "
                                 + (_first_difference(expected, target) if target.exists() else "nothing was written"))
        return target

    def assert_reports_loss(self, messages: Iterable[dict[str, Any]] | str | Path, tmp_path: Path, *,
                            probe: bool = True, **options: str) -> list[Converted]:
        """Every value a written message loses is named in its outcome's ``lost``; returns the outcomes written.

        The messages (or a canonical file of them) are written to ``tmp_path``, the file is read
        back with the same adapter, and each message read back is compared with the message
        written, as :func:`plugshare.adapters.loss.not_restored` compares: a value of the
        message's data that does not come back (extensions under other namespaces than the
        adapter's aside: the conversion reports those itself) must be named in ``lost``, by its
        pointer or an enclosing one. A message that does not come back at all (no message of its
        type and id is read back) must name ``/data`` or each value. With ``probe`` (the
        default), each message whose record has ``source_ids`` gets one more, of the scheme
        ``plugshare-testing-probe``, which the format must either write and read back or report.
        Fails naming each message and pointer (never a value); messages the writer rejects are
        left out of the check. It suits a format that reads back the messages it writes; one
        whose reading gives other messages (a payment file written from payslips) checks its
        ``lost`` in its own tests.
        """
        __tracebackhide__ = True
        from plugshare.adapters.contract import Converted
        from plugshare.adapters.loss import not_restored

        key = self.adapter_class.key
        if not self.adapter_class.reads:
            raise AssertionError(f"{key}: assert_reports_loss reads the written file back, but the adapter does not "
                                 "read; compare what it writes with what it reports in its own test")
        if isinstance(messages, (str, Path)):
            messages = load_canonical(messages)
        messages = [_probed(message) if probe else message for message in messages]
        target = Path(tmp_path) / "reports-loss"
        written = [o for o in self.write(messages, target, **options) if isinstance(o, Converted)]
        if not written:
            raise AssertionError(f"{key}: no message of the {len(messages)} was written, so nothing could be checked")
        back = {_identity(m): m for o in self.read(target, **options) if isinstance(o, Converted) for m in o.messages}
        namespace = self.adapter(**options).extension_namespace
        lines = []
        for outcome in written:
            for message in outcome.messages:
                data = message.get("data")
                if not isinstance(data, dict):  # a deletion: no values to lose
                    continue
                again = back.get(_identity(message))
                restored = again.get("data") if again is not None else None
                unsaid = [pointer for pointer in not_restored(data, restored, namespace)
                          if not any(_covers(lost, pointer) for lost in outcome.lost)]
                if unsaid:
                    lines.append(f"message {outcome.position.record} ({_name(message)}): "
                                 + ("not read back, " if again is None else "")
                                 + f"{', '.join(unsaid)} not restored by reading the file back, but lost names "
                                   f"{', '.join(outcome.lost) or 'nothing'}")
        if lines:
            raise AssertionError(f"{key}: the writer loses values without naming them in Converted.lost (the "
                                 "conversion reports only what lost names):\n" + _listed(lines))
        return written

    def assert_streams(self, source: str | Path, *, max_peak: int = 5_000_000, **options: str) -> int:
        """Reading ``source`` outcome by outcome peaks under ``max_peak`` bytes; returns the number of records.

        The outcomes are dropped as they come, as ``plugshare convert`` does, so the peak is what
        the adapter itself holds. Give it a large input (made by a generator into ``tmp_path``).
        """
        __tracebackhide__ = True
        started = not tracemalloc.is_tracing()
        if started:
            tracemalloc.start()
        tracemalloc.reset_peak()
        count = 0
        try:
            for outcome in self.adapter(**options).read(str(source)):
                count += 1
                del outcome
            _, peak = tracemalloc.get_traced_memory()
        finally:
            if started:
                tracemalloc.stop()
        if peak > max_peak:
            raise AssertionError(f"{self.adapter_class.key}: reading {count} records of {source} peaked at "
                                 f"{peak:,} bytes, over {max_peak:,}: the adapter holds records instead of "
                                 "streaming them")
        return count


#: the scheme of the source id :meth:`AdapterHarness.assert_reports_loss` adds to each record
PROBE_SCHEME = "plugshare-testing-probe"


def _probed(message: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``message`` whose record has one more source id, if it has source ids at all."""
    data = message.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("source_ids"), list):
        return message
    copy = json.loads(json.dumps(message))
    copy["data"]["source_ids"].append({"scheme": PROBE_SCHEME, "value": "PROBE1"})
    return copy


def _covers(lost: str, pointer: str) -> bool:
    """``lost`` names ``pointer``: the same pointer, or one enclosing it."""
    return pointer == lost or pointer.startswith(lost.rstrip("/") + "/")
