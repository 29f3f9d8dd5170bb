#!/usr/bin/env bash
# Instructions per input byte of `tokentrail detect`, end to end (reading, decoding, the engine
# and the output), counted by valgrind's callgrind: a figure that, unlike wall time, does not move
# with the load of a shared machine. Counts user-space instructions only: the kernel's copies
# (read, write) and page faults are not in it, so compare it with a time measurement too.
# Usage: bench/instructions.sh [--base REV] [--users N] [--top K]
#   --base REV  also count REV's build (built in a worktree of its own) and print the ratio
#   --users N   the corpus: N users x 1 day, simulated once (default 300, about 60 MB)
#   --top K     list the K functions with the most instructions of their own (default 15)
# Exit codes: 0 counted; 2 bad arguments, a failed build or a failed run.
set -euo pipefail

usage() { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; }
base=""
users=300
top=15
while [[ $# -gt 0 ]]; do
  case "$1" in
    --base) base="${2:-}"; shift 2 ;;
    --users) users="${2:-}"; shift 2 ;;
    --top) top="${2:-}"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "instructions.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done
[[ "$users" =~ ^[1-9][0-9]*$ ]] || { echo "instructions.sh: --users takes a positive number" >&2; exit 2; }
[[ "$top" =~ ^[0-9]+$ ]] || { echo "instructions.sh: --top takes a number" >&2; exit 2; }
command -v valgrind >/dev/null && command -v callgrind_annotate >/dev/null \
  || { echo "instructions.sh: needs valgrind (Debian: apt-get install valgrind)" >&2; exit 2; }

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=bench/base_build.sh
source "$root/bench/base_build.sh"
bench_work instructions
target_dir="$TARGET_DIR"
work="$WORK"
now="2030-01-01T00:00:00Z"

build_head || exit 2
sides=("head:$HEAD_BIN")
if [[ -n "$base" ]]; then
  base_rev="$(git rev-parse --verify --quiet "$base^{commit}")" \
    || { echo "instructions.sh: not a revision: $base" >&2; exit 2; }
  echo "== build: base $(git rev-parse --short "$base_rev")"
  build_base "$base_rev" "$work" || exit 2
  sides=("base:$BASE_BIN" "${sides[@]}")
fi

corpus="$work/corpus-$users"
if [[ ! -f "$corpus/summary.json" ]]; then
  rm -rf "$corpus"
  "$target_dir/release/tokentrail" simulate --users "$users" --days 1 --seed 1 --attacks all \
    --formats signins=la-jsonl,graph=la-jsonl,ual=jsonl --out "$corpus" >/dev/null
fi
logs=("$corpus/signins" "$corpus/graph" "$corpus/ual")
bytes="$(find "${logs[@]}" -type f -print0 | xargs -0 cat | wc -c)"
echo "== corpus: $users users x 1 day, $bytes bytes of logs"

declare -A total
for entry in "${sides[@]}"; do
  side="${entry%%:*}"
  bin="${entry#*:}"
  out="$work/callgrind.$side.out"
  valgrind --tool=callgrind --callgrind-out-file="$out" \
    "$bin" detect "${logs[@]}" --threads 2 --now "$now" --format ocsf -o "$work/$side.jsonl" \
    >/dev/null 2>"$work/$side.valgrind.log" \
    || { echo "instructions.sh: the $side run failed, see $work/$side.valgrind.log" >&2; exit 2; }
  # One pass over the annotation: the program's total, then its functions by own instructions.
  report="$(callgrind_annotate --auto=no --threshold=100 "$out" 2>/dev/null | python3 -c '
import re, sys
bytes_, top, side = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
total, funcs = None, {}
for line in sys.stdin:
    m = re.match(r"^\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*)$", line.rstrip("\n"))
    if not m:
        continue
    ir, what = int(m.group(1).replace(",", "")), m.group(2)
    if what == "PROGRAM TOTALS":
        total = ir
        continue
    # "file:function [object]": the file ends in a source suffix or is "???".
    what = re.sub(r" \[[^]]*\]$", "", what)
    what = re.sub(r"^(\S*?\.(?:rs|S|s|c|h|cc|cpp)|\?\?\?):", "", what)
    # A function inlined from several files is listed once per file: one line per function.
    funcs[what] = funcs.get(what, 0) + ir
if total is None:
    sys.exit("no PROGRAM TOTALS line in the callgrind annotation")
print(total)
print(f"{side}: {total:,} instructions, {total / bytes_:.2f} per input byte")
for what, ir in sorted(funcs.items(), key=lambda f: (-f[1], f[0]))[:top]:
    print(f"  {ir:>14,} {100 * ir / total:5.1f}%  {what}")
' "$bytes" "$top" "$side")" || { echo "instructions.sh: cannot read $out" >&2; exit 2; }
  total[$side]="$(head -n 1 <<<"$report")"
  tail -n +2 <<<"$report"
done
if [[ -n "$base" ]]; then
  python3 -c "import sys; b, h = int(sys.argv[1]), int(sys.argv[2]); print(f'head / base: {h / b:.3f}')" \
    "${total[base]}" "${total[head]}"
  if ! cmp -s "$work/base.jsonl" "$work/head.jsonl"; then
    echo "note: base and head reported different findings on this corpus (see $work/*.jsonl)"
  fi
fi
