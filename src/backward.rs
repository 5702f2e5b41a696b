//! The table of derivatives: every op's backward rule, in one `match`.
//!
//! Each arm receives the op's inputs `x`, its output `y` and the gradient of the loss with
//! respect to the output, `g = dE/dy`. It returns `dE/dx_i` for each input (`None` where
//! that input needs no gradient). The chain rule is the `g * ...` in every arm; the comment
//! above each arm is the local derivative.
//!
//! `docs/derivatives.md` is generated from this file: each `// ---- section ----` comment
//! becomes a heading and the comment above each arm becomes that op's row
//! (`tests/derivatives_doc.rs` fails when the page is out of date, and regenerates it with
//! `RESGRAD_BLESS=1`).

use ndarray::{ArrayD, Axis, IxDyn, Slice, Zip, s};

use crate::arrays::{
    keepdim_shape, matmul_values, reduce_to_shape, slice, softmax_values, sum_over,
};
use crate::float::Float;
use crate::kernels::{self, Conv2dGeom};
use crate::op::{CustomOp, Op};

type Gradients<T> = std::result::Result<Vec<Option<ArrayD<T>>>, String>;

/// `dE/dx_i` for every input `x_i` of `op`, given `g = dE/dy`.
pub fn backward<T: Float>(
    op: &Op<T>,
    x: &[&ArrayD<T>],
    y: &ArrayD<T>,
    g: &ArrayD<T>,
    needs: &[bool],
) -> Gradients<T> {
    // Only compute the gradient of input `i` if something upstream of it wants one.
    let want = |i: usize, f: &dyn Fn() -> ArrayD<T>| needs[i].then(f);
    let two = T::cast(2.0);
    Ok(match op {
        // ---- leaves ----
        // inputs, parameters and constants have no inputs: nothing to pass back
        Op::Leaf { .. } | Op::Constant => vec![],

        // ---- elementwise, binary (broadcast axes are summed back: reduce_to_shape) ----
        // d(a + b)/da = 1, d(a + b)/db = 1
        Op::Add => vec![
            want(0, &|| reduce_to_shape(g, x[0].shape())),
            want(1, &|| reduce_to_shape(g, x[1].shape())),
        ],
        // d(a - b)/da = 1, d(a - b)/db = -1
        Op::Sub => vec![
            want(0, &|| reduce_to_shape(g, x[0].shape())),
            want(1, &|| reduce_to_shape(&g.mapv(|v| -v), x[1].shape())),
        ],
        // d(a * b)/da = b, d(a * b)/db = a
        Op::Mul => vec![
            want(0, &|| reduce_to_shape(&(g * x[1]), x[0].shape())),
            want(1, &|| reduce_to_shape(&(g * x[0]), x[1].shape())),
        ],
        // d(a / b)/da = 1 / b, d(a / b)/db = -a / b^2
        Op::Div => vec![
            want(0, &|| reduce_to_shape(&(g / x[1]), x[0].shape())),
            want(1, &|| {
                let ab2 = Zip::from(&g.view())
                    .and_broadcast(x[0])
                    .and_broadcast(x[1])
                    .map_collect(|&g, &a, &b| -g * a / (b * b));
                reduce_to_shape(&ab2, x[1].shape())
            }),
        ],

        // ---- elementwise, unary: d f(a)/da ----
        // d(-a)/da = -1
        Op::Neg => vec![Some(g.mapv(|v| -v))],
        // d(a + c)/da = 1
        Op::AddScalar(_) => vec![Some(g.clone())],
        // d(c a)/da = c
        Op::MulScalar(c) => vec![Some(g * T::cast(*c))],
        // d(a^p)/da = p a^(p-1)
        Op::PowScalar(p) => {
            let p = T::cast(*p);
            vec![Some(zip(g, x[0], |g, a| g * p * a.powf(p - T::one())))]
        }
        // d sqrt(a)/da = 1 / (2 sqrt(a)) = 1 / (2y)
        Op::Sqrt => vec![Some(zip(g, y, |g, y| g / (two * y)))],
        // d e^a/da = e^a = y
        Op::Exp => vec![Some(g * y)],
        // d ln(a)/da = 1 / a
        Op::Log => vec![Some(g / x[0])],
        // d relu(a)/da = 1 if a > 0 else 0
        Op::Relu => vec![Some(zip(g, x[0], |g, a| {
            if a > T::zero() { g } else { T::zero() }
        }))],
        // d sigmoid(a)/da = y (1 - y)
        Op::Sigmoid => vec![Some(zip(g, y, |g, y| g * y * (T::one() - y)))],
        // d tanh(a)/da = 1 - y^2
        Op::Tanh => vec![Some(zip(g, y, |g, y| g * (T::one() - y * y)))],

        // ---- linear algebra ----
        // C = A B:  dA = G B^T,  dB = A^T G  (per batch; summed over the batch when B is shared)
        Op::MatMul => {
            let (a, b) = (x[0], x[1]);
            vec![
                want(0, &|| matmul_values(g, &swap_last(b))),
                want(1, &|| {
                    if a.ndim() == 3 && b.ndim() == 2 {
                        let (bm, k, n) = (a.shape()[0] * a.shape()[1], a.shape()[2], g.shape()[2]);
                        let a2 = a
                            .view()
                            .into_shape_with_order((bm, k))
                            .expect("standard layout");
                        let g2 = g
                            .view()
                            .into_shape_with_order((bm, n))
                            .expect("standard layout");
                        a2.t().dot(&g2).into_dyn()
                    } else {
                        matmul_values(&swap_last(a), g)
                    }
                }),
            ]
        }

        // ---- reductions ----
        // d sum(a)/da_i = 1: the gradient is copied back to every summed element
        Op::Sum { axes, keepdim } => vec![Some(expand(g, x[0].shape(), axes, *keepdim))],
        // d mean(a)/da_i = 1 / n
        Op::Mean { axes, keepdim } => {
            let n: usize = axes.iter().map(|&a| x[0].shape()[a]).product();
            vec![Some(
                expand(g, x[0].shape(), axes, *keepdim) / T::cast(n.max(1) as f64),
            )]
        }
        // d max(a)/da_i = 1 for the (first) argmax, 0 elsewhere
        Op::Max {
            axis,
            keepdim,
            argmax,
        } => {
            let mut gx = ArrayD::zeros(x[0].raw_dim());
            let g = if *keepdim {
                g.index_axis(Axis(*axis), 0)
            } else {
                g.view()
            };
            for ((mut lane, &gv), &i) in gx
                .lanes_mut(Axis(*axis))
                .into_iter()
                .zip(g.iter())
                .zip(argmax.iter())
            {
                lane[i] = gv;
            }
            vec![Some(gx)]
        }

        // ---- shape: the gradient is moved back to where each element came from ----
        // reshape: the same elements, so the gradient takes the input's shape
        Op::Reshape => vec![Some(
            g.clone()
                .into_shape_with_order(IxDyn(x[0].shape()))
                .map_err(|e| e.to_string())?,
        )],
        // permute by perm: undone by the inverse permutation
        Op::Permute(perm) => {
            let mut inverse = vec![0; perm.len()];
            for (i, &p) in perm.iter().enumerate() {
                inverse[p] = i;
            }
            vec![Some(
                g.view()
                    .permuted_axes(IxDyn(&inverse))
                    .as_standard_layout()
                    .into_owned(),
            )]
        }
        // slice: the gradient lands in the slice, zero elsewhere
        Op::Slice { axis, start, end } => {
            let mut gx = ArrayD::zeros(x[0].raw_dim());
            gx.slice_axis_mut(Axis(*axis), Slice::from(*start..*end))
                .assign(g);
            vec![Some(gx)]
        }
        // concat: each part gets its own stretch of the gradient
        Op::Concat { axis } => {
            let mut at = 0;
            x.iter()
                .enumerate()
                .map(|(i, xi)| {
                    let len = xi.shape()[*axis];
                    let part = needs[i].then(|| {
                        g.slice_axis(Axis(*axis), Slice::from(at..at + len))
                            .to_owned()
                    });
                    at += len;
                    part
                })
                .collect()
        }
        // stack: part i gets index i of the new axis
        Op::Stack { axis } => (0..x.len())
            .map(|i| needs[i].then(|| g.index_axis(Axis(*axis), i).to_owned()))
            .collect(),

        // ---- softmax family and losses ----
        // y = softmax(a):  da = y * (g - sum(g * y))   (the Jacobian diag(y) - y y^T, applied to g)
        Op::Softmax { axis } => {
            let gy = g * y;
            let s = sum_over(&gy, &[*axis], true);
            vec![Some(gy - &(y * &s))]
        }
        // y = log_softmax(a):  da = g - softmax(a) * sum(g)
        Op::LogSoftmax { axis } => {
            let s = sum_over(g, &[*axis], true);
            vec![Some(g - &(y.mapv(T::exp) * &s))]
        }
        // L = mean_i (logsumexp(a_i) - a_i[label_i]):  da = (softmax(a) - onehot(label)) / N
        Op::CrossEntropy { labels } => {
            let n = T::cast(labels.len() as f64);
            let mut d = softmax_values(x[0], 1);
            for (i, &l) in labels.iter().enumerate() {
                d[[i, l]] -= T::one();
            }
            let scale = g.iter().next().copied().unwrap_or(T::zero()) / n;
            vec![Some(d * scale)]
        }
        // L = mean((a - b)^2):  da = 2 (a - b) / n,  db = -da
        Op::Mse => {
            let n = T::cast(x[0].len().max(1) as f64);
            let scale = g.iter().next().copied().unwrap_or(T::zero()) * two / n;
            let da = (x[0] - x[1]) * scale;
            let db = needs[1].then(|| da.mapv(|v| -v));
            vec![Some(da), db]
        }

        // ---- convolution, normalisation, pooling: the loops are in crate::kernels ----
        // y = conv(x, w) + b:  dx[n,ci,iy,ix] = sum w[co,ci,ky,kx] dy[n,co,oy,ox] over the taps that read it,
        //                      dw[co,ci,ky,kx] = sum over n, oy, ox of dy[n,co,oy,ox] x[n,ci,tap],  db[co] = sum dy[n,co,..]
        Op::Conv2d {
            stride,
            padding,
            has_bias,
        } => {
            let geo = Conv2dGeom::new(x[0].shape(), x[1].shape(), *stride, *padding)?;
            let dy = slice(g);
            let mut out = vec![
                want(0, &|| {
                    let mut dx = ArrayD::zeros(x[0].raw_dim());
                    kernels::conv2d_backward_input(dy, slice(x[1]), &geo, slice_mut(&mut dx));
                    dx
                }),
                want(1, &|| {
                    let mut dw = ArrayD::zeros(x[1].raw_dim());
                    kernels::conv2d_backward_weight(slice(x[0]), dy, &geo, slice_mut(&mut dw));
                    dw
                }),
            ];
            if *has_bias {
                out.push(want(2, &|| {
                    let mut db = ArrayD::zeros(x[2].raw_dim());
                    kernels::reference::conv2d_backward_bias(
                        dy,
                        geo.n,
                        geo.cout,
                        slice_mut(&mut db),
                    );
                    db
                }));
            }
            out
        }
        // y = gamma xhat + beta, xhat = (x - mean) inv_std, m values per channel:
        //   dgamma = sum dy xhat,  dbeta = sum dy,
        //   training: dx = gamma inv_std / m (m dy - dbeta - xhat dgamma)  (through the batch mean and variance)
        //   eval:     dx = gamma inv_std dy                                 (the statistics are constants)
        Op::BatchNorm2d {
            training,
            mean,
            inv_std,
        } => batch_norm_grads(x, g, None, mean, inv_std, *training)?,
        // max pool: dx = dy at the input that won each window, 0 elsewhere
        Op::MaxPool2d { geom, argmax } => {
            let mut dx = ArrayD::zeros(x[0].raw_dim());
            kernels::max_pool2d_backward(slice(g), argmax, geom, slice_mut(&mut dx));
            vec![Some(dx)]
        }
        // avg pool: dx = dy / k^2 on every input of each window
        Op::AvgPool2d { geom } => {
            let mut dx = ArrayD::zeros(x[0].raw_dim());
            kernels::avg_pool2d_backward(slice(g), geom, slice_mut(&mut dx));
            vec![Some(dx)]
        }
        // option-A shortcut: the input's channels of dy go back to the pixels that were kept
        Op::ZeroPadShortcut { before, stride } => {
            let (c, step) = (x[0].shape()[1], *stride as isize);
            let mut dx = ArrayD::zeros(x[0].raw_dim());
            dx.slice_mut(s![.., .., ..;step, ..;step])
                .assign(&g.slice(s![.., *before..*before + c, .., ..]));
            vec![Some(dx)]
        }

        // ---- fused: relu after batch norm or after a sum, one node instead of two ----
        // y = relu(BN(x)):  the batch norm rule with dy = g [y > 0]  (y > 0 exactly where BN(x) > 0,
        //                   so the mask comes from y and BN's own output is never kept)
        Op::BatchNorm2dRelu {
            training,
            mean,
            inv_std,
        } => batch_norm_grads(x, g, Some(y), mean, inv_std, *training)?,
        // y = relu(BN(x) + s):  the batch norm rule with dy = g [y > 0],  ds = g [y > 0]
        //                       (the mask from y: neither BN's output nor the sum is kept)
        Op::BatchNorm2dAddRelu {
            training,
            mean,
            inv_std,
        } => batch_norm_grads(x, g, Some(y), mean, inv_std, *training)?,
        // y = relu(a + b):  da = g [y > 0],  db = g [y > 0]  (the mask from y: the sum is never kept)
        Op::AddRelu => {
            let g = relu_mask(g, y);
            if needs == [true, true] && x[0].shape() == g.shape() && x[1].shape() == g.shape() {
                // Both inputs get the masked gradient itself: one copy, one move.
                vec![Some(g.clone()), Some(g)]
            } else {
                vec![
                    want(0, &|| reduce_to_shape(&g, x[0].shape())),
                    want(1, &|| reduce_to_shape(&g, x[1].shape())),
                ]
            }
        }

        // ---- ops written outside the crate ----
        // the op's own backward, checked to return one gradient per input
        Op::Custom(c) => return custom_backward(c.as_ref(), x, y, g),
    })
}

/// Batch norm's gradients `[dx, dgamma, dbeta]` for the inputs `x = [x, gamma, beta]`,
/// given `g = dE/dy` (the formula is above the `BatchNorm2d` arm); with `relu_y`, the
/// fused ReLU's output, `g` is masked by `relu_y > 0` first, and a fourth input (a fused
/// shortcut sum) gets that masked gradient.
fn batch_norm_grads<T: Float>(
    x: &[&ArrayD<T>],
    g: &ArrayD<T>,
    relu_y: Option<&ArrayD<T>>,
    mean: &[T],
    inv_std: &[T],
    training: bool,
) -> Gradients<T> {
    let s = x[0].shape();
    let dims = (s[0], s[1], s[2..].iter().product());
    let (dx, dgamma, dbeta, masked) = kernels::batch_norm_backward(
        slice(x[0]),
        slice(g),
        relu_y.map(slice),
        dims,
        mean,
        inv_std,
        slice(x[1]),
        training,
    );
    let shaped = |v: Vec<T>, like: &ArrayD<T>| {
        ArrayD::from_shape_vec(like.raw_dim(), v).map_err(|e| e.to_string())
    };
    let mut out = vec![
        Some(shaped(dx, x[0])?),
        Some(shaped(dgamma, x[1])?),
        Some(shaped(dbeta, x[2])?),
    ];
    // A fused shortcut sum, the fourth input, gets the masked gradient itself.
    if let (Some(s), Some(masked)) = (x.get(3), masked) {
        out.push(Some(shaped(masked, s)?));
    }
    Ok(out)
}

/// `g` where the relu's output `y` is positive, 0 elsewhere: relu's backward read from its
/// output (`y > 0` exactly where the input was, NaN included, since `relu(NaN) = 0`).
fn relu_mask<T: Float>(g: &ArrayD<T>, y: &ArrayD<T>) -> ArrayD<T> {
    zip(g, y, |g, y| if y > T::zero() { g } else { T::zero() })
}

fn slice_mut<T: Float>(a: &mut ArrayD<T>) -> &mut [T] {
    a.as_slice_mut().expect("a fresh array is contiguous")
}

/// `f(g_i, a_i)` elementwise over two arrays of one shape (on both cores when they are
/// large and contiguous).
fn zip<T: Float>(g: &ArrayD<T>, a: &ArrayD<T>, f: impl Fn(T, T) -> T + Sync) -> ArrayD<T> {
    match (g.as_slice(), a.as_slice()) {
        (Some(gs), Some(xs)) if g.shape() == a.shape() => {
            let v = crate::kernels::fast::elementwise::map2(gs, xs, f);
            ArrayD::from_shape_vec(g.raw_dim(), v).expect("one value per element")
        }
        _ => Zip::from(g).and(a).map_collect(|&g, &a| f(g, a)),
    }
}

/// The matrix transpose of the last two axes, as an owned standard-layout array.
fn swap_last<T: Float>(a: &ArrayD<T>) -> ArrayD<T> {
    let n = a.ndim();
    let mut v = a.view();
    v.swap_axes(n - 2, n - 1);
    v.as_standard_layout().into_owned()
}

/// The backward of a reduction: `g` copied back over the reduced `axes` of `shape`.
fn expand<T: Float>(g: &ArrayD<T>, shape: &[usize], axes: &[usize], keepdim: bool) -> ArrayD<T> {
    let kept = if keepdim {
        g.view()
    } else {
        g.view()
            .into_shape_with_order(IxDyn(&keepdim_shape(shape, axes)))
            .expect("a reduction's gradient has the reduced element count")
    };
    kept.broadcast(IxDyn(shape))
        .expect("keepdim shape broadcasts to the input")
        .to_owned()
}

/// The backward of a [`CustomOp`]: the learner's rule, checked to return one gradient per
/// input.
fn custom_backward<T: Float>(
    op: &dyn CustomOp<T>,
    x: &[&ArrayD<T>],
    y: &ArrayD<T>,
    g: &ArrayD<T>,
) -> std::result::Result<Vec<Option<ArrayD<T>>>, String> {
    let gs = op.backward(x, y, g);
    if gs.len() != x.len() {
        return Err(format!(
            "its backward returned {} gradients for {} inputs; return one per input",
            gs.len(),
            x.len()
        ));
    }
    Ok(gs.into_iter().map(Some).collect())
}
