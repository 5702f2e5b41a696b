//! The fully connected nets the gradient-flow experiments measure, by name.

use crate::models::MlpSpec;
use crate::nn::{Init, MlpNorm, Sequential};

/// Width of every gradient-flow MLP (and the batch size of its probes).
pub const WIDTH: usize = 64;
/// Rows in each probe batch (batch norm uses the statistics of this batch).
pub const BATCH: usize = 64;

/// A fully connected net of the gradient-flow experiments: width [`WIDTH`], no biases.
/// Depth always counts weight layers; a residual block holds two, so a residual net of
/// depth 50 has 25 blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlowSetup {
    /// Plain ReLU layers, Glorot init `N(0, 1/n)`, no batch norm (Glorot and Bengio 2010):
    /// also what a residual net becomes with its skips removed.
    GlorotPlain,
    /// Plain ReLU layers, He init `N(0, 2/fan_in)`, no batch norm (He et al. 2015b).
    HePlain,
    /// Plain layers `Linear -> BatchNorm -> ReLU`, He init (Yang et al. 2019).
    BnPlain,
    /// Residual blocks `x + (1/sqrt(blocks)) W2 relu(W1 x)`, He init.
    ScaledResidual,
    /// Residual blocks `x + W2 relu(W1 x)` with `W2 = 0`: each block starts as the
    /// identity (Goyal et al. 2017; Fixup; SkipInit).
    ZeroInitResidual,
    /// Residual blocks `x + W2 relu(W1 x)`, He init, no scaling.
    UnscaledResidual,
    /// He et al. 2015's post-activation block with batch norm:
    /// `relu(x + BN(W2 relu(BN(W1 x))))`.
    PostActBnResidual,
    /// He et al. 2016's pre-activation block: `x + W2 relu(BN(W1 relu(BN(x))))`.
    PreActBnResidual,
}

impl FlowSetup {
    /// Every set-up, in the order of the figures' legends.
    pub const ALL: [FlowSetup; 8] = [
        FlowSetup::GlorotPlain,
        FlowSetup::HePlain,
        FlowSetup::BnPlain,
        FlowSetup::ScaledResidual,
        FlowSetup::ZeroInitResidual,
        FlowSetup::UnscaledResidual,
        FlowSetup::PostActBnResidual,
        FlowSetup::PreActBnResidual,
    ];

    /// A short name for legends and tables.
    pub fn label(self) -> &'static str {
        match self {
            FlowSetup::GlorotPlain => "Glorot plain",
            FlowSetup::HePlain => "He plain",
            FlowSetup::BnPlain => "BN plain (He)",
            FlowSetup::ScaledResidual => "scaled residual",
            FlowSetup::ZeroInitResidual => "zero-init residual",
            FlowSetup::UnscaledResidual => "unscaled residual",
            FlowSetup::PostActBnResidual => "BN residual, post-activation",
            FlowSetup::PreActBnResidual => "BN residual, pre-activation",
        }
    }

    /// Whether the net is made of residual blocks (two weight layers each).
    pub fn is_residual(self) -> bool {
        !matches!(
            self,
            FlowSetup::GlorotPlain | FlowSetup::HePlain | FlowSetup::BnPlain
        )
    }

    /// Weight layers per element of [`FlowSetup::net`]: 1 for plain nets, 2 for residual.
    pub fn layers_per_block(self) -> usize {
        if self.is_residual() { 2 } else { 1 }
    }

    /// The spec of the net of `depth` weight layers with the weights of `seed`. A residual
    /// net has `max(depth / 2, 1)` blocks.
    pub fn spec(self, depth: usize, seed: u64) -> MlpSpec {
        let blocks = (depth / 2).max(1);
        let residual = |norm| MlpSpec::residual(WIDTH, 2 * blocks).norm(norm).seed(seed);
        let plain = MlpSpec::plain(WIDTH, depth).seed(seed);
        match self {
            FlowSetup::GlorotPlain => plain.init(Init::GlorotNormal),
            FlowSetup::HePlain => plain,
            FlowSetup::BnPlain => plain.batch_norm(true),
            FlowSetup::ScaledResidual => {
                residual(MlpNorm::None).branch_scale(1.0 / (blocks as f64).sqrt())
            }
            FlowSetup::ZeroInitResidual => residual(MlpNorm::None).zero_init_residual(true),
            FlowSetup::UnscaledResidual => residual(MlpNorm::None),
            FlowSetup::PostActBnResidual => residual(MlpNorm::Post),
            FlowSetup::PreActBnResidual => residual(MlpNorm::Pre),
        }
    }

    /// The net of [`FlowSetup::spec`], as a sequence whose elements are its layers (plain)
    /// or blocks (residual), so that the boundaries between elements are the `x_l` of
    /// eq. 5.
    pub fn net(self, depth: usize, seed: u64) -> Sequential<f64> {
        self.spec(depth, seed).build()
    }
}

impl std::fmt::Display for FlowSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}
