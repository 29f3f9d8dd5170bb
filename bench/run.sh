#!/usr/bin/env bash
# End-to-end benchmark: `tokentrail detect` (all rules) against DuckDB implementations of TT001
# (the plain reference bench/tt001.sql, the tuned bench/tt001_tuned.sql, and the tuned one under
# a 200 MB memory limit), on one simulated corpus, 2 threads each, in alternating rounds; with
# two floors beside them: DuckDB only reading the columns TT001 reads (bench/read_floor.sql),
# and `cat` of the files.
# Usage: bench/run.sh [--tier S|M] [--rounds N]     (see bench/README.md)
set -euo pipefail

tier=S
rounds=3
while [[ $# -gt 0 ]]; do
  case "$1" in
    --tier) tier="${2:-}"; shift 2 ;;
    --tier=*) tier="${1#--tier=}"; shift ;;
    --rounds) rounds="${2:-}"; shift 2 ;;
    --rounds=*) rounds="${1#--rounds=}"; shift ;;
    -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument: $1 (usage: bench/run.sh [--tier S|M] [--rounds N])" >&2; exit 2 ;;
  esac
done
case "$tier" in
  S|s) tier=S; users=1000 ;;
  M|m) tier=M; users=10000 ;;
  *) echo "run.sh: --tier must be S or M, not '$tier'" >&2; exit 2 ;;
esac
if ! [[ "$rounds" =~ ^[1-9][0-9]*$ ]]; then
  echo "run.sh: --rounds must be a positive number, not '$rounds'" >&2
  exit 2
fi
threads=2
days=1
seed=1
formats="signins=la-jsonl,graph=la-jsonl,ual=jsonl"
memory_limit=200MB

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
[[ "$target_dir" = /* ]] || target_dir="$root/$target_dir"
bin="$target_dir/release/tokentrail"
# The SQL reference knows no ASN database: keep tokentrail from using one installed in the
# user's data folder (it would name networks the reference sees as prefixes).
export XDG_DATA_HOME="$target_dir/bench/no-data"

echo "== machine"
echo "nproc: $(nproc)"
echo "cpu: $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "memory: $(awk '/^MemTotal/ {printf "%.1f GB", $2 / 1048576}' /proc/meminfo)"
echo "load average before the runs: $(cut -d' ' -f1-3 /proc/loadavg)"

echo "== build (cargo build --release)"
cargo build --release --quiet -p tokentrail
echo "tokentrail: $bin"

echo "== duckdb (venv in $target_dir)"
py="$(bench/duckdb-env.sh)"
echo "duckdb $("$py" -c 'import duckdb; print(duckdb.__version__)') in $py"

corpus="$target_dir/bench/$tier"
echo "== corpus (tier $tier: $users users x $days day, seed $seed)"
# Reuse a corpus whose summary.json says it was made with the same arguments.
if [[ -f "$corpus/summary.json" ]] && "$py" - "$corpus/summary.json" "$users" "$days" "$seed" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
same = (s.get("users"), s.get("days"), s.get("seed")) == tuple(map(int, sys.argv[2:5])) and \
    s.get("formats") == {"sign_ins": "la-jsonl", "graph": "la-jsonl", "ual": "jsonl"} and \
    all(s.get("labels_by_kind", {}).values()) and len(s.get("labels_by_kind", {})) == 6
sys.exit(0 if same else 1)
PY
then
  echo "cached: $corpus"
else
  rm -rf "$corpus"
  "$bin" simulate --users "$users" --days "$days" --seed "$seed" --attacks all \
    --formats "$formats" --out "$corpus"
fi
logs=("$corpus/signins" "$corpus/graph" "$corpus/ual")
# Bytes and lines of the log files (labels.jsonl and summary.json are not logs). Counting the
# lines also reads every file once, so every run starts from a warm page cache.
bytes="$(find "${logs[@]}" -type f -printf '%s\n' | awk '{s += $1} END {printf "%.0f\n", s}')"
records="$(find "${logs[@]}" -type f -exec cat {} + | wc -l)"
echo "input: $bytes bytes, $records records in $(find "${logs[@]}" -type f | wc -l) files"

out="$target_dir/bench/$tier-results"
rm -rf "$out"
mkdir -p "$out/spill"

# One run of a variant: measured by bench/measure.py into $out/<variant>.<round>.json, its
# findings in $out/<variant>.<round>.jsonl. A failed run is recorded (exit code) and reported.
run() {
  local variant="$1" round="$2"
  local findings="$out/$variant.$round.jsonl"
  local args=()
  case "$variant" in
    tokentrail) args=("$bin" detect --threads "$threads" --format ocsf -o "$findings") ;;
    plain) args=("$py" bench/duckdb_tt001.py --sql bench/tt001.sql --threads "$threads" --out "$findings") ;;
    tuned) args=("$py" bench/duckdb_tt001.py --sql bench/tt001_tuned.sql --threads "$threads" --out "$findings") ;;
    # Spills go to a directory of the results (under TMPDIR): a tmpfs /tmp would keep them in
    # memory.
    tuned-limited) args=(env TMPDIR="$out/spill" "$py" bench/duckdb_tt001.py --sql bench/tt001_tuned.sql
      --threads "$threads" --memory-limit "$memory_limit" --out "$findings") ;;
    # The floors: DuckDB reading and projecting the columns TT001 reads, and `cat` of the files.
    read-floor) args=("$py" bench/duckdb_tt001.py --sql bench/read_floor.sql --threads "$threads" --out "$findings") ;;
    cat) args=(sh -c 'find "$@" -type f -exec cat {} + >/dev/null' sh) ;;
  esac
  echo "-- round $round: $variant"
  "$py" bench/measure.py "$out/$variant.$round.json" -- "${args[@]}" "${logs[@]}" \
    || echo "run.sh: $variant failed in round $round (see above)" >&2
}

variants=(tokentrail plain tuned tuned-limited read-floor cat)
echo "== $rounds rounds of: ${variants[*]} (each round runs every variant once, in this order)"
for round in $(seq 1 "$rounds"); do
  for variant in "${variants[@]}"; do
    run "$variant" "$round"
  done
done

echo "== results (tier $tier; load average after: $(cut -d' ' -f1-3 /proc/loadavg))"
"$py" bench/report.py --bytes "$bytes" --records "$records" --dir "$out" --rounds "$rounds" \
  --memory-limit "$memory_limit" "${variants[@]}"
