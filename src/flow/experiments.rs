//! The experiments behind `resgrad flow`'s figures, at initialisation: each returns the
//! numbers; the `viz` module draws them.

use ndarray::ArrayD;

use super::setup::{BATCH, FlowSetup, WIDTH};
use super::{
    autocorrelation, boundary_gradients, eq5_split, gaussian, gradient_over_grid,
    layer_response_std, path_length_norms,
};
use crate::models::{Block, MlpSpec, PlainNet, ResNet};
use crate::nn::{Mode, ShortcutOption, rng};

/// One net's gradient norms against depth.
#[derive(Debug, Clone, PartialEq)]
pub struct DepthCurve {
    /// The net.
    pub setup: FlowSetup,
    /// Its depth in weight layers.
    pub depth: usize,
    /// Its weights' seed.
    pub seed: u64,
    /// `(weight layer l, ||dE/dx_l|| / ||dE/dx_L||)`, input side at 0.
    pub points: Vec<(f64, f64)>,
}

/// The set-ups of the gradient-norm figure at depth 50, in its legend's order.
pub const DEPTH_SETUPS: [FlowSetup; 5] = [
    FlowSetup::GlorotPlain,
    FlowSetup::HePlain,
    FlowSetup::BnPlain,
    FlowSetup::ScaledResidual,
    FlowSetup::ZeroInitResidual,
];

/// The set-ups of the gradient-norm figure at depth 200: He init, plain against residual
/// (Glorot's and batch norm's plain nets are far off any common scale there).
pub const DEEP_SETUPS: [FlowSetup; 3] = [
    FlowSetup::HePlain,
    FlowSetup::ScaledResidual,
    FlowSetup::ZeroInitResidual,
];

/// The depths and set-ups of the gradient-norm figure: every set-up of [`DEPTH_SETUPS`]
/// at 50 weight layers, and [`DEEP_SETUPS`] at 200.
pub const NORM_DEPTHS: [(usize, &[FlowSetup]); 2] = [(50, &DEPTH_SETUPS), (200, &DEEP_SETUPS)];

/// `||dE/dx_l|| / ||dE/dx_L||` through `setup` at `depth` weight layers, for one seed.
pub fn depth_curve(setup: FlowSetup, depth: usize, seed: u64) -> DepthCurve {
    let net = setup.net(depth, seed);
    let mut r = rng(seed ^ 0x5eed_f10e);
    let x0 = gaussian::<f64>(&[BATCH, WIDTH], &mut r);
    let g = gaussian::<f64>(&[BATCH, WIDTH], &mut r);
    let norms = boundary_gradients(&net.blocks(), &x0, &g, Mode::Train).norms();
    let last = norms[norms.len() - 1];
    let step = setup.layers_per_block() as f64;
    DepthCurve {
        setup,
        depth,
        seed,
        points: norms
            .iter()
            .enumerate()
            .map(|(l, n)| (l as f64 * step, n / last))
            .collect(),
    }
}

/// The gradient norm at every layer for each depth and set-up of [`NORM_DEPTHS`], seeds
/// `0..seeds`: the numbers of the gradient-norm figure.
pub fn gradient_norm_depth(seeds: u64) -> Vec<DepthCurve> {
    NORM_DEPTHS
        .iter()
        .flat_map(|&(depth, setups)| {
            setups
                .iter()
                .flat_map(move |&s| (0..seeds).map(move |seed| depth_curve(s, depth, seed)))
        })
        .collect()
}

/// Seeded `N(0, 1)` "images" `[n, 3, hw, hw]`.
fn images(n: usize, hw: usize, seed: u64) -> ArrayD<f32> {
    gaussian::<f32>(&[n, 3, hw, hw], &mut rng(seed))
}

/// [`eq5_split`] along a fresh ResNet-56 (option A) on 4 images of 16x16:
/// `(through the shortcut, through the branch)` for each block.
pub fn eq5_split_resnet56() -> Vec<(f64, f64)> {
    let net: ResNet = ResNet::cifar(56, ShortcutOption::A);
    eq5_split(&net, &images(4, 16, 1), 2)
}

/// [`layer_response_std`] at initialisation, eval mode, for plain-20, plain-56,
/// ResNet-20, -56 and -110: `(net, std of each 3x3 layer's response)`.
pub fn response_std_at_init() -> Vec<(&'static str, Vec<f64>)> {
    let x = images(8, 16, 3);
    let nets: [(&str, ResNet); 5] = [
        ("plain-20", PlainNet::cifar(20)),
        ("plain-56", PlainNet::cifar(56)),
        ("ResNet-20", ResNet::cifar(20, ShortcutOption::A)),
        ("ResNet-56", ResNet::cifar(56, ShortcutOption::A)),
        ("ResNet-110", ResNet::cifar(110, ShortcutOption::A)),
    ];
    nets.iter()
        .map(|(name, net)| (*name, layer_response_std(net, &x, Mode::Eval)))
        .collect()
}

/// One net's gradient over a 1-D input (Balduzzi et al. 2017).
#[derive(Debug, Clone, PartialEq)]
pub struct Shattered {
    /// [`FlowSetup::BnPlain`] or [`FlowSetup::ScaledResidual`].
    pub setup: FlowSetup,
    /// Weight layers.
    pub depth: usize,
    /// `df/dt` on 256 points of `t` in [-2, 2] ([`gradient_over_grid`]).
    pub gradient: Vec<f64>,
    /// Its autocorrelation at lags 0..=32.
    pub autocorrelation: Vec<f64>,
}

/// Shattered gradients at depths 2, 10 and 50: the plain BN net and the rescaled
/// residual net, seed 5.
pub fn shattered() -> Vec<Shattered> {
    let mut out = Vec::new();
    for depth in [2usize, 10, 50] {
        for setup in [FlowSetup::BnPlain, FlowSetup::ScaledResidual] {
            let net = setup.net(depth, 5);
            let gradient = gradient_over_grid(&net.blocks(), WIDTH, 256, 5);
            let autocorrelation = autocorrelation(&gradient, 32);
            out.push(Shattered {
                setup,
                depth,
                gradient,
                autocorrelation,
            });
        }
    }
    out
}

/// Veit et al. 2016: the share of the gradient norm that crossed exactly `k` branches,
/// `k = 0..=54`, for 54 scaled residual blocks (linearised; [`path_length_norms`]).
pub fn path_length_shares() -> Vec<f64> {
    let blocks = MlpSpec::residual(WIDTH, 108)
        .branch_scale(1.0 / 54f64.sqrt())
        .seed(7)
        .blocks::<f64>();
    let norms = path_length_norms(&blocks, 7);
    let total: f64 = norms.iter().sum();
    norms.iter().map(|n| n / total).collect()
}

/// The shortcut scales of [`lambda_sweep`].
pub const LAMBDAS: [f64; 9] = [0.0, 0.5, 0.8, 0.9, 0.95, 1.0, 1.05, 1.1, 1.2];

/// He et al. 2016 eq. 8: `(lambda, R)` for a ResNet-56 whose shortcuts are all scaled by
/// `lambda`, for each of [`LAMBDAS`].
pub fn lambda_sweep() -> Vec<(f64, f64)> {
    let x = images(2, 8, 9);
    LAMBDAS
        .iter()
        .map(|&l| {
            let mut net: ResNet = ResNet::cifar(56, ShortcutOption::A);
            for b in net.stages.iter_mut().flatten() {
                if let Block::Basic(b) = b {
                    b.shortcut_scale = l;
                }
            }
            (l, super::resnet_flow(&net, &x, 10).ratio())
        })
        .collect()
}
