//! Chapter 04: Training a first CNN.

use super::*;
use crate::train::optim::Schedule;

// ---- 4.1 an SGD step by hand ----

/// Exercise 4.1: one SGD step with momentum and weight decay, PyTorch's way. Your function
/// gets `(w, grad, velocity, lr, momentum, weight_decay)` and returns `(new_w, new_velocity)`;
/// the velocity starts at zero (so the first step's velocity is the gradient).
pub fn check_sgd_step(
    f: impl Fn(&ArrayD<f64>, &ArrayD<f64>, &ArrayD<f64>, f64, f64, f64) -> (ArrayD<f64>, ArrayD<f64>),
) -> Verdict {
    const E: &str = "4.1 SGD step by hand";
    let (lr, momentum, wd) = (0.1, 0.9, 1e-2);
    let p = Param::new("w", gaussian::<f64>(&[3, 2], &mut rng(9)));
    let mut opt = Sgd::new(lr).momentum(momentum).weight_decay(wd);
    let mut w = p.value().as_ref().clone();
    let mut v = ArrayD::zeros(w.raw_dim());
    for step in 0..3 {
        let tape = Tape::new_f64();
        let loss = (tape.param(&p) * tape.constant(gaussian::<f64>(&[3, 2], &mut rng(10 + step))))
            .powf(2.0)
            .sum();
        let grads: Grads<f64> = loss.backward();
        let grad = grads[&p].clone();
        drop(tape);
        opt.step(std::slice::from_ref(&p), &grads);
        match attempt(|| f(&w, &grad, &v, lr, momentum, wd)) {
            Err(e) => return Verdict::fail(E, format!("your step panicked: {e}")),
            Ok((nw, nv)) => {
                if nw.shape() != w.shape() {
                    return Verdict::fail(
                        E,
                        format!(
                            "your new weights have shape {:?}, the weights have shape {:?}",
                            nw.shape(),
                            w.shape()
                        ),
                    );
                }
                if max_diff(&nw, &p.value()) > 1e-12 {
                    return Verdict::fail(
                        E,
                        format!(
                            "step {}: your weights differ from torch.optim.SGD's by {:.3e}; weight decay joins the gradient, then v = momentum v + g",
                            step + 1,
                            max_diff(&nw, &p.value())
                        ),
                    );
                }
                w = nw;
                v = nv;
            }
        }
    }
    Verdict::pass(
        E,
        "three steps, the same weights as torch.optim.SGD(momentum=0.9, weight_decay=0.01).",
    )
}

// ---- 4.2 the paper's learning-rate schedule ----

/// The schedule of exercise 4.2 as the library writes it: 0.01 for 400 steps, then 0.1
/// divided by 10 at steps 32,000 and 48,000. [`Schedule::Warmup`] counts the schedule after
/// it from 0, so its milestones are 400 steps earlier.
fn resnet110_schedule() -> Schedule {
    Schedule::Warmup {
        steps: 400,
        warmup_lr: 0.01,
        then: Box::new(Schedule::MultiStep {
            milestones: vec![32_000 - 400, 48_000 - 400],
            factor: 10.0,
        }),
    }
}

/// Exercise 4.2: the learning rate of ResNet-110 on CIFAR-10 (He et al. 2015 §4.2) at step
/// `t` (0-based): 0.01 for the first 400 steps (the warm-up), then 0.1, divided by 10 at
/// step 32,000 and again at step 48,000. Compared with the library's
/// [`Schedule`] at steps around every boundary.
pub fn check_lr_schedule(f: impl Fn(usize) -> f64) -> Verdict {
    const E: &str = "4.2 warm-up and step decay";
    let schedule = resnet110_schedule();
    let steps = [
        0, 1, 200, 399, 400, 401, 10_000, 31_999, 32_000, 32_001, 40_000, 47_999, 48_000, 48_001,
        63_999,
    ];
    for t in steps {
        let want = schedule.lr(0.1, t);
        let got = match attempt(|| f(t)) {
            Ok(v) => v,
            Err(e) => return Verdict::fail(E, format!("your function panicked at step {t}: {e}")),
        };
        if (got - want).abs() <= 1e-12 * want {
            continue;
        }
        let close = |x: f64| (got - x).abs() <= 1e-12 * x;
        let why = if t < 400 && close(0.1) {
            "ResNet-110 warms up: 0.01 for the first 400 steps (0 to 399), then 0.1"
        } else if t == 400 && close(0.01) {
            "the warm-up is 400 steps, 0 to 399: at step 400 the rate is already 0.1 (use t < 400)"
        } else if t == 399 && close(0.1) {
            "step 399 is the last of the 400 warm-up steps (0 to 399): it still uses 0.01"
        } else if t >= 48_000 && close(0.01) {
            "at step 48,000 the rate is divided by 10 again: 0.1 / 100 = 0.001"
        } else if (32_000..48_000).contains(&t) && close(0.1) {
            "at step 32,000 the rate is divided by 10, to 0.01"
        } else if t == 32_000 || t == 48_000 {
            "a milestone's own step already uses the smaller rate (t >= 32,000, t >= 48,000)"
        } else {
            "read the schedule again: 0.01 for steps 0 to 399, 0.1 from 400, 0.01 from 32,000, 0.001 from 48,000"
        };
        return Verdict::fail(
            E,
            format!("at step {t} your rate is {got}, the paper's is {want}: {why}"),
        );
    }
    Verdict::pass(
        E,
        "0.01, then 0.1, 0.01 and 0.001 at the right steps: the same as Schedule::Warmup over MultiStep.",
    )
}
