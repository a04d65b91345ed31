#!/usr/bin/env bash
# Creates bench/.venv with the Python peers of `npm run bench`, pinned by
# bench/peers/requirements.txt. Idempotent: does nothing when the venv already holds
# exactly these requirements (a stamp records the hash of requirements.txt and the
# Python version). Wheels only (--only-binary): TA-Lib's wheel bundles the C library,
# so nothing is compiled; a platform without a wheel fails here with a clear message.
#
#   bash bench/peers/setup.sh            # PYTHON=python3.12 bash bench/peers/setup.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$(cd "$here/.." && pwd)/.venv"
req="$here/requirements.txt"
py="${PYTHON:-python3}"

die() { echo "bench/peers/setup.sh: $*" >&2; exit 1; }

command -v "$py" >/dev/null 2>&1 || die "no '$py' on PATH: install Python >= 3.10 (or set PYTHON=/path/to/python3)"
"$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' \
  || die "$("$py" --version 2>&1) is too old: the pinned numba/pandas need Python >= 3.10 (set PYTHON=...)"
"$py" -c 'import venv, ensurepip' 2>/dev/null \
  || die "'$py' lacks the venv/ensurepip modules (Debian/Ubuntu: apt-get install python3-venv)"

want="$( (cat "$req"; "$py" -c 'import sys, platform; print(sys.version, platform.machine())') | sha256sum | cut -d' ' -f1)"
stamp="$venv/.barstream-requirements"
if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  echo "bench/.venv is up to date ($req)" >&2
  exit 0
fi

echo "creating bench/.venv from $req (one time, about a minute) ..." >&2
rm -rf "$venv"
"$py" -m venv "$venv" || die "could not create $venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2 \
  || die "could not upgrade pip in $venv (is PyPI reachable?)"
if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --only-binary=:all: -r "$req" >&2; then
  rm -rf "$venv"
  die "pip could not install $req (see pip's message above). Every peer is pinned to a wheel:
  check that PyPI is reachable and that wheels exist for $("$py" --version 2>&1) on $(uname -sm)
  (for example: $py -m pip index versions TA-Lib)."
fi
"$venv/bin/python" - <<'EOF' >&2 || { rm -rf "$venv"; die "the peers were installed but do not import (see above)"; }
import numpy, pandas, numba, talib, polars, duckdb, dask.dataframe, pyarrow
print("peers:", "numpy", numpy.__version__, "pandas", pandas.__version__, "numba", numba.__version__,
      "TA-Lib", talib.__version__, "polars", polars.__version__, "duckdb", duckdb.__version__,
      "dask", __import__("dask").__version__, "pyarrow", pyarrow.__version__)
EOF
echo "$want" > "$stamp"
echo "bench/.venv ready" >&2
