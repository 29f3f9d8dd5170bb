#!/usr/bin/env bash
# Build the seed corpus of every fuzz target in fuzz/seeds/<target>/ from the public fixtures
# (../shared/fixtures/public, read-only, never copied into the repository) and from small
# tenants written by `tokentrail simulate` in every export shape it writes. The seeds are
# generated, not committed.
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd .. && pwd)
fixtures="${FIXTURES:-$root/../shared/fixtures/public}"
seeds="$PWD/seeds"
rm -rf "$seeds"
mkdir -p "$seeds"/{frame,decode_json,decode_nested,decode_csv,allowlist,escape}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== simulate small tenants in every export shape"
shapes=(
  ""
  "signins=diagnostic,graph=diagnostic,ual=purview-csv"
  "signins=graph,ual=jsonl"
  "signins=entra-portal-csv,graph=defender-hunting,ual=defender-stream"
  "signins=defender-hunting"
  "signins=defender-stream"
  "signins=la-api,graph=kusto-v1,ual=elastic"
  "signins=kusto-v1,graph=elastic"
)
sources=()
for i in "${!shapes[@]}"; do
  formats=()
  [ -n "${shapes[$i]}" ] && formats=(--formats "${shapes[$i]}")
  (cd "$root" && cargo run -q -p tokentrail -- simulate --users 8 --days 1 --seed 14 \
    --attacks all "${formats[@]}" --out "$tmp/tenant$i" >/dev/null)
  sources+=("$tmp/tenant$i")
done
(cd "$root" && cargo run -q -p tokentrail -- simulate --profile small-office --users 6 \
  --days 1 --seed 14 --out "$tmp/office" >/dev/null)
sources+=("$tmp/office")
(cd "$root" && cargo run -q -p tokentrail -- inventory "$tmp/tenant0" \
  --emit-allowlist "$tmp/draft.yaml" >/dev/null) || true

if [ -d "$fixtures" ]; then
  sources+=("$fixtures")
else
  echo "note: no public fixtures at $fixtures; seeding from the simulated tenant only" >&2
fi

echo "== split files into records"
python3 - "$seeds" "${sources[@]}" <<'PY'
import csv, hashlib, io, json, os, sys

seeds, sources = sys.argv[1], sys.argv[2:]

def put(target, data):
    if isinstance(data, str):
        data = data.encode()
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(seeds, target, name), "wb") as f:
        f.write(data)

def records(text):
    """The records of a JSON file, whatever its container."""
    try:
        doc = json.loads(text)
    except ValueError:
        out = []
        for line in text.splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
        return out
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict):
        for key in ("value", "records"):
            if isinstance(doc.get(key), list):
                return doc[key]
        return [doc]
    return []

for source in sources:
    for folder, _, files in os.walk(source):
        for name in sorted(files):
            path = os.path.join(folder, name)
            with open(path, "rb") as f:
                raw = f.read()
            put("frame", raw[:65536])
            text = raw.decode("utf-8", "replace")
            if name.endswith((".csv", ".tsv")):
                rows = list(csv.reader(io.StringIO(text)))
                for start in range(1, min(len(rows), 101), 5):
                    out = io.StringIO()
                    csv.writer(out, lineterminator="\n").writerows([rows[0]] + rows[start:start + 5])
                    put("decode_csv", out.getvalue())
                continue
            for record in records(text)[:25]:
                body = json.dumps(record, ensure_ascii=False)
                put("decode_json", body)
                put("decode_nested", body)
                for value in (record.values() if isinstance(record, dict) else []):
                    if isinstance(value, str) and value:
                        put("escape", value[:512])
PY

echo "== hand-made hostile seeds"
printf '%s' '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[' > "$seeds/frame/brackets"
printf '{"a":"\\ud800"}\n{"b":[1,2,{"c":"\\u001b[2J"}]}\n' > "$seeds/frame/lone-surrogate-lines"
printf '{"records":[{"category":"SignInLogs","properties":{"userAgent":"x\\ud800"}}]}' > "$seeds/frame/envelope"
printf 'RecordId,CreationDate,AuditData\n1,2026-03-02,"{""UserAgent"":""\\ud800""}"\n' > "$seeds/decode_csv/purview-lone"
printf '{"userAgent":"python\\ud800","createdDateTime":"2026-03-02T10:00:00Z","id":"x"}' > "$seeds/decode_json/lone-surrogate"
printf '{"UserAgent":"a\\udc00b","Operation":"New-InboxRule","RecordType":1,"CreationTime":"2026-03-02T10:00:00","Parameters":[{"Name":"Name","Value":"x\\u0027 ; Remove-Mailbox"}]}' > "$seeds/decode_nested/rule"
printf '%s' "x' ; Remove-Mailbox -Identity ceo@contoso.example -Confirm:\$false ; '" > "$seeds/escape/quote"
printf '=HYPERLINK("https://evil.example","x")\x1b[2J\n# h <script>alert(1)</script> [x](javascript:alert(1)) \xe2\x80\xaegpj.exe' > "$seeds/escape/mixed"
awk '/^```yaml$/{on=1;next}/^```$/{on=0}on' "$root/docs/allowlist.md" > "$seeds/allowlist/docs-example"
[ -f "$tmp/draft.yaml" ] && cp "$tmp/draft.yaml" "$seeds/allowlist/draft"
cat > "$seeds/allowlist/catch-all" <<'YAML'
version: 1
entries:
  - id: silence-all
    reason: "temporary"
    owner: "x"
    expires: 2099-12-31
    match: { network: "::/0", app_id: "*" }
  - id: flow
    reason: r
    owner: o
    expires: 2027-01-31
    rules: [TT001, TT002]
    match:
      user: "alice@contoso.example"
      asn: AS16509
YAML

for t in "$seeds"/*; do
  echo "$(basename "$t"): $(find "$t" -type f | wc -l) seeds"
done
