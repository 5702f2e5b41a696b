//! NumPy broadcasting: the forward rule, and the reduction its backward needs.

use ndarray::{ArrayD, Axis, IxDyn};

use crate::float::Float;

/// The broadcast shape of `a` and `b` under NumPy's rule (align trailing axes; each pair of
/// lengths must be equal or contain a 1), or the first axis (counted from the end, 1-based)
/// where they clash.
pub fn broadcast_shape(a: &[usize], b: &[usize]) -> Result<Vec<usize>, (usize, usize, usize)> {
    let n = a.len().max(b.len());
    let mut out = vec![0; n];
    for k in 1..=n {
        let da = if k <= a.len() { a[a.len() - k] } else { 1 };
        let db = if k <= b.len() { b[b.len() - k] } else { 1 };
        out[n - k] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            (x, y) => return Err((k, x, y)),
        };
    }
    Ok(out)
}

/// Sums `g` (shaped like a broadcast result) back down to `shape`: over the leading axes
/// broadcasting added, and over the axes where `shape` has length 1.
///
/// This is the backward of broadcasting: a value copied to many places receives the sum
/// of their gradients.
pub fn reduce_to_shape<T: Float>(g: &ArrayD<T>, shape: &[usize]) -> ArrayD<T> {
    if g.shape() == shape {
        return g.clone();
    }
    let lead = g.ndim() - shape.len();
    let mut r = g.clone();
    for _ in 0..lead {
        r = r.sum_axis(Axis(0));
    }
    for (ax, &len) in shape.iter().enumerate() {
        if len == 1 && r.shape()[ax] != 1 {
            r = r.sum_axis(Axis(ax)).insert_axis(Axis(ax));
        }
    }
    r.into_shape_with_order(IxDyn(shape))
        .expect("reduce_to_shape: the reduced gradient has the input's element count")
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{ArrayD, IxDyn};

    #[test]
    fn shapes_broadcast_as_numpy_says() {
        assert_eq!(broadcast_shape(&[2, 3], &[3]), Ok(vec![2, 3]));
        assert_eq!(broadcast_shape(&[4, 1, 3], &[2, 1]), Ok(vec![4, 2, 3]));
        assert_eq!(broadcast_shape(&[], &[5]), Ok(vec![5]));
        // Counted from the end: axis -1 holds 3 and 4.
        assert_eq!(broadcast_shape(&[2, 3], &[4]), Err((1, 3, 4)));
        assert_eq!(broadcast_shape(&[2, 3], &[5, 3]), Err((2, 2, 5)));
    }

    #[test]
    fn reduce_to_shape_sums_the_broadcast_axes() {
        let g =
            ArrayD::from_shape_vec(IxDyn(&[2, 2, 3]), (0..12).map(f64::from).collect()).unwrap();
        // Back to [2, 1]: sum over the leading axis and over axis -1.
        let r = reduce_to_shape(&g, &[2, 1]);
        assert_eq!(r.shape(), &[2, 1]);
        assert_eq!(
            r.iter().copied().collect::<Vec<_>>(),
            vec![0. + 1. + 2. + 6. + 7. + 8., 3. + 4. + 5. + 9. + 10. + 11.]
        );
        // Back to a scalar: everything.
        assert_eq!(reduce_to_shape(&g, &[]).sum(), 66.0);
    }
}
