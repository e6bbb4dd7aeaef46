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
want="$(cat "$root/pyproject.toml" "$root/constraints.txt" | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  # torch first, alone, so that the pinned CPU wheel is what satisfies every later request.
  "$venv/bin/pip" install -q -c "$root/constraints.txt" torch >&2
  "$venv/bin/pip" install -q -c "$root/constraints.txt" -e "$root[test]" >&2
  echo "$want" > "$stamp"
fi
echo "$venv/bin/python"
