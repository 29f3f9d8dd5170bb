#!/usr/bin/env bash
# Do two builds of tokentrail report the same findings? Builds BASE (a git revision) and the
# working tree, runs `detect --format ocsf` of each on the same corpora and compares the OCSF
# lines byte for byte. Meant for changes that must not move a finding (speed, memory, refactors).
# Usage: bench/same_findings.sh BASE [--tiers S,M] [--partitions N] [--keep]
#   corpora: the labelled tenants (small office seed 1001, default profile seed 601) and the
#   bench tiers named by --tiers (default S; M is 2.2 GB and reuses bench/run.sh's corpus).
#   --partitions N: the working tree judges each tenant in N partitions of its users (BASE as
#   its own default), so the check covers the partitioned run too.
# Exit codes: 0 every output identical; 1 a difference (the first differing lines are shown);
# 2 bad arguments or a failed build.
set -euo pipefail

usage() { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; }
base=""
tiers="S"
keep=0
partitions=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --tiers) tiers="${2:-}"; shift 2 ;;
    --tiers=*) tiers="${1#--tiers=}"; shift ;;
    --keep) keep=1; shift ;;
    --partitions)
      [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || { echo "same_findings.sh: --partitions takes a positive number" >&2; exit 2; }
      partitions=(--partitions "$2"); shift 2 ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "same_findings.sh: unknown option: $1" >&2; usage >&2; exit 2 ;;
    *) [[ -z "$base" ]] || { echo "same_findings.sh: one BASE only" >&2; exit 2; }; base="$1"; shift ;;
  esac
done
[[ -n "$base" ]] || { usage >&2; exit 2; }

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
base_rev="$(git rev-parse --verify --quiet "$base^{commit}")" \
  || { echo "same_findings.sh: not a revision: $base" >&2; exit 2; }
# shellcheck source=bench/base_build.sh
source "$root/bench/base_build.sh"
bench_work same-findings
target_dir="$TARGET_DIR"
work="$WORK"
# Fixed clock: allowlist expiry and "implausibly late" records are judged against it.
now="2030-01-01T00:00:00Z"

build_head || exit 2
head_bin="$HEAD_BIN"

echo "== build: base $(git rev-parse --short "$base_rev")"
KEEP_BASE="$keep" build_base "$base_rev" "$work" || exit 2
base_bin="$BASE_BIN"

# name|how to make it (arguments to simulate)|where the logs are, relative to the corpus
corpora=(
  "small-office-1001|--profile small-office --users 25 --days 14 --seed 1001"
  "default-601|--users 500 --days 7 --seed 601 --attacks all"
)
IFS=',' read -r -a tier_list <<<"$tiers"
for t in "${tier_list[@]}"; do
  case "$t" in
    S|s) corpora+=("tier-S|--users 1000 --days 1 --seed 1 --attacks all --formats signins=la-jsonl,graph=la-jsonl,ual=jsonl") ;;
    M|m) corpora+=("tier-M|--users 10000 --days 1 --seed 1 --attacks all --formats signins=la-jsonl,graph=la-jsonl,ual=jsonl") ;;
    "") ;;
    *) echo "same_findings.sh: --tiers takes S and M, not '$t'" >&2; exit 2 ;;
  esac
done

status=0
for entry in "${corpora[@]}"; do
  name="${entry%%|*}"
  args="${entry#*|}"
  corpus="$work/corpus/$name"
  # bench/run.sh keeps its tiers under target/bench; reuse them rather than write 2 GB again.
  case "$name" in
    tier-S) [[ -f "$target_dir/bench/S/summary.json" ]] && corpus="$target_dir/bench/S" ;;
    tier-M) [[ -f "$target_dir/bench/M/summary.json" ]] && corpus="$target_dir/bench/M" ;;
  esac
  if [[ ! -f "$corpus/summary.json" ]]; then
    rm -rf "$corpus"
    # shellcheck disable=SC2086 # the arguments are words on purpose
    "$head_bin" simulate $args --out "$corpus" >/dev/null
  fi
  logs=("$corpus/signins" "$corpus/graph" "$corpus/ual")
  for side in base head; do
    bin_var="${side}_bin"
    extra=()
    [[ "$side" == head ]] && extra=("${partitions[@]}")
    "${!bin_var}" detect "${logs[@]}" --threads 2 --now "$now" --format ocsf "${extra[@]}" \
      -o "$work/$name.$side.jsonl" 2>"$work/$name.$side.stderr" || true
  done
  lines="$(wc -l <"$work/$name.head.jsonl")"
  if cmp -s "$work/$name.base.jsonl" "$work/$name.head.jsonl"; then
    echo "$name: identical ($lines findings, $(sha256sum <"$work/$name.head.jsonl" | cut -c1-16))"
  else
    echo "$name: DIFFERENT (base $(wc -l <"$work/$name.base.jsonl") findings, head $lines)"
    diff <(cut -c1-300 "$work/$name.base.jsonl") <(cut -c1-300 "$work/$name.head.jsonl") | head -20 || true
    status=1
  fi
done
exit "$status"
