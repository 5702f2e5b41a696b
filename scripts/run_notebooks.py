"""Executes every notebook in notebooks/ headless on the evcxr `rust` kernel, one at a
time, and fails if any cell errors, if any cell's output shows a Rust panic, or if a
notebook that should draw (metadata resgrad.draws) produced no picture.

    python scripts/run_notebooks.py [notebooks/01-the-tape.ipynb ...]

It prints how long each notebook took.
"""
import glob
import os
import sys
import time

import nbformat
from nbclient import NotebookClient

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
paths = sys.argv[1:] or sorted(glob.glob(os.path.join(root, "notebooks", "*.ipynb")))
failures = []
total = time.time()
for path in paths:
    nb = nbformat.read(path, as_version=4)
    start = time.time()
    client = NotebookClient(nb, timeout=600, kernel_name="rust", resources={"metadata": {"path": os.path.dirname(path)}})
    name = os.path.basename(path)
    try:
        client.execute()
    except Exception as e:  # a compile error or a cell error
        failures.append(f"{name}: {type(e).__name__}: {str(e)[:1500]}")
        print(f"FAILED {name} after {time.time() - start:.0f} s", flush=True)
        continue
    pictures = 0
    before = len(failures)
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            text = out.get("text", "") if out.get("output_type") == "stream" else ""
            data = out.get("data", {})
            if "panicked at" in text or "panicked at" in str(data.get("text/plain", "")):
                failures.append(f"{name}: cell {i} panicked: {text[:500]}")
            if "image/svg+xml" in data or ("text/html" in data and "<svg" in str(data["text/html"])):
                pictures += 1
    if nb.metadata.get("resgrad", {}).get("draws") and pictures == 0:
        failures.append(f"{name}: should draw a picture and drew none")
    status = "ok" if len(failures) == before else "FAILED"
    print(f"{status} {name}: {time.time() - start:.0f} s, {pictures} pictures", flush=True)
print(f"{len(paths)} notebooks in {time.time() - total:.0f} s")
if failures:
    print("\n".join(failures))
    sys.exit(1)
