//! He et al. 2016 eq. 8 on fully connected residual nets: a shortcut scaled by lambda,
//! `x_{l+1} = lambda_l x_l + F(x_l)`, unrolls to
//! `x_L = (prod_{i=l}^{L-1} lambda_i) x_l + sum_i F^(x_i)`, so
//! `dE/dx_l = dE/dx_L (prod_i lambda_i) + dE/dx_L d/dx_l sum_i F^(x_i)`:
//! a direct term, the upstream gradient times the product of the lambdas, and a term that
//! crossed at least one branch. With every lambda 1 this is eq. 5.

use ndarray::ArrayD;

use super::setup::{BATCH, WIDTH};
use super::{boundary_gradients, gaussian, norm};
use crate::models::MlpSpec;
use crate::nn::{MlpNorm, Mode, Module, ResidualMlpBlock, rng};

/// The split of eq. 8 at every boundary of a stack of residual MLP blocks: for each
/// `l = 0..=L`, `(||direct||, ||branch||)` with `direct = (prod_{i=l}^{L-1} lambda_i) g`
/// (`lambda_i` the [`shortcut_scale`](ResidualMlpBlock::shortcut_scale) of block `i`) and
/// `branch = dE/dx_l - direct`, for `E = <g, x_L>`. At `l = L` the branch term is 0.
///
/// The two are vectors that add up to `dE/dx_l`; their norms do not add.
///
/// # Panics
/// If a block has batch norm after the addition ([`MlpNorm::Post`]: its ReLU after the sum
/// is not part of eq. 8's form), or has no skip.
pub fn eq8_split(
    blocks: &[ResidualMlpBlock<f64>],
    x0: &ArrayD<f64>,
    g: &ArrayD<f64>,
) -> Vec<(f64, f64)> {
    for (i, b) in blocks.iter().enumerate() {
        assert!(
            b.skip && b.norm != MlpNorm::Post,
            "eq8_split: block {i} is not of eq. 8's form x + F(x) (no skip, or a ReLU after the addition)"
        );
    }
    let refs: Vec<&dyn Module<f64>> = blocks.iter().map(|b| b as &dyn Module<f64>).collect();
    let flow = boundary_gradients(&refs, x0, g, Mode::Train);
    let lambdas: Vec<f64> = blocks.iter().map(|b| b.shortcut_scale).collect();
    split_of(&lambdas, &flow.grads, g)
}

/// Eq. 8's split from gradients already measured: `grads[l]` is `dE/dx_l` at every
/// boundary of blocks with shortcut scales `lambdas`, `g = dE/dx_L`.
pub(crate) fn split_of(lambdas: &[f64], grads: &[ArrayD<f64>], g: &ArrayD<f64>) -> Vec<(f64, f64)> {
    grads
        .iter()
        .enumerate()
        .map(|(l, grad)| {
            let product: f64 = lambdas[l..].iter().product();
            let direct = g * product;
            (norm(&direct), norm(&(grad - &direct)))
        })
        .collect()
}

/// The residual MLP of the lambda sweep: `depth / 2` blocks `lambda x + s W2 relu(W1 x)`
/// of width [`WIDTH`], He init, no batch norm, `s = 1/sqrt(blocks)` (the scaled residual
/// net of [`FlowSetup::ScaledResidual`](super::FlowSetup::ScaledResidual)), weights of
/// `seed`.
pub fn lambda_blocks(depth: usize, lambda: f64, seed: u64) -> Vec<ResidualMlpBlock<f64>> {
    let blocks = (depth / 2).max(1);
    MlpSpec::residual(WIDTH, 2 * blocks)
        .branch_scale(1.0 / (blocks as f64).sqrt())
        .shortcut_scale(lambda)
        .seed(seed)
        .blocks::<f64>()
}

/// He et al. 2016 eq. 8 on the scaled residual MLP of `depth` weight layers
/// ([`lambda_blocks`]): `(lambda, R)` for each of `lambdas`, with
/// `R = ||dE/dx_0|| / ||dE/dx_L||` on a batch of [`BATCH`] rows. The same weights, input
/// and upstream gradient for every lambda, so only the shortcut scale changes.
pub fn lambda_sweep_mlp(lambdas: &[f64], depth: usize, seed: u64) -> Vec<(f64, f64)> {
    let mut r = rng(seed ^ 0x5eed_f10e);
    let x0 = gaussian::<f64>(&[BATCH, WIDTH], &mut r);
    let g = gaussian::<f64>(&[BATCH, WIDTH], &mut r);
    lambdas
        .iter()
        .map(|&lambda| {
            let blocks = lambda_blocks(depth, lambda, seed);
            let refs: Vec<&dyn Module<f64>> =
                blocks.iter().map(|b| b as &dyn Module<f64>).collect();
            (
                lambda,
                boundary_gradients(&refs, &x0, &g, Mode::Train).ratio(),
            )
        })
        .collect()
}
