#!/usr/bin/env bash
# Speed of `detect --threads 2` on one tenant written in each export shape a responder meets,
# not only the Log Analytics JSON lines the other benches use: the same simulated tenant (same
# seed, users and days) as
#   la        Log Analytics JSON lines (sign-ins, Graph, the UAL's AuditData lines)
#   portal    the Entra admin center's sign-in CSV, Graph diagnostic settings, Purview's CSV
#   diag      diagnostic-settings documents ({"records": [...]}) and the Management API's arrays
#   defender  Defender XDR advanced hunting results and the Streaming API's lines
#   gzip      the `la` files gzipped
#   utf16     the `la` tenant saved as UTF-16 (Windows PowerShell 5.1's Out-File)
#   api       sign-ins as Log Analytics Query API answers, Graph as ADX v1 REST answers
#   sdk       sign-ins as Graph PowerShell SDK objects (Windows PowerShell 5.1's ConvertTo-Json)
#   elastic   every family as Elasticsearch hits keeping the record in event.original
# in alternating rounds of the working tree's build and, with --base REV, REV's. Prints, per
# shape and build, the median wall and CPU seconds, MB/s and MB per CPU-second (of the logs'
# uncompressed bytes), and says
# whether both builds gave the same OCSF output.
#
# Usage: bench/formats.sh [--base REV] [--users N] [--days N] [--rounds N]
set -euo pipefail
cd "$(dirname "$0")/.."
usage() { sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; }

base="" users=1000 days=1 rounds=3
while [[ $# -gt 0 ]]; do
  case "$1" in
    --base) base="${2:-}"; shift 2 ;;
    --users) users="${2:-}"; shift 2 ;;
    --days) days="${2:-}"; shift 2 ;;
    --rounds) rounds="${2:-}"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "formats.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done
for n in "$users" "$days" "$rounds"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "formats.sh: --users, --days and --rounds take positive numbers" >&2; exit 2; }
done

# shellcheck source=bench/base_build.sh
source bench/base_build.sh
bench_work formats
builds_to_compare formats.sh "$base"
bins=("${BINS[@]}")
names=("${NAMES[@]}")

declare -A mix=(
  [la]="signins=la-jsonl,graph=la-jsonl,ual=jsonl"
  [portal]="signins=entra-portal-csv,graph=diagnostic,ual=purview-csv"
  [diag]="signins=diagnostic,graph=diagnostic,ual=mgmt-api"
  [defender]="signins=defender-hunting,graph=defender-hunting,ual=defender-stream"
  [utf16]="signins=la-jsonl,graph=la-jsonl,ual=jsonl,text=utf-16le"
  [api]="signins=la-api,graph=kusto-v1,ual=jsonl"
  [sdk]="signins=graph-sdk,graph=la-jsonl,ual=jsonl"
  [elastic]="signins=elastic,graph=elastic,ual=elastic"
)
shapes=(la portal diag defender gzip utf16 api sdk elastic)
corpora="$WORK/corpora/u$users-d$days"
for shape in la portal diag defender utf16 api sdk elastic; do
  dir="$corpora/$shape"
  if [[ ! -f "$dir/summary.json" ]]; then
    rm -rf "$dir"
    "$HEAD_BIN" simulate --users "$users" --days "$days" --seed 7 --attacks all \
      --formats "${mix[$shape]}" -o "$dir" >/dev/null
  fi
done
if [[ ! -f "$corpora/gzip/summary.json" ]]; then
  rm -rf "$corpora/gzip"
  cp -r "$corpora/la" "$corpora/gzip"
  find "$corpora/gzip" -type f \( -name '*.json' -o -name '*.jsonl' \) -exec gzip -6 {} +
fi

echo "== machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $users users x $days day(s), $rounds round(s)"
results="$WORK/results"
rm -rf "$results"
mkdir -p "$results"
for shape in "${shapes[@]}"; do
  logs=("$corpora/$shape/signins" "$corpora/$shape/graph" "$corpora/$shape/ual")
  find "${logs[@]}" -type f -exec cat {} + >/dev/null
  for i in "${!bins[@]}"; do
    "${bins[$i]}" detect "${logs[@]}" --format ocsf 2>/dev/null | md5sum | cut -c1-16 \
      >"$results/$shape.${names[$i]}.md5" || true
  done
  for round in $(seq 1 "$rounds"); do
    for i in "${!bins[@]}"; do
      python3 bench/measure.py "$results/$shape.${names[$i]}.$round.json" -- \
        "${bins[$i]}" detect "${logs[@]}" --threads 2 -o /dev/null 2>/dev/null || true
    done
  done
done

python3 - "$results" "$corpora" "$rounds" "${names[@]}" <<'EOF'
import json, os, statistics, sys
results, corpora, rounds, names = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
print("| shape | build | logs MB | wall s | CPU s | MB/s | MB per CPU-s | exit | OCSF md5 |")
print("|---|---|---:|---:|---:|---:|---:|---:|---|")
for shape in ["la", "portal", "diag", "defender", "gzip", "utf16", "api", "sdk", "elastic"]:
    # The gzip and utf16 shapes are the la tenant's logs: MB/s counts their UTF-8 bytes.
    size = 0
    for family in ["signins", "graph", "ual"]:
        for base, _, files in os.walk(os.path.join(corpora, "la" if shape in ("gzip", "utf16") else shape, family)):
            size += sum(os.path.getsize(os.path.join(base, f)) for f in files)
    mb = size / 1e6
    for name in names:
        runs = [json.load(open(os.path.join(results, f"{shape}.{name}.{r}.json")))
                for r in range(1, rounds + 1)]
        wall = statistics.median(r["wall_s"] for r in runs)
        cpu = statistics.median(r["cpu_s"] for r in runs)
        codes = sorted({r["exit_code"] for r in runs})
        md5 = open(os.path.join(results, f"{shape}.{name}.md5")).read().strip()
        print(f"| {shape} | {name} | {mb:,.0f} | {wall:.2f} | {cpu:.2f} | {mb / wall:,.0f} | "
              f"{mb / cpu:,.0f} | {','.join(map(str, codes))} | {md5} |")
if len(names) > 1:
    for shape in ["la", "portal", "diag", "defender", "gzip", "utf16", "api", "sdk", "elastic"]:
        sums = {open(os.path.join(results, f"{shape}.{n}.md5")).read().strip() for n in names}
        print(f"{shape}: OCSF output {'identical' if len(sums) == 1 else 'DIFFERS'} across builds")
EOF
