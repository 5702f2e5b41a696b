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

/// What follows the batch norm in its own pass.
enum Tail<'a, T: Float> {
    /// Nothing: `batch_norm2d`.
    None,
    /// A relu: `batch_norm2d_relu`.
    Relu,
    /// A sum with this tensor, then a relu: `batch_norm2d_add_relu`.
    AddRelu(&'a Var<T>),
}

// By hand: a derive would ask `T: Copy` of the element, where only references are copied.
impl<T: Float> Clone for Tail<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: Float> Copy for Tail<'_, T> {}

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
        let op = |training, mean, inv_std| Op::BatchNorm2d {
            training,
            mean,
            inv_std,
        };
        let (name, loc) = ("batch_norm2d", Location::caller());
        self.record_batch_norm(name, (gamma, beta), (stats, training), Tail::None, op, loc)
    }

    /// Batch norm then relu in one op, `relu(batch_norm2d(x))`: the same values as the
    /// pair, bit for bit, but one node on the tape instead of two. The batch norm's output
    /// is never kept; the backward reads the relu's mask from this op's output and batch
    /// norm's from `x`, which the conv before it keeps anyway. That is one activation fewer
    /// per use (PyTorch gets the same saving from an in-place relu).
    ///
    /// ```
    /// use resgrad::{RunningStats, Tape, ndarray::{Array1, Array4}};
    /// let tape = Tape::new();
    /// let x = tape.var(Array4::from_shape_fn((2, 3, 2, 2), |(n, c, h, w)| (n + 2 * c) as f32 - (h * w) as f32));
    /// let (gamma, beta) = (tape.var(Array1::ones(3)), tape.var(Array1::zeros(3)));
    /// let fused = x.batch_norm2d_relu(&gamma, &beta, &RunningStats::new(3), true);
    /// let pair = x.batch_norm2d(&gamma, &beta, &RunningStats::new(3), true).relu();
    /// assert_eq!(fused.value(), pair.value());
    /// ```
    #[track_caller]
    pub fn try_batch_norm2d_relu(
        &self,
        gamma: &Var<T>,
        beta: &Var<T>,
        stats: &RunningStats<T>,
        training: bool,
    ) -> Result<Var<T>> {
        // The ReLU in the batch norm's own pass, with the same comparison as `Var::relu`, so
        // the values are the pair's to the bit.
        let op = |training, mean, inv_std| Op::BatchNorm2dRelu {
            training,
            mean,
            inv_std,
        };
        let (name, loc) = ("batch_norm2d_relu", Location::caller());
        self.record_batch_norm(name, (gamma, beta), (stats, training), Tail::Relu, op, loc)
    }

    /// A residual block's tail in one op, `relu(batch_norm2d(x) + shortcut)`: the same
    /// values as the three ops, bit for bit, but one node on the tape instead of three.
    /// Neither the batch norm's output nor the sum is kept; the backward reads the relu's
    /// mask from this op's output. `shortcut` must have `x`'s shape.
    ///
    /// ```
    /// use resgrad::{RunningStats, Tape, ndarray::{Array1, Array4}};
    /// let tape = Tape::new();
    /// let x = tape.var(Array4::from_shape_fn((2, 3, 2, 2), |(n, c, h, w)| (n + 2 * c) as f32 - (h * w) as f32));
    /// let s = tape.var(Array4::from_shape_fn((2, 3, 2, 2), |(n, c, h, w)| (h as f32 - 0.5) * (n + c + w) as f32));
    /// let (gamma, beta) = (tape.var(Array1::ones(3)), tape.var(Array1::zeros(3)));
    /// let fused = x.batch_norm2d_add_relu(&gamma, &beta, &RunningStats::new(3), true, &s);
    /// let three = x.batch_norm2d(&gamma, &beta, &RunningStats::new(3), true).add(&s).relu();
    /// assert_eq!(fused.value(), three.value());
    /// ```
    #[track_caller]
    pub fn try_batch_norm2d_add_relu(
        &self,
        gamma: &Var<T>,
        beta: &Var<T>,
        stats: &RunningStats<T>,
        training: bool,
        shortcut: &Var<T>,
    ) -> Result<Var<T>> {
        let loc = Location::caller();
        let op = "batch_norm2d_add_relu";
        self.tape.check_same(op, &[shortcut], loc)?;
        if shortcut.shape() != self.shape() {
            return Err(Error::shape(
                op,
                &[self.shape(), shortcut.shape()],
                "the shortcut must have the batch norm's shape (the sum does not broadcast)",
                loc,
            ));
        }
        let make = |training, mean, inv_std| Op::BatchNorm2dAddRelu {
            training,
            mean,
            inv_std,
        };
        let tail = Tail::AddRelu(shortcut);
        self.record_batch_norm(op, (gamma, beta), (stats, training), tail, make, loc)
    }

    /// `relu(batch_norm2d(x) + shortcut)` in one op; see
    /// [`try_batch_norm2d_add_relu`](Var::try_batch_norm2d_add_relu).
    ///
    /// Panics with the error message of `try_batch_norm2d_add_relu`.
    #[track_caller]
    pub fn batch_norm2d_add_relu(
        &self,
        gamma: &Var<T>,
        beta: &Var<T>,
        stats: &RunningStats<T>,
        training: bool,
        shortcut: &Var<T>,
    ) -> Var<T> {
        crate::error::or_panic(
            self.try_batch_norm2d_add_relu(gamma, beta, stats, training, shortcut),
        )
    }

    /// Batch norm then relu; see [`try_batch_norm2d_relu`](Var::try_batch_norm2d_relu).
    ///
    /// Panics with the error message of `try_batch_norm2d_relu`.
    #[track_caller]
    pub fn batch_norm2d_relu(
        &self,
        gamma: &Var<T>,
        beta: &Var<T>,
        stats: &RunningStats<T>,
        training: bool,
    ) -> Var<T> {
        crate::error::or_panic(self.try_batch_norm2d_relu(gamma, beta, stats, training))
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

    /// Batch norm with its `tail` (see [`Tail`]), recorded as the op `make` builds from the
    /// mode and the statistics used; its inputs are `x`, gamma, beta and the tail's tensor.
    fn record_batch_norm(
        &self,
        name: &str,
        (gamma, beta): (&Var<T>, &Var<T>),
        (stats, training): (&RunningStats<T>, bool),
        tail: Tail<'_, T>,
        make: impl FnOnce(bool, Rc<Vec<T>>, Rc<Vec<T>>) -> Op<T>,
        loc: &'static Location<'static>,
    ) -> Result<Var<T>> {
        let (y, mean, inv_std) =
            self.batch_norm_values(name, gamma, beta, stats, training, tail, loc)?;
        let op = make(training, Rc::new(mean), Rc::new(inv_std));
        let mut inputs = vec![self, gamma, beta];
        if let Tail::AddRelu(s) = tail {
            inputs.push(s);
        }
        Ok(self.tape.record(op, &inputs, y, loc))
    }

    /// Batch norm's output, mean and `inv_std` after checking the shapes, and in training
    /// the running statistics updated; errors are named `op`.
    #[allow(clippy::too_many_arguments)]
    fn batch_norm_values(
        &self,
        op: &str,
        gamma: &Var<T>,
        beta: &Var<T>,
        stats: &RunningStats<T>,
        training: bool,
        tail: Tail<'_, T>,
        loc: &'static Location<'static>,
    ) -> Result<(ArrayD<T>, Vec<T>, Vec<T>)> {
        self.tape.check_same(op, &[gamma, beta], loc)?;
        let s = self.shape();
        if s.len() != 4 && s.len() != 2 {
            return Err(Error::shape(
                op,
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
                    op,
                    &[s, v.shape()],
                    format!("{what} must have one value per channel, shape [{c}]"),
                    loc,
                ));
            }
        }
        if stats.mean.shape() != [c] || stats.var.shape() != [c] {
            return Err(Error::shape(
                op,
                &[s, &stats.mean.shape()],
                format!("the running statistics must have one value per channel, shape [{c}]"),
                loc,
            ));
        }
        let m = n * plane;
        if training && m < 2 {
            return Err(Error::argument(
                op,
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
        let y = kernels::batch_norm_apply(
            slice(&self.value),
            (n, c, plane),
            &mean,
            &inv_std,
            slice(&gamma.value),
            slice(&beta.value),
            match tail {
                Tail::None => None,
                Tail::Relu => Some(None),
                Tail::AddRelu(s) => Some(Some(slice(&s.value))),
            },
        );
        let y = ArrayD::from_shape_vec(self.value.raw_dim(), y).expect("one value per element");
        Ok((y, mean, inv_std))
    }
}
