//! Fully connected networks for the gradient-flow experiments (SCIENCE.md's set-up).

use crate::Float;
use crate::nn::{BatchNorm2d, Init, Linear, MlpNorm, Relu, ResidualMlpBlock, Sequential, rng};

/// Builders for plain and residual MLPs of one width.
pub struct Mlp;

impl Mlp {
    /// `depth` layers of `Linear (no bias) -> [BatchNorm] -> ReLU`, all `width` wide. Each
    /// layer is one element of the outer sequence (`0.fc`, `0.bn`, `1.fc`, ...), so that
    /// the boundaries between elements are the layers' inputs `x_l`.
    pub fn plain<T: Float>(
        width: usize,
        depth: usize,
        batch_norm: bool,
        init: Init,
        seed: u64,
    ) -> Sequential<T> {
        let mut r = rng(seed);
        let mut s = Sequential::new();
        for _ in 0..depth {
            let mut layer = Sequential::new()
                .push_named("fc", Linear::<T>::new(width, width, false, init, &mut r));
            if batch_norm {
                layer = layer.push_named("bn", BatchNorm2d::<T>::new(width));
            }
            s = s.push(layer.push_named("relu", Relu));
        }
        s
    }

    /// `blocks` residual blocks of two layers each (depth `2 * blocks` weight layers), the
    /// branch multiplied by `branch_scale`, optionally without the skip.
    #[allow(clippy::too_many_arguments)]
    pub fn residual<T: Float>(
        width: usize,
        blocks: usize,
        norm: MlpNorm,
        init: Init,
        branch_scale: f64,
        skip: bool,
        seed: u64,
    ) -> Sequential<T> {
        Self::residual_blocks(width, blocks, norm, init, branch_scale, skip, seed)
            .into_iter()
            .fold(Sequential::new(), |s, b| s.push(b))
    }

    /// The blocks of [`Mlp::residual`] (the same weights for the same seed), unboxed.
    #[allow(clippy::too_many_arguments)]
    pub fn residual_blocks<T: Float>(
        width: usize,
        blocks: usize,
        norm: MlpNorm,
        init: Init,
        branch_scale: f64,
        skip: bool,
        seed: u64,
    ) -> Vec<ResidualMlpBlock<T>> {
        let mut r = rng(seed);
        (0..blocks)
            .map(|_| {
                let mut b = ResidualMlpBlock::<T>::new(width, norm, init, &mut r);
                b.branch_scale = branch_scale;
                b.skip = skip;
                b
            })
            .collect()
    }
}
