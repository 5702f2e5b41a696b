//! Chapter 08's exercises: the solutions, and each checker rejecting its placeholder and a plausible mistake.

use resgrad::exercises::{self, placeholders};

#[test]
fn exercise_8_1_autocorrelation() {
    let solution = |g: &[f64], k: usize| {
        let mean = g.iter().sum::<f64>() / g.len() as f64;
        let d: Vec<f64> = g.iter().map(|v| v - mean).collect();
        d.iter().zip(&d[k..]).map(|(a, b)| a * b).sum::<f64>()
            / d.iter().map(|v| v * v).sum::<f64>()
    };
    assert!(exercises::check_autocorrelation(solution).passed);
    let v = exercises::check_autocorrelation(placeholders::autocorrelation);
    assert!(!v.passed && v.message.contains("mean"), "{v}");
}
