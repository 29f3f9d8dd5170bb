# Sourced by bench/same_findings.sh and bench/instructions.sh: builds tokentrail at a git
# revision in a worktree of its own, so the working tree (and its target/) is left alone.

# build_base REV WORK: build REV's release binary under WORK (a worktree in WORK/base-src,
# its target in WORK/base-target) and set BASE_BIN to it. The worktree is removed on exit
# unless KEEP_BASE=1. Returns non-zero when the revision cannot be checked out or built.
build_base() {
  local rev="$1" work="$2"
  local tree="$work/base-src"
  rm -rf "$tree"
  git worktree prune
  git worktree add --quiet --detach "$tree" "$rev" || return 1
  if [[ "${KEEP_BASE:-0}" != 1 ]]; then
    # shellcheck disable=SC2064 # the path is fixed now, on purpose
    trap "git worktree remove --force '$tree' 2>/dev/null || true" EXIT
  fi
  (cd "$tree" && CARGO_TARGET_DIR="$work/base-target" cargo build --release --quiet -p tokentrail) \
    || return 1
  BASE_BIN="$work/base-target/release/tokentrail"
}
