#!/usr/bin/env bash
# Create (once) what the KQL tests (crates/cli/tests/kql.rs) run, in cargo's target directory
# ($CARGO_TARGET_DIR when set, else target/):
# - kql-env/node_modules: Microsoft's KQL parser, the npm package @kusto/language-service-next
#   (needs node and npm; on Debian as root they are installed when missing);
# - kql-venv (or $KQL_VENV): the local KQL engine duckdb-kql with DuckDB, and numpy, which
#   DuckDB's Python functions need.
# Idempotent: what is already installed at the pinned versions is left as it is.
# Prints two lines on stdout: the node_modules folder, then the venv's python. Exits non-zero
# when either cannot be installed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/venv.sh"

KUSTO_VERSION="${KUSTO_VERSION:-12.4.1}"
DUCKDB_KQL_VERSION="${DUCKDB_KQL_VERSION:-1.1.2}"
DUCKDB_VERSION="${KQL_DUCKDB_VERSION:-2.0.1}"
NUMPY_VERSION="${NUMPY_VERSION:-2.4.6}"

env_dir="$(venv_dir kql-env)"
venv="${KQL_VENV:-$(venv_dir kql-venv)}"
mkdir -p "$env_dir" "$(dirname "$venv")"
if command -v flock >/dev/null 2>&1; then
  exec 9>"$env_dir.lock"
  flock 9
fi

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  if [[ "$(id -u)" = 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "kql-env: node or npm not found; installing Debian's nodejs and npm" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >&2
  else
    echo "kql-env: node and npm are needed (on Debian: apt-get install nodejs npm)" >&2
    exit 1
  fi
fi

package="$env_dir/node_modules/@kusto/language-service-next/package.json"
if ! grep -q "\"version\": *\"$KUSTO_VERSION\"" "$package" 2>/dev/null; then
  [[ -f "$env_dir/package.json" ]] || echo '{"private": true}' >"$env_dir/package.json"
  if ! npm install --prefix "$env_dir" --no-audit --no-fund --silent \
    "@kusto/language-service-next@$KUSTO_VERSION" >&2; then
    echo "kql-env: npm install @kusto/language-service-next@$KUSTO_VERSION failed" >&2
    exit 1
  fi
fi

py="$venv/bin/python"
check="import duckdb, duckdb_kql, numpy, importlib.metadata as m, sys; \
sys.exit(m.version('duckdb-kql') != '$DUCKDB_KQL_VERSION' or duckdb.__version__ != '$DUCKDB_VERSION')"
if ! [[ -x "$py" ]] || ! "$py" -c "$check" >/dev/null 2>&1; then
  python3="${PYTHON:-python3}"
  if [[ ! -x "$py" ]] && ! "$python3" -m venv "$venv" >&2; then
    echo "kql-env: '$python3 -m venv' failed (on Debian: apt-get install python3-venv)" >&2
    rm -rf "$venv"
    exit 1
  fi
  if ! "$py" -m pip install --quiet --disable-pip-version-check \
    "duckdb-kql[duckdb]==$DUCKDB_KQL_VERSION" "duckdb==$DUCKDB_VERSION" "numpy==$NUMPY_VERSION" >&2; then
    echo "kql-env: pip install duckdb-kql==$DUCKDB_KQL_VERSION failed (it needs Python 3.11 or later)" >&2
    exit 1
  fi
  "$py" -c "$check" >&2
fi

echo "$env_dir/node_modules"
echo "$py"
