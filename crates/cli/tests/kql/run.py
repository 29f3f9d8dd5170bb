"""Run tokentrail's exported KQL on a local engine (duckdb-kql) over simulated Log Analytics
exports, for crates/cli/tests/kql.rs.

    python run.py SCHEMAS TENANT_DIR QUERIES_DIR WATCHLIST_CSV

QUERIES_DIR holds `tokentrail export --target kql` output: bare queries (TTNNN.kql), or the
Sentinel form (TTNNN.yaml, whose query calls the workspace functions of
tokentrail_functions.json; those are registered as duckdb-kql stored functions first).

Loads every table the queries read (schemas.json: the columns and types Sentinel declares)
from the simulator's Log Analytics exports (signins/la/*.jsonl, graph/la/*.jsonl) and its
Defender streaming export of CloudAppEvents (ual/defender-stream/*.json, one Event Hub record a
line, the row under `properties`), then runs each TTNNN.kql in QUERIES_DIR and prints one JSON
object a line per finding row: {"rule", "id", "records", "operations", ...}.

What duckdb-kql 1.1.2 lacks, and how this harness supplies it. The query text is run exactly as
exported; only the engine is given what a Sentinel workspace has built in:
- `base64_decode_toguid` (the `uti` token id to the sign-in's GUID), `ipv4_is_in_any_range` and
  `ipv6_is_in_any_range` (Microsoft's published ranges) are not mapped by duckdb-kql
  ("unsupported KQL construct 'function:...'"). They are added to its function registry as
  DuckDB Python UDFs implementing the documented KQL semantics (Microsoft byte order GUID;
  CIDR containment by Python's `ipaddress`).
- `translate` (the queries' ASCII-only lower-casing) is not mapped either; it is mapped to
  DuckDB's own `translate`, which takes the same arguments in another order.
- `_GetWatchlist(alias)` is a Sentinel workspace function. It is registered as a stored function
  (duckdb-kql's `set_functions`) reading the watchlist CSV loaded as table `TtWatchlist`, with
  the columns Sentinel gives a watchlist: the CSV's own, `SearchKey` (the search key column's
  value) and `_DTItemId`.
Everything else the queries use (let, union, join inner/leftouter/leftanti, summarize with
arg_min, make_set, dcount, countif, hash_sha256, parse_json, mv-expand of several arrays at
once, array_concat, pack_array) runs natively.
"""

import base64
import csv
import functools
import ipaddress
import json
import os
import sys
import tempfile
import uuid

import duckdb
import duckdb_kql
from duckdb_kql.translate import functions as kql_functions

DUCK_TYPES = {
    "string": "VARCHAR",
    "datetime": "TIMESTAMP",
    "dynamic": "JSON",
    "int": "INTEGER",
    "long": "BIGINT",
    "real": "DOUBLE",
    "bool": "BOOLEAN",
}


def parse_schema(text):
    cols = []
    for part in text.strip()[1:-1].split(","):
        name, typ = part.strip().split(":")
        cols.append((name.strip(), typ.strip()))
    return cols


def records(tenant, table):
    """The rows of one table in the simulated tenant, as dicts of column -> JSON value."""
    if table == "CloudAppEvents":
        folder = os.path.join(tenant, "ual", "defender-stream")
        files = sorted(os.listdir(folder)) if os.path.isdir(folder) else []
        for name in files:
            with open(os.path.join(folder, name), encoding="utf-8") as f:
                for line in f:
                    if line.strip():
                        rec = json.loads(line)
                        row = dict(rec.get("properties", {}))
                        row.setdefault("TimeGenerated", rec.get("time"))
                        yield row
        return
    for family in ("signins", "graph"):
        path = os.path.join(tenant, family, "la", table + ".jsonl")
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                for line in f:
                    if line.strip():
                        yield json.loads(line)


def cell(value, typ):
    if value is None:
        return None
    if typ == "string":
        return value if isinstance(value, str) else json.dumps(value)
    if typ == "dynamic":
        # Kept as JSON (a text value is a JSON string, as Log Analytics stores it).
        return value
    if typ in ("int", "long"):
        try:
            return int(value)
        except (TypeError, ValueError):
            return None
    if typ == "real":
        try:
            return float(value)
        except (TypeError, ValueError):
            return None
    if typ == "bool":
        if isinstance(value, bool):
            return value
        return str(value).lower() in ("true", "yes", "1")
    if typ == "datetime":
        return value if isinstance(value, str) and value else None
    return value


def load(con, schemas, tenant):
    for table, text in schemas.items():
        cols = parse_schema(text)
        with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as tmp:
            n = 0
            for rec in records(tenant, table):
                row = {name: cell(rec.get(name), typ) for name, typ in cols}
                tmp.write(json.dumps(row) + "\n")
                n += 1
        columns = ", ".join(f"'{name}': '{DUCK_TYPES[typ]}'" for name, typ in cols)
        if n:
            con.sql(
                f"CREATE TABLE \"{table}\" AS SELECT * FROM read_json('{tmp.name}', "
                f"format='newline_delimited', columns={{{columns}}})"
            )
        else:
            defs = ", ".join(f'"{name}" {DUCK_TYPES[typ]}' for name, typ in cols)
            con.sql(f'CREATE TABLE "{table}" ({defs})')
        os.unlink(tmp.name)


def guid_of_base64(text):
    if text is None:
        return None
    try:
        raw = base64.b64decode(text, validate=True)
    except (ValueError, TypeError):
        return None
    if len(raw) != 16:
        return None
    return str(uuid.UUID(bytes_le=raw))


@functools.lru_cache(maxsize=64)
def networks(ranges_json):
    return [ipaddress.ip_network(r, strict=False) for r in json.loads(ranges_json)]


@functools.lru_cache(maxsize=65536)
def in_any_range(ip, ranges_json, version):
    if ip is None or ranges_json is None:
        return None
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if addr.version != version:
        return None
    return any(n.version == version and addr in n for n in networks(ranges_json))


def register(con):
    con.create_function(
        "tt_base64_decode_toguid", guid_of_base64, ["VARCHAR"], "VARCHAR",
        null_handling="special",
    )
    con.create_function(
        "tt_ipv4_is_in_any_range", lambda ip, r: in_any_range(ip, r, 4),
        ["VARCHAR", "VARCHAR"], "BOOLEAN",
        null_handling="special",
    )
    con.create_function(
        "tt_ipv6_is_in_any_range", lambda ip, r: in_any_range(ip, r, 6),
        ["VARCHAR", "VARCHAR"], "BOOLEAN",
        null_handling="special",
    )
    spec = kql_functions.FunctionSpec
    kql_functions.SCALAR_FUNCTIONS["base64_decode_toguid"] = spec(
        "base64_decode_toguid", "udf", "tt_base64_decode_toguid(CAST({0} AS VARCHAR))", (1,))
    kql_functions.SCALAR_FUNCTIONS["ipv4_is_in_any_range"] = spec(
        "ipv4_is_in_any_range", "udf",
        "tt_ipv4_is_in_any_range(CAST({0} AS VARCHAR), CAST({1} AS VARCHAR))", (2,))
    kql_functions.SCALAR_FUNCTIONS["ipv6_is_in_any_range"] = spec(
        "ipv6_is_in_any_range", "udf",
        "tt_ipv6_is_in_any_range(CAST({0} AS VARCHAR), CAST({1} AS VARCHAR))", (2,))
    # KQL's translate(searchList, replacementList, source) is DuckDB's translate(source, from,
    # to) with the arguments in another order; the queries pass lists of equal length, where the
    # two agree.
    kql_functions.SCALAR_FUNCTIONS["translate"] = spec(
        "translate", "native", "translate({2}, {0}, {1})", (3,))


def watchlist(con, path):
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
        header = next(csv.reader(open(path, encoding="utf-8", newline="")))
    cols = header + ["SearchKey", "_DTItemId"]
    defs = ", ".join(f'"{c}" VARCHAR' for c in cols)
    con.sql(f'CREATE TABLE "TtWatchlist" ({defs})')
    for i, r in enumerate(rows):
        values = [r.get(c, "") for c in header] + [r.get(header[0], ""), str(i)]
        con.execute(
            f'INSERT INTO "TtWatchlist" VALUES ({", ".join("?" for _ in cols)})', values
        )


WATCHLIST_FUNCTION = "function _GetWatchlist(watchlistAlias:string) { TtWatchlist }"


def yaml_query(path):
    """The `query: |` literal block of a Sentinel analytic rule, its indent removed."""
    lines = open(path, encoding="utf-8").read().split("\n")
    body = []
    for line in lines[lines.index("query: |") + 1:]:
        if line and not line.startswith("  "):
            break
        body.append(line[2:])
    return "\n".join(body)


def main():
    schemas_path, tenant, queries, watchlist_csv = sys.argv[1:5]
    schemas = json.load(open(schemas_path, encoding="utf-8"))["tables"]
    con = duckdb_kql.connect()
    register(con)
    load(con, schemas, tenant)
    watchlist(con, watchlist_csv)
    functions = []
    arm = os.path.join(queries, "tokentrail_functions.json")
    if os.path.exists(arm):
        for r in json.load(open(arm, encoding="utf-8"))["resources"]:
            p = r["properties"]
            functions.append(f"function {p['functionAlias']}() {{ {p['query']} }}")
    duckdb_kql.set_functions(functions + [WATCHLIST_FUNCTION])
    for name in sorted(os.listdir(queries)):
        if name.endswith(".kql"):
            kql = open(os.path.join(queries, name), encoding="utf-8").read()
        elif name.endswith(".yaml"):
            kql = yaml_query(os.path.join(queries, name))
            name = name[: -len(".yaml")] + ".kql"
        else:
            continue
        try:
            rel = duckdb_kql.query(con, kql)
        except Exception as e:  # the test reports which query and why
            print(json.dumps({"query": name, "error": f"{type(e).__name__}: {e}"}))
            continue
        cols = [d[0] for d in rel.description]
        for row in rel.fetchall():
            out = {"query": name}
            for c, v in zip(cols, row):
                out[c] = v if isinstance(v, (int, float, str, bool)) or v is None else str(v)
            print(json.dumps(out))


if __name__ == "__main__":
    main()
