# Sourced by bench/duckdb-env.sh and bench/spark-env.sh: one Python venv per tool, in cargo's
# target directory ($CARGO_TARGET_DIR when set, else target/).

# venv_dir NAME: where the venv NAME lives.
venv_dir() {
  local root target_dir
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  target_dir="${CARGO_TARGET_DIR:-$root/target}"
  # Cargo reads a relative CARGO_TARGET_DIR from the directory it runs in, as this does.
  [[ "$target_dir" = /* ]] || target_dir="$PWD/$target_dir"
  echo "$target_dir/$1"
}

# ensure_venv TOOL VENV PACKAGE VERSION: create VENV (once) with PACKAGE==VERSION installed
# and print its python. Idempotent: a venv that already imports that version is left as it is.
# Concurrent callers wait for one another. Messages go to stderr, prefixed with TOOL; returns
# non-zero when the package cannot be installed.
ensure_venv() {
  local tool="$1" venv="$2" package="$3" version="$4"
  local py="$venv/bin/python"
  mkdir -p "$(dirname "$venv")"
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$venv.lock"
    flock 9
  fi
  if [[ -x "$py" ]] && "$py" -c "import $package, sys; sys.exit($package.__version__ != '$version')" >/dev/null 2>&1; then
    echo "$py"
    return 0
  fi
  local python3="${PYTHON:-python3}"
  if ! command -v "$python3" >/dev/null 2>&1; then
    echo "$tool: $python3 not found" >&2
    return 1
  fi
  if [[ ! -x "$py" ]]; then
    if ! "$python3" -m venv "$venv" >&2; then
      echo "$tool: '$python3 -m venv' failed (on Debian: apt-get install python3-venv)" >&2
      rm -rf "$venv"
      return 1
    fi
  fi
  if ! "$py" -m pip install --quiet --disable-pip-version-check "$package==$version" >&2; then
    echo "$tool: pip install $package==$version failed" >&2
    return 1
  fi
  "$py" -c "import $package" >&2
  echo "$py"
}
