#!/usr/bin/env python3
"""Run a Spark SQL script over a folder written by `tokentrail normalize`, on a local Spark.

Usage: spark_sql.py --normalized DIR --sql FILE --out PATH [--format csv|json|parquet]
                    [--master M] [--driver-memory 2g] [--timings]

The tables under DIR (sign_ins/, accesses/: Parquet partitioned by day=YYYY-MM-DD) are
registered as temporary views `sign_ins` and `accesses`, with the partition column `day` (a
date). The script's statements are separated by `;` (a `;` inside quotes or a comment does not
separate); every statement but the last is run for its effect (views, caches), the last must
be a query (SELECT, or WITH ... SELECT) and its rows are written to PATH: CSV with a header row,
or JSON lines, in the order the query gives; in both, timestamps are RFC 3339 UTC with a `Z`
(fraction only when non-zero, as tokentrail writes them), dates YYYY-MM-DD, booleans
true/false, and nulls empty (CSV) or null (JSON). With `parquet`, PATH is a folder Spark
writes itself (one part file, `_SUCCESS`), with Spark's own types, as a job on a cluster
would.

Spark runs as `local[2]` by default, in UTC, with its web UI off and its driver on 127.0.0.1.
The run's wall time in seconds (session start excluded) is printed on stderr; with --timings,
each statement's too.
"""

import argparse
import csv
import datetime
import decimal
import json
import os
import re
import sys
import time

# Spark and Python must agree that times are UTC before either starts.
os.environ["TZ"] = "UTC"
time.tzset()

TABLES = ("sign_ins", "accesses")


def chunks(script):
    """The script cut into (kind, text): "quoted" literals and identifiers, "comment"s,
    ";" separators, and "code" (one character at a time) for the rest."""
    i, n = 0, len(script)
    while i < n:
        c = script[i]
        if c in "'\"`":
            j = i + 1
            while j < n and script[j] != c:
                j += 2 if script[j] == "\\" else 1
            yield "quoted", script[i : j + 1]
            i = j + 1
        elif script.startswith("--", i):
            end = script.find("\n", i)
            end = n if end < 0 else end
            yield "comment", script[i:end]
            i = end
        elif script.startswith("/*", i):
            end = script.find("*/", i + 2)
            end = n if end < 0 else end + 2
            yield "comment", script[i:end]
            i = end
        else:
            yield (";" if c == ";" else "code"), c
            i += 1


def split_statements(script):
    """The statements of a script, split on `;` outside quotes and comments; statements that
    are only comments or blanks are dropped."""
    statements, current = [], []
    for kind, text in chunks(script):
        if kind == ";":
            statements.append("".join(current))
            current = []
        else:
            current.append(text)
    statements.append("".join(current))
    return [s.strip() for s in statements if strip_comments(s).strip()]


def strip_comments(statement):
    """The statement without its comments (to tell an empty one, and its first keyword)."""
    return "".join(text for kind, text in chunks(statement) if kind != "comment")


def text(value):
    """A cell as text, as tokentrail writes the same value."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        out = value.strftime("%Y-%m-%dT%H:%M:%S")
        if value.microsecond:
            out += (".%06d" % value.microsecond).rstrip("0")
        return out + "Z"
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, (float, decimal.Decimal)):
        return str(value)
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, default=str, separators=(",", ":"))
    return str(value)


def json_value(value):
    if value is None or isinstance(value, (bool, int, str)):
        return value
    return text(value)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--normalized", required=True, help="folder written by tokentrail normalize")
    parser.add_argument("--sql", required=True, help="Spark SQL script")
    parser.add_argument("--out", required=True, help="where the last query's rows go")
    parser.add_argument("--format", choices=("csv", "json", "parquet"), default="csv")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--driver-memory", default="2g", help="the driver's heap (local mode: all of Spark's)")
    parser.add_argument(
        "--timings", action="store_true", help="print each statement's wall time on stderr"
    )
    args = parser.parse_args()

    with open(args.sql, encoding="utf-8") as f:
        statements = split_statements(f.read())
    if not statements:
        sys.exit(f"spark_sql: {args.sql} holds no statement")
    first_word = re.match(r"\s*(\(|[A-Za-z]*)", strip_comments(statements[-1])).group(1).upper()
    if first_word not in ("SELECT", "WITH", "(", "VALUES", "TABLE", "FROM"):
        sys.exit(f"spark_sql: the last statement of {args.sql} is not a query ({first_word} ...)")

    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master(args.master)
        .appName("tokentrail-spark-sql")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC")
        .config("spark.executor.extraJavaOptions", "-Duser.timezone=UTC")
        .config("spark.driver.memory", args.driver_memory)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        # Small inputs on two cores: the default 200 shuffle partitions only add overhead.
        .config("spark.sql.shuffle.partitions", "8")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    try:
        started = time.monotonic()
        for table in TABLES:
            path = os.path.join(args.normalized, table)
            if not os.path.isdir(path):
                sys.exit(f"spark_sql: {path} is missing (write it with tokentrail normalize)")
            spark.read.parquet(path).createOrReplaceTempView(table)
        for statement in statements[:-1]:
            at = time.monotonic()
            spark.sql(statement)
            if args.timings:
                head = " ".join(strip_comments(statement).split())[:70]
                print(f"spark_sql: {time.monotonic() - at:6.1f} s  {head}", file=sys.stderr)
        result = spark.sql(statements[-1])
        if args.format == "parquet":
            result.coalesce(1).write.mode("overwrite").parquet(args.out)
            print(f"spark_sql: written in {time.monotonic() - started:.1f} s", file=sys.stderr)
            return
        columns = result.columns
        rows = result.collect()
        with open(args.out, "w", encoding="utf-8", newline="") as out:
            if args.format == "csv":
                writer = csv.writer(out, lineterminator="\n")
                writer.writerow(columns)
                for row in rows:
                    writer.writerow(["" if v is None else v for v in map(text, row)])
            else:
                for row in rows:
                    record = {c: json_value(v) for c, v in zip(columns, row)}
                    out.write(json.dumps(record, separators=(",", ":")) + "\n")
        print(
            f"spark_sql: {len(rows)} row(s) in {time.monotonic() - started:.1f} s",
            file=sys.stderr,
        )
    finally:
        spark.stop()


if __name__ == "__main__":
    main()
