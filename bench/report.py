#!/usr/bin/env python3
"""Print the benchmark table and compare the TT001 finding sets of every run.

Usage: report.py --bytes N --records N --dir DIR --rounds N [--memory-limit SIZE] VARIANT...

DIR holds, for each VARIANT and round R (1..N), bench/measure.py's DIR/VARIANT.R.json and the
run's findings DIR/VARIANT.R.jsonl. The first VARIANT is `tokentrail` (its findings are OCSF:
every finding whose `finding_info.analytic.uid` is TT001, as (actor.session.credential_uid,
evidences[0].data.network, count)); the others are DuckDB runs (bench/duckdb_tt001.py's
output). Each row of the table gives the medians over the rounds of wall time, CPU time and
peak RSS, the input rate at the median wall time, and the ratio of the median wall and CPU
times to tokentrail's. Every run's findings are compared with tokentrail's first run; exits 1
when a set differs or a run failed.
"""

import argparse
import json
import statistics
import sys

MB = 1_000_000

LABELS = {
    "tokentrail": "tokentrail detect (all rules)",
    "plain": "duckdb TT001, plain reference",
    "tuned": "duckdb TT001, tuned",
    "tuned-limited": "duckdb TT001, tuned, memory_limit {limit}",
    "read-floor": "duckdb reading the columns TT001 reads, nothing else",
    "cat": "cat of the logs",
}

# Runs that find nothing: floors under the others, compared on time only.
FLOORS = {"read-floor", "cat"}


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


def load_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, json.JSONDecodeError):
        return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bytes", type=int, required=True)
    ap.add_argument("--records", type=int, required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--rounds", type=int, required=True)
    ap.add_argument("--memory-limit", default="")
    ap.add_argument("variants", nargs="+")
    a = ap.parse_args()
    if a.variants[0] != "tokentrail":
        ap.error("the first variant must be tokentrail")

    failed = []
    medians = {}
    for v in a.variants:
        runs = []
        for r in range(1, a.rounds + 1):
            m = load_json(f"{a.dir}/{v}.{r}.json")
            if m is None or m.get("exit_code") != 0:
                failed.append(f"{v} round {r}: " + (
                    "no measurement" if m is None else f"exit code {m.get('exit_code')}"))
            else:
                runs.append(m)
        if runs:
            medians[v] = {k: statistics.median(m[k] for m in runs)
                          for k in ("wall_s", "cpu_s", "peak_rss_bytes")}
            medians[v]["n"] = len(runs)

    base = medians.get("tokentrail")
    # "MB per CPU-s" is the unit of the decode bench (bytes per CPU-second of the decoding
    # thread), so the two figures can be read side by side.
    header = ("run", "wall s", "cpu s", "peak RSS MB", "input MB/s", "MB per CPU-s",
              "records/s", "wall / tt", "cpu / tt")
    table = [header]
    for v in a.variants:
        label = LABELS.get(v, v).format(limit=a.memory_limit)
        m = medians.get(v)
        if m is None:
            table.append((label, "failed", "", "", "", "", "", "", ""))
            continue
        wall = max(m["wall_s"], 1e-9)
        ratios = ("", "")
        if base:
            ratios = (f"{m['wall_s'] / max(base['wall_s'], 1e-9):.2f}x",
                      f"{m['cpu_s'] / max(base['cpu_s'], 1e-9):.2f}x")
        table.append((label, f"{m['wall_s']:.2f}", f"{m['cpu_s']:.2f}",
                      f"{m['peak_rss_bytes'] / MB:.1f}", f"{a.bytes / MB / wall:.1f}",
                      f"{a.bytes / MB / max(m['cpu_s'], 1e-9):.1f}",
                      f"{a.records / wall:,.0f}") + ratios)
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    print(f"medians of {a.rounds} alternating rounds; MB = 10^6 bytes; "
          f"input {a.bytes:,} bytes, {a.records:,} records")
    for row in table:
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])]
        print("  ".join(cells).rstrip())

    # The differential check: every run against tokentrail's first run.
    reference = None
    try:
        reference = load_ocsf(f"{a.dir}/tokentrail.1.jsonl")
    except OSError:
        failed.append("tokentrail round 1: no findings file")
    different = []
    if reference is not None:
        print(f"TT001 findings (token, network, accesses) of tokentrail: {len(reference)}")
        for v in a.variants:
            if v in FLOORS:
                continue
            counts, equal = [], True
            for r in range(1, a.rounds + 1):
                path = f"{a.dir}/{v}.{r}.jsonl"
                try:
                    found = load_ocsf(path) if v == "tokentrail" else load_sql(path)
                except (OSError, json.JSONDecodeError, KeyError):
                    counts.append("-")
                    equal = False
                    continue
                counts.append(str(len(found)))
                if found != reference:
                    equal = False
                    different.append((v, r, found))
            label = LABELS.get(v, v).format(limit=a.memory_limit)
            verdict = "EQUAL" if equal else "DIFFERENT"
            print(f"TT001 finding sets, {label}: {verdict} (rounds: {', '.join(counts)})")
    for v, r, found in different:
        for label, rows in ((f"only in {v} round {r}", found - reference),
                            ("only in tokentrail", reference - found)):
            for token, network, count in sorted(rows, key=str):
                print(f"  {label}: token {token} network {network} accesses {count}")
    for f in failed:
        print(f"FAILED: {f}")
    return 1 if failed or different else 0


if __name__ == "__main__":
    sys.exit(main())
