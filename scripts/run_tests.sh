#!/usr/bin/env bash
# The test command: installs what it needs (scripts/setup_env.sh), then runs the suite once
# per backend. ZOO_BACKENDS selects backends (default: all four); extra arguments go to
# pytest (e.g. `bash scripts/run_tests.sh -m slow`, `bash scripts/run_tests.sh tests/ops`).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
python="$(bash scripts/setup_env.sh)" || exit 1
status=0
summary=""
backends="${ZOO_BACKENDS:-jax torch tensorflow numpy}"
# tests marked backend_independent run in one pass only: the last backend's
export ZOO_BACKEND_INDEPENDENT_ON="${backends##* }"
for backend in $backends; do
  echo "=== ZOO_BACKEND=$backend ==="
  ZOO_BACKEND=$backend "$python" -m pytest -q -p no:cacheprovider "$@"
  code=$?
  summary="$summary $backend=$code"
  [ $code -ne 0 ] && status=1
done
echo "exit codes:$summary"
exit $status
