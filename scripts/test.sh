#!/usr/bin/env bash
# Set up and run the whole test suite (SQLite; PostgreSQL too when CARBONSCOPE_TEST_POSTGRES_URL is set).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test
exec .venv/bin/python -m pytest -n "${PYTEST_WORKERS:-2}" "$@"
