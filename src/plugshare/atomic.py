"""Files written whole or not at all.

Reports, registers and checkpoints are written beside their final name and renamed into place, so a
reader never sees half a file and a crash (or a kill, which a migration must survive) leaves the
previous version intact.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_atomic(path: Path | str, data: str | bytes, *, sync: bool = False, mode: int = 0o644) -> Path:
    """Write ``data`` (text as UTF-8 with ``\\n`` line ends) to ``path``; ``sync`` forces it to disk first."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data.encode("utf-8") if isinstance(data, str) else data)
            if sync:
                out.flush()
                os.fsync(out.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return path
