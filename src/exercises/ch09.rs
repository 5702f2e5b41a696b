//! Chapter 09: Bottlenecks and ImageNet ResNets.

use super::*;

// ---- 9.1 the bottleneck ----

/// Exercise 9.1: the forward of a [`Bottleneck`] from its layers (1x1, 3x3, 1x1, each with
/// batch norm; ReLU between; the shortcut added before the last ReLU).
pub fn check_bottleneck(f: impl Fn(&Bottleneck<f64>, &Var<f64>) -> Var<f64>) -> Verdict {
    const E: &str = "9.1 bottleneck block";
    let block = Bottleneck::<f64>::new(
        16,
        4,
        1,
        ShortcutOption::A,
        StridePlacement::First1x1,
        &mut rng(3),
    );
    compare_block(E, &block, &[2, 16, 4, 4], |x| f(&block, x))
}

/// Exercise 9.2: the forward of a [`PreActBlock`] (He et al. 2016: BN, ReLU, conv, BN, ReLU,
/// conv, then + x, nothing after the addition).
pub fn check_preact(f: impl Fn(&PreActBlock<f64>, &Var<f64>) -> Var<f64>) -> Verdict {
    const E: &str = "9.2 pre-activation block";
    let block = PreActBlock::<f64>::new(4, 4, 1, ShortcutOption::A, &mut rng(4));
    compare_block(E, &block, &[2, 4, 5, 5], |x| f(&block, x))
}

fn compare_block(
    e: &'static str,
    block: &dyn Module<f64>,
    shape: &[usize],
    learner: impl Fn(&Var<f64>) -> Var<f64>,
) -> Verdict {
    let x = gaussian::<f64>(shape, &mut rng(5));
    let tape = Tape::new_f64();
    let xv = tape.var(x.clone());
    let want = block.forward(&xv, Mode::Train);
    let got = match attempt(|| learner(&xv)) {
        Ok(y) => y,
        Err(err) => return Verdict::fail(e, format!("your forward panicked: {err}")),
    };
    if got.shape() != want.shape() {
        return Verdict::fail(
            e,
            format!(
                "your output has shape {:?}, the block's is {:?}",
                got.shape(),
                want.shape()
            ),
        );
    }
    let d = max_diff(got.value(), want.value());
    if d > 1e-9 {
        return Verdict::fail(
            e,
            format!(
                "the shapes agree but the values differ by up to {d:.3e}: check the order of BN, ReLU and the addition"
            ),
        );
    }
    let report = gradcheck(|v| learner(&v[0]), &[x]);
    if !report.passed() {
        return Verdict::fail(
            e,
            "the values are right but a gradient is wrong; is every step a tape op?",
        );
    }
    Verdict::pass(
        e,
        "same output as the library's block, and its gradient checks out.",
    )
}
