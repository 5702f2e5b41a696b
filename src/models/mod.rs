//! The paper's networks and their plain twins, the MLPs of the gradient-flow experiments,
//! and the summary that checks them against the paper.

/// Chainable setters for the named fields of a spec, each documented as `Sets ...`.
macro_rules! setters {
    ($spec:ty { $($field:ident: $ty:ty),* $(,)? }) => {
        impl $spec {
            $(
                #[doc = concat!("Sets [`", stringify!($field), "`](Self::", stringify!($field), ").")]
                pub fn $field(mut self, $field: $ty) -> Self {
                    self.$field = $field;
                    self
                }
            )*
        }
    };
}

mod mlp;
mod resnet;

pub use mlp::MlpSpec;
pub use resnet::{Block, CifarSpec, PlainNet, ResNet};

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};
use crate::nn::{BasicBlock, Bottleneck, Module, ShortcutOption, StridePlacement, Summary, rng};

/// Plain or residual: the two kinds of network the paper compares, and the causal
/// control between them, the residual net whose shortcuts pass no gradient.
///
/// Shown as `plain`, `resnet` and `detached`; parsed from `plain`, `resnet` or `residual`,
/// and `detached`, in any case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NetKind {
    /// Layers stacked with no shortcut.
    Plain,
    /// The same layers in residual blocks, `F(x) + x`.
    Residual,
    /// The residual net with every shortcut detached: the same forward function,
    /// `F(x) + x`, but no gradient flows back along the shortcuts ([`Var::detach`]), so
    /// the gradient reaching each block's input is its branch's alone. The causal test of
    /// whether the identity path's *gradient* is what trains a deep residual net.
    ///
    /// [`Var::detach`]: crate::Var::detach
    Detached,
}

impl fmt::Display for NetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NetKind::Plain => "plain",
            NetKind::Residual => "resnet",
            NetKind::Detached => "detached",
        })
    }
}

impl FromStr for NetKind {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "plain" => Ok(NetKind::Plain),
            "resnet" | "residual" => Ok(NetKind::Residual),
            "detached" => Ok(NetKind::Detached),
            _ => Err(format!(
                "unknown net kind `{s}`; the kinds are plain, resnet (or residual) and \
                 detached (a resnet whose shortcuts pass no gradient)"
            )),
        }
    }
}

/// The blocks per stage `n` of a CIFAR network of `depth` weight layers (He et al. 2015
/// §4.2): three stages of `n` blocks of two 3x3 layers, plus the first conv and the
/// classifier, so `depth = 6n + 2` (20, 32, 44, 56, 110, 1202 give n = 3, 5, 7, 9, 18,
/// 200). Other depths are an error that states the rule and the nearest valid depths.
#[track_caller]
pub fn cifar_blocks_per_stage(depth: usize) -> Result<usize> {
    if depth >= 8 && (depth - 2).is_multiple_of(6) {
        return Ok((depth - 2) / 6);
    }
    let below = (depth.saturating_sub(2) / 6 * 6 + 2).max(8);
    let above = if depth < 8 { 8 } else { below + 6 };
    let nearest = if below == above || below >= depth {
        format!("{above}")
    } else {
        format!("{below} or {above}")
    };
    Err(Error::argument(
        "cifar_blocks_per_stage",
        format!(
            "a CIFAR net has depth 6n + 2 for n >= 1 blocks per stage (three stages of n \
             blocks of two 3x3 layers, plus the first conv and the classifier: 20, 32, 44, \
             56, 110, 1202); {depth} is not of that form, the nearest are {nearest}"
        ),
        std::panic::Location::caller(),
    ))
}

/// A network by name, with the input side it expects (32 for CIFAR, 224 for ImageNet):
/// `resnet18|34|50|101|152` (ImageNet), `resnetN` for `N = 6n + 2` (CIFAR), `plainN`
/// (CIFAR, or ImageNet for 18 and 34), `preact-resnetN` (CIFAR). `shortcut` defaults to A
/// on CIFAR and B on ImageNet.
#[track_caller]
pub fn by_name(
    name: &str,
    shortcut: Option<ShortcutOption>,
    placement: StridePlacement,
) -> Result<(ResNet, usize)> {
    let loc = std::panic::Location::caller();
    let bad = || {
        Error::argument(
            "models::by_name",
            format!(
                "unknown model `{name}`; try resnet20, resnet56, resnet110, plain20, preact-resnet110, \
                 resnet18, resnet34, resnet50, resnet101, resnet152 or plain34"
            ),
            loc,
        )
    };
    let (kind, depth) = ["preact-resnet", "resnet", "plain"]
        .iter()
        .find_map(|k| name.strip_prefix(k).map(|d| (*k, d)))
        .ok_or_else(bad)?;
    let depth: usize = depth.parse().map_err(|_| bad())?;
    let imagenet = matches!(depth, 18 | 34 | 50 | 101 | 152) && kind != "preact-resnet";
    let mut r = rng(0);
    Ok(match (kind, imagenet) {
        ("plain", true) => (
            ResNet::try_imagenet(depth, ShortcutOption::None, placement, &mut r)?,
            224,
        ),
        ("plain", false) => (CifarSpec::plain(depth).build()?, 32),
        ("resnet", true) => (
            ResNet::try_imagenet(
                depth,
                shortcut.unwrap_or(ShortcutOption::B),
                placement,
                &mut r,
            )?,
            224,
        ),
        ("resnet", false) => (
            CifarSpec::resnet(depth, shortcut.unwrap_or(ShortcutOption::A)).build()?,
            32,
        ),
        _ => (
            CifarSpec {
                pre_activation: true,
                ..CifarSpec::resnet(depth, shortcut.unwrap_or(ShortcutOption::A))
            }
            .build()?,
            32,
        ),
    })
}

/// The paper's bottleneck claim in numbers (He et al. 2015 §4.1, Fig. 5): multiply-adds
/// per pixel of a 256-d bottleneck, a 64-d basic block and a 256-d basic block, each
/// counted from the block itself.
pub fn compare_blocks() -> Vec<(String, usize, usize)> {
    let per_pixel = |m: &dyn Module<f32>, c: usize| {
        let s = Summary::of("block", m, &[1, c, 1, 1]);
        (s.total_macs(), s.total_params())
    };
    let mut r = rng(0);
    let bottleneck: Bottleneck<f32> = Bottleneck::new(
        256,
        64,
        1,
        ShortcutOption::B,
        StridePlacement::First1x1,
        &mut r,
    );
    let basic64: BasicBlock<f32> = BasicBlock::new(64, 64, 1, ShortcutOption::B, &mut r);
    let basic256: BasicBlock<f32> = BasicBlock::new(256, 256, 1, ShortcutOption::B, &mut r);
    let rows = [
        (
            "bottleneck, 256-d: 1x1 256->64, 3x3 64->64, 1x1 64->256",
            per_pixel(&bottleneck, 256),
        ),
        (
            "basic block, 64-d: 3x3 64->64, 3x3 64->64",
            per_pixel(&basic64, 64),
        ),
        (
            "basic block, 256-d: 3x3 256->256, 3x3 256->256",
            per_pixel(&basic256, 256),
        ),
    ];
    rows.into_iter()
        .map(|(n, (m, p))| (n.to_string(), m, p))
        .collect()
}
