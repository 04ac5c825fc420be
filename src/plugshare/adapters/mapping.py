"""The mapping toolkit: so that an adapter is mostly declarations.

- :class:`FieldMap` and :class:`RecordMap` map native fields to paths in a
  canonical record and back;
- :class:`CodeList` translates vendor codes, and a code with no translation is
  an error naming the code and the list, never a silent default;
- parsers and formatters for the date and money forms vendors use;
- :func:`id_part` and :func:`payroll_person_id`: record ids made from native
  keys reversibly, so that two keys never share an id;
- the loss rule: a native field that is not mapped is kept in the record's
  extensions under the adapter's namespace (and restored from there when
  writing), or, where the adapter says so, the record is rejected naming it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from plugshare.adapters.contract import RecordError

# --- dates ------------------------------------------------------------------

#: date forms seen in council HR, payroll and revenues extracts, tried in order
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d-%b-%Y", "%d %b %Y", "%d-%b-%y", "%Y%m%d")


def parse_date(text: str, field: str, formats: Sequence[str] = DATE_FORMATS) -> str | None:
    """A vendor date -> ISO 8601 ``YYYY-MM-DD``; blank -> None.

    Forms that need a century guess (``%y``) are only tried when given; an
    ambiguous form such as ``01/02/2025`` is read the UK way, day first.
    """
    text = text.strip()
    if not text or set(text) <= {"0"} or text in {"00/00/0000", "0000-00-00"}:
        return None
    for form in formats:
        try:
            return dt.datetime.strptime(text, form).date().isoformat()
        except ValueError:
            continue
    raise RecordError(f"{field}: {text!r} is not a date in any form this adapter reads "
                      f"({', '.join(_date_example(f) for f in formats)})")


def format_date(iso: str | None, form: str = "%d/%m/%Y") -> str:
    """ISO 8601 -> a vendor's date form; None -> empty."""
    if not iso:
        return ""
    return dt.date.fromisoformat(iso).strftime(form)


def _date_example(form: str) -> str:
    return dt.date(2025, 4, 6).strftime(form)


# --- money ------------------------------------------------------------------

PENNY = Decimal("0.01")
_MONEY_TEXT = re.compile(r"^(?P<open>\()?(?P<sign>[-+])?£?(?P<number>[0-9][0-9,]*(\.[0-9]+)?|\.[0-9]+)"
                         r"(?P<trail>-|CR|DR)?(?P<close>\))?$")


def parse_money(text: str, field: str, *, implied_decimals: int | None = None) -> str | None:
    """A vendor amount -> the standard's money string ``"1234.56"``; blank -> None.

    Reads ``1,234.56``, ``£1234.5``, ``-12.00``, ``12.00-`` and ``(12.00)``
    (negative), ``12.00CR`` (negative). With ``implied_decimals=2``, digits
    only, as fixed-width extracts carry pence: ``0000123456`` -> ``1234.56``.
    An amount with fractions of a penny is an error, never rounded silently.
    """
    raw = text.strip()
    if not raw:
        return None
    if implied_decimals is not None:
        match = re.fullmatch(r"([-+]?)([0-9]+)([-+]?)", raw)
        if not match:
            raise RecordError(f"{field}: {text!r} is not an amount in pence (digits, with an optional sign)")
        amount = Decimal(match.group(2)).scaleb(-implied_decimals)
        if "-" in (match.group(1), match.group(3)):
            amount = -amount
    else:
        match = _MONEY_TEXT.fullmatch(raw.replace(" ", ""))
        if not match or bool(match.group("open")) != bool(match.group("close")):
            raise RecordError(f"{field}: {text!r} is not an amount of money such as 1234.56")
        try:
            amount = Decimal(match.group("number").replace(",", ""))
        except InvalidOperation:
            raise RecordError(f"{field}: {text!r} is not an amount of money such as 1234.56") from None
        if match.group("open") or match.group("sign") == "-" or match.group("trail") in ("-", "CR"):
            amount = -amount
    if amount != amount.quantize(PENNY):
        raise RecordError(f"{field}: {text!r} has fractions of a penny")
    return f"{amount.quantize(PENNY):f}"


def format_money(amount: str | None, *, implied_decimals: int | None = None, width: int | None = None) -> str:
    """The standard's money string -> ``1234.56`` or, with ``implied_decimals``, zero-padded pence."""
    if amount is None:
        return ""
    value = Decimal(amount)
    if implied_decimals is None:
        return f"{value.quantize(PENNY, rounding=ROUND_HALF_UP):f}"
    digits = str(int((abs(value) * (10 ** implied_decimals)).to_integral_value(ROUND_HALF_UP)))
    sign = "-" if value < 0 else ""
    if width is not None:
        digits = digits.rjust(width - len(sign), "0")
        if len(sign + digits) > width:
            raise RecordError(f"{amount} does not fit a field of {width} characters")
    return sign + digits


def parse_decimal(text: str, field: str) -> str | None:
    """A plain decimal (a rate, a percentage, an FTE) kept as text; blank -> None."""
    raw = text.strip().rstrip("%")
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise RecordError(f"{field}: {text!r} is not a number") from None
    if not value.is_finite():
        raise RecordError(f"{field}: {text!r} is not a number")
    return f"{value:f}"


def parse_int(text: str, field: str) -> int | None:
    raw = text.strip()
    if not raw:
        return None
    if not re.fullmatch(r"[-+]?[0-9]+", raw):
        raise RecordError(f"{field}: {text!r} is not a whole number")
    return int(raw)


def parse_bool(text: str, field: str) -> bool | None:
    raw = text.strip().upper()
    if not raw:
        return None
    if raw in {"Y", "YES", "TRUE", "T", "1"}:
        return True
    if raw in {"N", "NO", "FALSE", "F", "0"}:
        return False
    raise RecordError(f"{field}: {text!r} is not yes or no (Y/N, TRUE/FALSE, 1/0)")


# --- record ids -------------------------------------------------------------

#: the characters a native key keeps in a record id; every other one is escaped
_ID_KEPT = re.compile(r"[A-Za-z0-9.-]")
_ID_ESCAPE = re.compile(r"_([0-9A-F]{2})")


def id_part(key: str, field: str) -> str:
    """A native key (a payroll id, a reference) as part of a record id, reversibly.

    Letters, digits, ``.`` and ``-`` are kept; every other character becomes
    ``_`` and two upper-case hex digits for each byte of its UTF-8 form: a space
    is ``_20``, ``/`` is ``_2F``, ``&`` is ``_26`` and ``_`` itself ``_5F``. So
    ``A B`` and ``A_B`` give ``A_20B`` and ``A_5FB``: two different keys never
    give the same id, and :func:`key_of_id_part` gives the key back. A blank
    key is a :class:`RecordError` naming ``field``.
    """
    if not key:
        raise RecordError(f"{field} is blank; a record id cannot be made from it")
    return "".join(char if _ID_KEPT.fullmatch(char) else "".join(f"_{byte:02X}" for byte in char.encode())
                   for char in key)


def key_of_id_part(part: str) -> str:
    """The inverse of :func:`id_part`."""
    data = bytearray()
    index = 0
    while index < len(part):
        escaped = _ID_ESCAPE.match(part, index)
        if escaped:
            data.append(int(escaped.group(1), 16))
            index = escaped.end()
        elif _ID_KEPT.fullmatch(part[index]):
            data += part[index].encode()
            index += 1
        else:
            raise ValueError(f"{part!r} is not made by id_part (position {index + 1})")
    return data.decode()


def payroll_person_id(council: str, payroll_id: str, field: str) -> str:
    """The person id derived from a payroll id, ``<council>-payroll-<id_part(payroll_id)>``.

    Every adapter that knows a person only by their payroll id derives it here, so
    that the same payroll id gives the same person whichever format it came in
    (rti-fps from the FPS PayId, bacs18 from the payment reference). An id too
    long for a record id is a :class:`RecordError` naming ``field``.
    """
    from plugshare.models.types import RECORD_ID_PATTERN

    person = f"{council}-payroll-{id_part(payroll_id, field)}"
    if not re.fullmatch(RECORD_ID_PATTERN, person):
        raise RecordError(f"{field} {payroll_id!r} cannot make a person id: {person!r} is not a record id (at most "
                          f"128 letters, digits and . _ : -)")
    return person


# --- code lists -------------------------------------------------------------


class CodeList:
    """A translation table between a vendor's codes and the standard's values.

    Translation is strict both ways: an unknown vendor code, or a canonical
    value the vendor has no code for, is a :class:`RecordError` naming the
    value and the list, so that the table is fixed rather than data lost.
    """

    def __init__(self, name: str, table: Mapping[str, str], *, case_sensitive: bool = False,
                 native_for: Mapping[str, str] | None = None):
        self.name = name
        self.case_sensitive = case_sensitive
        self._to_canonical = {self._key(code): value for code, value in table.items()}
        reverse: dict[str, str] = {}
        for code, value in table.items():
            reverse.setdefault(value, code)  # several vendor codes may share one value: the first writes
        reverse.update(native_for or {})
        self._to_native = reverse

    def _key(self, code: str) -> str:
        code = code.strip()
        return code if self.case_sensitive else code.upper()

    def to_canonical(self, code: str) -> str:
        try:
            return self._to_canonical[self._key(code)]
        except KeyError:
            known = ", ".join(sorted(self._to_canonical))
            raise RecordError(f"{self.name}: vendor code {code.strip()!r} has no translation in the standard "
                              f"(known codes: {known}); add it to the code list or correct the record") from None

    def to_native(self, value: str) -> str:
        try:
            return self._to_native[value]
        except KeyError:
            raise RecordError(f"{self.name}: {value!r} has no code in this format "
                              f"(it has codes for: {', '.join(sorted(self._to_native))})") from None

    @property
    def codes(self) -> list[str]:
        return sorted(self._to_canonical)


# --- field maps -------------------------------------------------------------

Parser = Callable[[str, str], Any]
Formatter = Callable[[Any], str]


def _text(value: str, field: str) -> str:
    return value.strip()


@dataclass(frozen=True)
class FieldMap:
    """One native field and the path of its value in the canonical record.

    ``path`` is dotted, with numbers for list items: ``name.given_name``,
    ``assignments.0.grade.code``. ``parse`` turns the native text into the
    canonical value (it receives the text and the field's name for messages);
    ``format`` turns it back.
    """

    native: str
    path: str
    parse: Parser = _text
    format: Formatter = str
    required: bool = False


def code(code_list: CodeList) -> tuple[Parser, Formatter]:
    """The parse and format pair for a field translated by a code list."""
    return (lambda text, field: code_list.to_canonical(text) if text.strip() else None), code_list.to_native


class RecordMap:
    """Maps a native row (field name -> text) to a canonical record and back."""

    def __init__(self, fields: Sequence[FieldMap], *, namespace: str, consumed: Iterable[str] = (),
                 unmapped: str = "keep"):
        if unmapped not in ("keep", "reject"):
            raise ValueError("unmapped is 'keep' (into extensions) or 'reject'")
        self.fields = tuple(fields)
        self.namespace = namespace
        #: native fields the adapter handles itself, outside the field map
        self.consumed = frozenset(consumed)
        self.unmapped = unmapped

    @property
    def native_fields(self) -> list[str]:
        return [f.native for f in self.fields]

    def to_record(self, row: Mapping[str, str | None], base: dict[str, Any] | None = None) -> dict[str, Any]:
        """Build the canonical record; blank values are left out, and unmapped fields are kept or rejected."""
        record: dict[str, Any] = dict(base or {})
        for field in self.fields:
            text = row.get(field.native)
            if text is None or not str(text).strip():
                if field.required:
                    raise RecordError(f"{field.native} is empty; it is required")
                continue
            value = field.parse(str(text), field.native)
            if value is not None:
                set_path(record, field.path, value)
        mapped = set(self.native_fields) | self.consumed
        leftover = {name: value for name, value in row.items()
                    if name not in mapped and value is not None and str(value).strip()}
        if leftover and self.unmapped == "reject":
            raise RecordError(f"fields with no place in the standard: {', '.join(sorted(leftover))}")
        if leftover:
            record.setdefault("extensions", {}).setdefault(self.namespace, {}).update(
                {name: str(value) for name, value in leftover.items()})
        return record

    def to_row(self, record: Mapping[str, Any], columns: Sequence[str] | None = None, *,
               fold: Callable[[str], str] = str, apart: Iterable[str] = ()) -> dict[str, str]:
        """The native row for a canonical record: mapped fields, then fields kept in extensions.

        A required field with no value is a :class:`RecordError`, and so is a value its path cannot
        reach (a value on the way is not an object or a list) or its format cannot write, named by the
        native field (a format that fails other than with a RecordError is not quoted, as its message
        may hold the value). A kept field is written under its name (text as it
        is, other values as JSON), except those in ``apart``, which the adapter writes itself; one whose
        name is blank, or is, once folded by ``fold`` (how the format matches names, e.g. whatever
        their case), the name of a mapped or consumed field or of another kept field, is a RecordError:
        the row would not read back as the record.
        """
        import json

        row: dict[str, str] = {}
        for field in self.fields:
            try:
                value = get_path(record, field.path)
            except (AttributeError, TypeError, ValueError):
                raise RecordError(f"{field.native}: the record's {field.path} cannot be found (a value on its way is "
                                  "not an object or a list); validate the message first") from None
            if value is None:
                if field.required:
                    raise RecordError(f"{field.native} is empty; the record has no {field.path}")
                row[field.native] = ""
                continue
            try:
                row[field.native] = field.format(value)
            except RecordError as exc:
                reason = exc.reason if exc.reason.startswith(field.native) else f"{field.native}: {exc.reason}"
                raise RecordError(reason, exc.requirement) from None
            except (ArithmeticError, AttributeError, KeyError, TypeError, ValueError):
                raise RecordError(f"{field.native}: the record's {field.path} is not a value this field can be "
                                  f"written from (a {type(value).__name__}); validate the message first") from None
        taken = {fold(name): f"the field {name!r}" for name in (*self.native_fields, *self.consumed)}
        apart = set(apart)
        for name, value in record.get("extensions", {}).get(self.namespace, {}).items():
            if name in apart:
                continue
            folded = fold(name)
            if not folded.strip():
                raise RecordError(f"the extension {self.namespace} {name!r} has a blank name, which no field can "
                                  "have; rename it")
            if folded in taken:
                raise RecordError(f"the extension {self.namespace} {name!r} has the name of {taken[folded]} (as "
                                  "the format matches names); rename it so that it cannot be mistaken for it")
            taken[folded] = f"the extension {name!r}"
            row[name] = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        if columns is not None:
            return {name: row.get(name, "") for name in columns}
        return row


def set_path(record: dict[str, Any], path: str, value: Any) -> None:
    """Set ``value`` at a dotted path, creating objects and lists on the way."""
    parts = path.split(".")
    node: Any = record
    for part, following in zip(parts, parts[1:] + [None], strict=True):
        if following is None:
            _assign(node, part, value)
            return
        child = _child(node, part)
        if child is None:
            child = [] if following.isdigit() else {}
            _assign(node, part, child)
        node = child


def get_path(record: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path, or None when any step is missing."""
    node: Any = record
    for part in path.split("."):
        node = _child(node, part)
        if node is None:
            return None
    return node


def _child(node: Any, part: str) -> Any:
    if isinstance(node, list):
        index = int(part)
        return node[index] if index < len(node) else None
    return node.get(part)


def _assign(node: Any, part: str, value: Any) -> None:
    if isinstance(node, list):
        index = int(part)
        while len(node) <= index:
            node.append({})
        node[index] = value
    else:
        node[part] = value
