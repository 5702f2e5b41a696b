//! Property tests: every fast kernel equals its reference on random shapes, forward and
//! backward. Tolerance: relative to the largest magnitude in the output, so that values
//! near zero do not fail on summation order alone: 1e-4 in `f32`, 1e-12 in `f64` (the fast
//! convolutions run in both; `f64` is what gradient checks use).

use proptest::prelude::*;
use resgrad::Float;
use resgrad::kernels::fast::gemm::Element;
use resgrad::kernels::fast::gemm::{self, Isa, MatRef};
use resgrad::kernels::{Conv2dGeom, fast, reference};

/// The shapes `resgrad bench conv` times (the binary's own file, included by path).
#[allow(dead_code)]
#[path = "../src/bin/resgrad/workloads.rs"]
mod workloads;

fn values(n: usize, seed: u64) -> Vec<f32> {
    values_in(n, seed)
}

/// Uniform in [-1, 1), 24 bits each: the same numbers in `f32` and `f64`.
fn values_in<T: Float>(n: usize, seed: u64) -> Vec<T> {
    let mut s = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            T::cast(((s >> 40) as f64 / (1u64 << 24) as f64) * 2.0 - 1.0)
        })
        .collect()
}

/// How far a fast conv may be from its reference, relative to the output's largest
/// magnitude: summation order and FMA rounding only.
const F32_TOLERANCE: f64 = 1e-4;
const F64_TOLERANCE: f64 = 1e-12;

fn assert_close<T: Float>(
    what: &str,
    g: &Conv2dGeom,
    fast: &[T],
    reference: &[T],
    tolerance: f64,
) -> Result<(), TestCaseError> {
    let scale = reference
        .iter()
        .fold(T::zero(), |m, v| m.max(v.abs()))
        .max(T::cast(1e-6));
    for (i, (&a, &b)) in fast.iter().zip(reference).enumerate() {
        prop_assert!(
            (a - b).abs() <= T::cast(tolerance) * scale,
            "{what} ({}) differs at {i}: fast {a} vs reference {b} (scale {scale}) for {g:?}",
            T::NAME
        );
    }
    Ok(())
}

/// A valid conv geometry: small, with kernels 1..7, strides 1..3 and padding 0..3.
fn geometry() -> impl Strategy<Value = Conv2dGeom> {
    (
        1usize..4,
        1usize..20,
        1usize..40,
        1usize..12,
        1usize..12,
        prop::sample::select(vec![1usize, 2, 3, 5, 7]),
        1usize..4,
        0usize..4,
    )
        .prop_filter_map(
            "the kernel must fit the padded input",
            |(n, cin, cout, h, w, k, s, p)| {
                Conv2dGeom::new(&[n, cin, h, w], &[cout, cin, k, k], s, p.min(k)).ok()
            },
        )
}

/// Stride-1 "same" convs (`padding = (k - 1) / 2`), which im2col copies as shifted planes.
fn same_geometry() -> impl Strategy<Value = Conv2dGeom> {
    (
        1usize..3,
        1usize..6,
        1usize..6,
        1usize..12,
        1usize..12,
        prop::sample::select(vec![3usize, 5, 7]),
    )
        .prop_filter_map(
            "the kernel must fit the padded input",
            |(n, cin, cout, h, w, k)| {
                Conv2dGeom::new(&[n, cin, h, w], &[cout, cin, k, k], 1, (k - 1) / 2).ok()
            },
        )
}

fn check_all(g: Conv2dGeom, seed: u64, with_bias: bool) -> Result<(), TestCaseError> {
    check_all_in::<f32>(g, seed, with_bias, F32_TOLERANCE)
}

fn check_all_in<T: Element>(
    g: Conv2dGeom,
    seed: u64,
    with_bias: bool,
    tolerance: f64,
) -> Result<(), TestCaseError> {
    let x = values_in::<T>(g.n * g.cin * g.h * g.w, seed);
    let w = values_in::<T>(g.cout * g.cin * g.kh * g.kw, seed + 1);
    let b = values_in::<T>(g.cout, seed + 2);
    let dy = values_in::<T>(g.n * g.cout * g.ho * g.wo, seed + 3);
    let bias = with_bias.then_some(b.as_slice());
    let zeros = |n| vec![T::zero(); n];
    let sevens = |n| vec![T::cast(7.0); n];

    let (mut y_fast, mut y_ref) = (zeros(dy.len()), zeros(dy.len()));
    fast::conv2d_forward(&x, &w, bias, &g, &mut y_fast);
    reference::conv2d_forward(&x, &w, bias, &g, &mut y_ref);
    assert_close("forward", &g, &y_fast, &y_ref, tolerance)?;

    let (mut dx_fast, mut dx_ref) = (sevens(x.len()), zeros(x.len()));
    fast::conv2d_backward_input(&dy, &w, &g, &mut dx_fast);
    reference::conv2d_backward_input(&dy, &w, &g, &mut dx_ref);
    assert_close("backward to the input", &g, &dx_fast, &dx_ref, tolerance)?;

    let (mut dw_fast, mut dw_ref) = (sevens(w.len()), zeros(w.len()));
    fast::conv2d_backward_weight(&x, &dy, &g, &mut dw_fast);
    reference::conv2d_backward_weight(&x, &dy, &g, &mut dw_ref);
    assert_close("backward to the weight", &g, &dw_fast, &dw_ref, tolerance)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn same_padding_conv2d_fast_equals_reference(g in same_geometry(), seed in 0u64..1_000_000, with_bias in any::<bool>()) {
        check_all(g, seed, with_bias)?;
    }

    #[test]
    fn conv2d_fast_equals_reference(g in geometry(), seed in 0u64..1_000_000, with_bias in any::<bool>()) {
        check_all(g, seed, with_bias)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn same_padding_conv2d_fast_equals_reference_in_f64(g in same_geometry(), seed in 0u64..1_000_000, with_bias in any::<bool>()) {
        check_all_in::<f64>(g, seed, with_bias, F64_TOLERANCE)?;
    }

    #[test]
    fn conv2d_fast_equals_reference_in_f64(g in geometry(), seed in 0u64..1_000_000, with_bias in any::<bool>()) {
        check_all_in::<f64>(g, seed, with_bias, F64_TOLERANCE)?;
    }
}

#[test]
fn the_benchmark_shapes_agree_too() {
    benchmark_shapes_agree::<f32>(F32_TOLERANCE);
}

#[test]
fn the_benchmark_shapes_agree_in_f64_too() {
    benchmark_shapes_agree::<f64>(F64_TOLERANCE);
}

fn benchmark_shapes_agree<T: Element>(tolerance: f64) {
    // The shapes `resgrad bench conv` times, on a batch of 2, so that the blocked paths
    // (several KC and MC blocks) are exercised, not only the small-shape edges.
    let zeros = |n| vec![T::zero(); n];
    for (cin, cout, hw, k) in workloads::CONV_SHAPES {
        let g = Conv2dGeom::new(&[2, cin, hw, hw], &[cout, cin, k, k], 1, k / 2).unwrap();
        let x = values_in::<T>(2 * cin * hw * hw, 1);
        let w = values_in::<T>(cout * cin * k * k, 2);
        let dy = values_in::<T>(2 * cout * hw * hw, 3);
        let (mut a, mut b) = (zeros(dy.len()), zeros(dy.len()));
        fast::conv2d_forward(&x, &w, None, &g, &mut a);
        reference::conv2d_forward(&x, &w, None, &g, &mut b);
        assert_close("forward", &g, &a, &b, tolerance).unwrap();
        let (mut a, mut b) = (zeros(x.len()), zeros(x.len()));
        fast::conv2d_backward_input(&dy, &w, &g, &mut a);
        reference::conv2d_backward_input(&dy, &w, &g, &mut b);
        assert_close("backward to the input", &g, &a, &b, tolerance).unwrap();
        let (mut a, mut b) = (zeros(w.len()), zeros(w.len()));
        fast::conv2d_backward_weight(&x, &dy, &g, &mut a);
        reference::conv2d_backward_weight(&x, &dy, &g, &mut b);
        assert_close("backward to the weight", &g, &a, &b, tolerance).unwrap();
    }
}

// ---- the GEMM under the conv kernels, with every microkernel this CPU has ----

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// The conv tests above run the kernel `Isa::detect` picks; this one runs each kernel
    /// this CPU has (on x86-64 up to AVX-512, on aarch64 NEON), through both doors the conv
    /// kernels use: `sgemm_with`, which packs A as it goes, and `sgemm_packed` with an A
    /// packed once by `PackedA::with`. K up to 800 crosses the K blocking, M and N are
    /// rarely whole tiles, and C's rows are wider than N, so a kernel that writes past its
    /// tile changes numbers the triple loop leaves alone.
    #[test]
    fn every_gemm_kernel_equals_the_triple_loop(
        m in 1usize..40, n in 1usize..80, k in 1usize..800, pad in 0usize..4,
        transpose_b in any::<bool>(), accumulate in any::<bool>(), seed in 0u64..1_000_000,
    ) {
        let adata = values(m * k, seed);
        let bdata = values(k * n, seed + 1);
        let a = MatRef::row_major(&adata, m, k);
        let b = if transpose_b {
            MatRef::transposed(&bdata, n, k)
        } else {
            MatRef::row_major(&bdata, k, n)
        };
        let ldc = n + pad;
        let c0 = values(m * ldc, seed + 2);
        let mut want = c0.clone();
        gemm::sgemm_reference(&a, &b, &mut want, ldc, accumulate);
        for isa in Isa::available() {
            let mut c = c0.clone();
            gemm::sgemm_with(isa, &a, &b, &mut c, ldc, accumulate);
            close(&format!("sgemm_with({isa:?}) {m}x{n}x{k}"), &c, &want)?;
            let mut c = c0.clone();
            gemm::sgemm_packed(&gemm::PackedA::with(isa, &a), &b, &mut c, ldc, accumulate);
            close(&format!("sgemm_packed({isa:?}) {m}x{n}x{k}"), &c, &want)?;
        }
    }
}

/// On aarch64 (natively or under qemu, see `scripts/check`) the conv tests above must have
/// run the NEON microkernel: if detection failed, the portable kernel would stand in for it
/// and pass them all. `RESGRAD_ISA=portable` makes this test fail, as it should.
#[cfg(target_arch = "aarch64")]
#[test]
fn on_aarch64_the_fast_kernels_run_on_neon() {
    assert_eq!(
        Isa::detect(),
        Isa::Neon,
        "the fast kernels run on {:?}, not NEON (available: {:?}; RESGRAD_ISA={:?})",
        Isa::detect(),
        Isa::available(),
        std::env::var("RESGRAD_ISA").ok()
    );
}

// ---- batch norm and pooling ----

#[track_caller]
fn close(what: &str, fast: &[f32], reference: &[f32]) -> Result<(), TestCaseError> {
    close_at(what, fast, reference, 0.0)
}

/// Like `close`, with a floor on the scale: where the exact answer is ~0 by cancellation
/// (batch norm's dx on two values per channel), the size of the terms that cancelled.
#[track_caller]
fn close_at(what: &str, fast: &[f32], reference: &[f32], floor: f32) -> Result<(), TestCaseError> {
    let scale = reference
        .iter()
        .fold(floor, |m, v| m.max(v.abs()))
        .max(1e-6);
    for (i, (a, b)) in fast.iter().zip(reference).enumerate() {
        prop_assert!(
            (a - b).abs() <= 1e-4 * scale,
            "{what} differs at {i}: fast {a} vs reference {b}"
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn batch_norm_fast_equals_reference(
        n in 1usize..5, c in 1usize..6, plane in 1usize..70, training in any::<bool>(), seed in 0u64..1_000_000,
    ) {
        prop_assume!(n * plane > 1);
        let x = values(n * c * plane, seed).iter().map(|v| 3.0 * v + 1.0).collect::<Vec<_>>();
        let dy = values(n * c * plane, seed + 1);
        let gamma = values(c, seed + 2);
        let beta = values(c, seed + 3);
        let (mf, vf) = fast::channel_stats(&x, n, c, plane);
        let (mr, vr) = reference::channel_stats(&x, n, c, plane);
        close("mean", &mf, &mr)?;
        close("variance", &vf, &vr)?;
        let inv_std: Vec<f32> = vr.iter().map(|v| 1.0 / (v + 1e-5).sqrt()).collect();
        batch_norm_agrees(&x, &dy, (n, c, plane), &mr, &inv_std, (&gamma, &beta), training)?;
    }

    #[test]
    fn pooling_fast_equals_reference(
        planes in 1usize..6, h in 1usize..10, w in 1usize..10, k in 1usize..4, stride in 1usize..3, pad in 0usize..2,
        seed in 0u64..1_000_000,
    ) {
        prop_assume!(2 * pad <= k && k <= h + 2 * pad && k <= w + 2 * pad);
        let g = reference::PoolGeom { planes, h, w, k, stride, pad, ho: (h + 2 * pad - k) / stride + 1, wo: (w + 2 * pad - k) / stride + 1 };
        let x = values(planes * h * w, seed);
        let dy = values(planes * g.ho * g.wo, seed + 1);
        let (mut yf, mut yr) = (vec![0.0; dy.len()], vec![0.0; dy.len()]);
        let af = fast::max_pool2d_forward(&x, &g, &mut yf);
        let ar = reference::max_pool2d_forward(&x, &g, &mut yr);
        prop_assert_eq!(&af, &ar);
        close("max forward", &yf, &yr)?;
        let (mut df, mut dr) = (vec![1.0; x.len()], vec![0.0; x.len()]);
        fast::max_pool2d_backward(&dy, &af, &g, &mut df);
        reference::max_pool2d_backward(&dy, &ar, &g, &mut dr);
        close("max backward", &df, &dr)?;
        fast::avg_pool2d_forward(&x, &g, &mut yf);
        reference::avg_pool2d_forward(&x, &g, &mut yr);
        close("avg forward", &yf, &yr)?;
        fast::avg_pool2d_backward(&dy, &g, &mut df);
        reference::avg_pool2d_backward(&dy, &g, &mut dr);
        close("avg backward", &df, &dr)?;
    }
}

/// The fast batch norm's forward and backward, plain and fused with a ReLU, against the
/// reference (the fused ones against the reference batch norm followed by relu's rules).
fn batch_norm_agrees(
    x: &[f32],
    dy: &[f32],
    (n, c, plane): (usize, usize, usize),
    mean: &[f32],
    inv_std: &[f32],
    (gamma, beta): (&[f32], &[f32]),
    training: bool,
) -> Result<(), TestCaseError> {
    let dims = (n, c, plane);
    let mut yr = vec![0.0; x.len()];
    reference::batch_norm_apply(x, dims, mean, inv_std, gamma, beta, &mut yr);
    close(
        "forward",
        &fast::batch_norm_apply(x, dims, mean, inv_std, gamma, beta, None),
        &yr,
    )?;
    let relu_r: Vec<f32> = yr.iter().map(|&v| if v > 0.0 { v } else { 0.0 }).collect();
    let relu_f = fast::batch_norm_apply(x, dims, mean, inv_std, gamma, beta, Some(None));
    close("forward with relu", &relu_f, &relu_r)?;
    // relu(BN(x) + s), with dy as the shortcut s.
    let add_r: Vec<f32> = yr
        .iter()
        .zip(dy)
        .map(|(&v, &s)| if v + s > 0.0 { v + s } else { 0.0 })
        .collect();
    let add_f = fast::batch_norm_apply(x, dims, mean, inv_std, gamma, beta, Some(Some(dy)));
    close("forward with add and relu", &add_f, &add_r)?;
    prop_assert!(
        relu_f.iter().all(|&v| v >= 0.0),
        "the fused relu left a negative value"
    );
    // dx = gamma inv_std / m (m dy - ...): its terms are as large as gamma inv_std dy.
    let terms = (0..x.len())
        .map(|i| (gamma[i / plane % c] * inv_std[i / plane % c] * dy[i]).abs())
        .fold(0.0, f32::max);
    let masked: Vec<f32> = dy
        .iter()
        .zip(&relu_r)
        .map(|(&d, &y)| if y > 0.0 { d } else { 0.0 })
        .collect();
    for (what, mask, dy_r) in [
        ("", None, dy),
        (" with relu", Some(&relu_r[..]), &masked[..]),
    ] {
        let f = fast::batch_norm_backward(x, dy, mask, dims, mean, inv_std, gamma, training);
        let r = reference::batch_norm_backward(x, dy_r, dims, mean, inv_std, gamma, training);
        close_at(&format!("dx{what}"), &f.0, &r.0, terms)?;
        // dgamma and dbeta are sums over a channel that can cancel to ~0: held to the size
        // of the terms they summed.
        let (mut sum_dy, mut sum_dy_xhat) = (0.0f32, 0.0f32);
        for ch in 0..c {
            let (mut a, mut b) = (0.0, 0.0);
            for i in (0..x.len()).filter(|i| i / plane % c == ch) {
                a += dy_r[i].abs();
                b += (dy_r[i] * (x[i] - mean[ch]) * inv_std[ch]).abs();
            }
            (sum_dy, sum_dy_xhat) = (sum_dy.max(a), sum_dy_xhat.max(b));
        }
        close_at(&format!("dgamma{what}"), &f.1, &r.1, sum_dy_xhat)?;
        close_at(&format!("dbeta{what}"), &f.2, &r.2, sum_dy)?;
        // The masked gradient it returns for a fused shortcut: relu's rule, exactly.
        prop_assert_eq!(f.3.as_deref(), mask.map(|_| dy_r), "masked dy{}", what);
    }
    Ok(())
}

#[test]
fn batch_norm_fast_equals_reference_on_tensors_split_over_threads() {
    // Larger than one task of the elementwise loops (and the [N, C] case of an MLP), so the
    // planes and channels are split over the pool.
    for (n, c, plane) in [(9, 5, 1000), (3, 7, 4099), (40_000, 3, 1)] {
        let x: Vec<f32> = values(n * c * plane, 5)
            .iter()
            .map(|v| 2.0 * v - 0.5)
            .collect();
        let dy = values(n * c * plane, 6);
        let (gamma, beta) = (values(c, 7), values(c, 8));
        let (mean, var) = reference::channel_stats(&x, n, c, plane);
        let (mf, vf) = fast::channel_stats(&x, n, c, plane);
        close("mean", &mf, &mean).unwrap();
        close("variance", &vf, &var).unwrap();
        let inv_std: Vec<f32> = var.iter().map(|v| 1.0 / (v + 1e-5).sqrt()).collect();
        for training in [true, false] {
            batch_norm_agrees(
                &x,
                &dy,
                (n, c, plane),
                &mean,
                &inv_std,
                (&gamma, &beta),
                training,
            )
            .unwrap();
        }
    }
}

// ---- determinism: the same inputs give the same bits, whatever the thread count ----

#[test]
fn the_fast_gradients_are_the_same_bits_on_1_2_and_3_threads() {
    // A batch of 13 does not divide evenly among threads or chunks.
    let g = Conv2dGeom::new(&[13, 8, 12, 12], &[8, 8, 3, 3], 1, 1).unwrap();
    let x = values(13 * 8 * 144, 1);
    let dy = values(13 * 8 * 144, 2);
    let mut results = Vec::new();
    for threads in [1, 2, 3] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let run = || {
            pool.install(|| {
                let mut dw = vec![0.0; 8 * 8 * 9];
                fast::conv2d_backward_weight(&x, &dy, &g, &mut dw);
                // Batch norm on a tensor larger than one task, so that it is split.
                let (xb, dyb) = (values(13 * 8 * 400, 3), values(13 * 8 * 400, 4));
                let (mean, var) = fast::channel_stats(&xb, 13, 8, 400);
                let inv: Vec<f32> = var.iter().map(|v| 1.0 / (v + 1e-5).sqrt()).collect();
                let dims = (13, 8, 400);
                let (dx, dgamma, dbeta, _) =
                    fast::batch_norm_backward(&xb, &dyb, None, dims, &mean, &inv, &[1.0; 8], true);
                let y = fast::batch_norm_apply(
                    &xb,
                    dims,
                    &mean,
                    &inv,
                    &[1.0; 8],
                    &[0.0; 8],
                    Some(None),
                );
                let fused = fast::batch_norm_backward(
                    &xb,
                    &dyb,
                    Some(&y),
                    dims,
                    &mean,
                    &inv,
                    &[1.0; 8],
                    true,
                );
                (dw, mean, var, dx, dgamma, dbeta, y, fused)
            })
        };
        let (a, b) = (run(), run());
        assert!(a == b, "{threads} threads: two runs differ");
        results.push(a);
    }
    assert!(
        results[0] == results[1],
        "1 and 2 threads give different bits"
    );
    assert!(
        results[0] == results[2],
        "1 and 3 threads give different bits"
    );
}

#[test]
fn the_f64_weight_gradient_is_the_same_bits_on_1_2_and_3_threads() {
    // What a gradient check of a whole net in f64 runs: its numbers must not depend on the
    // machine either.
    let g = Conv2dGeom::new(&[13, 8, 12, 12], &[8, 8, 3, 3], 1, 1).unwrap();
    let x = values_in::<f64>(13 * 8 * 144, 1);
    let dy = values_in::<f64>(13 * 8 * 144, 2);
    let dw_on = |threads| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let mut dw = vec![0.0f64; 8 * 8 * 9];
            fast::conv2d_backward_weight(&x, &dy, &g, &mut dw);
            dw.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        })
    };
    let one = dw_on(1);
    assert_eq!(one, dw_on(2), "1 and 2 threads give different bits");
    assert_eq!(one, dw_on(3), "1 and 3 threads give different bits");
}

#[test]
fn a_split_per_thread_would_not_be_the_same_bits() {
    // The negative control: summing the batch in two halves instead of eight runs changes
    // the last bits of dW, so the test above would catch a split that follows the threads.
    let g = Conv2dGeom::new(&[13, 8, 12, 12], &[8, 8, 3, 3], 1, 1).unwrap();
    let x = values(13 * 8 * 144, 1);
    let dy = values(13 * 8 * 144, 2);
    let mut whole = vec![0.0; 8 * 8 * 9];
    fast::conv2d_backward_weight(&x, &dy, &g, &mut whole);
    let half = |lo: usize, hi: usize| {
        let gh = Conv2dGeom::new(&[hi - lo, 8, 12, 12], &[8, 8, 3, 3], 1, 1).unwrap();
        let mut dw = vec![0.0; 8 * 8 * 9];
        fast::conv2d_backward_weight(
            &x[lo * 8 * 144..hi * 8 * 144],
            &dy[lo * 8 * 144..hi * 8 * 144],
            &gh,
            &mut dw,
        );
        dw
    };
    let (a, b) = (half(0, 7), half(7, 13));
    let two_halves: Vec<f32> = a.iter().zip(&b).map(|(p, q)| p + q).collect();
    assert!(
        two_halves != whole,
        "a different split gave the same bits; this test could not tell splits apart"
    );
}
