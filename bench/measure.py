#!/usr/bin/env python3
"""Run one command and report its wall time and peak resident set size.

Usage: measure.py OUT.json -- COMMAND [ARG...]

Wall time is measured around the child with a monotonic clock. Peak RSS is the child's
`ru_maxrss` as `resource.getrusage(RUSAGE_CHILDREN)` reports it once the child has been waited
for: the largest resident set of any descendant this process waited for (this process starts
exactly one), in kilobytes on Linux and bytes on macOS (normalized to bytes here). The child's
stdout and stderr pass through. CPU time is the child's user plus system time from the same
call: on a shared machine it moves less than wall time. Writes {"wall_s", "cpu_s",
"peak_rss_bytes", "exit_code", "argv"} to OUT.json and exits with the child's exit code.
"""

import json
import resource
import subprocess
import sys
import time


def main():
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    out, argv = sys.argv[1], sys.argv[3:]
    start = time.monotonic()
    code = subprocess.call(argv)
    wall = time.monotonic() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    maxrss = usage.ru_maxrss
    peak = maxrss if sys.platform == "darwin" else maxrss * 1024
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime,
                   "peak_rss_bytes": peak, "exit_code": code, "argv": argv}, f)
        f.write("\n")
    return code


if __name__ == "__main__":
    sys.exit(main())
