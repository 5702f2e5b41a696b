//! Sums over axes, on plain arrays.

use ndarray::{ArrayD, Axis};

use crate::float::Float;

/// Sums `x` over `axes` (ascending), keeping them as length 1 if `keepdim`.
pub fn sum_over<T: Float>(x: &ArrayD<T>, axes: &[usize], keepdim: bool) -> ArrayD<T> {
    let mut r = x.clone();
    for &ax in axes.iter().rev() {
        r = r.sum_axis(Axis(ax));
    }
    if keepdim {
        for &ax in axes {
            r = r.insert_axis(Axis(ax));
        }
    }
    r
}

/// The shape of `x` with `axes` set to length 1: the keepdim shape of a reduction.
pub fn keepdim_shape(shape: &[usize], axes: &[usize]) -> Vec<usize> {
    let mut s = shape.to_vec();
    for &ax in axes {
        s[ax] = 1;
    }
    s
}
