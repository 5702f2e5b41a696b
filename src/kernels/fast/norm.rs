//! Fast batch norm, `f32`: channels in parallel, each plane in 16-lane chunks, sums carried
//! across planes in `f64` in a fixed order (so results repeat bit for bit).
//!
//! Every function must equal its namesake in [`crate::kernels::reference`].

use std::mem::MaybeUninit;

use rayon::prelude::*;

use super::elementwise::{CHUNK, written};

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

/// `v` if `y > 0`, else `+0.0` (also when `y` is NaN): relu's rule, `if y > 0 { v } else
/// { 0 }`, written as a bit mask so that the loops around it compile to vector code.
#[inline(always)]
fn keep_if_positive(v: f32, y: f32) -> f32 {
    f32::from_bits(v.to_bits() & 0u32.wrapping_sub((y > 0.0) as u32))
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

/// `f(ch)` for every channel: on both cores when the tensor (`len` values) is large, on the
/// calling thread when it is small (a `[N, C]` batch of an MLP), where waking the pool would
/// cost more than the sums. Each channel's arithmetic is the same either way.
fn per_channel<R: Send>(c: usize, len: usize, f: impl Fn(usize) -> R + Sync + Send) -> Vec<R> {
    if len <= CHUNK {
        (0..c).map(f).collect()
    } else {
        (0..c).into_par_iter().map(f).collect()
    }
}

/// `out[i] = f(channel, a_i, b_i)` plane by plane, in tasks of whole samples of at least
/// [`CHUNK`] values (one task when the tensor is small). `a`, and `b` where there is one,
/// have `out`'s length and are read at the same index: `f` is given each plane of `out`
/// with the same plane of `a` and of `b`, all of one length.
fn per_plane(
    (c, plane): (usize, usize),
    (a, b): (&[f32], Option<&[f32]>),
    out: &mut [MaybeUninit<f32>],
    f: impl Fn(usize, &[f32], Option<&[f32]>, &mut [MaybeUninit<f32>]) + Sync,
) {
    assert!(
        a.len() == out.len() && b.is_none_or(|b| b.len() == out.len()),
        "per_plane: the inputs must have the output's length"
    );
    let plane = plane.max(1);
    let sample = (c * plane).max(1);
    let task = CHUNK.div_ceil(sample) * sample;
    let run = |start: usize, out: &mut [MaybeUninit<f32>]| {
        for (p, o) in out.chunks_mut(plane).enumerate() {
            let at = start + p * plane;
            let ch = (start / plane + p) % c;
            f(ch, &a[at..at + o.len()], b.map(|b| &b[at..at + o.len()]), o);
        }
    };
    if out.len() <= task {
        run(0, out);
    } else {
        out.par_chunks_mut(task)
            .enumerate()
            .for_each(|(t, o)| run(t * task, o));
    }
}

/// Checks the sizes of a batch norm call `what`, in O(1): `x` (`x_len` values) must hold
/// `n c plane`, each per-channel slice (`channels`, by name) `c` values, and each present
/// per-element slice (`elements`) as many as `x`. The loops below trust these lengths.
fn check_dims<const C: usize, const E: usize>(
    what: &str,
    x_len: usize,
    (n, c, plane): (usize, usize, usize),
    channels: [(&str, &[f32]); C],
    elements: [(&str, Option<&[f32]>); E],
) {
    let size = n.checked_mul(c).and_then(|v| v.checked_mul(plane));
    assert!(
        size == Some(x_len),
        "{what}: x has {x_len} values, but dims (n, c, plane) = ({n}, {c}, {plane}) make {}; \
         x must hold n c plane values",
        size.map_or("more than usize::MAX".into(), |s| s.to_string())
    );
    for (name, v) in channels {
        assert!(
            v.len() == c,
            "{what}: {name} has length {}, for {c} channels; it must hold one value per channel",
            v.len()
        );
    }
    for (name, v) in elements {
        if let Some(v) = v {
            assert!(
                v.len() == x_len,
                "{what}: {name} has length {} and x {x_len}; they must have the same length",
                v.len()
            );
        }
    }
}

/// Fast [`reference::channel_stats`](crate::kernels::reference::channel_stats).
pub fn channel_stats(x: &[f32], n: usize, c: usize, plane: usize) -> (Vec<f32>, Vec<f32>) {
    let m = (n * plane) as f64;
    per_channel(c, x.len(), |ch| {
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
    .into_iter()
    .unzip()
}

/// Fast [`reference::batch_norm_apply`](crate::kernels::reference::batch_norm_apply):
/// `y = x * scale + shift` with `scale = gamma inv_std`, `shift = beta - mean scale`. A
/// `relu` tail works in the same pass: `Some(None)` gives `relu(x * scale + shift)`,
/// `Some(Some(s))` gives `relu(x * scale + shift + s)`, the same numbers as
/// [`Var::relu`](crate::Var::relu) and [`Var::add_relu`](crate::Var::add_relu) on the
/// batch norm's output.
///
/// Panics unless `x` holds `n c plane` values, `mean`, `inv_std`, `gamma` and `beta` hold `c`,
/// and a shortcut `s` holds as many as `x`.
#[allow(clippy::too_many_arguments)]
pub fn batch_norm_apply(
    x: &[f32],
    (n, c, plane): (usize, usize, usize),
    mean: &[f32],
    inv_std: &[f32],
    gamma: &[f32],
    beta: &[f32],
    relu: Option<Option<&[f32]>>,
) -> Vec<f32> {
    let shortcut = relu.flatten();
    check_dims(
        "batch_norm_apply",
        x.len(),
        (n, c, plane),
        [
            ("mean", mean),
            ("inv_std", inv_std),
            ("gamma", gamma),
            ("beta", beta),
        ],
        [("the shortcut", shortcut)],
    );
    let coefficients: Vec<(f32, f32)> = (0..c)
        .map(|ch| {
            let scale = gamma[ch] * inv_std[ch];
            (scale, beta[ch] - mean[ch] * scale)
        })
        .collect();
    // SAFETY: `written`'s `fill` must write all of `out`: `per_plane` hands every plane of
    // `out` to the closure with the planes of x and of the shortcut, of the same length
    // (it asserts that the inputs have out's length), and each arm writes every element.
    unsafe {
        written(x.len(), |out| {
            per_plane((c, plane), (x, shortcut), out, |ch, xp, sp, yp| {
                let (scale, shift) = coefficients[ch];
                match (relu, sp) {
                    (None, _) => {
                        for (yv, &xv) in yp.iter_mut().zip(xp) {
                            yv.write(xv * scale + shift);
                        }
                    }
                    (Some(_), None) => {
                        for (yv, &xv) in yp.iter_mut().zip(xp) {
                            let v = xv * scale + shift;
                            yv.write(keep_if_positive(v, v));
                        }
                    }
                    (Some(_), Some(sp)) => {
                        for ((yv, &xv), &sv) in yp.iter_mut().zip(xp).zip(sp) {
                            let v = xv * scale + shift + sv;
                            yv.write(keep_if_positive(v, v));
                        }
                    }
                }
            })
        })
    }
}

/// Fast [`reference::batch_norm_backward`](crate::kernels::reference::batch_norm_backward).
/// With `dgamma = inv_std (sum dy x - mean sum dy)` and `dbeta = sum dy`, the training
/// formula `gamma inv_std / m (m dy - dbeta - xhat dgamma)` is `a dy + b x + c` per channel.
///
/// `relu_y`, the output of a ReLU that followed the batch norm, masks `dy` first
/// (`dy [y > 0]`, relu's rule): the masked gradient is written once, each plane's sums taken
/// while it is in cache, and returned too (the gradient of a fused shortcut sum).
///
/// Panics unless `x` holds `n c plane` values, `dy` and `relu_y` as many, and `mean`,
/// `inv_std` and `gamma` hold `c`.
#[allow(clippy::too_many_arguments)]
pub fn batch_norm_backward(
    x: &[f32],
    dy: &[f32],
    relu_y: Option<&[f32]>,
    (n, c, plane): (usize, usize, usize),
    mean: &[f32],
    inv_std: &[f32],
    gamma: &[f32],
    training: bool,
) -> (Vec<f32>, Vec<f32>, Vec<f32>, Option<Vec<f32>>) {
    check_dims(
        "batch_norm_backward",
        x.len(),
        (n, c, plane),
        [("mean", mean), ("inv_std", inv_std), ("gamma", gamma)],
        [("dy", Some(dy)), ("relu_y", relu_y)],
    );
    let m = (n * plane) as f64;
    let masked = relu_y.map(|y| masked_with_sums(dy, x, y, (c, plane)));
    let (dgamma, dbeta): (Vec<f32>, Vec<f32>) = per_channel(c, x.len(), |ch| {
        let (sdy, sdyx) = match &masked {
            None => planes(dy, n, c, plane, ch)
                .zip(planes(x, n, c, plane, ch))
                .map(|(d, xp)| sums(d, Some(xp)))
                .fold((0.0, 0.0), |(a, b), (p, q)| (a + p, b + q)),
            // The planes' sums in the same order, sample after sample.
            Some((_, partial)) => (0..n)
                .map(|i| partial[i * c + ch])
                .fold((0.0, 0.0), |(a, b), (p, q)| (a + p, b + q)),
        };
        let dgamma = inv_std[ch] as f64 * (sdyx - mean[ch] as f64 * sdy);
        (dgamma as f32, sdy as f32)
    })
    .into_iter()
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
    let g = masked.as_ref().map_or(dy, |(d, _)| &d[..]);
    // SAFETY: `written`'s `fill` must write all of `out`: `per_plane` hands every plane of
    // `out` to the closure with the planes of the gradient and of x, of the same length (it
    // asserts that the inputs have out's length), and the loop writes every element.
    let dx = unsafe {
        written(x.len(), |out| {
            per_plane((c, plane), (g, Some(x)), out, |ch, gp, xp, dxp| {
                let (a, b, cc) = coefficients[ch];
                let xp = xp.expect("x is passed to per_plane as Some");
                for ((d, &g), &xv) in dxp.iter_mut().zip(gp).zip(xp) {
                    d.write(a * g + b * xv + cc);
                }
            })
        })
    };
    (dx, dgamma, dbeta, masked.map(|(d, _)| d))
}

/// `dy [y > 0]`, and each plane's `(sum dy', sum dy' x)` by [`sums`] (in plane order,
/// sample-major), from one pass: the planes in tasks of whole samples, as [`per_plane`].
fn masked_with_sums(
    dy: &[f32],
    x: &[f32],
    y: &[f32],
    (c, plane): (usize, usize),
) -> (Vec<f32>, Vec<(f64, f64)>) {
    let plane = plane.max(1);
    // One entry per plane of `out`, a short last plane included.
    let mut partial = vec![(0.0, 0.0); dy.len().div_ceil(plane)];
    let task_planes = CHUNK.div_ceil((c * plane).max(1)).max(1) * c;
    let run = |first: usize, out: &mut [MaybeUninit<f32>], part: &mut [(f64, f64)]| {
        for (p, (o, s)) in out.chunks_mut(plane).zip(part).enumerate() {
            let at = (first + p) * plane;
            for (j, v) in o.iter_mut().enumerate() {
                v.write(keep_if_positive(dy[at + j], y[at + j]));
            }
            // SAFETY: every element of `o` was written just above, and MaybeUninit<f32> has
            // f32's layout.
            let o = unsafe { &*(o as *const [MaybeUninit<f32>] as *const [f32]) };
            *s = sums(o, Some(&x[at..at + o.len()]));
        }
    };
    // SAFETY: `written`'s `fill` must write all of `out`: the tasks' chunks cover `out`, and
    // `run` writes every plane of its chunk, since `partial` has one entry per plane (a
    // short last plane included) and the zip in `run` stops at neither side early.
    let masked = unsafe {
        written(dy.len(), |out| {
            if dy.len() <= task_planes * plane {
                run(0, out, &mut partial);
            } else {
                out.par_chunks_mut(task_planes * plane)
                    .zip(partial.par_chunks_mut(task_planes))
                    .enumerate()
                    .for_each(|(t, (o, part))| run(t * task_planes, o, part));
            }
        })
    };
    (masked, partial)
}
