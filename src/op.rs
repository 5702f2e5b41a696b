//! What a node on the tape was made by: the [`Op`] enum, one variant per differentiable
//! op, each holding what its backward rule (in [`crate::backward`]) needs beyond the values
//! of its parents and its own output. [`CustomOp`] is the door for ops written outside the
//! crate.
//!
//! This module only names ops; their forward functions are in [`crate::ops`] and their
//! derivatives in [`crate::backward`].

use std::fmt;
use std::rc::Rc;

use ndarray::ArrayD;

use crate::float::Float;
use crate::kernels::PoolGeom;

/// What a node on the tape was made by, holding what its backward rule needs beyond the
/// values of its parents and its own output (which the tape keeps anyway).
#[derive(Clone)]
pub enum Op<T: Float> {
    /// A leaf: an input made with [`Tape::var`](crate::Tape::var) or a parameter.
    Leaf {
        /// The parameter's name, or `None` for a plain input.
        name: Option<String>,
    },
    /// A leaf that never receives a gradient ([`Tape::constant`](crate::Tape::constant)).
    Constant,
    /// `a + b` with broadcasting.
    Add,
    /// `a - b` with broadcasting.
    Sub,
    /// `a * b` elementwise with broadcasting.
    Mul,
    /// `a / b` elementwise with broadcasting.
    Div,
    /// `-a`.
    Neg,
    /// `a + c` for a scalar `c`.
    AddScalar(f64),
    /// `a * c` for a scalar `c`.
    MulScalar(f64),
    /// `a^p` for a scalar `p`.
    PowScalar(f64),
    /// `sqrt(a)`.
    Sqrt,
    /// `exp(a)`.
    Exp,
    /// `ln(a)`.
    Log,
    /// `max(a, 0)`.
    Relu,
    /// `1 / (1 + exp(-a))`.
    Sigmoid,
    /// `tanh(a)`.
    Tanh,
    /// Matrix product: 2-D by 2-D, batched 3-D by 3-D, or 3-D by 2-D.
    MatMul,
    /// Sum over `axes` (all axes when `axes` lists them all).
    Sum {
        /// The axes summed over, ascending.
        axes: Vec<usize>,
        /// Whether the summed axes are kept with length 1.
        keepdim: bool,
    },
    /// Mean over `axes`.
    Mean {
        /// The axes averaged over, ascending.
        axes: Vec<usize>,
        /// Whether the averaged axes are kept with length 1.
        keepdim: bool,
    },
    /// Maximum along one axis; the gradient goes to the first maximal element.
    Max {
        /// The axis reduced.
        axis: usize,
        /// Whether it is kept with length 1.
        keepdim: bool,
        /// For each output element, the index along `axis` of the maximum.
        argmax: Rc<Vec<usize>>,
    },
    /// A new shape with the same elements in the same (row-major) order.
    Reshape,
    /// Axes reordered: output axis `i` is input axis `perm[i]`.
    Permute(Vec<usize>),
    /// `a[.., start..end, ..]` along `axis`.
    Slice {
        /// The axis sliced.
        axis: usize,
        /// First index kept.
        start: usize,
        /// One past the last index kept.
        end: usize,
    },
    /// Parents joined along an existing axis.
    Concat {
        /// The axis joined along.
        axis: usize,
    },
    /// Parents stacked along a new axis.
    Stack {
        /// The new axis.
        axis: usize,
    },
    /// Softmax along `axis`.
    Softmax {
        /// The axis normalised over.
        axis: usize,
    },
    /// Log-softmax along `axis`.
    LogSoftmax {
        /// The axis normalised over.
        axis: usize,
    },
    /// Mean cross-entropy of logits `[N, C]` against integer labels.
    CrossEntropy {
        /// One label per row, each below `C`.
        labels: Rc<Vec<usize>>,
    },
    /// Mean squared error between two tensors of the same shape.
    Mse,
    /// 2-D convolution; parents `[x, weight]` or `[x, weight, bias]`.
    Conv2d {
        /// Stride on both axes.
        stride: usize,
        /// Zero padding on both axes.
        padding: usize,
        /// Whether a bias is the third parent.
        has_bias: bool,
    },
    /// Batch norm over channels; parents `[x, gamma, beta]`.
    BatchNorm2d {
        /// Batch statistics (true) or running statistics (false).
        training: bool,
        /// The per-channel mean used.
        mean: Rc<Vec<T>>,
        /// The per-channel `1 / sqrt(var + eps)` used.
        inv_std: Rc<Vec<T>>,
    },
    /// Fused `relu(batch_norm2d(x))`, parents `[x, gamma, beta]`: the batch norm's output
    /// is never a node, so the tape keeps one activation where the pair kept two.
    BatchNorm2dRelu {
        /// Batch statistics (true) or running statistics (false).
        training: bool,
        /// The per-channel mean used.
        mean: Rc<Vec<T>>,
        /// The per-channel `1 / sqrt(var + eps)` used.
        inv_std: Rc<Vec<T>>,
    },
    /// Fused `relu(batch_norm2d(x) + s)`, parents `[x, gamma, beta, s]`: a residual block's
    /// last batch norm, its shortcut sum and its relu in one node, so the tape keeps one
    /// activation where the three ops kept three.
    BatchNorm2dAddRelu {
        /// Batch statistics (true) or running statistics (false).
        training: bool,
        /// The per-channel mean used.
        mean: Rc<Vec<T>>,
        /// The per-channel `1 / sqrt(var + eps)` used.
        inv_std: Rc<Vec<T>>,
    },
    /// Max pooling.
    MaxPool2d {
        /// Window, stride, padding and sizes.
        geom: PoolGeom,
        /// Per output, the flat index in its plane of the input that won.
        argmax: Rc<Vec<u32>>,
    },
    /// Average pooling (padding counted as zeros).
    AvgPool2d {
        /// Window, stride, padding and sizes.
        geom: PoolGeom,
    },
    /// Fused `relu(a + b)` with broadcasting: the sum is never a node, so the tape keeps
    /// one activation where the pair kept two (the residual block's last step).
    AddRelu,
    /// Option-A shortcut: stride-2 subsampling, then zero channels around the input's.
    ZeroPadShortcut {
        /// Zero channels added before the input's channels.
        before: usize,
        /// The subsampling step.
        stride: usize,
    },
    /// An op written outside the crate, e.g. by a learner in a notebook.
    Custom(Rc<dyn CustomOp<T>>),
}

impl<T: Float> Op<T> {
    /// The op's short name, as shown by the tape's `Display` and graph.
    pub fn name(&self) -> &str {
        match self {
            Op::Leaf { name: Some(_) } => "param",
            Op::Leaf { name: None } => "input",
            Op::Constant => "constant",
            Op::Add => "add",
            Op::Sub => "sub",
            Op::Mul => "mul",
            Op::Div => "div",
            Op::Neg => "neg",
            Op::AddScalar(_) => "add_scalar",
            Op::MulScalar(_) => "mul_scalar",
            Op::PowScalar(_) => "pow",
            Op::Sqrt => "sqrt",
            Op::Exp => "exp",
            Op::Log => "log",
            Op::Relu => "relu",
            Op::Sigmoid => "sigmoid",
            Op::Tanh => "tanh",
            Op::MatMul => "matmul",
            Op::Sum { .. } => "sum",
            Op::Mean { .. } => "mean",
            Op::Max { .. } => "max",
            Op::Reshape => "reshape",
            Op::Permute(_) => "permute",
            Op::Slice { .. } => "slice",
            Op::Concat { .. } => "concat",
            Op::Stack { .. } => "stack",
            Op::Softmax { .. } => "softmax",
            Op::LogSoftmax { .. } => "log_softmax",
            Op::CrossEntropy { .. } => "cross_entropy",
            Op::Mse => "mse",
            Op::Conv2d { .. } => "conv2d",
            Op::BatchNorm2d { .. } => "batch_norm2d",
            Op::BatchNorm2dRelu { .. } => "batch_norm2d_relu",
            Op::BatchNorm2dAddRelu { .. } => "batch_norm2d_add_relu",
            Op::MaxPool2d { .. } => "max_pool2d",
            Op::AvgPool2d { .. } => "avg_pool2d",
            Op::AddRelu => "add_relu",
            Op::ZeroPadShortcut { .. } => "zero_pad_shortcut",
            Op::Custom(c) => c.name(),
        }
    }

    /// A longer label with the op's arguments, e.g. `sum(axes=[1])` or `param w1`.
    pub fn label(&self) -> String {
        match self {
            Op::Leaf { name: Some(n) } => format!("param {n}"),
            Op::AddScalar(c) => format!("add_scalar({c})"),
            Op::MulScalar(c) => format!("mul_scalar({c})"),
            Op::PowScalar(p) => format!("pow({p})"),
            Op::Sum { axes, keepdim } | Op::Mean { axes, keepdim } => {
                format!("{}(axes={axes:?}, keepdim={keepdim})", self.name())
            }
            Op::Max { axis, keepdim, .. } => format!("max(axis={axis}, keepdim={keepdim})"),
            Op::Permute(p) => format!("permute({p:?})"),
            Op::Slice { axis, start, end } => format!("slice(axis={axis}, {start}..{end})"),
            Op::Concat { axis } | Op::Stack { axis } => format!("{}(axis={axis})", self.name()),
            Op::Softmax { axis } | Op::LogSoftmax { axis } => {
                format!("{}(axis={axis})", self.name())
            }
            Op::Conv2d {
                stride, padding, ..
            } => format!("conv2d(stride={stride}, padding={padding})"),
            Op::BatchNorm2d { training, .. }
            | Op::BatchNorm2dRelu { training, .. }
            | Op::BatchNorm2dAddRelu { training, .. } => {
                let mode = if *training { "train" } else { "eval" };
                format!("{}({mode})", self.name())
            }
            Op::MaxPool2d { geom, .. } | Op::AvgPool2d { geom } => {
                format!(
                    "{}(k={}, stride={}, padding={})",
                    self.name(),
                    geom.k,
                    geom.stride,
                    geom.pad
                )
            }
            _ => self.name().to_string(),
        }
    }
}

impl<T: Float> fmt::Debug for Op<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

/// An op with a hand-written forward and backward, usable on the tape like a built-in.
///
/// ```
/// use resgrad::{CustomOp, Tape, gradcheck, ndarray::{ArrayD, array}};
///
/// /// y = x^3, dy/dx = 3x^2
/// struct Cube;
/// impl CustomOp<f64> for Cube {
///     fn name(&self) -> &str { "cube" }
///     fn forward(&self, x: &[&ArrayD<f64>]) -> ArrayD<f64> { x[0].mapv(|v| v * v * v) }
///     fn backward(&self, x: &[&ArrayD<f64>], _y: &ArrayD<f64>, g: &ArrayD<f64>) -> Vec<ArrayD<f64>> {
///         vec![g * &x[0].mapv(|v| 3.0 * v * v)]
///     }
/// }
///
/// let report = gradcheck(|v| v[0].apply(Cube, &[]), &[array![0.5, -1.2].into_dyn()]);
/// assert!(report.passed(), "{report}");
/// ```
pub trait CustomOp<T: Float> {
    /// A short name for the tape's display, graphs and error messages.
    fn name(&self) -> &str;
    /// The output, from the inputs.
    fn forward(&self, inputs: &[&ArrayD<T>]) -> ArrayD<T>;
    /// One gradient per input, each of that input's shape, given the inputs, the output
    /// and the gradient of the output `grad`.
    fn backward(
        &self,
        inputs: &[&ArrayD<T>],
        output: &ArrayD<T>,
        grad: &ArrayD<T>,
    ) -> Vec<ArrayD<T>>;
}
