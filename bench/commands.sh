#!/usr/bin/env bash
# Time and peak memory of every command that reads the logs, not only `detect`: on one tier's
# corpus (bench/run.sh's, target/bench/TIER), `detect`, `inspect`, `coverage`, `inventory`,
# `report`, `investigate` and `timeline` of one user (the user of detect's first finding), and
# the whole tenant's `timeline`, in alternating rounds of the working tree's build and, with
# --base REV, REV's. Prints per command and build the median wall and CPU seconds and peak RSS,
# and whether both builds wrote the same output (the report's generation time left out).
#
# Usage: bench/commands.sh [--base REV] [--tier S|M] [--rounds N]
set -euo pipefail
cd "$(dirname "$0")/.."
usage() { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; }

base="" tier=S rounds=3
while [[ $# -gt 0 ]]; do
  case "$1" in
    --base) base="${2:-}"; shift 2 ;;
    --tier) tier="${2:-}"; shift 2 ;;
    --rounds) rounds="${2:-}"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "commands.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "commands.sh: --rounds must be a positive number" >&2; exit 2; }

# shellcheck source=bench/base_build.sh
source bench/base_build.sh
bench_work commands
corpus="$TARGET_DIR/bench/$tier"
[[ -d "$corpus/signins" ]] || { echo "commands.sh: no corpus at $corpus: run bench/run.sh --tier $tier first" >&2; exit 2; }
builds_to_compare commands.sh "$base"
bins=("${BINS[@]}")
names=("${NAMES[@]}")

logs=("$corpus/signins" "$corpus/graph" "$corpus/ual")
user="$("$HEAD_BIN" detect "${logs[@]}" --format ocsf 2>/dev/null | head -1 \
  | python3 -c 'import json, sys; print(json.loads(sys.stdin.readline())["actor"]["user"]["name"])')"
results="$WORK/results"
rm -rf "$results"
mkdir -p "$results"
find "${logs[@]}" -type f -exec cat {} + >/dev/null
echo "== machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); tier $tier, user $user, $rounds round(s)"

commands=(detect inspect coverage inventory report investigate timeline-user timeline)
# One run of COMMAND by build I in round R, its output in $results/COMMAND.NAME.out.
run() {
  local command="$1" i="$2" round="$3"
  local bin="${bins[$i]}" out="$results/$command.${names[$i]}.out"
  local args=()
  case "$command" in
    detect) args=(detect "${logs[@]}" --format ocsf -o "$out") ;;
    inspect) args=(sh -c '"$0" inspect "$@" >"'"$out"'"' "$bin" "${logs[@]}") ;;
    coverage) args=(sh -c '"$0" coverage "$@" >"'"$out"'"' "$bin" "${logs[@]}") ;;
    inventory) args=(sh -c '"$0" inventory "$@" >"'"$out"'"' "$bin" "${logs[@]}") ;;
    report) args=(report "${logs[@]}" -o "$out") ;;
    investigate) args=(investigate "${logs[@]}" --user "$user" -o "$out") ;;
    timeline-user) args=(timeline "${logs[@]}" --user "$user" -o "$out.jsonl") ;;
    timeline) args=(timeline "${logs[@]}" -o "$out.jsonl") ;;
  esac
  if [[ "${args[0]}" == sh ]]; then
    python3 bench/measure.py "$results/$command.${names[$i]}.$round.json" -- "${args[@]}" 2>/dev/null || true
  else
    python3 bench/measure.py "$results/$command.${names[$i]}.$round.json" -- "$bin" "${args[@]}" 2>/dev/null || true
  fi
}
for command in "${commands[@]}"; do
  for round in $(seq 1 "$rounds"); do
    for i in "${!bins[@]}"; do
      run "$command" "$i" "$round"
    done
  done
  for i in "${!bins[@]}"; do
    f="$results/$command.${names[$i]}.out"
    [[ -f "$f" ]] || f="$f.jsonl"
    # The report names the time it was made: left out of the comparison.
    sed -E 's/(tokentrail report |Generated )[0-9T:.-]+Z/\1TIME/' "$f" | md5sum | cut -c1-16 \
      >"$results/$command.${names[$i]}.md5"
    rm -f "$f"
  done
done

python3 - "$results" "$rounds" "${names[@]}" <<'EOF'
import json, os, statistics, sys
results, rounds, names = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
commands = ["detect", "inspect", "coverage", "inventory", "report", "investigate",
            "timeline-user", "timeline"]
print("| command | build | wall s | CPU s | peak RSS MB | exit | output md5 |")
print("|---|---|---:|---:|---:|---:|---|")
for c in commands:
    for n in names:
        runs = [json.load(open(os.path.join(results, f"{c}.{n}.{r}.json")))
                for r in range(1, rounds + 1)]
        wall = statistics.median(r["wall_s"] for r in runs)
        cpu = statistics.median(r["cpu_s"] for r in runs)
        rss = statistics.median(r["peak_rss_bytes"] for r in runs) / 1e6
        codes = ",".join(sorted({str(r["exit_code"]) for r in runs}))
        md5 = open(os.path.join(results, f"{c}.{n}.md5")).read().strip()
        print(f"| {c} | {n} | {wall:.2f} | {cpu:.2f} | {rss:,.0f} | {codes} | {md5} |")
if len(names) > 1:
    for c in commands:
        sums = {open(os.path.join(results, f"{c}.{n}.md5")).read().strip() for n in names}
        print(f"{c}: output {'identical' if len(sums) == 1 else 'DIFFERS'} across builds")
EOF
