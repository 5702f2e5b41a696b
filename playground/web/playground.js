// resgrad playground: loads resgrad_playground.wasm (the crate compiled for the browser),
// calls its exports when a control moves, and draws what they return on canvases.
//
// The module imports nothing and exports plain functions of numbers. Each call fills one
// buffer of f64s (read with out_ptr/out_len) or, when it returns -1, a message
// (message_ptr/message_len). The buffers' layouts are written in playground/src/lib.rs.

const LIVE_WIDTH = 32;
const GRID = 48;
const COLORS = { plain: "#c0392b", residual: "#2471a3", direct: "#2471a3", branch: "#d68910" };

const $ = (id) => document.getElementById(id);

async function load() {
  const response = await fetch("resgrad_playground.wasm");
  const { instance } = await WebAssembly.instantiateStreaming(response, {});
  return instance.exports;
}

/// Calls an export; returns its buffer as a copy, or throws the module's message.
function call(wasm, name, ...args) {
  const status = wasm[name](...args);
  if (status !== 0) {
    const bytes = new Uint8Array(wasm.memory.buffer, wasm.message_ptr(), wasm.message_len());
    throw new Error(new TextDecoder().decode(bytes));
  }
  return Float64Array.from(new Float64Array(wasm.memory.buffer, wasm.out_ptr(), wasm.out_len()));
}

function controls() {
  return {
    arch: Number(document.querySelector("input[name=arch]:checked").value),
    depth: Number($("depth").value),
    width: Number($("width").value),
    lambda: Number($("lambda").value),
    start: Number($("start").value),
    bn: $("bn").checked ? 1 : 0,
    seed: Number($("seed").value) >>> 0,
    seeds: Number($("seeds").value),
  };
}

/// The fan buffer (see fan_numbers in lib.rs), unpacked.
function unpackFan(v) {
  const [seeds, b, perBlock, hasSplit] = [v[0], v[1], v[2], v[3]];
  const runs = [];
  let at = 4;
  const take = () => { const s = Array.from(v.subarray(at, at + b)); at += b; return s; };
  for (let s = 0; s < seeds; s++) {
    const run = { gradient: take(), std: take() };
    if (hasSplit) { run.direct = take(); run.branch = take(); }
    runs.push(run);
  }
  const layers = Array.from({ length: b }, (_, l) => l * perBlock);
  return { runs, layers, hasSplit: hasSplit === 1 };
}

// ---- drawing -------------------------------------------------------------------------

function niceTicks(lo, hi, count) {
  const span = hi - lo || 1;
  const step0 = span / count;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= step0);
  const ticks = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-9; t += step) ticks.push(+t.toFixed(10));
  return ticks;
}

function fmt(y) {
  if (y === 0) return "0";
  const a = Math.abs(y);
  return a >= 1e4 || a < 1e-2 ? y.toExponential(1).replace("e+", "e") : String(+y.toPrecision(3));
}

/// Draws line series [{x, y, color, width, alpha}] with axes; logY draws log10 of y.
function linePlot(canvas, series, { logY = false, xLabel = "", yLabel = "", xMax = null }) {
  const ctx = canvas.getContext("2d");
  const W = canvas.width, H = canvas.height;
  const m = { l: 58, r: 12, t: 10, b: 40 };
  ctx.clearRect(0, 0, W, H);
  const ys = series.flatMap((s) => s.y).filter((y) => Number.isFinite(y) && (!logY || y > 0));
  if (ys.length === 0) return;
  const ty = (y) => (logY ? Math.log10(y) : y);
  let lo = Math.min(...ys.map(ty)), hi = Math.max(...ys.map(ty));
  if (logY) { lo = Math.floor(lo - 0.05); hi = Math.ceil(hi + 0.05); if (hi - lo < 1) hi = lo + 1; }
  else { const pad = (hi - lo) * 0.05 || Math.abs(hi) * 0.1 || 1; lo -= pad; hi += pad; if (lo > 0 && lo < hi / 4) lo = 0; }
  const x1 = xMax ?? Math.max(...series.flatMap((s) => s.x), 1);
  const px = (x) => m.l + (x / x1) * (W - m.l - m.r);
  const py = (y) => H - m.b - ((ty(y) - lo) / (hi - lo)) * (H - m.t - m.b);
  ctx.font = "12px sans-serif";
  ctx.strokeStyle = "#ccc"; ctx.fillStyle = "#333"; ctx.lineWidth = 1;
  const yTicks = logY
    ? Array.from({ length: hi - lo + 1 }, (_, i) => lo + i).filter((_, i, a) => a.length <= 9 || i % Math.ceil(a.length / 8) === 0)
    : niceTicks(lo, hi, 5);
  ctx.textAlign = "right"; ctx.textBaseline = "middle";
  for (const t of yTicks) {
    const y = logY ? 10 ** t : t;
    const yy = py(y);
    ctx.beginPath(); ctx.moveTo(m.l, yy); ctx.lineTo(W - m.r, yy); ctx.stroke();
    ctx.fillText(logY ? (t === 0 ? "1" : `1e${t}`) : fmt(t), m.l - 6, yy);
  }
  ctx.textAlign = "center"; ctx.textBaseline = "top";
  for (const t of niceTicks(0, x1, 6).filter((t) => Number.isInteger(t))) {
    ctx.fillText(String(t), px(t), H - m.b + 5);
  }
  ctx.fillText(xLabel, (m.l + W - m.r) / 2, H - 16);
  ctx.save(); ctx.translate(13, (m.t + H - m.b) / 2); ctx.rotate(-Math.PI / 2);
  ctx.fillText(yLabel, 0, -6); ctx.restore();
  ctx.strokeStyle = "#333"; ctx.strokeRect(m.l, m.t, W - m.l - m.r, H - m.t - m.b);
  for (const s of series) {
    ctx.strokeStyle = s.color; ctx.globalAlpha = s.alpha ?? 1; ctx.lineWidth = s.width ?? 1.5;
    ctx.beginPath();
    let pen = false;
    s.x.forEach((x, i) => {
      const y = s.y[i];
      if (!Number.isFinite(y) || (logY && y <= 0)) { pen = false; return; }
      if (pen) ctx.lineTo(px(x), py(y)); else ctx.moveTo(px(x), py(y));
      pen = true;
    });
    ctx.stroke();
  }
  ctx.globalAlpha = 1;
}

function legend(canvas, items) {
  const ctx = canvas.getContext("2d");
  ctx.font = "12px sans-serif"; ctx.textAlign = "left"; ctx.textBaseline = "middle";
  items.forEach(([label, color], i) => {
    const y = 22 + 16 * i;
    ctx.fillStyle = "rgba(255,255,255,0.85)"; ctx.fillRect(canvas.width - 190, y - 8, 176, 16);
    ctx.fillStyle = color; ctx.fillRect(canvas.width - 186, y - 2, 18, 4);
    ctx.fillStyle = "#222"; ctx.fillText(label, canvas.width - 162, y);
  });
}

function message(canvas, text) {
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = "#555"; ctx.font = "14px sans-serif"; ctx.textAlign = "left"; ctx.textBaseline = "top";
  const words = text.split(" "); let line = "", y = 20;
  for (const w of words) {
    if (ctx.measureText(line + w).width > canvas.width - 40) { ctx.fillText(line, 20, y); line = ""; y += 20; }
    line += w + " ";
  }
  ctx.fillText(line, 20, y);
}

const median = (a) => { const s = [...a].sort((p, q) => p - q); return s[Math.floor(s.length / 2)]; };

// ---- the three views at initialisation ------------------------------------------------

function drawFan(fan, c) {
  const color = c.arch === 0 ? COLORS.plain : COLORS.residual;
  const xLabel = "weight layer l (input side at 0)";
  linePlot($("gradient"), fan.runs.map((r) => ({ x: fan.layers, y: r.gradient, color, alpha: 0.55 })),
    { logY: true, xLabel, yLabel: "‖dE/dx_l‖ / ‖dE/dx_L‖" });
  const input = fan.runs.map((r) => r.gradient[0]);
  $("gradient-readout").textContent =
    `at the input: median ${fmt(median(input))}, from ${fmt(Math.min(...input))} to ${fmt(Math.max(...input))} over ${fan.runs.length} seeds`;
  $("gradient-readout").dataset.values = JSON.stringify(input);

  linePlot($("std"), fan.runs.map((r) => ({ x: fan.layers, y: r.std, color, alpha: 0.55 })),
    { logY: true, xLabel, yLabel: "std of x_l" });
  const top = fan.runs.map((r) => r.std[r.std.length - 1]);
  $("std-readout").textContent = `at the output: median ${fmt(median(top))} (the input's is ${fmt(fan.runs[0].std[0])})`;

  if (!fan.hasSplit) {
    message($("split"), c.arch === 0
      ? "A plain net has no shortcut, so eq. 5 has no direct term: choose residual or pre-activation."
      : "Eq. 5 needs blocks whose output is x + F(x). These post-activation blocks put a ReLU after the sum (He et al. 2015); choose pre-activation, or turn batch norm off.");
    $("split-readout").textContent = "";
    return;
  }
  const s = [];
  for (const r of fan.runs) {
    s.push({ x: fan.layers, y: r.direct, color: COLORS.direct, alpha: 0.7, width: 2 });
    s.push({ x: fan.layers, y: r.branch, color: COLORS.branch, alpha: 0.45 });
  }
  linePlot($("split"), s, { logY: true, xLabel, yLabel: "norm / ‖dE/dx_L‖" });
  legend($("split"), [["direct: λ^(L-l) dE/dx_L", COLORS.direct], ["through the branches", COLORS.branch]]);
  const d = fan.runs[0].direct[0], b = median(fan.runs.map((r) => r.branch[0]));
  $("split-readout").textContent = `at the input: direct term ${fmt(d)}, branch term median ${fmt(b)}`;
}

// ---- the live view --------------------------------------------------------------------

function drawBoundary(probs, pts) {
  const canvas = $("boundary"), ctx = canvas.getContext("2d");
  const img = ctx.createImageData(GRID, GRID);
  probs.forEach((p, k) => {
    // class 1 blue, class 0 orange, paler near 0.5
    const t = Math.min(1, Math.abs(p - 0.5) * 2);
    const [r, g, b] = p > 0.5 ? [36, 113, 163] : [214, 137, 16];
    img.data.set([255 + (r - 255) * t * 0.45, 255 + (g - 255) * t * 0.45, 255 + (b - 255) * t * 0.45, 255], 4 * k);
  });
  const off = new OffscreenCanvas(GRID, GRID);
  off.getContext("2d").putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(off, 0, 0, canvas.width, canvas.height);
  const px = (x) => ((x + 1.5) / 3) * canvas.width, py = (y) => ((1.5 - y) / 3) * canvas.height;
  for (let i = 0; i < pts.length; i += 3) {
    ctx.beginPath(); ctx.arc(px(pts[i]), py(pts[i + 1]), 2.6, 0, 2 * Math.PI);
    ctx.fillStyle = pts[i + 2] === 1 ? "#1b4f72" : "#9c640c"; ctx.fill();
    ctx.strokeStyle = "#fff"; ctx.lineWidth = 0.6; ctx.stroke();
  }
}

function drawLoss(losses, budget) {
  const xs = losses.map((_, i) => i + 1);
  linePlot($("loss"), [{ x: xs, y: losses, color: "#333", width: 1.2 }],
    { logY: false, xLabel: "step", yLabel: "training loss", xMax: budget });
}

// ---- wiring ---------------------------------------------------------------------------

async function main() {
  const wasm = await load();
  const live = { points: null, running: false, step: 0, budget: 100, steps: 0, ms: 0 };
  const api = { wasm, call: (name, ...a) => call(wasm, name, ...a), unpackFan, timings: [], live };
  window.playground = api;

  function redraw() {
    const c = controls();
    const t0 = performance.now();
    try {
      const fan = unpackFan(call(wasm, "fan_of", c.arch, c.depth, c.width, c.lambda, c.start, c.bn, c.seed, c.seeds));
      drawFan(fan, c);
      api.lastFan = fan;
      $("status").textContent = "";
    } catch (e) {
      api.lastFan = null;
      $("status").textContent = e.message;
      for (const id of ["gradient", "split", "std"]) message($(id), "No picture: " + e.message);
      for (const id of ["gradient-readout", "split-readout", "std-readout"]) $(id).textContent = "";
    }
    const ms = performance.now() - t0;
    api.timings.push(ms);
    $("fan-time").textContent = `computed and drawn in ${ms.toFixed(0)} ms`;
    api.redraws = (api.redraws ?? 0) + 1;
  }

  function resetLive() {
    const c = controls();
    live.running = false; $("train").textContent = "Train";
    live.budget = Number($("budget").value);
    live.steps = 0; live.ms = 0; live.started = null;
    try {
      live.points = call(wasm, "live_new", c.arch, Number($("live-depth").value), LIVE_WIDTH, c.lambda,
        c.start, c.bn, c.seed, Number($("points").value), Number($("lr").value));
      live.step = 0; live.accuracy = NaN; live.losses = [];
      drawBoundary(call(wasm, "live_grid", GRID), live.points);
      drawLoss([], live.budget);
      $("live-readout").textContent = `step 0 of ${live.budget}`;
    } catch (e) {
      live.points = null;
      message($("boundary"), "No net: " + e.message);
      $("live-readout").textContent = "";
    }
  }

  function frame() {
    if (!live.running || !live.points) return;
    const t0 = performance.now();
    live.started ??= t0;
    const k = Math.min(2, live.budget - live.step);
    try {
      const out = call(wasm, "live_train", k);
      live.step = out[0]; live.accuracy = out[1]; live.losses = Array.from(out.subarray(2));
      live.steps += k; live.ms += performance.now() - t0;
      drawBoundary(call(wasm, "live_grid", GRID), live.points);
      drawLoss(live.losses, live.budget);
      // steps per second of wall time since Train was pressed (what the learner sees), and
      // the rate the page could reach if it did nothing but train and draw
      const rate = live.step > 0 ? live.steps / ((performance.now() - live.started) / 1000) : 0;
      live.rate = rate;
      live.capacity = live.steps / (live.ms / 1000);
      $("live-readout").textContent =
        `step ${live.step} of ${live.budget}: training accuracy ${(100 * live.accuracy).toFixed(1)}%, ` +
        `loss ${live.losses[live.losses.length - 1].toFixed(3)}; ${rate.toFixed(0)} steps/s`;
    } catch (e) {
      live.running = false;
      $("live-readout").textContent = "Stopped: " + e.message;
    }
    if (live.step >= live.budget) { live.running = false; $("train").textContent = "Train"; live.done = true; return; }
    if (live.running) requestAnimationFrame(frame);
  }

  const outputs = { depth: (v) => v, lambda: (v) => Number(v).toFixed(2), width: (v) => v, seeds: (v) => v, "live-depth": (v) => v };
  for (const [id, f] of Object.entries(outputs)) {
    $(id).addEventListener("input", () => { $(`${id}-out`).textContent = f($(id).value); });
  }
  for (const el of document.querySelectorAll("#controls input, #controls select")) {
    el.addEventListener("input", () => { redraw(); resetLive(); });
  }
  for (const id of ["points", "live-depth", "lr", "budget"]) $(id).addEventListener("input", resetLive);
  $("train").addEventListener("click", () => {
    if (live.step >= live.budget) resetLive();
    live.running = !live.running; live.done = false; live.started = null; live.steps = 0; live.ms = 0;
    $("train").textContent = live.running ? "Pause" : "Train";
    if (live.running) requestAnimationFrame(frame);
  });
  $("reset").addEventListener("click", resetLive);

  redraw();
  resetLive();
  api.ready = true;
}

main().catch((e) => {
  $("status").textContent = "The playground could not start: " + e.message;
  throw e;
});
