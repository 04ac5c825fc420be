"""Where the published spec files are, in a checkout or in an installed wheel."""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent


def spec_dir() -> Path:
    """The spec/ directory: ``$PLUGSHARE_SPEC_DIR``, the copy packed in the wheel, or the checkout's."""
    override = os.environ.get("PLUGSHARE_SPEC_DIR")
    if override:
        return Path(override)
    packaged = _PACKAGE / "_spec"
    if packaged.is_dir():
        return packaged
    return _PACKAGE.parent.parent / "spec"


def schemas_dir() -> Path:
    return spec_dir() / "schemas"


def reference_data_dir() -> Path:
    return spec_dir() / "reference-data"
