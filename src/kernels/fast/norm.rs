//! Fast batch norm, `f32`: channels in parallel, each plane in 16-lane chunks, sums carried
//! across planes in `f64` in a fixed order (so results repeat bit for bit).
//!
//! Every function must equal its namesake in [`crate::kernels::reference`].

use rayon::prelude::*;

/// `(sum x, sum x * y)` over one plane, 16 lanes at a time (the compiler vectorises the
/// fixed-width accumulator), finished in `f64`.
fn sums(x: &[f32], y: Option<&[f32]>) -> (f64, f64) {
    let mut s = [0f32; 16];
    let mut sxy = [0f32; 16];
    let xc = x.chunks_exact(16);
    let tail_x = xc.remainder();
    match y {
        None => {
            for cx in xc {
                for j in 0..16 {
                    s[j] += cx[j];
                }
            }
        }
        Some(y) => {
            for (cx, cy) in xc.zip(y.chunks_exact(16)) {
                for j in 0..16 {
                    s[j] += cx[j];
                    sxy[j] += cx[j] * cy[j];
                }
            }
        }
    }
    let mut total = s.iter().map(|&v| v as f64).sum::<f64>();
    let mut total_xy = sxy.iter().map(|&v| v as f64).sum::<f64>();
    let start = x.len() - tail_x.len();
    for (k, &v) in tail_x.iter().enumerate() {
        total += v as f64;
        if let Some(y) = y {
            total_xy += v as f64 * y[start + k] as f64;
        }
    }
    (total, total_xy)
}

/// Sum over one plane of `(x - mean)^2`, 16 lanes at a time.
fn squared_deviation(x: &[f32], mean: f32) -> f64 {
    let mut s = [0f32; 16];
    let xc = x.chunks_exact(16);
    let tail = xc.remainder();
    for cx in xc {
        for j in 0..16 {
            let d = cx[j] - mean;
            s[j] += d * d;
        }
    }
    s.iter().map(|&v| v as f64).sum::<f64>()
        + tail
            .iter()
            .map(|&v| ((v - mean) as f64).powi(2))
            .sum::<f64>()
}

fn planes(x: &[f32], n: usize, c: usize, plane: usize, ch: usize) -> impl Iterator<Item = &[f32]> {
    (0..n).map(move |i| &x[(i * c + ch) * plane..][..plane])
}

/// Fast [`reference::channel_stats`](crate::kernels::reference::channel_stats).
pub fn channel_stats(x: &[f32], n: usize, c: usize, plane: usize) -> (Vec<f32>, Vec<f32>) {
    let m = (n * plane) as f64;
    (0..c)
        .into_par_iter()
        .map(|ch| {
            let mean = planes(x, n, c, plane, ch)
                .map(|p| sums(p, None).0)
                .sum::<f64>()
                / m;
            let var = planes(x, n, c, plane, ch)
                .map(|p| squared_deviation(p, mean as f32))
                .sum::<f64>()
                / m;
            (mean as f32, var as f32)
        })
        .unzip()
}

/// Fast [`reference::batch_norm_apply`](crate::kernels::reference::batch_norm_apply):
/// `y = x * scale + shift` with `scale = gamma inv_std`, `shift = beta - mean scale`.
pub fn batch_norm_apply(
    x: &[f32],
    (_n, c, plane): (usize, usize, usize),
    mean: &[f32],
    inv_std: &[f32],
    gamma: &[f32],
    beta: &[f32],
    y: &mut [f32],
) {
    y.par_chunks_mut(plane.max(1))
        .zip(x.par_chunks(plane.max(1)))
        .enumerate()
        .for_each(|(k, (yp, xp))| {
            let ch = k % c;
            let scale = gamma[ch] * inv_std[ch];
            let shift = beta[ch] - mean[ch] * scale;
            for (yv, &xv) in yp.iter_mut().zip(xp) {
                *yv = xv * scale + shift;
            }
        });
}

/// Fast [`reference::batch_norm_backward`](crate::kernels::reference::batch_norm_backward).
/// With `dgamma = inv_std (sum dy x - mean sum dy)` and `dbeta = sum dy`, the training
/// formula `gamma inv_std / m (m dy - dbeta - xhat dgamma)` is `a dy + b x + c` per channel.
#[allow(clippy::too_many_arguments)]
pub fn batch_norm_backward(
    x: &[f32],
    dy: &[f32],
    (n, c, plane): (usize, usize, usize),
    mean: &[f32],
    inv_std: &[f32],
    gamma: &[f32],
    training: bool,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let m = (n * plane) as f64;
    let (dgamma, dbeta): (Vec<f32>, Vec<f32>) = (0..c)
        .into_par_iter()
        .map(|ch| {
            let (sdy, sdyx) = planes(dy, n, c, plane, ch)
                .zip(planes(x, n, c, plane, ch))
                .map(|(d, xp)| sums(d, Some(xp)))
                .fold((0.0, 0.0), |(a, b), (p, q)| (a + p, b + q));
            let dgamma = inv_std[ch] as f64 * (sdyx - mean[ch] as f64 * sdy);
            (dgamma as f32, sdy as f32)
        })
        .unzip();
    let coefficients: Vec<(f32, f32, f32)> = (0..c)
        .map(|ch| {
            let (g, s, mu) = (gamma[ch] as f64, inv_std[ch] as f64, mean[ch] as f64);
            if training {
                let (dg, db) = (dgamma[ch] as f64, dbeta[ch] as f64);
                let b = -g * s * s * dg / m;
                ((g * s) as f32, b as f32, (-g * s * db / m - b * mu) as f32)
            } else {
                ((g * s) as f32, 0.0, 0.0)
            }
        })
        .collect();
    let mut dx = vec![0.0f32; x.len()];
    dx.par_chunks_mut(plane.max(1))
        .zip(dy.par_chunks(plane.max(1)).zip(x.par_chunks(plane.max(1))))
        .enumerate()
        .for_each(|(k, (dxp, (dyp, xp)))| {
            let (a, b, cc) = coefficients[k % c];
            for ((d, &g), &xv) in dxp.iter_mut().zip(dyp).zip(xp) {
                *d = a * g + b * xv + cc;
            }
        });
    (dx, dgamma, dbeta)
}
