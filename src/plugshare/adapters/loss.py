"""The loss rule when writing: a written message loses the values that reading it back would not give again.

The writer reads what it writes for a message back with the reader's own code
(in memory: no file is read again) and compares: a value of the message that
the record read back lacks, or holds otherwise, is named by its JSON pointer
in ``Converted.lost``. Numbers written as text compare by value when their
whole-number digits are the same text (``"25.0"`` is ``"25"``, but ``"007"`` is
not ``"7"``: a dropped leading zero changes a reference); an empty or false
value that reads back absent, blank or false loses nothing, but one that reads
back as a value (``false`` as ``true``, a blank text as a text) is named; a list
item found anywhere in the list read back is kept. Where nothing of an object or a
list item is kept, the object is named rather than each of its values (but
the adapter's extensions are named one by one, and there a blank text is a
value, as a native form kept blank can be). Extensions under other
namespaces than the adapter's are left to the conversion, which reports them
for every writer.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

_NUMBER = re.compile(r"(?P<whole>-?[0-9]+)(\.[0-9]+)?")


def not_restored(data: dict[str, Any], back: dict[str, Any] | None, namespace: str) -> list[str]:
    """Pointers (``/data/...``) of the values of ``data`` that ``back``, the record read back, does not restore.

    ``back`` None means the output would not read back at all: the whole record is named (``/data``).
    """
    if back is None:
        return ["/data"]
    lost = []
    for key, value in data.items():
        if key == "extensions" and isinstance(value, dict):  # the own namespace's values, one by one
            kept = (back.get(key) or {}).get(namespace) or {}
            for name, item in (value.get(namespace) or {}).items():
                pointer = _step(_step("/data/extensions", namespace), name)
                blank = item == "" and kept.get(name) != ""  # a native form kept blank is a value here
                lost += [pointer] if blank else _missing(item, kept.get(name), pointer)
        else:
            lost += _missing(value, back.get(key), _step("/data", key))
    return lost


def _missing(value: Any, back: Any, pointer: str) -> list[str]:
    if _same(value, back) or (_empty(value) and _empty(back)):
        return []
    if isinstance(value, dict) and isinstance(back, dict):
        parts = [(item, _step(pointer, key), back.get(key)) for key, item in value.items()]
    elif isinstance(value, list) and isinstance(back, list):  # an item found anywhere in the list is kept
        parts = [(item, f"{pointer}/{index}", item if item in back else back[index] if index < len(back) else None)
                 for index, item in enumerate(value)]
    else:
        return [pointer]
    found = [(child, _missing(item, other, child)) for item, child, other in parts
             if not (_empty(item) and _empty(other))]
    if found and all(lost == [child] for child, lost in found):  # nothing of it is kept: name it whole
        return [pointer]
    return [lost for _, pointers in found for lost in pointers]


def _same(value: Any, back: Any) -> bool:
    """Equal, or number texts of the same value whose whole-number digits are written alike."""
    if isinstance(value, str) and isinstance(back, str):
        first, second = _NUMBER.fullmatch(value), _NUMBER.fullmatch(back)
        if first and second and first["whole"] == second["whole"]:
            return Decimal(value) == Decimal(back)
    return value == back and isinstance(value, bool) == isinstance(back, bool)


def _empty(value: Any) -> bool:
    """An absent, blank or false value: it carries nothing, so losing it (reading back nothing) loses nothing."""
    return value is None or value is False or value in ("", {}, [])


def _step(pointer: str, key: str) -> str:
    """A pointer one step down: ``~`` and ``/`` in a key escaped (RFC 6901)."""
    return f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}"
