//! Generated data sets, seeded so that every run sees the same points.

use ndarray::Array2;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, Normal};

/// Two interleaving half circles, as scikit-learn's `make_moons`: `n` points `[n, 2]` and
/// their labels (0 for the upper moon, 1 for the lower), with Gaussian noise of std `noise`.
///
/// ```
/// let (x, y) = resgrad::data::two_moons(100, 0.1, 0);
/// assert_eq!(x.shape(), &[100, 2]);
/// assert_eq!(y.iter().filter(|&&l| l == 1).count(), 50);
/// ```
pub fn two_moons(n: usize, noise: f32, seed: u64) -> (Array2<f32>, Vec<usize>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let jitter = Normal::new(0.0, noise.max(0.0)).expect("a non-negative std");
    let n_upper = n.div_ceil(2);
    let mut x = Array2::zeros((n, 2));
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let upper = i < n_upper;
        let count = if upper { n_upper } else { n - n_upper };
        let k = if upper { i } else { i - n_upper };
        let t = std::f32::consts::PI * k as f32 / (count.max(2) - 1) as f32;
        let (px, py) = if upper {
            (t.cos(), t.sin())
        } else {
            (1.0 - t.cos(), 0.5 - t.sin())
        };
        x[[i, 0]] = px + jitter.sample(&mut rng);
        x[[i, 1]] = py + jitter.sample(&mut rng);
        labels.push(usize::from(!upper));
    }
    (x, labels)
}
