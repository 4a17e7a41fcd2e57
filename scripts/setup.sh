#!/usr/bin/env bash
# Create .venv (Python 3.11+), install CarbonScope with the extras given as arguments (e.g. test),
# and install the browser libraries the site serves (npm; no CDN at run time).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
extras=""
if [ $# -gt 0 ]; then extras="[$(IFS=,; echo "$*")]"; fi
stamp=".venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)${extras}"
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".${extras}"
  touch "$stamp"
fi
front=carbonscope/web/frontend
fstamp="$front/node_modules/.installed-$(sha256sum $front/package-lock.json | cut -c1-16)"
if [ ! -f "$fstamp" ] || [ ! -f carbonscope/web/static/vendor/leaflet.draw.js ]; then
  if command -v npm >/dev/null; then
    npm ci --prefix "$front" --no-audit --no-fund --loglevel=error
    touch "$fstamp"
    .venv/bin/python -m carbonscope.web.assets >/dev/null
  else
    echo "npm not found: charts and maps will not draw (install Node.js and rerun scripts/setup.sh)" >&2
  fi
fi
