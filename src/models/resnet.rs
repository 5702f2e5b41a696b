//! ResNets and plain nets: CIFAR (He et al. 2015 §4.2) and ImageNet (Table 1).

use super::{NetKind, cifar_blocks_per_stage};
use crate::error::{Error, Result};
use crate::nn::{
    BasicBlock, BatchNorm2d, Bottleneck, Conv2d, GlobalAvgPool, Init, Linear, MaxPool2d, Mode,
    Module, Norm, PreActBlock, Rng, ShapeFlow, ShortcutOption, StridePlacement, Summary, rng,
};
use crate::{Float, Var};

/// One block of a network.
pub enum Block<T: Float = f32> {
    /// Two 3x3 convs (ResNet-18/34, CIFAR ResNets, plain nets).
    Basic(BasicBlock<T>),
    /// 1x1, 3x3, 1x1 (ResNet-50/101/152).
    Bottleneck(Bottleneck<T>),
    /// Pre-activation (He et al. 2016).
    PreAct(PreActBlock<T>),
}

impl<T: Float> Block<T> {
    fn module(&self) -> &dyn Module<T> {
        match self {
            Block::Basic(b) => b,
            Block::Bottleneck(b) => b,
            Block::PreAct(b) => b,
        }
    }
}

impl<T: Float> Module<T> for Block<T> {
    #[track_caller]
    fn forward(&self, x: &Var<T>, mode: Mode) -> Var<T> {
        self.module().forward(x, mode)
    }
    fn try_forward(&self, x: &Var<T>, mode: Mode) -> crate::Result<Var<T>> {
        self.module().try_forward(x, mode)
    }
    fn children(&self) -> Vec<(String, &dyn Module<T>)> {
        self.module().children()
    }
    fn shape_flow(&self) -> ShapeFlow {
        self.module().shape_flow()
    }
}

/// A residual network (or, with [`ShortcutOption::None`], its plain twin): a stem, stages
/// of blocks named `layer1`, `layer2`, ..., global average pooling and a linear classifier.
pub struct ResNet<T: Float = f32> {
    /// e.g. `resnet56 (option A)`.
    pub name: String,
    /// The first conv (3x3 on CIFAR, 7x7 stride 2 on ImageNet).
    pub conv1: Conv2d<T>,
    /// Batch norm after the first conv (absent in pre-activation nets and in nets without
    /// batch norm).
    pub bn1: Option<BatchNorm2d<T>>,
    /// 3x3 stride-2 max pooling after the stem (ImageNet only).
    pub maxpool: Option<MaxPool2d>,
    /// The stages of blocks.
    pub stages: Vec<Vec<Block<T>>>,
    /// He et al. 2016's layout: the stem is the first conv alone, and batch norm (if any)
    /// and ReLU come after the last block, before pooling. Otherwise (2015) the stem is
    /// the first conv, batch norm (if any) and ReLU, and nothing follows the last block.
    pub pre_activation: bool,
    /// Batch norm after the last block of a pre-activation net (absent otherwise, and in
    /// nets without batch norm).
    pub final_bn: Option<BatchNorm2d<T>>,
    /// The classifier.
    pub fc: Linear<T>,
}

setters!(CifarSpec {
    depth: usize,
    kind: NetKind,
    shortcut: ShortcutOption,
    pre_activation: bool,
    init: Init,
    branch_scale: f64,
    shortcut_scale: f64,
    in_channels: usize,
    width: usize,
    classes: usize,
    batch_norm: bool,
    seed: u64,
});

/// Plain networks: the same layers as a ResNet, no shortcuts.
pub struct PlainNet;

impl PlainNet {
    /// The CIFAR plain net of depth `6n + 2` (He et al. 2015, Fig. 6 left).
    pub fn cifar(depth: usize) -> ResNet {
        ResNet::cifar(depth, ShortcutOption::None)
    }

    /// Plain-18 or plain-34 for ImageNet (Table 2).
    pub fn imagenet(depth: usize) -> Result<ResNet> {
        if depth != 18 && depth != 34 {
            return Err(Error::argument(
                "PlainNet::imagenet",
                format!("the paper's plain nets are 18 and 34 layers deep, not {depth}"),
                std::panic::Location::caller(),
            ));
        }
        ResNet::try_imagenet(
            depth,
            ShortcutOption::None,
            StridePlacement::First1x1,
            &mut rng(0),
        )
    }
}

fn option_name(option: ShortcutOption) -> &'static str {
    match option {
        ShortcutOption::A => "option A",
        ShortcutOption::B => "option B",
        ShortcutOption::C => "option C",
        ShortcutOption::None => "no shortcuts",
    }
}

/// A CIFAR network (He et al. 2015 §4.2), every choice named.
///
/// A 3x3 conv with `width` filters, three stages of `n` blocks on 32x32, 16x16 and 8x8
/// maps with `width`, `2 width` and `4 width` filters (stride 2 starts stages 2 and 3),
/// global average pooling and a linear classifier; `depth = 6n + 2`
/// ([`cifar_blocks_per_stage`]). Batch norm follows every conv (or, pre-activated,
/// precedes it), as in the paper, unless [`batch_norm`](CifarSpec::batch_norm) is off.
/// Start from [`CifarSpec::resnet`] or
/// [`CifarSpec::plain`] and change the fields you need, in a struct literal or with the
/// setter of each field's name (`CifarSpec::plain(56).width(8).seed(1)`):
///
/// ```
/// use resgrad::models::{CifarSpec, ResNet};
/// use resgrad::nn::ShortcutOption;
///
/// // ResNet-20, option B, pre-activation, seed 7, for one-channel 28x28 images.
/// let spec = CifarSpec {
///     pre_activation: true,
///     in_channels: 1,
///     seed: 7,
///     ..CifarSpec::resnet(20, ShortcutOption::B)
/// };
/// let net: ResNet = spec.build()?;
/// assert_eq!(net.summary(28).output, vec![1, 10]);
/// # Ok::<(), resgrad::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct CifarSpec {
    /// Weight layers, `6n + 2`: 20, 32, 44, 56, 110, 1202.
    pub depth: usize,
    /// Plain (no shortcuts), residual, or residual with detached shortcuts (the same
    /// function, no gradient along the shortcuts: [`NetKind::Detached`]).
    pub kind: NetKind,
    /// The shortcuts of a residual net (A, B or C, §4.1); a plain net has none and
    /// ignores this.
    pub shortcut: ShortcutOption,
    /// He et al. 2016's pre-activation blocks (batch norm and ReLU before each conv,
    /// nothing after the addition) instead of the 2015 blocks.
    pub pre_activation: bool,
    /// The convs' initialisation (He normal by default); the classifier keeps PyTorch's
    /// default (uniform on `±1/sqrt(fan_in)`).
    pub init: Init,
    /// `s`: every residual branch is multiplied by this; 1 by default.
    pub branch_scale: f64,
    /// `lambda`: every shortcut is multiplied by this (He et al. 2016 eq. 8); 1 by
    /// default.
    pub shortcut_scale: f64,
    /// Input channels: 3 for CIFAR, 1 for Fashion-MNIST.
    pub in_channels: usize,
    /// Filters of the first stage: 16 in the paper; 8 or 4 train fast on 2 cores.
    pub width: usize,
    /// Classes of the classifier.
    pub classes: usize,
    /// Batch norm in the stem, in every block and in the projection shortcuts: true by
    /// default, as in the paper.
    ///
    /// Off, the built net has no batch-norm layer at all: no `bn` parameters, no running
    /// statistics, no summary rows, and forward goes straight from each conv to the next
    /// ReLU (or addition). Each conv gets a bias instead, as PyTorch nets without batch
    /// norm have, drawn as PyTorch draws it (uniform on `±1/sqrt(fan_in)`); the net's name
    /// says `no batch norm`.
    ///
    /// Nothing then rescales the signal between layers: its size at each layer comes from
    /// the initialisation alone. At He init it shrinks with depth through a deep plain net
    /// (it vanishes), and it grows block by block through a residual net, which adds each
    /// branch's output to its shortcut's (it explodes). To train a residual net without
    /// batch norm, use a small learning rate and a Fixup-like start: a
    /// [`branch_scale`](CifarSpec::branch_scale) of `1/sqrt(blocks)` keeps the signal
    /// near its size after the stem, and [`ResNet::zero_init_residual`] zeroes each
    /// branch's last conv (weight and bias), so that every block starts as its shortcut.
    pub batch_norm: bool,
    /// The seed of the weights.
    pub seed: u64,
}

impl CifarSpec {
    /// The paper's residual CIFAR net of `depth` with `shortcut` (3 channels, width 16, 10
    /// classes, He init, both scales 1, batch norm, seed 0).
    pub fn resnet(depth: usize, shortcut: ShortcutOption) -> Self {
        CifarSpec {
            depth,
            kind: NetKind::Residual,
            shortcut,
            pre_activation: false,
            init: Init::HeNormal,
            branch_scale: 1.0,
            shortcut_scale: 1.0,
            in_channels: 3,
            width: 16,
            classes: 10,
            batch_norm: true,
            seed: 0,
        }
    }

    /// The paper's plain CIFAR net of `depth`: the same layers, no shortcuts.
    pub fn plain(depth: usize) -> Self {
        CifarSpec {
            kind: NetKind::Plain,
            shortcut: ShortcutOption::None,
            ..Self::resnet(depth, ShortcutOption::None)
        }
    }

    /// The shortcut option the blocks get: none for a plain net.
    fn block_shortcut(&self) -> Result<ShortcutOption> {
        match (self.kind, self.shortcut) {
            (NetKind::Plain, _) => Ok(ShortcutOption::None),
            (NetKind::Residual | NetKind::Detached, ShortcutOption::None) => Err(Error::argument(
                "CifarSpec::build",
                "a residual net needs shortcut A, B or C; for a net without shortcuts use \
                 kind NetKind::Plain (CifarSpec::plain)",
                std::panic::Location::caller(),
            )),
            (NetKind::Residual | NetKind::Detached, option) => Ok(option),
        }
    }

    /// How many numbers the built net holds (parameters and batch-norm buffers), counted
    /// from the spec without building it; `None` if the count overflows.
    pub fn size(&self) -> Option<u128> {
        let n = u128::try_from(cifar_blocks_per_stage(self.depth).ok()?).ok()?;
        let shortcut = self.block_shortcut().ok()?;
        let w = u128::try_from(self.width).ok()?;
        let bias = u128::from(!self.batch_norm);
        // Batch norm keeps gamma, beta, a running mean and a running variance per channel,
        // and a count of batches.
        let bn = |c: u128| if self.batch_norm { 4 * c + 1 } else { 0 };
        let conv = |cin: u128, cout: u128, k: u128| {
            cin.checked_mul(cout)?
                .checked_mul(k * k)?
                .checked_add(bias * cout)
        };
        let mut total = conv(u128::try_from(self.in_channels).ok()?, w, 3)?.checked_add(bn(w))?;
        let mut cin = w;
        for c in [w, 2 * w, 4 * w] {
            for b in 0..n {
                let mut block = conv(cin, c, 3)?.checked_add(conv(c, c, 3)?)?;
                block = block.checked_add(2 * bn(c))?;
                let projects = match shortcut {
                    ShortcutOption::B => b == 0 && cin != c,
                    ShortcutOption::C => true,
                    _ => false,
                };
                if projects {
                    block = block.checked_add(conv(cin, c, 1)?)?.checked_add(bn(c))?;
                }
                total = total.checked_add(block)?;
                cin = c;
            }
        }
        let classes = u128::try_from(self.classes).ok()?;
        total.checked_add((4 * w).checked_mul(classes)?.checked_add(classes)?)
    }

    /// What [`build`](CifarSpec::build) checks before it allocates anything: the depth
    /// rule (`6n + 2`), a residual net's shortcut, and that the net's weights fit in the
    /// machine's memory (the error says how much they would need).
    #[track_caller]
    pub fn check<T: Float>(&self) -> Result<()> {
        cifar_blocks_per_stage(self.depth)?;
        self.block_shortcut()?;
        self.check_fits::<T>()
    }

    #[track_caller]
    fn check_fits<T: Float>(&self) -> Result<()> {
        crate::alloc::check_fits(
            "CifarSpec::build",
            &format!("depth {} at width {}", self.depth, self.width),
            self.size(),
            (std::mem::size_of::<T>(), T::NAME),
            std::panic::Location::caller(),
        )
    }

    /// About how many numbers one training step of the net holds at once on a batch of
    /// `batch` images of `hw` x `hw` pixels, counted from the spec without building it:
    /// per image, the input and the activations the tape keeps for the backward pass (two
    /// in the stem and four in each block, each of the block's width and side: the conv
    /// outputs and the fused batch norms'), and two of the largest for the gradients in
    /// flight; and the weights three times (with their gradients and momentum buffers).
    /// `None` if the count overflows. A measured peak is a little higher (the kernels'
    /// buffers, the program): ResNet-1202 at batch 32 counts 2.96 GiB in `f32`, and
    /// peaked at 2.99 (`docs/performance.md`).
    pub fn step_size(&self, batch: usize, hw: usize) -> Option<u128> {
        let n = u128::try_from(cifar_blocks_per_stage(self.depth).ok()?).ok()?;
        let w = u128::try_from(self.width).ok()?;
        let side = u128::try_from(hw).ok()?;
        let plane = side.checked_mul(side)?;
        let input = u128::try_from(self.in_channels).ok()?.checked_mul(plane)?;
        // The stem's two activations, and two gradients of that size (the largest).
        let mut per_image = input.checked_add(w.checked_mul(plane)?.checked_mul(4)?)?;
        let mut s = side;
        for (stage, c) in [w, 2 * w, 4 * w].into_iter().enumerate() {
            if stage > 0 {
                s = s.div_ceil(2);
            }
            let kept = n
                .checked_mul(4)?
                .checked_mul(c)?
                .checked_mul(s.checked_mul(s)?)?;
            per_image = per_image.checked_add(kept)?;
        }
        let weights = self.size()?.checked_mul(3)?;
        per_image
            .checked_mul(u128::try_from(batch).ok()?)?
            .checked_add(weights)
    }

    /// What [`check`](CifarSpec::check) checks, and that a training step on a batch of
    /// `batch` images of `hw` x `hw` pixels fits in the machine's memory
    /// ([`step_size`](CifarSpec::step_size)): the error names the batch, the estimate and
    /// the machine's memory. `resgrad bench train` calls it before it measures a net.
    #[track_caller]
    pub fn check_step<T: Float>(&self, batch: usize, hw: usize) -> Result<()> {
        self.check::<T>()?;
        let what = format!(
            "a training step of depth {} at width {} on a batch of {batch} images of {}x{hw}x{hw}",
            self.depth, self.width, self.in_channels
        );
        crate::alloc::check_fits_for(
            "CifarSpec::check_step",
            (
                &what,
                "by estimate, for the activations it keeps for the backward pass and the \
                 weights three times",
                "choose a smaller batch",
            ),
            self.step_size(batch, hw),
            (std::mem::size_of::<T>(), T::NAME),
            std::panic::Location::caller(),
        )
    }

    /// The network, or an error naming the rule a field breaks (a depth not `6n + 2`, a
    /// residual net without shortcuts).
    #[track_caller]
    pub fn build<T: Float>(&self) -> Result<ResNet<T>> {
        self.check::<T>()?;
        let n = cifar_blocks_per_stage(self.depth)?;
        let shortcut = self.block_shortcut()?;
        let (width0, preact, init) = (self.width, self.pre_activation, self.init);
        let bn = self.batch_norm;
        let rng = &mut rng(self.seed);
        let conv1 = Conv2d::new(self.in_channels, width0, 3, 1, 1, !bn, init, rng);
        let mut stages = Vec::new();
        let mut cin = width0;
        for (i, width) in [width0, 2 * width0, 4 * width0].into_iter().enumerate() {
            let mut blocks = Vec::new();
            for b in 0..n {
                let stride = if i > 0 && b == 0 { 2 } else { 1 };
                let shape = (cin, width, stride);
                blocks.push(if preact {
                    let mut block = PreActBlock::with_init(shape, shortcut, init, bn, rng);
                    block.branch_scale = self.branch_scale;
                    block.shortcut_scale = self.shortcut_scale;
                    block.detach_shortcut = self.kind == NetKind::Detached;
                    Block::PreAct(block)
                } else {
                    let mut block = BasicBlock::with_init(shape, shortcut, init, bn, rng);
                    block.branch_scale = self.branch_scale;
                    block.shortcut_scale = self.shortcut_scale;
                    block.detach_shortcut = self.kind == NetKind::Detached;
                    Block::Basic(block)
                });
                cin = width;
            }
            stages.push(blocks);
        }
        let kind = match (self.kind, preact) {
            (NetKind::Plain, _) => "plain",
            (NetKind::Residual, true) => "preact-resnet",
            (NetKind::Residual, false) => "resnet",
            (NetKind::Detached, true) => "detached-preact-resnet",
            (NetKind::Detached, false) => "detached-resnet",
        };
        let norm = if bn { "" } else { ", no batch norm" };
        Ok(ResNet {
            name: format!(
                "{kind}{} (CIFAR, {}{norm})",
                self.depth,
                option_name(shortcut)
            ),
            conv1,
            bn1: (bn && !preact).then(|| BatchNorm2d::new(width0)),
            maxpool: None,
            stages,
            pre_activation: preact,
            final_bn: (bn && preact).then(|| BatchNorm2d::new(4 * width0)),
            fc: Linear::new(4 * width0, self.classes, true, Init::LecunUniform, rng),
        })
    }
}

impl<T: Float> ResNet<T> {
    /// The paper's CIFAR network of depth `6n + 2` (20, 32, 44, 56, 110, 1202), seed 0:
    /// [`CifarSpec::resnet`] (or [`CifarSpec::plain`] for [`ShortcutOption::None`]),
    /// built. Panics, naming the rule, for other depths; [`CifarSpec::build`] returns the
    /// error instead.
    #[track_caller]
    pub fn cifar(depth: usize, shortcut: ShortcutOption) -> Self {
        let spec = match shortcut {
            ShortcutOption::None => CifarSpec::plain(depth),
            option => CifarSpec::resnet(depth, option),
        };
        crate::error::or_panic(spec.build())
    }

    /// The pre-activation CIFAR network (He et al. 2016), seed 0.
    #[track_caller]
    pub fn cifar_preact(depth: usize, shortcut: ShortcutOption) -> Self {
        let spec = match shortcut {
            ShortcutOption::None => CifarSpec::plain(depth),
            option => CifarSpec::resnet(depth, option),
        };
        crate::error::or_panic(
            CifarSpec {
                pre_activation: true,
                ..spec
            }
            .build(),
        )
    }

    /// An ImageNet ResNet of depth 18, 34 (basic blocks), 50, 101 or 152 (bottlenecks)
    /// with the given shortcut option and bottleneck stride placement, seed 0.
    #[track_caller]
    pub fn imagenet(depth: usize, shortcut: ShortcutOption, placement: StridePlacement) -> Self {
        crate::error::or_panic(Self::try_imagenet(depth, shortcut, placement, &mut rng(0)))
    }

    /// ResNet-18, option B (torchvision's layout).
    pub fn resnet18() -> Self {
        Self::imagenet(18, ShortcutOption::B, StridePlacement::First1x1)
    }
    /// ResNet-34, option B.
    pub fn resnet34() -> Self {
        Self::imagenet(34, ShortcutOption::B, StridePlacement::First1x1)
    }
    /// ResNet-50 **v1**, the paper's: option B, each stage's stride on the first 1x1 conv
    /// of its first bottleneck ([`StridePlacement::First1x1`]). Table 1's 3.8 GFLOPs count
    /// this one.
    ///
    /// Not what torchvision's `resnet50()` computes: torchvision builds **v1.5**, with the
    /// stride on the 3x3 ([`ResNet::resnet50_v1_5`]). The two have the same keys, shapes
    /// and parameter count, so each loads the other's weights without complaint, but they
    /// compute different functions: use v1.5 to exchange weights with torchvision.
    pub fn resnet50_v1() -> Self {
        Self::imagenet(50, ShortcutOption::B, StridePlacement::First1x1)
    }
    /// ResNet-101 **v1** (stride on the first 1x1); see [`ResNet::resnet50_v1`].
    pub fn resnet101_v1() -> Self {
        Self::imagenet(101, ShortcutOption::B, StridePlacement::First1x1)
    }
    /// ResNet-152 **v1** (stride on the first 1x1); see [`ResNet::resnet50_v1`].
    pub fn resnet152_v1() -> Self {
        Self::imagenet(152, ShortcutOption::B, StridePlacement::First1x1)
    }
    /// ResNet-50 **v1.5**, torchvision's `resnet50()`: option B, stride on the 3x3
    /// ([`StridePlacement::Conv3x3`]); slightly more compute (4.1 GFLOPs) than the
    /// paper's [v1](ResNet::resnet50_v1), slightly more accurate.
    pub fn resnet50_v1_5() -> Self {
        Self::torchvision(50)
    }
    /// ResNet-101 **v1.5**, torchvision's `resnet101()`; see [`ResNet::resnet50_v1_5`].
    pub fn resnet101_v1_5() -> Self {
        Self::torchvision(101)
    }
    /// ResNet-152 **v1.5**, torchvision's `resnet152()`; see [`ResNet::resnet50_v1_5`].
    pub fn resnet152_v1_5() -> Self {
        Self::torchvision(152)
    }
    /// The network torchvision's `resnetN()` computes, for any of its depths: option B,
    /// stride on the 3x3 (v1.5; for 18 and 34, which have no bottlenecks, v1 and v1.5 are
    /// the same net). Use this one to exchange weights with torchvision.
    #[track_caller]
    pub fn torchvision(depth: usize) -> Self {
        Self::imagenet(depth, ShortcutOption::B, StridePlacement::Conv3x3)
    }

    /// See [`ResNet::imagenet`].
    #[track_caller]
    pub fn try_imagenet(
        depth: usize,
        shortcut: ShortcutOption,
        placement: StridePlacement,
        rng: &mut Rng,
    ) -> Result<Self> {
        let (counts, bottleneck) = match depth {
            18 => ([2, 2, 2, 2], false),
            34 => ([3, 4, 6, 3], false),
            50 => ([3, 4, 6, 3], true),
            101 => ([3, 4, 23, 3], true),
            152 => ([3, 8, 36, 3], true),
            _ => {
                return Err(Error::argument(
                    "ResNet::imagenet",
                    format!("the ImageNet depths are 18, 34, 50, 101 and 152, not {depth}"),
                    std::panic::Location::caller(),
                ));
            }
        };
        let conv1 = Conv2d::new(3, 64, 7, 2, 3, false, Init::HeNormal, rng);
        let mut stages = Vec::new();
        let mut cin = 64;
        for (i, (width, count)) in [64, 128, 256, 512].into_iter().zip(counts).enumerate() {
            let mut blocks = Vec::new();
            for b in 0..count {
                let stride = if i > 0 && b == 0 { 2 } else { 1 };
                if bottleneck {
                    blocks.push(Block::Bottleneck(Bottleneck::new(
                        cin, width, stride, shortcut, placement, rng,
                    )));
                    cin = width * 4;
                } else {
                    blocks.push(Block::Basic(BasicBlock::new(
                        cin, width, stride, shortcut, rng,
                    )));
                    cin = width;
                }
            }
            stages.push(blocks);
        }
        let kind = if shortcut == ShortcutOption::None {
            "plain"
        } else {
            "resnet"
        };
        let v = if bottleneck && placement == StridePlacement::Conv3x3 {
            ", v1.5"
        } else {
            ""
        };
        Ok(ResNet {
            name: format!("{kind}{depth} (ImageNet, {}{v})", option_name(shortcut)),
            conv1,
            bn1: Some(BatchNorm2d::new(64)),
            maxpool: Some(MaxPool2d {
                k: 3,
                stride: 2,
                padding: 1,
            }),
            stages,
            pre_activation: false,
            final_bn: None,
            fc: Linear::new(cin, 1000, true, Init::LecunUniform, rng),
        })
    }

    /// Sets the last batch norm gamma of every residual branch to 0 (Goyal et al. 2017), so
    /// that each block starts as the identity (the ReLU after the addition aside). A
    /// branch that ends in a conv (pre-activation blocks, or blocks without batch norm)
    /// gets that conv's weight and bias zeroed instead.
    pub fn zero_init_residual(self) -> Self {
        let zero_conv = |c: &Conv2d<T>| {
            c.weight.update(|w| w.fill(T::zero()));
            if let Some(b) = &c.bias {
                b.update(|b| b.fill(T::zero()));
            }
        };
        for block in self.stages.iter().flatten() {
            match block {
                Block::Basic(b) => match &b.bn2 {
                    Norm::Batch(bn) => bn.zero_gamma(),
                    Norm::None => zero_conv(&b.conv2),
                },
                Block::Bottleneck(b) => b.bn3.zero_gamma(),
                Block::PreAct(b) => zero_conv(&b.conv2),
            }
        }
        self
    }

    /// The summary for one image of `hw x hw` pixels (32 for CIFAR, 224 for ImageNet),
    /// with as many channels as the first conv takes (3 for RGB, 1 for Fashion-MNIST).
    pub fn summary(&self, hw: usize) -> Summary {
        let channels = self.conv1.weight.shape()[1];
        Summary::of(&self.name, self, &[1, channels, hw, hw])
    }

    /// The stem: the first conv, with batch norm, ReLU and max pooling where the network
    /// has them (a pre-activation net's stem is the conv alone). Its output is the input
    /// of the first block.
    #[track_caller]
    pub fn stem(&self, x: &Var<T>, mode: Mode) -> Var<T> {
        crate::error::or_panic(self.try_stem(x, mode))
    }

    /// [`stem`](ResNet::stem), returning a layer's error instead of panicking.
    pub fn try_stem(&self, x: &Var<T>, mode: Mode) -> crate::Result<Var<T>> {
        let mut h = self.conv1.try_forward(x, mode)?;
        if let Some(bn) = &self.bn1 {
            h = bn.try_forward(&h, mode)?;
        }
        if !self.pre_activation {
            h = h.relu();
        }
        if let Some(p) = &self.maxpool {
            h = Module::<T>::try_forward(p, &h, mode)?;
        }
        Ok(h)
    }

    /// Every block, stage after stage.
    pub fn blocks(&self) -> Vec<&dyn Module<T>> {
        self.stages
            .iter()
            .flatten()
            .map(|b| b as &dyn Module<T>)
            .collect()
    }

    /// The features before the classifier, `[N, C]`.
    #[track_caller]
    pub fn features(&self, x: &Var<T>, mode: Mode) -> Var<T> {
        crate::error::or_panic(self.try_features(x, mode))
    }

    /// [`features`](ResNet::features), returning a layer's error instead of panicking.
    pub fn try_features(&self, x: &Var<T>, mode: Mode) -> crate::Result<Var<T>> {
        let mut h = self.try_stem(x, mode)?;
        for block in self.stages.iter().flatten() {
            h = block.try_forward(&h, mode)?;
        }
        if let Some(bn) = &self.final_bn {
            h = bn.try_forward(&h, mode)?;
        }
        if self.pre_activation {
            h = h.relu();
        }
        h.try_global_avg_pool()
    }
}

impl<T: Float> Module<T> for ResNet<T> {
    #[track_caller]
    fn forward(&self, x: &Var<T>, mode: Mode) -> Var<T> {
        crate::error::or_panic(self.try_forward(x, mode))
    }
    fn try_forward(&self, x: &Var<T>, mode: Mode) -> crate::Result<Var<T>> {
        self.fc.try_forward(&self.try_features(x, mode)?, mode)
    }
    /// The net's [`name`](ResNet::name), e.g. `resnet50 (ImageNet, B)` (v1) or
    /// `resnet50 (ImageNet, B, v1.5)`: it tells the stride placement, the shortcut option,
    /// plain from residual and batch norm from none.
    fn architecture(&self) -> Option<String> {
        Some(self.name.clone())
    }
    /// `conv1`, `bn1`, `maxpool`, `layer1.0` ... `layerK.M`, `bn_final`, `avgpool`, `fc`,
    /// each where the network has it: torchvision's names.
    fn children(&self) -> Vec<(String, &dyn Module<T>)> {
        let mut c: Vec<(String, &dyn Module<T>)> = vec![("conv1".into(), &self.conv1)];
        if let Some(bn) = &self.bn1 {
            c.push(("bn1".into(), bn));
        }
        if let Some(p) = &self.maxpool {
            c.push(("maxpool".into(), p));
        }
        for (i, stage) in self.stages.iter().enumerate() {
            for (j, block) in stage.iter().enumerate() {
                c.push((format!("layer{}.{j}", i + 1), block));
            }
        }
        if let Some(bn) = &self.final_bn {
            c.push(("bn_final".into(), bn));
        }
        c.push(("avgpool".into(), &GlobalAvgPool));
        c.push(("fc".into(), &self.fc));
        c
    }
}
