#!/usr/bin/env bash
# Set up (first run only) and run the whole test suite: lint, format check, all tests.
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh test
.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/python -m pytest -q "$@"
