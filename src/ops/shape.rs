//! Shape ops: reshape, flatten, permute/transpose, slice, concat, stack.

use std::panic::Location;

use ndarray::{ArrayD, ArrayViewD, Axis, IxDyn, Slice};

use crate::error::{Error, Result};
use crate::op::Op;
use crate::{Float, Var};

impl<T: Float> Var<T> {
    /// The same elements in row-major order, with a new shape of the same element count.
    #[track_caller]
    pub fn try_reshape(&self, shape: &[usize]) -> Result<Var<T>> {
        let loc = Location::caller();
        let n: usize = shape.iter().product();
        if n != self.len() {
            return Err(Error::shape(
                "reshape",
                &[self.shape(), shape],
                format!(
                    "the new shape must hold the same number of elements ({} vs {n})",
                    self.len()
                ),
                loc,
            ));
        }
        let out = (*self.value)
            .clone()
            .into_shape_with_order(IxDyn(shape))
            .expect("values on the tape are in standard layout");
        Ok(self.tape.record(Op::Reshape, &[self], out, loc))
    }

    /// Keeps axis 0 (the batch) and flattens the rest: `[N, C, H, W]` becomes `[N, C*H*W]`.
    #[track_caller]
    pub fn try_flatten(&self) -> Result<Var<T>> {
        let loc = Location::caller();
        if self.ndim() == 0 {
            return Err(Error::shape(
                "flatten",
                &[self.shape()],
                "needs at least one axis (the batch)",
                loc,
            ));
        }
        let rest: usize = self.shape()[1..].iter().product();
        let out = (*self.value)
            .clone()
            .into_shape_with_order(IxDyn(&[self.shape()[0], rest]))
            .expect("values on the tape are in standard layout");
        Ok(self.tape.record(Op::Reshape, &[self], out, loc))
    }

    /// Reorders the axes: output axis `i` is input axis `perm[i]`.
    #[track_caller]
    pub fn try_permute(&self, perm: &[usize]) -> Result<Var<T>> {
        let loc = Location::caller();
        let mut seen = vec![false; self.ndim()];
        let valid = perm.len() == self.ndim()
            && perm
                .iter()
                .all(|&p| p < seen.len() && !std::mem::replace(&mut seen[p], true));
        if !valid {
            return Err(Error::argument(
                "permute",
                format!(
                    "{perm:?} is not a permutation of the axes 0..{} of shape {:?}",
                    self.ndim(),
                    self.shape()
                ),
                loc,
            ));
        }
        let out = self
            .value
            .view()
            .permuted_axes(IxDyn(perm))
            .as_standard_layout()
            .into_owned();
        Ok(self
            .tape
            .record(Op::Permute(perm.to_vec()), &[self], out, loc))
    }

    /// Swaps two axes.
    #[track_caller]
    pub fn try_transpose(&self, a: usize, b: usize) -> Result<Var<T>> {
        let loc = Location::caller();
        if a >= self.ndim() || b >= self.ndim() {
            return Err(Error::argument(
                "transpose",
                format!(
                    "axes {a} and {b} must both be below {} for shape {:?}",
                    self.ndim(),
                    self.shape()
                ),
                loc,
            ));
        }
        let mut perm: Vec<usize> = (0..self.ndim()).collect();
        perm.swap(a, b);
        let out = self
            .value
            .view()
            .permuted_axes(IxDyn(&perm))
            .as_standard_layout()
            .into_owned();
        Ok(self.tape.record(Op::Permute(perm), &[self], out, loc))
    }

    /// Swaps the last two axes: the matrix transpose, batched.
    #[track_caller]
    pub fn t(&self) -> Var<T> {
        let n = self.ndim();
        if n < 2 {
            let e = Error::shape(
                "t",
                &[self.shape()],
                "needs at least 2 axes to transpose",
                Location::caller(),
            );
            panic!("{e}");
        }
        self.transpose(n - 2, n - 1)
    }

    /// `self[.., start..end, ..]` along `axis`.
    #[track_caller]
    pub fn try_slice(&self, axis: usize, start: usize, end: usize) -> Result<Var<T>> {
        let loc = Location::caller();
        if axis >= self.ndim() {
            return Err(Error::argument(
                "slice",
                format!("axis {axis} is out of range for shape {:?}", self.shape()),
                loc,
            ));
        }
        let len = self.shape()[axis];
        if start > end || end > len {
            return Err(Error::argument(
                "slice",
                format!(
                    "the range {start}..{end} must satisfy start <= end <= {len} (the length of axis {axis} of shape {:?})",
                    self.shape()
                ),
                loc,
            ));
        }
        let out = self
            .value
            .slice_axis(Axis(axis), Slice::from(start..end))
            .to_owned();
        Ok(self
            .tape
            .record(Op::Slice { axis, start, end }, &[self], out, loc))
    }

    or_panic!(
        /// A new shape with the same element count; see [`try_reshape`](Var::try_reshape).
        reshape => try_reshape(shape: &[usize])
    );
    or_panic!(
        /// `[N, ...]` to `[N, rest]`.
        flatten => try_flatten()
    );
    or_panic!(
        /// Reorders the axes: output axis `i` is input axis `perm[i]`.
        permute => try_permute(perm: &[usize])
    );
    or_panic!(
        /// Swaps axes `a` and `b`.
        transpose => try_transpose(a: usize, b: usize)
    );
    or_panic!(
        /// `self[.., start..end, ..]` along `axis`.
        slice => try_slice(axis: usize, start: usize, end: usize)
    );
}

fn check_parts<T: Float>(op: &str, parts: &[&Var<T>], loc: &Location<'_>) -> Result<()> {
    let Some(first) = parts.first() else {
        return Err(Error::argument(op, "needs at least one value", loc));
    };
    first.tape.check_same(op, parts, loc)
}

/// Joins values along an existing `axis`; all other lengths must agree.
#[track_caller]
pub fn try_concat<T: Float>(parts: &[&Var<T>], axis: usize) -> Result<Var<T>> {
    let loc = Location::caller();
    check_parts("concat", parts, loc)?;
    let shapes: Vec<&[usize]> = parts.iter().map(|p| p.shape()).collect();
    let first = shapes[0];
    if axis >= first.len() {
        return Err(Error::argument(
            "concat",
            format!("axis {axis} is out of range for shape {first:?}"),
            loc,
        ));
    }
    let fits = |s: &[usize]| {
        s.len() == first.len()
            && s.iter()
                .zip(first)
                .enumerate()
                .all(|(i, (a, b))| i == axis || a == b)
    };
    if !shapes.iter().all(|s| fits(s)) {
        return Err(Error::shape(
            "concat",
            &shapes,
            format!(
                "every part must have the same number of axes and the same lengths except along axis {axis}"
            ),
            loc,
        ));
    }
    let views: Vec<ArrayViewD<T>> = parts.iter().map(|p| p.value.view()).collect();
    let out = ndarray::concatenate(Axis(axis), &views).expect("shapes checked");
    Ok(parts[0].tape.record(Op::Concat { axis }, parts, out, loc))
}

/// Stacks values of one shape along a new `axis`.
#[track_caller]
pub fn try_stack<T: Float>(parts: &[&Var<T>], axis: usize) -> Result<Var<T>> {
    let loc = Location::caller();
    check_parts("stack", parts, loc)?;
    let shapes: Vec<&[usize]> = parts.iter().map(|p| p.shape()).collect();
    if axis > shapes[0].len() {
        return Err(Error::argument(
            "stack",
            format!(
                "the new axis {axis} must be at most {} for parts of shape {:?}",
                shapes[0].len(),
                shapes[0]
            ),
            loc,
        ));
    }
    if !shapes.iter().all(|s| *s == shapes[0]) {
        return Err(Error::shape(
            "stack",
            &shapes,
            "every part must have the same shape",
            loc,
        ));
    }
    let views: Vec<ArrayViewD<T>> = parts.iter().map(|p| p.value.view()).collect();
    let out: ArrayD<T> = ndarray::stack(Axis(axis), &views).expect("shapes checked");
    Ok(parts[0].tape.record(Op::Stack { axis }, parts, out, loc))
}

/// Joins values along an existing `axis`. Panics with [`try_concat`]'s message.
#[track_caller]
pub fn concat<T: Float>(parts: &[&Var<T>], axis: usize) -> Var<T> {
    crate::error::or_panic(try_concat(parts, axis))
}

/// Stacks values of one shape along a new `axis`. Panics with [`try_stack`]'s message.
#[track_caller]
pub fn stack<T: Float>(parts: &[&Var<T>], axis: usize) -> Var<T> {
    crate::error::or_panic(try_stack(parts, axis))
}
