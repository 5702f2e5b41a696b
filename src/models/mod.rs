//! The paper's networks and their plain twins, the MLPs of the gradient-flow experiments,
//! and the summary that checks them against the paper.

mod mlp;
mod resnet;

pub use mlp::Mlp;
pub use resnet::{Block, PlainNet, ResNet};

use crate::error::{Error, Result};
use crate::nn::{BasicBlock, Bottleneck, Module, ShortcutOption, StridePlacement, Summary, rng};

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
        ("plain", false) => (
            ResNet::try_cifar(depth, ShortcutOption::None, false, &mut r)?,
            32,
        ),
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
            ResNet::try_cifar(depth, shortcut.unwrap_or(ShortcutOption::A), false, &mut r)?,
            32,
        ),
        _ => (
            ResNet::try_cifar(depth, shortcut.unwrap_or(ShortcutOption::A), true, &mut r)?,
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
