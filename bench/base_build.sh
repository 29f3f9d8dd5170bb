# Sourced by bench/same_findings.sh and bench/instructions.sh: where a comparison works, the
# working tree's build, and a build of a git revision in a worktree of its own (so the working
# tree and its target/ are left alone).

# bench_work NAME: set WORK to target/NAME (under $CARGO_TARGET_DIR when set) and create it,
# set TARGET_DIR, and keep an installed ASN database out of the runs (XDG_DATA_HOME): it would
# name networks the same on both sides, but results should not depend on what is installed.
bench_work() {
  local root
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
  [[ "$TARGET_DIR" = /* ]] || TARGET_DIR="$root/$TARGET_DIR"
  WORK="$TARGET_DIR/$1"
  mkdir -p "$WORK"
  export XDG_DATA_HOME="$WORK/no-data"
}

# build_head: build the working tree's release binary and set HEAD_BIN to it.
build_head() {
  echo "== build: working tree ($(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo ', with changes'))"
  cargo build --release --quiet -p tokentrail || return 1
  HEAD_BIN="$TARGET_DIR/release/tokentrail"
}

# build_base REV WORK: build REV's release binary under WORK (a worktree in WORK/base-src,
# its target in WORK/base-target), or reuse the one built there for REV, and set BASE_BIN to
# it. A worktree made for the build is removed on exit unless KEEP_BASE=1. Returns non-zero
# when the revision cannot be checked out or built.
build_base() {
  local rev="$1" work="$2"
  local tree="$work/base-src"
  BASE_BIN="$work/base-target/release/tokentrail"
  # A revision's build does not change: the one left by an earlier comparison is reused (a
  # fresh worktree would make cargo build the workspace's crates again).
  if [[ -x "$BASE_BIN" && "$(cat "$work/base-target/built-rev" 2>/dev/null)" = "$rev" ]]; then
    echo "   (reusing the build of $rev)"
    return 0
  fi
  rm -f "$work/base-target/built-rev"
  rm -rf "$tree"
  git worktree prune
  git worktree add --quiet --detach "$tree" "$rev" || return 1
  if [[ "${KEEP_BASE:-0}" != 1 ]]; then
    # shellcheck disable=SC2064 # the path is fixed now, on purpose
    trap "git worktree remove --force '$tree' 2>/dev/null || true" EXIT
  fi
  (cd "$tree" && CARGO_TARGET_DIR="$work/base-target" cargo build --release --quiet -p tokentrail) \
    || return 1
  echo "$rev" >"$work/base-target/built-rev"
}

# builds_to_compare SCRIPT BASE: build the working tree and, when BASE is not empty, BASE; set
# BINS to their binaries and NAMES to `head` and `base` (exits 2 when BASE is no revision).
builds_to_compare() {
  local script="$1" base="$2" base_rev
  build_head || exit 1
  BINS=("$HEAD_BIN")
  NAMES=(head)
  if [[ -n "$base" ]]; then
    base_rev="$(git rev-parse --verify --quiet "$base^{commit}")" \
      || { echo "$script: not a revision: $base" >&2; exit 2; }
    echo "== build: base $(git rev-parse --short "$base_rev")"
    build_base "$base_rev" "$WORK" || exit 1
    BINS+=("$BASE_BIN")
    NAMES+=(base)
  fi
}
