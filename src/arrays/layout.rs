//! Memory layout and finiteness of values.

use ndarray::{ArrayD, Dimension};

use crate::float::Float;

/// The contiguous data of an array in standard layout (every value on a tape is).
///
/// Panics if `a` is not in standard layout: pass it through [`standard`] first.
pub fn slice<T: Float>(a: &ArrayD<T>) -> &[T] {
    a.as_slice()
        .expect("values on the tape are in standard layout")
}

/// Returns the array in row-major (C) layout, copying only if it is not already.
pub fn standard<T: Float>(a: ArrayD<T>) -> ArrayD<T> {
    if a.is_standard_layout() {
        a
    } else {
        a.as_standard_layout().into_owned()
    }
}

/// Describes the first non-finite element, if any: `"NaN at index [0, 2]"`.
pub fn non_finite<T: Float>(a: &ArrayD<T>) -> Option<String> {
    a.indexed_iter()
        .find(|(_, x)| !x.is_finite())
        .map(|(ix, x)| {
            let kind = if x.is_nan() { "NaN" } else { "an infinity" };
            format!("{kind} at index {:?}", ix.slice())
        })
}
