//! Chapter 04's exercises: the solutions, and each checker rejecting its placeholder and a plausible mistake.

use resgrad::exercises::{self, placeholders};
use resgrad::ndarray::ArrayD;

#[test]
fn exercise_4_1_sgd_step() {
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
    let v = exercises::check_sgd_step(decoupled);
    assert!(
        !v.passed && v.message.contains("weight decay joins the gradient"),
        "{v}"
    );
    assert!(!exercises::check_sgd_step(placeholders::sgd_step).passed);
}

#[test]
fn exercise_4_2_lr_schedule() {
    let solution = |t: usize| {
        if t < 400 {
            0.01
        } else if t < 32_000 {
            0.1
        } else if t < 48_000 {
            0.01
        } else {
            0.001
        }
    };
    let v = exercises::check_lr_schedule(solution);
    assert!(v.passed, "{v}");
    // The placeholder: 0.1 throughout.
    let v = exercises::check_lr_schedule(|_| 0.1);
    assert!(!v.passed && v.message.contains("warms up"), "{v}");
    // One warm-up step too many.
    let v = exercises::check_lr_schedule(|t| if t <= 400 { 0.01 } else { solution(t) });
    assert!(!v.passed && v.message.contains("t < 400"), "{v}");
    // Divided by 10 once, not compounded at the second milestone.
    let v = exercises::check_lr_schedule(|t| if t >= 48_000 { 0.01 } else { solution(t) });
    assert!(
        !v.passed && v.message.contains("divided by 10 again"),
        "{v}"
    );
    // A panic is a verdict, not a crash.
    let v = exercises::check_lr_schedule(|t| {
        if t > 40_000 {
            panic!("oops")
        } else {
            solution(t)
        }
    });
    assert!(!v.passed && v.message.contains("panicked"), "{v}");
}
