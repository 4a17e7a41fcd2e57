#!/usr/bin/env bash
# Set up, lint and type-check, and run the whole test suite (SQLite; PostgreSQL too when CARBONSCOPE_TEST_POSTGRES_URL is set).
# Browser tests use Debian's chromium; as root this script installs it when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -q chromium >/dev/null 2>&1; then
      apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null
    fi
  else
    echo "chromium is not installed: browser tests will be skipped (sudo apt-get install chromium)" >&2
  fi
fi
scripts/lint.sh  # ruff (lint and format) and mypy: a finding fails the run
exec .venv/bin/python -m pytest -n "${PYTEST_WORKERS:-2}" "$@"
