#!/usr/bin/env bash
# Set up, load registry data and serve CarbonScope on the embedded default (SQLite in the data folder).
#   scripts/start.sh DATA_FOLDER [--port P]   ingest the exports in DATA_FOLDER (e.g. ../shared/data/registries)
#   scripts/start.sh [--port P]               download the registries' current exports instead (`carbonscope refresh`)
set -euo pipefail
cd "$(dirname "$0")/.."
port=${PORT:-8000}
data=()
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port="$2"; shift 2 ;;
    *) data+=("$1"); shift ;;
  esac
done
scripts/setup.sh all
source .venv/bin/activate
# Analyses read the shared data's rasters and plots when they are beside the checkout
if [ -z "${CARBONSCOPE_DATA_SOURCES_FILE:-}" ] && [ -d ../shared/data/redd ]; then
  export CARBONSCOPE_DATA_SOURCES_FILE="$PWD/examples/sources.toml"
fi
carbonscope db upgrade
if [ ${#data[@]} -gt 0 ]; then
  carbonscope ingest "${data[@]}"
else
  carbonscope refresh || echo "some registries could not be refreshed (see above); serving what is loaded"
fi
carbonscope stats
exec carbonscope serve --host 127.0.0.1 --port "$port"
