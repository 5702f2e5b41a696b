//! Residual blocks, named as the papers name them.
//!
//! He et al. 2015: a block learns the residual `F(x) = H(x) - x` and outputs `F(x) + x`;
//! if the identity is optimal, the block only has to drive `F` to zero.

use super::{BatchNorm2d, Conv2d, Init, LayerInfo, Linear, Mode, Module, Norm, Rng, ShapeFlow};
use crate::error::or_panic;
use crate::{Float, Result, Var};

/// The shortcut of a residual block, He et al. 2015 §3.3 and §4.1.
pub enum Shortcut<T: Float = f32> {
    /// `y = F(x) + x`: same shape in and out.
    Identity,
    /// Option A: subsample with `stride` and pad the channels with zeros. No parameters.
    /// Named `shortcut` in a summary.
    ZeroPad(ZeroPad),
    /// Options B and C: `y = F(x) + W_s x`, `W_s` a 1x1 conv with stride, then batch norm.
    /// Named `downsample.0` and `downsample.1`, as torchvision names them. Without batch
    /// norm ([`Norm::None`]) the conv has a bias and is the only layer, `downsample.0`.
    Projection(Box<(Conv2d<T>, Norm<T>)>),
    /// The plain block: the same `F`, no shortcut at all.
    None,
}

/// The parameter-free shortcut of option A: keep every `stride`-th pixel and pad the
/// channels with zeros up to `out_channels` (He et al. 2015 §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZeroPad {
    /// Channels out.
    pub out_channels: usize,
    /// Subsampling step (1 or 2).
    pub stride: usize,
}

impl<T: Float> Module<T> for ZeroPad {
    #[track_caller]
    fn forward(&self, x: &Var<T>, mode: Mode) -> Var<T> {
        or_panic(self.try_forward(x, mode))
    }
    #[track_caller]
    fn try_forward(&self, x: &Var<T>, _mode: Mode) -> Result<Var<T>> {
        x.try_zero_pad_shortcut_stride(self.out_channels, self.stride)
    }
    fn describe(&self, input: &[usize]) -> Option<LayerInfo> {
        Some(LayerInfo {
            layer: "ZeroPad (option A)".into(),
            output: vec![
                input[0],
                self.out_channels,
                input[2].div_ceil(self.stride),
                input[3].div_ceil(self.stride),
            ],
            macs: 0,
        })
    }
}

/// Which shortcut a network uses (He et al. 2015, §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShortcutOption {
    /// (A) identity; zero-padding where the shape changes. No extra parameters.
    A,
    /// (B) identity; projections only where the shape changes.
    B,
    /// (C) projections everywhere.
    C,
    /// No shortcuts: the plain network.
    None,
}

impl std::fmt::Display for ShortcutOption {
    /// `A`, `B`, `C`, or `none` for the plain network.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ShortcutOption::A => "A",
            ShortcutOption::B => "B",
            ShortcutOption::C => "C",
            ShortcutOption::None => "none",
        })
    }
}

impl std::str::FromStr for ShortcutOption {
    type Err = String;

    /// `A`, `B` or `C` in either case (and `none`, the plain network's); any other text
    /// is an error that lists the options.
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.trim().to_ascii_uppercase().as_str() {
            "A" => Ok(ShortcutOption::A),
            "B" => Ok(ShortcutOption::B),
            "C" => Ok(ShortcutOption::C),
            "NONE" => Ok(ShortcutOption::None),
            _ => Err(format!(
                "unknown shortcut option `{s}`; the options are A (identity, zero-padding \
                 where the shape changes), B (projections where the shape changes) and C \
                 (projections everywhere), He et al. 2015 §4.1"
            )),
        }
    }
}

impl<T: Float> Shortcut<T> {
    /// The shortcut `option` gives a block from `cin` to `cout` channels with `stride`.
    /// A projection's 1x1 conv is He-initialised and followed by batch norm.
    pub fn for_option(
        option: ShortcutOption,
        cin: usize,
        cout: usize,
        stride: usize,
        rng: &mut Rng,
    ) -> Self {
        Self::for_option_init(option, (cin, cout, stride), Init::HeNormal, true, rng)
    }

    /// [`Shortcut::for_option`] with the projection's conv drawn from `init`, and, if not
    /// `batch_norm`, a projection of a biased conv alone.
    pub(crate) fn for_option_init(
        option: ShortcutOption,
        (cin, cout, stride): (usize, usize, usize),
        init: Init,
        batch_norm: bool,
        rng: &mut Rng,
    ) -> Self {
        let changes = stride != 1 || cin != cout;
        let projection = |rng: &mut Rng| {
            Shortcut::Projection(Box::new((
                Conv2d::new(cin, cout, 1, stride, 0, !batch_norm, init, rng),
                Norm::new(cout, batch_norm),
            )))
        };
        match option {
            ShortcutOption::None => Shortcut::None,
            ShortcutOption::C => projection(rng),
            ShortcutOption::B if changes => projection(rng),
            ShortcutOption::A if changes => Shortcut::ZeroPad(ZeroPad {
                out_channels: cout,
                stride,
            }),
            _ => Shortcut::Identity,
        }
    }

    /// The shortcut's output, or `None` for the plain block.
    #[track_caller]
    pub fn apply(&self, x: &Var<T>, mode: Mode) -> Option<Var<T>> {
        or_panic(self.try_apply(x, mode))
    }

    /// [`apply`](Shortcut::apply), returning a layer's error instead of panicking.
    pub fn try_apply(&self, x: &Var<T>, mode: Mode) -> Result<Option<Var<T>>> {
        Ok(match self {
            Shortcut::Identity => Some(x.clone()),
            Shortcut::ZeroPad(z) => Some(z.try_forward(x, mode)?),
            Shortcut::Projection(p) => Some(p.1.try_forward(&p.0.try_forward(x, mode)?, mode)?),
            Shortcut::None => None,
        })
    }

    /// The shortcut's layers as children of its block: `downsample.0` and `downsample.1`
    /// for a projection (torchvision's names; `downsample.0` alone without batch norm),
    /// `shortcut` for option A's zero padding, nothing for the identity or the plain block.
    pub fn children(&self) -> Vec<(String, &dyn Module<T>)> {
        match self {
            Shortcut::Projection(p) => {
                let mut c = vec![("downsample.0".into(), &p.0 as &dyn Module<T>)];
                if let Some(norm) = p.1.layer() {
                    c.push(("downsample.1".into(), norm));
                }
                c
            }
            Shortcut::ZeroPad(z) => vec![("shortcut".into(), z as &dyn Module<T>)],
            Shortcut::Identity | Shortcut::None => Vec::new(),
        }
    }
}

/// A block's branch layers, named, in order, leaving out the absent ones (a
/// [`Norm::None`]).
fn present<'a, T: Float>(
    layers: Vec<(&'static str, Option<&'a dyn Module<T>>)>,
) -> Vec<(&'static str, &'a dyn Module<T>)> {
    layers
        .into_iter()
        .filter_map(|(n, m)| Some((n, m?)))
        .collect()
}

/// A residual block's children: its branch (named), then its shortcut's layers.
fn with_shortcut<'a, T: Float>(
    branch: Vec<(&str, &'a dyn Module<T>)>,
    shortcut: &'a Shortcut<T>,
) -> Vec<(String, &'a dyn Module<T>)> {
    branch
        .into_iter()
        .map(|(n, m)| (n.to_string(), m))
        .chain(shortcut.children())
        .collect()
}

/// `f` times `scale` (no op recorded for 1).
fn scaled<T: Float>(f: Var<T>, scale: f64) -> Var<T> {
    if scale == 1.0 {
        f
    } else {
        f.scale(T::cast(scale))
    }
}

/// `s` cut off from the graph if `detach` ([`Var::detach`]), else `s`.
fn detached<T: Float>(s: Var<T>, detach: bool) -> Var<T> {
    if detach { s.detach() } else { s }
}

/// `relu(F(x) + lambda * shortcut(x))`, the addition and relu fused into one op
/// ([`Var::try_add_relu`]) so that the sum is never kept; `relu(F(x))` for the plain block.
fn add_shortcut_relu<T: Float>(
    branch: Var<T>,
    shortcut: Option<Var<T>>,
    lambda: f64,
) -> Result<Var<T>> {
    match shortcut {
        Some(s) if lambda == 1.0 => branch.try_add_relu(&s),
        Some(s) => branch.try_add_relu(&s.scale(T::cast(lambda))),
        None => Ok(branch.relu()),
    }
}

/// Adds the (scaled) shortcut to the branch: `F(x) + lambda * shortcut(x)`.
fn add_shortcut<T: Float>(branch: Var<T>, shortcut: Option<Var<T>>, lambda: f64) -> Result<Var<T>> {
    match shortcut {
        Some(s) if lambda == 1.0 => branch.try_add(&s),
        Some(s) => branch.try_add(&s.scale(T::cast(lambda))),
        None => Ok(branch),
    }
}

/// The basic block of ResNet-18/34 and the CIFAR ResNets: two 3x3 convs with batch norm,
/// `y = relu(F(x) + shortcut(x))`, `F(x) = bn2(conv2(relu(bn1(conv1(x)))))`.
///
/// Without batch norm (both norms [`Norm::None`], as a CIFAR spec with `batch_norm` off
/// builds it), `F(x) = conv2(relu(conv1(x)))` with biased convs.
pub struct BasicBlock<T: Float = f32> {
    /// 3x3, carries the block's stride.
    pub conv1: Conv2d<T>,
    /// After conv1.
    pub bn1: Norm<T>,
    /// 3x3, stride 1.
    pub conv2: Conv2d<T>,
    /// After conv2: the last layer of the branch (conv2 is, without batch norm).
    pub bn2: Norm<T>,
    /// The shortcut.
    pub shortcut: Shortcut<T>,
    /// A scale on the branch, `y = relu(s F(x) + lambda shortcut(x))`; 1 by default.
    pub branch_scale: f64,
    /// A scale lambda on the shortcut (He et al. 2016 eq. 8); 1 by default.
    pub shortcut_scale: f64,
    /// Detach the shortcut ([`Var::detach`]): the same output, but no gradient flows back
    /// along the shortcut, only through the branch. False by default; the causal test of
    /// [`NetKind::Detached`](crate::models::NetKind::Detached) sets it.
    pub detach_shortcut: bool,
}

impl<T: Float> BasicBlock<T> {
    /// A block from `cin` to `cout` channels; `stride` 2 halves the map. He init.
    pub fn new(
        cin: usize,
        cout: usize,
        stride: usize,
        option: ShortcutOption,
        rng: &mut Rng,
    ) -> Self {
        Self::with_init((cin, cout, stride), option, Init::HeNormal, true, rng)
    }

    /// [`BasicBlock::new`] with every conv drawn from `init`; if not `batch_norm`, no
    /// batch norm anywhere and a bias on every conv.
    pub(crate) fn with_init(
        (cin, cout, stride): (usize, usize, usize),
        option: ShortcutOption,
        init: Init,
        batch_norm: bool,
        rng: &mut Rng,
    ) -> Self {
        let bias = !batch_norm;
        BasicBlock {
            conv1: Conv2d::new(cin, cout, 3, stride, 1, bias, init, rng),
            bn1: Norm::new(cout, batch_norm),
            conv2: Conv2d::new(cout, cout, 3, 1, 1, bias, init, rng),
            bn2: Norm::new(cout, batch_norm),
            shortcut: Shortcut::for_option_init(option, (cin, cout, stride), init, batch_norm, rng),
            branch_scale: 1.0,
            shortcut_scale: 1.0,
            detach_shortcut: false,
        }
    }

    /// The residual branch `s F(x)`, before the addition.
    #[track_caller]
    pub fn branch(&self, x: &Var<T>, mode: Mode) -> Var<T> {
        or_panic(self.try_branch(x, mode))
    }

    /// [`branch`](BasicBlock::branch), returning a layer's error instead of panicking.
    pub fn try_branch(&self, x: &Var<T>, mode: Mode) -> Result<Var<T>> {
        Ok(scaled(
            self.bn2.try_forward(&self.conv2_out(x, mode)?, mode)?,
            self.branch_scale,
        ))
    }

    /// `conv2(relu(bn1(conv1(x))))`: the branch up to its last norm.
    fn conv2_out(&self, x: &Var<T>, mode: Mode) -> Result<Var<T>> {
        // relu(bn1(..)) as one op: bn1's output is never kept (relu alone without batch norm)
        let h = self
            .bn1
            .try_forward_relu(&self.conv1.try_forward(x, mode)?, mode)?;
        self.conv2.try_forward(&h, mode)
    }

    /// The branch's layers, named: `conv1`, `bn1`, `conv2`, `bn2` (the convs alone
    /// without batch norm).
    fn branch_layers(&self) -> Vec<(&'static str, &dyn Module<T>)> {
        present(vec![
            ("conv1", Some(&self.conv1 as &dyn Module<T>)),
            ("bn1", self.bn1.layer()),
            ("conv2", Some(&self.conv2)),
            ("bn2", self.bn2.layer()),
        ])
    }
}

impl<T: Float> Module<T> for BasicBlock<T> {
    #[track_caller]
    fn forward(&self, x: &Var<T>, mode: Mode) -> Var<T> {
        or_panic(self.try_forward(x, mode))
    }
    fn try_forward(&self, x: &Var<T>, mode: Mode) -> Result<Var<T>> {
        if let (Norm::Batch(bn2), 1.0) = (&self.bn2, self.branch_scale)
            && !matches!(self.shortcut, Shortcut::None)
        {
            // relu(bn2(conv2(h)) + shortcut(x)) as one op: neither bn2's output nor the sum
            // is kept (the same values and gradients as the branch, then add_relu).
            let c2 = self.conv2_out(x, mode)?;
            let s = self
                .shortcut
                .try_apply(x, mode)?
                .expect("not the plain block");
            let s = scaled(detached(s, self.detach_shortcut), self.shortcut_scale);
            return bn2.try_forward_add_relu(&c2, &s, mode);
        }
        let f = self.try_branch(x, mode)?;
        let s = self.shortcut.try_apply(x, mode)?;
        let s = s.map(|s| detached(s, self.detach_shortcut));
        add_shortcut_relu(f, s, self.shortcut_scale)
    }
    fn children(&self) -> Vec<(String, &dyn Module<T>)> {
        with_shortcut(self.branch_layers(), &self.shortcut)
    }
    fn shape_flow(&self) -> ShapeFlow {
        ShapeFlow::Residual {
            branch: self.branch_layers().len(),
        }
    }
}

/// Where a bottleneck puts its stride.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StridePlacement {
    /// On the first 1x1 conv, as the paper (ResNet v1): Table 1's FLOPs.
    First1x1,
    /// On the 3x3 conv, as torchvision (v1.5): a little more compute, a little more
    /// accuracy; what torchvision's weights expect.
    Conv3x3,
}

/// The bottleneck block of ResNet-50/101/152: 1x1 reduces the channels to `width`, 3x3
/// works at that width, 1x1 restores `4 * width`. On a 256-d input this costs about what
/// a basic block at 64-d does (He et al. 2015, §4.1).
pub struct Bottleneck<T: Float = f32> {
    /// 1x1, `cin -> width`.
    pub conv1: Conv2d<T>,
    /// After conv1.
    pub bn1: BatchNorm2d<T>,
    /// 3x3 at `width`.
    pub conv2: Conv2d<T>,
    /// After conv2.
    pub bn2: BatchNorm2d<T>,
    /// 1x1, `width -> 4 width`.
    pub conv3: Conv2d<T>,
    /// After conv3: the last layer of the branch.
    pub bn3: BatchNorm2d<T>,
    /// The shortcut.
    pub shortcut: Shortcut<T>,
    /// A scale on the branch; 1 by default.
    pub branch_scale: f64,
    /// A scale lambda on the shortcut; 1 by default.
    pub shortcut_scale: f64,
}

impl<T: Float> Bottleneck<T> {
    /// Output channels per unit of width.
    pub const EXPANSION: usize = 4;

    /// A bottleneck from `cin` to `4 width` channels.
    pub fn new(
        cin: usize,
        width: usize,
        stride: usize,
        option: ShortcutOption,
        placement: StridePlacement,
        rng: &mut Rng,
    ) -> Self {
        let cout = width * Self::EXPANSION;
        let (s1, s3) = match placement {
            StridePlacement::First1x1 => (stride, 1),
            StridePlacement::Conv3x3 => (1, stride),
        };
        Bottleneck {
            conv1: Conv2d::new(cin, width, 1, s1, 0, false, Init::HeNormal, rng),
            bn1: BatchNorm2d::new(width),
            conv2: Conv2d::new(width, width, 3, s3, 1, false, Init::HeNormal, rng),
            bn2: BatchNorm2d::new(width),
            conv3: Conv2d::new(width, cout, 1, 1, 0, false, Init::HeNormal, rng),
            bn3: BatchNorm2d::new(cout),
            shortcut: Shortcut::for_option(option, cin, cout, stride, rng),
            branch_scale: 1.0,
            shortcut_scale: 1.0,
        }
    }
}

impl<T: Float> Module<T> for Bottleneck<T> {
    #[track_caller]
    fn forward(&self, x: &Var<T>, mode: Mode) -> Var<T> {
        or_panic(self.try_forward(x, mode))
    }
    fn try_forward(&self, x: &Var<T>, mode: Mode) -> Result<Var<T>> {
        let h = self
            .bn1
            .try_forward(&self.conv1.try_forward(x, mode)?, mode)?
            .relu();
        let h = self
            .bn2
            .try_forward(&self.conv2.try_forward(&h, mode)?, mode)?
            .relu();
        let f = scaled(
            self.bn3
                .try_forward(&self.conv3.try_forward(&h, mode)?, mode)?,
            self.branch_scale,
        );
        Ok(add_shortcut(f, self.shortcut.try_apply(x, mode)?, self.shortcut_scale)?.relu())
    }
    fn children(&self) -> Vec<(String, &dyn Module<T>)> {
        with_shortcut(
            vec![
                ("conv1", &self.conv1 as &dyn Module<T>),
                ("bn1", &self.bn1),
                ("conv2", &self.conv2),
                ("bn2", &self.bn2),
                ("conv3", &self.conv3),
                ("bn3", &self.bn3),
            ],
            &self.shortcut,
        )
    }
    fn shape_flow(&self) -> ShapeFlow {
        ShapeFlow::Residual { branch: 6 }
    }
}

/// The pre-activation block of He et al. 2016: `y = x + conv2(relu(bn2(conv1(relu(bn1(x))))))`.
/// Nothing follows the addition, so the identity path is clean from block to block.
///
/// Without batch norm (both norms [`Norm::None`]), `y = x + conv2(relu(conv1(relu(x))))`
/// with biased convs.
pub struct PreActBlock<T: Float = f32> {
    /// Before conv1.
    pub bn1: Norm<T>,
    /// 3x3, carries the stride.
    pub conv1: Conv2d<T>,
    /// Before conv2.
    pub bn2: Norm<T>,
    /// 3x3: the last layer of the branch.
    pub conv2: Conv2d<T>,
    /// The shortcut; a projection reads the pre-activated input.
    pub shortcut: Shortcut<T>,
    /// A scale on the branch, `y = s F(x) + lambda shortcut(x)`; 1 by default.
    pub branch_scale: f64,
    /// A scale lambda on the shortcut (He et al. 2016 eq. 8); 1 by default.
    pub shortcut_scale: f64,
    /// Detach the shortcut, as [`BasicBlock::detach_shortcut`]; false by default.
    pub detach_shortcut: bool,
}

impl<T: Float> PreActBlock<T> {
    /// A pre-activation block from `cin` to `cout` channels. He init.
    pub fn new(
        cin: usize,
        cout: usize,
        stride: usize,
        option: ShortcutOption,
        rng: &mut Rng,
    ) -> Self {
        Self::with_init((cin, cout, stride), option, Init::HeNormal, true, rng)
    }

    /// [`PreActBlock::new`] with every conv drawn from `init`; if not `batch_norm`, no
    /// batch norm anywhere and a bias on every conv.
    pub(crate) fn with_init(
        (cin, cout, stride): (usize, usize, usize),
        option: ShortcutOption,
        init: Init,
        batch_norm: bool,
        rng: &mut Rng,
    ) -> Self {
        let bias = !batch_norm;
        PreActBlock {
            bn1: Norm::new(cin, batch_norm),
            conv1: Conv2d::new(cin, cout, 3, stride, 1, bias, init, rng),
            bn2: Norm::new(cout, batch_norm),
            conv2: Conv2d::new(cout, cout, 3, 1, 1, bias, init, rng),
            shortcut: Shortcut::for_option_init(option, (cin, cout, stride), init, batch_norm, rng),
            branch_scale: 1.0,
            shortcut_scale: 1.0,
            detach_shortcut: false,
        }
    }

    /// The branch's layers, named: `bn1`, `conv1`, `bn2`, `conv2` (the convs alone
    /// without batch norm).
    fn branch_layers(&self) -> Vec<(&'static str, &dyn Module<T>)> {
        present(vec![
            ("bn1", self.bn1.layer()),
            ("conv1", Some(&self.conv1 as &dyn Module<T>)),
            ("bn2", self.bn2.layer()),
            ("conv2", Some(&self.conv2)),
        ])
    }
}

impl<T: Float> Module<T> for PreActBlock<T> {
    #[track_caller]
    fn forward(&self, x: &Var<T>, mode: Mode) -> Var<T> {
        or_panic(self.try_forward(x, mode))
    }
    fn try_forward(&self, x: &Var<T>, mode: Mode) -> Result<Var<T>> {
        let pre = self.bn1.try_forward(x, mode)?.relu();
        let shortcut = match &self.shortcut {
            Shortcut::Identity => Some(x.clone()),
            other => other.try_apply(&pre, mode)?,
        };
        let shortcut = shortcut.map(|s| detached(s, self.detach_shortcut));
        let h = self.conv1.try_forward(&pre, mode)?;
        let f = self
            .conv2
            .try_forward(&self.bn2.try_forward(&h, mode)?.relu(), mode)?;
        add_shortcut(scaled(f, self.branch_scale), shortcut, self.shortcut_scale)
    }
    fn children(&self) -> Vec<(String, &dyn Module<T>)> {
        with_shortcut(self.branch_layers(), &self.shortcut)
    }
    fn shape_flow(&self) -> ShapeFlow {
        ShapeFlow::Residual {
            branch: self.branch_layers().len(),
        }
    }
}

/// Where a residual MLP block puts batch norm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MlpNorm {
    /// No batch norm: `x + s W2 relu(W1 x)`.
    None,
    /// He 2015, post-activation: `relu(x + s BN(W2 relu(BN(W1 x))))`.
    Post,
    /// He 2016, pre-activation: `x + s W2 relu(BN(W1 relu(BN(x))))`.
    Pre,
}

/// The fully connected residual block of the gradient-flow experiments: two Linear layers
/// of one width, optional batch norm, a branch scale `s`, and a skip that can be removed.
pub struct ResidualMlpBlock<T: Float = f32> {
    /// First layer.
    pub fc1: Linear<T>,
    /// Second layer: the last of the branch.
    pub fc2: Linear<T>,
    /// Batch norms, if any (`bn1` before or after fc1, `bn2` as placed by `norm`).
    pub bns: Option<(BatchNorm2d<T>, BatchNorm2d<T>)>,
    /// Where the batch norms go.
    pub norm: MlpNorm,
    /// The branch is multiplied by this (e.g. `1 / sqrt(blocks)`).
    pub branch_scale: f64,
    /// Whether `x` is added back (false: the same branch as a plain two-layer block).
    pub skip: bool,
    /// A scale lambda on the skip, `y = s F(x) + lambda x` (He et al. 2016 eq. 8); 1 by
    /// default. Ignored without the skip.
    pub shortcut_scale: f64,
    /// Detach the skip, as [`BasicBlock::detach_shortcut`]: the same output, no gradient
    /// along the skip. False by default.
    pub detach_shortcut: bool,
}

impl<T: Float> ResidualMlpBlock<T> {
    /// A block of `width` units, weights by `init`, no biases (the gradient-flow experiments' set-up).
    pub fn new(width: usize, norm: MlpNorm, init: Init, rng: &mut Rng) -> Self {
        ResidualMlpBlock {
            fc1: Linear::new(width, width, false, init, rng),
            fc2: Linear::new(width, width, false, init, rng),
            bns: (norm != MlpNorm::None)
                .then(|| (BatchNorm2d::new(width), BatchNorm2d::new(width))),
            norm,
            branch_scale: 1.0,
            skip: true,
            shortcut_scale: 1.0,
            detach_shortcut: false,
        }
    }

    /// The branch `F(x)`, scaled.
    #[track_caller]
    pub fn branch(&self, x: &Var<T>, mode: Mode) -> Var<T> {
        or_panic(self.try_branch(x, mode))
    }

    /// [`branch`](ResidualMlpBlock::branch), returning a layer's error instead of panicking.
    pub fn try_branch(&self, x: &Var<T>, mode: Mode) -> Result<Var<T>> {
        let f = match (&self.bns, self.norm) {
            (Some((b1, b2)), MlpNorm::Post) => {
                let h = b1.try_forward(&self.fc1.try_forward(x, mode)?, mode)?;
                b2.try_forward(&self.fc2.try_forward(&h.relu(), mode)?, mode)?
            }
            (Some((b1, b2)), MlpNorm::Pre) => {
                let h = self
                    .fc1
                    .try_forward(&b1.try_forward(x, mode)?.relu(), mode)?;
                self.fc2
                    .try_forward(&b2.try_forward(&h, mode)?.relu(), mode)?
            }
            _ => self
                .fc2
                .try_forward(&self.fc1.try_forward(x, mode)?.relu(), mode)?,
        };
        Ok(scaled(f, self.branch_scale))
    }
}

impl<T: Float> Module<T> for ResidualMlpBlock<T> {
    #[track_caller]
    fn forward(&self, x: &Var<T>, mode: Mode) -> Var<T> {
        or_panic(self.try_forward(x, mode))
    }
    fn try_forward(&self, x: &Var<T>, mode: Mode) -> Result<Var<T>> {
        let f = self.try_branch(x, mode)?;
        let y = if self.skip {
            add_shortcut(
                f,
                Some(detached(x.clone(), self.detach_shortcut)),
                self.shortcut_scale,
            )?
        } else {
            f
        };
        Ok(if self.norm == MlpNorm::Post {
            y.relu()
        } else {
            y
        })
    }
    /// `fc1`, `fc2`, then `bn1`, `bn2` if any. All have the block's width, so shapes
    /// flow as a plain sequence whatever the norm's placement.
    fn children(&self) -> Vec<(String, &dyn Module<T>)> {
        let mut c: Vec<(String, &dyn Module<T>)> =
            vec![("fc1".into(), &self.fc1), ("fc2".into(), &self.fc2)];
        if let Some((b1, b2)) = &self.bns {
            c.push(("bn1".into(), b1));
            c.push(("bn2".into(), b2));
        }
        c
    }
}
