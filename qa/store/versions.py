"""Index versions on disk: atomic writes, the CURRENT pointer, the build lock, garbage
collection, and the failpoints the crash tests use.

Every build writes a complete new version directory and then switches the one-line
``CURRENT`` pointer with an atomic rename, so a crash at any moment leaves the previous
version serving, and readers that opened the old version keep reading it undisturbed.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

from qa.errors import IndexBusy

CURRENT = "CURRENT"
# Stages of a save at which the crash tests kill the process (see crash_at).
SAVE_STAGES = ("files-written", "manifest-written", "renamed", "switched")


def fsync_write(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def jsonl(rows) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")


def crash_at(stage: str, failpoint: str | None) -> None:
    """Die like a power cut (SIGKILL: no cleanup, no finally) when ``stage`` is the failpoint."""
    if failpoint == stage:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


def fsync_dir(path: Path) -> None:
    """fsync a directory (its entries) or a file already written and closed."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def collect_garbage(root: Path) -> None:
    """Remove old versions and leftovers of crashed builds (``.tmp-*`` directories, versions
    written but never switched to), keeping the live version and the one it replaced (a reader
    may still be loading it). Callers hold the build lock."""
    for p in root.glob(".tmp-*"):
        shutil.rmtree(p, ignore_errors=True)
    for p in root.glob(f".{CURRENT}.*"):
        p.unlink(missing_ok=True)
    live = current_version(root)
    try:
        keep = {live, json.loads((root / str(live) / "manifest.json").read_text())["previous"]}
    except (OSError, ValueError, KeyError, TypeError):
        return  # no readable live version: delete nothing until a build replaces it
    for p in root.glob("v-*"):
        if p.is_dir() and p.name not in keep:
            shutil.rmtree(p, ignore_errors=True)


def current_version(root: Path) -> str | None:
    try:
        return (root / CURRENT).read_text().strip() or None
    except FileNotFoundError:
        return None


@contextmanager
def build_lock(root: Path):
    """One build at a time per index directory; a second one is refused, never interleaved."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / "LOCK", "a+") as f:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "?"
            raise IndexBusy(
                f"another `qa build` (pid {holder}) is updating {root}; "
                "wait for it to finish and run again"
            ) from None
        f.seek(0)
        f.truncate()
        f.write(str(os.getpid()))
        f.flush()
        try:
            yield
        finally:
            f.truncate(0)
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)
