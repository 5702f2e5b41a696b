//! The stable pieces of softmax, on plain arrays.

use ndarray::{ArrayD, Axis};

use crate::float::Float;

/// `x - max(x)` along `axis`, and `ln(sum(exp(x - max)))`: the stable pieces of softmax.
///
/// Subtracting the max makes the largest exponent `e^0 = 1`, so nothing overflows even for
/// logits of 1e4, and the sum is at least 1, so its log is finite.
pub fn shifted_and_logsumexp<T: Float>(x: &ArrayD<T>, axis: usize) -> (ArrayD<T>, ArrayD<T>) {
    let m = x
        .map_axis(Axis(axis), |lane| {
            lane.fold(T::neg_infinity(), |a, &b| a.max(b))
        })
        .insert_axis(Axis(axis));
    let shifted = x - &m;
    let lse = shifted
        .mapv(T::exp)
        .sum_axis(Axis(axis))
        .mapv(T::ln)
        .insert_axis(Axis(axis));
    (shifted, lse)
}

/// Softmax along `axis`, computed stably.
pub fn softmax_values<T: Float>(x: &ArrayD<T>, axis: usize) -> ArrayD<T> {
    let (shifted, lse) = shifted_and_logsumexp(x, axis);
    (shifted - &lse).mapv(T::exp)
}
