#!/usr/bin/env bash
# The README's first command: install what is needed, build, then run the lab demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node bin/run.js lab demo "$@"
