#!/usr/bin/env python3
"""Run a DuckDB implementation of TT001 (bench/tt001.sql or bench/tt001_tuned.sql) over logs.

Usage: duckdb_tt001.py [--sql FILE] [--threads N] [--memory-limit SIZE] [--out FILE] PATH...

PATHs are files or directories (read recursively). Each file is sorted into a family by its
first record: Entra sign-in rows (Log Analytics), Microsoft Graph activity rows (Log
Analytics), or Unified Audit Log records (JSON lines). Other files are skipped with a note on
stderr. The findings are written as JSON lines {"token_id", "network", "accesses"}, sorted,
to FILE (default stdout).

The only Python work is outside the per-record path: listing files, turning the built-in
Microsoft CIDR list into numeric bounds, filling the SQL's placeholders with the file lists,
and writing the result. Every record is read, joined and judged by DuckDB SQL.

Placeholders: ${SIGNIN_FILES}, ${GRAPH_FILES}, ${UAL_FILES} become SQL lists of the family's
paths; ${EACH <macro> <FAMILY>} becomes one `SELECT * FROM <macro>('<path>', <rank>)` per file
of the family joined by UNION ALL, and ${EACH_BUT_LAST <macro> <FAMILY>} the same without the
family's last file (FAMILY is SIGNIN, GRAPH or UAL; <rank> is the file's position among all
the input files in path order, which is the order the reference's `filename` sorts in).
"""

import argparse
import ipaddress
import json
import os
import re
import sys
import tempfile

import duckdb

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DATA = os.path.join(ROOT, "crates", "engine", "src", "data")

SIGN_IN_TABLES = {
    "signinlogs",
    "noninteractiveusersigninlogs",
    "aadnoninteractiveusersigninlogs",
    "serviceprincipalsigninlogs",
    "microsoftserviceprincipalsigninlogs",
    "aadserviceprincipalsigninlogs",
    "managedidentitysigninlogs",
    "aadmanagedidentitysigninlogs",
}
MAPPED_V4 = 0xFFFF << 32


def data_lines(path):
    """Data lines of an engine data file: comments and blanks dropped, first tab field."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip()
            if line and not line.startswith("#"):
                yield line.split("\t", 1)[0].strip()


def interval(cidr):
    """A CIDR as (lo, hi) 128-bit bounds, IPv4 mapped into ::ffff:0:0/96 as the engine does."""
    net = ipaddress.ip_network(cidr, strict=False)
    lo, hi = int(net.network_address), int(net.broadcast_address)
    if net.version == 4:
        lo, hi = lo + MAPPED_V4, hi + MAPPED_V4
    return lo, hi


def family(path):
    """The family of a JSON lines file from its first record, or None."""
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line:
                    rec = json.loads(line)
                    break
            else:
                return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(rec, dict):
        return None
    keys = {k.lower(): v for k, v in rec.items()}
    names = {str(keys.get("category", "")).lower(), str(keys.get("type", "")).lower()}
    if names & SIGN_IN_TABLES:
        return "signins"
    if "microsoftgraphactivitylogs" in names or "requesturi" in keys:
        return "graph"
    if "recordtype" in keys and ("creationtime" in keys or "operation" in keys):
        return "ual"
    return None


def collect(paths):
    files = {"signins": [], "graph": [], "ual": []}
    for p in paths:
        if os.path.isdir(p):
            found = []
            for d, _, names in os.walk(p):
                found.extend(os.path.join(d, n) for n in names)
        else:
            found = [p]
        for f in sorted(found):
            fam = family(f)
            if fam is None:
                print(f"duckdb_tt001: skipped {f}: not a sign-in, Graph or UAL JSON lines file",
                      file=sys.stderr)
            else:
                files[fam].append(f)
    return files


def quote(text):
    return "'" + text.replace("'", "''") + "'"


def sql_list(items):
    return "[" + ", ".join(quote(i) for i in items) + "]"


FAMILIES = {"SIGNIN": "signins", "GRAPH": "graph", "UAL": "ual"}
EACH = re.compile(r"\$\{(EACH|EACH_BUT_LAST) ([a-z_]+) (SIGNIN|GRAPH|UAL)\}")


def fill(sql, files, empty):
    """The SQL with its placeholders replaced by the file lists (see the module doc)."""
    for name, key in FAMILIES.items():
        sql = sql.replace("${" + name + "_FILES}", sql_list(files[key] or [empty]))
    everything = sorted(f for found in files.values() for f in found)
    rank = {f: i for i, f in enumerate(everything)}

    def scans(m):
        found = sorted(files[FAMILIES[m.group(3)]])
        if m.group(1) == "EACH_BUT_LAST":
            found = found[:-1]
        # No file: the macro over an empty file gives the columns, and `WHERE false` lets the
        # planner drop the scan.
        calls = [f"SELECT * FROM {m.group(2)}({quote(f)}, {rank[f]})" for f in found] or \
            [f"SELECT * FROM {m.group(2)}({quote(empty)}, -1) WHERE false"]
        return "(" + " UNION ALL ".join(calls) + ")"

    return EACH.sub(scans, sql)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sql", default=os.path.join(HERE, "tt001.sql"),
                    help="the implementation to run (default: bench/tt001.sql)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--memory-limit", metavar="SIZE",
                    help="DuckDB memory_limit (for example 200MB); beyond it DuckDB spills "
                         "to a temporary directory")
    ap.add_argument("--out", default="-")
    ap.add_argument("paths", nargs="+")
    args = ap.parse_args()

    files = collect(args.paths)
    with tempfile.TemporaryDirectory() as tmp:
        empty = os.path.join(tmp, "empty.jsonl")
        open(empty, "w").close()
        with open(args.sql, encoding="utf-8") as f:
            sql = fill(f.read(), files, empty)

        con = duckdb.connect()
        con.execute(f"SET threads = {int(args.threads)}")
        if args.memory_limit:
            con.execute(f"SET memory_limit = {quote(args.memory_limit)}")
            con.execute(f"SET temp_directory = {quote(os.path.join(tmp, 'spill'))}")
        con.execute("CREATE TEMP TABLE ms_ranges (lo UHUGEINT, hi UHUGEINT)")
        ranges = [interval(c) for c in data_lines(os.path.join(DATA, "microsoft_ranges.txt"))]
        con.executemany("INSERT INTO ms_ranges VALUES (?::UHUGEINT, ?::UHUGEINT)",
                        [(str(lo), str(hi)) for lo, hi in ranges])
        con.execute("CREATE TEMP TABLE hosting_asns (asn BIGINT)")
        con.executemany("INSERT INTO hosting_asns VALUES (?)",
                        [(int(a),) for a in data_lines(os.path.join(DATA, "hosting_asns.txt"))])
        con.execute(sql)
        rows = con.execute(
            "SELECT token_id, network, accesses FROM tt001 ORDER BY token_id, network"
        ).fetchall()

    out = sys.stdout if args.out == "-" else open(args.out, "w", encoding="utf-8")
    try:
        for token, network, accesses in rows:
            out.write(json.dumps({"token_id": token, "network": network,
                                  "accesses": int(accesses)}, sort_keys=True) + "\n")
    finally:
        if out is not sys.stdout:
            out.close()
    print(f"duckdb_tt001: {len(rows)} TT001 finding(s) from {sum(map(len, files.values()))} "
          f"file(s)", file=sys.stderr)


if __name__ == "__main__":
    main()
