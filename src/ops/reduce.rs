//! Reductions: sum, mean, max.

use std::panic::Location;
use std::rc::Rc;

use ndarray::{ArrayD, Axis, IxDyn, Zip};

use crate::arrays::sum_over;
use crate::error::{Error, Result};
use crate::op::Op;
use crate::{Float, Var};

/// Checks that `axes` are distinct and below `ndim`, and returns them ascending.
pub(crate) fn check_axes(
    op: &str,
    shape: &[usize],
    axes: &[usize],
    loc: &Location<'_>,
) -> Result<Vec<usize>> {
    let mut sorted = axes.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    if sorted.len() != axes.len() {
        return Err(Error::argument(
            op,
            format!("axes {axes:?} name an axis twice"),
            loc,
        ));
    }
    if let Some(&bad) = sorted.iter().find(|&&a| a >= shape.len()) {
        return Err(Error::argument(
            op,
            format!(
                "axis {bad} is out of range for a value of shape {shape:?} (axes are 0..{})",
                shape.len()
            ),
            loc,
        ));
    }
    Ok(sorted)
}

impl<T: Float> Var<T> {
    /// The sum of all elements, as a scalar (shape `[]`).
    #[track_caller]
    pub fn sum(&self) -> Var<T> {
        let axes: Vec<usize> = (0..self.ndim()).collect();
        let out = ArrayD::from_elem(IxDyn(&[]), self.value.sum());
        let op = Op::Sum {
            axes,
            keepdim: false,
        };
        self.tape.record(op, &[self], out, Location::caller())
    }

    /// The mean of all elements, as a scalar (shape `[]`).
    #[track_caller]
    pub fn mean(&self) -> Var<T> {
        let axes: Vec<usize> = (0..self.ndim()).collect();
        let n = T::cast(self.len().max(1) as f64);
        let out = ArrayD::from_elem(IxDyn(&[]), self.value.sum() / n);
        let op = Op::Mean {
            axes,
            keepdim: false,
        };
        self.tape.record(op, &[self], out, Location::caller())
    }

    /// The sum over `axes`; `keepdim` keeps them with length 1 (PyTorch's `keepdim`).
    #[track_caller]
    pub fn try_sum_axes(&self, axes: &[usize], keepdim: bool) -> Result<Var<T>> {
        let loc = Location::caller();
        let axes = check_axes("sum", self.shape(), axes, loc)?;
        let out = sum_over(&self.value, &axes, keepdim);
        Ok(self
            .tape
            .record(Op::Sum { axes, keepdim }, &[self], out, loc))
    }

    /// The mean over `axes`; `keepdim` keeps them with length 1.
    #[track_caller]
    pub fn try_mean_axes(&self, axes: &[usize], keepdim: bool) -> Result<Var<T>> {
        let loc = Location::caller();
        let axes = check_axes("mean", self.shape(), axes, loc)?;
        let count: usize = axes.iter().map(|&a| self.shape()[a]).product();
        let out = sum_over(&self.value, &axes, keepdim) / T::cast(count.max(1) as f64);
        Ok(self
            .tape
            .record(Op::Mean { axes, keepdim }, &[self], out, loc))
    }

    /// The maximum along `axis`. Its gradient goes to the first maximal element.
    #[track_caller]
    pub fn try_max_axis(&self, axis: usize, keepdim: bool) -> Result<Var<T>> {
        let loc = Location::caller();
        check_axes("max", self.shape(), &[axis], loc)?;
        if self.shape()[axis] == 0 {
            return Err(Error::argument(
                "max",
                format!(
                    "axis {axis} of shape {:?} is empty; a maximum needs one element",
                    self.shape()
                ),
                loc,
            ));
        }
        let best = Zip::from(self.value.lanes(Axis(axis))).map_collect(|lane| {
            let mut arg = 0;
            for (i, &v) in lane.iter().enumerate() {
                if v > lane[arg] || (v.is_nan() && !lane[arg].is_nan()) {
                    arg = i;
                }
            }
            (lane[arg], arg)
        });
        let mut out = best.mapv(|(v, _)| v);
        if keepdim {
            out = out.insert_axis(Axis(axis));
        }
        let argmax = Rc::new(best.iter().map(|&(_, a)| a).collect());
        Ok(self.tape.record(
            Op::Max {
                axis,
                keepdim,
                argmax,
            },
            &[self],
            out,
            loc,
        ))
    }

    or_panic!(
        /// The sum over `axes`; `keepdim` keeps them with length 1.
        sum_axes => try_sum_axes(axes: &[usize], keepdim: bool)
    );
    or_panic!(
        /// The mean over `axes`; `keepdim` keeps them with length 1.
        mean_axes => try_mean_axes(axes: &[usize], keepdim: bool)
    );
    or_panic!(
        /// The maximum along `axis`; the gradient goes to the first maximal element.
        max_axis => try_max_axis(axis: usize, keepdim: bool)
    );
}
