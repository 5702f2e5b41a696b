//! The causal control of the Table 6 study: a residual net whose shortcuts carry the value
//! forward but no gradient back (`Var::detach`, `NetKind::Detached`). Its forward must be
//! the residual net's, bit for bit; the gradient reaching a block's input must be the
//! branch's alone, with no identity term.

use resgrad::models::{CifarSpec, NetKind};
use resgrad::nn::{BasicBlock, Mode, Module, PreActBlock, ShortcutOption, rng};
use resgrad::{Tape, Var};

fn random(shape: &[usize], seed: u64) -> ndarray::ArrayD<f64> {
    resgrad::flow::gaussian::<f64>(shape, &mut rng(seed))
}

#[test]
fn a_detached_resnet_computes_the_same_function_as_the_resnet() {
    for option in [ShortcutOption::A, ShortcutOption::B] {
        let spec = CifarSpec {
            in_channels: 1,
            width: 4,
            seed: 7,
            ..CifarSpec::resnet(8, option)
        };
        let plainish = spec.clone().build::<f32>().unwrap();
        let detached = CifarSpec {
            kind: NetKind::Detached,
            ..spec
        }
        .build::<f32>()
        .unwrap();
        assert!(
            detached.name.starts_with("detached-resnet8"),
            "{}",
            detached.name
        );
        let x = resgrad::flow::gaussian::<f32>(&[6, 1, 8, 8], &mut rng(1));
        for mode in [Mode::Train, Mode::Eval] {
            let tape = Tape::new();
            let a = plainish.forward(&tape.constant(x.clone()), mode);
            let b = detached.forward(&tape.constant(x.clone()), mode);
            assert_eq!(a.value(), b.value(), "option {option:?}, {mode:?}");
        }
    }
}

/// `dL/dx` for `L = <g, block(x)>`, with the shortcut detached or not.
fn input_gradient(
    block: &dyn Module<f64>,
    x: &ndarray::ArrayD<f64>,
    g: &ndarray::ArrayD<f64>,
) -> (ndarray::ArrayD<f64>, ndarray::ArrayD<f64>) {
    let tape = Tape::<f64>::with_precision();
    let xv = tape.var(x.clone());
    let y = block.forward(&xv, Mode::Train);
    let grads = y.backward_with(g.clone());
    (grads[&xv].clone(), y.value().clone())
}

fn max_abs_diff(a: &ndarray::ArrayD<f64>, b: &ndarray::ArrayD<f64>) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// The gradient at a post-activation block's input: `J_F^T (m * g) + m * g` with the
/// shortcut (m the ReLU's mask), `J_F^T (m * g)` alone with it detached.
#[test]
fn the_gradient_at_a_detached_blocks_input_is_the_branchs_alone() {
    let (x, g) = (random(&[4, 3, 6, 6], 2), random(&[4, 3, 6, 6], 3));
    let mut block = BasicBlock::<f64>::new(3, 3, 1, ShortcutOption::A, &mut rng(4));
    let (full, y) = input_gradient(&block, &x, &g);
    block.detach_shortcut = true;
    let (cut, y_cut) = input_gradient(&block, &x, &g);
    assert_eq!(y, y_cut, "detaching changed the forward value");
    // The upstream gradient after the ReLU: m * g.
    let masked = ndarray::Zip::from(&y)
        .and(&g)
        .map_collect(|&y, &g| if y > 0.0 { g } else { 0.0 });
    // The branch's own gradient, J_F^T (m * g), through the branch alone.
    let tape = Tape::<f64>::with_precision();
    let xv = tape.var(x.clone());
    let f: Var<f64> = block.branch(&xv, Mode::Train);
    let branch = f.backward_with(masked.clone())[&xv].clone();
    let scale = branch.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(
        max_abs_diff(&cut, &branch) <= 1e-12 * scale,
        "the detached block's input gradient is not the branch's: off by {}",
        max_abs_diff(&cut, &branch)
    );
    // And what detaching removed is exactly the identity term m * g, which is not small:
    // a detach that did nothing would fail here.
    let removed = &full - &cut;
    let identity = masked.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(
        identity > 0.5,
        "the identity term is too small to test: {identity}"
    );
    assert!(
        max_abs_diff(&removed, &masked) <= 1e-12 * identity.max(scale),
        "full - detached should be the identity term m * g: off by {}",
        max_abs_diff(&removed, &masked)
    );
}

#[test]
fn a_detached_pre_activation_block_passes_only_the_branchs_gradient() {
    let (x, g) = (random(&[4, 3, 6, 6], 5), random(&[4, 3, 6, 6], 6));
    let mut block = PreActBlock::<f64>::new(3, 3, 1, ShortcutOption::A, &mut rng(8));
    let (full, y) = input_gradient(&block, &x, &g);
    block.detach_shortcut = true;
    let (cut, y_cut) = input_gradient(&block, &x, &g);
    assert_eq!(y, y_cut);
    // Nothing follows the addition, so the identity term is g itself.
    let removed = &full - &cut;
    let scale = full.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    assert!(
        max_abs_diff(&removed, &g) <= 1e-12 * scale,
        "full - detached should be g: off by {}",
        max_abs_diff(&removed, &g)
    );
}

#[test]
fn detach_shares_the_value_and_stops_the_gradient() {
    let tape = Tape::<f64>::with_precision();
    let x = tape.var(ndarray::array![1.0, 2.0, 3.0]);
    let y = (&x * &x.detach()).sum(); // d/dx (x * stop(x)) = stop(x)
    let grads = y.backward();
    assert_eq!(grads[&x], ndarray::array![1.0, 2.0, 3.0].into_dyn());
    let z = (&x * &x).sum(); // without the detach: 2x
    assert_eq!(z.backward()[&x], ndarray::array![2.0, 4.0, 6.0].into_dyn());
}
