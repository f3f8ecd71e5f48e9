#!/usr/bin/env bash
# The test command of the README: install, lint, type-check, test.
# Usage: bash scripts/test.sh [extra pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
step() { printf '\n== %s\n' "$*"; }

step "install sipcheck and its test dependencies"
"$PYTHON" -m pip install --quiet --disable-pip-version-check -e '.[test]'

if [[ -f scripts/install-test-deps.sh ]]; then
    step "install the interop peers (kamailio, ejabberd, sipsak, sipp) and the shells (zsh, fish) when missing"
    bash scripts/install-test-deps.sh
fi

step "ruff check"
"$PYTHON" -m ruff check .
step "ruff format --check"
"$PYTHON" -m ruff format --check sipcheck tests
step "mypy"
"$PYTHON" -m mypy
step "pytest"
status=0
"$PYTHON" -m pytest -q "$@" || status=$?
if [[ $status -eq 5 ]]; then
    echo "pytest collected no tests: that is a failure" >&2
fi
if [[ $status -eq 0 && $# -eq 0 ]]; then
    step "pytest with the runtime dependencies at their lower bounds (a venv of its own)"
    bash scripts/test-lower-bounds.sh || status=$?
fi
exit "$status"
