#!/usr/bin/env bash
# Set up (first run only) and run the tests: lint, format check, then pytest.
#   ./test.sh           everything: tests/unit and tests/e2e, the real model and corpus (CI)
#   ./test.sh --fast    lint, format check and the tests not marked slow (under a minute)
# Other arguments go to pytest: ./test.sh --fast tests/unit/store -x
set -euo pipefail
cd "$(dirname "$0")"
fast=()
if [ "${1:-}" = "--fast" ]; then
  shift
  fast=(-m "not slow")
fi
scripts/setup.sh test
.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/python -m pytest -q ${fast[@]+"${fast[@]}"} "$@"
