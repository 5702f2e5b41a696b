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
