//! Chapter 07: Gradient flow at depth.

use super::*;

// ---- 7.1 a gradient-norm probe ----

/// Exercise 7.1: `||dE/dx_l||` at the input of every block and at the output, for
/// `E = <g, x_L>` (so `dE/dx_L = g`). Your function gets the blocks, `x_0` and `g`.
pub fn check_gradient_probe(
    f: impl Fn(&[&dyn Module<f64>], &ArrayD<f64>, &ArrayD<f64>) -> Vec<f64>,
) -> Verdict {
    const E: &str = "7.1 gradient-norm probe";
    let blocks: Vec<ResidualMlpBlock<f64>> = (0..6)
        .map(|_| ResidualMlpBlock::new(8, MlpNorm::None, Init::HeNormal, &mut rng(6)))
        .collect();
    let refs: Vec<&dyn Module<f64>> = blocks.iter().map(|b| b as &dyn Module<f64>).collect();
    let x0 = gaussian::<f64>(&[4, 8], &mut rng(7));
    let g = gaussian::<f64>(&[4, 8], &mut rng(8));
    let want = boundary_gradients(&refs, &x0, &g, Mode::Train).norms();
    match attempt(|| f(&refs, &x0, &g)) {
        Err(e) => Verdict::fail(E, format!("your probe panicked: {e}")),
        Ok(got) if got.len() != want.len() => Verdict::fail(
            E,
            format!(
                "you returned {} norms; there are {} boundaries (6 block inputs and the output)",
                got.len(),
                want.len()
            ),
        ),
        Ok(got) => match got
            .iter()
            .zip(&want)
            .position(|(a, b)| (a - b).abs() > 1e-9 * b.max(1.0))
        {
            Some(l) => Verdict::fail(
                E,
                format!("boundary {l}: you have {:.6}, it is {:.6}", got[l], want[l]),
            ),
            None => Verdict::pass(
                E,
                format!(
                    "all {} norms right; R = {:.3}.",
                    want.len(),
                    want[0] / want[want.len() - 1]
                ),
            ),
        },
    }
}

// ---- 7.2 the per-layer growth factor, fitted ----

/// Exercise 7.2: the factor by which a gradient grows per layer towards the input, fitted
/// by least squares to every point `(l, ||dE/dx_l||)` of a curve (input side at `l = 0`):
/// fit `ln n_l = a + b l` and return `exp(-b)`. Compared with
/// [`flow::growth_per_layer`](crate::flow::growth_per_layer) on a batch-normalised plain net
/// of depth 50, a Glorot plain net of depth 30, and a made-up curve whose two ends are off
/// the line.
pub fn check_growth_fit(f: impl Fn(&[(f64, f64)]) -> f64) -> Verdict {
    use crate::flow::{FlowSetup, depth_curve, growth_per_layer};
    const E: &str = "7.2 growth per layer";
    // A gradient growing 1.3x per layer towards the input, with both ends off the line
    // (so that the two ends alone give a different answer from the fit).
    let made_up: Vec<(f64, f64)> = (0..=20)
        .map(|l| {
            let off = match l {
                0 => 0.5,
                20 => 1.6,
                _ => 1.0 + 0.02 * ((l * 7 % 5) as f64 - 2.0),
            };
            (l as f64, 1.3f64.powi(20 - l) * off)
        })
        .collect();
    let cases: [(&str, Vec<(f64, f64)>); 3] = [
        (
            "the batch-normalised plain net (depth 50)",
            depth_curve(FlowSetup::BnPlain, 50, 0).points,
        ),
        (
            "the Glorot plain net (depth 30)",
            depth_curve(FlowSetup::GlorotPlain, 30, 1).points,
        ),
        ("a made-up curve with noisy ends", made_up),
    ];
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs().max(1e-300);
    let mut report = Vec::new();
    for (name, points) in &cases {
        let want = growth_per_layer(points);
        let got = match attempt(|| f(points)) {
            Ok(v) => v,
            Err(e) => return Verdict::fail(E, format!("your fit panicked on {name}: {e}")),
        };
        if close(got, want) {
            report.push(format!("{want:.3}"));
            continue;
        }
        let (first, last) = (points[0], points[points.len() - 1]);
        let ends = (first.1 / last.1).powf(1.0 / (last.0 - first.0));
        let why = if close(got, 1.0 / want) {
            "that is the inverse: the factor is per layer towards the input (layer 0), so a \
             gradient that is larger at layer 0 grows, and the factor is above 1"
                .to_string()
        } else if close(got, ends) {
            "that is R^(1/L) from the two end points only; fit a line to ln(norm) at every \
             layer by least squares, so that noisy ends do not decide the answer"
                .to_string()
        } else {
            format!(
                "the least-squares slope b of ln(norm) against the layer gives exp(-b) = {want:.4}"
            )
        };
        return Verdict::fail(E, format!("on {name} you have {got:.4}: {why}"));
    }
    Verdict::pass(
        E,
        format!(
            "your fit gives {} per layer (batch norm, Glorot, made up), as the library's growth_per_layer.",
            report.join(", ")
        ),
    )
}

// ---- 7.3 eq. 8's direct term ----

/// Exercise 7.3: He et al. 2016 eq. 8. Your function gets the shortcut scales
/// `lambda_0 .. lambda_{L-1}` of `L` blocks `x_{i+1} = lambda_i x_i + F(x_i)` and returns,
/// for every boundary `l = 0..=L`, the factor that multiplies `dE/dx_L` in the direct
/// term of `dE/dx_l`. The checker measures it: with every branch zero (`F = 0`) the whole
/// gradient is the direct term, so `||dE/dx_l|| / ||dE/dx_L||` is that factor.
pub fn check_eq8_product(f: impl Fn(&[f64]) -> Vec<f64>) -> Verdict {
    const E: &str = "7.3 eq. 8's direct term";
    let lambdas = [0.9, 1.2, 0.7, 1.1, 1.0, 0.8, 1.3, 0.95];
    let mut blocks: Vec<ResidualMlpBlock<f64>> = (0..lambdas.len())
        .map(|_| ResidualMlpBlock::new(8, MlpNorm::None, Init::HeNormal, &mut rng(71)))
        .collect();
    for (b, &l) in blocks.iter_mut().zip(&lambdas) {
        b.shortcut_scale = l;
        b.fc2.weight.update(|w| w.fill(0.0));
    }
    let refs: Vec<&dyn Module<f64>> = blocks.iter().map(|b| b as &dyn Module<f64>).collect();
    let x0 = gaussian::<f64>(&[4, 8], &mut rng(72));
    let g = gaussian::<f64>(&[4, 8], &mut rng(73));
    let norms = boundary_gradients(&refs, &x0, &g, Mode::Train).norms();
    let last = norms[norms.len() - 1];
    let want: Vec<f64> = norms.iter().map(|n| n / last).collect();
    let got = match attempt(|| f(&lambdas)) {
        Ok(v) => v,
        Err(e) => return Verdict::fail(E, format!("your function panicked: {e}")),
    };
    if got.len() != want.len() {
        return Verdict::fail(
            E,
            format!(
                "you returned {} factors; {} blocks have {} boundaries, x_0 to x_L",
                got.len(),
                lambdas.len(),
                want.len()
            ),
        );
    }
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs().max(1.0);
    match got.iter().zip(&want).position(|(a, b)| !close(*a, *b)) {
        None => Verdict::pass(
            E,
            format!(
                "all {} factors right: at x_0 the direct term is {:.4} times dE/dx_L, the product of all {} lambdas.",
                want.len(),
                want[0],
                lambdas.len()
            ),
        ),
        Some(l) => {
            let before: Vec<f64> = (0..=lambdas.len())
                .map(|k| lambdas[..k].iter().product())
                .collect();
            let why = if got.iter().zip(&before).all(|(a, b)| close(*a, *b)) {
                "that is the product of the lambdas before x_l; the gradient at x_l crosses the \
                 shortcuts between x_l and the output, blocks l to L-1"
                    .to_string()
            } else if got.iter().all(|&a| a == 1.0) {
                "all ones is the answer for identity shortcuts (every lambda 1); here each \
                 shortcut multiplies the gradient by its lambda"
                    .to_string()
            } else {
                format!(
                    "it is the product of lambda_l .. lambda_{{L-1}}, {:.4}",
                    want[l]
                )
            };
            Verdict::fail(E, format!("at x_{l} you have {:.4}: {why}", got[l]))
        }
    }
}
