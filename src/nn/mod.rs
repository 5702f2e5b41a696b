//! Layers and residual blocks: the paper's ideas as small, named, composable parts.
//!
//! A [`Module`] runs forward on the tape, names its parameters and buffers the way
//! torchvision does (`layer1.0.conv1.weight`, `layer1.0.bn1.running_mean`), and reports
//! its output shapes, parameters and multiply-adds for [`summary`](crate::models::Summary).

mod blocks;
mod init;
mod layers;

pub use blocks::{
    BasicBlock, Bottleneck, MlpNorm, PreActBlock, ResidualMlpBlock, Shortcut, ShortcutOption,
    StridePlacement,
};
pub use init::{Init, Rng, rng};
pub use layers::{
    BatchNorm2d, Conv2d, Flatten, GlobalAvgPool, Linear, MaxPool2d, Relu, Sequential,
};

use crate::models::Summary;
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

/// A layer, a block or a whole network.
pub trait Module<T: Float = f32> {
    /// The forward pass; parameters come onto `x`'s tape.
    fn forward(&self, x: &Var<T>, mode: Mode) -> Var<T>;

    /// Calls `f` on every parameter and buffer, with its name relative to this module.
    fn visit(&self, f: &mut dyn FnMut(&str, &Param<T>, Role));

    /// Adds this module's rows to `summary` for an input of shape `input` (batch first),
    /// and returns the output shape.
    fn summarize(&self, input: &[usize], summary: &mut Summary) -> Vec<usize>;

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

/// Visits a child module under `name`: its names become `name.<its name>`.
pub fn visit_child<T: Float>(
    name: &str,
    child: &dyn Module<T>,
    f: &mut dyn FnMut(&str, &Param<T>, Role),
) {
    child.visit(&mut |n, p, r| f(&format!("{name}.{n}"), p, r));
}
