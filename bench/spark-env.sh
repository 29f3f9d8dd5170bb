#!/usr/bin/env bash
# Create (once) the Python venv a local Spark runs in: spark-venv with pyspark, in cargo's
# target directory ($CARGO_TARGET_DIR when set, else target/), or at $SPARK_VENV.
# Spark needs Java: when `java` is missing and this runs as root with apt-get, Debian's
# openjdk-17-jre-headless is installed; otherwise the script says what to install.
# Idempotent: an existing venv that already imports the pinned pyspark is left as it is.
# Prints the venv's python path on stdout; exits non-zero when Spark cannot be set up.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
# Cargo reads a relative CARGO_TARGET_DIR from the directory it runs in, as this does.
[[ "$target_dir" = /* ]] || target_dir="$PWD/$target_dir"
venv="${SPARK_VENV:-$target_dir/spark-venv}"
py="$venv/bin/python"
# Pinned (a 3.5 release) so runs and timings stay comparable.
version="${PYSPARK_VERSION:-3.5.9}"

if ! command -v java >/dev/null 2>&1; then
  if [[ "$(id -u)" = 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "spark-env: java not found; installing Debian's openjdk-17-jre-headless" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >&2
  else
    echo "spark-env: java not found (Spark 3.5 needs Java 17; on Debian: apt-get install openjdk-17-jre-headless)" >&2
    exit 1
  fi
fi

mkdir -p "$(dirname "$venv")"
# Concurrent callers (parallel tests, CI steps) wait for one another here.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$venv.lock"
  flock 9
fi
if [[ -x "$py" ]] && "$py" -c "import pyspark, sys; sys.exit(pyspark.__version__ != '$version')" >/dev/null 2>&1; then
  echo "$py"
  exit 0
fi
python3="${PYTHON:-python3}"
if ! command -v "$python3" >/dev/null 2>&1; then
  echo "spark-env: $python3 not found" >&2
  exit 1
fi
if [[ ! -x "$py" ]]; then
  if ! "$python3" -m venv "$venv" >&2; then
    echo "spark-env: '$python3 -m venv' failed (on Debian: apt-get install python3-venv)" >&2
    rm -rf "$venv"
    exit 1
  fi
fi
if ! "$py" -m pip install --quiet --disable-pip-version-check "pyspark==$version" >&2; then
  echo "spark-env: pip install pyspark==$version failed" >&2
  exit 1
fi
"$py" -c 'import pyspark' >&2
echo "$py"
