//! Chapter 02: Tensors, broadcasting and gradcheck.

use super::*;

// ---- 2.1 the backward of a new op ----

/// Exercise 2.1: `softplus(x) = ln(1 + e^x)` as a [`CustomOp`]; its backward is yours to
/// write. The checker tests the forward against the formula and the backward with
/// [`gradcheck()`].
pub fn check_softplus(op: impl CustomOp<f64> + Clone + 'static) -> Verdict {
    const E: &str = "2.1 softplus backward";
    let x = ArrayD::from_shape_vec(IxDyn(&[2, 3]), vec![-2.0, -0.5, 0.1, 0.7, 1.5, 3.0])
        .expect("shape");
    let forward = match attempt(|| op.forward(&[&x])) {
        Ok(y) => y,
        Err(e) => return Verdict::fail(E, format!("your forward panicked: {e}")),
    };
    let want = x.mapv(|v: f64| v.exp().ln_1p());
    if forward.shape() != x.shape() || max_diff(&forward, &want) > 1e-9 {
        return Verdict::fail(
            E,
            "the forward is not ln(1 + e^x): fix it before the backward",
        );
    }
    let report =
        match attempt(|| gradcheck(|v| v[0].apply(op.clone(), &[]), std::slice::from_ref(&x))) {
            Ok(r) => r,
            Err(e) => return Verdict::fail(E, format!("your backward panicked: {e}")),
        };
    if report.passed() {
        Verdict::pass(
            E,
            "the backward matches finite differences everywhere (d softplus/dx = sigmoid(x)).",
        )
    } else if let Some(p) = report.pairs.first() {
        Verdict::fail(
            E,
            format!(
                "at x{:?} the backward gives {:.6} but finite differences give {:.6}; remember the chain rule: \
                 multiply the local derivative by the incoming gradient g",
                p.input_index, p.analytic, p.numeric
            ),
        )
    } else {
        Verdict::fail(
            E,
            report
                .error
                .unwrap_or_else(|| "backward did not run".into()),
        )
    }
}

/// Exercise 2.1's placeholder: the forward is done, the backward returns zeros.
#[derive(Clone)]
pub struct SoftplusPlaceholder;

impl CustomOp<f64> for SoftplusPlaceholder {
    fn name(&self) -> &str {
        "softplus"
    }
    fn forward(&self, x: &[&ArrayD<f64>]) -> ArrayD<f64> {
        x[0].mapv(|v| v.exp().ln_1p())
    }
    fn backward(&self, x: &[&ArrayD<f64>], _y: &ArrayD<f64>, _g: &ArrayD<f64>) -> Vec<ArrayD<f64>> {
        vec![ArrayD::zeros(x[0].raw_dim())] // TODO: the gradient of softplus
    }
}
