//! One MLP at initialisation, every boundary at once: the gradient norm, the spread of the
//! forward signal and eq. 5's split, from a single forward and backward pass. The
//! playground draws these as its controls move.

use super::eq8::split_of;
use super::{boundary_gradients, gaussian};
use crate::models::{MlpSpec, NetKind};
use crate::nn::{MlpNorm, Mode, rng};
use crate::{Error, Result};

/// What one pass through an MLP's body shows at each boundary `x_0, ..., x_L` between its
/// elements (layers of a plain net, blocks of two layers of a residual one).
#[derive(Debug, Clone, PartialEq)]
pub struct MlpProbe {
    /// The seed of the weights, the input and the upstream gradient.
    pub seed: u64,
    /// Weight layers per element: 1 for a plain net, 2 for a residual one.
    pub layers_per_block: usize,
    /// `||dE/dx_l|| / ||dE/dx_L||` for `l = 0..=L`, input side first.
    pub gradient: Vec<f64>,
    /// The standard deviation of `x_l` over the batch and the units, `l = 0..=L`.
    pub activation_std: Vec<f64>,
    /// Eq. 5 (eq. 8 with the shortcut scale lambda): for `l = 0..=L`, the norms of the
    /// direct term `lambda^(L-l) dE/dx_L` and of the rest, the part that crossed at least one
    /// branch, both divided by `||dE/dx_L||`. `None` for a plain net and for
    /// post-activation blocks with batch norm, whose ReLU after the sum breaks eq. 5's form.
    pub split: Option<Vec<(f64, f64)>>,
}

/// Probes the body of `spec` (no input layer, no classifier) with the weights of
/// `spec.seed` on a batch of `batch` rows `x_0 ~ N(0, 1)`, with the loss `E = <G, x_L>`,
/// `G ~ N(0, 1)`, both drawn from the same seed as [`depth_curve`](super::depth_curve)
/// draws them: for a spec that builds a [`FlowSetup`](super::FlowSetup)'s net, the
/// gradient is that set-up's depth curve.
///
/// Fails, naming the rule, for a spec that does not build (see [`MlpSpec::check`]), one
/// with an input layer or a classifier, or a batch of 0 rows (batch norm needs 2).
pub fn probe_mlp(spec: &MlpSpec, batch: usize) -> Result<MlpProbe> {
    if spec.inputs.is_some() || spec.classes.is_some() {
        return Err(Error::argument(
            "probe_mlp",
            "the probe measures the body of an MLP: build the spec without inputs and classes",
            std::panic::Location::caller(),
        ));
    }
    let least = if spec.batch_norm { 2 } else { 1 };
    if batch < least {
        return Err(Error::argument(
            "probe_mlp",
            format!(
                "a batch of {batch} rows; the probe needs at least {least} (batch norm divides by \
                 the batch's spread, and one row has none)"
            ),
            std::panic::Location::caller(),
        ));
    }
    let net = spec.try_build::<f64>()?;
    let mut r = rng(spec.seed ^ 0x5eed_f10e);
    let x0 = gaussian::<f64>(&[batch, spec.width], &mut r);
    let g = gaussian::<f64>(&[batch, spec.width], &mut r);
    let flow = boundary_gradients(&net.blocks(), &x0, &g, Mode::Train);
    let norms = flow.norms();
    let top = norms[norms.len() - 1];
    let residual = spec.kind == NetKind::Residual;
    let split = (residual && spec.block_norm() != MlpNorm::Post).then(|| {
        let lambdas = vec![spec.shortcut_scale; net.layers.len()];
        split_of(&lambdas, &flow.grads, &g)
            .into_iter()
            .map(|(direct, rest)| (direct / top, rest / top))
            .collect()
    });
    Ok(MlpProbe {
        seed: spec.seed,
        layers_per_block: if residual { 2 } else { 1 },
        gradient: norms.iter().map(|n| n / top).collect(),
        activation_std: flow.values.iter().map(std_of).collect(),
        split,
    })
}

/// The standard deviation of every entry of `a`, about their mean.
fn std_of(a: &ndarray::ArrayD<f64>) -> f64 {
    let n = a.len().max(1) as f64;
    let mean = a.sum() / n;
    (a.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::{FlowSetup, depth_curve, eq8_split, lambda_blocks};

    #[test]
    fn the_gradient_is_the_depth_curve_of_the_same_net() {
        for setup in [
            FlowSetup::HePlain,
            FlowSetup::GlorotPlain,
            FlowSetup::BnPlain,
            FlowSetup::ZeroInitResidual,
            FlowSetup::PreActBnResidual,
        ] {
            let spec = setup.spec(20, 3);
            let probe = probe_mlp(&spec, 64).unwrap();
            let curve = depth_curve(setup, 20, 3);
            let ys: Vec<f64> = curve.points.iter().map(|p| p.1).collect();
            assert_eq!(probe.gradient, ys, "{setup}");
        }
    }

    #[test]
    fn the_split_is_eq8_split_and_absent_where_eq5_does_not_hold() {
        let lambda = 0.9;
        let blocks = lambda_blocks(12, lambda, 5);
        let spec = MlpSpec::residual(64, 12)
            .branch_scale(1.0 / 6f64.sqrt())
            .shortcut_scale(lambda)
            .seed(5);
        let probe = probe_mlp(&spec, 64).unwrap();
        let mut r = rng(5 ^ 0x5eed_f10e);
        let x0 = gaussian::<f64>(&[64, 64], &mut r);
        let g = gaussian::<f64>(&[64, 64], &mut r);
        let top = crate::flow::norm(&g);
        let expected: Vec<(f64, f64)> = eq8_split(&blocks, &x0, &g)
            .into_iter()
            .map(|(d, b)| (d / top, b / top))
            .collect();
        assert_eq!(probe.split.as_deref(), Some(&expected[..]));
        // The direct term at the input is lambda^blocks.
        let (direct, _) = expected[0];
        assert!((direct - lambda.powi(6)).abs() < 1e-12, "{direct}");
        assert_eq!(probe_mlp(&MlpSpec::plain(64, 6), 64).unwrap().split, None);
        let post = MlpSpec::residual(64, 6).norm(MlpNorm::Post);
        assert_eq!(probe_mlp(&post, 64).unwrap().split, None);
    }

    #[test]
    fn batch_norm_holds_every_plain_layer_at_unit_spread() {
        let probe = probe_mlp(&FlowSetup::BnPlain.spec(10, 0), 64).unwrap();
        for s in &probe.activation_std[1..] {
            // After BN (mean 0, std 1) and a ReLU: sqrt(1/2 - 1/(2 pi)) = 0.584.
            assert!((s - 0.584).abs() < 0.05, "{s}");
        }
    }

    #[test]
    fn bad_probes_say_what_to_change() {
        let e = probe_mlp(&MlpSpec::plain(8, 4).classes(Some(2)), 8).unwrap_err();
        assert!(e.to_string().contains("without inputs and classes"), "{e}");
        let e = probe_mlp(&MlpSpec::plain(8, 4).batch_norm(true), 1).unwrap_err();
        assert!(e.to_string().contains("at least 2"), "{e}");
        let e = probe_mlp(&MlpSpec::plain(8, 4).zero_init_residual(true), 8).unwrap_err();
        assert!(e.to_string().contains("plain net has no branch"), "{e}");
    }
}
