//! Fully connected networks: the nets of the gradient-flow experiments and of the MLP
//! degradation probe, plain or residual, described field by field in an [`MlpSpec`].

use super::NetKind;
use crate::Float;
use crate::error::{Error, Result, or_panic};
use crate::nn::{
    BatchNorm2d, Flatten, Init, Linear, MlpNorm, Relu, ResidualMlpBlock, Sequential, rng,
};

/// A fully connected network of one width, plain or residual, every choice named.
///
/// Start from [`MlpSpec::plain`] or [`MlpSpec::residual`] and change the fields you need:
///
/// ```
/// use resgrad::models::MlpSpec;
/// use resgrad::nn::{Init, Module};
///
/// // 25 residual blocks (50 weight layers), branch scaled by 0.2, no batch norm.
/// let net = MlpSpec { branch_scale: 0.2, seed: 3, ..MlpSpec::residual(64, 50) }.build::<f64>();
/// assert_eq!(net.layers.len(), 25);
/// // Its plain twin, Glorot init.
/// let plain = MlpSpec { init: Init::GlorotNormal, ..MlpSpec::plain(64, 50) }.build::<f64>();
/// assert_eq!(plain.num_parameters(), 50 * 64 * 64);
/// ```
///
/// Every field also has a chainable setter of its name:
/// `MlpSpec::residual(64, 50).branch_scale(0.2).seed(3).build::<f64>()`.
///
/// The layers, in order (each an element of the returned [`Sequential`], so that the
/// boundaries between elements are the activations `x_l` the gradient-flow instruments
/// measure):
///
/// - with [`inputs`](MlpSpec::inputs): `flatten`, `fc_in` (`inputs -> width`, no bias),
///   `bn_in` (with batch norm), `relu_in`;
/// - the body, elements named `0`, `1`, ...: a plain net has one element per weight layer,
///   `fc -> [bn] -> relu`; a residual net one [`ResidualMlpBlock`] per two weight layers;
/// - with [`classes`](MlpSpec::classes): `fc` (`width -> classes`, with bias, PyTorch's
///   default init).
///
/// The same spec gives the same weights: every layer is drawn, in order, from one
/// generator seeded with [`seed`](MlpSpec::seed).
#[derive(Debug, Clone, PartialEq)]
pub struct MlpSpec {
    /// Plain layers, or residual blocks of two layers.
    pub kind: NetKind,
    /// The units of every hidden layer.
    pub width: usize,
    /// Weight layers in all, counting `fc_in` and the classifier when present. The body
    /// of a residual net needs an even number (two per block).
    pub depth: usize,
    /// Batch norm after each weight layer (or before it, with
    /// [`pre_activation`](MlpSpec::pre_activation)).
    pub batch_norm: bool,
    /// He et al. 2016's pre-activation blocks, `x + s W2 relu(BN(W1 relu(BN(x))))`:
    /// residual nets with batch norm only. Off: He et al. 2015's post-activation,
    /// `relu(x + s BN(W2 relu(BN(W1 x))))` (or `x + s W2 relu(W1 x)` without batch norm).
    pub pre_activation: bool,
    /// The hidden weights' initialisation.
    pub init: Init,
    /// `s`: every residual branch is multiplied by this (e.g. `1 / sqrt(blocks)`). 1 by
    /// default; residual nets only.
    pub branch_scale: f64,
    /// `lambda`: the skip is multiplied by this, `y = s F(x) + lambda x` (He et al. 2016
    /// eq. 8). 1 by default; residual nets only.
    pub shortcut_scale: f64,
    /// Zero-init residual: the last layer of every residual branch starts at 0, so each
    /// block starts as the identity (Goyal et al. 2017; Fixup; SkipInit). The weights are
    /// drawn first and then zeroed, so the other layers are those of the same spec without
    /// it. Off by default; residual nets only.
    pub zero_init_residual: bool,
    /// `Some(n)`: an input layer from `n` features (images are flattened first).
    pub inputs: Option<usize>,
    /// `Some(k)`: a `k`-way linear classifier at the end.
    pub classes: Option<usize>,
    /// The seed of the weights.
    pub seed: u64,
}

impl MlpSpec {
    /// `depth` plain layers of `width` units, `Linear (no bias) -> ReLU`, He init, seed 0.
    pub fn plain(width: usize, depth: usize) -> Self {
        MlpSpec {
            kind: NetKind::Plain,
            width,
            depth,
            batch_norm: false,
            pre_activation: false,
            init: Init::HeNormal,
            branch_scale: 1.0,
            shortcut_scale: 1.0,
            zero_init_residual: false,
            inputs: None,
            classes: None,
            seed: 0,
        }
    }

    /// `depth / 2` residual blocks of two `width`-unit layers each, no batch norm, He init,
    /// both scales 1, seed 0.
    pub fn residual(width: usize, depth: usize) -> Self {
        MlpSpec {
            kind: NetKind::Residual,
            ..Self::plain(width, depth)
        }
    }

    /// Sets [`batch_norm`](MlpSpec::batch_norm) and
    /// [`pre_activation`](MlpSpec::pre_activation) from a block placement: `None` (no batch
    /// norm), `Post` (He et al. 2015) or `Pre` (He et al. 2016).
    pub fn norm(mut self, norm: MlpNorm) -> Self {
        self.batch_norm = norm != MlpNorm::None;
        self.pre_activation = norm == MlpNorm::Pre;
        self
    }

    /// Where the residual blocks put batch norm, from
    /// [`batch_norm`](MlpSpec::batch_norm) and [`pre_activation`](MlpSpec::pre_activation).
    pub fn block_norm(&self) -> MlpNorm {
        match (self.batch_norm, self.pre_activation) {
            (false, _) => MlpNorm::None,
            (true, false) => MlpNorm::Post,
            (true, true) => MlpNorm::Pre,
        }
    }

    /// The weight layers of the body: `depth` less the input layer and the classifier.
    fn body_layers(&self) -> Result<usize> {
        let ends = usize::from(self.inputs.is_some()) + usize::from(self.classes.is_some());
        let bad = |why: String| {
            Err(Error::argument(
                "MlpSpec::build",
                why,
                std::panic::Location::caller(),
            ))
        };
        if self.depth < ends {
            return bad(format!(
                "depth {} counts every weight layer, and the input layer and classifier alone are {ends}",
                self.depth
            ));
        }
        let body = self.depth - ends;
        if self.kind != NetKind::Plain && !body.is_multiple_of(2) {
            return bad(format!(
                "a residual MLP's body is blocks of two layers, so it needs an even number of \
                 weight layers; depth {} leaves {body} (depth counts fc_in and the classifier \
                 when present)",
                self.depth
            ));
        }
        if self.pre_activation && !(self.batch_norm && self.kind != NetKind::Plain) {
            return bad(
                "pre-activation moves batch norm before the weight layers of a residual block \
                 (He et al. 2016): it needs kind Residual and batch_norm true"
                    .into(),
            );
        }
        if self.zero_init_residual && self.kind == NetKind::Plain {
            return bad(
                "zero_init_residual sets the last layer of each residual branch to 0, so that \
                 the block starts as the identity; a plain net has no branch and no identity \
                 (its layers would all pass nothing): use kind Residual, or turn it off"
                    .into(),
            );
        }
        Ok(body)
    }

    /// The residual blocks of the body alone, unboxed (the same weights as
    /// [`build`](MlpSpec::build) gives when there is no input layer). Fails for a plain
    /// spec or a bad depth, naming the rule.
    pub fn try_blocks<T: Float>(&self) -> Result<Vec<ResidualMlpBlock<T>>> {
        if self.kind == NetKind::Plain || self.inputs.is_some() {
            return Err(Error::argument(
                "MlpSpec::blocks",
                "the blocks alone exist for a residual spec without an input layer; use build()",
                std::panic::Location::caller(),
            ));
        }
        let body = self.body_layers()?;
        self.check_fits::<T>()?;
        Ok(self.residual_blocks(body / 2, &mut rng(self.seed)))
    }

    /// [`try_blocks`](MlpSpec::try_blocks), panicking with its error.
    #[track_caller]
    pub fn blocks<T: Float>(&self) -> Vec<ResidualMlpBlock<T>> {
        or_panic(self.try_blocks())
    }

    fn residual_blocks<T: Float>(
        &self,
        count: usize,
        r: &mut crate::nn::Rng,
    ) -> Vec<ResidualMlpBlock<T>> {
        (0..count)
            .map(|_| {
                let mut b = ResidualMlpBlock::<T>::new(self.width, self.block_norm(), self.init, r);
                b.branch_scale = self.branch_scale;
                b.shortcut_scale = self.shortcut_scale;
                b.detach_shortcut = self.kind == NetKind::Detached;
                if self.zero_init_residual {
                    b.fc2.weight.update(|w| w.fill(T::zero()));
                }
                b
            })
            .collect()
    }

    /// How many numbers the built net holds (weights and batch-norm buffers), counted from
    /// the spec without building it; `None` if the depth breaks a rule or the count
    /// overflows.
    pub fn size(&self) -> Option<u128> {
        let body = u128::try_from(self.body_layers().ok()?).ok()?;
        let w = u128::try_from(self.width).ok()?;
        // Batch norm keeps gamma, beta, a running mean and variance, and a batch count.
        let bn = if self.batch_norm { 4 * w + 1 } else { 0 };
        let layer = w.checked_mul(w)?.checked_add(bn)?;
        let mut total = body.checked_mul(layer)?;
        if let Some(inputs) = self.inputs {
            let fc_in = u128::try_from(inputs)
                .ok()?
                .checked_mul(w)?
                .checked_add(bn)?;
            total = total.checked_add(fc_in)?;
        }
        if let Some(classes) = self.classes {
            let c = u128::try_from(classes).ok()?;
            total = total.checked_add(w.checked_mul(c)?.checked_add(c)?)?;
        }
        Some(total)
    }

    /// What [`try_build`](MlpSpec::try_build) checks before it allocates anything: the
    /// depth rules and that the net's weights fit in the machine's memory (the error says
    /// how much they would need).
    #[track_caller]
    pub fn check<T: Float>(&self) -> Result<()> {
        self.body_layers()?;
        self.check_fits::<T>()
    }

    #[track_caller]
    fn check_fits<T: Float>(&self) -> Result<()> {
        crate::alloc::check_fits(
            "MlpSpec::build",
            &format!("an MLP of depth {} and width {}", self.depth, self.width),
            self.size(),
            (std::mem::size_of::<T>(), T::NAME),
            std::panic::Location::caller(),
        )
    }

    /// The network, or an error naming the rule a field breaks, or the memory it would
    /// need if that is more than the machine has.
    pub fn try_build<T: Float>(&self) -> Result<Sequential<T>> {
        let body = self.body_layers()?;
        self.check_fits::<T>()?;
        let mut r = rng(self.seed);
        let w = self.width;
        let mut s = Sequential::new();
        if let Some(inputs) = self.inputs {
            s = s.push_named("flatten", Flatten).push_named(
                "fc_in",
                Linear::<T>::new(inputs, w, false, self.init, &mut r),
            );
            if self.batch_norm {
                s = s.push_named("bn_in", BatchNorm2d::<T>::new(w));
            }
            s = s.push_named("relu_in", Relu);
        }
        match self.kind {
            NetKind::Plain => {
                for i in 0..body {
                    let mut layer = Sequential::new()
                        .push_named("fc", Linear::<T>::new(w, w, false, self.init, &mut r));
                    if self.batch_norm {
                        layer = layer.push_named("bn", BatchNorm2d::<T>::new(w));
                    }
                    s = s.push_named(&i.to_string(), layer.push_named("relu", Relu));
                }
            }
            NetKind::Residual | NetKind::Detached => {
                for (i, b) in self
                    .residual_blocks(body / 2, &mut r)
                    .into_iter()
                    .enumerate()
                {
                    s = s.push_named(&i.to_string(), b);
                }
            }
        }
        if let Some(classes) = self.classes {
            s = s.push_named(
                "fc",
                Linear::<T>::new(w, classes, true, Init::LecunUniform, &mut r),
            );
        }
        Ok(s)
    }

    /// [`try_build`](MlpSpec::try_build), panicking with its error.
    #[track_caller]
    pub fn build<T: Float>(&self) -> Sequential<T> {
        or_panic(self.try_build())
    }
}

setters!(MlpSpec {
    kind: NetKind,
    width: usize,
    depth: usize,
    batch_norm: bool,
    pre_activation: bool,
    init: Init,
    branch_scale: f64,
    shortcut_scale: f64,
    zero_init_residual: bool,
    inputs: Option<usize>,
    classes: Option<usize>,
    seed: u64,
});
