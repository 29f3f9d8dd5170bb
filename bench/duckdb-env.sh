#!/usr/bin/env bash
# Create (once) the Python venv the DuckDB reference runs in: bench-venv with duckdb, in cargo's
# target directory ($CARGO_TARGET_DIR when set, else target/), or at $BENCH_VENV.
# Idempotent: an existing venv that already imports duckdb is left as it is.
# Prints the venv's python path on stdout; exits non-zero when duckdb cannot be installed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/venv.sh"
# Pinned so benchmark numbers stay comparable between runs.
ensure_venv duckdb-env "${BENCH_VENV:-$(venv_dir bench-venv)}" duckdb "${DUCKDB_VERSION:-1.5.6}"
