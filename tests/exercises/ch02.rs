//! Chapter 02's exercises: the solutions, and each checker rejecting its placeholder and a plausible mistake.

use resgrad::CustomOp;
use resgrad::exercises;
use resgrad::ndarray::{ArrayD, Axis};

#[derive(Clone)]
struct Softplus {
    off_by: f64,
}

impl CustomOp<f64> for Softplus {
    fn name(&self) -> &str {
        "softplus"
    }
    fn forward(&self, x: &[&ArrayD<f64>]) -> ArrayD<f64> {
        x[0].mapv(|v| v.exp().ln_1p())
    }
    fn backward(&self, x: &[&ArrayD<f64>], _y: &ArrayD<f64>, g: &ArrayD<f64>) -> Vec<ArrayD<f64>> {
        // d softplus / dx = sigmoid(x)
        vec![g * &x[0].mapv(|v| self.off_by / (1.0 + (-v).exp()))]
    }
}

#[test]
fn exercise_2_1_softplus_backward() {
    assert!(exercises::check_softplus(Softplus { off_by: 1.0 }).passed);
    let wrong = exercises::check_softplus(Softplus { off_by: 1.02 });
    assert!(
        !wrong.passed && wrong.message.contains("finite differences"),
        "{wrong}"
    );
    assert!(!exercises::check_softplus(exercises::SoftplusPlaceholder).passed);
}

/// 2.2's solution: sum the leading axes away, then sum (keeping the axis) wherever the
/// target has length 1.
fn unbroadcast(g: &ArrayD<f64>, shape: &[usize]) -> ArrayD<f64> {
    let mut r = g.clone();
    while r.ndim() > shape.len() {
        r = r.sum_axis(Axis(0));
    }
    for (ax, &len) in shape.iter().enumerate() {
        if len == 1 && r.shape()[ax] != 1 {
            r = r.sum_axis(Axis(ax)).insert_axis(Axis(ax));
        }
    }
    r
}

#[test]
fn exercise_2_2_the_backward_of_broadcasting() {
    let ok = exercises::check_unbroadcast(unbroadcast);
    assert!(ok.passed, "{ok}");

    let placeholder = exercises::check_unbroadcast(exercises::unbroadcast_placeholder);
    assert!(
        !placeholder.passed && placeholder.message.contains("leading axes"),
        "{placeholder}"
    );

    // A plausible mistake: summing the length-1 axes away instead of keeping them.
    let dropped = exercises::check_unbroadcast(|g: &ArrayD<f64>, shape: &[usize]| {
        let mut r = g.clone();
        while r.ndim() > shape.len() {
            r = r.sum_axis(Axis(0));
        }
        for ax in (0..shape.len()).rev() {
            if shape[ax] == 1 && r.shape()[ax] != 1 {
                r = r.sum_axis(Axis(ax));
            }
        }
        r
    });
    assert!(
        !dropped.passed && dropped.message.contains("keepdim"),
        "{dropped}"
    );

    // Another: the mean instead of the sum.
    let mean = exercises::check_unbroadcast(|g: &ArrayD<f64>, shape: &[usize]| {
        let s = unbroadcast(g, shape);
        let copies = (g.len() / s.len().max(1)) as f64;
        s / copies
    });
    assert!(
        !mean.passed && mean.message.contains("not the mean"),
        "{mean}"
    );
}

/// 2.3's solution, with switches for the plausible mistakes.
#[derive(Clone, Copy, PartialEq)]
enum SoftmaxBackward {
    Right,
    DiagonalOnly,
    SumOverBatch,
}

#[derive(Clone)]
struct MySoftmax(SoftmaxBackward);

impl CustomOp<f64> for MySoftmax {
    fn name(&self) -> &str {
        "my_softmax"
    }
    fn forward(&self, x: &[&ArrayD<f64>]) -> ArrayD<f64> {
        let m = x[0].map_axis(Axis(1), |r| r.fold(f64::NEG_INFINITY, |a, &b| a.max(b)));
        let e = (x[0] - &m.insert_axis(Axis(1))).mapv(f64::exp);
        let s = e.sum_axis(Axis(1)).insert_axis(Axis(1));
        e / s
    }
    fn backward(&self, _x: &[&ArrayD<f64>], p: &ArrayD<f64>, g: &ArrayD<f64>) -> Vec<ArrayD<f64>> {
        let gp = g * p;
        vec![match self.0 {
            // dz_j = p_j (g_j - sum_i g_i p_i)
            SoftmaxBackward::Right => p * &(g - &gp.sum_axis(Axis(1)).insert_axis(Axis(1))),
            SoftmaxBackward::DiagonalOnly => p * &p.mapv(|v| 1.0 - v) * g,
            SoftmaxBackward::SumOverBatch => p * &(g - &gp.sum_axis(Axis(0)).insert_axis(Axis(0))),
        }]
    }
}

#[test]
fn exercise_2_3_softmax_backward() {
    let ok = exercises::check_softmax_backward(MySoftmax(SoftmaxBackward::Right));
    assert!(ok.passed, "{ok}");

    let placeholder = exercises::check_softmax_backward(exercises::SoftmaxPlaceholder);
    assert!(
        !placeholder.passed && placeholder.message.contains("finite differences"),
        "{placeholder}"
    );

    let diagonal = exercises::check_softmax_backward(MySoftmax(SoftmaxBackward::DiagonalOnly));
    assert!(
        !diagonal.passed && diagonal.message.contains("diagonal"),
        "{diagonal}"
    );
    let batch = exercises::check_softmax_backward(MySoftmax(SoftmaxBackward::SumOverBatch));
    assert!(
        !batch.passed && batch.message.contains("wrong axis"),
        "{batch}"
    );
}

#[test]
fn the_graders_solved_cells_pass() {
    // The cells `scripts/notebooks --check` pastes into a copy of chapter 02 to test the
    // grader, compiled here as they stand.
    let unbroadcast: exercises::Verdict = include!("../grading/2.2.rs");
    assert!(unbroadcast.passed, "{unbroadcast}");
    let softmax: exercises::Verdict = include!("../grading/2.3.rs");
    assert!(softmax.passed, "{softmax}");
}
