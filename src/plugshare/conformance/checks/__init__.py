"""The built-in checks, one module per area of the standard; each module exposes ``CHECKS``."""

from __future__ import annotations

import importlib

from plugshare.conformance.model import Check

MODULES = ("api", "data", "adapter")


def all_checks() -> list[Check]:
    """Every built-in check, from each module that exists."""
    found: list[Check] = []
    for name in MODULES:
        try:
            module = importlib.import_module(f"plugshare.conformance.checks.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"plugshare.conformance.checks.{name}":
                raise
            continue
        found.extend(module.CHECKS)
    return found
