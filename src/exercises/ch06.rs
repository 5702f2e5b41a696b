//! Chapter 06: The residual block.

use super::*;

// ---- 6.1 the option-A shortcut from tape ops ----

/// Exercise 6.1: option A from the ops you know (slice, concat, ...): keep every second
/// pixel and pad the channels with zeros to `out_channels`, half before and half after.
/// Compared with [`Var::zero_pad_shortcut`], values and gradients.
pub fn check_option_a(f: impl Fn(&Var<f64>, usize) -> Var<f64>) -> Verdict {
    const E: &str = "6.1 option-A shortcut";
    let x = gaussian::<f64>(&[2, 4, 6, 6], &mut rng(1));
    let g = gaussian::<f64>(&[2, 8, 3, 3], &mut rng(2));
    let run = |use_learner: bool| {
        let tape = Tape::new_f64();
        let xv = tape.var(x.clone());
        let y = if use_learner {
            f(&xv, 8)
        } else {
            xv.zero_pad_shortcut(8)
        };
        if y.shape() != g.shape() {
            return Err(format!(
                "your output has shape {:?}, it should be {:?}",
                y.shape(),
                g.shape()
            ));
        }
        let grads = y.backward_with(g.clone());
        Ok((
            y.value().clone(),
            grads
                .get(&xv)
                .cloned()
                .unwrap_or_else(|| ArrayD::zeros(x.raw_dim())),
        ))
    };
    let want = run(false).expect("the library's own shortcut");
    match attempt(|| run(true)) {
        Err(e) => Verdict::fail(E, format!("your shortcut panicked: {e}")),
        Ok(Err(e)) => Verdict::fail(E, e),
        Ok(Ok((y, _))) if max_diff(&y, &want.0) > 1e-12 => Verdict::fail(
            E,
            "the shape is right but the values differ: keep pixels 0, 2, 4 and put the input's channels in the middle",
        ),
        Ok(Ok((_, dx))) if max_diff(&dx, &want.1) > 1e-12 => Verdict::fail(
            E,
            "the values are right but the gradient is not: build it from tape ops so backward can see it",
        ),
        Ok(Ok(_)) => Verdict::pass(
            E,
            "same values and gradients as the library's zero_pad_shortcut, no parameters.",
        ),
    }
}
// ---- 6.2 zero-init residual ----

/// Exercise 6.2: make a [`BasicBlock`](crate::nn::BasicBlock) start as the identity (Goyal et
/// al. 2017) by zeroing one parameter. The checker first gives the first batch norm a
/// non-zero shift, so that only the right choice works.
pub fn check_zero_init(f: impl Fn(&crate::nn::BasicBlock<f64>)) -> Verdict {
    const E: &str = "6.2 zero-init residual";
    let block = crate::nn::BasicBlock::<f64>::new(4, 4, 1, ShortcutOption::A, &mut rng(11));
    let bn1 = block
        .bn1
        .batch_norm()
        .expect("BasicBlock::new has batch norm");
    bn1.bias.update(|b| b.fill(0.5));
    if let Err(e) = attempt(|| f(&block)) {
        return Verdict::fail(E, format!("your function panicked: {e}"));
    }
    let x = gaussian::<f64>(&[2, 4, 5, 5], &mut rng(12)).mapv(f64::abs);
    let tape = Tape::new_f64();
    let y = block.forward(&tape.constant(x.clone()), Mode::Train);
    let d = max_diff(y.value(), &x);
    if d < 1e-12 {
        Verdict::pass(
            E,
            "the block passes its (non-negative) input through unchanged: F(x) = 0 at init.",
        )
    } else {
        Verdict::fail(
            E,
            format!(
                "the block still changes its input (by up to {d:.3}); which parameter ends the residual branch?"
            ),
        )
    }
}
