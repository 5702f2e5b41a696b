//! Chapter 08's exercises: the solutions, and each checker rejecting its placeholder and a plausible mistake.

use resgrad::data::Dataset;
use resgrad::exercises::{self, placeholders08};
use resgrad::nn::Sequential;
use resgrad::train::evaluate;

/// The lag-k autocorrelation, mean removed, over the lag-0 sum.
fn autocorrelation(g: &[f64], k: usize) -> f64 {
    let mean = g.iter().sum::<f64>() / g.len() as f64;
    let d: Vec<f64> = g.iter().map(|v| v - mean).collect();
    d.iter().zip(&d[k..]).map(|(a, b)| a * b).sum::<f64>() / d.iter().map(|v| v * v).sum::<f64>()
}

#[test]
fn exercise_8_1_correlation_length() {
    let solution = |g: &[f64]| {
        (1..g.len())
            .find(|&k| autocorrelation(g, k) < 0.5)
            .unwrap_or(g.len())
    };
    let v = exercises::check_correlation_length(solution);
    assert!(v.passed, "{v}");
    let v = exercises::check_correlation_length(|_g: &[f64]| 0);
    assert!(!v.passed && v.message.contains("lag 1"), "{v}");
    // The last lag still above 1/2 instead of the first below it.
    let early = |g: &[f64]| {
        (1..g.len())
            .find(|&k| autocorrelation(g, k) < 0.5)
            .map_or(g.len(), |k| k - 1)
    };
    let v = exercises::check_correlation_length(early);
    assert!(!v.passed && v.message.contains("one lag early"), "{v}");
    // The mean left in: a smooth curve's autocorrelation stays high for longer.
    let no_mean = |g: &[f64]| {
        let s0: f64 = g.iter().map(|v| v * v).sum();
        (1..g.len())
            .find(|&k| g.iter().zip(&g[k..]).map(|(a, b)| a * b).sum::<f64>() / s0 < 0.5)
            .unwrap_or(g.len())
    };
    let v = exercises::check_correlation_length(no_mean);
    assert!(!v.passed && v.message.contains("mean"), "{v}");
}

#[test]
fn exercise_8_2_counting_paths() {
    let solution =
        |n: usize, k: usize| (0..k).fold(1.0, |c, i| c * (n - i) as f64 / (i + 1) as f64);
    let v = exercises::check_path_count(solution);
    assert!(v.passed, "{v}");
    let v = exercises::check_path_count(|_n: usize, _k: usize| 0.0);
    assert!(!v.passed && v.message.contains("choose k of n"), "{v}");
    // Ordered choices: n^k counts each path k! times (and repeats branches).
    let v = exercises::check_path_count(|n: usize, k: usize| (n as f64).powi(k as i32));
    assert!(!v.passed && v.message.contains("choose k of n"), "{v}");
    // Factorials in u64 overflow at 21!: a panic in a debug build, nonsense in release.
    let factorial = |n: usize| (1..=n as u64).product::<u64>();
    let v = exercises::check_path_count(|n: usize, k: usize| {
        (factorial(n) / (factorial(k) * factorial(n - k))) as f64
    });
    assert!(!v.passed, "{v}");
}

#[test]
fn exercise_8_3_a_lesion_of_your_own() {
    let solution = |net: &mut Sequential<f32>, names: &[&str], test: &Dataset| -> f64 {
        let mut positions: Vec<usize> = names
            .iter()
            .map(|name| {
                net.layers
                    .iter()
                    .position(|(n, _)| n == name)
                    .expect("a body element")
            })
            .collect();
        positions.sort();
        let mut removed = Vec::new();
        for &i in positions.iter().rev() {
            removed.push((i, net.layers.remove(i)));
        }
        let accuracy = 1.0 - evaluate(&*net, test, 0);
        for (i, m) in removed.into_iter().rev() {
            net.layers.insert(i, m);
        }
        accuracy
    };
    let v = exercises::check_lesion_without(solution);
    assert!(v.passed, "{v}");
    let v = exercises::check_lesion_without(placeholders08::lesion_without);
    assert!(
        !v.passed && v.message.contains("delete exactly those"),
        "{v}"
    );
    // Removes in the order given, by position found once: the later ones shift.
    let shifted = |net: &mut Sequential<f32>, names: &[&str], test: &Dataset| -> f64 {
        let positions: Vec<usize> = names
            .iter()
            .map(|name| {
                net.layers
                    .iter()
                    .position(|(n, _)| n == name)
                    .expect("a body element")
            })
            .collect();
        let mut removed = Vec::new();
        for &i in &positions {
            let i = i.min(net.layers.len() - 1);
            removed.push((i, net.layers.remove(i)));
        }
        let accuracy = 1.0 - evaluate(&*net, test, 0);
        for (i, m) in removed.into_iter().rev() {
            net.layers.insert(i, m);
        }
        accuracy
    };
    let v = exercises::check_lesion_without(shifted);
    assert!(!v.passed, "{v}");
    // Forgets to put them back.
    let forgets = |net: &mut Sequential<f32>, names: &[&str], test: &Dataset| -> f64 {
        for name in names {
            let i = net
                .layers
                .iter()
                .position(|(n, _)| n == name)
                .expect("a body element");
            net.layers.remove(i);
        }
        1.0 - evaluate(&*net, test, 0)
    };
    let v = exercises::check_lesion_without(forgets);
    assert!(!v.passed && v.message.contains("came back as"), "{v}");
}
