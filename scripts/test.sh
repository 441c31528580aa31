#!/usr/bin/env bash
# The full test suite: unit, command and lab tests. Lab tests need root (they build labs of network
# namespaces); they are not skipped, so run this as root: sudo npm test
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ "$(id -u)" != 0 ]; then echo "test: the lab tests need root; run: sudo npm test" >&2; exit 2; fi
# Leftovers of an interrupted earlier run would make "lab already exists" failures; clear test labs first.
for lab in $(ls /run/podnet/labs 2>/dev/null | grep '^t' || true); do node bin/run.js lab down --name "$lab" >/dev/null; done
exec node --import tsx --test --test-concurrency=1 --test-reporter=spec "$@" test/unit/*.test.ts test/lab/*.test.ts
