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

// ---- 2.3 the backward of softmax ----

/// Exercise 2.3: softmax along the last axis of `[N, C]` as a [`CustomOp`], whose
/// backward (a vector-Jacobian product with a full `C x C` Jacobian per row) is yours to
/// write: `dz = p * (g - sum_j g_j p_j)`, row by row. The checker compares the forward with
/// the library's softmax, calls the backward on a probe gradient, and runs [`gradcheck()`].
pub fn check_softmax_backward(op: impl CustomOp<f64> + Clone + 'static) -> Verdict {
    const E: &str = "2.3 softmax backward";
    let z = crate::randn::<f64>(&[3, 4], 31);
    let g = crate::randn::<f64>(&[3, 4], 32);
    let p = match attempt(|| op.forward(&[&z])) {
        Ok(p) => p,
        Err(e) => return Verdict::fail(E, format!("your forward panicked: {e}")),
    };
    let want_p = crate::arrays::softmax_values(&z, 1);
    if p.shape() != z.shape() || max_diff(&p, &want_p) > 1e-9 {
        return Verdict::fail(
            E,
            "the forward is not softmax along the last axis: fix it before the backward",
        );
    }
    let grads = match attempt(|| op.backward(&[&z], &p, &g)) {
        Ok(v) => v,
        Err(e) => return Verdict::fail(E, format!("your backward panicked: {e}")),
    };
    let Some(dz) = grads
        .first()
        .filter(|d| grads.len() == 1 && d.shape() == z.shape())
    else {
        return Verdict::fail(
            E,
            format!(
                "the backward must return one gradient, of the input's shape {:?}; it returned {} of shapes {:?}",
                z.shape(),
                grads.len(),
                grads.iter().map(|d| d.shape().to_vec()).collect::<Vec<_>>()
            ),
        );
    };
    // The vector-Jacobian product, and the mistakes it is easy to make.
    let row_dot = (&g * &p)
        .sum_axis(ndarray::Axis(1))
        .insert_axis(ndarray::Axis(1));
    let want = &p * &(&g - &row_dot);
    let diagonal = &p * &p.mapv(|v| 1.0 - v) * &g;
    let col_dot = (&g * &p)
        .sum_axis(ndarray::Axis(0))
        .insert_axis(ndarray::Axis(0));
    let wrong_axis = &p * &(&g - &col_dot);
    let no_g = &p * &p.mapv(|v| 1.0 - v);
    let close = |a: &ArrayD<f64>| max_diff(dz, a) < 1e-9;
    if close(&diagonal) {
        return Verdict::fail(
            E,
            "you used only the diagonal of the Jacobian, p_i (1 - p_i): every p_j depends on every z_i \
             of its row, so the off-diagonal terms -p_i p_j add up too",
        );
    }
    if close(&wrong_axis) {
        return Verdict::fail(
            E,
            "the sum of g * p runs over the wrong axis: sum over the classes of each row (axis 1), not the batch",
        );
    }
    if close(&no_g) {
        return Verdict::fail(
            E,
            "your backward ignores the incoming gradient g: return the product of g with the Jacobian",
        );
    }
    let report =
        match attempt(|| gradcheck(|v| v[0].apply(op.clone(), &[]), std::slice::from_ref(&z))) {
            Ok(r) => r,
            Err(e) => return Verdict::fail(E, format!("your backward panicked: {e}")),
        };
    if close(&want) && report.passed() {
        Verdict::pass(
            E,
            "p * (g - sum_j g_j p_j) per row: the full Jacobian's product with g, and gradcheck agrees.",
        )
    } else if let Some(pair) = report.failures().next() {
        Verdict::fail(
            E,
            format!(
                "gradcheck finds d out{:?} / d in{:?} = {:.6} from your backward but {:.6} from finite differences; \
                 the Jacobian of a softmax row is p_i (delta_ij - p_j)",
                pair.output_index, pair.input_index, pair.analytic, pair.numeric
            ),
        )
    } else {
        Verdict::fail(
            E,
            format!(
                "your gradient differs from p * (g - sum_j g_j p_j) by up to {:.2e}",
                max_diff(dz, &want)
            ),
        )
    }
}

/// Exercise 2.3's placeholder: a stable softmax forward along the last axis of `[N, C]`,
/// and a backward that returns zeros.
#[derive(Clone)]
pub struct SoftmaxPlaceholder;

impl CustomOp<f64> for SoftmaxPlaceholder {
    fn name(&self) -> &str {
        "my_softmax"
    }
    fn forward(&self, x: &[&ArrayD<f64>]) -> ArrayD<f64> {
        crate::arrays::softmax_values(x[0], 1)
    }
    fn backward(&self, x: &[&ArrayD<f64>], _y: &ArrayD<f64>, _g: &ArrayD<f64>) -> Vec<ArrayD<f64>> {
        vec![ArrayD::zeros(x[0].raw_dim())] // TODO: the vector-Jacobian product of softmax
    }
}
