//! Pooling, and the parameter-free shortcut of He et al. 2015 (option A).

use std::panic::Location;
use std::rc::Rc;

use ndarray::{ArrayD, IxDyn, s};

use crate::arrays::slice;
use crate::error::{Error, Result};
use crate::kernels::{self, PoolGeom};
use crate::op::Op;
use crate::{Float, Var};

fn pool_geom(
    op: &str,
    shape: &[usize],
    k: usize,
    stride: usize,
    pad: usize,
    loc: &Location<'_>,
) -> Result<PoolGeom> {
    if shape.len() != 4 {
        return Err(Error::shape(
            op,
            &[shape],
            "the input must be 4-D, [N, C, H, W]",
            loc,
        ));
    }
    if k == 0 || stride == 0 {
        return Err(Error::argument(
            op,
            format!("kernel ({k}) and stride ({stride}) must be at least 1"),
            loc,
        ));
    }
    if 2 * pad > k {
        return Err(Error::argument(
            op,
            format!("padding {pad} must be at most half the kernel size {k} (as PyTorch requires)"),
            loc,
        ));
    }
    let (h, w) = (shape[2], shape[3]);
    if k > h + 2 * pad || k > w + 2 * pad {
        return Err(Error::shape(
            op,
            &[shape],
            format!(
                "the {k}x{k} window must fit in the padded input ({}x{})",
                h + 2 * pad,
                w + 2 * pad
            ),
            loc,
        ));
    }
    Ok(PoolGeom {
        planes: shape[0] * shape[1],
        h,
        w,
        k,
        stride,
        pad,
        ho: (h + 2 * pad - k) / stride + 1,
        wo: (w + 2 * pad - k) / stride + 1,
    })
}

impl<T: Float> Var<T> {
    /// Max pooling over `k x k` windows of `[N, C, H, W]`; the padding never wins.
    #[track_caller]
    pub fn try_max_pool2d(&self, k: usize, stride: usize, padding: usize) -> Result<Var<T>> {
        let loc = Location::caller();
        let g = pool_geom("max_pool2d", self.shape(), k, stride, padding, loc)?;
        let s = self.shape();
        let mut y = ArrayD::zeros(IxDyn(&[s[0], s[1], g.ho, g.wo]));
        let argmax = kernels::max_pool2d_forward(
            slice(&self.value),
            &g,
            y.as_slice_mut().expect("contiguous"),
        );
        let op = Op::MaxPool2d {
            geom: g,
            argmax: Rc::new(argmax),
        };
        Ok(self.tape.record(op, &[self], y, loc))
    }

    /// Average pooling over `k x k` windows, padding counted as zeros (PyTorch's default).
    #[track_caller]
    pub fn try_avg_pool2d(&self, k: usize, stride: usize, padding: usize) -> Result<Var<T>> {
        let loc = Location::caller();
        let g = pool_geom("avg_pool2d", self.shape(), k, stride, padding, loc)?;
        let s = self.shape();
        let mut y = ArrayD::zeros(IxDyn(&[s[0], s[1], g.ho, g.wo]));
        kernels::avg_pool2d_forward(
            slice(&self.value),
            &g,
            y.as_slice_mut().expect("contiguous"),
        );
        Ok(self.tape.record(Op::AvgPool2d { geom: g }, &[self], y, loc))
    }

    /// Global average pooling: `[N, C, H, W]` to `[N, C]`, the mean of each plane.
    #[track_caller]
    pub fn try_global_avg_pool(&self) -> Result<Var<T>> {
        let loc = Location::caller();
        if self.ndim() != 4 {
            return Err(Error::shape(
                "global_avg_pool",
                &[self.shape()],
                "the input must be 4-D, [N, C, H, W]",
                loc,
            ));
        }
        self.try_mean_axes(&[2, 3], false)
    }

    /// The option-A shortcut of He et al. 2015, §4.2: keep every second pixel (stride 2)
    /// and pad the channels with zeros up to `out_channels`, half before and half after
    /// (the extra one after), with no parameters. `[N, C, H, W]` becomes
    /// `[N, out_channels, ceil(H/2), ceil(W/2)]`.
    #[track_caller]
    pub fn try_zero_pad_shortcut(&self, out_channels: usize) -> Result<Var<T>> {
        self.try_zero_pad_shortcut_stride(out_channels, 2)
    }

    /// Option A with a chosen subsampling step: `stride` 1 only pads the channels (as
    /// in the first stage of a bottleneck network), 2 also halves the map.
    #[track_caller]
    pub fn try_zero_pad_shortcut_stride(
        &self,
        out_channels: usize,
        stride: usize,
    ) -> Result<Var<T>> {
        let loc = Location::caller();
        if stride == 0 {
            return Err(Error::argument(
                "zero_pad_shortcut",
                "the stride must be at least 1",
                loc,
            ));
        }
        let s = self.shape();
        if s.len() != 4 {
            return Err(Error::shape(
                "zero_pad_shortcut",
                &[s],
                "the input must be 4-D, [N, C, H, W]",
                loc,
            ));
        }
        if out_channels < s[1] {
            return Err(Error::argument(
                "zero_pad_shortcut",
                format!(
                    "it can only add channels: {} in, {out_channels} requested",
                    s[1]
                ),
                loc,
            ));
        }
        let extra = out_channels - s[1];
        let before = extra / 2;
        let step = stride as isize;
        let sub = self.value.slice(s![.., .., ..;step, ..;step]);
        let mut y = ArrayD::zeros(IxDyn(&[s[0], out_channels, sub.shape()[2], sub.shape()[3]]));
        y.slice_mut(s![.., before..before + s[1], .., ..])
            .assign(&sub);
        Ok(self
            .tape
            .record(Op::ZeroPadShortcut { before, stride }, &[self], y, loc))
    }

    or_panic!(
        /// Max pooling; see [`try_max_pool2d`](Var::try_max_pool2d).
        max_pool2d => try_max_pool2d(k: usize, stride: usize, padding: usize)
    );
    or_panic!(
        /// Average pooling; see [`try_avg_pool2d`](Var::try_avg_pool2d).
        avg_pool2d => try_avg_pool2d(k: usize, stride: usize, padding: usize)
    );
    or_panic!(
        /// Global average pooling, `[N, C, H, W]` to `[N, C]`.
        global_avg_pool => try_global_avg_pool()
    );
    or_panic!(
        /// The option-A shortcut; see [`try_zero_pad_shortcut`](Var::try_zero_pad_shortcut).
        zero_pad_shortcut => try_zero_pad_shortcut(out_channels: usize)
    );
    or_panic!(
        /// Option A with a chosen step; see [`try_zero_pad_shortcut_stride`](Var::try_zero_pad_shortcut_stride).
        zero_pad_shortcut_stride => try_zero_pad_shortcut_stride(out_channels: usize, stride: usize)
    );
}
