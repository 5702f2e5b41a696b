//! Layers and residual blocks: the paper's ideas as small, named, composable parts.
//!
//! A [`Module`] runs forward on the tape, names its parameters and buffers the way
//! torchvision does (`layer1.0.conv1.weight`, `layer1.0.bn1.running_mean`), and reports
//! its output shapes, parameters and multiply-adds in a [`Summary`]. Each module lists its
//! children once ([`Module::children`]); the names, the visits and the summary all come
//! from that one list.

mod blocks;
mod init;
mod layers;
mod norm;
mod summary;

pub use blocks::{
    BasicBlock, Bottleneck, MlpNorm, PreActBlock, ResidualMlpBlock, Shortcut, ShortcutOption,
    StridePlacement, ZeroPad,
};
pub use init::{Init, Rng, rng};
pub use layers::{
    BatchNorm2d, Conv2d, Flatten, GlobalAvgPool, Linear, MaxPool2d, Relu, Sequential,
};
pub use norm::Norm;

pub use summary::{Summary, SummaryRow, human, thousands};

use crate::{Float, Param, Var};

/// Training (batch statistics, running statistics updated) or evaluation (running
/// statistics used, nothing updated).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Batch norm uses the batch's statistics and updates its running ones.
    Train,
    /// Batch norm uses its running statistics.
    Eval,
}

/// Whether a named value is trained or only kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Trained: receives a gradient, counted in the parameter total.
    Parameter,
    /// Kept: batch norm's running statistics and batch count.
    Buffer,
}

/// How the children of a container pass shapes to one another, for the [`Summary`].
///
/// Only the summary needs this: forward passes are written out by each module. Most
/// containers are a [`Sequence`](ShapeFlow::Sequence). A residual block is not: its
/// shortcut reads the block's *input*, not the branch's output, so it says
/// [`Residual`](ShapeFlow::Residual) and lists its branch first, its shortcut after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShapeFlow {
    /// Each child reads the previous child's output (the first reads the module's input);
    /// the module's output is the last child's.
    Sequence,
    /// A residual block, `F(x) + shortcut(x)`: the first `branch` children are the branch
    /// `F`, a sequence from the module's input whose output is the module's output; the
    /// children after them (the shortcut's layers, if any) form a second sequence that
    /// starts again from the module's input.
    Residual {
        /// How many of the children, from the first, make up the branch `F`.
        branch: usize,
    },
}

/// What a leaf layer says about itself in a [`Summary`] row, for one input shape. Its
/// parameter count is not here: the summary counts the parameters the layer declares.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerInfo {
    /// The layer's kind, e.g. `Conv2d 3x3/1`.
    pub layer: String,
    /// The output shape (batch first).
    pub output: Vec<usize>,
    /// Multiply-adds for this input (convs and linear layers; batch norm, ReLU and
    /// pooling count 0, as in the paper's FLOP counts).
    pub macs: usize,
}

/// A layer, a block or a whole network.
///
/// A module is one of two kinds, and implements only what its kind needs besides
/// [`forward`](Module::forward) (and [`try_forward`](Module::try_forward) if its forward can
/// fail):
///
/// - A **leaf layer** (a conv, batch norm, ReLU, ...) declares its own parameters and
///   buffers in [`own_params`](Module::own_params) and describes itself in
///   [`describe`](Module::describe): its kind, output shape and multiply-adds.
/// - A **container** (a block, a [`Sequential`], a network) lists its children, in order
///   and by name, in [`children`](Module::children), and, if its children do not simply
///   follow one another, says how shapes flow in [`shape_flow`](Module::shape_flow).
///
/// Everything else is derived from those: [`visit`](Module::visit) walks own parameters,
/// then each child under `<child name>.`, which gives torchvision's dotted names
/// (`layer1.0.downsample.0.weight`); [`state`](Module::state),
/// [`named_parameters`](Module::named_parameters) and the rest come from `visit`; and
/// [`Summary::of`] makes one row per leaf, passing shapes as `shape_flow` says.
pub trait Module<T: Float = f32> {
    /// The forward pass; parameters come onto `x`'s tape.
    ///
    /// Panics, with [`try_forward`](Module::try_forward)'s error text, on an input it
    /// cannot take: a wrong shape, or batch norm in training mode on a batch of one.
    fn forward(&self, x: &Var<T>, mode: Mode) -> Var<T>;

    /// [`forward`](Module::forward), returning the error instead of panicking, so that a
    /// trainer or a notebook cell keeps going: a wrong input shape for a conv or a linear
    /// layer, batch norm in training mode on a batch of one.
    ///
    /// The default, `Ok(self.forward(x, mode))`, is right for a module whose forward cannot
    /// fail (ReLU). resgrad's layers whose forward can fail implement this with the ops'
    /// `try_` forms (their `forward` panics with its error), and its containers (blocks,
    /// [`Sequential`], networks) pass on the first error of their children. A module of
    /// your own that holds such layers should do the same, calling its children's
    /// `try_forward` with `?`.
    #[track_caller]
    fn try_forward(&self, x: &Var<T>, mode: Mode) -> crate::Result<Var<T>> {
        Ok(self.forward(x, mode))
    }

    /// Calls `f` on this module's *own* parameters and buffers (not its children's), with
    /// their names (`weight`, `running_mean`). Leaf layers implement it; the default has
    /// none.
    fn own_params(&self, _f: &mut dyn FnMut(&str, &Param<T>, Role)) {}

    /// The child modules, in order, each with its name (`conv1`, `layer1.0`, `0`).
    /// Containers implement it; the default has none.
    fn children(&self) -> Vec<(String, &dyn Module<T>)> {
        Vec::new()
    }

    /// How the children pass shapes to one another in a summary; a plain sequence unless
    /// the module says otherwise (see [`ShapeFlow`]).
    fn shape_flow(&self) -> ShapeFlow {
        ShapeFlow::Sequence
    }

    /// For a leaf layer: its summary row for an input of shape `input` (batch first).
    /// `None` (the default) for a container, whose rows are its children's.
    fn describe(&self, _input: &[usize]) -> Option<LayerInfo> {
        None
    }

    /// The architecture this module computes, for a whole network whose layout the
    /// parameter names alone do not tell (ResNet-50 v1 and v1.5 share every key and
    /// shape). Checkpoints record it and refuse to load a file saved from another
    /// architecture. `None` (the default) records nothing and checks nothing.
    fn architecture(&self) -> Option<String> {
        None
    }

    /// Calls `f` on every parameter and buffer, own ones first, then each child's, with
    /// its name relative to this module (`conv1.weight`, `layer1.0.bn1.running_var`).
    fn visit(&self, f: &mut dyn FnMut(&str, &Param<T>, Role)) {
        self.own_params(f);
        for (name, child) in self.children() {
            child.visit(&mut |n, p, r| f(&format!("{name}.{n}"), p, r));
        }
    }

    /// Every trainable parameter, with its full name, in order.
    fn named_parameters(&self) -> Vec<(String, Param<T>)> {
        let mut out = Vec::new();
        self.visit(&mut |n, p, r| {
            if r == Role::Parameter {
                out.push((n.to_string(), p.clone()));
            }
        });
        out
    }

    /// Every buffer, with its full name, in order.
    fn named_buffers(&self) -> Vec<(String, Param<T>)> {
        let mut out = Vec::new();
        self.visit(&mut |n, p, r| {
            if r == Role::Buffer {
                out.push((n.to_string(), p.clone()));
            }
        });
        out
    }

    /// Every parameter and buffer, as a state dict: name, value, role.
    fn state(&self) -> Vec<(String, Param<T>, Role)> {
        let mut out = Vec::new();
        self.visit(&mut |n, p, r| out.push((n.to_string(), p.clone(), r)));
        out
    }

    /// The trainable parameters, for an optimizer.
    fn parameters(&self) -> Vec<Param<T>> {
        self.named_parameters()
            .into_iter()
            .map(|(_, p)| p)
            .collect()
    }

    /// The number of trainable scalars.
    fn num_parameters(&self) -> usize {
        self.parameters().iter().map(Param::len).sum()
    }
}
