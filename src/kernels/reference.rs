//! Reference loops: the formulas, written as nested loops to be read, not to be fast.
//!
//! Layout is NCHW throughout; `x[n][c][y][x]` lives at `((n * C + c) * H + y) * W + x`.

use super::Conv2dGeom;
use crate::Float;

// ---------------------------------------------------------------------------------------
// Convolution. y[n, co, oy, ox] = b[co] + sum over ci, ky, kx of
//                                  w[co, ci, ky, kx] * x[n, ci, oy*s + ky - p, ox*s + kx - p]
// (taps that land on the padding read zero)
// ---------------------------------------------------------------------------------------

/// Forward convolution: `y = conv(x, w) + b`, straight from the formula above.
pub fn conv2d_forward<T: Float>(x: &[T], w: &[T], b: Option<&[T]>, g: &Conv2dGeom, y: &mut [T]) {
    let (xi, wi, yi) = indexers(g);
    for n in 0..g.n {
        for co in 0..g.cout {
            for oy in 0..g.ho {
                for ox in 0..g.wo {
                    let mut acc = b.map_or(T::zero(), |b| b[co]);
                    for ci in 0..g.cin {
                        for ky in 0..g.kh {
                            for kx in 0..g.kw {
                                if let Some((iy, ix)) = g.tap(oy, ox, ky, kx) {
                                    acc += w[wi(co, ci, ky, kx)] * x[xi(n, ci, iy, ix)];
                                }
                            }
                        }
                    }
                    y[yi(n, co, oy, ox)] = acc;
                }
            }
        }
    }
}

/// `dx = dE/dx`: each input pixel collects `w * dy` from every output it fed.
pub fn conv2d_backward_input<T: Float>(dy: &[T], w: &[T], g: &Conv2dGeom, dx: &mut [T]) {
    let (xi, wi, yi) = indexers(g);
    dx.iter_mut().for_each(|v| *v = T::zero());
    for n in 0..g.n {
        for co in 0..g.cout {
            for oy in 0..g.ho {
                for ox in 0..g.wo {
                    let d = dy[yi(n, co, oy, ox)];
                    for ci in 0..g.cin {
                        for ky in 0..g.kh {
                            for kx in 0..g.kw {
                                if let Some((iy, ix)) = g.tap(oy, ox, ky, kx) {
                                    dx[xi(n, ci, iy, ix)] += w[wi(co, ci, ky, kx)] * d;
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `dw = dE/dw`: each weight collects `x * dy` over every place it was applied.
pub fn conv2d_backward_weight<T: Float>(x: &[T], dy: &[T], g: &Conv2dGeom, dw: &mut [T]) {
    let (xi, wi, yi) = indexers(g);
    dw.iter_mut().for_each(|v| *v = T::zero());
    for n in 0..g.n {
        for co in 0..g.cout {
            for oy in 0..g.ho {
                for ox in 0..g.wo {
                    let d = dy[yi(n, co, oy, ox)];
                    for ci in 0..g.cin {
                        for ky in 0..g.kh {
                            for kx in 0..g.kw {
                                if let Some((iy, ix)) = g.tap(oy, ox, ky, kx) {
                                    dw[wi(co, ci, ky, kx)] += x[xi(n, ci, iy, ix)] * d;
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `db = dE/db`: the sum of `dy` over the batch and every pixel, per output channel.
pub fn conv2d_backward_bias<T: Float>(dy: &[T], n: usize, cout: usize, db: &mut [T]) {
    let plane = dy.len() / (n * cout).max(1);
    db.iter_mut().for_each(|v| *v = T::zero());
    for img in 0..n {
        for (co, acc) in db.iter_mut().enumerate() {
            let start = (img * cout + co) * plane;
            *acc += dy[start..start + plane].iter().copied().sum::<T>();
        }
    }
}

/// Flat-index functions for x `[n, cin, h, w]`, w `[cout, cin, kh, kw]`, y `[n, cout, ho, wo]`.
#[allow(clippy::type_complexity)]
fn indexers(
    g: &Conv2dGeom,
) -> (
    impl Fn(usize, usize, usize, usize) -> usize,
    impl Fn(usize, usize, usize, usize) -> usize,
    impl Fn(usize, usize, usize, usize) -> usize,
) {
    let g = *g;
    (
        move |n, c, y, x| ((n * g.cin + c) * g.h + y) * g.w + x,
        move |co, ci, ky, kx| ((co * g.cin + ci) * g.kh + ky) * g.kw + kx,
        move |n, c, y, x| ((n * g.cout + c) * g.ho + y) * g.wo + x,
    )
}

// ---------------------------------------------------------------------------------------
// Batch normalisation over (N, H, W) per channel (Ioffe and Szegedy 2015).
//   xhat = (x - mean) / sqrt(var + eps),   y = gamma * xhat + beta
// ---------------------------------------------------------------------------------------

/// Per-channel mean and biased variance of `x` `[n, c, plane]` over the batch and the plane.
/// (Sums are carried in `f64`: a channel of a CIFAR batch holds 131,072 values.)
pub fn channel_stats<T: Float>(x: &[T], n: usize, c: usize, plane: usize) -> (Vec<T>, Vec<T>) {
    let m = (n * plane) as f64;
    let mut mean = vec![T::zero(); c];
    let mut var = vec![T::zero(); c];
    for ch in 0..c {
        let values = (0..n).flat_map(|i| {
            x[(i * c + ch) * plane..][..plane]
                .iter()
                .map(|v| v.as_f64())
        });
        let mu = values.clone().sum::<f64>() / m;
        mean[ch] = T::cast(mu);
        var[ch] = T::cast(values.map(|v| (v - mu) * (v - mu)).sum::<f64>() / m);
    }
    (mean, var)
}

/// `y = gamma * (x - mean) * inv_std + beta`, per channel.
pub fn batch_norm_apply<T: Float>(
    x: &[T],
    (n, c, plane): (usize, usize, usize),
    mean: &[T],
    inv_std: &[T],
    gamma: &[T],
    beta: &[T],
    y: &mut [T],
) {
    for i in 0..n {
        for ch in 0..c {
            let at = (i * c + ch) * plane;
            for k in at..at + plane {
                y[k] = gamma[ch] * (x[k] - mean[ch]) * inv_std[ch] + beta[ch];
            }
        }
    }
}

/// The full backward of training-mode batch norm, with the terms through the batch mean
/// and variance (m = N H W elements per channel):
///
///   dgamma = sum(dy * xhat),  dbeta = sum(dy),
///   dx = gamma * inv_std / m * (m * dy - dbeta - xhat * dgamma)
///
/// In eval mode the statistics are constants, so `dx = gamma * inv_std * dy` (`training =
/// false`). Returns `(dx, dgamma, dbeta)`.
pub fn batch_norm_backward<T: Float>(
    x: &[T],
    dy: &[T],
    (n, c, plane): (usize, usize, usize),
    mean: &[T],
    inv_std: &[T],
    gamma: &[T],
    training: bool,
) -> (Vec<T>, Vec<T>, Vec<T>) {
    let m = T::cast((n * plane) as f64);
    let mut dgamma = vec![T::zero(); c];
    let mut dbeta = vec![T::zero(); c];
    for i in 0..n {
        for ch in 0..c {
            let at = (i * c + ch) * plane;
            for k in at..at + plane {
                dgamma[ch] += dy[k] * (x[k] - mean[ch]) * inv_std[ch];
                dbeta[ch] += dy[k];
            }
        }
    }
    let mut dx = vec![T::zero(); x.len()];
    for i in 0..n {
        for ch in 0..c {
            let at = (i * c + ch) * plane;
            for k in at..at + plane {
                dx[k] = if training {
                    let xhat = (x[k] - mean[ch]) * inv_std[ch];
                    gamma[ch] * inv_std[ch] / m * (m * dy[k] - dbeta[ch] - xhat * dgamma[ch])
                } else {
                    gamma[ch] * inv_std[ch] * dy[k]
                };
            }
        }
    }
    (dx, dgamma, dbeta)
}

// ---------------------------------------------------------------------------------------
// Pooling over k x k windows with a stride and padding, per (n, c) plane.
// ---------------------------------------------------------------------------------------

/// The shapes of one pooling: planes of `h x w` in, `ho x wo` out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolGeom {
    /// Number of planes, N * C.
    pub planes: usize,
    /// Input height.
    pub h: usize,
    /// Input width.
    pub w: usize,
    /// Window size (k x k).
    pub k: usize,
    /// Stride.
    pub stride: usize,
    /// Padding.
    pub pad: usize,
    /// Output height.
    pub ho: usize,
    /// Output width.
    pub wo: usize,
}

impl PoolGeom {
    /// Input pixel under window tap `(ky, kx)` of output `(oy, ox)`, if not padding.
    #[inline]
    pub fn tap(&self, oy: usize, ox: usize, ky: usize, kx: usize) -> Option<(usize, usize)> {
        let iy = (oy * self.stride + ky).checked_sub(self.pad)?;
        let ix = (ox * self.stride + kx).checked_sub(self.pad)?;
        (iy < self.h && ix < self.w).then_some((iy, ix))
    }
}

/// Max pooling: each output is the largest input in its window (padding never wins).
/// Also returns, per output, the flat index in its plane of the input that won.
pub fn max_pool2d_forward<T: Float>(x: &[T], g: &PoolGeom, y: &mut [T]) -> Vec<u32> {
    let mut argmax = vec![0u32; y.len()];
    for p in 0..g.planes {
        for oy in 0..g.ho {
            for ox in 0..g.wo {
                let mut best = (T::neg_infinity(), 0);
                for ky in 0..g.k {
                    for kx in 0..g.k {
                        if let Some((iy, ix)) = g.tap(oy, ox, ky, kx) {
                            let v = x[(p * g.h + iy) * g.w + ix];
                            if v > best.0 || (v.is_nan() && !best.0.is_nan()) {
                                best = (v, iy * g.w + ix);
                            }
                        }
                    }
                }
                let o = (p * g.ho + oy) * g.wo + ox;
                y[o] = best.0;
                argmax[o] = best.1 as u32;
            }
        }
    }
    argmax
}

/// Max pooling backward: each output's gradient goes to the input that won its window.
pub fn max_pool2d_backward<T: Float>(dy: &[T], argmax: &[u32], g: &PoolGeom, dx: &mut [T]) {
    dx.iter_mut().for_each(|v| *v = T::zero());
    let out_plane = g.ho * g.wo;
    for (o, (&d, &a)) in dy.iter().zip(argmax).enumerate() {
        let p = o / out_plane;
        dx[p * g.h * g.w + a as usize] += d;
    }
}

/// Average pooling: the window's sum divided by k*k, padding counted as zeros (PyTorch's
/// default, `count_include_pad=True`).
pub fn avg_pool2d_forward<T: Float>(x: &[T], g: &PoolGeom, y: &mut [T]) {
    let area = T::cast((g.k * g.k) as f64);
    for p in 0..g.planes {
        for oy in 0..g.ho {
            for ox in 0..g.wo {
                let mut acc = T::zero();
                for ky in 0..g.k {
                    for kx in 0..g.k {
                        if let Some((iy, ix)) = g.tap(oy, ox, ky, kx) {
                            acc += x[(p * g.h + iy) * g.w + ix];
                        }
                    }
                }
                y[(p * g.ho + oy) * g.wo + ox] = acc / area;
            }
        }
    }
}

/// Average pooling backward: each output's gradient, divided by k*k, to every input in
/// its window.
pub fn avg_pool2d_backward<T: Float>(dy: &[T], g: &PoolGeom, dx: &mut [T]) {
    let area = T::cast((g.k * g.k) as f64);
    dx.iter_mut().for_each(|v| *v = T::zero());
    for p in 0..g.planes {
        for oy in 0..g.ho {
            for ox in 0..g.wo {
                let d = dy[(p * g.ho + oy) * g.wo + ox] / area;
                for ky in 0..g.k {
                    for kx in 0..g.k {
                        if let Some((iy, ix)) = g.tap(oy, ox, ky, kx) {
                            dx[(p * g.h + iy) * g.w + ix] += d;
                        }
                    }
                }
            }
        }
    }
}
