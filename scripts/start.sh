#!/usr/bin/env bash
# Set up, load registry data and start CarbonScope on the embedded default (SQLite in the data folder).
#   scripts/start.sh [DATA_FOLDER]    ingest the registry exports in DATA_FOLDER (e.g. ../shared/data/registries)
#   scripts/start.sh                  download the registries' current exports instead (`carbonscope refresh`)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source .venv/bin/activate
carbonscope db upgrade
if [ $# -gt 0 ]; then
  carbonscope ingest "$@"
else
  carbonscope refresh || echo "some registries could not be refreshed (see above); continuing with what is loaded"
fi
carbonscope stats
