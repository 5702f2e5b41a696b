//! Chapter 03's exercises: the solutions, and each checker rejecting its placeholder and a plausible mistake.

use resgrad::exercises::{self, placeholders};
use resgrad::kernels::Conv2dGeom;
use resgrad::ndarray::{Array2, Array3};

#[test]
fn exercise_3_1_conv_output_shape() {
    let solution = |x: [usize; 4], w: [usize; 4], s: usize, p: usize| {
        [
            x[0],
            w[0],
            (x[2] + 2 * p - w[2]) / s + 1,
            (x[3] + 2 * p - w[3]) / s + 1,
        ]
    };
    assert!(exercises::check_conv_shape(solution).passed);
    let forgot_stride = |x: [usize; 4], w: [usize; 4], _s: usize, p: usize| {
        [x[0], w[0], x[2] + 2 * p - w[2] + 1, x[3] + 2 * p - w[3] + 1]
    };
    let v = exercises::check_conv_shape(forgot_stride);
    assert!(!v.passed && v.message.contains("stride 2"), "{v}");
    assert!(!exercises::check_conv_shape(placeholders::conv_shape).passed);
    let panics = exercises::check_conv_shape(|_, _, _, _| panic!("oops"));
    assert!(!panics.passed && panics.message.contains("oops"));
}

/// Exercise 3.2's solution: every column entry added back onto the pixel it came from.
fn col2im(col: &Array2<f64>, g: &Conv2dGeom) -> Array3<f64> {
    let mut dx = Array3::zeros((g.cin, g.h, g.w));
    for c in 0..g.cin {
        for u in 0..g.kh {
            for v in 0..g.kw {
                for i in 0..g.ho {
                    for j in 0..g.wo {
                        let r = (g.stride * i + u).checked_sub(g.pad);
                        let q = (g.stride * j + v).checked_sub(g.pad);
                        if let (Some(r), Some(q)) = (r, q)
                            && r < g.h
                            && q < g.w
                        {
                            dx[[c, r, q]] += col[[(c * g.kh + u) * g.kw + v, i * g.wo + j]];
                        }
                    }
                }
            }
        }
    }
    dx
}

#[test]
fn exercise_3_2_col2im() {
    let v = exercises::check_col2im(col2im);
    assert!(v.passed, "{v}");
    // The notebook's placeholder: zeros of the right shape.
    let placeholder = |_col: &Array2<f64>, g: &Conv2dGeom| Array3::zeros((g.cin, g.h, g.w));
    assert!(!exercises::check_col2im(placeholder).passed);
    // A plausible mistake: `=` instead of `+=`.
    let overwrites = |col: &Array2<f64>, g: &Conv2dGeom| {
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
    };
    let v = exercises::check_col2im(overwrites);
    assert!(!v.passed && v.message.contains("+="), "{v}");
    // Another: the padding forgotten (r = s*i + u), caught with the pixel it gets wrong.
    let no_padding = |col: &Array2<f64>, g: &Conv2dGeom| {
        let mut dx = Array3::zeros((g.cin, g.h, g.w));
        for c in 0..g.cin {
            for u in 0..g.kh {
                for v in 0..g.kw {
                    for i in 0..g.ho {
                        for j in 0..g.wo {
                            let (r, q) = (g.stride * i + u, g.stride * j + v);
                            if r < g.h && q < g.w {
                                dx[[c, r, q]] += col[[(c * g.kh + u) * g.kw + v, i * g.wo + j]];
                            }
                        }
                    }
                }
            }
        }
        dx
    };
    let v = exercises::check_col2im(no_padding);
    assert!(
        !v.passed && v.message.contains("at input pixel") && v.message.contains("padding 1"),
        "{v}"
    );
    let wrong_shape = |_col: &Array2<f64>, _g: &Conv2dGeom| Array3::zeros((1, 1, 1));
    let v = exercises::check_col2im(wrong_shape);
    assert!(!v.passed && v.message.contains("shape"), "{v}");
    let nan =
        exercises::check_col2im(|_, g: &Conv2dGeom| Array3::from_elem((g.cin, g.h, g.w), f64::NAN));
    assert!(!nan.passed, "{nan}");
    let panics = exercises::check_col2im(|_, _| panic!("oops"));
    assert!(!panics.passed && panics.message.contains("oops"));
}

/// Exercise 3.3's solution: per row, dx = (g - mean(g) - xhat mean(g xhat)) / sigma.
fn layer_norm_backward(x: &Array2<f64>, g: &Array2<f64>, var_path: bool) -> Array2<f64> {
    let mut dx = Array2::zeros(x.dim());
    for ((xr, gr), mut dr) in x.rows().into_iter().zip(g.rows()).zip(dx.rows_mut()) {
        let d = xr.len() as f64;
        let mean = xr.sum() / d;
        let var = xr.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / d;
        let sigma = (var + exercises::LAYER_NORM_EPS).sqrt();
        let xhat = xr.mapv(|v| (v - mean) / sigma);
        let mean_g = gr.sum() / d;
        let mean_gx = if var_path {
            (&gr * &xhat).sum() / d
        } else {
            0.0
        };
        dr.assign(&((&gr - mean_g - &xhat * mean_gx) / sigma));
    }
    dx
}

#[test]
fn exercise_3_3_layer_norm_backward() {
    let v = exercises::check_layer_norm_backward(|x, g| layer_norm_backward(x, g, true));
    assert!(v.passed, "{v}");
    // The notebook's placeholder: the gradient passed through unchanged.
    let v = exercises::check_layer_norm_backward(|_x, g| g.clone());
    assert!(!v.passed, "{v}");
    // A plausible mistake: the path through the variance forgotten.
    let v = exercises::check_layer_norm_backward(|x, g| layer_norm_backward(x, g, false));
    assert!(
        !v.passed && v.message.contains("variance is missing"),
        "{v}"
    );
    // Another: the statistics treated as constants.
    let constants = |x: &Array2<f64>, g: &Array2<f64>| {
        let d = x.ncols() as f64;
        let mut dx = g.clone();
        for (xr, mut dr) in x.rows().into_iter().zip(dx.rows_mut()) {
            let mean = xr.sum() / d;
            let var = xr.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / d;
            dr /= (var + exercises::LAYER_NORM_EPS).sqrt();
        }
        dx
    };
    let v = exercises::check_layer_norm_backward(constants);
    assert!(!v.passed && v.message.contains("constants"), "{v}");
    // And normalising over the batch axis, as batch norm does.
    let batch_axis = |x: &Array2<f64>, g: &Array2<f64>| {
        layer_norm_backward(&x.t().to_owned(), &g.t().to_owned(), true)
            .t()
            .to_owned()
    };
    let v = exercises::check_layer_norm_backward(batch_axis);
    assert!(!v.passed && v.message.contains("batch norm"), "{v}");
    let nan = exercises::check_layer_norm_backward(|_, g| g.mapv(|_| f64::NAN));
    assert!(!nan.passed && nan.message.contains("NaN"), "{nan}");
    let panics = exercises::check_layer_norm_backward(|_, _| panic!("oops"));
    assert!(!panics.passed && panics.message.contains("oops"));
}
