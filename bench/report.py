#!/usr/bin/env python3
"""Print the benchmark table and compare the two TT001 finding sets.

Usage: report.py --bytes N --records N --tokentrail M.json --duckdb M.json
                 --ocsf FINDINGS.ocsf.jsonl --sql TT001.jsonl

M.json are bench/measure.py outputs. The tokentrail side of the comparison is every OCSF
finding whose `finding_info.analytic.uid` is TT001, as (actor.session.credential_uid,
evidences[0].data.network, count); the DuckDB side is bench/duckdb_tt001.py's output.
Exits 1 when the two sets differ.
"""

import argparse
import json
import sys

MB = 1_000_000


def load_ocsf(path):
    rows = set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            finding = json.loads(line)
            if finding.get("finding_info", {}).get("analytic", {}).get("uid") != "TT001":
                continue
            token = finding.get("actor", {}).get("session", {}).get("credential_uid")
            evidences = finding.get("evidences") or [{}]
            network = evidences[0].get("data", {}).get("network")
            rows.add((token, network, finding.get("count")))
    return rows


def load_sql(path):
    with open(path, encoding="utf-8") as f:
        return {(r["token_id"], r["network"], r["accesses"])
                for r in map(json.loads, filter(str.strip, f))}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bytes", type=int, required=True)
    ap.add_argument("--records", type=int, required=True)
    ap.add_argument("--tokentrail", required=True)
    ap.add_argument("--duckdb", required=True)
    ap.add_argument("--ocsf", required=True)
    ap.add_argument("--sql", required=True)
    a = ap.parse_args()

    runs = []
    for name, path in (("tokentrail detect (all rules)", a.tokentrail),
                       ("duckdb TT001 query", a.duckdb)):
        with open(path, encoding="utf-8") as f:
            runs.append((name, json.load(f)))
    header = ("run", "wall s", "cpu s", "peak RSS MB", "input MB/s", "records/s")
    table = [header]
    for name, m in runs:
        wall = max(m["wall_s"], 1e-9)
        table.append((name, f"{m['wall_s']:.2f}", f"{m.get('cpu_s', 0.0):.2f}",
                      f"{m['peak_rss_bytes'] / MB:.1f}",
                      f"{a.bytes / MB / wall:.1f}", f"{a.records / wall:,.0f}"))
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])]
        print("  ".join(cells))
    ratio = runs[1][1]["wall_s"] / max(runs[0][1]["wall_s"], 1e-9)
    print(f"ratio duckdb_wall / tokentrail_wall: {ratio:.2f}x")
    cpu_ratio = runs[1][1].get("cpu_s", 0.0) / max(runs[0][1].get("cpu_s", 0.0), 1e-9)
    print(f"ratio duckdb_cpu / tokentrail_cpu: {cpu_ratio:.2f}x")

    ours, reference = load_ocsf(a.ocsf), load_sql(a.sql)
    print(f"TT001 findings (token, network, accesses): tokentrail {len(ours)}, "
          f"duckdb {len(reference)}")
    if ours == reference:
        print("TT001 finding sets: EQUAL")
        return 0
    print("TT001 finding sets: DIFFERENT")
    for label, rows in (("only in tokentrail", ours - reference),
                        ("only in duckdb", reference - ours)):
        for token, network, count in sorted(rows, key=str):
            print(f"  {label}: token {token} network {network} accesses {count}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
