//! The layers: Conv2d, BatchNorm2d, Linear, ReLU, MaxPool2d, GlobalAvgPool, Sequential.

use ndarray::{Array1, ArrayD, IxDyn};

use super::{Init, LayerInfo, Mode, Module, Rng, Role};
use crate::error::or_panic;
use crate::{Float, Param, Result, RunningStats, Var};

/// A 2-D convolution with its weight `[C_out, C_in, k, k]` and optional bias `[C_out]`.
pub struct Conv2d<T: Float = f32> {
    /// `[C_out, C_in, k, k]`.
    pub weight: Param<T>,
    /// `[C_out]`, if any.
    pub bias: Option<Param<T>>,
    /// Stride on both axes.
    pub stride: usize,
    /// Zero padding on both axes.
    pub padding: usize,
}

impl<T: Float> Conv2d<T> {
    /// A `k x k` conv from `cin` to `cout` channels; weight by `init` (fan-in `cin k k`),
    /// bias (if asked) as PyTorch's, uniform on `±1/sqrt(fan_in)`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        cin: usize,
        cout: usize,
        k: usize,
        stride: usize,
        padding: usize,
        bias: bool,
        init: Init,
        rng: &mut Rng,
    ) -> Self {
        let fan_in = cin * k * k;
        Conv2d {
            weight: Param::new(
                "weight",
                init.sample::<T>(&[cout, cin, k, k], fan_in, cout * k * k, rng),
            ),
            bias: bias.then(|| {
                Param::new(
                    "bias",
                    Init::LecunUniform.sample::<T>(&[cout], fan_in, cout, rng),
                )
            }),
            stride,
            padding,
        }
    }

    fn out_shape(&self, input: &[usize]) -> Vec<usize> {
        let s = self.weight.shape();
        let out = |n: usize| (n + 2 * self.padding).saturating_sub(s[2]) / self.stride + 1;
        vec![input[0], s[0], out(input[2]), out(input[3])]
    }
}

impl<T: Float> Module<T> for Conv2d<T> {
    #[track_caller]
    fn forward(&self, x: &Var<T>, mode: Mode) -> Var<T> {
        or_panic(self.try_forward(x, mode))
    }
    #[track_caller]
    fn try_forward(&self, x: &Var<T>, _mode: Mode) -> Result<Var<T>> {
        let tape = x.tape();
        let b = self.bias.as_ref().map(|b| tape.param(b));
        x.try_conv2d(
            &tape.param(&self.weight),
            b.as_ref(),
            self.stride,
            self.padding,
        )
    }
    fn own_params(&self, f: &mut dyn FnMut(&str, &Param<T>, Role)) {
        f("weight", &self.weight, Role::Parameter);
        if let Some(b) = &self.bias {
            f("bias", b, Role::Parameter);
        }
    }
    fn describe(&self, input: &[usize]) -> Option<LayerInfo> {
        let output = self.out_shape(input);
        let s = self.weight.shape();
        let macs = output.iter().product::<usize>() * s[1] * s[2] * s[3];
        let k = s[2];
        Some(LayerInfo {
            layer: format!("Conv2d {k}x{k}/{}", self.stride),
            output,
            macs,
        })
    }
}

/// Batch norm over channels, with affine `weight` (gamma, starts at 1) and `bias` (beta,
/// starts at 0), and the running statistics as buffers.
pub struct BatchNorm2d<T: Float = f32> {
    /// Gamma, `[C]`.
    pub weight: Param<T>,
    /// Beta, `[C]`.
    pub bias: Param<T>,
    /// Running mean and variance (buffers).
    pub stats: RunningStats<T>,
    /// How many training batches have updated the statistics (a buffer, as torchvision's).
    pub num_batches_tracked: Param<T>,
}

impl<T: Float> BatchNorm2d<T> {
    /// Batch norm for `channels` channels, PyTorch's defaults (momentum 0.1, eps 1e-5).
    pub fn new(channels: usize) -> Self {
        BatchNorm2d {
            weight: Param::new("weight", Array1::<T>::ones(channels)),
            bias: Param::new("bias", Array1::<T>::zeros(channels)),
            stats: RunningStats::new(channels),
            num_batches_tracked: Param::new("num_batches_tracked", ArrayD::<T>::zeros(IxDyn(&[]))),
        }
    }

    /// Sets gamma to zero: the branch this ends is zero at init (Goyal et al. 2017).
    pub fn zero_gamma(&self) {
        self.weight.update(|g| g.fill(T::zero()));
    }

    /// `relu(forward(x))` as one fused op ([`Var::try_batch_norm2d_relu`]): the same
    /// values and gradients, but the batch norm's output is never kept on the tape. The
    /// residual blocks call it for their `relu(bn(conv(x)))`.
    #[track_caller]
    pub fn try_forward_relu(&self, x: &Var<T>, mode: Mode) -> Result<Var<T>> {
        self.apply(x, mode, Some(None))
    }

    /// `relu(forward(x) + shortcut)` as one fused op ([`Var::try_batch_norm2d_add_relu`]):
    /// the same values and gradients, but neither the batch norm's output nor the sum is
    /// kept on the tape. The basic block calls it for its last step.
    #[track_caller]
    pub fn try_forward_add_relu(
        &self,
        x: &Var<T>,
        shortcut: &Var<T>,
        mode: Mode,
    ) -> Result<Var<T>> {
        self.apply(x, mode, Some(Some(shortcut)))
    }

    /// The forward, with a fused tail: none, `Some(None)` a relu, `Some(Some(s))` a sum
    /// with `s` and a relu. Counts a training batch.
    #[track_caller]
    fn apply(&self, x: &Var<T>, mode: Mode, tail: Option<Option<&Var<T>>>) -> Result<Var<T>> {
        let tape = x.tape();
        let training = mode == Mode::Train;
        let (gamma, beta) = (tape.param(&self.weight), tape.param(&self.bias));
        let y = match tail {
            None => x.try_batch_norm2d(&gamma, &beta, &self.stats, training)?,
            Some(None) => x.try_batch_norm2d_relu(&gamma, &beta, &self.stats, training)?,
            Some(Some(s)) => {
                x.try_batch_norm2d_add_relu(&gamma, &beta, &self.stats, training, s)?
            }
        };
        if training {
            self.num_batches_tracked
                .update(|n| n.mapv_inplace(|v| v + T::one()));
        }
        Ok(y)
    }
}

impl<T: Float> Module<T> for BatchNorm2d<T> {
    #[track_caller]
    fn forward(&self, x: &Var<T>, mode: Mode) -> Var<T> {
        or_panic(self.try_forward(x, mode))
    }
    /// Fails, and updates nothing, on a batch of one in training mode (there is no batch
    /// variance) or on an input whose channels are not the layer's.
    #[track_caller]
    fn try_forward(&self, x: &Var<T>, mode: Mode) -> Result<Var<T>> {
        self.apply(x, mode, None)
    }
    fn own_params(&self, f: &mut dyn FnMut(&str, &Param<T>, Role)) {
        f("weight", &self.weight, Role::Parameter);
        f("bias", &self.bias, Role::Parameter);
        f("running_mean", &self.stats.mean, Role::Buffer);
        f("running_var", &self.stats.var, Role::Buffer);
        f(
            "num_batches_tracked",
            &self.num_batches_tracked,
            Role::Buffer,
        );
    }
    fn describe(&self, input: &[usize]) -> Option<LayerInfo> {
        Some(LayerInfo {
            layer: "BatchNorm2d".into(),
            output: input.to_vec(),
            macs: 0,
        })
    }
}

/// A fully connected layer `y = x W^T + b`, weight `[out, in]` as PyTorch stores it.
pub struct Linear<T: Float = f32> {
    /// `[out, in]`.
    pub weight: Param<T>,
    /// `[out]`, if any.
    pub bias: Option<Param<T>>,
}

impl<T: Float> Linear<T> {
    /// A layer from `inputs` to `outputs`; weight by `init`, bias (if asked) as PyTorch's.
    pub fn new(inputs: usize, outputs: usize, bias: bool, init: Init, rng: &mut Rng) -> Self {
        Linear {
            weight: Param::new(
                "weight",
                init.sample::<T>(&[outputs, inputs], inputs, outputs, rng),
            ),
            bias: bias.then(|| {
                Param::new(
                    "bias",
                    Init::LecunUniform.sample::<T>(&[outputs], inputs, outputs, rng),
                )
            }),
        }
    }
}

impl<T: Float> Module<T> for Linear<T> {
    #[track_caller]
    fn forward(&self, x: &Var<T>, mode: Mode) -> Var<T> {
        or_panic(self.try_forward(x, mode))
    }
    #[track_caller]
    fn try_forward(&self, x: &Var<T>, _mode: Mode) -> Result<Var<T>> {
        let tape = x.tape();
        let y = x.try_matmul(&tape.param(&self.weight).t())?;
        match &self.bias {
            Some(b) => y.try_add(&tape.param(b)),
            None => Ok(y),
        }
    }
    fn own_params(&self, f: &mut dyn FnMut(&str, &Param<T>, Role)) {
        f("weight", &self.weight, Role::Parameter);
        if let Some(b) = &self.bias {
            f("bias", b, Role::Parameter);
        }
    }
    fn describe(&self, input: &[usize]) -> Option<LayerInfo> {
        let s = self.weight.shape();
        Some(LayerInfo {
            layer: "Linear".into(),
            output: vec![input[0], s[0]],
            macs: input[0] * s[0] * s[1],
        })
    }
}

/// `max(x, 0)`.
pub struct Relu;

impl<T: Float> Module<T> for Relu {
    fn forward(&self, x: &Var<T>, _mode: Mode) -> Var<T> {
        x.relu()
    }
    fn describe(&self, input: &[usize]) -> Option<LayerInfo> {
        Some(LayerInfo {
            layer: "ReLU".into(),
            output: input.to_vec(),
            macs: 0,
        })
    }
}

/// Max pooling over `k x k` windows.
pub struct MaxPool2d {
    /// Window size.
    pub k: usize,
    /// Stride.
    pub stride: usize,
    /// Padding.
    pub padding: usize,
}

impl<T: Float> Module<T> for MaxPool2d {
    #[track_caller]
    fn forward(&self, x: &Var<T>, mode: Mode) -> Var<T> {
        or_panic(self.try_forward(x, mode))
    }
    #[track_caller]
    fn try_forward(&self, x: &Var<T>, _mode: Mode) -> Result<Var<T>> {
        x.try_max_pool2d(self.k, self.stride, self.padding)
    }
    fn describe(&self, input: &[usize]) -> Option<LayerInfo> {
        let out = |n: usize| (n + 2 * self.padding).saturating_sub(self.k) / self.stride + 1;
        Some(LayerInfo {
            layer: format!("MaxPool2d {}x{}/{}", self.k, self.k, self.stride),
            output: vec![input[0], input[1], out(input[2]), out(input[3])],
            macs: 0,
        })
    }
}

/// `[N, ...]` to `[N, rest]`.
pub struct Flatten;

impl<T: Float> Module<T> for Flatten {
    #[track_caller]
    fn forward(&self, x: &Var<T>, mode: Mode) -> Var<T> {
        or_panic(self.try_forward(x, mode))
    }
    #[track_caller]
    fn try_forward(&self, x: &Var<T>, _mode: Mode) -> Result<Var<T>> {
        x.try_flatten()
    }
    fn describe(&self, input: &[usize]) -> Option<LayerInfo> {
        Some(LayerInfo {
            layer: "Flatten".into(),
            output: vec![input[0], input[1..].iter().product()],
            macs: 0,
        })
    }
}

/// Global average pooling, `[N, C, H, W]` to `[N, C]`.
pub struct GlobalAvgPool;

impl<T: Float> Module<T> for GlobalAvgPool {
    #[track_caller]
    fn forward(&self, x: &Var<T>, mode: Mode) -> Var<T> {
        or_panic(self.try_forward(x, mode))
    }
    #[track_caller]
    fn try_forward(&self, x: &Var<T>, _mode: Mode) -> Result<Var<T>> {
        x.try_global_avg_pool()
    }
    fn describe(&self, input: &[usize]) -> Option<LayerInfo> {
        Some(LayerInfo {
            layer: "GlobalAvgPool".into(),
            output: vec![input[0], input[1]],
            macs: 0,
        })
    }
}

/// Modules applied one after another, each under its name (`"0"`, `"1"`, ... by default).
#[derive(Default)]
pub struct Sequential<T: Float = f32> {
    /// The named modules, in order.
    pub layers: Vec<(String, Box<dyn Module<T>>)>,
}

impl<T: Float> Sequential<T> {
    /// The modules, in order, as trait objects: the blocks whose boundaries the
    /// gradient-flow instruments measure.
    pub fn blocks(&self) -> Vec<&dyn Module<T>> {
        self.layers.iter().map(|(_, m)| m.as_ref()).collect()
    }

    /// An empty sequence.
    pub fn new() -> Self {
        Sequential { layers: Vec::new() }
    }

    /// Appends a module named by its position.
    pub fn push(mut self, m: impl Module<T> + 'static) -> Self {
        let name = self.layers.len().to_string();
        self.layers.push((name, Box::new(m)));
        self
    }

    /// Appends a module under `name`.
    pub fn push_named(mut self, name: &str, m: impl Module<T> + 'static) -> Self {
        self.layers.push((name.to_string(), Box::new(m)));
        self
    }
}

impl<T: Float> Module<T> for Sequential<T> {
    #[track_caller]
    fn forward(&self, x: &Var<T>, mode: Mode) -> Var<T> {
        or_panic(self.try_forward(x, mode))
    }
    /// Each module's `try_forward` in turn; the first error stops the sequence.
    fn try_forward(&self, x: &Var<T>, mode: Mode) -> Result<Var<T>> {
        let mut h = x.clone();
        for (_, m) in &self.layers {
            h = m.try_forward(&h, mode)?;
        }
        Ok(h)
    }
    fn children(&self) -> Vec<(String, &dyn Module<T>)> {
        self.layers
            .iter()
            .map(|(name, m)| (name.clone(), m.as_ref()))
            .collect()
    }
}
