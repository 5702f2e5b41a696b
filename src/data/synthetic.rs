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

/// `classes` interleaved spirals of `n` points in total, with Gaussian noise `noise`.
pub fn spirals(n: usize, classes: usize, noise: f32, seed: u64) -> (Array2<f32>, Vec<usize>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let jitter = Normal::new(0.0, noise.max(0.0)).expect("a non-negative std");
    let classes = classes.max(1);
    let mut x = Array2::zeros((n, 2));
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let c = i % classes;
        let r = (i / classes) as f32 / (n / classes).max(1) as f32;
        let t = 4.0 * r + 2.0 * std::f32::consts::PI * c as f32 / classes as f32;
        x[[i, 0]] = r * t.cos() + jitter.sample(&mut rng);
        x[[i, 1]] = r * t.sin() + jitter.sample(&mut rng);
        labels.push(c);
    }
    (x, labels)
}

/// Two concentric circles, as scikit-learn's `make_circles` with `factor` 0.5: `n` points
/// `[n, 2]`, the outer circle (radius 1) labelled 0 and the inner (radius 0.5) labelled 1,
/// with Gaussian noise of std `noise`.
///
/// ```
/// let (x, y) = resgrad::data::circles(100, 0.0, 0);
/// let r = |i: usize| x[[i, 0]].hypot(x[[i, 1]]);
/// assert!((r(0) - 1.0).abs() < 1e-6 && y[0] == 0);
/// assert!((r(99) - 0.5).abs() < 1e-6 && y[99] == 1);
/// ```
pub fn circles(n: usize, noise: f32, seed: u64) -> (Array2<f32>, Vec<usize>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let jitter = Normal::new(0.0, noise.max(0.0)).expect("a non-negative std");
    let n_outer = n.div_ceil(2);
    let mut x = Array2::zeros((n, 2));
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let outer = i < n_outer;
        let (count, k) = if outer {
            (n_outer, i)
        } else {
            (n - n_outer, i - n_outer)
        };
        let t = 2.0 * std::f32::consts::PI * k as f32 / count.max(1) as f32;
        let radius = if outer { 1.0 } else { 0.5 };
        x[[i, 0]] = radius * t.cos() + jitter.sample(&mut rng);
        x[[i, 1]] = radius * t.sin() + jitter.sample(&mut rng);
        labels.push(usize::from(!outer));
    }
    (x, labels)
}

/// A 1-D regression grid: `n` points `x` evenly on [-1, 1] and `y = sin(3 x) + x / 2`,
/// each `[n, 1]`.
pub fn regression_grid(n: usize) -> (Array2<f32>, Array2<f32>) {
    let x = Array2::from_shape_fn((n, 1), |(i, _)| {
        -1.0 + 2.0 * i as f32 / (n.max(2) - 1) as f32
    });
    let y = x.mapv(|v| (3.0 * v).sin() + v / 2.0);
    (x, y)
}
