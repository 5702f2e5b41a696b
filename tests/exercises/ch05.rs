//! Chapter 05's exercises: the solutions, and each checker rejecting its placeholder and a plausible mistake.

use resgrad::exercises::{self, placeholders};
use resgrad::ndarray::ArrayD;

#[test]
fn exercise_5_1_sgd_step() {
    let solution = |w: &ArrayD<f64>, g: &ArrayD<f64>, v: &ArrayD<f64>, lr: f64, m: f64, wd: f64| {
        let g = g + &(w * wd);
        let v = v * m + &g;
        (w - &(&v * lr), v)
    };
    assert!(exercises::check_sgd_step(solution).passed);
    // Decay applied after the momentum (AdamW-style), not added to the gradient:
    let decoupled =
        |w: &ArrayD<f64>, g: &ArrayD<f64>, v: &ArrayD<f64>, lr: f64, m: f64, wd: f64| {
            let v = v * m + g;
            (w - &(&v * lr) - &(w * (lr * wd)), v)
        };
    assert!(!exercises::check_sgd_step(decoupled).passed);
    assert!(!exercises::check_sgd_step(placeholders::sgd_step).passed);
}
