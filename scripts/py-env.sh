#!/usr/bin/env bash
# Creates (idempotently) the Python environment that reference tests and benchmarks use,
# from the packages listed in scripts/requirements.txt, and prints its interpreter path.
# Everything comes from PyPI through the ordinary pip client.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="${COMPTOIR_PY_VENV:-$root/.cache/py}"
req="$root/scripts/requirements.txt"
stamp="$venv/.requirements.sha256"
want=$(sha256sum "$req" | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" >&2
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" >&2
  echo "$want" > "$stamp"
fi
echo "$venv/bin/python"
