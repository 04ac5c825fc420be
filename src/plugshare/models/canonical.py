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
