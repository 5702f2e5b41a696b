//! The fused ops `batch_norm2d_relu`, `add_relu` and `batch_norm2d_add_relu`: each is its
//! ops to the bit (values and every gradient), records one node where they recorded two or
//! three, and a basic block built from them keeps four activations on the tape instead of
//! seven.

mod common;

use common::{away_from_zero, check, positive, uniform};
use resgrad::ndarray::{ArrayD, Axis};
use resgrad::nn::{BasicBlock, Mode, Module, ShortcutOption, rng};
use resgrad::{RunningStats, Tape, Var, randn};

/// The bits of `v`, to compare two computations exactly.
fn bits(v: &ArrayD<f32>) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

// ---- gradient checks, in f64 ----

/// The inputs of the batch-norm checks (gamma in [0.5, 1.5), beta small, so the relu cuts
/// part of every channel, not all or none of it), and the check that the relu's kink is
/// out of reach of the finite differences: every batch-norm output is at least 1e-3 from 0.
fn bn_inputs(training: bool) -> [ArrayD<f64>; 4] {
    let inputs = [
        uniform(&[3, 2, 3, 3], 41),
        positive(&[2], 0.5, 42),
        uniform(&[2], 43).mapv(|b| 0.2 * b),
        uniform(&[3, 2, 3, 3], 44),
    ];
    let tape = Tape::new_f64();
    let v: Vec<Var<f64>> = inputs.iter().map(|a| tape.var(a.clone())).collect();
    let pre = v[0].batch_norm2d(&v[1], &v[2], &eval_stats(), training);
    let nearest = pre.value().iter().fold(f64::MAX, |m, x| m.min(x.abs()));
    assert!(
        nearest > 1e-3,
        "a batch-norm output at {nearest} sits on the kink"
    );
    for c in 0..2 {
        let channel = pre.value().index_axis(Axis(1), c).to_owned();
        assert!(
            channel.iter().any(|&x| x < 0.0) && channel.iter().any(|&x| x > 0.0),
            "the relu must cut part of channel {c}, not all or none of it"
        );
    }
    inputs
}

/// [`bn_inputs`] with a shortcut `s` for `relu(BN(x) + s)` in place of the downstream
/// weights, checked like them: every sum at least 1e-3 from the kink, and the relu cutting
/// part of every channel.
fn bn_add_inputs(training: bool) -> [ArrayD<f64>; 4] {
    let [x, gamma, beta, _] = bn_inputs(training);
    let s = uniform(&[3, 2, 3, 3], 45).mapv(|v| 0.5 * v);
    let tape = Tape::new_f64();
    let v: Vec<Var<f64>> = [&x, &gamma, &beta, &s]
        .iter()
        .map(|a| tape.var((*a).clone()))
        .collect();
    let sum = &v[0].batch_norm2d(&v[1], &v[2], &eval_stats(), training) + &v[3];
    let nearest = sum.value().iter().fold(f64::MAX, |m, x| m.min(x.abs()));
    assert!(nearest > 1e-3, "a sum at {nearest} sits on the kink");
    for c in 0..2 {
        let channel = sum.value().index_axis(Axis(1), c).to_owned();
        assert!(
            channel.iter().any(|&x| x < 0.0) && channel.iter().any(|&x| x > 0.0),
            "the relu must cut part of channel {c}, not all or none of it"
        );
    }
    [x, gamma, beta, s]
}

/// Running statistics that are not the defaults, for eval mode.
fn eval_stats() -> RunningStats<f64> {
    let stats = RunningStats::new(2);
    stats
        .mean
        .set(ArrayD::from_shape_vec(vec![2], vec![0.2, -0.1]).unwrap());
    stats
        .var
        .set(ArrayD::from_shape_vec(vec![2], vec![0.5, 2.0]).unwrap());
    stats
}

#[test]
fn batch_norm2d_relu_in_training_mode_passes_gradcheck() {
    let inputs = bn_inputs(true);
    // Downstream weights, so that the batch-norm gradient does not vanish by symmetry.
    check(
        |v| (v[0].batch_norm2d_relu(&v[1], &v[2], &RunningStats::new(2), true) * &v[3]).sum(),
        &inputs,
    );
    // And the whole Jacobian, output element by output element.
    check(
        |v| v[0].batch_norm2d_relu(&v[1], &v[2], &RunningStats::new(2), true),
        &inputs[..3],
    );
}

#[test]
fn batch_norm2d_relu_in_eval_mode_passes_gradcheck() {
    let inputs = bn_inputs(false);
    check(
        |v| v[0].batch_norm2d_relu(&v[1], &v[2], &eval_stats(), false),
        &inputs[..3],
    );
}

#[test]
fn batch_norm2d_add_relu_passes_gradcheck_in_both_modes() {
    for training in [true, false] {
        let inputs = bn_add_inputs(training);
        let stats = || {
            if training {
                RunningStats::new(2)
            } else {
                eval_stats()
            }
        };
        // The whole Jacobian, for x, gamma, beta and the shortcut.
        check(
            |v| v[0].batch_norm2d_add_relu(&v[1], &v[2], &stats(), training, &v[3]),
            &inputs,
        );
    }
}

#[test]
fn batch_norm2d_add_relu_refuses_a_shortcut_of_another_shape() {
    let tape = Tape::new();
    let x = tape.var(randn::<f32>(&[2, 3, 4, 4], 1));
    let (g, b) = (
        tape.var(randn::<f32>(&[3], 2)),
        tape.var(randn::<f32>(&[3], 3)),
    );
    let s = tape.var(randn::<f32>(&[2, 3, 2, 2], 4));
    let err = x
        .try_batch_norm2d_add_relu(&g, &b, &RunningStats::new(3), true, &s)
        .unwrap_err()
        .to_string();
    assert!(err.contains("batch_norm2d_add_relu"), "{err}");
    assert!(
        err.contains("[2, 3, 2, 2]") && err.contains("shape"),
        "{err}"
    );
}

#[test]
fn add_relu_with_broadcasting_passes_gradcheck() {
    // b's magnitudes are at least 1.2 and a's below 1, so |a + b| > 0.2: off the kink, and
    // b's signs make the relu cut about half the sums.
    for (i, (a, b)) in [
        (&[2, 3][..], &[2, 3][..]),
        (&[2, 3], &[3]),
        (&[3], &[2, 3]),
        (&[4, 1, 3], &[2, 1]),
    ]
    .into_iter()
    .enumerate()
    {
        let seed = i as u64;
        check(
            |v| v[0].add_relu(&v[1]),
            &[uniform(a, 50 + seed), away_from_zero(b, 1.2, 60 + seed)],
        );
    }
}

// ---- each fused op is its pair, to the bit ----

#[test]
fn batch_norm2d_relu_is_batch_norm_then_relu_to_the_bit() {
    for training in [true, false] {
        let x: ArrayD<f32> = randn(&[4, 3, 5, 5], 1);
        let gamma: ArrayD<f32> = randn(&[3], 2);
        let beta: ArrayD<f32> = randn(&[3], 3);
        let weights: ArrayD<f32> = randn(&[4, 3, 5, 5], 4);
        let run = |fused: bool| {
            let tape = Tape::new();
            let (xv, g, b) = (
                tape.var(x.clone()),
                tape.var(gamma.clone()),
                tape.var(beta.clone()),
            );
            let stats = RunningStats::new(3);
            let y = if fused {
                xv.batch_norm2d_relu(&g, &b, &stats, training)
            } else {
                xv.batch_norm2d(&g, &b, &stats, training).relu()
            };
            let grads = (&y * &tape.constant(weights.clone())).sum().backward();
            (
                [y.value(), &grads[&xv], &grads[&g], &grads[&b]].map(bits),
                bits(&stats.var.value()),
                tape.len(),
            )
        };
        let (fused, pair) = (run(true), run(false));
        assert!(fused.0[0].contains(&0), "some outputs are cut");
        assert_eq!(
            fused.0, pair.0,
            "values and gradients (training {training})"
        );
        assert_eq!(fused.1, pair.1, "running variance (training {training})");
        assert_eq!(fused.2 + 1, pair.2, "one node fewer");
    }
}

#[test]
fn batch_norm2d_add_relu_is_batch_norm_add_relu_to_the_bit() {
    for training in [true, false] {
        let x: ArrayD<f32> = randn(&[4, 3, 5, 5], 1);
        let gamma: ArrayD<f32> = randn(&[3], 2);
        let beta: ArrayD<f32> = randn(&[3], 3);
        let shortcut: ArrayD<f32> = randn(&[4, 3, 5, 5], 8);
        let weights: ArrayD<f32> = randn(&[4, 3, 5, 5], 4);
        let run = |fused: bool| {
            let tape = Tape::new();
            let [xv, g, b, s] = [&x, &gamma, &beta, &shortcut].map(|a| tape.var(a.clone()));
            let stats = RunningStats::new(3);
            let y = if fused {
                xv.batch_norm2d_add_relu(&g, &b, &stats, training, &s)
            } else {
                (&xv.batch_norm2d(&g, &b, &stats, training) + &s).relu()
            };
            let grads = (&y * &tape.constant(weights.clone())).sum().backward();
            (
                [y.value(), &grads[&xv], &grads[&g], &grads[&b], &grads[&s]].map(bits),
                bits(&stats.var.value()),
                tape.len(),
            )
        };
        let (fused, three) = (run(true), run(false));
        assert!(fused.0[0].contains(&0), "some outputs are cut");
        assert_eq!(
            fused.0, three.0,
            "values and gradients (training {training})"
        );
        assert_eq!(fused.1, three.1, "running variance (training {training})");
        assert_eq!(fused.2 + 2, three.2, "two nodes fewer");
    }
}

#[test]
fn add_relu_is_add_then_relu_to_the_bit() {
    let a: ArrayD<f32> = randn(&[4, 3, 5, 5], 5);
    let b: ArrayD<f32> = randn(&[3, 1, 1], 6);
    let weights: ArrayD<f32> = randn(&[4, 3, 5, 5], 7);
    let run = |fused: bool| {
        let tape = Tape::new();
        let (av, bv) = (tape.var(a.clone()), tape.var(b.clone()));
        let y = if fused {
            av.add_relu(&bv)
        } else {
            (&av + &bv).relu()
        };
        let grads = (&y * &tape.constant(weights.clone())).sum().backward();
        ([y.value(), &grads[&av], &grads[&bv]].map(bits), tape.len())
    };
    let (fused, pair) = (run(true), run(false));
    assert_eq!(fused.0, pair.0, "values and gradients");
    assert_eq!(fused.1 + 1, pair.1, "one node fewer");
}

/// The basic block written out with the unfused ops, on the block's own layers.
fn basic_block_by_hand(b: &BasicBlock, x: &Var, mode: Mode) -> Var {
    let h = b.bn1.forward(&b.conv1.forward(x, mode), mode).relu();
    let f = b.bn2.forward(&b.conv2.forward(&h, mode), mode);
    (&f + &b.shortcut.apply(x, mode).unwrap()).relu()
}

#[test]
fn a_basic_block_is_its_unfused_composition_to_the_bit() {
    for (option, cout, stride) in [
        (ShortcutOption::A, 4, 1),
        (ShortcutOption::A, 8, 2),
        (ShortcutOption::B, 8, 2),
    ] {
        let x: ArrayD<f32> = randn(&[3, 4, 6, 6], 7);
        let weights: ArrayD<f32> = randn(&[3, cout, 6 / stride, 6 / stride], 11);
        let run = |fused: bool| {
            // The same seed twice: two blocks with the same weights and fresh statistics.
            let block = BasicBlock::<f32>::new(4, cout, stride, option, &mut rng(8));
            let tape = Tape::new();
            let xv = tape.var(x.clone());
            let y = if fused {
                block.forward(&xv, Mode::Train)
            } else {
                basic_block_by_hand(&block, &xv, Mode::Train)
            };
            let grads = (&y * &tape.constant(weights.clone())).sum().backward();
            let mut out = vec![bits(y.value()), bits(&grads[&xv])];
            out.extend(block.parameters().iter().map(|p| bits(&grads[p])));
            out
        };
        assert_eq!(run(true), run(false), "option {option}, stride {stride}");
    }
}

// ---- what the tape keeps ----

/// What a block's `forward` adds to the tape, parameters aside: the ops of the nodes it
/// records, and the bytes of their values in units of the block's output size.
fn activations_kept(forward: impl Fn(&Var) -> Var, x: &ArrayD<f32>) -> (Vec<String>, f64) {
    let tape = Tape::new();
    let xv = tape.constant(x.clone());
    let first = tape.len();
    let y = forward(&xv);
    let nodes = &tape.nodes()[first..];
    let kept: Vec<_> = nodes.iter().filter(|n| n.op.name() != "param").collect();
    let bytes: usize = kept.iter().map(|n| n.value.len() * 4).sum();
    let names = kept.iter().map(|n| n.op.name().to_string()).collect();
    (names, bytes as f64 / (y.len() * 4) as f64)
}

#[test]
fn a_basic_block_keeps_four_activations_not_seven() {
    let block = BasicBlock::<f32>::new(16, 16, 1, ShortcutOption::A, &mut rng(9));
    let x: ArrayD<f32> = randn(&[2, 16, 8, 8], 10);
    let (ops, activations) = activations_kept(|x| block.forward(x, Mode::Train), &x);
    // conv1, relu(bn1), conv2, relu(bn2 + x): bn1's and bn2's outputs and the sum are
    // never nodes.
    assert_eq!(
        ops,
        [
            "conv2d",
            "batch_norm2d_relu",
            "conv2d",
            "batch_norm2d_add_relu"
        ]
    );
    assert_eq!(activations, 4.0);

    // Negative control: the unfused composition of the same block keeps seven.
    let (ops, activations) = activations_kept(|x| basic_block_by_hand(&block, x, Mode::Train), &x);
    assert_eq!(
        ops,
        [
            "conv2d",
            "batch_norm2d",
            "relu",
            "conv2d",
            "batch_norm2d",
            "add",
            "relu"
        ]
    );
    assert_eq!(activations, 7.0);
}
