#!/usr/bin/env bash
# The runtime dependencies' lower bounds, tested: a fresh venv with every runtime
# dependency at the version its ">=" names in pyproject.toml (click 8.2.0, rich 13,
# scapy 2.6, dnspython 2.4, ...), then the unit suite (the interop tests run once, with
# the newest releases, in scripts/test.sh). Called by scripts/test.sh.
# Usage: bash scripts/test-lower-bounds.sh [extra pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV="${LOWER_BOUNDS_VENV:-${TMPDIR:-/tmp}/sipcheck-lower-bounds-venv}"

rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check packaging
# "name>=X" -> "name==X", for the dependencies that apply to this Python.
pins=$("$VENV/bin/python" - <<'PY'
import sys
if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib
from packaging.markers import Marker
from packaging.requirements import Requirement

with open("pyproject.toml", "rb") as handle:
    deps = tomllib.load(handle)["project"]["dependencies"]
for dep in deps:
    req = Requirement(dep)
    if req.marker is not None and not req.marker.evaluate():
        continue
    lows = [s.version for s in req.specifier if s.operator == ">="]
    if len(lows) != 1:
        sys.exit(f"{dep}: a runtime dependency needs one '>=' lower bound")
    print(f"{req.name}=={lows[0]}")
PY
)
echo "lower bounds:" $pins
# shellcheck disable=SC2086
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[test]' $pins
"$VENV/bin/python" -m pytest -q -p no:cacheprovider -m "not interop" "$@"
