//! Gradient checks for the CNN ops: conv2d, batch_norm2d, pooling, the option-A shortcut.
//! In f64, so they run the fast convolutions and the reference batch norm and pooling;
//! `kernels_fast_vs_reference.rs` ties the fast loops to the reference ones in both types,
//! and the last tests here tie the f32 tape ops to the f64 ones.

mod common;

use common::{check, uniform};
use resgrad::ndarray::{ArrayD, IxDyn};
use resgrad::{RunningStats, Tape};

/// (input shape, weight shape, stride, padding, with bias)
type ConvCase = ([usize; 4], [usize; 4], usize, usize, bool);

const CONV_CASES: &[ConvCase] = &[
    ([2, 3, 5, 5], [4, 3, 3, 3], 1, 1, true), // 3x3, same padding
    ([2, 2, 6, 6], [3, 2, 3, 3], 2, 1, false), // stride 2
    ([1, 2, 5, 7], [2, 2, 3, 3], 1, 0, true), // no padding, odd and unequal sides
    ([1, 2, 4, 4], [2, 2, 3, 3], 1, 3, false), // padding 3, wider than the kernel's reach
    ([2, 4, 3, 3], [3, 4, 1, 1], 1, 0, true), // 1x1: a matmul over channels
    ([1, 3, 6, 6], [4, 3, 1, 1], 2, 0, false), // 1x1 stride 2: the projection shortcut
    ([1, 2, 9, 9], [2, 2, 7, 7], 2, 3, false), // 7x7 stride 2 padding 3: the ImageNet stem
    ([1, 1, 7, 5], [2, 1, 2, 2], 3, 1, true), // even kernel, stride larger than it
];

#[test]
fn conv2d_every_kind_of_geometry() {
    for (i, &(xs, ws, stride, pad, bias)) in CONV_CASES.iter().enumerate() {
        let seed = 10 * i as u64;
        let mut inputs = vec![uniform(&xs, seed), uniform(&ws, seed + 1)];
        if bias {
            inputs.push(uniform(&[ws[0]], seed + 2));
        }
        check(|v| v[0].conv2d(&v[1], v.get(2), stride, pad), &inputs);
    }
}

#[test]
fn batch_norm2d_in_training_mode_with_the_full_backward() {
    // Downstream weights make the loss depend on each output differently; with a plain
    // sum the batch-norm gradient would vanish identically and test nothing.
    let inputs = [
        uniform(&[3, 2, 3, 3], 1),
        uniform(&[2], 2),
        uniform(&[2], 3),
        uniform(&[3, 2, 3, 3], 4),
    ];
    check(
        |v| {
            let stats = RunningStats::new(2);
            (v[0].batch_norm2d(&v[1], &v[2], &stats, true) * &v[3]).sum()
        },
        &inputs,
    );
    // And the whole Jacobian, output element by output element.
    check(
        |v| v[0].batch_norm2d(&v[1], &v[2], &RunningStats::new(2), true),
        &inputs[..3],
    );
}

#[test]
fn batch_norm2d_in_eval_mode_uses_the_running_statistics() {
    let inputs = [
        uniform(&[2, 3, 2, 2], 5),
        uniform(&[3], 6),
        uniform(&[3], 7),
    ];
    check(
        |v| {
            let stats = RunningStats::new(3);
            stats.mean.set(ndarray_1d(&[0.2, -0.1, 0.5]));
            stats.var.set(ndarray_1d(&[0.5, 2.0, 1.5]));
            v[0].batch_norm2d(&v[1], &v[2], &stats, false)
        },
        &inputs,
    );
}

#[test]
fn batch_norm_on_a_2d_input() {
    check(
        |v| {
            v[0].batch_norm2d(&v[1], &v[2], &RunningStats::new(3), true)
                .tanh()
        },
        &[uniform(&[5, 3], 8), uniform(&[3], 9), uniform(&[3], 10)],
    );
}

#[test]
fn max_and_average_pooling() {
    let x = [uniform(&[2, 2, 5, 5], 11)];
    for (k, stride, pad) in [(2, 2, 0), (3, 2, 1), (3, 1, 1), (2, 1, 0)] {
        check(|v| v[0].max_pool2d(k, stride, pad), &x);
        check(|v| v[0].avg_pool2d(k, stride, pad), &x);
    }
}

#[test]
fn global_average_pooling() {
    check(|v| v[0].global_avg_pool(), &[uniform(&[2, 3, 4, 5], 12)]);
}

#[test]
fn the_option_a_shortcut() {
    check(|v| v[0].zero_pad_shortcut(4), &[uniform(&[2, 2, 4, 4], 13)]);
    check(|v| v[0].zero_pad_shortcut(5), &[uniform(&[1, 2, 5, 5], 14)]);
    check(|v| v[0].zero_pad_shortcut(3), &[uniform(&[1, 3, 3, 2], 15)]);
}

fn ndarray_1d(v: &[f64]) -> ArrayD<f64> {
    ArrayD::from_shape_vec(IxDyn(&[v.len()]), v.to_vec()).unwrap()
}

// ---- the f32 tape runs the fast kernels; they must agree with the f64 tape ----

fn to_f32(a: &ArrayD<f64>) -> ArrayD<f32> {
    a.mapv(|v| v as f32)
}

#[test]
fn the_f32_conv_on_the_tape_matches_the_f64_one() {
    for (i, &(xs, ws, stride, pad, bias)) in CONV_CASES.iter().enumerate() {
        let (x, w, b) = (
            uniform(&xs, 100 + i as u64),
            uniform(&ws, 200 + i as u64),
            uniform(&[ws[0]], 300),
        );
        let t64 = Tape::new_f64();
        let (x64, w64, b64) = (t64.var(x.clone()), t64.var(w.clone()), t64.var(b.clone()));
        let y64 = x64.conv2d(&w64, bias.then_some(&b64), stride, pad);
        let seed = uniform(y64.shape(), 400 + i as u64);
        let g64 = y64.backward_with(seed.clone());

        let t32 = Tape::new();
        let (x32, w32, b32) = (
            t32.var(to_f32(&x)),
            t32.var(to_f32(&w)),
            t32.var(to_f32(&b)),
        );
        let y32 = x32.conv2d(&w32, bias.then_some(&b32), stride, pad);
        let g32 = y32.backward_with(to_f32(&seed));

        let close = |a: &ArrayD<f32>, b: &ArrayD<f64>, what: &str| {
            let scale = b.iter().fold(1e-6f64, |m, v| m.max(v.abs()));
            for (p, q) in a.iter().zip(b.iter()) {
                assert!(
                    (*p as f64 - q).abs() <= 1e-4 * scale,
                    "case {i} {what}: {p} vs {q}"
                );
            }
        };
        close(y32.value(), y64.value(), "forward");
        close(&g32[&x32], &g64[&x64], "d input");
        close(&g32[&w32], &g64[&w64], "d weight");
        if bias {
            close(&g32[&b32], &g64[&b64], "d bias");
        }
    }
}

// ---- bad shapes get errors that name the op and the shapes ----

#[test]
fn a_channel_mismatch_is_named() {
    let tape = Tape::new();
    let x = tape.var(ArrayD::<f32>::zeros(IxDyn(&[2, 3, 8, 8])));
    let w = tape.var(ArrayD::<f32>::zeros(IxDyn(&[16, 16, 3, 3])));
    let msg = x.try_conv2d(&w, None, 1, 1).unwrap_err().to_string();
    for part in [
        "conv2d",
        "3 channels",
        "expects 16",
        "[2, 3, 8, 8] and [16, 16, 3, 3]",
    ] {
        assert!(msg.contains(part), "missing `{part}` in: {msg}");
    }
}

#[test]
fn a_kernel_larger_than_the_padded_input_is_named() {
    let tape = Tape::new();
    let x = tape.var(ArrayD::<f32>::zeros(IxDyn(&[1, 1, 4, 4])));
    let w = tape.var(ArrayD::<f32>::zeros(IxDyn(&[1, 1, 7, 7])));
    let msg = x.try_conv2d(&w, None, 1, 1).unwrap_err().to_string();
    for part in [
        "conv2d",
        "7x7 kernel",
        "6x6",
        "[1, 1, 4, 4] and [1, 1, 7, 7]",
    ] {
        assert!(msg.contains(part), "missing `{part}` in: {msg}");
    }
    let msg = x.try_max_pool2d(5, 1, 0).unwrap_err().to_string();
    assert!(
        msg.contains("max_pool2d") && msg.contains("5x5 window") && msg.contains("[1, 1, 4, 4]"),
        "{msg}"
    );
}

#[test]
fn other_bad_cnn_inputs_are_named() {
    let tape = Tape::new();
    let x = tape.var(ArrayD::<f32>::zeros(IxDyn(&[2, 3, 4, 4])));
    let flat = tape.var(ArrayD::<f32>::zeros(IxDyn(&[2, 3])));
    let g4 = tape.var(ArrayD::<f32>::ones(IxDyn(&[4])));
    let w = tape.var(ArrayD::<f32>::zeros(IxDyn(&[5, 3, 3, 3])));
    let b = tape.var(ArrayD::<f32>::zeros(IxDyn(&[4])));
    let stats = RunningStats::new(3);
    let cases = [
        ("conv2d", flat.try_conv2d(&w, None, 1, 1)),
        ("conv2d", x.try_conv2d(&w, Some(&b), 1, 1)),
        ("conv2d", x.try_conv2d(&w, None, 0, 1)),
        ("batch_norm2d", x.try_batch_norm2d(&g4, &g4, &stats, true)),
        ("avg_pool2d", flat.try_avg_pool2d(2, 2, 0)),
        ("max_pool2d", x.try_max_pool2d(2, 2, 2)),
        ("global_avg_pool", flat.try_global_avg_pool()),
        ("zero_pad_shortcut", x.try_zero_pad_shortcut(2)),
    ];
    for (op, r) in cases {
        let msg = r.unwrap_err().to_string();
        assert!(
            msg.starts_with(op) && msg.contains("tests/gradcheck_cnn.rs"),
            "{op}: {msg}"
        );
    }
}

#[test]
fn batch_norm_updates_its_running_statistics_as_pytorch_does() {
    let tape = Tape::new_f64();
    // One channel, values 1..=4: mean 2.5, biased var 1.25, unbiased var 5/3.
    let x =
        tape.var(ArrayD::from_shape_vec(IxDyn(&[2, 1, 1, 2]), vec![1.0, 2.0, 3.0, 4.0]).unwrap());
    let (gamma, beta) = (tape.var(ndarray_1d(&[1.0])), tape.var(ndarray_1d(&[0.0])));
    let stats = RunningStats::new(1);
    let y = x.batch_norm2d(&gamma, &beta, &stats, true);
    assert!((stats.mean.value()[0] - 0.25).abs() < 1e-12);
    assert!((stats.var.value()[0] - (0.9 + 0.1 * 5.0 / 3.0)).abs() < 1e-12);
    let expected = (1.0 - 2.5) / (1.25f64 + 1e-5).sqrt();
    assert!((y.value()[[0, 0, 0, 0]] - expected).abs() < 1e-12);
    // Eval mode reads the running statistics and changes nothing.
    let before = stats.mean.value();
    let z = x.batch_norm2d(&gamma, &beta, &stats, false);
    assert_eq!(stats.mean.value(), before);
    let v = stats.var.value()[0];
    assert!((z.value()[[0, 0, 0, 0]] - (1.0 - 0.25) / (v + 1e-5).sqrt()).abs() < 1e-12);
}
