#!/usr/bin/env bash
# The main job: installs what it needs (scripts/setup_env.sh), then runs the demo.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="$(bash "$root/scripts/setup_env.sh")"
exec "$python" "$root/scripts/main.py" "$@"
