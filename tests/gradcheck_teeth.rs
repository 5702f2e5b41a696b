//! Negative controls: gradcheck must reject a wrong backward rule, and say which one.

mod common;

use common::{away_from_zero, positive, uniform};
use resgrad::ndarray::{ArrayD, array};
use resgrad::{CustomOp, RunningStats, Tape, Var, gradcheck};

/// y = x^2 with a backward rule that is `factor` times the true 2x.
struct Square {
    factor: f64,
}

impl CustomOp<f64> for Square {
    fn name(&self) -> &str {
        "square"
    }
    fn forward(&self, x: &[&ArrayD<f64>]) -> ArrayD<f64> {
        x[0].mapv(|v| v * v)
    }
    fn backward(&self, x: &[&ArrayD<f64>], _y: &ArrayD<f64>, g: &ArrayD<f64>) -> Vec<ArrayD<f64>> {
        vec![g * &x[0].mapv(|v| 2.0 * v * self.factor)]
    }
}

/// a + b whose backward sends the gradient to `a` only: `b` gets zero.
struct AddToFirstOnly;

impl CustomOp<f64> for AddToFirstOnly {
    fn name(&self) -> &str {
        "bad_add"
    }
    fn forward(&self, x: &[&ArrayD<f64>]) -> ArrayD<f64> {
        x[0] + x[1]
    }
    fn backward(&self, x: &[&ArrayD<f64>], _y: &ArrayD<f64>, g: &ArrayD<f64>) -> Vec<ArrayD<f64>> {
        vec![g.clone(), ArrayD::zeros(x[1].raw_dim())]
    }
}

fn x() -> ArrayD<f64> {
    array![[0.5, -1.25, 2.0], [0.75, -0.3, 1.5]].into_dyn()
}

#[test]
fn a_correct_custom_rule_passes() {
    let report = gradcheck(
        |v: &[Var<f64>]| v[0].apply(Square { factor: 1.0 }, &[]),
        &[x()],
    );
    assert!(report.passed(), "{report}");
}

#[test]
fn a_backward_off_by_one_percent_is_rejected() {
    let report = gradcheck(
        |v: &[Var<f64>]| v[0].apply(Square { factor: 1.01 }, &[]),
        &[x()],
    );
    assert!(!report.passed(), "a 1% error slipped through:\n{report}");
    let worst = &report.pairs[0];
    assert!(!worst.passed);
    // The report says how wrong: a relative error of 1%, at the largest |x| element.
    assert!((worst.rel_err - 0.01).abs() < 1e-4, "{report}");
    assert_eq!(worst.input_index, vec![0, 2], "{report}");
    assert_eq!(worst.output_index, vec![0, 2], "{report}");
}

#[test]
fn add_routing_gradient_to_one_parent_only_is_rejected() {
    let b = array![[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]].into_dyn();
    let report = gradcheck(
        |v: &[Var<f64>]| v[0].apply(AddToFirstOnly, &[&v[1]]).tanh(),
        &[x(), b],
    );
    assert!(!report.passed());
    // The first input's derivative is right; the second's is the one named as wrong.
    assert!(report.pairs[0].passed, "{report}");
    assert!(!report.pairs[1].passed, "{report}");
    assert_eq!(report.pairs[1].analytic, 0.0);
    assert!(
        report.to_string().contains("FAILED (1 of 2 pairs)"),
        "{report}"
    );
}

#[test]
fn the_same_wrong_rule_in_a_larger_graph_is_still_caught() {
    // The broken op sits in the middle of an MLP-like expression.
    let w = array![[0.3, -0.2], [0.1, 0.4], [-0.5, 0.25]].into_dyn();
    let report = gradcheck(
        |v: &[Var<f64>]| {
            v[0].apply(Square { factor: 1.01 }, &[])
                .matmul(&v[1])
                .sigmoid()
                .sum()
        },
        &[x(), w],
    );
    assert!(!report.pairs[0].passed, "{report}");
    assert!(report.pairs[1].passed, "{report}");
}

// ---- the fused ops' likely mistakes (the right rules pass in tests/fused.rs) ----

/// relu(a + b) whose backward forgets the relu: the rule of plain `add`.
struct AddReluWithoutMask;

impl CustomOp<f64> for AddReluWithoutMask {
    fn name(&self) -> &str {
        "add_relu_without_mask"
    }
    fn forward(&self, x: &[&ArrayD<f64>]) -> ArrayD<f64> {
        (x[0] + x[1]).mapv(|v| v.max(0.0))
    }
    fn backward(&self, _x: &[&ArrayD<f64>], _y: &ArrayD<f64>, g: &ArrayD<f64>) -> Vec<ArrayD<f64>> {
        vec![g.clone(), g.clone()]
    }
}

#[test]
fn add_relu_without_its_mask_is_rejected() {
    // The inputs of tests/fused.rs's same-shape case, where the right rule passes.
    let inputs = [uniform(&[2, 3], 50), away_from_zero(&[2, 3], 1.2, 60)];
    let report = gradcheck(
        |v: &[Var<f64>]| v[0].apply(AddReluWithoutMask, &[&v[1]]),
        &inputs,
    );
    assert!(
        !report.pairs[0].passed && !report.pairs[1].passed,
        "{report}"
    );
}

/// relu(BN(x)) in training mode whose backward masks batch norm's `dx` instead of its
/// `dy`: the mask applied on the wrong side of the batch-norm rule.
struct BatchNormReluMaskedAfter;

impl BatchNormReluMaskedAfter {
    /// Batch norm of `x = [x, gamma, beta]` on a fresh f64 tape: the tape's own op.
    fn batch_norm(x: &[&ArrayD<f64>]) -> (Vec<Var<f64>>, Var<f64>) {
        let tape = Tape::new_f64();
        let v: Vec<Var<f64>> = x.iter().map(|a| tape.var((*a).clone())).collect();
        let stats = RunningStats::new(x[1].len());
        let y = v[0].batch_norm2d(&v[1], &v[2], &stats, true);
        (v, y)
    }
}

impl CustomOp<f64> for BatchNormReluMaskedAfter {
    fn name(&self) -> &str {
        "batch_norm2d_relu_masked_after"
    }
    fn forward(&self, x: &[&ArrayD<f64>]) -> ArrayD<f64> {
        Self::batch_norm(x).1.value().mapv(|v| v.max(0.0))
    }
    fn backward(&self, x: &[&ArrayD<f64>], y: &ArrayD<f64>, g: &ArrayD<f64>) -> Vec<ArrayD<f64>> {
        let (v, bn) = Self::batch_norm(x);
        let grads = bn.backward_with(g.clone()); // wrong: g should be masked here ...
        let mut dx = grads[&v[0]].clone();
        dx.zip_mut_with(y, |d, &y| {
            if y <= 0.0 {
                *d = 0.0; // ... not here
            }
        });
        vec![dx, grads[&v[1]].clone(), grads[&v[2]].clone()]
    }
}

#[test]
fn batch_norm2d_relu_masked_on_the_wrong_side_is_rejected() {
    // The inputs of tests/fused.rs's training-mode check, where the right rule passes.
    let inputs = [
        uniform(&[3, 2, 3, 3], 41),
        positive(&[2], 0.5, 42),
        uniform(&[2], 43).mapv(|b| 0.2 * b),
    ];
    let report = gradcheck(
        |v: &[Var<f64>]| v[0].apply(BatchNormReluMaskedAfter, &[&v[1], &v[2]]),
        &inputs,
    );
    assert!(!report.passed(), "{report}");
    // Every input's gradient is wrong: dx through the batch statistics, dgamma and dbeta
    // because they summed gradients the relu had cut.
    assert!(report.pairs.iter().all(|p| !p.passed), "{report}");
}

/// relu(BN(x) + s) in training mode whose backward passes the shortcut the unmasked
/// gradient (`ds = g` instead of `g [y > 0]`), as if the sum had no relu after it; the
/// batch norm's part of the rule is right.
struct BatchNormAddReluShortcutUnmasked;

impl CustomOp<f64> for BatchNormAddReluShortcutUnmasked {
    fn name(&self) -> &str {
        "batch_norm2d_add_relu_shortcut_unmasked"
    }
    fn forward(&self, x: &[&ArrayD<f64>]) -> ArrayD<f64> {
        let tape = Tape::new_f64();
        let v: Vec<Var<f64>> = x.iter().map(|a| tape.var((*a).clone())).collect();
        let stats = RunningStats::new(x[1].len());
        v[0].batch_norm2d_add_relu(&v[1], &v[2], &stats, true, &v[3])
            .value()
            .clone()
    }
    fn backward(&self, x: &[&ArrayD<f64>], _y: &ArrayD<f64>, g: &ArrayD<f64>) -> Vec<ArrayD<f64>> {
        let tape = Tape::new_f64();
        let v: Vec<Var<f64>> = x.iter().map(|a| tape.var((*a).clone())).collect();
        let stats = RunningStats::new(x[1].len());
        let y = v[0].batch_norm2d_add_relu(&v[1], &v[2], &stats, true, &v[3]);
        let grads = y.backward_with(g.clone());
        // wrong: the shortcut's gradient must be masked by y > 0 as well
        vec![
            grads[&v[0]].clone(),
            grads[&v[1]].clone(),
            grads[&v[2]].clone(),
            g.clone(),
        ]
    }
}

#[test]
fn batch_norm2d_add_relu_with_an_unmasked_shortcut_gradient_is_rejected() {
    // The inputs of tests/fused.rs's check, where the right rule passes.
    let inputs = [
        uniform(&[3, 2, 3, 3], 41),
        positive(&[2], 0.5, 42),
        uniform(&[2], 43).mapv(|b| 0.2 * b),
        uniform(&[3, 2, 3, 3], 45).mapv(|v| 0.5 * v),
    ];
    let report = gradcheck(
        |v: &[Var<f64>]| v[0].apply(BatchNormAddReluShortcutUnmasked, &[&v[1], &v[2], &v[3]]),
        &inputs,
    );
    assert!(!report.passed(), "{report}");
    // The batch norm's inputs pass; the shortcut's gradient is caught.
    assert!(report.pairs[..3].iter().all(|p| p.passed), "{report}");
    assert!(!report.pairs[3].passed, "{report}");
}
