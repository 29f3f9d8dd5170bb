#!/usr/bin/env bash
# Run the fuzz targets for a given time each: fuzz/run.sh SECONDS [TARGET...]
# (default: every target). Stable toolchain: cargo-fuzz with `--sanitizer none` (libFuzzer's
# coverage instrumentation, no AddressSanitizer, which needs nightly; the code is
# `unsafe`-free, so panics, aborts, timeouts and memory blow-ups are what is looked for).
# Seeds come from fuzz/seed.sh; the growing corpus is kept in fuzz/corpus/<target>/ and
# crashes in fuzz/artifacts/<target>/, libFuzzer's output in fuzz/logs/<target>.log. A summary
# line per target is appended to fuzz/runs.log (committed: the record of what ran).
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:?usage: fuzz/run.sh SECONDS [TARGET...]}"
shift
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(frame decode_json decode_nested decode_csv allowlist escape)
fi
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz
[ -d seeds ] || ./seed.sh
cargo fuzz build -s none -O
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t" logs
  dict=()
  case "$t" in decode_*|frame) dict=(-dict=dict/json.dict) ;; esac
  log="logs/$t.log"
  echo "== $t for ${seconds}s"
  set +e
  cargo fuzz run -s none -O "$t" "corpus/$t" "seeds/$t" -- \
    -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
    -print_final_stats=1 "${dict[@]}" >"$log" 2>&1
  status=$?
  set -e
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo '?')
  crashes=$(find "artifacts/$t" -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' | wc -l)
  line="$(date -u +%Y-%m-%dT%H:%M:%SZ) $t ${seconds}s exit=$status runs=$runs cov=$cov corpus=$(find "corpus/$t" -type f | wc -l) findings=$crashes"
  echo "$line" | tee -a runs.log
done
