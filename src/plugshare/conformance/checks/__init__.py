"""The built-in checks, one module per area of the standard; each module exposes ``CHECKS``."""

from __future__ import annotations

import importlib

from plugshare.conformance.model import Check

#: api: the REST API's behaviour; data: schemas and rules on returned records; adapter: adapters' round trips
MODULES = ("api", "data", "adapter")


def all_checks() -> list[Check]:
    """Every built-in check. A module that fails to import is an error, never a smaller suite run quietly."""
    return [check for name in MODULES
            for check in importlib.import_module(f"plugshare.conformance.checks.{name}").CHECKS]
