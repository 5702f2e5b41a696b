//! Chapter 05: The degradation problem.

use super::*;
use crate::nn::{BatchNorm2d, Linear, Relu};

// ---- 5.1 a gap between two nets, and its noise ----

/// Mean and sample variance (divided by `n - 1`).
fn mean_var(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var)
}

/// Exercise 5.1: your function gets the final training errors of a shallow net and of a
/// deep net, one per seed (at least two each), and returns `(gap, standard_error)`: the gap
/// `mean(deep) - mean(shallow)` (positive when the deeper net is worse) and its standard
/// error `sqrt(s_shallow^2 / n_shallow + s_deep^2 / n_deep)`, with `s^2` the sample
/// variance (divided by `n - 1`).
pub fn check_seed_gap(f: impl Fn(&[f64], &[f64]) -> (f64, f64)) -> Verdict {
    const E: &str = "5.1 a gap and its noise";
    let cases: [(&[f64], &[f64]); 2] = [
        (&[0.089, 0.081, 0.094], &[0.164, 0.121, 0.152, 0.139]),
        (&[0.25, 0.31], &[0.12, 0.19, 0.16]),
    ];
    for (shallow, deep) in cases {
        let (got_gap, got_se) = match attempt(|| f(shallow, deep)) {
            Ok(v) => v,
            Err(e) => return Verdict::fail(E, format!("your function panicked: {e}")),
        };
        let ((ms, vs), (md, vd)) = (mean_var(shallow), mean_var(deep));
        let (ns, nd) = (shallow.len() as f64, deep.len() as f64);
        let gap = md - ms;
        let se = (vs / ns + vd / nd).sqrt();
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * (1.0 + b.abs());
        if !close(got_gap, gap) {
            let why = if close(got_gap, -gap) {
                "the gap is mean(deep) - mean(shallow), positive when the deeper net is worse"
                    .into()
            } else {
                format!(
                    "the gap is the difference of the two means over seeds, {gap:.4}; your gap is {got_gap:.4}"
                )
            };
            return Verdict::fail(E, format!("shallow {shallow:?}, deep {deep:?}: {why}"));
        }
        if !close(got_se, se) {
            let population = (vs * (ns - 1.0) / ns / ns + vd * (nd - 1.0) / nd / nd).sqrt();
            let why = if close(got_se, population) {
                "divide the squared deviations by n - 1 (the sample variance): the mean itself \
                 was fitted to the same seeds, which makes dividing by n too small"
            } else if close(got_se, (vs + vd).sqrt()) {
                "the noise in a mean of n seeds is s / sqrt(n): divide each variance by its own \
                 number of seeds"
            } else if close(got_se, (vs / ns).sqrt() + (vd / nd).sqrt()) {
                "add the variances s^2 / n, not the standard errors: independent noises add in \
                 quadrature"
            } else {
                "the standard error of the gap is sqrt(s_shallow^2 / n_shallow + s_deep^2 / n_deep)"
            };
            return Verdict::fail(
                E,
                format!(
                    "shallow {shallow:?}, deep {deep:?}: your standard error is {got_se:.5}, it should be {se:.5}; {why}"
                ),
            );
        }
    }
    Verdict::pass(
        E,
        "the gap and its standard error, on 3 + 4 and 2 + 3 seeds: a gap of two standard errors or more is unlikely to be noise.",
    )
}

// ---- 5.2 a plain layer that is the identity ----

/// Exercise 5.2: the construction argument of He et al. 2015 §1 needs layers that compute
/// the identity. Your function gets the two parameterised parts of a plain layer,
/// `relu(BN(W x))`, whose batch norm holds running statistics from training, and sets
/// them so that the layer, in eval mode, returns every non-negative input unchanged (the
/// input of a hidden layer comes out of a ReLU, so it is never negative).
pub fn check_identity_layer(f: impl Fn(&Linear<f64>, &BatchNorm2d<f64>)) -> Verdict {
    const E: &str = "5.2 an identity layer";
    let n = 6;
    let fc = Linear::<f64>::new(n, n, false, Init::HeNormal, &mut rng(21));
    let bn = BatchNorm2d::<f64>::new(n);
    // As after training: statistics, scale and shift far from their starting values.
    bn.stats.mean.set(gaussian::<f64>(&[n], &mut rng(22)));
    bn.stats
        .var
        .set(gaussian::<f64>(&[n], &mut rng(23)).mapv(|v| 0.5 + v.abs()));
    bn.weight
        .set(gaussian::<f64>(&[n], &mut rng(24)).mapv(|v| 1.0 + 0.3 * v));
    bn.bias
        .set(gaussian::<f64>(&[n], &mut rng(25)).mapv(|v| 0.3 * v));
    if let Err(e) = attempt(|| f(&fc, &bn)) {
        return Verdict::fail(E, format!("your function panicked: {e}"));
    }
    let x = gaussian::<f64>(&[8, n], &mut rng(26)).mapv(f64::abs);
    let run = || {
        let tape = Tape::new_f64();
        let h = fc.try_forward(&tape.constant(x.clone()), Mode::Eval)?;
        let h = bn.try_forward(&h, Mode::Eval)?;
        Ok::<_, crate::Error>(Relu.forward(&h, Mode::Eval).value().clone())
    };
    let y = match attempt(run) {
        Ok(Ok(y)) => y,
        Ok(Err(e)) => return Verdict::fail(E, format!("the layer no longer runs: {e}")),
        Err(e) => return Verdict::fail(E, format!("the layer panicked: {e}")),
    };
    let d = max_diff(&y, &x);
    if d < 1e-9 {
        return Verdict::pass(
            E,
            "relu(BN(W x)) = x for every non-negative x: a plain layer can be the identity, so a deeper plain net can copy a shallower one.",
        );
    }
    let eye = ArrayD::from_shape_fn(IxDyn(&[n, n]), |ix| f64::from(u8::from(ix[0] == ix[1])));
    let why = if fc.weight.shape() != [n, n] || max_diff(&fc.weight.value(), &eye) > 1e-12 {
        "the linear layer must pass x through first: set its weight to the identity matrix \
         (ndarray's Array2::eye)"
            .to_string()
    } else if bn.weight.value().iter().all(|&g| (g - 1.0).abs() < 1e-12)
        && bn.bias.value().iter().all(|&b| b.abs() < 1e-12)
    {
        "gamma = 1 and beta = 0 are the identity only for fresh statistics: in eval mode batch \
         norm computes gamma (x - running_mean) / sqrt(running_var + eps) + beta, so choose \
         gamma and beta that undo the running statistics"
            .to_string()
    } else {
        format!(
            "the layer moves x by up to {d:.3e}: in eval mode batch norm computes \
             gamma (x - running_mean) / sqrt(running_var + eps) + beta (eps is bn.stats.eps); \
             solve for the gamma and beta that give back x"
        )
    };
    Verdict::fail(E, why)
}
