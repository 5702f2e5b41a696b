//! Negative controls: gradcheck must reject a wrong backward rule, and say which one.

use resgrad::ndarray::{ArrayD, array};
use resgrad::{CustomOp, Var, gradcheck};

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
