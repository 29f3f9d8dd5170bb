#!/usr/bin/env python3
"""Render a terminal capture (tmux capture-pane -p -e: text with SGR colour escapes) as SVG.

Reads the capture on stdin, writes SVG on stdout. Only what tokentrail prints is handled:
SGR resets, bold, dim and the eight foreground colours; every other escape is dropped.
Usage: term2svg.py COLUMNS < capture.txt > out.svg
"""

import html
import re
import sys

FG = {30: "#3b4252", 31: "#e06c75", 32: "#98c379", 33: "#e5c07b", 34: "#61afef",
      35: "#c678dd", 36: "#56b6c2", 37: "#dcdfe4"}
DEFAULT = "#dcdfe4"
BACKGROUND = "#1e2127"
CHAR_W, LINE_H, PAD = 7.2, 16, 12
SGR = re.compile(r"\x1b\[([0-9;]*)m")
OTHER_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-ln-z]")


def spans(line):
    """(text, colour, bold, dim) runs of one line."""
    colour, bold, dim = DEFAULT, False, False
    pos, out = 0, []
    for m in SGR.finditer(line):
        if m.start() > pos:
            out.append((line[pos:m.start()], colour, bold, dim))
        for code in [int(c) for c in (m.group(1) or "0").split(";") if c]:
            if code == 0:
                colour, bold, dim = DEFAULT, False, False
            elif code == 1:
                bold = True
            elif code == 2:
                dim = True
            elif code in (22,):
                bold = dim = False
            elif code == 39:
                colour = DEFAULT
            elif code in FG:
                colour = FG[code]
        pos = m.end()
    if pos < len(line):
        out.append((line[pos:], colour, bold, dim))
    return out


def main():
    columns = int(sys.argv[1]) if len(sys.argv) > 1 else 160
    lines = [OTHER_ESCAPE.sub("", l) for l in sys.stdin.read().rstrip("\n").split("\n")]
    width = int(columns * CHAR_W + 2 * PAD)
    height = int(len(lines) * LINE_H + 2 * PAD)
    print(f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
          f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" '
          f'font-size="12">')
    print(f'<rect width="100%" height="100%" rx="6" fill="{BACKGROUND}"/>')
    for i, line in enumerate(lines):
        y = PAD + (i + 1) * LINE_H - 4
        parts = []
        for text, colour, bold, dim in spans(line):
            attrs = f' fill="{colour}"' if colour != DEFAULT else ""
            if bold:
                attrs += ' font-weight="bold"'
            if dim:
                attrs += ' opacity="0.6"'
            parts.append(f"<tspan{attrs}>{html.escape(text)}</tspan>" if attrs else html.escape(text))
        if parts:
            print(f'<text x="{PAD}" y="{y}" fill="{DEFAULT}" xml:space="preserve">{"".join(parts)}</text>')
    print("</svg>")


if __name__ == "__main__":
    main()
