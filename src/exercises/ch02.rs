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

// ---- 2.2 the backward of broadcasting ----

/// The (gradient shape, target shape) pairs 2.2 is checked on: a bias row with the
/// leading axis dropped, the same row kept as `[1, D]`, a column, a per-channel bias on an
/// image batch, a scalar, and no broadcasting at all.
const UNBROADCAST_CASES: [(&[usize], &[usize]); 6] = [
    (&[4, 3], &[3]),
    (&[4, 3], &[1, 3]),
    (&[4, 3], &[4, 1]),
    (&[2, 3, 4, 5], &[3, 1, 1]),
    (&[2, 3], &[]),
    (&[2, 3], &[2, 3]),
];

/// Exercise 2.2: `unbroadcast(g, shape)`, the backward of broadcasting. `g` is the
/// gradient of a broadcast result; return the gradient of the operand of shape `shape`:
/// summed over the leading axes broadcasting added (dropped) and over the axes where
/// `shape` has length 1 (kept, with length 1). Compared with
/// [`reduce_to_shape`](crate::arrays::reduce_to_shape) on six cases, from a bias row to a
/// per-channel bias `[3, 1, 1]` on `[2, 3, 4, 5]`.
pub fn check_unbroadcast(f: impl Fn(&ArrayD<f64>, &[usize]) -> ArrayD<f64>) -> Verdict {
    const E: &str = "2.2 the backward of broadcasting";
    for (k, &(gs, shape)) in UNBROADCAST_CASES.iter().enumerate() {
        let g = crate::randn::<f64>(gs, 20 + k as u64);
        let want = crate::arrays::reduce_to_shape(&g, shape);
        let got = match attempt(|| f(&g, shape)) {
            Ok(r) => r,
            Err(e) => {
                return Verdict::fail(
                    E,
                    format!("your function panicked on g of shape {gs:?} to {shape:?}: {e}"),
                );
            }
        };
        if got.shape() != shape {
            let hint = if got.len() == want.len() {
                "the numbers may be right, but keep each axis where the target has length 1, with length 1 (keepdim)"
            } else if got.ndim() > shape.len() {
                "sum over the leading axes that broadcasting added, and drop them"
            } else {
                "sum only over the leading axes broadcasting added and the axes where the target has length 1"
            };
            return Verdict::fail(
                E,
                format!(
                    "for g of shape {gs:?} and target {shape:?} you returned shape {:?}: {hint}",
                    got.shape()
                ),
            );
        }
        let d = max_diff(&got, &want);
        if d > 1e-9 || d.is_nan() {
            let copies = (g.len() / want.len().max(1)) as f64;
            let looks_like_mean = copies > 1.0
                && got
                    .iter()
                    .zip(want.iter())
                    .all(|(a, b)| (a * copies - b).abs() < 1e-9);
            let hint = if looks_like_mean {
                format!(
                    "your values are the sums divided by {copies}: a value copied {copies} times gets the *sum* of its copies' gradients, not the mean"
                )
            } else {
                format!(
                    "the shape is right but the values differ by up to {d:.3e}: sum g over every axis that was broadcast"
                )
            };
            return Verdict::fail(E, format!("for g of shape {gs:?} to {shape:?}, {hint}"));
        }
    }
    Verdict::pass(
        E,
        "right on all six cases: sum over the added leading axes, and over the length-1 axes with keepdim.",
    )
}

/// Exercise 2.2's placeholder: returns `g` unchanged, which is right only when nothing
/// was broadcast.
pub fn unbroadcast_placeholder(g: &ArrayD<f64>, _shape: &[usize]) -> ArrayD<f64> {
    g.clone()
}

// ---- 2.3 softmax with cross-entropy, backward by hand ----

/// Exercise 2.3: the gradient of the mean cross-entropy with respect to the logits,
/// `dL/dz = (softmax(z) - onehot(y)) / N`, computed with plain arrays. Compared with the
/// backward of [`Var::cross_entropy`] on logits `[4, 3]`, one row of which holds logits
/// near 1000, so that a softmax without the max subtracted overflows.
pub fn check_cross_entropy_grad(f: impl Fn(&ArrayD<f64>, &[usize]) -> ArrayD<f64>) -> Verdict {
    const E: &str = "2.3 cross-entropy backward";
    let mut z = crate::randn::<f64>(&[4, 3], 23);
    for (j, v) in [1000.0, 998.0, -5.0].into_iter().enumerate() {
        z[[2, j]] = v;
    }
    let labels = [2usize, 0, 1, 0];
    let n = labels.len() as f64;
    let tape = Tape::new_f64();
    let zv = tape.var(z.clone());
    let want = zv.cross_entropy(&labels).backward()[&zv].clone();
    let got = match attempt(|| f(&z, &labels)) {
        Ok(r) => r,
        Err(e) => return Verdict::fail(E, format!("your function panicked: {e}")),
    };
    if got.shape() != z.shape() {
        return Verdict::fail(
            E,
            format!(
                "you returned shape {:?}; the gradient has the logits' shape {:?}",
                got.shape(),
                z.shape()
            ),
        );
    }
    if let Some(((i, _), _)) = got
        .indexed_iter()
        .find(|(_, v)| !v.is_finite())
        .map(|(ix, v)| ((ix[0], ix[1]), v))
    {
        return Verdict::fail(
            E,
            format!(
                "row {i} holds NaN or inf: its logits are near 1000, and exp(1000) overflows; \
                 subtract the row's max before exp (the log-sum-exp trick)"
            ),
        );
    }
    let close = |a: &ArrayD<f64>| max_diff(&got, a) < 1e-9;
    let mut onehot = ArrayD::<f64>::zeros(z.raw_dim());
    for (i, &l) in labels.iter().enumerate() {
        onehot[[i, l]] = 1.0;
    }
    if close(&want) {
        Verdict::pass(
            E,
            "(softmax(z) - onehot(y)) / N, equal to cross_entropy's backward, and stable at logits of 1000.",
        )
    } else if close(&(&want * n)) {
        Verdict::fail(
            E,
            format!(
                "your gradient is {n} times too large: the loss is the mean over the N = {n} rows, so divide by N"
            ),
        )
    } else if close(&(&want + &(&onehot / n))) || close(&(&want * n + &onehot)) {
        Verdict::fail(
            E,
            "you have the softmax part; now subtract 1 at each row's label (the - y of p - y)",
        )
    } else if close(&want.mapv(|v| -v)) {
        Verdict::fail(E, "the sign is flipped: the gradient is p - y, not y - p")
    } else {
        let (ix, d) = got
            .indexed_iter()
            .map(|(ix, v)| ((ix[0], ix[1]), (v - want[[ix[0], ix[1]]]).abs()))
            .fold(((0, 0), 0.0), |m, x| if x.1 > m.1 { x } else { m });
        Verdict::fail(
            E,
            format!(
                "at row {}, class {} you give {:.6} but the gradient is {:.6} (off by {d:.2e}): \
                 p = softmax of the row, then subtract 1 at the label, then divide by N",
                ix.0,
                ix.1,
                got[[ix.0, ix.1]],
                want[[ix.0, ix.1]]
            ),
        )
    }
}

/// Exercise 2.3's placeholder: zeros, the gradient of a loss that does not depend on the
/// logits.
pub fn cross_entropy_grad_placeholder(z: &ArrayD<f64>, _labels: &[usize]) -> ArrayD<f64> {
    ArrayD::zeros(z.raw_dim())
}
