"""The playground in a real browser: headless Chromium driven by Playwright.

Run by `bash scripts/playground --test` (which builds the page and the native
`playground-numbers` first). It:

1. loads the page and waits for the wasm module;
2. asks the page's module and the native crate for the gradient fans of the same
   settings and seeds, and requires them equal to 1e-6 relative (both compute in f64),
   and the live trainer's first losses equal to 1e-4 relative (f32, whose matrix
   products take different SIMD paths natively and in the browser); a planted mismatch
   (another seed) must be caught by the same comparison;
3. moves the depth slider and the architecture, and requires every canvas to redraw and
   the numbers printed under the gradient view to be the native crate's;
4. trains plain-30 and residual-30 on the spirals with the same budget and prints their
   accuracies;
5. fails on any console error or uncaught exception;
6. saves screenshots (plain-50, residual-50, the live view after training) and prints the
   speeds measured in the page with performance.now().

    python scripts/playground_test.py DIST NUMBERS_BIN [--shots DIR] [--chromium PATH]
"""

import argparse
import contextlib
import http.server
import json
import re
import statistics
import subprocess
import sys
import threading
from functools import partial
from pathlib import Path

from playwright.sync_api import sync_playwright

# ARCH, DEPTH, WIDTH, LAMBDA, START, BN, SEED, SEEDS: plain/residual/pre-activation,
# Glorot/He/zero-init, batch norm on/off, lambda off 1, and the deepest net the page allows.
FANS = [
    "0,50,64,1,1,0,0,8",
    "0,50,64,1,0,0,3,4",
    "0,50,64,1,1,1,0,8",
    "1,50,64,1,1,1,0,8",
    "1,50,64,0.9,1,0,2,4",
    "1,200,64,1,2,0,0,2",
    "2,200,64,1,1,1,1,2",
    "2,40,24,1.1,0,1,7,3",
]
# ARCH, DEPTH, WIDTH, LAMBDA, START, BN, SEED, DATA, LR, STEPS
LIVES = ["1,30,32,1,1,1,0,0,0.05,5", "0,30,32,1,1,0,1,1,0.05,5"]
LIVE_BUDGET = 100


def native(binary, mode, specs):
    out = subprocess.run([binary, mode, *specs], check=True, capture_output=True, text=True)
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    for r in rows:
        if "error" in r:
            raise SystemExit(f"playground-numbers {mode} {r['controls']}: {r['error']}")
    return {r["controls"]: r["numbers"] for r in rows}


def mismatches(wasm, nat, rel):
    """Indices where the two lists differ by more than rel (relative), or a length mismatch."""
    if len(wasm) != len(nat):
        return [f"lengths {len(wasm)} (wasm) and {len(nat)} (native)"]
    bad = []
    for i, (a, b) in enumerate(zip(wasm, nat)):
        if abs(a - b) > rel * max(abs(a), abs(b), 1e-300):
            bad.append(f"[{i}] wasm {a!r} native {b!r}")
    return bad


def call_in_page(page, name, spec):
    args = [float(x) for x in spec.split(",")]
    return page.evaluate(
        "([name, args]) => Array.from(window.playground.call(name, ...args))", [name, args]
    )


def canvases(page):
    return page.evaluate(
        "() => Object.fromEntries(['gradient', 'split', 'std', 'boundary', 'loss']"
        ".map(id => [id, document.getElementById(id).toDataURL()]))"
    )


def wait_redraw(page, before):
    page.wait_for_function(f"window.playground.redraws > {before}", timeout=30000)


def shown_input_gradients(page):
    """The median, min and max printed under the gradient view."""
    text = page.inner_text("#gradient-readout")
    nums = re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", text.split("over")[0])
    return text, [float(x) for x in nums]


def check_readout(page, nat_fan):
    """The printed median/min/max of the input-side gradient match the native numbers."""
    seeds, b = int(nat_fan[0]), int(nat_fan[1])
    per = 2 * b + (2 * b if nat_fan[3] == 1 else 0)
    inputs = [nat_fan[4 + s * per] for s in range(seeds)]
    expect = [sorted(inputs)[seeds // 2], min(inputs), max(inputs)]
    text, shown = shown_input_gradients(page)
    assert len(shown) == 3, f"readout '{text}' should print a median, a min and a max"
    for s, e in zip(shown, expect):
        # printed to 3 significant digits (or 1 in e-notation)
        assert abs(s - e) <= 0.051 * abs(e), f"readout '{text}': {s} is not the native {e:.6g}"
    return text


def set_controls(page, arch=None, depth=None, seed=None):
    before = page.evaluate("window.playground.redraws")
    if arch is not None:
        page.check(f"input[name=arch][value='{arch}']")
    if depth is not None:
        page.fill("#depth", str(depth))
    if seed is not None:
        page.fill("#seed", str(seed))
    wait_redraw(page, before)


def train_live(page, arch):
    page.check(f"input[name=arch][value='{arch}']")
    page.select_option("#points", "0")
    page.fill("#live-depth", "30")
    page.select_option("#budget", str(LIVE_BUDGET))
    page.click("#reset")
    page.click("#train")
    page.wait_for_function("window.playground.live.done === true", timeout=120000)
    live = page.evaluate(
        "({a: window.playground.live.accuracy, r: window.playground.live.rate, c: window.playground.live.capacity})")
    return live["a"], (live["r"], live["c"]), page.inner_text("#live-readout")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dist")
    ap.add_argument("numbers")
    ap.add_argument("--shots", default="target/playground-shots")
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    args = ap.parse_args()
    shots = Path(args.shots)
    shots.mkdir(parents=True, exist_ok=True)

    nat_fans = native(args.numbers, "fan", FANS)
    nat_lives = native(args.numbers, "live", LIVES)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a):
            pass

    handler = partial(Quiet, directory=args.dist)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/index.html"

    problems = []
    with sync_playwright() as p, contextlib.ExitStack() as stack:
        stack.callback(server.shutdown)
        browser = p.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        console = []
        page.on("console", lambda m: m.type in ("error", "warning") and console.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: console.append(f"uncaught: {e}"))
        page.goto(url)
        page.wait_for_function("window.playground && window.playground.ready === true", timeout=60000)
        print(f"page loaded: {url}")

        # 2. the same numbers, wasm and native
        worst = 0.0
        for spec in FANS:
            got = call_in_page(page, "fan_of", spec)
            bad = mismatches(got, nat_fans[spec], 1e-6)
            if bad:
                problems.append(f"fan {spec}: {len(bad)} numbers differ, first {bad[:3]}")
            pairs = [(a, b) for a, b in zip(got, nat_fans[spec]) if max(abs(a), abs(b)) > 0]
            worst = max([worst] + [abs(a - b) / max(abs(a), abs(b)) for a, b in pairs])
        print(f"gradient fans, wasm against native: {len(FANS)} settings, "
              f"{sum(len(v) for v in nat_fans.values())} numbers, largest relative difference {worst:.2e} (bound 1e-6)")
        planted = call_in_page(page, "fan_of", FANS[0].rsplit(",", 2)[0] + ",1,8")
        if not mismatches(planted, nat_fans[FANS[0]], 1e-6):
            problems.append("the comparison did not catch seed 1's fan offered as seed 0's")
        for spec in LIVES:
            v = [float(x) for x in spec.split(",")]
            page.evaluate(
                "(a) => window.playground.call('live_new', ...a)", v[:9])
            got = call_in_page(page, "live_train", str(int(v[9])))
            bad = mismatches(got[2:], nat_lives[spec][2:], 1e-4)
            if bad or got[0] != nat_lives[spec][0]:
                problems.append(f"live {spec}: losses differ: {bad[:3]}")
            else:
                print(f"live trainer, wasm against native: {spec}: {len(got) - 2} losses agree to 1e-4")

        # 3. controls redraw every view, and the printed numbers are the native crate's
        page.reload()
        page.wait_for_function("window.playground && window.playground.ready === true", timeout=60000)
        for arch, depth in [(1, 20), (0, 20), (0, 50), (1, 50)]:
            before = canvases(page)
            set_controls(page, arch=arch, depth=depth)
            after = canvases(page)
            changed = [k for k in ("gradient", "std", "split") if before[k] != after[k]]
            if len(changed) < 2:
                problems.append(f"arch {arch} depth {depth}: only {changed} redrew")
            spec = f"{arch},{depth},64,1,1,1,0,8"
            nat = native(args.numbers, "fan", [spec])[spec]
            try:
                text = check_readout(page, nat)
                print(f"depth {depth}, {['plain', 'residual'][arch]}: readout agrees with native: {text}")
            except AssertionError as e:
                problems.append(str(e))
            if depth == 50:
                name = ["plain-50", "residual-50"][arch]
                page.screenshot(path=str(shots / f"{name}.png"), full_page=True)

        # 6a. redraw speed: 50-layer MLP, width 64, 8 seeds, batch norm on, He
        set_controls(page, arch=1, depth=50)
        times = []
        for seed in range(1, 8):
            set_controls(page, seed=seed)
            times.append(page.evaluate("window.playground.timings.at(-1)"))
        set_controls(page, seed=0)
        print(f"redraw after a control moves, residual-50, width 64, 8 seeds: median "
              f"{statistics.median(times):.0f} ms (runs {', '.join(f'{t:.0f}' for t in times)})")

        # 4. plain-30 against residual-30 on the spirals, same budget
        results = {}
        for arch, name in [(0, "plain-30"), (1, "residual-30")]:
            acc, rate, text = train_live(page, arch)
            results[name] = (acc, rate)
            print(f"{name} on the spirals, {LIVE_BUDGET} steps: {text}")
            page.locator("#view-live").screenshot(path=str(shots / f"live-{name}.png"))
        for name, (_, (rate, capacity)) in results.items():
            print(f"2-D training speed, {name}: {rate:.0f} steps/s of wall time (two steps per "
                  f"animation frame); {capacity:.0f} steps/s counting only the time spent training and drawing")
        if not results["residual-30"][0] > results["plain-30"][0]:
            problems.append(f"plain-30 did not train worse than residual-30: {results}")

        # the chapter links open the course's pages
        page.click("#view-gradient a.chapter")
        page.wait_for_selector("#the-fans-plain-against-residual", timeout=10000)
        print("chapter link: " + page.inner_text("h1"))
        browser.close()

    # 5. no console errors
    problems += [f"console: {c}" for c in console]
    print(f"screenshots in {shots}/")
    if problems:
        print("\nplayground test FAILED:\n  " + "\n  ".join(problems))
        sys.exit(1)
    print("playground test passed")


if __name__ == "__main__":
    main()
