//! Batch normalisation over the channels of an NCHW tensor (Ioffe and Szegedy 2015).

use std::panic::Location;
use std::rc::Rc;

use ndarray::{Array1, ArrayD};

use crate::arrays::slice;
use crate::error::{Error, Result};
use crate::kernels;
use crate::op::Op;
use crate::{Float, Param, Var};

/// A batch norm layer's running statistics: buffers that training updates and evaluation
/// uses, not parameters (they get no gradient).
///
/// As PyTorch: `running = (1 - momentum) * running + momentum * batch`, with the batch's
/// *unbiased* variance stored in `var`.
#[derive(Clone, Debug)]
pub struct RunningStats<T: Float = f32> {
    /// Running mean per channel (starts at 0).
    pub mean: Param<T>,
    /// Running variance per channel (starts at 1).
    pub var: Param<T>,
    /// Weight of the new batch in the running average (PyTorch's default 0.1).
    pub momentum: f64,
    /// Added to the variance before the square root (PyTorch's default 1e-5).
    pub eps: f64,
}

impl<T: Float> RunningStats<T> {
    /// Fresh statistics for `channels` channels, PyTorch's defaults.
    pub fn new(channels: usize) -> Self {
        RunningStats {
            mean: Param::new("running_mean", Array1::<T>::zeros(channels)),
            var: Param::new("running_var", Array1::<T>::ones(channels)),
            momentum: 0.1,
            eps: 1e-5,
        }
    }
}

impl<T: Float> Var<T> {
    /// Batch norm over `[N, C, H, W]` (or `[N, C]`) per channel, with affine `gamma` and
    /// `beta` of shape `[C]`:
    ///
    /// - **training**: normalise with the batch's mean and (biased) variance, and update
    ///   `stats` with momentum;
    /// - **eval**: normalise with `stats`, and leave them unchanged.
    #[track_caller]
    pub fn try_batch_norm2d(
        &self,
        gamma: &Var<T>,
        beta: &Var<T>,
        stats: &RunningStats<T>,
        training: bool,
    ) -> Result<Var<T>> {
        let loc = Location::caller();
        self.tape.check_same("batch_norm2d", &[gamma, beta], loc)?;
        let s = self.shape();
        if s.len() != 4 && s.len() != 2 {
            return Err(Error::shape(
                "batch_norm2d",
                &[s],
                "the input must be [N, C, H, W] (or [N, C])",
                loc,
            ));
        }
        let (n, c) = (s[0], s[1]);
        let plane: usize = s[2..].iter().product();
        for (what, v) in [("gamma", gamma), ("beta", beta)] {
            if v.shape() != [c] {
                return Err(Error::shape(
                    "batch_norm2d",
                    &[s, v.shape()],
                    format!("{what} must have one value per channel, shape [{c}]"),
                    loc,
                ));
            }
        }
        if stats.mean.shape() != [c] || stats.var.shape() != [c] {
            return Err(Error::shape(
                "batch_norm2d",
                &[s, &stats.mean.shape()],
                format!("the running statistics must have one value per channel, shape [{c}]"),
                loc,
            ));
        }
        let m = n * plane;
        if training && m < 2 {
            return Err(Error::argument(
                "batch_norm2d",
                format!(
                    "training mode needs more than one value per channel to take a variance; got shape {s:?}"
                ),
                loc,
            ));
        }
        let eps = T::cast(stats.eps);
        let (mean, var) = if training {
            let (mean, var) = kernels::channel_stats(slice(&self.value), n, c, plane);
            let (mom, unbias) = (
                T::cast(stats.momentum),
                T::cast(m as f64 / (m as f64 - 1.0)),
            );
            stats.mean.update(|r| {
                r.iter_mut()
                    .zip(&mean)
                    .for_each(|(r, &b)| *r = (T::one() - mom) * *r + mom * b)
            });
            stats.var.update(|r| {
                r.iter_mut()
                    .zip(&var)
                    .for_each(|(r, &b)| *r = (T::one() - mom) * *r + mom * b * unbias)
            });
            (mean, var)
        } else {
            (
                stats.mean.value().iter().copied().collect(),
                stats.var.value().iter().copied().collect(),
            )
        };
        let inv_std: Vec<T> = var.iter().map(|&v| T::one() / (v + eps).sqrt()).collect();
        let mut y = ArrayD::zeros(self.value.raw_dim());
        kernels::batch_norm_apply(
            slice(&self.value),
            (n, c, plane),
            &mean,
            &inv_std,
            slice(&gamma.value),
            slice(&beta.value),
            y.as_slice_mut().expect("a fresh array is contiguous"),
        );
        let op = Op::BatchNorm2d {
            training,
            mean: Rc::new(mean),
            inv_std: Rc::new(inv_std),
        };
        Ok(self.tape.record(op, &[self, gamma, beta], y, loc))
    }

    /// Batch norm; see [`try_batch_norm2d`](Var::try_batch_norm2d).
    ///
    /// Panics with the error message of `try_batch_norm2d`.
    #[track_caller]
    pub fn batch_norm2d(
        &self,
        gamma: &Var<T>,
        beta: &Var<T>,
        stats: &RunningStats<T>,
        training: bool,
    ) -> Var<T> {
        crate::error::or_panic(self.try_batch_norm2d(gamma, beta, stats, training))
    }
}
