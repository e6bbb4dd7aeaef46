#!/usr/bin/env bash
# Create (or reuse) the project virtual environment .venv with zoo and every backend,
# installed from pyproject.toml under constraints.txt. Idempotent: a second run only
# checks. Prints the path of the environment's python.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${ZOO_VENV:-$root/.venv}"
python="${PYTHON:-python3}"
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv" >&2
fi
stamp="$venv/.zoo-installed"
want="$(cat "$root/pyproject.toml" "$root/constraints.txt" "$root/tests/oracles.txt" | sha256sum | cut -c1-16)"
pip_install() {
  # pip's output goes to stderr (stdout carries only the python path), minus the
  # machine-level notices about package indexes that do not exist here.
  "$venv/bin/pip" install -q -c "$root/constraints.txt" "$@" 2>&1 \
    | { grep -v "is ignored: it is neither a file nor a directory" || true; } >&2
  return "${PIPESTATUS[0]}"
}
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "Installing zoo and its backends into $venv (a few minutes, once)..." >&2
  # torch first, alone, so that the pinned CPU wheel is what satisfies every later request.
  pip_install torch
  pip_install -e "$root[test]"
  pip_install --no-deps -r "$root/tests/oracles.txt"
  echo "$want" > "$stamp"
fi
echo "$venv/bin/python"
