"""The course's chapters: their sources, their checks, the book and grading.

Each chapter has one source a contributor edits, `notebooks/NN-name.md` (jupytext's
markdown format: prose as markdown, each ```rust block a code cell). The notebook beside
it, `notebooks/NN-name.ipynb`, is written from it and committed without outputs.

    python scripts/course.py build             write every .ipynb from its .md source
    python scripts/course.py check             fail if a .ipynb drifted from its source or
                                               carries outputs; check each chapter's prose
                                               floor and exercises
    python scripts/course.py run [NN ...]      execute the chapters headless on the evcxr
                                               `rust` kernel, one at a time; keep the executed
                                               copies in target/course/ for the book
    python scripts/course.py book [--check]    write docs/book/ from the executed copies;
                                               --check only checks that every chapter has
                                               its page and its figures
    python scripts/course.py grade [--csv F] SUBMITTED.ipynb ...
                                               execute learners' notebooks and report every
                                               exercise: passed, not yet, error or not done
    python scripts/course.py grade-selftest    grade a copy of a chapter with the solved
                                               cells of tests/grading/ pasted in: they must
                                               be reported passed, the rest not done, in
                                               the table and in the CSV

`scripts/notebooks` wraps these with the pinned tools (a venv with jupytext, nbclient and
nbformat, and evcxr_jupyter).
"""
import argparse
import csv
import glob
import html
import json
import os
import re
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOKS = os.path.join(ROOT, "notebooks")
EXECUTED = os.path.join(ROOT, "target", "course")
BOOK = os.path.join(ROOT, "docs", "book")

# The chapters written to the course's standard, with the words of prose their markdown
# cells must hold (code, maths and markup are not counted): 600 for the start, 1,500 for
# the others. Each must exist, and have at least MIN_EXERCISES exercises and MIN_PICTURES
# pictures. A chapter not (yet) listed is checked for its source, its exercises' form and
# at least one picture.
PROSE_FLOOR = {"00": 600, "01": 1500, "02": 1500, "03": 1500, "04": 1500, "05": 1500, "06": 1500, "07": 1500, "08": 1500, "09": 1500, "10": 1500}
MIN_PICTURES = 2
MIN_EXERCISES = 2
# Exercises across the whole course.
MIN_TOTAL_EXERCISES = 22

EXERCISE_HEADING = re.compile(r"^#+\s*Exercise\s+(\d+)\.(\d+)\b", re.M)
VERDICT = re.compile(r"^(PASS|NOT YET) (\d+\.\d+)\b(.*)$", re.M)


def chapters(only=None):
    """The chapter sources, in order: (number, name, path of the .md)."""
    found = []
    for md in sorted(glob.glob(os.path.join(NOTEBOOKS, "[0-9][0-9]-*.md"))):
        name = os.path.basename(md)[:-3]
        number = name[:2]
        if not only or number in only or name in only:
            found.append((number, name, md))
    return found


def notebook_from_source(md_path):
    """The notebook a source describes: cells in order, stable ids, no outputs."""
    import jupytext
    import nbformat

    nb = jupytext.read(md_path, fmt="md")
    for i, cell in enumerate(nb.cells, start=1):
        cell["id"] = f"c{i}"
        if cell.cell_type == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        cell["metadata"] = {k: v for k, v in cell.get("metadata", {}).items() if k == "tags"}
    jt = nb.metadata.get("jupytext", {})
    nb.metadata = {
        "jupytext": {"formats": jt.get("formats", "ipynb,md")},
        "kernelspec": {"display_name": "Rust", "language": "rust", "name": "rust"},
        "language_info": {"file_extension": ".rs", "mimetype": "text/rust", "name": "Rust"},
    }
    nb.nbformat, nb.nbformat_minor = 4, 5
    return nbformat.writes(nb, version=4) + "\n"


def ipynb_path(md_path):
    return md_path[:-3] + ".ipynb"


def cmd_build(_args):
    for _, name, md in chapters():
        text = notebook_from_source(md)
        path = ipynb_path(md)
        old = open(path).read() if os.path.exists(path) else None
        if old != text:
            with open(path, "w") as f:
                f.write(text)
            print(f"wrote notebooks/{name}.ipynb")
    sources = {ipynb_path(md) for _, _, md in chapters()}
    for nb in glob.glob(os.path.join(NOTEBOOKS, "*.ipynb")):
        if nb not in sources:
            print(f"warning: notebooks/{os.path.basename(nb)} has no .md source")


def prose_words(markdown):
    """Words of prose: fenced code, display and inline maths, HTML tags and markdown
    markup are left out; a word is a run of characters holding a letter."""
    text = re.sub(r"```.*?```", " ", markdown, flags=re.S)
    text = re.sub(r"\$\$.*?\$\$", " ", text, flags=re.S)
    text = re.sub(r"\$[^$\n]+\$", " ", text)
    text = re.sub(r"`[^`\n]*`", " ", text)
    text = re.sub(r"<[^>\n]+>", " ", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    return [w for w in re.split(r"\s+", text) if re.search(r"[A-Za-z]", w)]


def exercises_of(nb):
    """The exercises of a notebook: (id, heading cell index, code cell index or None)."""
    found = []
    cells = nb["cells"]
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "markdown":
            continue
        for m in EXERCISE_HEADING.finditer(source(cell)):
            code = next((j for j in range(i + 1, len(cells)) if cells[j]["cell_type"] == "code"), None)
            found.append((f"{int(m.group(1))}.{int(m.group(2))}", i, code))
    return found


def source(cell):
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s


def cmd_check(_args):
    problems = []
    numbers = [n for n, _, _ in chapters()]
    for n in PROSE_FLOOR:
        if n not in numbers:
            problems.append(f"chapter {n} has no source notebooks/{n}-*.md")
    for number, name, md in chapters():
        path = ipynb_path(md)
        want = notebook_from_source(md)
        if not os.path.exists(path):
            problems.append(f"{name}: no notebooks/{name}.ipynb; run `python scripts/course.py build`")
            continue
        have = open(path).read()
        committed = json.loads(have)
        with_outputs = [
            i for i, c in enumerate(committed["cells"])
            if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))
        ]
        if with_outputs:
            problems.append(
                f"{name}.ipynb carries outputs (cells {with_outputs[:5]}): commit it without them "
                "(`python scripts/course.py build` writes it clean from the .md)"
            )
        elif have != want:
            problems.append(
                f"{name}.ipynb has drifted from {name}.md: edit the .md and run "
                "`python scripts/course.py build` (or `jupytext --sync` after editing in JupyterLab)"
            )
        nb = json.loads(want)
        words = sum(len(prose_words(source(c))) for c in nb["cells"] if c["cell_type"] == "markdown")
        floor = PROSE_FLOOR.get(number)
        if floor and words < floor:
            problems.append(f"{name}: {words} words of prose, the floor is {floor}")
        exercises = exercises_of(nb)
        ids = [e[0] for e in exercises]
        if floor and len(ids) < MIN_EXERCISES:
            problems.append(f"{name}: {len(ids)} exercises, at least {MIN_EXERCISES} wanted")
        expected = [f"{int(number)}.{k}" for k in range(1, len(ids) + 1)]
        if ids != expected:
            problems.append(f"{name}: exercises numbered {ids}, expected {expected}")
        for ex, heading, code in exercises:
            text = source(nb["cells"][heading])
            if "<details>" not in text:
                problems.append(f"{name}: exercise {ex} has no hint in a <details> block")
            if code is None or "resgrad::exercises::" not in source(nb["cells"][code]):
                problems.append(
                    f"{name}: exercise {ex} has no code cell that calls its checker "
                    "(resgrad::exercises::...) after its heading"
                )
        print(f"{name}: {words} words, exercises {', '.join(ids) or 'none'}")
    total = sum(
        len(exercises_of(json.loads(notebook_from_source(md)))) for _, _, md in chapters()
    )
    print(f"{len(numbers)} chapters, {total} exercises")
    if total < MIN_TOTAL_EXERCISES:
        problems.append(f"the course has {total} exercises, at least {MIN_TOTAL_EXERCISES} wanted")
    if problems:
        print("\n".join(problems))
        sys.exit(1)


# ---------------------------------------------------------------------------------------
# Executing.


def execute(nb, cwd, allow_errors):
    """Executes `nb` in place on the `rust` kernel with `cwd` as its folder. Returns the
    error that stopped it (None if it ran to the end)."""
    from nbclient import NotebookClient

    client = NotebookClient(
        nb,
        timeout=600,
        kernel_name="rust",
        allow_errors=allow_errors,
        resources={"metadata": {"path": cwd}},
    )
    try:
        client.execute()
        return None
    except Exception as e:  # a compile error or a cell error
        return f"{type(e).__name__}: {str(e)[:1500]}"


def outputs_text(cell):
    """Everything a cell printed, as text (stream, plain text and the text of html)."""
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        data = out.get("data", {})
        if "text/html" in data and "<svg" not in data["text/html"]:
            parts.append(html.unescape(re.sub(r"<[^>]+>", "", data["text/html"])))
        elif "text/plain" in data and data["text/plain"] != "()":
            parts.append(data["text/plain"])
        if out.get("output_type") == "error":
            parts.append(f"{out.get('ename', '')}: {out.get('evalue', '')}")
    return "".join(p if isinstance(p, str) else "".join(p) for p in parts)


def pictures_of(cell):
    """The SVG pictures a cell drew."""
    found = []
    for out in cell.get("outputs", []):
        data = out.get("data", {})
        if "image/svg+xml" in data:
            svg = data["image/svg+xml"]
            found.append(svg if isinstance(svg, str) else "".join(svg))
        elif "text/html" in data and "<svg" in data["text/html"]:
            m = re.search(r"<svg.*</svg>", data["text/html"], re.S)
            if m:
                found.append(m.group(0))
    return found


def cmd_run(args):
    import nbformat

    os.makedirs(EXECUTED, exist_ok=True)
    record_path = os.path.join(EXECUTED, "run.json")
    record = json.load(open(record_path)) if os.path.exists(record_path) else {}
    failures = []
    total = time.time()
    todo = chapters(args.chapters)
    for number, name, md in todo:
        nb = nbformat.reads(notebook_from_source(md), as_version=4)
        start = time.time()
        error = execute(nb, NOTEBOOKS, allow_errors=False)
        seconds = time.time() - start
        if error:
            failures.append(f"{name}: {error}")
            print(f"FAILED {name} after {seconds:.0f} s", flush=True)
            record.pop(name, None)
            continue
        before = len(failures)
        pictures = 0
        for i, cell in enumerate(nb.cells):
            if "panicked at" in outputs_text(cell):
                failures.append(f"{name}: cell {i} panicked: {outputs_text(cell)[:500]}")
            pictures += len(pictures_of(cell))
        floor = MIN_PICTURES if number in PROSE_FLOOR else 1
        if pictures < floor:
            failures.append(f"{name}: drew {pictures} pictures, at least {floor} wanted")
        ok = len(failures) == before
        print(f"{'ok' if ok else 'FAILED'} {name}: {seconds:.0f} s, {pictures} pictures", flush=True)
        if ok:
            nbformat.write(nb, os.path.join(EXECUTED, f"{name}.ipynb"))
            record[name] = {"seconds": round(seconds, 1), "pictures": pictures}
        else:
            record.pop(name, None)
    json.dump(record, open(record_path, "w"), indent=1, sort_keys=True)
    print(f"{len(todo)} chapters in {time.time() - total:.0f} s")
    if failures:
        print("\n".join(failures))
        sys.exit(1)


# ---------------------------------------------------------------------------------------
# The book.


def fenced(text, lang=""):
    text = text.rstrip("\n")
    fence = "```"
    while fence in text:
        fence += "`"
    return f"{fence}{lang}\n{text}\n{fence}\n"


def page_of(name, nb):
    """A chapter's page (markdown) and its figures [(file name, svg)]."""
    figures = []
    out = [
        f"<!-- Written by scripts/book from an executed run of notebooks/{name}.ipynb; "
        f"edit notebooks/{name}.md instead. -->\n",
    ]
    for cell in nb["cells"]:
        src = source(cell)
        if cell["cell_type"] == "markdown":
            out.append(src.rstrip("\n") + "\n")
            continue
        out.append(fenced(src, "rust"))
        text = outputs_text(cell).rstrip("\n")
        if text:
            lines = text.split("\n")
            if len(lines) > 60:
                lines = lines[:60] + [f"... ({len(lines) - 60} more lines)"]
            out.append(fenced("\n".join(lines), "text"))
        for svg in pictures_of(cell):
            fig = f"fig{len(figures) + 1}.svg"
            figures.append((fig, svg))
            out.append(f"![figure {len(figures)}]({name}/{fig})\n")
    return "\n".join(out), figures


def cmd_book(args):
    record_path = os.path.join(EXECUTED, "run.json")
    record = json.load(open(record_path)) if os.path.exists(record_path) else {}
    problems = []
    if args.check:
        for number, name, _ in chapters():
            page = os.path.join(BOOK, f"{name}.md")
            if not os.path.exists(page):
                problems.append(f"docs/book/{name}.md is missing: run `bash scripts/book`")
                continue
            text = open(page).read()
            figs = re.findall(rf"\]\(({re.escape(name)}/fig\d+\.svg)\)", text)
            for f in figs:
                if not os.path.exists(os.path.join(BOOK, f)):
                    problems.append(f"docs/book/{name}.md shows {f}, which is missing")
            drawn = record.get(name, {}).get("pictures")
            if drawn is not None and drawn != len(figs):
                problems.append(
                    f"docs/book/{name}.md shows {len(figs)} figures, the chapter draws {drawn}: "
                    "run `bash scripts/book`"
                )
            floor = MIN_PICTURES if number in PROSE_FLOOR else 1
            if len(figs) < floor:
                problems.append(f"docs/book/{name}.md shows {len(figs)} figures, at least {floor} wanted")
        if problems:
            print("\n".join(problems))
            sys.exit(1)
        print(f"docs/book: {len(chapters())} chapter pages, each with its figures")
        return
    import nbformat

    os.makedirs(BOOK, exist_ok=True)
    rows = []
    for number, name, _ in chapters():
        executed = os.path.join(EXECUTED, f"{name}.ipynb")
        if not os.path.exists(executed):
            problems.append(f"{name}: not executed yet; run `bash scripts/notebooks --check` first")
            continue
        nb = nbformat.read(executed, as_version=4)
        text, figures = page_of(name, nb)
        folder = os.path.join(BOOK, name)
        os.makedirs(folder, exist_ok=True)
        for old in glob.glob(os.path.join(folder, "fig*.svg")):
            os.remove(old)
        for fig, svg in figures:
            with open(os.path.join(folder, fig), "w") as f:
                f.write(svg)
        with open(os.path.join(BOOK, f"{name}.md"), "w") as f:
            f.write(text)
        title = next(
            (m.group(1) for c in nb.cells if c.cell_type == "markdown"
             for m in [re.search(r"^# (.+)$", source(c), re.M)] if m),
            name,
        )
        seconds = record.get(name, {}).get("seconds")
        rows.append(f"| [{title}]({name}.md) | {len(figures)} | {seconds:.0f} s |" if seconds else
                    f"| [{title}]({name}.md) | {len(figures)} | |")
        print(f"wrote docs/book/{name}.md and {len(figures)} figures")
    with open(os.path.join(BOOK, "README.md"), "w") as f:
        f.write(
            "# The resgrad course, as a book\n\n"
            "Every chapter of `notebooks/`, with its code, its outputs and its figures, from one\n"
            "executed run, so that it reads without running. Written by `bash scripts/book`;\n"
            "edit the chapters' sources in `notebooks/`, not these pages.\n\n"
            "| chapter | figures | run time |\n|---|---|---|\n" + "\n".join(rows) + "\n"
        )
    if problems:
        print("\n".join(problems))
        sys.exit(1)


# ---------------------------------------------------------------------------------------
# Grading.


def chapter_of(nb, path):
    """The chapter a submitted notebook is a copy of: by its title `# NN · ...`, else by
    its file name."""
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            m = re.search(r"^# (\d\d) ·", source(cell), re.M)
            if m:
                return m.group(1)
            break
    m = re.match(r"(\d\d)-", os.path.basename(path))
    return m.group(1) if m else None


def normalized(code):
    return "\n".join(line.rstrip() for line in code.strip().splitlines())


def grade_one(path):
    """Rows (exercise, verdict, message) for one submitted notebook."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    number = chapter_of(nb, path)
    original = next((md for n, _, md in chapters() if n == number), None)
    if original is None:
        return [("-", "error", f"not a copy of a chapter (no title `# NN ·` and no NN- name)")]
    placeholders = {}
    src_nb = json.loads(notebook_from_source(original))
    for ex, _, code in exercises_of(src_nb):
        if code is not None:
            placeholders[ex] = normalized(source(src_nb["cells"][code]))
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    error = execute(nb, NOTEBOOKS, allow_errors=True)
    rows = []
    for ex, _, code in exercises_of(nb):
        wanted = ex not in placeholders and "not an exercise of the chapter"
        if code is None:
            rows.append((ex, "error", "no code cell after the exercise"))
            continue
        cell = nb.cells[code]
        printed = outputs_text(cell)
        verdicts = [m for m in VERDICT.finditer(printed) if m.group(2) == ex]
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if wanted:
            rows.append((ex, "error", wanted))
        elif normalized(source(cell)) == placeholders[ex]:
            rows.append((ex, "not done", "the placeholder is unchanged"))
        elif verdicts and verdicts[-1].group(1) == "PASS":
            rows.append((ex, "passed", verdicts[-1].group(3).lstrip(": ").strip()))
        elif verdicts:
            rows.append((ex, "not yet", verdicts[-1].group(3).lstrip(": ").strip()))
        elif errors or "panicked at" in printed:
            detail = (errors[0].get("evalue", "") if errors else printed).strip().splitlines()
            rows.append((ex, "error", (detail[0] if detail else "the cell failed")[:200]))
        else:
            rows.append((ex, "error", "the cell ran but showed no verdict"))
    missing = [ex for ex in placeholders if ex not in {r[0] for r in rows}]
    rows += [(ex, "not done", "the exercise is missing from the notebook") for ex in missing]
    if error and not rows:
        rows.append(("-", "error", error[:200]))
    return sorted(rows, key=lambda r: [int(x) for x in r[0].split(".")] if r[0] != "-" else [0])


def print_table(all_rows):
    width = max(len(r[0]) for r in all_rows)
    print(f"\n{'notebook':<{width}}  exercise  verdict   message")
    for nb, ex, verdict, message in all_rows:
        print(f"{nb:<{width}}  {ex:<8}  {verdict:<8}  {message[:100]}")
    passed = sum(r[2] == "passed" for r in all_rows)
    print(f"\n{passed} of {len(all_rows)} exercises passed")


def write_csv(all_rows, path):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["notebook", "exercise", "verdict", "message"])
        w.writerows(all_rows)
    print(f"wrote {path}")


def cmd_grade(args):
    all_rows = []
    for path in args.notebooks:
        start = time.time()
        rows = grade_one(path)
        print(f"{path}: graded in {time.time() - start:.0f} s")
        all_rows += [(path, *r) for r in rows]
    print_table(all_rows)
    write_csv(all_rows, args.csv)


def cmd_grade_selftest(_args):
    """A copy of a chapter with the solved cells of tests/grading/ (named N.K.rs) pasted
    over their placeholders: the grader must report those passed and the chapter's other
    exercises not done, in its table and in its CSV."""
    import tempfile

    import nbformat

    solved = {}
    for f in sorted(glob.glob(os.path.join(ROOT, "tests", "grading", "*.rs"))):
        solved[os.path.basename(f)[:-3]] = open(f).read().strip("\n")
    numbers = {ex.split(".")[0].zfill(2) for ex in solved}
    if len(numbers) != 1:
        sys.exit(f"tests/grading/ must hold solved cells of one chapter, found {sorted(numbers)}")
    number = numbers.pop()
    _, name, md = next(c for c in chapters() if c[0] == number)
    nb = nbformat.reads(notebook_from_source(md), as_version=4)
    exercises = exercises_of(nb)
    for ex, _, code in exercises:
        if ex in solved:
            nb.cells[code].source = solved[ex]
    if len(exercises) <= len(solved):
        sys.exit(f"chapter {number} needs an exercise left unsolved for the test")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, f"a-learner's-copy-of-{name}.ipynb")
        nbformat.write(nb, path)
        rows = [(path, *r) for r in grade_one(path)]
        print_table(rows)
        csv_path = os.path.join(tmp, "grades.csv")
        write_csv(rows, csv_path)
        with open(csv_path, newline="") as f:
            from_csv = [tuple(r) for r in csv.reader(f)][1:]
    want = {ex: ("passed" if ex in solved else "not done") for ex, _, _ in exercises}
    got = {r[1]: r[2] for r in rows}
    problems = []
    if got != want:
        problems.append(f"the table says {got}, expected {want}")
    if from_csv != [tuple(r) for r in rows]:
        problems.append("the CSV differs from the table")
    if problems:
        sys.exit("grading self-test failed: " + "; ".join(problems))
    print(f"grading self-test: {', '.join(sorted(solved))} passed, the rest not done, in the table and the CSV")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("build")
    sub.add_parser("check")
    r = sub.add_parser("run")
    r.add_argument("chapters", nargs="*", help="chapter numbers or names (default: all)")
    b = sub.add_parser("book")
    b.add_argument("--check", action="store_true")
    g = sub.add_parser("grade")
    g.add_argument("--csv", default="grades.csv")
    g.add_argument("notebooks", nargs="+")
    sub.add_parser("grade-selftest")
    args = p.parse_args()
    {
        "build": cmd_build,
        "check": cmd_check,
        "run": cmd_run,
        "book": cmd_book,
        "grade": cmd_grade,
        "grade-selftest": cmd_grade_selftest,
    }[args.command](args)


if __name__ == "__main__":
    main()
