#!/usr/bin/env python3
"""Check that the figures README.md quotes from the docs' tables are in those tables.

README marks each quoted figure by wrapping it in a pair of HTML comments, which do not
render:

    <!-- figures from docs/performance.md#convolution -->56-103% ...<!-- end figures -->

The marker names one or more sources, separated by commas: a Markdown file, optionally
with `#anchor` (GitHub's heading slug) to limit it to one section, or a text file such as
docs/bench/*.txt. Every number inside the marked span must appear in a table row (a line
starting with `|`) of a named Markdown source, or anywhere in a named text file. Numbers
that are part of a name are not figures and are skipped: `ResNet-56`, `plain-20`, `3x3`,
`16->16`, `N=128`. Where the span holds a table, its header row and first column (the row
labels) are skipped too.

Usage:
    python3 scripts/check_readme_numbers.py [README.md]

Exit status 0 when every quoted figure is found, 1 otherwise (each miss is named).
Standard library only.
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

TAG = re.compile(r"<!--\s*(?:figures from\s+(?P<sources>.+?)|(?P<end>end figures))\s*-->")
NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?(?:e[+-]?\d+)?")


def normalise(text):
    """One spelling per number: no thousands separators."""
    return text.replace(",", "")


def figures(text):
    """The numbers in `text` that are figures, not parts of names."""
    out = []
    for m in NUMBER.finditer(text):
        before = text[max(0, m.start() - 2) : m.start()]
        after = text[m.end() : m.end() + 2]
        tok = m.group(0).rstrip(",")
        if before[-1:].isalpha() or before[-1:] in ("=", "_"):  # N=128, conv1, x_0
            continue
        if len(before) == 2 and before[1] == "-" and before[0].isalpha():  # ResNet-56
            continue
        if before == "->" or after == "->":  # 16->16
            continue
        if re.match(r"x\d", after) or re.search(r"\dx$", before):  # 3x3, 32x32
            continue
        out.append(normalise(tok))
    return out


def slug(heading):
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to '-'."""
    s = heading.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def section(text, anchor):
    """The lines of the section whose heading has slug `anchor`, up to the next heading
    of the same or a higher level; None when no heading has that slug."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"(#+)\s+(.*)", line)
        if m and slug(m.group(2)) == anchor:
            level = len(m.group(1))
            body = []
            for nxt in lines[i + 1 :]:
                h = re.match(r"(#+)\s", nxt)
                if h and len(h.group(1)) <= level:
                    break
                body.append(nxt)
            return body
    return None


def source_numbers(source, errors):
    """The set of numbers a source's tables hold, or None (with an error) if the source
    cannot be read."""
    path_part, _, anchor = source.partition("#")
    path = ROOT / path_part
    if not path.is_file():
        errors.append(f"source {source!r}: no file {path_part}")
        return None
    text = path.read_text(encoding="utf-8")
    if path.suffix != ".md":
        return {normalise(n) for n in NUMBER.findall(text)}
    lines = text.splitlines()
    if anchor:
        lines = section(text, anchor)
        if lines is None:
            errors.append(f"source {source!r}: {path_part} has no heading with anchor #{anchor}")
            return None
    rows = [line for line in lines if line.lstrip().startswith("|")]
    if not rows:
        errors.append(f"source {source!r}: no table there")
        return None
    return {n for row in rows for n in figures(row)}


def quoted(span):
    """The figures a marked span quotes: for table rows, every cell but the first, the
    header row skipped; for prose, every figure."""
    out = []
    header_seen = False
    for line in span.splitlines():
        if line.lstrip().startswith("|"):
            cells = line.strip().strip("|").split("|")
            if all(re.fullmatch(r"\s*:?-+:?\s*", c) for c in cells):
                continue  # |---|---|
            if not header_seen:
                header_seen = True
                continue
            for cell in cells[1:]:
                out.extend(figures(cell))
        else:
            header_seen = False
            out.extend(figures(line))
    return out


def spans(text, errors):
    """(line, sources, span text) for each marked span; an opening marker without its
    closing one, or a closing one without an opening one, is an error."""
    out = []
    opened = None
    for m in TAG.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        if m.group("end"):
            if opened is None:
                errors.append(f"README line {line}: '<!-- end figures -->' closes no span")
            else:
                o_line, sources, start = opened
                out.append((o_line, sources, text[start : m.start()]))
                opened = None
        else:
            if opened is not None:
                errors.append(
                    f"README line {opened[0]}: '<!-- figures from ... -->' is not closed "
                    f"by '<!-- end figures -->' before the next marker (line {line})"
                )
            sources = [s.strip() for s in m.group("sources").split(",") if s.strip()]
            opened = (line, sources, m.end())
    if opened is not None:
        errors.append(f"README line {opened[0]}: '<!-- figures from ... -->' is never closed")
    return out


def check(readme):
    text = readme.read_text(encoding="utf-8")
    errors = []
    marked = spans(text, errors)
    if not marked and not errors:
        errors.append("no '<!-- figures from ... -->' span: nothing is checked")
    count = 0
    for line, sources, span in marked:
        known = set()
        readable = True
        for source in sources:
            nums = source_numbers(source, errors)
            if nums is None:
                readable = False
            else:
                known |= nums
        if not readable:
            continue
        quotes = quoted(span)
        if not quotes:
            errors.append(f"README line {line}: the span from {', '.join(sources)} quotes no figure")
        for q in quotes:
            count += 1
            if q not in known:
                errors.append(
                    f"README line {line}: {q} is quoted from {', '.join(sources)}, "
                    f"but no table there holds it"
                )
    return count, len(marked), errors


def main():
    readme = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "README.md"
    count, nspans, errors = check(readme)
    if errors:
        for e in errors:
            print(f"check_readme_numbers: {e}")
        print(f"check_readme_numbers: {len(errors)} problem(s) in {readme}")
        return 1
    print(f"check_readme_numbers: {count} figures in {nspans} spans of {readme.name} found in their docs tables")
    return 0


if __name__ == "__main__":
    sys.exit(main())
