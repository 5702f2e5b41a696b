//! Instruments for gradient flow at depth (He et al. 2016, eq. 5):
//! `dE/dx_l = dE/dx_L (1 + d/dx_l sum_i F(x_i))`.
//!
//! Each instrument runs a model on a tape and returns numbers, to be asserted in tests or
//! drawn by [`crate::viz`]. The loss is SCIENCE.md's `E = sum over the batch of <G, x_L>`
//! with `G` drawn independently of the forward pass, so `dE/dx_L = G` and the ratio
//! `R = ||dE/dx_0|| / ||dE/dx_L||` measures only what the network does to a gradient.

use ndarray::{ArrayD, IxDyn};
use rand_distr::{Distribution, StandardNormal};

use crate::nn::{Mode, Module, Rng, rng};
use crate::{Float, Tape, Var};

/// An `N(0, 1)` array of `shape`, from `rng`.
pub fn gaussian<T: Float>(shape: &[usize], rng: &mut Rng) -> ArrayD<T> {
    ArrayD::from_shape_simple_fn(IxDyn(shape), || T::cast(StandardNormal.sample(rng)))
}

/// The Euclidean norm of an array.
pub fn norm<T: Float>(a: &ArrayD<T>) -> f64 {
    a.iter()
        .map(|v| v.as_f64() * v.as_f64())
        .sum::<f64>()
        .sqrt()
}

/// The gradients at every boundary of a stack of blocks.
#[derive(Debug, Clone)]
pub struct BoundaryGradients<T: Float = f32> {
    /// `x_0, x_1, ..., x_L`: the input of each block and the output of the last.
    pub values: Vec<ArrayD<T>>,
    /// `dE/dx_l` for each boundary (the last is `G`).
    pub grads: Vec<ArrayD<T>>,
}

impl<T: Float> BoundaryGradients<T> {
    /// `||dE/dx_l||` for every boundary `l`.
    pub fn norms(&self) -> Vec<f64> {
        self.grads.iter().map(norm).collect()
    }

    /// `R = ||dE/dx_0|| / ||dE/dx_L||`.
    pub fn ratio(&self) -> f64 {
        let n = self.norms();
        n[0] / n[n.len() - 1]
    }
}

/// Runs `blocks` one after another on `x0` and backpropagates `E = <g, x_L>` (`g` is
/// `dE/dx_L`), returning every boundary value and gradient.
pub fn boundary_gradients<T: Float>(
    blocks: &[&dyn Module<T>],
    x0: &ArrayD<T>,
    g: &ArrayD<T>,
    mode: Mode,
) -> BoundaryGradients<T> {
    let tape = Tape::<T>::with_precision();
    let mut xs: Vec<Var<T>> = vec![tape.var(x0.clone())];
    for b in blocks {
        let next = b.forward(xs.last().expect("x_0 is there"), mode);
        xs.push(next);
    }
    let last = xs.last().expect("x_L is there");
    let grads = last.backward_with(g.clone());
    BoundaryGradients {
        values: xs.iter().map(|x| x.value().clone()).collect(),
        grads: xs
            .iter()
            .map(|x| {
                grads
                    .get(x)
                    .cloned()
                    .unwrap_or_else(|| ArrayD::zeros(x.value().raw_dim()))
            })
            .collect(),
    }
}

/// `R = ||dE/dx_0|| / ||dE/dx_L||` for `blocks` on a batch `x0 ~ N(0, 1)` of `batch` rows of
/// `width`, with `G ~ N(0, 1)`, both drawn from `seed` (after the weights, which the caller
/// made).
pub fn ratio<T: Float>(blocks: &[&dyn Module<T>], batch: usize, width: usize, seed: u64) -> f64 {
    let mut r = rng(seed ^ 0x5eed_f10e);
    let x0 = gaussian::<T>(&[batch, width], &mut r);
    let g = gaussian::<T>(&[batch, width], &mut r);
    boundary_gradients(blocks, &x0, &g, Mode::Train).ratio()
}

/// The mean cosine, over `pairs` pairs, between the input gradients at two nearby inputs
/// (`cos(x, x') = rho`, equal norms) with the *same* upstream gradient for both members
/// (SCIENCE.md prediction 5; Balduzzi et al. 2017). Both members share one batch, so
/// batch norm sees them together.
pub fn nearby_gradient_cosine<T: Float>(
    blocks: &[&dyn Module<T>],
    pairs: usize,
    width: usize,
    rho: f64,
    seed: u64,
) -> f64 {
    let mut r = rng(seed ^ 0xc051_11e5);
    let x = gaussian::<f64>(&[pairs, width], &mut r);
    let d = gaussian::<f64>(&[pairs, width], &mut r);
    let mut both = ArrayD::<T>::zeros(IxDyn(&[2 * pairs, width]));
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(p, q)| p * q).sum::<f64>();
    for i in 0..pairs {
        let xi: Vec<f64> = x.index_axis(ndarray::Axis(0), i).iter().copied().collect();
        let mut di: Vec<f64> = d.index_axis(ndarray::Axis(0), i).iter().copied().collect();
        // d orthogonal to x, with x's norm: then x' = rho x + sqrt(1 - rho^2) d has
        // cos(x, x') = rho and |x'| = |x|.
        let proj = dot(&di, &xi) / dot(&xi, &xi);
        di.iter_mut().zip(&xi).for_each(|(d, x)| *d -= proj * x);
        let scale = (dot(&xi, &xi) / dot(&di, &di)).sqrt();
        for j in 0..width {
            both[[i, j]] = T::cast(xi[j]);
            both[[pairs + i, j]] = T::cast(rho * xi[j] + (1.0 - rho * rho).sqrt() * scale * di[j]);
        }
    }
    let v = gaussian::<T>(&[pairs, width], &mut r);
    let g = ndarray::concatenate(ndarray::Axis(0), &[v.view(), v.view()]).expect("same widths");
    let flow = boundary_gradients(blocks, &both, &g, Mode::Train);
    let g0 = &flow.grads[0];
    let mut total = 0.0;
    for i in 0..pairs {
        let (a, b) = (
            g0.index_axis(ndarray::Axis(0), i),
            g0.index_axis(ndarray::Axis(0), pairs + i),
        );
        let dot: f64 = a
            .iter()
            .zip(b.iter())
            .map(|(p, q)| p.as_f64() * q.as_f64())
            .sum();
        let (na, nb) = (norm(&a.to_owned()), norm(&b.to_owned()));
        total += dot / (na * nb);
    }
    total / pairs as f64
}
