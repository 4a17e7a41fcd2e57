#!/usr/bin/env bash
# Set up, load registry data and serve CarbonScope on the embedded default (SQLite in the data folder).
#   scripts/start.sh DATA_FOLDER [--port P]   ingest the exports in DATA_FOLDER (e.g. ../shared/data/registries)
#                                             and the news dumps beside it (../shared/data/news), if any
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
  # a data folder holding registries/ (and news/), or a registries folder with news/ beside it
  registries=(); news=()
  for d in "${data[@]}"; do
    if [ -d "$d/registries" ]; then
      registries+=("$d/registries"); [ -d "$d/news" ] && news+=("$d/news")
    else
      registries+=("$d"); [ -d "$d/../news" ] && news+=("$d/../news")
    fi
  done
  carbonscope ingest "${registries[@]}"
  if [ ${#news[@]} -gt 0 ]; then
    carbonscope news ingest "${news[@]}"   # items already loaded are skipped
    carbonscope news relink                # links of older items follow the projects and the linker
  fi
  # On schedule, the site reloads the folders it was given (new or changed files only) and backs up
  join() { local IFS=,; echo "$*"; }
  export CARBONSCOPE_INGEST_FOLDERS="${CARBONSCOPE_INGEST_FOLDERS:-$(join "${registries[@]}")}"
  export CARBONSCOPE_NEWS_FOLDERS="${CARBONSCOPE_NEWS_FOLDERS:-$(join "${news[@]}")}"
  folder_schedules='{"folders": "*/30 * * * *", "backup": "30 3 * * *"}'
  export CARBONSCOPE_SCHEDULES="${CARBONSCOPE_SCHEDULES:-$folder_schedules}"
else
  carbonscope refresh || echo "some registries could not be refreshed (see above); serving what is loaded"
fi
# the schedules (registry refreshes, news, backups; see the Data page) run beside the site
export CARBONSCOPE_SCHEDULER_EMBEDDED="${CARBONSCOPE_SCHEDULER_EMBEDDED:-true}"
carbonscope stats
exec carbonscope serve --host 127.0.0.1 --port "$port"
