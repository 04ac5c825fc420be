"""The checks of :mod:`plugshare.testing` as plain functions, and the helpers its harness shares.

Imports of plugshare itself happen inside the functions, so that loading the
pytest plugin costs only pytest and the standard library.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from plugshare.adapters.contract import Outcome
    from plugshare.plugins import AdapterEntry
    from plugshare.validation.problems import Problem
    from plugshare.validation.validator import MessageValidator

#: options given to an adapter that declares them, unless the test gives its own: a fictional
#: council and a fixed extract time, so that message ids are the same on every run
DEFAULT_OPTIONS = {"council": "E07000991", "as_at": "2025-09-30T17:00:00Z"}

#: envelope attributes a round trip may change: each reading makes new ones
ENVELOPE_IDENTITY = ("id", "time")

_MAX_LISTED = 20
#: an NI number's shape, looser than its grammar on purpose: a wrong but real-looking number is personal data too
_NI_NUMBER = re.compile(r"\b[A-Z]{2} ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-D]\b")
_TRACEBACK = re.compile(r"Traceback \(most recent call last\)|File \"[^\"]+\", line [0-9]+")
_EXCEPTION = re.compile(r"^\s*[A-Za-z_][\w.]*(Error|Exception)\b\s*(\(|:|$)")
#: native names of the standard's sensitive fields (validation.schemas.SENSITIVE_FIELDS), compared as
#: :func:`_folded` gives them: ``NINO`` (RTI), ``Date of Birth``, ``DOB``
_NATIVE_SENSITIVE = frozenset({"nino", "dateofbirth", "dob"})
#: in a native line: an NI-number-shaped text, a date, and any run of five or more digits (an account number)
_NATIVE_PERSONAL = re.compile(r"\b[A-Z]{2} ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-D]\b"
                              r"|\b[0-9]{1,4}[/.-][0-9]{1,2}[/.-][0-9]{1,4}\b|[0-9]{5,}")
#: how much of a differing native line is shown around the first difference
_CONTEXT = 12


# --- functions -----------------------------------------------------------------------


def assert_valid(messages: Iterable[dict[str, Any]], validator: MessageValidator | None = None, *,
                 strict: bool = False) -> list[dict[str, Any]]:
    """Every message passes the standard: no MUST problem (and, if ``strict``, no SHOULD problem either).

    The failure lists each problem as ``message N (type, subject): [requirement] at pointer: reason``.
    """
    __tracebackhide__ = True
    from plugshare.validation.validator import MessageValidator

    validator = validator or MessageValidator()
    messages = list(messages)
    lines = []
    for number, message in enumerate(messages, start=1):
        lines += [f"message {number} ({_name(message)}): {line}"
                  for line in _problem_lines(validator, message, strict)]
    if lines:
        raise AssertionError(f"{len(lines)} problem(s) with the standard:\n" + _listed(lines))
    return messages


def assert_registered(key: str, *plugins: Any, load_entry_points: bool | None = None) -> AdapterEntry:
    """An adapter of this key is registered, and the plugin host loads without failures.

    With ``plugins`` (e.g. ``plugshare_mine.plugin``, not yet installed), those are registered
    beside the built-ins and entry points are off; without them, the installed entry points are
    read (unless ``PLUGSHARE_DISABLE_PLUGIN_AUTOLOAD=1``), as ``plugshare adapters list`` does.
    Also checks that the adapter's key is lower-case letters, digits and hyphens, and that its
    description serialises to JSON.
    """
    __tracebackhide__ = True
    from plugshare.plugins import PluginError, make_host

    if load_entry_points is None and plugins:
        load_entry_points = False
    host = make_host(load_entry_points=load_entry_points, extra_plugins=plugins)
    if host.failures:
        raise AssertionError("plugins failed to load:\n" + "\n".join(f"  {f}" for f in host.failures))
    try:
        adapters = host.adapters()
    except PluginError as exc:
        raise AssertionError(f"the plugins' adapters cannot be registered: {exc}") from None
    if key not in adapters:
        raise AssertionError(f"no adapter {key!r} is registered; the adapters are: {', '.join(sorted(adapters))}")
    entry = adapters[key]
    if not re.fullmatch(r"[a-z][a-z0-9-]*", key):
        raise AssertionError(f"adapter key {key!r} must be lower-case letters, digits and hyphens")
    try:
        json.dumps(entry.describe())
    except (TypeError, ValueError) as exc:
        raise AssertionError(f"adapter {key!r}: its description is not JSON ({exc})") from None
    return entry


def canonical_view(message: dict[str, Any], ignore: Iterable[str] = ()) -> dict[str, Any]:
    """A message without what a new reading may change: the envelope's ``id`` and ``time``, and ``ignore``.

    ``ignore`` holds dotted paths into the message, such as ``data.effective_from``.
    """
    view = json.loads(json.dumps(message))
    for name in ENVELOPE_IDENTITY:
        view.pop(name, None)
    for path in ignore:
        *parents, last = path.split(".")
        node: Any = view
        for part in parents:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(last, None)
    return view

def load_canonical(path: str | Path) -> list[dict[str, Any]]:
    """The messages of a canonical JSON or NDJSON file; an unreadable entry fails, naming its line."""
    __tracebackhide__ = True
    from plugshare.validation.reader import read_path

    messages = []
    for entry in read_path(str(path)):
        if entry.message is None:
            reason = entry.problem.reason if entry.problem else "unreadable"
            raise AssertionError(f"{entry.location}: not a message: {reason}")
        messages.append(entry.message)
    return messages


# --- helpers ---------------------------------------------------------------------------


def _check_outcome(outcome: Any, doing: str) -> None:
    __tracebackhide__ = True
    from plugshare.adapters.contract import Converted, Position, Rejected

    if not isinstance(outcome, (Converted, Rejected)):
        raise AssertionError(f"when it {doing}s, an adapter yields Converted or Rejected outcomes, not {outcome!r}")
    if not isinstance(outcome.position, Position):
        raise AssertionError(f"an outcome's position must be a Position, not {outcome.position!r}")


def _name(message: dict[str, Any]) -> str:
    kind = str(message.get("type", "?")).removeprefix("uk.plugshare.")
    subject = message.get("subject") or (message.get("data") or {}).get("id")
    return f"{kind} {subject}" if subject else kind


def _problem_lines(validator: MessageValidator, message: dict[str, Any], strict: bool) -> list[str]:
    _, problems = validator.check(message)
    return [_problem_text(p) for p in problems if p.level == "MUST" or strict]


def _problem_text(problem: Problem) -> str:
    return f"[{problem.requirement}] {problem.level} at {problem.pointer or '/'}: {problem.reason}"


def _listed(lines: list[str]) -> str:
    shown = [f"  {line}" for line in lines[:_MAX_LISTED]]
    if len(lines) > _MAX_LISTED:
        shown.append(f"  ... and {len(lines) - _MAX_LISTED} more")
    return "\n".join(shown)


def _unreadable(reason: Any) -> str | None:
    """Why a reason is not one a person can read, or None."""
    if not isinstance(reason, str) or not reason.strip():
        return "is empty"
    if _TRACEBACK.search(reason):
        return "is a traceback"
    if _EXCEPTION.match(reason):
        return "is an exception's name or repr, not a reason"
    if not re.search(r"[A-Za-z]{2}", reason):
        return "has no words"
    if _NI_NUMBER.search(reason):
        return "shows an NI number (mask it: never more than its last characters)"
    return None


def _position_problems(outcomes: list[Outcome]) -> list[str]:
    seen: set[tuple[str, int]] = set()
    lines = []
    for outcome in outcomes:
        where = (outcome.position.source, outcome.position.record)
        if outcome.position.record < 1:
            lines.append(f"{outcome.position}: record numbers count from 1")
        if where in seen:
            lines.append(f"{outcome.position}: two outcomes for one record; each native record gives exactly one")
        seen.add(where)
    return lines


def _identity(message: dict[str, Any]) -> tuple[str, str, str]:
    data = message.get("data") or {}
    return (str(message.get("type")), str(message.get("subject") or data.get("id")), str(message.get("action")))


def _differences(before: list[dict[str, Any]], after: list[dict[str, Any]], ignore: list[str]) -> list[str]:
    lines = []
    first = {_identity(m): canonical_view(m, ignore) for m in before}
    second = {_identity(m): canonical_view(m, ignore) for m in after}
    for identity in first.keys() - second.keys():
        lines.append(f"{' '.join(identity[:2])}: lost (not read back)")
    for identity in second.keys() - first.keys():
        lines.append(f"{' '.join(identity[:2])}: appeared (read back, but not in the source)")
    for identity in first.keys() & second.keys():
        lines += [f"{' '.join(identity[:2])}: {line}" for line in _diff(first[identity], second[identity], "")]
    if len(before) != len(after) and not lines:
        lines.append(f"{len(before)} message(s) read from the source, {len(after)} read back")
    return sorted(lines)


def _diff(a: Any, b: Any, path: str, sensitive: bool = False) -> list[str]:
    """The differences of two values, one line each; values under a sensitive field are masked."""
    if isinstance(a, dict) and isinstance(b, dict):
        lines = []
        for name in sorted(a.keys() | b.keys()):
            where = f"{path}.{name}" if path else name
            masked = sensitive or _is_sensitive(name)
            if name not in b:
                lines.append(f"{where}: {_shown(a[name], masked)} lost")
            elif name not in a:
                lines.append(f"{where}: {_shown(b[name], masked)} added")
            else:
                lines += _diff(a[name], b[name], where, masked)
        return lines
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [line for index, (x, y) in enumerate(zip(a, b, strict=True))
                for line in _diff(x, y, f"{path}.{index}", sensitive)]
    return [] if a == b else [f"{path}: {_shown(a, sensitive)} became {_shown(b, sensitive)}"]


def _shown(value: Any, sensitive: bool = False) -> str:
    """A value for a failure message, with personal data masked (see :func:`_masked`)."""
    return repr(_masked(value, sensitive))


def _masked(value: Any, sensitive: bool = False) -> Any:
    """``value`` with personal data masked to its last two characters, however deep it is.

    A value under a sensitive field (``ni_number``, ``birth_date``, ``account_number``... and their
    native names, such as ``NINO``), at any depth, is masked whole; elsewhere, NI-number-shaped
    text is masked where it stands.
    """
    if isinstance(value, dict):
        return {name: _masked(item, sensitive or _is_sensitive(name)) for name, item in value.items()}
    if isinstance(value, list):
        return [_masked(item, sensitive) for item in value]
    if sensitive and value is not None and not isinstance(value, bool):
        return _mask(str(value))
    if isinstance(value, str):
        return _NI_NUMBER.sub(lambda found: _mask(found.group()), value)
    return value


def _mask(text: str) -> str:
    return "*" * max(len(text) - 2, 0) + text[-2:]


def _is_sensitive(name: Any) -> bool:
    return _folded(str(name)) in _sensitive_names()


@functools.cache
def _sensitive_names() -> frozenset[str]:
    """The standard's sensitive fields and their native names, folded; imported on first use, so that
    loading the plugin stays cheap."""
    from plugshare.validation.schemas import SENSITIVE_FIELDS

    return frozenset({_folded(field) for field in SENSITIVE_FIELDS} | _NATIVE_SENSITIVE)


def _folded(name: str) -> str:
    """A field name without case, spaces or punctuation: ``NI Number`` and ``ni_number`` are one name."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _first_difference(expected: Path, written: Path) -> str:
    """Where a written native file first differs from the expected one: the line, the column, and a few
    characters either side of it, with NI numbers, dates and long numbers masked (a native line holds
    bank account numbers, NI numbers and birth dates in full)."""
    old, new = expected.read_bytes().splitlines(keepends=True), written.read_bytes().splitlines(keepends=True)
    for number, (a, b) in enumerate(zip(old, new, strict=False), start=1):
        if a != b:
            left, right = a.decode("utf-8", "backslashreplace"), b.decode("utf-8", "backslashreplace")
            column = next((i for i, (x, y) in enumerate(zip(left, right, strict=False)) if x != y),
                          min(len(left), len(right)))
            return (f"line {number}, column {column + 1}: expected {_around(left, column)}, "
                    f"written {_around(right, column)}")
    return f"expected {len(old)} line(s), written {len(new)}"


def _around(line: str, column: int) -> str:
    """The text of a native line around ``column``, masked, as a repr with ``...`` where it is cut."""
    masked = _NATIVE_PERSONAL.sub(lambda found: re.sub(r"[0-9A-Za-z]", "*", found.group()[:-2]) + found.group()[-2:],
                                  line)
    start, end = max(column - _CONTEXT, 0), column + _CONTEXT
    return ("..." if start else "") + repr(masked[start:end]) + ("..." if end < len(masked) else "")
