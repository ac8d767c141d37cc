"""Headless Debian Chromium for the real-browser tests (ENVIRONMENT.md's flags): offline, a
fresh profile, every request recorded in ``ctx.requests``."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
]


@contextmanager
def chromium(profile: Path, height: int = 900):
    """A persistent browser context; skipped without Chromium, except in CI, where it fails."""
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("/usr/bin/chromium is missing: scripts/setup.sh test installs it")
        pytest.skip("no /usr/bin/chromium (scripts/setup.sh test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            args=CHROMIUM_FLAGS,
            headless=True,
            viewport={"width": 1100, "height": height},
        )
        ctx.requests = []
        ctx.on("request", lambda r: ctx.requests.append(r.url))
        yield ctx
        ctx.close()
