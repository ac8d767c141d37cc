#!/usr/bin/env bash
# Set up (first run only), bring the index up to date with corpus/, then run a qa command.
#   ./run.sh ask "When did the US send its written response?"
#   ./run.sh serve                 (the default: web UI on http://127.0.0.1:7860)
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
if [ ! -f index/CURRENT ]; then
  echo "run: building the index from corpus/ (first run: exports the model, ~1 minute)..." >&2
fi
.venv/bin/qa build --quiet >/dev/null
if [ "$#" -eq 0 ]; then set -- serve; fi
exec .venv/bin/qa "$@"
