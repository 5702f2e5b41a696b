//! Instruments for gradient flow at depth (He et al. 2016, eq. 5):
//! `dE/dx_l = dE/dx_L (1 + d/dx_l sum_i F(x_i))`.
//!
//! Each instrument runs a model on a tape and returns numbers, to be asserted in tests or
//! drawn by the `viz` module (this module draws nothing). The loss is
//! `E = sum over the batch of <G, x_L>` with `G` drawn independently of the forward pass,
//! so `dE/dx_L = G` and the ratio `R = ||dE/dx_0|| / ||dE/dx_L||` measures only what the
//! network does to a gradient.
//!
//! The nets are named by [`FlowSetup`]; the predictions the tests check are one table,
//! [`PREDICTIONS`] (written out in `docs/predictions.md`); the experiments behind
//! `resgrad flow`'s figures ([`gradient_norm_depth`], [`lambda_sweep`], ...) return their
//! numbers for the `viz` module to draw.

use ndarray::{ArrayD, IxDyn};
use rand_distr::{Distribution, StandardNormal};

use crate::nn::{Mode, Module, Rng, rng};
use crate::{Float, Tape, Var};

/// An `N(0, 1)` array of `shape`, from `rng`.
pub fn gaussian<T: Float>(shape: &[usize], rng: &mut Rng) -> ArrayD<T> {
    ArrayD::from_shape_simple_fn(IxDyn(shape), || T::cast(StandardNormal.sample(rng)))
}

/// The Euclidean norm of an array.
pub fn norm<T: Float>(a: &ArrayD<T>) -> f64 {
    a.iter()
        .map(|v| v.as_f64() * v.as_f64())
        .sum::<f64>()
        .sqrt()
}

/// The gradients at every boundary of a stack of blocks.
#[derive(Debug, Clone)]
pub struct BoundaryGradients<T: Float = f32> {
    /// `x_0, x_1, ..., x_L`: the input of each block and the output of the last.
    pub values: Vec<ArrayD<T>>,
    /// `dE/dx_l` for each boundary (the last is `G`).
    pub grads: Vec<ArrayD<T>>,
}

impl<T: Float> BoundaryGradients<T> {
    /// `||dE/dx_l||` for every boundary `l`.
    pub fn norms(&self) -> Vec<f64> {
        self.grads.iter().map(norm).collect()
    }

    /// `R = ||dE/dx_0|| / ||dE/dx_L||`.
    pub fn ratio(&self) -> f64 {
        let n = self.norms();
        n[0] / n[n.len() - 1]
    }
}

/// Runs `blocks` one after another on `x0` and backpropagates `E = <g, x_L>` (`g` is
/// `dE/dx_L`), returning every boundary value and gradient.
pub fn boundary_gradients<T: Float>(
    blocks: &[&dyn Module<T>],
    x0: &ArrayD<T>,
    g: &ArrayD<T>,
    mode: Mode,
) -> BoundaryGradients<T> {
    let tape = Tape::<T>::with_precision();
    let mut xs: Vec<Var<T>> = vec![tape.var(x0.clone())];
    for b in blocks {
        let next = b.forward(xs.last().expect("x_0 is there"), mode);
        xs.push(next);
    }
    let last = xs.last().expect("x_L is there");
    let grads = last.backward_with(g.clone());
    BoundaryGradients {
        values: xs.iter().map(|x| x.value().clone()).collect(),
        grads: xs
            .iter()
            .map(|x| {
                grads
                    .get(x)
                    .cloned()
                    .unwrap_or_else(|| ArrayD::zeros(x.value().raw_dim()))
            })
            .collect(),
    }
}

/// `R = ||dE/dx_0|| / ||dE/dx_L||` for `blocks` on a batch `x0 ~ N(0, 1)` of `batch` rows of
/// `width`, with `G ~ N(0, 1)`, both drawn from `seed` (after the weights, which the caller
/// made).
pub fn ratio<T: Float>(blocks: &[&dyn Module<T>], batch: usize, width: usize, seed: u64) -> f64 {
    let mut r = rng(seed ^ 0x5eed_f10e);
    let x0 = gaussian::<T>(&[batch, width], &mut r);
    let g = gaussian::<T>(&[batch, width], &mut r);
    boundary_gradients(blocks, &x0, &g, Mode::Train).ratio()
}

/// The mean cosine, over `pairs` pairs, between the input gradients at two nearby inputs
/// (`cos(x, x') = rho`, equal norms) with the *same* upstream gradient for both members
/// (prediction 5 of [`PREDICTIONS`]; Balduzzi et al. 2017). Both members share one batch, so
/// batch norm sees them together.
pub fn nearby_gradient_cosine<T: Float>(
    blocks: &[&dyn Module<T>],
    pairs: usize,
    width: usize,
    rho: f64,
    seed: u64,
) -> f64 {
    let mut r = rng(seed ^ 0xc051_11e5);
    let x = gaussian::<f64>(&[pairs, width], &mut r);
    let d = gaussian::<f64>(&[pairs, width], &mut r);
    let mut both = ArrayD::<T>::zeros(IxDyn(&[2 * pairs, width]));
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(p, q)| p * q).sum::<f64>();
    for i in 0..pairs {
        let xi: Vec<f64> = x.index_axis(ndarray::Axis(0), i).iter().copied().collect();
        let mut di: Vec<f64> = d.index_axis(ndarray::Axis(0), i).iter().copied().collect();
        // d orthogonal to x, with x's norm: then x' = rho x + sqrt(1 - rho^2) d has
        // cos(x, x') = rho and |x'| = |x|.
        let proj = dot(&di, &xi) / dot(&xi, &xi);
        di.iter_mut().zip(&xi).for_each(|(d, x)| *d -= proj * x);
        let scale = (dot(&xi, &xi) / dot(&di, &di)).sqrt();
        for j in 0..width {
            both[[i, j]] = T::cast(xi[j]);
            both[[pairs + i, j]] = T::cast(rho * xi[j] + (1.0 - rho * rho).sqrt() * scale * di[j]);
        }
    }
    let v = gaussian::<T>(&[pairs, width], &mut r);
    let g = ndarray::concatenate(ndarray::Axis(0), &[v.view(), v.view()]).expect("same widths");
    let flow = boundary_gradients(blocks, &both, &g, Mode::Train);
    let g0 = &flow.grads[0];
    let mut total = 0.0;
    for i in 0..pairs {
        let (a, b) = (
            g0.index_axis(ndarray::Axis(0), i),
            g0.index_axis(ndarray::Axis(0), pairs + i),
        );
        let dot: f64 = a
            .iter()
            .zip(b.iter())
            .map(|(p, q)| p.as_f64() * q.as_f64())
            .sum();
        let (na, nb) = (norm(&a.to_owned()), norm(&b.to_owned()));
        total += dot / (na * nb);
    }
    total / pairs as f64
}

mod eq8;
mod experiments;
mod growth;
mod lesion;
mod predictions;
mod probe;
mod setup;
pub use eq8::{eq8_split, lambda_blocks, lambda_sweep_mlp};
pub use experiments::{
    DEEP_SETUPS, DEPTH_SETUPS, DepthCurve, LAMBDAS, NORM_DEPTHS, Shattered, depth_curve,
    eq5_split_resnet56, gradient_norm_depth, lambda_sweep, path_length_shares,
    response_std_at_init, shattered,
};
pub use growth::{bn_relu_growth, growth_per_layer};
pub use lesion::{
    Deletion, LesionConfig, LesionResult, LesionRun, accuracy_without, body_elements,
    lesion_groups, lesion_study, run_lesion,
};
pub use predictions::{
    Measured, PREDICTIONS, Prediction, Quantity, measure_predictions, prediction,
    predictions_markdown,
};
pub use probe::{MlpProbe, probe_mlp};
pub use setup::{BATCH, FlowSetup, WIDTH};

use crate::models::{Block, ResNet};
use crate::nn::ResidualMlpBlock;

/// He et al. 2016 eq. 5, measured: for each block of a CIFAR ResNet, the norms of the
/// part of `dE/dx_l` that comes back through the shortcut and the part through the branch
/// `F`. (They add up to `dE/dx_l` as vectors, not as norms.) Each block's input is fed to
/// its branch and its shortcut as two separate tape nodes, so the tape itself keeps the
/// two contributions apart.
pub fn eq5_split(net: &ResNet<f32>, images: &ArrayD<f32>, g_seed: u64) -> Vec<(f64, f64)> {
    let tape = Tape::new();
    let mut h = net.stem(&tape.constant(images.clone()), Mode::Train);
    let mut taps = Vec::new();
    for block in net.stages.iter().flatten() {
        let Block::Basic(b) = block else { continue };
        let (xb, xs) = (h.add_scalar(0.0), h.add_scalar(0.0));
        let f = b.branch(&xb, Mode::Train);
        h = match b.shortcut.apply(&xs, Mode::Train) {
            Some(s) => (f + s.scale(b.shortcut_scale as f32)).relu(),
            None => f.relu(),
        };
        taps.push((xb, xs));
    }
    let g = gaussian::<f32>(h.shape(), &mut rng(g_seed));
    let grads = h.backward_with(g);
    taps.iter()
        .map(|(xb, xs)| {
            let n = |v: &Var<f32>| grads.get(v).map_or(0.0, norm);
            (n(xs), n(xb))
        })
        .collect()
}

/// He et al. 2015 Fig. 7: the standard deviation of each 3x3 layer's response, after its
/// batch norm (if the net has batch norm) and before the addition and ReLU, block by
/// block (`bn1` then `bn2`).
/// Meaningful on a trained network in eval mode; at initialisation, train-mode batch
/// norm makes every one of them exactly 1.
pub fn layer_response_std(net: &ResNet<f32>, images: &ArrayD<f32>, mode: Mode) -> Vec<f64> {
    let tape = Tape::new();
    tape.no_grad(|| {
        let mut h = net.stem(&tape.constant(images.clone()), mode);
        let mut out = Vec::new();
        let std = |v: &Var<f32>| {
            let n = v.len() as f64;
            let mean = v.value().iter().map(|&x| x as f64).sum::<f64>() / n;
            (v.value()
                .iter()
                .map(|&x| (x as f64 - mean).powi(2))
                .sum::<f64>()
                / n)
                .sqrt()
        };
        for block in net.stages.iter().flatten() {
            if let Block::Basic(b) = block {
                let r1 = b.bn1.forward(&b.conv1.forward(&h, mode), mode);
                let r2 = b.bn2.forward(&b.conv2.forward(&r1.relu(), mode), mode);
                out.push(std(&r1));
                out.push(std(&r2));
            }
            h = block.forward(&h, mode);
        }
        out
    })
}

/// Balduzzi et al. 2017, in one dimension: a scalar input `t` on a grid of `points` in
/// [-2, 2], embedded as `x_0 = relu(t u + c)` (width `width`), run through `blocks`, read
/// out as `f = x_L . v`; returns `df/dt` at every grid point (batch norm sees the whole
/// grid as its batch, as in the reference simulation).
pub fn gradient_over_grid(
    blocks: &[&dyn Module<f64>],
    width: usize,
    points: usize,
    seed: u64,
) -> Vec<f64> {
    let mut r = rng(seed ^ 0x0001_d1ff);
    let u = gaussian::<f64>(&[1, width], &mut r);
    let c = gaussian::<f64>(&[width], &mut r);
    let v = gaussian::<f64>(&[width, 1], &mut r) / (width as f64).sqrt();
    let t = ArrayD::from_shape_fn(IxDyn(&[points, 1]), |ix| {
        -2.0 + 4.0 * ix[0] as f64 / (points - 1).max(1) as f64
    });
    let tape = Tape::new_f64();
    let tv = tape.var(t);
    let mut h = (tv.matmul(&tape.constant(u)) + tape.constant(c)).relu();
    for b in blocks {
        h = b.forward(&h, Mode::Train);
    }
    let f = h.matmul(&tape.constant(v)).sum();
    f.backward()[&tv].iter().copied().collect()
}

/// The autocorrelation of `g` at lags `0..=max_lag` (mean removed; 1 at lag 0).
pub fn autocorrelation(g: &[f64], max_lag: usize) -> Vec<f64> {
    let n = g.len() as f64;
    let mean = g.iter().sum::<f64>() / n;
    let d: Vec<f64> = g.iter().map(|v| v - mean).collect();
    let var = d.iter().map(|v| v * v).sum::<f64>();
    (0..=max_lag.min(g.len().saturating_sub(1)))
        .map(|k| {
            if var == 0.0 {
                f64::NAN
            } else {
                d.iter().zip(&d[k..]).map(|(a, b)| a * b).sum::<f64>() / var
            }
        })
        .collect()
}

/// Veit et al. 2016, computed exactly for residual MLP blocks without batch norm,
/// linearised at one input: each branch is then the matrix `J_k = s W2 D_k W1` (`D_k` the
/// ReLU pattern at that input), the net's Jacobian is `prod_k (I + J_k)`, and expanding the
/// product splits the gradient `prod (I + J_k)^T g` into the sum over path lengths `j` of
/// the `j`-th elementary symmetric product of the `J_k^T` applied to `g`: the part that
/// crossed exactly `j` branches. Returns the norm of each part, `j = 0..=blocks`.
pub fn path_length_norms(blocks: &[ResidualMlpBlock<f64>], seed: u64) -> Vec<f64> {
    let width = blocks.first().map_or(0, |b| b.fc1.weight.shape()[0]);
    let mut r = rng(seed ^ 0x0000_7a75);
    let mut x: Vec<f64> = gaussian::<f64>(&[width], &mut r).iter().copied().collect();
    let matvec = |w: &ArrayD<f64>, v: &[f64], transpose: bool| -> Vec<f64> {
        let (rows, cols) = (w.shape()[0], w.shape()[1]);
        if transpose {
            (0..cols)
                .map(|j| (0..rows).map(|i| w[[i, j]] * v[i]).sum())
                .collect()
        } else {
            (0..rows)
                .map(|i| (0..cols).map(|j| w[[i, j]] * v[j]).sum())
                .collect()
        }
    };
    // Forward: record each block's ReLU pattern.
    let mut masks = Vec::new();
    for b in blocks {
        let (w1, w2) = (b.fc1.weight.value(), b.fc2.weight.value());
        let pre = matvec(&w1, &x, false);
        let mask: Vec<f64> = pre
            .iter()
            .map(|&p| if p > 0.0 { 1.0 } else { 0.0 })
            .collect();
        let hidden: Vec<f64> = pre.iter().zip(&mask).map(|(p, m)| p * m).collect();
        let f = matvec(&w2, &hidden, false);
        x.iter_mut()
            .zip(&f)
            .for_each(|(xi, fi)| *xi += b.branch_scale * fi);
        masks.push(mask);
    }
    // Backward, expanding the product: poly[j] is the part through exactly j branches.
    let g: Vec<f64> = gaussian::<f64>(&[width], &mut r).iter().copied().collect();
    let mut poly = vec![g];
    for (b, mask) in blocks.iter().zip(&masks).rev() {
        let (w1, w2) = (b.fc1.weight.value(), b.fc2.weight.value());
        let jt = |p: &[f64]| -> Vec<f64> {
            let a = matvec(&w2, p, true);
            let masked: Vec<f64> = a.iter().zip(mask).map(|(v, m)| v * m).collect();
            matvec(&w1, &masked, true)
                .into_iter()
                .map(|v| v * b.branch_scale)
                .collect()
        };
        let mut next: Vec<Vec<f64>> = poly.clone();
        next.push(vec![0.0; width]);
        for (j, p) in poly.iter().enumerate() {
            let through = jt(p);
            next[j + 1]
                .iter_mut()
                .zip(&through)
                .for_each(|(n, t)| *n += t);
        }
        poly = next;
    }
    poly.iter()
        .map(|p| p.iter().map(|v| v * v).sum::<f64>().sqrt())
        .collect()
}

/// The norm of every parameter's gradient, by name, in the model's order.
pub fn parameter_gradient_norms<T: Float>(
    model: &dyn Module<T>,
    grads: &crate::Grads<T>,
) -> Vec<(String, f64)> {
    model
        .named_parameters()
        .into_iter()
        .map(|(name, p)| (name, grads.get(&p).map_or(0.0, norm)))
        .collect()
}

/// Gradient flow through a CIFAR/ImageNet ResNet (or plain net) in one call: the stem runs
/// on `images` without recording, then every block; `E = <G, x_L>` at the last block's
/// output with `G ~ N(0, 1)` from `seed`. The numbers come back as data
/// ([`BoundaryGradients::norms`], [`BoundaryGradients::ratio`]); the `viz` module adds
/// `BoundaryGradients::figure`, the picture.
pub fn resnet_flow(net: &ResNet<f32>, images: &ArrayD<f32>, seed: u64) -> BoundaryGradients<f32> {
    let tape = Tape::new();
    let x0 = tape
        .no_grad(|| net.stem(&tape.constant(images.clone()), Mode::Train))
        .value()
        .clone();
    let blocks = net.blocks();
    let out_shape = tape.no_grad(|| {
        let mut h = tape.constant(x0.clone());
        for b in &blocks {
            h = b.forward(&h, Mode::Train);
        }
        h.shape().to_vec()
    });
    let g = gaussian::<f32>(&out_shape, &mut rng(seed));
    boundary_gradients(&blocks, &x0, &g, Mode::Train)
}

/// He et al. 2015 Fig. 7 on one trained net: [`layer_response_std`] in eval mode.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainedResponse {
    /// The net, e.g. `plain-56`.
    pub net: String,
    /// Its weights' seed.
    pub seed: u64,
    /// The std of each 3x3 layer's response (`bn1`, `bn2`, block by block).
    pub std: Vec<f64>,
}

/// The degradation experiment with Fig. 7's instrument: runs
/// [`run_degradation_with`](crate::train::run_degradation_with) and measures every trained
/// conv net, of every seed, on (at most) 256 training images, eval mode. MLPs get no
/// response (they have no 3x3 layers). Fails as the trainer fails (a diverged run, a
/// refused setting).
pub fn degradation_with_responses(
    cfg: &crate::train::DegradationConfig,
    train_set: &crate::data::Dataset,
    test: Option<&crate::data::Dataset>,
) -> crate::Result<(crate::train::DegradationResult, Vec<TrainedResponse>)> {
    use crate::train::TrainedNet;
    let probe = train_set.take(256).in_order(256).remove(0).images;
    let mut responses = Vec::new();
    let result = crate::train::run_degradation_with(cfg, train_set, test, |run, net| {
        if let TrainedNet::Conv(net) = net {
            responses.push(TrainedResponse {
                net: run.label(),
                seed: run.seed,
                std: layer_response_std(net, &probe, Mode::Eval),
            });
        }
    })?;
    Ok((result, responses))
}
