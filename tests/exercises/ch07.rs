//! Chapter 07's exercises: the solutions, and each checker rejecting its placeholder and a plausible mistake.

use resgrad::exercises::{self, placeholders};
use resgrad::ndarray::ArrayD;
use resgrad::nn::{Mode, Module};

#[test]
fn exercise_7_1_gradient_norm_probe() {
    let solution = |blocks: &[&dyn Module<f64>], x0: &ArrayD<f64>, g: &ArrayD<f64>| {
        let tape = resgrad::Tape::new_f64();
        let mut xs = vec![tape.var(x0.clone())];
        for b in blocks {
            let next = b.forward(xs.last().unwrap(), Mode::Train);
            xs.push(next);
        }
        let grads = xs.last().unwrap().backward_with(g.clone());
        xs.iter()
            .map(|x| grads[x].iter().map(|v| v * v).sum::<f64>().sqrt())
            .collect()
    };
    assert!(exercises::check_gradient_probe(solution).passed);
    // Forgetting the last boundary (the output itself):
    let short = |b: &[&dyn Module<f64>], x: &ArrayD<f64>, g: &ArrayD<f64>| {
        let mut v: Vec<f64> = solution(b, x, g);
        v.pop();
        v
    };
    assert!(!exercises::check_gradient_probe(short).passed);
    assert!(!exercises::check_gradient_probe(placeholders::gradient_probe).passed);
}

/// Least squares of `ln n` against `l`; returns `exp(-slope)`.
fn fit(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1.ln()).sum::<f64>() / n;
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1.ln() - my)).sum();
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    (-sxy / sxx).exp()
}

#[test]
fn exercise_7_2_growth_per_layer() {
    let v = exercises::check_growth_fit(fit);
    assert!(v.passed, "{v}");
    // The placeholder.
    assert!(!exercises::check_growth_fit(|_| 1.0).passed);
    // The inverse: growth towards the output.
    let v = exercises::check_growth_fit(|p| 1.0 / fit(p));
    assert!(!v.passed && v.message.contains("inverse"), "{v}");
    // The two ends only.
    let ends = |p: &[(f64, f64)]| {
        let (a, b) = (p[0], p[p.len() - 1]);
        (a.1 / b.1).powf(1.0 / (b.0 - a.0))
    };
    let v = exercises::check_growth_fit(ends);
    assert!(!v.passed && v.message.contains("two end points"), "{v}");
}

#[test]
fn exercise_7_3_eq8_direct_term() {
    let solution = |lambdas: &[f64]| -> Vec<f64> {
        (0..=lambdas.len())
            .map(|l| lambdas[l..].iter().product())
            .collect()
    };
    let v = exercises::check_eq8_product(solution);
    assert!(v.passed, "{v}");
    // The placeholder.
    let v = exercises::check_eq8_product(|l: &[f64]| vec![1.0; l.len() + 1]);
    assert!(!v.passed && v.message.contains("all ones"), "{v}");
    // The product of the lambdas before x_l, not after.
    let before = |lambdas: &[f64]| -> Vec<f64> {
        (0..=lambdas.len())
            .map(|l| lambdas[..l].iter().product())
            .collect()
    };
    let v = exercises::check_eq8_product(before);
    assert!(!v.passed && v.message.contains("before x_l"), "{v}");
    // One factor per block instead of per boundary.
    let v =
        exercises::check_eq8_product(|lambdas: &[f64]| solution(lambdas)[..lambdas.len()].to_vec());
    assert!(!v.passed && v.message.contains("boundaries"), "{v}");
}
