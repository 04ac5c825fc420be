"""One canonical form of a message, so that "equal" and "changed" mean the same everywhere.

Two messages are equal when their canonical JSON is equal: keys sorted, no
insignificant whitespace, UTF-8 kept as is. Money is already an exact string,
so nothing is lost to floating point. The server's ETags, the export and
import round trips and the conformance suite's fidelity checks all use this.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(message: Any) -> str:
    """The message as canonical JSON text (sorted keys, compact separators, no ASCII escaping)."""
    return json.dumps(message, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_digest(message: Any) -> str:
    """SHA-256 of the canonical JSON, in hex: equal messages, equal digests."""
    return hashlib.sha256(canonical_json(message).encode("utf-8")).hexdigest()


class DuplicateKey(ValueError):
    """A JSON object names the same member twice: which value counts would be up to the parser."""

    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


class NonJsonConstant(ValueError):
    """NaN or Infinity, which Python's parser takes but JSON does not have."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


def strict_loads(text: str) -> Any:
    """Parse JSON as the standard reads it: no member twice, no NaN or Infinity (DuplicateKey,
    NonJsonConstant; json.JSONDecodeError for the rest). Messages and signed documents both need it."""
    return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise DuplicateKey(key)
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise NonJsonConstant(name)
