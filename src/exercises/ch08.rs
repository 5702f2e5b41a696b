//! Chapter 08: Shattered gradients and ensembles of paths.

use super::*;

// ---- 8.1 autocorrelation ----

/// Exercise 8.1: the lag-`k` autocorrelation of a sequence: remove the mean, then
/// `sum_i d_i d_{i+k} / sum_i d_i^2`. Compared with [`crate::flow::autocorrelation`].
pub fn check_autocorrelation(f: impl Fn(&[f64], usize) -> f64) -> Verdict {
    const E: &str = "8.1 autocorrelation";
    let smooth: Vec<f64> = (0..128).map(|i| (i as f64 * 0.1).sin() + 0.5).collect();
    let noise: Vec<f64> = gaussian::<f64>(&[128], &mut rng(13))
        .iter()
        .copied()
        .collect();
    for (what, g) in [("a smooth curve", &smooth), ("white noise", &noise)] {
        let want = crate::flow::autocorrelation(g, 3);
        for (k, &w) in want.iter().enumerate() {
            match attempt(|| f(g, k)) {
                Err(e) => return Verdict::fail(E, format!("your function panicked: {e}")),
                Ok(v) if (v - w).abs() > 1e-9 => {
                    return Verdict::fail(
                        E,
                        format!(
                            "{what} at lag {k}: you have {v:.4}, it is {w:.4} (did you remove the mean?)"
                        ),
                    );
                }
                Ok(_) => {}
            }
        }
    }
    Verdict::pass(
        E,
        "right at lags 0 to 3, for a smooth curve (near 1) and for white noise (near 0).",
    )
}
