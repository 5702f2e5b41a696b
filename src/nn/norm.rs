//! The normalisation of a conv block: batch norm, or none.

use super::{BatchNorm2d, LayerInfo, Mode, Module, Role};
use crate::{Float, Param, Var};

/// The normalisation layer of a conv block: batch norm (the paper's), or none.
///
/// The batch-norm slots of [`BasicBlock`](super::BasicBlock),
/// [`PreActBlock`](super::PreActBlock) and the projection
/// [`Shortcut`](super::Shortcut) hold a `Norm`, so that one block type serves with and
/// without batch norm. `Norm::Batch` behaves exactly as the [`BatchNorm2d`] it holds.
/// `Norm::None` is the identity: its forward returns its input, and it has no parameters,
/// no buffers and no summary row. The blocks list a `Norm` among their children only when
/// it is batch norm, so a block without batch norm has no `bn1`, `bn2` or
/// `downsample.1` names at all.
pub enum Norm<T: Float = f32> {
    /// Batch norm over the channels.
    Batch(BatchNorm2d<T>),
    /// No normalisation: forward returns its input.
    None,
}

impl<T: Float> Norm<T> {
    /// Batch norm over `channels` if `batch_norm`, otherwise [`Norm::None`].
    pub fn new(channels: usize, batch_norm: bool) -> Self {
        if batch_norm {
            Norm::Batch(BatchNorm2d::new(channels))
        } else {
            Norm::None
        }
    }

    /// The batch norm, if this is one.
    pub fn batch_norm(&self) -> Option<&BatchNorm2d<T>> {
        match self {
            Norm::Batch(bn) => Some(bn),
            Norm::None => None,
        }
    }

    /// Whether this is batch norm.
    pub fn is_batch(&self) -> bool {
        matches!(self, Norm::Batch(_))
    }

    /// Sets batch norm's gamma to zero ([`BatchNorm2d::zero_gamma`]).
    ///
    /// # Panics
    ///
    /// For [`Norm::None`], which has no gamma: zero the conv before it instead.
    #[track_caller]
    pub fn zero_gamma(&self) {
        match self {
            Norm::Batch(bn) => bn.zero_gamma(),
            Norm::None => panic!(
                "Norm::zero_gamma: this layer has no batch norm, so no gamma to zero; \
                 zero the weights of the conv before it instead"
            ),
        }
    }

    /// `relu(forward(x))`: batch norm and relu fused into one op
    /// ([`BatchNorm2d::try_forward_relu`]), or a plain relu for [`Norm::None`].
    #[track_caller]
    pub fn try_forward_relu(&self, x: &Var<T>, mode: Mode) -> crate::Result<Var<T>> {
        match self {
            Norm::Batch(bn) => bn.try_forward_relu(x, mode),
            Norm::None => Ok(x.relu()),
        }
    }

    /// `self` as a module, if it is batch norm: what a block lists among its children.
    pub(super) fn layer(&self) -> Option<&dyn Module<T>> {
        self.is_batch().then_some(self as &dyn Module<T>)
    }
}

impl<T: Float> Module<T> for Norm<T> {
    #[track_caller]
    fn forward(&self, x: &Var<T>, mode: Mode) -> Var<T> {
        crate::error::or_panic(self.try_forward(x, mode))
    }
    #[track_caller]
    fn try_forward(&self, x: &Var<T>, mode: Mode) -> crate::Result<Var<T>> {
        match self {
            Norm::Batch(bn) => bn.try_forward(x, mode),
            Norm::None => Ok(x.clone()),
        }
    }
    fn own_params(&self, f: &mut dyn FnMut(&str, &Param<T>, Role)) {
        if let Norm::Batch(bn) = self {
            bn.own_params(f);
        }
    }
    fn describe(&self, input: &[usize]) -> Option<LayerInfo> {
        match self {
            Norm::Batch(bn) => bn.describe(input),
            Norm::None => None,
        }
    }
}
