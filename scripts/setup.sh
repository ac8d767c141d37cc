#!/usr/bin/env bash
# Create .venv and install qa into it; re-runs only when pyproject.toml changed.
# Usage: scripts/setup.sh [test]   ("test" adds pytest, ruff, Chromium for the browser tests)
set -euo pipefail
cd "$(dirname "$0")/.."
extra="${1:-}"
stamp=".venv/.qa-setup-$(sha256sum pyproject.toml | cut -c1-16)${extra:+-$extra}"
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
if [ ! -f "$stamp" ]; then
  echo "setup: installing qa and its dependencies into .venv (first run: a few minutes)..." >&2
  # The CPU wheel of torch first, pinned: an unpinned torch resolves to a multi-GB CUDA build.
  .venv/bin/pip install --quiet --disable-pip-version-check "torch==2.13.0"
  if [ "$extra" = "test" ]; then
    .venv/bin/pip install --quiet --disable-pip-version-check -e ".[test]"
  else
    .venv/bin/pip install --quiet --disable-pip-version-check -e .
  fi
  touch "$stamp"
fi
if [ "$extra" = "test" ] && [ ! -x /usr/bin/chromium ]; then
  # The browser tests drive Debian's Chromium: `playwright install` cannot download browsers.
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
      chromium chromium-driver >/dev/null; } ||
    echo "setup: could not install chromium; the browser tests will be skipped" >&2
fi
