//! Chapter 05: The degradation problem.

use super::*;

// ---- 5.1 an SGD step by hand ----

/// Exercise 5.1: one SGD step with momentum and weight decay, PyTorch's way. Your function
/// gets `(w, grad, velocity, lr, momentum, weight_decay)` and returns `(new_w, new_velocity)`;
/// the velocity starts at zero (so the first step's velocity is the gradient).
pub fn check_sgd_step(
    f: impl Fn(&ArrayD<f64>, &ArrayD<f64>, &ArrayD<f64>, f64, f64, f64) -> (ArrayD<f64>, ArrayD<f64>),
) -> Verdict {
    const E: &str = "5.1 SGD step by hand";
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
