"""Adapters between native formats and APIs and the standard.

``contract`` says what an adapter is, ``mapping`` is the toolkit adapters are
written with, and each other module is one built-in adapter, registered as a
plugin through :mod:`plugshare.hookspecs` like any third-party adapter.
"""

from plugshare.adapters.contract import (
    AS_AT,
    COUNCIL,
    GARBLED,
    Adapter,
    AdapterError,
    Converted,
    Option,
    Outcome,
    Position,
    RecordError,
    Rejected,
    garbled_reason,
    take_message,
)
from plugshare.hookspecs import hookimpl

__all__ = ["AS_AT", "COUNCIL", "GARBLED", "Adapter", "AdapterError", "Converted", "Option", "Outcome", "Position",
           "RecordError", "Rejected", "garbled_reason", "hookimpl",
           "take_message"]
