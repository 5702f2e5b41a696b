//! Helpers shared by the integration tests.
#![allow(dead_code)]

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use resgrad::ndarray::{ArrayD, IxDyn};
use resgrad::{Var, gradcheck};

/// Uniform values in [-1, 1), seeded, in the given shape.
pub fn uniform(shape: &[usize], seed: u64) -> ArrayD<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    ArrayD::from_shape_simple_fn(IxDyn(shape), || rng.random_range(-1.0..1.0))
}

/// Uniform values whose magnitude is in [lo, lo + 1), with random sign: keeps inputs away
/// from kinks (relu at 0) and poles (1/x at 0).
pub fn away_from_zero(shape: &[usize], lo: f64, seed: u64) -> ArrayD<f64> {
    uniform(shape, seed).mapv(|v| if v >= 0.0 { v + lo } else { v - lo })
}

/// Positive values in [lo, lo + 1).
pub fn positive(shape: &[usize], lo: f64, seed: u64) -> ArrayD<f64> {
    uniform(shape, seed).mapv(|v| v.abs() + lo)
}

/// Gradchecks `f` at `inputs` and fails with the report unless every (input, output) pair
/// passes and every input was compared against the output.
#[track_caller]
pub fn check<F>(f: F, inputs: &[ArrayD<f64>])
where
    F: Fn(&[Var<f64>]) -> Var<f64>,
{
    let report = gradcheck(f, inputs);
    assert!(report.passed(), "{report}");
    assert_eq!(report.pairs.len(), inputs.len());
}

/// A small BN MLP for the 8x8 digits (depth 4, width 16): batch norm in training mode
/// refuses a batch of one.
pub fn bn_mlp(seed: u64) -> resgrad::nn::Sequential {
    use resgrad::models::{MlpSpec, NetKind};
    MlpSpec {
        kind: NetKind::Plain,
        depth: 4,
        batch_norm: true,
        inputs: Some(64),
        classes: Some(10),
        seed,
        ..MlpSpec::plain(16, 0)
    }
    .build()
}

/// A CIFAR ResNet-8 of width 4 for one-channel images (option A).
pub fn small_conv(seed: u64) -> resgrad::models::ResNet {
    use resgrad::models::CifarSpec;
    CifarSpec::resnet(8, resgrad::nn::ShortcutOption::A)
        .in_channels(1)
        .width(4)
        .seed(seed)
        .build()
        .unwrap()
}
