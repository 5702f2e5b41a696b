//! Property tests: every fast kernel equals its reference on random shapes, forward and
//! backward. Tolerance: 1e-4 relative to the largest magnitude in the output, so that
//! values near zero do not fail on summation order alone.

use proptest::prelude::*;
use resgrad::kernels::{Conv2dGeom, fast, reference};

fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

fn assert_close(
    what: &str,
    g: &Conv2dGeom,
    fast: &[f32],
    reference: &[f32],
) -> Result<(), TestCaseError> {
    let scale = reference
        .iter()
        .fold(0.0f32, |m, v| m.max(v.abs()))
        .max(1e-6);
    for (i, (a, b)) in fast.iter().zip(reference).enumerate() {
        prop_assert!(
            (a - b).abs() <= 1e-4 * scale,
            "{what} differs at {i}: fast {a} vs reference {b} (scale {scale}) for {g:?}"
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
    let x = values(g.n * g.cin * g.h * g.w, seed);
    let w = values(g.cout * g.cin * g.kh * g.kw, seed + 1);
    let b = values(g.cout, seed + 2);
    let dy = values(g.n * g.cout * g.ho * g.wo, seed + 3);
    let bias = with_bias.then_some(b.as_slice());

    let (mut y_fast, mut y_ref) = (vec![0.0; dy.len()], vec![0.0; dy.len()]);
    fast::conv2d_forward(&x, &w, bias, &g, &mut y_fast);
    reference::conv2d_forward(&x, &w, bias, &g, &mut y_ref);
    assert_close("forward", &g, &y_fast, &y_ref)?;

    let (mut dx_fast, mut dx_ref) = (vec![7.0; x.len()], vec![0.0; x.len()]);
    fast::conv2d_backward_input(&dy, &w, &g, &mut dx_fast);
    reference::conv2d_backward_input(&dy, &w, &g, &mut dx_ref);
    assert_close("backward to the input", &g, &dx_fast, &dx_ref)?;

    let (mut dw_fast, mut dw_ref) = (vec![7.0; w.len()], vec![0.0; w.len()]);
    fast::conv2d_backward_weight(&x, &dy, &g, &mut dw_fast);
    reference::conv2d_backward_weight(&x, &dy, &g, &mut dw_ref);
    assert_close("backward to the weight", &g, &dw_fast, &dw_ref)
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

#[test]
fn the_benchmark_shapes_agree_too() {
    // The shapes `resgrad bench conv` times, on a batch of 2, so that the blocked paths
    // (several KC and MC blocks) are exercised, not only the small-shape edges.
    for (cin, cout, hw, k) in resgrad::bench::CONV_SHAPES {
        let g = Conv2dGeom::new(&[2, cin, hw, hw], &[cout, cin, k, k], 1, k / 2).unwrap();
        let x = values(2 * cin * hw * hw, 1);
        let w = values(cout * cin * k * k, 2);
        let dy = values(2 * cout * hw * hw, 3);
        let (mut a, mut b) = (vec![0.0; dy.len()], vec![0.0; dy.len()]);
        fast::conv2d_forward(&x, &w, None, &g, &mut a);
        reference::conv2d_forward(&x, &w, None, &g, &mut b);
        assert_close("forward", &g, &a, &b).unwrap();
        let (mut a, mut b) = (vec![0.0; x.len()], vec![0.0; x.len()]);
        fast::conv2d_backward_input(&dy, &w, &g, &mut a);
        reference::conv2d_backward_input(&dy, &w, &g, &mut b);
        assert_close("backward to the input", &g, &a, &b).unwrap();
        let (mut a, mut b) = (vec![0.0; w.len()], vec![0.0; w.len()]);
        fast::conv2d_backward_weight(&x, &dy, &g, &mut a);
        reference::conv2d_backward_weight(&x, &dy, &g, &mut b);
        assert_close("backward to the weight", &g, &a, &b).unwrap();
    }
}
