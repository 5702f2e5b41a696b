//! Chapter 03: Convolution and batch norm.

use ndarray::{Array2, Array3, Axis};

use super::*;
use crate::kernels::{Conv2dGeom, reference};
use crate::randn;

// ---- 3.1 conv output shape ----

/// Exercise 3.1: the output shape of a convolution, `[N, C_out, H_out, W_out]`, from the input
/// shape, the weight shape, the stride and the padding.
pub fn check_conv_shape(f: impl Fn([usize; 4], [usize; 4], usize, usize) -> [usize; 4]) -> Verdict {
    const E: &str = "3.1 conv output shape";
    let cases = [
        ([2, 3, 32, 32], [16, 3, 3, 3], 1, 1),
        ([1, 16, 32, 32], [32, 16, 3, 3], 2, 1),
        ([4, 3, 224, 224], [64, 3, 7, 7], 2, 3),
        ([1, 8, 7, 5], [4, 8, 1, 1], 2, 0),
    ];
    for (x, w, s, p) in cases {
        let want = [
            x[0],
            w[0],
            (x[2] + 2 * p - w[2]) / s + 1,
            (x[3] + 2 * p - w[3]) / s + 1,
        ];
        match attempt(|| f(x, w, s, p)) {
            Ok(got) if got == want => {}
            Ok(got) => {
                return Verdict::fail(
                    E,
                    format!(
                        "input {x:?}, weight {w:?}, stride {s}, padding {p}: you gave {got:?}, the conv gives {want:?}"
                    ),
                );
            }
            Err(e) => return Verdict::fail(E, format!("your function panicked: {e}")),
        }
    }
    Verdict::pass(
        E,
        "right for all four cases, strides and paddings included: (H + 2p - k) / s + 1.",
    )
}

// ---- 3.2 col2im ----

/// Exercise 3.2: `col2im`, the adjoint of im2col. It takes a column matrix
/// `[cin kh kw, ho wo]` (row `(c, u, v)`, column `(i, j)`, as im2col lays them out) and adds
/// each entry back onto the input pixel `[c, s i + u - p, s j + v - p]` that im2col copied it
/// from, skipping the padding; it returns `[cin, h, w]`.
///
/// With `col = W^T dy` (the gradient of `y = W col`), col2im gives the conv's input
/// gradient: the checker compares with [`reference::conv2d_backward_input`] at three strides
/// and paddings.
pub fn check_col2im(f: impl Fn(&Array2<f64>, &Conv2dGeom) -> Array3<f64>) -> Verdict {
    const E: &str = "3.2 col2im";
    let cases = [
        ([1, 2, 6, 5], [3, 2, 3, 3], 1, 1),
        ([1, 2, 7, 7], [3, 2, 3, 3], 2, 1),
        ([1, 3, 6, 5], [2, 3, 1, 1], 2, 0),
    ];
    for (t, (xs, ws, s, p)) in cases.into_iter().enumerate() {
        let g = Conv2dGeom::new(&xs, &ws, s, p).expect("the cases are valid convs");
        let w = randn::<f64>(&ws, 30 + t as u64);
        let dy = randn::<f64>(&[1, g.cout, g.ho, g.wo], 40 + t as u64);
        let k = g.cin * g.kh * g.kw;
        let w_mat = w
            .into_shape_with_order((g.cout, k))
            .expect("contiguous weight");
        let dy_mat = dy
            .clone()
            .into_shape_with_order((g.cout, g.ho * g.wo))
            .expect("contiguous gradient");
        let dcol = w_mat.t().dot(&dy_mat);
        let mut want = vec![0.0; g.cin * g.h * g.w];
        reference::conv2d_backward_input(
            dy.as_slice().expect("contiguous"),
            w_mat.as_slice().expect("contiguous"),
            &g,
            &mut want,
        );
        let want = Array3::from_shape_vec((g.cin, g.h, g.w), want).expect("sizes agree");
        let got = match attempt(|| f(&dcol, &g)) {
            Ok(got) => got,
            Err(e) => return Verdict::fail(E, format!("your function panicked: {e}")),
        };
        let conv = format!("stride {s}, padding {p}, {}x{} kernel", g.kh, g.kw);
        if got.dim() != want.dim() {
            return Verdict::fail(
                E,
                format!(
                    "{conv}: col2im returns the input's shape [cin, h, w] = {:?}; yours is {:?}",
                    want.shape(),
                    got.shape()
                ),
            );
        }
        // The pixel where the answer is furthest off: (where, |difference|, yours, the conv's).
        let worst = got
            .indexed_iter()
            .zip(want.iter())
            .map(|((at, a), b)| (at, (a - b).abs(), *a, *b))
            .max_by(|p, q| p.1.total_cmp(&q.1))
            .expect("not empty");
        if worst.1.is_nan() || worst.1 > 1e-9 {
            let overwrote = max_diff(
                &got.clone().into_dyn(),
                &col2im_overwriting(&dcol, &g).into_dyn(),
            ) < 1e-9;
            return Verdict::fail(
                E,
                if overwrote {
                    format!(
                        "{conv}: you set each pixel with `=`, so it keeps only the last column entry \
                         that reached it; a pixel sits under up to {} kernel taps, and its gradient \
                         is the sum of all of them: add with `+=`",
                        g.kh * g.kw
                    )
                } else {
                    let (c, r, q) = worst.0;
                    format!(
                        "{conv}: at input pixel [{c}, {r}, {q}] you have {:.6}, the conv's input gradient \
                         is {:.6}; entry (row (c, u, v), column (i, j)) goes back to pixel \
                         [c, s*i + u - p, s*j + v - p], and entries that came from the padding are dropped",
                        worst.2, worst.3
                    )
                },
            );
        }
    }
    Verdict::pass(
        E,
        "col2im(W^T dy) equals the conv's input gradient at all three strides and paddings: \
         the backward of im2col is col2im.",
    )
}

/// col2im with `=` instead of `+=`: the mistake the checker names.
fn col2im_overwriting(col: &Array2<f64>, g: &Conv2dGeom) -> Array3<f64> {
    let mut dx = Array3::zeros((g.cin, g.h, g.w));
    for c in 0..g.cin {
        for u in 0..g.kh {
            for v in 0..g.kw {
                for i in 0..g.ho {
                    for j in 0..g.wo {
                        if let Some((r, q)) = g.tap(i, j, u, v) {
                            dx[[c, r, q]] = col[[(c * g.kh + u) * g.kw + v, i * g.wo + j]];
                        }
                    }
                }
            }
        }
    }
    dx
}

// ---- 3.3 layer norm backward ----

/// The `eps` of exercise 3.3's layer norm: `sigma = sqrt(var + eps)`.
pub const LAYER_NORM_EPS: f64 = 1e-5;

/// Exercise 3.3: the backward of layer norm without `gamma` and `beta`: each row of `x`
/// `[N, D]` is normalised over its own `D` features, `y = (x - mean) / sqrt(var + eps)` with
/// `eps` = [`LAYER_NORM_EPS`]. Given `x` and the upstream gradient `g = dL/dy`, return
/// `dL/dx`. The checker compares with the tape's gradient of the same formula, built from
/// `mean`, `-`, `*` and `sqrt`.
pub fn check_layer_norm_backward(f: impl Fn(&Array2<f64>, &Array2<f64>) -> Array2<f64>) -> Verdict {
    const E: &str = "3.3 layer norm backward";
    let x = randn::<f64>(&[4, 6], 50).mapv(|v| 2.0 * v + 0.5);
    let g = randn::<f64>(&[4, 6], 51);
    let want = match layer_norm_grad_on_tape(&x, &g) {
        Ok(w) => w,
        Err(e) => return Verdict::fail(E, format!("the checker could not build the tape: {e}")),
    };
    let x2 = x.into_dimensionality().expect("2-D");
    let g2 = g.into_dimensionality().expect("2-D");
    let got = match attempt(|| f(&x2, &g2)) {
        Ok(got) => got,
        Err(e) => return Verdict::fail(E, format!("your function panicked: {e}")),
    };
    if got.dim() != x2.dim() {
        return Verdict::fail(
            E,
            format!(
                "dL/dx has the shape of x, {:?}; yours is {:?}",
                x2.shape(),
                got.shape()
            ),
        );
    }
    if got.iter().any(|v| !v.is_finite()) {
        return Verdict::fail(
            E,
            "your gradient holds NaN or infinite values: is sigma computed as sqrt(var + eps), \
             with the variance a mean of squares?",
        );
    }
    let got = got.into_dyn();
    let close = |a: &ArrayD<f64>| max_diff(&got, a) < 1e-8;
    if close(&want) {
        return Verdict::pass(
            E,
            "equal to the tape's gradient: dx = (g - mean(g) - xhat * mean(g * xhat)) / sigma, \
             row by row, the batch-norm backward along the other axis.",
        );
    }
    let variant = |mean_path: bool, var_path: bool, axis: usize| {
        norm_backward_variant(&x2, &g2, mean_path, var_path, axis).into_dyn()
    };
    let message = if close(&variant(false, false, 1)) {
        "you treated the mean and the variance as constants (dx = g / sigma); both depend on every \
         x in the row: add the path through the mean and the path through the variance"
    } else if close(&variant(true, false, 1)) {
        "the path through the mean is right; the path through the variance is missing: subtract \
         xhat * mean(g * xhat), then divide by sigma"
    } else if close(&variant(false, true, 1)) {
        "the path through the variance is right; the path through the mean is missing: subtract \
         mean(g) over the row"
    } else if close(&variant(true, true, 0)) {
        "you normalised each column over the batch, as batch norm does; layer norm normalises \
         each row over its D features: take the means along axis 1"
    } else {
        "not the gradient yet: per row, with sigma = sqrt(var + eps) and xhat = (x - mean) / sigma, \
         dx = (g - mean(g) - xhat * mean(g * xhat)) / sigma"
    };
    Verdict::fail(E, message)
}

/// The gradient of `sum(g * layer_norm(x))`, recorded on a tape from primitive ops.
fn layer_norm_grad_on_tape(x: &ArrayD<f64>, g: &ArrayD<f64>) -> crate::Result<ArrayD<f64>> {
    let tape = Tape::new_f64();
    let xv = tape.var(x.clone());
    let d = &xv - &xv.try_mean_axes(&[1], true)?;
    let var = (&d * &d).try_mean_axes(&[1], true)?;
    let y = &d / &var.add_scalar(LAYER_NORM_EPS).sqrt();
    let grads = y.try_backward_with(g.clone())?;
    Ok(grads[&xv].clone())
}

/// The normalisation backward along `axis`, with or without the paths through the mean and
/// the variance: the right answer and the mistakes the checker names.
fn norm_backward_variant(
    x: &Array2<f64>,
    g: &Array2<f64>,
    mean_path: bool,
    var_path: bool,
    axis: usize,
) -> Array2<f64> {
    let ax = Axis(axis);
    let m = x.len_of(ax) as f64;
    let mean = x.mean_axis(ax).expect("not empty").insert_axis(ax);
    let d = x - &mean;
    let var = (&d * &d).mean_axis(ax).expect("not empty").insert_axis(ax);
    let sigma = var.mapv(|v| (v + LAYER_NORM_EPS).sqrt());
    let xhat = &d / &sigma;
    let mut dx = g.clone();
    if mean_path {
        dx = dx - g.sum_axis(ax).insert_axis(ax) / m;
    }
    if var_path {
        dx = dx - &xhat * &((g * &xhat).sum_axis(ax).insert_axis(ax) / m);
    }
    dx / &sigma
}
