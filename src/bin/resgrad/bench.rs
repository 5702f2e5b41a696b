//! Measurements printed by `resgrad bench ...`: part of the command line, not of the
//! library. Speed is measured here, never asserted in tests: the machine is shared, so
//! only ratios taken in one run mean much. Each command first tunes the allocator as
//! training does (`resgrad::train::tune_allocator`).

use std::hint::black_box;
use std::time::Instant;

use resgrad::Tape;
use resgrad::ndarray::{self, ArrayD, IxDyn};

use crate::workloads::{CONV_SHAPES, scalar_chain};

/// The same chain on bare 0-d ndarrays: the cost of the arithmetic with no tape at all.
fn bare_chain(links: usize) -> f32 {
    let x = ArrayD::from_elem(IxDyn(&[]), 0.3f32);
    let w = ArrayD::from_elem(IxDyn(&[]), 0.9f32);
    let mut y = x.clone();
    for _ in 0..links {
        y = ((&y * &w).mapv(f32::tanh) + &x) * 0.5;
    }
    y[IxDyn(&[])]
}

/// Nanoseconds per op for one run of each phase.
#[derive(Debug, Clone, Copy)]
pub struct TapeCost {
    /// Bare ndarray arithmetic, no tape.
    pub bare: f64,
    /// Forward on a tape that is not recording (`no_grad`).
    pub no_grad: f64,
    /// Forward, recording.
    pub forward: f64,
    /// Backward over the recorded chain.
    pub backward: f64,
}

/// Times the chain of `ops` scalar-sized ops once in each mode.
pub fn tape_cost(ops: usize) -> TapeCost {
    let links = ops / 4;
    let n = (4 * links) as f64;
    let t = Instant::now();
    black_box(bare_chain(links));
    let bare = t.elapsed().as_nanos() as f64 / n;

    let tape = Tape::new();
    let t = Instant::now();
    tape.no_grad(|| black_box(scalar_chain(&tape, links)));
    let no_grad = t.elapsed().as_nanos() as f64 / n;

    let tape = Tape::new();
    let t = Instant::now();
    let (y, w) = scalar_chain(&tape, links);
    let forward = t.elapsed().as_nanos() as f64 / n;
    let t = Instant::now();
    let grads = y.backward();
    black_box(grads.get(&w));
    let backward = t.elapsed().as_nanos() as f64 / n;
    TapeCost {
        bare,
        no_grad,
        forward,
        backward,
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// `resgrad bench tape`: the tape's cost per op over `ops` scalar-sized ops, median of
/// `repeats` runs, printed as a table.
pub fn print_tape_cost(ops: usize, repeats: usize) {
    resgrad::train::tune_allocator();
    println!(
        "tape cost: a chain of {ops} scalar-sized ops (mul, tanh, add, mul_scalar), f32, median of {repeats} runs"
    );
    tape_cost(ops.min(100_000)); // warm up the allocator and caches
    let runs: Vec<TapeCost> = (0..repeats.max(1)).map(|_| tape_cost(ops)).collect();
    let pick = |f: fn(&TapeCost) -> f64| median(runs.iter().map(f).collect());
    let (bare, no_grad, fwd, bwd) = (
        pick(|c| c.bare),
        pick(|c| c.no_grad),
        pick(|c| c.forward),
        pick(|c| c.backward),
    );
    println!("{:<34} {:>10}", "phase", "ns/op");
    println!("{:<34} {:>10.1}", "bare ndarray, no tape", bare);
    println!(
        "{:<34} {:>10.1}",
        "forward, no_grad (not recording)", no_grad
    );
    println!("{:<34} {:>10.1}", "forward, recording", fwd);
    println!("{:<34} {:>10.1}", "backward", bwd);
    println!("{:<34} {:>10.1}", "forward + backward", fwd + bwd);
}

// ---------------------------------------------------------------------------------------
// Convolution
// ---------------------------------------------------------------------------------------

use resgrad::kernels::{Conv2dGeom, fast, reference};

fn filled(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

fn median_secs(reps: usize, mut f: impl FnMut()) -> f64 {
    f();
    let mut t: Vec<f64> = (0..reps.max(1))
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64()
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

/// The machine's peak multiply-add rate on one thread, measured: a loop of independent
/// fused multiply-adds on the widest vectors the CPU has (AVX-512, else AVX2+FMA), 2 FLOPs
/// per lane each, with enough accumulators to cover the FMA units' latency. `None` off
/// x86-64. Machines differ (an AMD Zen 4 runs AVX-512 at half an Intel Xeon's rate per
/// core), so a kernel's share of the peak is only meaningful against this run's peak.
pub fn fma_peak() -> Option<(f64, &'static str)> {
    #[cfg(target_arch = "x86_64")]
    {
        let iters = 20_000_000usize;
        let (flops_per_iter, unit, run): (f64, _, fn(usize) -> f32) =
            if is_x86_feature_detected!("avx512f") {
                // SAFETY: the CPU has AVX-512F (`is_x86_feature_detected!` just above).
                (16.0 * 16.0 * 2.0, "AVX-512", |n| unsafe {
                    fma_loop_avx512(n)
                })
            } else if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                // SAFETY: the CPU has AVX2 and FMA (`is_x86_feature_detected!` just above).
                (12.0 * 8.0 * 2.0, "AVX2+FMA", |n| unsafe {
                    fma_loop_avx2(n)
                })
            } else {
                return None;
            };
        black_box(run(iters / 10));
        let secs = median_secs(3, || {
            black_box(run(black_box(iters)));
        });
        Some((iters as f64 * flops_per_iter / secs / 1e9, unit))
    }
    #[cfg(not(target_arch = "x86_64"))]
    None
}

/// `n` rounds of 16 independent 16-lane FMAs.
///
/// # Safety
/// The CPU has AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn fma_loop_avx512(n: usize) -> f32 {
    use std::arch::x86_64::*;
    let (a, b) = (_mm512_set1_ps(0.999_999), _mm512_set1_ps(1e-7));
    let mut acc = [_mm512_set1_ps(1.0); 16];
    for _ in 0..n {
        for v in &mut acc {
            *v = _mm512_fmadd_ps(*v, a, b);
        }
    }
    acc.iter().map(|&v| _mm512_reduce_add_ps(v)).sum()
}

/// `n` rounds of 12 independent 8-lane FMAs.
///
/// # Safety
/// The CPU has AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn fma_loop_avx2(n: usize) -> f32 {
    use std::arch::x86_64::*;
    let (a, b) = (_mm256_set1_ps(0.999_999), _mm256_set1_ps(1e-7));
    let mut acc = [_mm256_set1_ps(1.0); 12];
    for _ in 0..n {
        for v in &mut acc {
            *v = _mm256_fmadd_ps(*v, a, b);
        }
    }
    let mut lanes = [0f32; 8];
    acc.iter()
        .map(|&v| {
            // SAFETY: `lanes` holds the 8 values the store writes.
            unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), v) };
            lanes.iter().sum::<f32>()
        })
        .sum()
}

/// GFLOP/s of an `n x n x n` sgemm through ndarray's `dot` (matrixmultiply) on this thread:
/// the machine's ceiling.
pub fn sgemm_ceiling(n: usize) -> f64 {
    let a = ndarray::Array2::from_shape_vec((n, n), filled(n * n, 1)).expect("n*n");
    let b = ndarray::Array2::from_shape_vec((n, n), filled(n * n, 2)).expect("n*n");
    let secs = median_secs(3, || {
        black_box(a.dot(&b));
    });
    2.0 * (n * n * n) as f64 / secs / 1e9
}

/// GFLOP/s of our own blocked sgemm at `n x n x n` on this thread.
pub fn sgemm_ours(n: usize) -> f64 {
    use fast::gemm::{MatRef, sgemm};
    let a = filled(n * n, 1);
    let b = filled(n * n, 2);
    let mut c = vec![0.0; n * n];
    let secs = median_secs(3, || {
        sgemm(
            &MatRef::row_major(&a, n, n),
            &MatRef::row_major(&b, n, n),
            &mut c,
            n,
            false,
        )
    });
    2.0 * (n * n * n) as f64 / secs / 1e9
}

/// One row of the conv table.
#[derive(Debug, Clone)]
pub struct ConvRow {
    /// e.g. `3x3 16->16 32x32`.
    pub shape: String,
    /// Fast forward, milliseconds.
    pub fwd_ms: f64,
    /// Fast forward GFLOP/s.
    pub fwd_gflops: f64,
    /// Fast backward to the input alone, milliseconds.
    pub bwd_input_ms: f64,
    /// Fast backward to the weight alone, milliseconds.
    pub bwd_weight_ms: f64,
    /// Fast forward + backward (input and weight), milliseconds.
    pub fwdbwd_ms: f64,
    /// Fast forward + backward GFLOP/s (3x the forward FLOPs).
    pub fwdbwd_gflops: f64,
    /// Reference forward + backward GFLOP/s, measured on a smaller batch.
    pub reference_gflops: f64,
}

/// Times the fast conv (and, on `ref_batch` images, the reference) at one shape.
pub fn conv_row(
    n: usize,
    (cin, cout, hw, k): (usize, usize, usize, usize),
    reps: usize,
    ref_batch: usize,
) -> ConvRow {
    let g = Conv2dGeom::new(&[n, cin, hw, hw], &[cout, cin, k, k], 1, k / 2)
        .expect("valid bench shape");
    let x = filled(n * cin * hw * hw, 3);
    let w = filled(cout * cin * k * k, 4);
    let dy = filled(n * cout * g.ho * g.wo, 5);
    let mut y = vec![0.0; dy.len()];
    let mut dx = vec![0.0; x.len()];
    let mut dw = vec![0.0; w.len()];
    let flops = 2.0 * g.macs() as f64;
    let fwd = median_secs(reps, || fast::conv2d_forward(&x, &w, None, &g, &mut y));
    let bwd_input = median_secs(reps, || fast::conv2d_backward_input(&dy, &w, &g, &mut dx));
    let bwd_weight = median_secs(reps, || fast::conv2d_backward_weight(&x, &dy, &g, &mut dw));
    let fwdbwd = median_secs(reps, || {
        fast::conv2d_forward(&x, &w, None, &g, &mut y);
        fast::conv2d_backward_input(&dy, &w, &g, &mut dx);
        fast::conv2d_backward_weight(&x, &dy, &g, &mut dw);
    });
    let gr = Conv2dGeom { n: ref_batch, ..g };
    let (xr, dyr) = (
        &x[..ref_batch * cin * hw * hw],
        &dy[..ref_batch * cout * g.ho * g.wo],
    );
    let (mut yr, mut dxr) = (vec![0.0; dyr.len()], vec![0.0; xr.len()]);
    let reference = median_secs(1, || {
        reference::conv2d_forward(xr, &w, None, &gr, &mut yr);
        reference::conv2d_backward_input(dyr, &w, &gr, &mut dxr);
        reference::conv2d_backward_weight(xr, dyr, &gr, &mut dw);
    });
    ConvRow {
        shape: format!("{k}x{k} {cin}->{cout} {hw}x{hw}"),
        fwd_ms: fwd * 1e3,
        fwd_gflops: flops / fwd / 1e9,
        bwd_input_ms: bwd_input * 1e3,
        bwd_weight_ms: bwd_weight * 1e3,
        fwdbwd_ms: fwdbwd * 1e3,
        fwdbwd_gflops: 3.0 * flops / fwdbwd / 1e9,
        reference_gflops: 3.0 * 2.0 * gr.macs() as f64 / reference / 1e9,
    }
}

/// `resgrad bench conv`: GFLOP/s of the fast conv at each of [`CONV_SHAPES`], beside the
/// ceiling measured in the same run and the reference loops.
pub fn print_conv_bench(n: usize, reps: usize) {
    resgrad::train::tune_allocator();
    let threads = rayon::current_num_threads();
    let isa = fast::gemm::Isa::detect();
    println!(
        "conv bench: N={n}, f32, NCHW, stride 1, same padding, no bias; {threads} threads; kernel {isa:?}; median of {reps}"
    );
    let ceiling1 = sgemm_ceiling(1024);
    let ceiling = ceiling1 * threads as f64;
    println!(
        "ceiling: sgemm 1024^3 via ndarray dot (matrixmultiply), 1 thread = {ceiling1:.1} GFLOP/s, x {threads} threads = {ceiling:.1} GFLOP/s"
    );
    let ours = sgemm_ours(1024);
    match fma_peak() {
        Some((peak, unit)) => println!(
            "FMA peak, 1 thread ({unit}, measured now) = {peak:.1} GFLOP/s; our sgemm 1024^3, \
             1 thread = {ours:.1} GFLOP/s = {:.0}% of it",
            100.0 * ours / peak
        ),
        None => println!("our sgemm 1024^3, 1 thread = {ours:.1} GFLOP/s"),
    }
    println!(
        "{:<18} {:>7} {:>8} {:>7} {:>7} {:>7} {:>7} {:>9} {:>7} {:>9} {:>8}",
        "shape",
        "fwd ms",
        "fwd GF/s",
        "(ceil)",
        "dx ms",
        "dw ms",
        "f+b ms",
        "f+b GF/s",
        "(ceil)",
        "ref GF/s",
        "fast/ref"
    );
    // Warm up the thread pool, the allocator and the packing buffers before timing.
    conv_row(n, CONV_SHAPES[0], 2, 1);
    for shape in CONV_SHAPES {
        let r = conv_row(n, shape, reps, 2);
        println!(
            "{:<18} {:>7.2} {:>8.1} {:>6.0}% {:>7.2} {:>7.2} {:>7.2} {:>9.1} {:>6.0}% {:>9.2} {:>7.0}x",
            r.shape,
            r.fwd_ms,
            r.fwd_gflops,
            100.0 * r.fwd_gflops / ceiling,
            r.bwd_input_ms,
            r.bwd_weight_ms,
            r.fwdbwd_ms,
            r.fwdbwd_gflops,
            100.0 * r.fwdbwd_gflops / ceiling,
            r.reference_gflops,
            r.fwdbwd_gflops / r.reference_gflops
        );
    }
    println!(
        "FLOPs: forward 2*N*Cout*H*W*Cin*k*k; forward+backward (fwd, dx, dw) 3x that. \
         The reference loops are timed on 2 images (their cost is linear in N)."
    );
}

// ---------------------------------------------------------------------------------------
// Training step
// ---------------------------------------------------------------------------------------

/// Peak resident memory of this process so far, in MiB (Linux `VmHWM`), if known.
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Median seconds of a training step and of an inference pass of a CIFAR ResNet at batch
/// `n`: forward, cross-entropy, backward, SGD (momentum 0.9, weight decay 1e-4).
pub fn train_step_secs(depth: usize, n: usize, steps: usize) -> (f64, f64) {
    use resgrad::nn::{Mode, Module};
    let BenchNet {
        model,
        params,
        mut opt,
        x,
        labels,
    } = BenchNet::new(depth, n);
    let mut step = || {
        let grads = {
            let tape = Tape::new();
            let loss = model
                .forward(&tape.constant(x.clone()), Mode::Train)
                .cross_entropy(&labels);
            loss.backward_leaves()
        };
        opt.step(&params, &grads);
    };
    let train = median_secs(steps, &mut step);
    let infer = median_secs(steps, || {
        let tape = Tape::new();
        tape.no_grad(|| black_box(model.forward(&tape.constant(x.clone()), Mode::Eval)));
    });
    (train, infer)
}

/// Refuses a batch whose training step of a CIFAR ResNet of `depth` (option A, what
/// [`BenchNet`] builds) would not fit in this machine's memory, before any net is built or
/// any process started; the error names the batch, the estimate and the machine's memory.
fn check_batch(depth: usize, n: usize) -> Result<(), String> {
    use resgrad::models::CifarSpec;
    use resgrad::nn::ShortcutOption;
    CifarSpec::resnet(depth, ShortcutOption::A)
        .check_step::<f32>(n, 32)
        .map_err(|e| format!("bench train --batch: {e}"))
}

/// What the training benchmarks run: a CIFAR ResNet (option A), its parameters, SGD with
/// momentum 0.9 and weight decay 1e-4, one fixed batch of `n` images and their labels.
struct BenchNet {
    model: resgrad::models::ResNet,
    params: Vec<resgrad::Param>,
    opt: resgrad::train::optim::Sgd,
    x: ArrayD<f32>,
    labels: Vec<usize>,
}

impl BenchNet {
    fn new(depth: usize, n: usize) -> Self {
        use resgrad::nn::{Module, ShortcutOption};
        let model = resgrad::models::ResNet::cifar(depth, ShortcutOption::A);
        BenchNet {
            params: model.parameters(),
            model,
            opt: resgrad::train::optim::Sgd::new(0.1)
                .momentum(0.9)
                .weight_decay(1e-4),
            x: ArrayD::from_shape_vec(IxDyn(&[n, 3, 32, 32]), filled(n * 3 * 32 * 32, 9))
                .expect("shape"),
            labels: (0..n).map(|i| (i * 7) % 10).collect(),
        }
    }
}

/// Where one net's training step spends its time: the tape's op timings
/// ([`Tape::time_ops`]) summed over `steps` steps after a warm-up, with the optimizer, the
/// freeing of the tape and its gradients, and the whole step's wall time.
pub fn print_op_profile(depth: usize, n: usize, steps: usize) -> Result<(), String> {
    use resgrad::nn::{Mode, Module};
    resgrad::models::cifar_blocks_per_stage(depth).map_err(|e| e.to_string())?;
    check_batch(depth, n)?;
    resgrad::train::tune_allocator();
    let BenchNet {
        model,
        params,
        mut opt,
        x,
        labels,
    } = BenchNet::new(depth, n);
    let mut ops = resgrad::OpTimes::default();
    let (mut optimizer, mut free, mut wall) = (0.0, 0.0, 0.0);
    for s in 0..=steps {
        let start = Instant::now();
        let tape = Tape::new();
        tape.time_ops();
        let loss = model
            .forward(&tape.constant(x.clone()), Mode::Train)
            .cross_entropy(&labels);
        let grads = loss.backward_leaves();
        let times = tape.op_times().expect("the tape times its ops");
        let t_opt = Instant::now();
        opt.step(&params, &grads);
        let opt_s = t_opt.elapsed().as_secs_f64();
        let t_free = Instant::now();
        drop((grads, loss, tape));
        let free_s = t_free.elapsed().as_secs_f64();
        if s > 0 {
            ops.merge(&times);
            optimizer += opt_s;
            free += free_s;
            wall += start.elapsed().as_secs_f64();
        }
    }
    let k = steps as f64;
    println!(
        "op profile: resnet{depth} (option A), batch {n}, mean of {steps} training steps after a \
         warm-up; {} threads, kernel {:?}",
        rayon::current_num_threads(),
        fast::gemm::Isa::detect()
    );
    println!("{}", ops.per(steps));
    println!("{:<20} {:>39.2}", "optimizer (SGD)", optimizer / k * 1e3);
    println!("{:<20} {:>39.2}", "freeing the tape", free / k * 1e3);
    println!("{:<20} {:>39.2}", "step (wall)", wall / k * 1e3);
    println!();
    Ok(())
}

/// One net, measured in this process: its JSON line (what each child of
/// [`print_train_bench`] prints). The peak resident memory is this process's, so it is
/// the net's own.
pub fn print_one_net(depth: usize, n: usize, steps: usize) -> Result<(), String> {
    resgrad::models::cifar_blocks_per_stage(depth).map_err(|e| e.to_string())?;
    check_batch(depth, n)?;
    resgrad::train::tune_allocator();
    let (train, infer) = train_step_secs(depth, n, steps);
    let rss = peak_rss_mib().map_or("null".to_string(), |m| format!("{m:.1}"));
    println!(
        "{{\"engine\": \"resgrad\", \"net\": \"resnet{depth}\", \"depth\": {depth}, \"mode\": \"train\", \
         \"batch\": {n}, \"threads\": {}, \"isa\": \"{:?}\", \"steps\": {steps}, \
         \"step_ms_median\": {:.3}, \"img_s_median\": {:.2}, \"infer_ms_median\": {:.3}, \
         \"infer_img_s_median\": {:.2}, \"peak_rss_mib\": {rss}}}",
        rayon::current_num_threads(),
        fast::gemm::Isa::detect(),
        train * 1e3,
        n as f64 / train,
        infer * 1e3,
        n as f64 / infer,
    );
    Ok(())
}

/// The number after `"key": ` in a JSON line of [`print_one_net`].
fn json_number(line: &str, key: &str) -> Option<f64> {
    let rest = &line[line.find(&format!("\"{key}\": "))? + key.len() + 4..];
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    rest[..end].trim().parse().ok()
}

/// `resgrad bench train`: for each depth, a child process measures one CIFAR ResNet
/// (option A) at batch `n` (so that each peak resident memory is that net's alone; a batch
/// that would not fit in memory is refused before any process starts); a
/// table of images per second and peak memory, and with `json`, one JSON line per net
/// appended to that file (the fields of PyTorch's `bench_resnet.py` where they mean the
/// same, so that ratios can be taken line by line).
pub fn print_train_bench(
    depths: &[usize],
    n: usize,
    steps: usize,
    json: Option<&std::path::Path>,
) -> Result<(), String> {
    for &d in depths {
        resgrad::models::cifar_blocks_per_stage(d)
            .map_err(|e| format!("bench train --depths: {e}"))?;
    }
    for &d in depths {
        check_batch(d, n)?;
    }
    let exe = std::env::current_exe().map_err(|e| format!("bench train: {e}"))?;
    println!(
        "training-step bench: CIFAR ResNets (option A), batch {n}, 3x32x32 random input; forward, \
         cross-entropy, backward, SGD (momentum 0.9, wd 1e-4); {} threads; median of {steps} steps after a warm-up; \
         one process per net",
        rayon::current_num_threads()
    );
    println!(
        "{:<11} {:>10} {:>12} {:>10} {:>12} {:>14}",
        "model", "train ms", "train img/s", "infer ms", "infer img/s", "peak RSS MiB"
    );
    let mut lines = Vec::new();
    for &depth in depths {
        let out = std::process::Command::new(&exe)
            .args(["bench", "train", "--one", "--depths"])
            .arg(depth.to_string())
            .args(["--batch", &n.to_string(), "--steps", &steps.to_string()])
            .output()
            .map_err(|e| format!("bench train: could not start {}: {e}", exe.display()))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let line = stdout.lines().find(|l| l.starts_with('{'));
        let (true, Some(line)) = (out.status.success(), line) else {
            return Err(format!(
                "bench train: the process measuring resnet{depth} failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        };
        let num = |k| json_number(line, k).unwrap_or(f64::NAN);
        println!(
            "{:<11} {:>10.1} {:>12.1} {:>10.1} {:>12.1} {:>14.0}",
            format!("resnet{depth}"),
            num("step_ms_median"),
            num("img_s_median"),
            num("infer_ms_median"),
            num("infer_img_s_median"),
            num("peak_rss_mib")
        );
        lines.push(line.to_string());
    }
    if let Some(path) = json {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| format!("bench train --json {}: {e}", path.display()))?;
        for l in &lines {
            writeln!(f, "{l}")
                .map_err(|e| format!("bench train --json {}: {e}", path.display()))?;
        }
        println!("{} JSON lines appended to {}", lines.len(), path.display());
    }
    Ok(())
}
