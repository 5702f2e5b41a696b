//! The heavy loops, apart from the tape: functions on slices and shapes.
//!
//! Each has two versions, side by side:
//! - [`reference`](mod@reference): nested loops written to be read next to the formula, for any
//!   [`crate::Float`] type;
//! - [`fast`]: blocked, vectorised (AVX-512 / AVX2+FMA, chosen at run time) and parallel.
//!   Every fast function names the reference it must equal, and property tests hold them
//!   to it.
//!
//! The ops on the tape call them through the dispatching functions in this module: the
//! convolutions run fast in `f32` and in `f64` (which is what `gradcheck` uses, so a
//! gradient check of a whole net takes seconds, not minutes); batch norm and pooling run
//! fast in `f32` and by the reference in `f64`, where they are a small share of a step.

pub mod fast;
pub mod reference;

use crate::Float;

pub use reference::PoolGeom;

/// The shapes of one 2-D convolution, NCHW: input `[n, cin, h, w]`, weight
/// `[cout, cin, kh, kw]`, output `[n, cout, ho, wo]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv2dGeom {
    /// Batch size.
    pub n: usize,
    /// Input channels.
    pub cin: usize,
    /// Input height.
    pub h: usize,
    /// Input width.
    pub w: usize,
    /// Output channels.
    pub cout: usize,
    /// Kernel height.
    pub kh: usize,
    /// Kernel width.
    pub kw: usize,
    /// Stride, both directions.
    pub stride: usize,
    /// Zero padding, both directions.
    pub pad: usize,
    /// Output height: `(h + 2 pad - kh) / stride + 1`.
    pub ho: usize,
    /// Output width: `(w + 2 pad - kw) / stride + 1`.
    pub wo: usize,
}

impl Conv2dGeom {
    /// Checks the shapes and works out the output size, or says which rule they break.
    pub fn new(x: &[usize], weight: &[usize], stride: usize, pad: usize) -> Result<Self, String> {
        if x.len() != 4 {
            return Err(format!(
                "the input must be 4-D, [N, C, H, W]; got {} axes",
                x.len()
            ));
        }
        if weight.len() != 4 {
            return Err(format!(
                "the weight must be 4-D, [C_out, C_in, kH, kW]; got {} axes",
                weight.len()
            ));
        }
        if stride == 0 {
            return Err("the stride must be at least 1".into());
        }
        let [n, cin, h, w] = [x[0], x[1], x[2], x[3]];
        let [cout, wcin, kh, kw] = [weight[0], weight[1], weight[2], weight[3]];
        if cin != wcin {
            return Err(format!(
                "the input has {cin} channels, but the weight expects {wcin} (weight shape {weight:?})"
            ));
        }
        if kh == 0 || kw == 0 || kh > h + 2 * pad || kw > w + 2 * pad {
            return Err(format!(
                "the {kh}x{kw} kernel must fit in the padded input ({}x{} = {h}x{w} plus padding {pad} on each side)",
                h + 2 * pad,
                w + 2 * pad
            ));
        }
        Ok(Conv2dGeom {
            n,
            cin,
            h,
            w,
            cout,
            kh,
            kw,
            stride,
            pad,
            ho: (h + 2 * pad - kh) / stride + 1,
            wo: (w + 2 * pad - kw) / stride + 1,
        })
    }

    /// Multiply-adds of the forward pass: `N Cout Ho Wo Cin kH kW`.
    pub fn macs(&self) -> usize {
        self.n * self.cout * self.ho * self.wo * self.cin * self.kh * self.kw
    }

    /// Input pixel row and column under kernel tap `(ky, kx)` of output pixel `(oy, ox)`,
    /// or `None` where the tap falls on the zero padding.
    #[inline]
    pub fn tap(&self, oy: usize, ox: usize, ky: usize, kx: usize) -> Option<(usize, usize)> {
        let iy = (oy * self.stride + ky).checked_sub(self.pad)?;
        let ix = (ox * self.stride + kx).checked_sub(self.pad)?;
        (iy < self.h && ix < self.w).then_some((iy, ix))
    }
}

/// Forward convolution, dispatched: fast for `f32` and `f64`.
pub fn conv2d_forward<T: Float>(
    x: &[T],
    weight: &[T],
    bias: Option<&[T]>,
    g: &Conv2dGeom,
    y: &mut [T],
) {
    if let (Some(x), Some(w), Some(y)) = (T::as_f32(x), T::as_f32(weight), T::as_f32_mut(y)) {
        return fast::conv2d_forward(x, w, bias.and_then(T::as_f32), g, y);
    }
    match (
        T::as_f64_slice(x),
        T::as_f64_slice(weight),
        T::as_f64_slice_mut(y),
    ) {
        (Some(x), Some(w), Some(y)) => {
            fast::conv2d_forward(x, w, bias.and_then(T::as_f64_slice), g, y)
        }
        _ => reference::conv2d_forward(x, weight, bias, g, y),
    }
}

/// Gradient of the convolution with respect to its input, dispatched: fast for `f32` and
/// `f64`.
pub fn conv2d_backward_input<T: Float>(dy: &[T], weight: &[T], g: &Conv2dGeom, dx: &mut [T]) {
    if let (Some(dy), Some(w), Some(dx)) = (T::as_f32(dy), T::as_f32(weight), T::as_f32_mut(dx)) {
        return fast::conv2d_backward_input(dy, w, g, dx);
    }
    match (
        T::as_f64_slice(dy),
        T::as_f64_slice(weight),
        T::as_f64_slice_mut(dx),
    ) {
        (Some(dy), Some(w), Some(dx)) => fast::conv2d_backward_input(dy, w, g, dx),
        _ => reference::conv2d_backward_input(dy, weight, g, dx),
    }
}

/// Gradient of the convolution with respect to its weight, dispatched: fast for `f32` and
/// `f64`.
pub fn conv2d_backward_weight<T: Float>(x: &[T], dy: &[T], g: &Conv2dGeom, dw: &mut [T]) {
    if let (Some(x), Some(dy), Some(dw)) = (T::as_f32(x), T::as_f32(dy), T::as_f32_mut(dw)) {
        return fast::conv2d_backward_weight(x, dy, g, dw);
    }
    match (
        T::as_f64_slice(x),
        T::as_f64_slice(dy),
        T::as_f64_slice_mut(dw),
    ) {
        (Some(x), Some(dy), Some(dw)) => fast::conv2d_backward_weight(x, dy, g, dw),
        _ => reference::conv2d_backward_weight(x, dy, g, dw),
    }
}

/// Per-channel mean and biased variance of `[n, c, plane]`, dispatched.
pub fn channel_stats<T: Float>(x: &[T], n: usize, c: usize, plane: usize) -> (Vec<T>, Vec<T>) {
    match T::as_f32(x) {
        Some(x) => {
            let (m, v) = fast::channel_stats(x, n, c, plane);
            (
                m.into_iter().map(|v| T::cast(v as f64)).collect(),
                v.into_iter().map(|v| T::cast(v as f64)).collect(),
            )
        }
        None => reference::channel_stats(x, n, c, plane),
    }
}

/// `y = gamma (x - mean) inv_std + beta` per channel, dispatched. `relu` adds a tail in
/// the same pass: `Some(None)`, `relu(y)`; `Some(Some(s))`, `relu(y + s)`.
#[allow(clippy::too_many_arguments)]
pub fn batch_norm_apply<T: Float>(
    x: &[T],
    dims: (usize, usize, usize),
    mean: &[T],
    inv_std: &[T],
    gamma: &[T],
    beta: &[T],
    relu: Option<Option<&[T]>>,
) -> Vec<T> {
    let f32s = (
        T::as_f32(x),
        T::as_f32(mean),
        T::as_f32(inv_std),
        T::as_f32(gamma),
        T::as_f32(beta),
    );
    let add32 = relu.flatten().map(T::as_f32);
    if let ((Some(x), Some(m), Some(s), Some(g), Some(b)), None | Some(Some(_))) = (f32s, add32) {
        let tail = relu.map(|_| add32.flatten());
        return from_f32s(fast::batch_norm_apply(x, dims, m, s, g, b, tail));
    }
    let mut y = vec![T::zero(); x.len()];
    reference::batch_norm_apply(x, dims, mean, inv_std, gamma, beta, &mut y);
    if let Some(add) = relu {
        if let Some(add) = add {
            y.iter_mut().zip(add).for_each(|(v, &a)| *v += a);
        }
        // The same comparison as `Var::relu`.
        y.iter_mut()
            .for_each(|v| *v = if *v > T::zero() { *v } else { T::zero() });
    }
    y
}

/// Batch norm backward, `(dx, dgamma, dbeta, masked)`, dispatched. `relu_y`, the output of a
/// ReLU that followed the batch norm, masks `dy` first (`dy [y > 0]`), and `masked` is that
/// masked gradient (`None` without `relu_y`).
#[allow(clippy::too_many_arguments)]
pub fn batch_norm_backward<T: Float>(
    x: &[T],
    dy: &[T],
    relu_y: Option<&[T]>,
    dims: (usize, usize, usize),
    mean: &[T],
    inv_std: &[T],
    gamma: &[T],
    training: bool,
) -> (Vec<T>, Vec<T>, Vec<T>, Option<Vec<T>>) {
    let f32s = (
        T::as_f32(x),
        T::as_f32(dy),
        T::as_f32(mean),
        T::as_f32(inv_std),
        T::as_f32(gamma),
    );
    let y32 = relu_y.map(T::as_f32);
    if let ((Some(x), Some(dy), Some(m), Some(s), Some(g)), None | Some(Some(_))) = (f32s, y32) {
        let (dx, dg, db, masked) =
            fast::batch_norm_backward(x, dy, y32.flatten(), dims, m, s, g, training);
        return (
            from_f32s(dx),
            from_f32s(dg),
            from_f32s(db),
            masked.map(from_f32s),
        );
    }
    match relu_y {
        None => {
            let (dx, dg, db) =
                reference::batch_norm_backward(x, dy, dims, mean, inv_std, gamma, training);
            (dx, dg, db, None)
        }
        Some(y) => {
            let masked: Vec<T> = dy
                .iter()
                .zip(y)
                .map(|(&d, &y)| if y > T::zero() { d } else { T::zero() })
                .collect();
            let (dx, dg, db) =
                reference::batch_norm_backward(x, &masked, dims, mean, inv_std, gamma, training);
            (dx, dg, db, Some(masked))
        }
    }
}

/// `v` as a `Vec<T>`: itself when `T` is `f32` (no copy), else converted value by value.
fn from_f32s<T: Float>(v: Vec<f32>) -> Vec<T> {
    match (Box::new(v) as Box<dyn std::any::Any>).downcast::<Vec<T>>() {
        Ok(same) => *same,
        Err(other) => other
            .downcast::<Vec<f32>>()
            .expect("the box holds the Vec<f32> it was given")
            .into_iter()
            .map(|v| T::cast(v as f64))
            .collect(),
    }
}

/// Max pooling forward, dispatched; returns the winners' indices.
pub fn max_pool2d_forward<T: Float>(x: &[T], g: &PoolGeom, y: &mut [T]) -> Vec<u32> {
    match (T::as_f32(x), T::as_f32_mut(y)) {
        (Some(x), Some(y)) => fast::max_pool2d_forward(x, g, y),
        _ => reference::max_pool2d_forward(x, g, y),
    }
}

/// Max pooling backward, dispatched.
pub fn max_pool2d_backward<T: Float>(dy: &[T], argmax: &[u32], g: &PoolGeom, dx: &mut [T]) {
    match (T::as_f32(dy), T::as_f32_mut(dx)) {
        (Some(dy), Some(dx)) => fast::max_pool2d_backward(dy, argmax, g, dx),
        _ => reference::max_pool2d_backward(dy, argmax, g, dx),
    }
}

/// Average pooling forward, dispatched.
pub fn avg_pool2d_forward<T: Float>(x: &[T], g: &PoolGeom, y: &mut [T]) {
    match (T::as_f32(x), T::as_f32_mut(y)) {
        (Some(x), Some(y)) => fast::avg_pool2d_forward(x, g, y),
        _ => reference::avg_pool2d_forward(x, g, y),
    }
}

/// Average pooling backward, dispatched.
pub fn avg_pool2d_backward<T: Float>(dy: &[T], g: &PoolGeom, dx: &mut [T]) {
    match (T::as_f32(dy), T::as_f32_mut(dx)) {
        (Some(dy), Some(dx)) => fast::avg_pool2d_backward(dy, g, dx),
        _ => reference::avg_pool2d_backward(dy, g, dx),
    }
}
