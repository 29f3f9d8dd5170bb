#!/usr/bin/env bash
# Create (once) the Python venv the DuckDB reference runs in: bench-venv with duckdb, in cargo's
# target directory ($CARGO_TARGET_DIR when set, else target/), or at $BENCH_VENV.
# Idempotent: an existing venv that already imports duckdb is left as it is.
# Prints the venv's python path on stdout; exits non-zero when duckdb cannot be installed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
# Cargo reads a relative CARGO_TARGET_DIR from the directory it runs in, as this does.
[[ "$target_dir" = /* ]] || target_dir="$PWD/$target_dir"
venv="${BENCH_VENV:-$target_dir/bench-venv}"
py="$venv/bin/python"
# Pinned so benchmark numbers stay comparable between runs.
version="${DUCKDB_VERSION:-1.5.6}"
mkdir -p "$(dirname "$venv")"
# Concurrent callers (parallel tests, a benchmark) wait for one another here.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$venv.lock"
  flock 9
fi
if [[ -x "$py" ]] && "$py" -c "import duckdb, sys; sys.exit(duckdb.__version__ != '$version')" >/dev/null 2>&1; then
  echo "$py"
  exit 0
fi
python3="${PYTHON:-python3}"
if ! command -v "$python3" >/dev/null 2>&1; then
  echo "duckdb-env: $python3 not found" >&2
  exit 1
fi
if [[ ! -x "$py" ]]; then
  if ! "$python3" -m venv "$venv" >&2; then
    echo "duckdb-env: '$python3 -m venv' failed (on Debian: apt-get install python3-venv)" >&2
    rm -rf "$venv"
    exit 1
  fi
fi
if ! "$py" -m pip install --quiet --disable-pip-version-check "duckdb==$version" >&2; then
  echo "duckdb-env: pip install duckdb failed" >&2
  exit 1
fi
"$py" -c 'import duckdb' >&2
echo "$py"
