"""What writing loses: each Employee written is read back in memory and compared with the messages it came from.

A value of a message that the record read back lacks, or holds otherwise, is
named by its JSON pointer (``/data/name/preferred_name``) for
``Converted.lost``. Amounts compare by value; an empty value loses nothing; a
list item found anywhere in the list read back is kept; where nothing of an
object or list is kept the whole is named. This adapter's own extensions are
compared one by one; other namespaces are the conversion's to report. An
Employee that would not read back at all is a :class:`RecordError`, so that
nothing this adapter could not read again is ever written.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import defusedxml.ElementTree as SafeET

from plugshare.adapters.contract import RecordError
from plugshare.adapters.rti_fps.document import Node, lines
from plugshare.adapters.rti_fps.employee import read_employee
from plugshare.adapters.rti_fps.reader import Submission

_AMOUNT = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def read_back(employee: Node, submission: Submission, council: str) -> dict[str, dict[str, Any]]:
    """The records an Employee element gives when read, by message type."""
    root = Node(employee.name, employee.text, employee.children, {"xmlns": submission.namespace})
    element = SafeET.fromstring("\n".join(lines(root)), forbid_dtd=True)
    try:
        return dict(read_employee(element, submission, council))
    except RecordError as exc:
        raise RecordError(f"what would be written does not read back as an FPS Employee ({exc.reason})") from None


def not_restored(data: dict[str, Any], back: dict[str, Any] | None, namespace: str) -> list[str]:
    """Pointers of the values of ``data`` that ``back`` does not restore; ``back`` None names the record."""
    if back is None:
        return ["/data"]
    lost: list[str] = []
    for key, value in data.items():
        if key == "extensions" and isinstance(value, dict):
            kept = (back.get(key) or {}).get(namespace) or {}
            for name, item in (value.get(namespace) or {}).items():
                lost += _missing(item, kept.get(name), _step(_step("/data/extensions", namespace), name))
        else:
            lost += _missing(value, back.get(key), _step("/data", key))
    return lost


def _missing(value: Any, back: Any, pointer: str) -> list[str]:
    if _empty(value) or _same(value, back):
        return []
    if isinstance(value, dict) and isinstance(back, dict):
        parts = [(item, _step(pointer, key), back.get(key)) for key, item in value.items()]
    elif isinstance(value, list) and isinstance(back, list):
        parts = [(item, f"{pointer}/{index}", item if item in back else back[index] if index < len(back) else None)
                 for index, item in enumerate(value)]
    else:
        return [pointer]
    found = [(child, _missing(item, other, child)) for item, child, other in parts if not _empty(item)]
    if found and all(missing == [child] for child, missing in found):
        return [pointer]
    return [missing for _, pointers in found for missing in pointers]


def _same(value: Any, back: Any) -> bool:
    if isinstance(value, str) and isinstance(back, str) and _AMOUNT.fullmatch(value) and _AMOUNT.fullmatch(back):
        return Decimal(value) == Decimal(back)
    return value == back and isinstance(value, bool) == isinstance(back, bool)


def _empty(value: Any) -> bool:
    return value is None or value in ("", {}, []) or value is False


def _step(pointer: str, key: str) -> str:
    return f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}"
