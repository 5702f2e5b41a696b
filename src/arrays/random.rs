//! Seeded random tensors, for examples, notebooks and tests.

use ndarray::{ArrayD, IxDyn};
use rand::SeedableRng;
use rand_distr::{Distribution, Normal, Uniform};

use crate::float::Float;

/// A tensor of `shape` with elements drawn from the standard normal N(0, 1), the same
/// for the same seed on any machine (like `torch.manual_seed(seed); torch.randn(shape)`,
/// though not the same numbers as PyTorch's).
///
/// ```
/// use resgrad::{Tape, randn};
/// let tape = Tape::new();
/// let x = tape.var(randn(&[2, 3, 8, 8], 0)); // the element type follows the tape: f32
/// assert_eq!(x.shape(), &[2, 3, 8, 8]);
/// assert_eq!(randn::<f64>(&[4], 7), randn::<f64>(&[4], 7));
/// ```
pub fn randn<T: Float>(shape: &[usize], seed: u64) -> ArrayD<T> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let d = Normal::new(0.0, 1.0).expect("N(0, 1) is a valid distribution");
    ArrayD::from_shape_simple_fn(IxDyn(shape), || T::cast(d.sample(&mut rng)))
}

/// A tensor of `shape` with elements drawn uniformly from `[low, high)`, seeded.
///
/// Panics if `low >= high` or either is not finite, saying so.
pub fn uniform<T: Float>(shape: &[usize], low: f64, high: f64, seed: u64) -> ArrayD<T> {
    let d = Uniform::new(low, high).unwrap_or_else(|_| {
        panic!("uniform: needs finite low < high, got low = {low}, high = {high}")
    });
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    ArrayD::from_shape_simple_fn(IxDyn(shape), || T::cast(d.sample(&mut rng)))
}
