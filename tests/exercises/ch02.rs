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

/// 2.3's solution: a stable softmax per row, minus one at the label, over N.
fn cross_entropy_grad(z: &ArrayD<f64>, labels: &[usize], stable: bool, mean: bool) -> ArrayD<f64> {
    let n = labels.len() as f64;
    let mut d = z.clone();
    for (i, mut row) in d.axis_iter_mut(Axis(0)).enumerate() {
        let m = if stable {
            row.fold(f64::NEG_INFINITY, |a, &b| a.max(b))
        } else {
            0.0
        };
        row.mapv_inplace(|v| (v - m).exp());
        let s = row.sum();
        row.mapv_inplace(|v| v / s);
        row[labels[i]] -= 1.0;
    }
    if mean { d / n } else { d }
}

#[test]
fn exercise_2_3_cross_entropy_backward() {
    let ok = exercises::check_cross_entropy_grad(|z: &ArrayD<f64>, l: &[usize]| {
        cross_entropy_grad(z, l, true, true)
    });
    assert!(ok.passed, "{ok}");

    let placeholder =
        exercises::check_cross_entropy_grad(exercises::cross_entropy_grad_placeholder);
    assert!(!placeholder.passed, "{placeholder}");

    // Plausible mistakes: no max subtracted (overflow at logits of 1000), no 1/N.
    let naive = exercises::check_cross_entropy_grad(|z: &ArrayD<f64>, l: &[usize]| {
        cross_entropy_grad(z, l, false, true)
    });
    assert!(
        !naive.passed && naive.message.contains("log-sum-exp"),
        "{naive}"
    );
    let sum = exercises::check_cross_entropy_grad(|z: &ArrayD<f64>, l: &[usize]| {
        cross_entropy_grad(z, l, true, false)
    });
    assert!(!sum.passed && sum.message.contains("divide by N"), "{sum}");
    // And forgetting the - y.
    let no_y = exercises::check_cross_entropy_grad(|z: &ArrayD<f64>, l: &[usize]| {
        let mut onehot = ArrayD::<f64>::zeros(z.raw_dim());
        for (i, &c) in l.iter().enumerate() {
            onehot[[i, c]] = 1.0 / l.len() as f64;
        }
        cross_entropy_grad(z, l, true, true) + onehot
    });
    assert!(
        !no_y.passed && no_y.message.contains("subtract 1"),
        "{no_y}"
    );
}
