//! Chapter 05's exercises: the solutions, and each checker rejecting its placeholder and a plausible mistake.

use resgrad::exercises;
use resgrad::ndarray::{Array1, Array2};
use resgrad::nn::{BatchNorm2d, Linear};

fn mean_var(xs: &[f64], ddof: f64) -> (f64, f64) {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    (
        m,
        xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - ddof),
    )
}

#[test]
fn exercise_5_1_seed_gap() {
    let solution = |shallow: &[f64], deep: &[f64]| {
        let ((ms, vs), (md, vd)) = (mean_var(shallow, 1.0), mean_var(deep, 1.0));
        (
            md - ms,
            (vs / shallow.len() as f64 + vd / deep.len() as f64).sqrt(),
        )
    };
    let v = exercises::check_seed_gap(solution);
    assert!(v.passed, "{v}");
    // The placeholder.
    assert!(!exercises::check_seed_gap(|_, _| (0.0, 0.0)).passed);
    // Population variance (numpy's default np.std).
    let population = |shallow: &[f64], deep: &[f64]| {
        let ((ms, vs), (md, vd)) = (mean_var(shallow, 0.0), mean_var(deep, 0.0));
        (
            md - ms,
            (vs / shallow.len() as f64 + vd / deep.len() as f64).sqrt(),
        )
    };
    let v = exercises::check_seed_gap(population);
    assert!(!v.passed && v.message.contains("n - 1"), "{v}");
    // The spread of one seed, not of a mean.
    let no_sqrt_n = |shallow: &[f64], deep: &[f64]| {
        let ((ms, vs), (md, vd)) = (mean_var(shallow, 1.0), mean_var(deep, 1.0));
        (md - ms, (vs + vd).sqrt())
    };
    let v = exercises::check_seed_gap(no_sqrt_n);
    assert!(!v.passed && v.message.contains("s / sqrt(n)"), "{v}");
    // The gap the wrong way round.
    let v = exercises::check_seed_gap(|s, d| {
        let (g, se) = solution(s, d);
        (-g, se)
    });
    assert!(
        !v.passed && v.message.contains("positive when the deeper"),
        "{v}"
    );
}

#[test]
fn exercise_5_2_identity_layer() {
    let solution = |fc: &Linear<f64>, bn: &BatchNorm2d<f64>| {
        let n = fc.weight.shape()[0];
        fc.weight.set(Array2::<f64>::eye(n));
        let eps = bn.stats.eps;
        let gamma: Array1<f64> = bn
            .stats
            .var
            .value()
            .iter()
            .map(|v| (v + eps).sqrt())
            .collect();
        let beta: Array1<f64> = bn.stats.mean.value().iter().copied().collect();
        bn.weight.set(gamma);
        bn.bias.set(beta);
    };
    let v = exercises::check_identity_layer(solution);
    assert!(v.passed, "{v}");
    // The placeholder: nothing set.
    let v = exercises::check_identity_layer(|_, _| {});
    assert!(!v.passed && v.message.contains("identity matrix"), "{v}");
    // Identity weight, gamma 1 and beta 0: right for fresh statistics only.
    let fresh = |fc: &Linear<f64>, bn: &BatchNorm2d<f64>| {
        let n = fc.weight.shape()[0];
        fc.weight.set(Array2::<f64>::eye(n));
        bn.weight.set(Array1::<f64>::ones(n));
        bn.bias.set(Array1::<f64>::zeros(n));
    };
    let v = exercises::check_identity_layer(fresh);
    assert!(!v.passed && v.message.contains("running statistics"), "{v}");
    // Forgetting eps leaves a small error, reported with its size.
    let no_eps = |fc: &Linear<f64>, bn: &BatchNorm2d<f64>| {
        let n = fc.weight.shape()[0];
        fc.weight.set(Array2::<f64>::eye(n));
        let gamma: Array1<f64> = bn.stats.var.value().iter().map(|v| v.sqrt()).collect();
        let beta: Array1<f64> = bn.stats.mean.value().iter().copied().collect();
        bn.weight.set(gamma);
        bn.bias.set(beta);
    };
    let v = exercises::check_identity_layer(no_eps);
    assert!(!v.passed && v.message.contains("eps"), "{v}");
}
