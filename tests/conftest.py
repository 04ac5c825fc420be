import json
from pathlib import Path

import pytest

from plugshare.standard.paths import spec_dir

SPEC = spec_dir()


@pytest.fixture(scope="session")
def spec() -> Path:
    return SPEC


def load_example(name: str) -> dict:
    return json.loads((SPEC / "examples" / "valid" / name).read_text(encoding="utf-8"))
