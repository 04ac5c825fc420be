"""Put a legacy system behind the standard: serve, read-only, what an adapter reads.

A council points the gateway at its system's export (a flat-file directory, an
FPS file, an OData endpoint...) through the adapter that reads it. The gateway
reads the source through the same validation as ``plugshare convert``, keeps
the valid messages in a store, and serves them through the standard API; a
record that cannot be converted is quarantined with its reason, as in a
conversion. A refresh reads the source again: changed records become changes
in the feed, and records gone from the source become tombstones, so consumers
of the change feed see deletions made in the legacy system.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from plugshare.adapters.contract import Adapter
from plugshare.api.app import reference_capabilities
from plugshare.api.store import Store
from plugshare.conversion import ConversionSummary, Quarantine, read_valid


@dataclass
class Refresh:
    """What one read of the source did."""

    summary: ConversionSummary
    changes: dict[str, int] = field(default_factory=dict)

    def describe(self) -> str:
        changes = ", ".join(f"{count} {change}" for change, count in sorted(self.changes.items()) if count)
        quarantined = f"; {self.summary.quarantined} record(s) quarantined" if self.summary.quarantined else ""
        return f"read {self.summary.read} record(s): {changes or 'no change'}{quarantined}"


def gateway_capabilities(adapter: Adapter, limits: Any = None) -> dict[str, Any]:
    """The read-only declaration: only the message types the adapter reads."""
    capabilities = reference_capabilities(read_only=True, limits=limits)
    capabilities["product"] = {**capabilities["product"], "name": f"plugshare gateway over {adapter.key}"}
    reads = set(adapter.reads)
    capabilities["message_types"] = [entry for entry in capabilities["message_types"] if entry["type"] in reads]
    return capabilities


def refresh(store: Store, adapter: Adapter, source: str, quarantine: Quarantine | None = None) -> Refresh:
    """Read the source once into the store; current records of the adapter's types no longer there are deleted.

    Raises AdapterError when the source cannot be read; nothing is deleted then, so a source that is
    briefly unreadable never empties the gateway. A record quarantined in this read is not among
    the messages read, so it is deleted too: the gateway serves what a conversion would write now.
    """
    summary = ConversionSummary()
    changes = store.mirror(read_valid(adapter, source, summary, quarantine), adapter.reads, origin="gateway")
    return Refresh(summary, changes)
