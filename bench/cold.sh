#!/usr/bin/env bash
# Time `detect --threads 2` of the working tree's build against BASE's on tier M, in
# alternating rounds, each run either with the page cache emptied first (cold: a responder's
# first run on an export folder) or with the input read into it first (warm).
#
# Usage: bench/cold.sh BASE [--rounds N] [--tier S|M]
#   Emptying the page cache needs root (it writes /proc/sys/vm/drop_caches); without it the
#   script says so and times warm runs only. The tier's corpus is bench/run.sh's
#   (target/bench/TIER); run that first.
set -euo pipefail
cd "$(dirname "$0")/.."
usage() { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; }

base="" rounds=3 tier=M
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) rounds="${2:-}"; shift 2 ;;
    --tier) tier="${2:-}"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "cold.sh: unknown option: $1" >&2; usage >&2; exit 2 ;;
    *) [[ -z "$base" ]] || { echo "cold.sh: one BASE only" >&2; exit 2; }; base="$1"; shift ;;
  esac
done
[[ -n "$base" ]] || { usage >&2; exit 2; }
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "cold.sh: --rounds must be a positive number" >&2; exit 2; }
base_rev="$(git rev-parse --verify --quiet "$base^{commit}")" \
  || { echo "cold.sh: not a revision: $base" >&2; exit 2; }

# shellcheck source=bench/base_build.sh
source bench/base_build.sh
bench_work cold
corpus="$TARGET_DIR/bench/$tier"
[[ -d "$corpus" ]] || { echo "cold.sh: no corpus at $corpus: run bench/run.sh --tier $tier first" >&2; exit 2; }
build_head
echo "== build: base $(git rev-parse --short "$base_rev")"
build_base "$base_rev" "$WORK"

can_drop=0
if sync && echo 1 2>/dev/null >/proc/sys/vm/drop_caches; then
  can_drop=1
else
  echo "cold.sh: cannot empty the page cache (needs root): warm runs only" >&2
fi

# run LABEL BIN STATE: one timed run, a line of "state label wall user system peak-KB".
run() {
  local label="$1" bin="$2" state="$3"
  if [[ "$state" = cold ]]; then
    sync
    echo 1 >/proc/sys/vm/drop_caches
  else
    cat "$corpus"/*/*/* >/dev/null
  fi
  /usr/bin/time -f "$state $label %e %U %S %M" "$bin" detect --threads 2 "$corpus" -o /dev/null \
    2>&1 >/dev/null | tail -n 1
}

states=(warm)
[[ "$can_drop" = 1 ]] && states=(cold warm)
echo "== $rounds alternating rounds on tier $tier ($(du -sh "$corpus" | cut -f1)); load $(cut -d' ' -f1-3 /proc/loadavg)"
results="$(for _ in $(seq "$rounds"); do
  for state in "${states[@]}"; do
    run base "$BASE_BIN" "$state"
    run head "$HEAD_BIN" "$state"
  done
done)"
echo "state build  runs   wall s (each)                    user s  system s  peak MB (largest)"
for state in "${states[@]}"; do
  for label in base head; do
    awk -v s="$state" -v l="$label" '
      $1 == s && $2 == l { n++; walls = walls sprintf(" %.2f", $3); u += $4; k += $5; if ($6 > rss) rss = $6 }
      END {
        if (!n) exit
        printf "%-5s %-5s %4d  %-32s %7.2f %9.2f %8d\n", s, l, n, walls, u / n, k / n, rss / 1000
      }' <<<"$results"
  done
done
