#!/usr/bin/env bash
# Hostile inputs at full size (issue 14): time and peak memory of `tokentrail inspect` on
#   - 100 MB of `[`                       (the framer once re-scanned at every bracket)
#   - a gzip bomb: 48 GB of `[` in 48 MB  (48 concatenated gzip members of 1 GiB each)
#   - a zip of 100,000 entries
#   - a 2 GB line in a JSON-lines file    (followed by one good record)
#   - 100,000-deep nesting                (arrays, objects, nested records, as JSON lines)
# and prints one Markdown table row per input: wall time, peak RSS, exit code and what was
# reported. The figures in docs/security.md come from this script.
#
#   bench/hostile.sh [--bin PATH] [--out DIR] [--keep]
#
# --bin defaults to target/release/tokentrail (built when missing); --out to
# target/hostile (about 2.2 GB of inputs, deleted at the end unless --keep).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=target/release/tokentrail
out=target/hostile
keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    *) echo "usage: bench/hostile.sh [--bin PATH] [--out DIR] [--keep]" >&2; exit 2 ;;
  esac
done
if [ ! -x "$bin" ]; then
  cargo build --release -p tokentrail
fi
mkdir -p "$out"

echo "== writing the inputs in $out" >&2
python3 - "$out" <<'PY'
import gzip, os, sys, zipfile

out = sys.argv[1]
MB = 1 << 20

def fill(path, byte, total, chunk=64 * MB):
    with open(path, "wb") as f:
        left = total
        block = byte * chunk
        while left > 0:
            n = min(left, chunk)
            f.write(block[:n])
            left -= n

fill(os.path.join(out, "brackets.json"), b"[", 100 * 1000 * 1000)

# One gzip member of 1 GiB of `[` compresses to about 1 MB; a gzip file may hold many
# members, read as one stream: 48 of them are 48 GiB in about 48 MB.
member_path = os.path.join(out, "member.gz")
with gzip.open(member_path, "wb", compresslevel=9) as g:
    block = b"[" * (64 * MB)
    for _ in range(16):
        g.write(block)
member = open(member_path, "rb").read()
os.remove(member_path)
with open(os.path.join(out, "bomb.json.gz"), "wb") as f:
    for _ in range(48):
        f.write(member)

with zipfile.ZipFile(os.path.join(out, "entries.zip"), "w", zipfile.ZIP_DEFLATED) as z:
    for i in range(100_000):
        z.writestr(f"part/{i:06d}.json", b'{"id":"%d"}\n' % i)

with open(os.path.join(out, "line.jsonl"), "wb") as f:
    f.write(b'{"id":"1","userAgent":"')
    block = b"x" * (64 * MB)
    left = 2 * 1024 * MB
    while left > 0:
        n = min(left, len(block))
        f.write(block[:n])
        left -= n
    f.write(b'"}\n{"id":"2"}\n')

depth = 100_000
with open(os.path.join(out, "nesting.jsonl"), "wb") as f:
    # A good record first: a file whose first byte is `[` is one JSON array, not lines.
    f.write(b'{"id":"1"}\n')
    f.write(b"[" * depth + b"1" + b"]" * depth + b"\n")
    f.write(b'{"a":' * depth + b"1" + b"}" * depth + b"\n")
    f.write(b'{"properties":' * depth + b"1" + b"}" * depth + b"\n")
    f.write(b'{"id":"5"}\n')
PY

printf '| input | size on disk | wall time | peak RSS | exit | reported |\n'
printf '|---|---:|---:|---:|---:|---|\n'
for name in brackets.json bomb.json.gz entries.zip line.jsonl nesting.jsonl; do
  path="$out/$name"
  size=$(du -h --apparent-size "$path" | cut -f1)
  set +e
  /usr/bin/time -f '%e %M' -o "$out/time.txt" "$bin" inspect "$path" >"$out/stdout.txt" 2>"$out/stderr.txt"
  code=$?
  set -e
  read -r secs rss_kb < <(tail -n 1 "$out/time.txt")
  rss_mb=$(( rss_kb / 1024 ))
  # What the run said about the input, in one line: the totals and the first problem.
  total=$(grep '^total:' "$out/stdout.txt" | sed 's/^total: //' | cut -c1-120)
  first=$(grep -m1 -F "  $out/" "$out/stdout.txt" | sed "s|^  $out/||" | cut -c1-160 || true)
  printf '| %s | %s | %s s | %s MB | %s | %s; %s |\n' "$name" "$size" "$secs" "$rss_mb" "$code" "$total" "$first"
done

if [ "$keep" -eq 0 ]; then
  rm -rf "$out"
fi
