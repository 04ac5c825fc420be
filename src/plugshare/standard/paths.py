"""Where the published spec files are, in a checkout or in an installed wheel."""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent


def data_dir(name: str, variable: str) -> Path:
    """A top-level data directory of the project (``spec``, ``conformance``): ``$variable`` if set, the copy
    packed in the wheel as ``plugshare/_<name>``, or the checkout's."""
    override = os.environ.get(variable)
    if override:
        return Path(override)
    packaged = _PACKAGE / f"_{name}"
    if packaged.is_dir():
        return packaged
    return _PACKAGE.parent.parent / name


def spec_dir() -> Path:
    """The spec/ directory: ``$PLUGSHARE_SPEC_DIR``, the copy packed in the wheel, or the checkout's."""
    return data_dir("spec", "PLUGSHARE_SPEC_DIR")


def schemas_dir() -> Path:
    return spec_dir() / "schemas"


def reference_data_dir() -> Path:
    return spec_dir() / "reference-data"
