#!/usr/bin/env bash
# Create (once) the Python venv a local Spark runs in: spark-venv with pyspark, in cargo's
# target directory ($CARGO_TARGET_DIR when set, else target/), or at $SPARK_VENV.
# Spark needs Java: when `java` is missing and this runs as root with apt-get, Debian's
# openjdk-17-jre-headless is installed; otherwise the script says what to install.
# Idempotent: an existing venv that already imports the pinned pyspark is left as it is.
# Prints the venv's python path on stdout; exits non-zero when Spark cannot be set up.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/venv.sh"

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
# Pinned (a 3.5 release) so runs and timings stay comparable.
ensure_venv spark-env "${SPARK_VENV:-$(venv_dir spark-venv)}" pyspark "${PYSPARK_VERSION:-3.5.9}"
