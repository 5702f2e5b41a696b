//! Gradient checks of every block type on small inputs, in f64: through the input (the
//! whole backward chain of the block) and through every parameter.

mod common;

use common::uniform;
use resgrad::ndarray::ArrayD;
use resgrad::nn::{
    BasicBlock, Bottleneck, Init, MlpNorm, Mode, Module, PreActBlock, ResidualMlpBlock, Shortcut,
    ShortcutOption, StridePlacement, rng,
};
use resgrad::{Var, gradcheck, gradcheck_params};

/// Checks `block` at input `x`: d(output)/d(input), and d(weighted sum)/d(every parameter).
#[track_caller]
fn check_block(name: &str, block: &dyn Module<f64>, x: ArrayD<f64>) {
    let report = gradcheck(
        |v: &[Var<f64>]| block.forward(&v[0], Mode::Train),
        std::slice::from_ref(&x),
    );
    assert!(report.passed(), "{name}, gradient to the input:\n{report}");

    let params = block.parameters();
    assert!(!params.is_empty(), "{name} has parameters");
    let probe = {
        let t = resgrad::Tape::new_f64();
        t.set_recording(false);
        block
            .forward(&t.var(x.clone()), Mode::Train)
            .shape()
            .to_vec()
    };
    // A fixed random weighting of the outputs, so that no gradient cancels by symmetry.
    let weights = uniform(&probe, 99);
    let report = gradcheck_params(
        |tape| {
            (block.forward(&tape.constant(x.clone()), Mode::Train) * tape.constant(weights.clone()))
                .sum()
        },
        &params,
    );
    assert!(
        report.passed(),
        "{name}, gradients to the parameters:\n{report}"
    );
    assert_eq!(report.pairs.len(), params.len());
}

#[test]
fn basic_block_with_each_shortcut() {
    let x = uniform(&[2, 3, 4, 4], 1);
    for (option, cout, stride, expect) in [
        (ShortcutOption::A, 3, 1, "identity"),
        (ShortcutOption::A, 4, 2, "zero-pad"),
        (ShortcutOption::B, 4, 2, "projection"),
        (ShortcutOption::C, 3, 1, "projection"),
        (ShortcutOption::None, 4, 2, "none"),
    ] {
        let block = BasicBlock::<f64>::new(3, cout, stride, option, &mut rng(7));
        let kind = match block.shortcut {
            Shortcut::Identity => "identity",
            Shortcut::ZeroPad { .. } => "zero-pad",
            Shortcut::Projection(_) => "projection",
            Shortcut::None => "none",
        };
        assert_eq!(kind, expect, "{option:?}");
        check_block(
            &format!("BasicBlock {option:?} {expect}"),
            &block,
            x.clone(),
        );
    }
}

#[test]
fn basic_block_with_a_scaled_shortcut() {
    let mut block = BasicBlock::<f64>::new(3, 3, 1, ShortcutOption::A, &mut rng(8));
    block.shortcut_scale = 0.5;
    check_block("BasicBlock, lambda 0.5", &block, uniform(&[2, 3, 4, 4], 2));
}

#[test]
fn bottleneck_with_both_stride_placements() {
    let x = uniform(&[2, 4, 4, 4], 3);
    for placement in [StridePlacement::First1x1, StridePlacement::Conv3x3] {
        let block = Bottleneck::<f64>::new(4, 2, 2, ShortcutOption::B, placement, &mut rng(9));
        check_block(&format!("Bottleneck {placement:?}"), &block, x.clone());
    }
    let block = Bottleneck::<f64>::new(
        8,
        2,
        1,
        ShortcutOption::A,
        StridePlacement::First1x1,
        &mut rng(10),
    );
    // (Seed 4 put a pre-ReLU value at 4e-7, inside the finite-difference step: a kink, not a bug.)
    check_block("Bottleneck, identity", &block, uniform(&[2, 8, 3, 3], 14));
}

#[test]
fn pre_activation_block() {
    check_block(
        "PreAct, identity",
        &PreActBlock::<f64>::new(3, 3, 1, ShortcutOption::A, &mut rng(11)),
        uniform(&[2, 3, 4, 4], 5),
    );
    check_block(
        "PreAct, projection",
        &PreActBlock::<f64>::new(3, 4, 2, ShortcutOption::B, &mut rng(12)),
        uniform(&[2, 3, 4, 4], 6),
    );
}

#[test]
fn residual_mlp_block() {
    for norm in [MlpNorm::None, MlpNorm::Post, MlpNorm::Pre] {
        let mut block = ResidualMlpBlock::<f64>::new(5, norm, Init::HeNormal, &mut rng(13));
        block.branch_scale = 0.7;
        check_block(
            &format!("ResidualMlpBlock {norm:?}"),
            &block,
            uniform(&[6, 5], 7),
        );
    }
}

#[test]
fn the_shortcut_scale_multiplies_the_identity_path() {
    // y = relu(F(x) + lambda x): lambda 0 is the plain block, lambda 2 doubles the skip.
    let x = uniform(&[2, 3, 4, 4], 20);
    let tape = resgrad::Tape::new_f64();
    let xv = tape.constant(x.clone());
    let mut block = BasicBlock::<f64>::new(3, 3, 1, ShortcutOption::A, &mut rng(21));
    let f = block.branch(&xv, Mode::Train);
    for lambda in [0.0, 2.0] {
        block.shortcut_scale = lambda;
        let y = block.forward(&xv, Mode::Train);
        let want = (f.value() + &(x.clone() * lambda)).mapv(|v| v.max(0.0));
        let err = (y.value() - &want)
            .iter()
            .fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(err < 1e-12, "lambda {lambda}: {err}");
    }
}
