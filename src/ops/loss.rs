//! The softmax family and the losses.

use std::panic::Location;
use std::rc::Rc;

use ndarray::{ArrayD, IxDyn};

use super::reduce::check_axes;
use crate::arrays::{shifted_and_logsumexp, softmax_values};
use crate::error::{Error, Result};
use crate::op::Op;
use crate::{Float, Var};

impl<T: Float> Var<T> {
    /// Softmax along `axis`: `exp(x_i) / sum_j exp(x_j)`, computed stably.
    #[track_caller]
    pub fn try_softmax(&self, axis: usize) -> Result<Var<T>> {
        let loc = Location::caller();
        check_axes("softmax", self.shape(), &[axis], loc)?;
        let out = softmax_values(&self.value, axis);
        Ok(self.tape.record(Op::Softmax { axis }, &[self], out, loc))
    }

    /// Log-softmax along `axis`: `x_i - log sum_j exp(x_j)`, computed stably.
    #[track_caller]
    pub fn try_log_softmax(&self, axis: usize) -> Result<Var<T>> {
        let loc = Location::caller();
        check_axes("log_softmax", self.shape(), &[axis], loc)?;
        let (shifted, lse) = shifted_and_logsumexp(&self.value, axis);
        Ok(self
            .tape
            .record(Op::LogSoftmax { axis }, &[self], shifted - &lse, loc))
    }

    /// Mean cross-entropy of logits `[N, C]` against `N` integer labels in `0..C`,
    /// as PyTorch's `F.cross_entropy` with mean reduction. Stable for any finite logits.
    #[track_caller]
    pub fn try_cross_entropy(&self, labels: &[usize]) -> Result<Var<T>> {
        let loc = Location::caller();
        let s = self.shape();
        if s.len() != 2 || s[0] == 0 {
            return Err(Error::shape(
                "cross_entropy",
                &[s],
                "the logits must be 2-D, [batch N >= 1, classes C]",
                loc,
            ));
        }
        let (n, c) = (s[0], s[1]);
        if labels.len() != n {
            return Err(Error::argument(
                "cross_entropy",
                format!(
                    "got {} labels for {n} rows of logits (shape {s:?}); give one label per row",
                    labels.len()
                ),
                loc,
            ));
        }
        if let Some((i, &bad)) = labels.iter().enumerate().find(|&(_, &l)| l >= c) {
            return Err(Error::argument(
                "cross_entropy",
                format!("label {bad} (row {i}) is not a class: there are {c} classes, 0..{c}"),
                loc,
            ));
        }
        let (shifted, lse) = shifted_and_logsumexp(&self.value, 1);
        // loss_i = logsumexp(x_i) - x_i[label_i], with the max cancelling out.
        let total: T = labels
            .iter()
            .enumerate()
            .map(|(i, &l)| lse[[i, 0]] - shifted[[i, l]])
            .sum();
        let out = ArrayD::from_elem(IxDyn(&[]), total / T::cast(n as f64));
        let op = Op::CrossEntropy {
            labels: Rc::new(labels.to_vec()),
        };
        Ok(self.tape.record(op, &[self], out, loc))
    }

    /// Mean squared error `mean((self - target)^2)`; the shapes must be equal.
    #[track_caller]
    pub fn try_mse(&self, target: &Var<T>) -> Result<Var<T>> {
        let loc = Location::caller();
        self.tape.check_same("mse", &[target], loc)?;
        if self.shape() != target.shape() {
            return Err(Error::shape(
                "mse",
                &[self.shape(), target.shape()],
                "prediction and target must have the same shape (mse does not broadcast, \
                 so that a [N] vs [N, 1] mix-up is caught)",
                loc,
            ));
        }
        let n = T::cast(self.len().max(1) as f64);
        let total: T = self
            .value
            .iter()
            .zip(target.value.iter())
            .map(|(&a, &b)| (a - b) * (a - b))
            .sum();
        let out = ArrayD::from_elem(IxDyn(&[]), total / n);
        Ok(self.tape.record(Op::Mse, &[self, target], out, loc))
    }

    or_panic!(
        /// Softmax along `axis`.
        softmax => try_softmax(axis: usize)
    );
    or_panic!(
        /// Log-softmax along `axis`.
        log_softmax => try_log_softmax(axis: usize)
    );
    or_panic!(
        /// Mean cross-entropy of logits `[N, C]` against integer labels.
        cross_entropy => try_cross_entropy(labels: &[usize])
    );
    or_panic!(
        /// Mean squared error against a target of the same shape.
        mse => try_mse(target: &Var<T>)
    );
}
