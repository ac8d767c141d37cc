"""Writing a file so that no reader and no crash ever sees half of it: model exports, their
stamps, and articles `qa add` puts into the corpus. (Index versions are written as whole
directories and switched by qa.store.versions.)"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def write_atomic(dest: Path, content: bytes | Callable[[Path], None]) -> None:
    """Write ``content`` (bytes, or a function that writes a given path) to a hidden temp file
    beside ``dest`` (the corpus reader skips dot files), fsync it, rename it over ``dest`` and
    fsync the folder (the rename itself). On any failure ``dest`` is left as it was."""
    write_to = (lambda p: p.write_bytes(content)) if isinstance(content, bytes) else content
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write_to(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, dest)
        folder = os.open(dest.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
    finally:
        tmp.unlink(missing_ok=True)
