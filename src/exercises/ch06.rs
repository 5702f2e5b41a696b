//! Chapter 06: The residual block.

use super::*;

// ---- 6.1 the option-A shortcut from tape ops ----

/// Exercise 6.1: option A from the ops you know (slice, concat, ...): keep every second
/// pixel and pad the channels with zeros to `out_channels`, half before and half after.
/// Compared with [`Var::zero_pad_shortcut`], values and gradients.
pub fn check_option_a(f: impl Fn(&Var<f64>, usize) -> Var<f64>) -> Verdict {
    option_a_verdict(&f)
}

// The checkers' bodies take `&dyn Fn`, so that they are compiled once with the crate: a
// notebook cell then compiles only the learner's closure, not the whole check.
fn option_a_verdict(f: &dyn Fn(&Var<f64>, usize) -> Var<f64>) -> Verdict {
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
// ---- 6.2 zero init when the branch ends in a conv ----

/// Exercise 6.2: make a [`BasicBlock`](crate::nn::BasicBlock) *without batch norm* start as
/// the identity, as Goyal et al. 2017 do with batch norm's gamma. Here the branch is
/// `conv2(relu(conv1(x)))` with biased convs (`bn1` and `bn2` are [`Norm::None`]), so
/// there is no gamma to zero: your function must make the branch output zero by setting
/// the right parameters. Checked on a non-negative input, where the block must return its
/// input unchanged.
///
/// [`Norm::None`]: crate::nn::Norm::None
pub fn check_zero_init(f: impl Fn(&crate::nn::BasicBlock<f64>)) -> Verdict {
    zero_init_verdict(&f)
}

fn zero_init_verdict(f: &dyn Fn(&crate::nn::BasicBlock<f64>)) -> Verdict {
    const E: &str = "6.2 zero init without batch norm";
    let block = crate::nn::BasicBlock::<f64>::with_init(
        (4, 4, 1),
        ShortcutOption::A,
        Init::HeNormal,
        false,
        &mut rng(11),
    );
    if let Err(e) = attempt(|| f(&block)) {
        return Verdict::fail(E, format!("your function panicked: {e}"));
    }
    let x = gaussian::<f64>(&[2, 4, 5, 5], &mut rng(12)).mapv(f64::abs);
    let tape = Tape::new_f64();
    let y = match attempt(|| block.forward(&tape.constant(x.clone()), Mode::Train)) {
        Ok(y) => y,
        Err(e) => return Verdict::fail(E, format!("the block no longer runs: {e}")),
    };
    let d = max_diff(y.value(), &x);
    if d < 1e-12 {
        return Verdict::pass(
            E,
            "conv2 (weight and bias) is zero, so F(x) = 0 and the block passes its non-negative input through unchanged.",
        );
    }
    let all_zero = |a: &ArrayD<f64>| a.iter().all(|&v| v == 0.0);
    let weight_zero = all_zero(&block.conv2.weight.value());
    let bias_zero = block
        .conv2
        .bias
        .as_ref()
        .is_none_or(|b| all_zero(&b.value()));
    let why = if weight_zero && !bias_zero {
        "conv2's weight is zero, but its bias still adds a constant to every pixel of its channel: zero the bias too"
            .to_string()
    } else {
        format!(
            "the block still changes its input (by up to {d:.3}); which layer ends the residual branch, and what does a conv with zero weights still add?"
        )
    };
    Verdict::fail(E, why)
}

// ---- 6.3 the multiply-adds of a CIFAR ResNet ----

/// Exercise 6.3: your function gets a depth `6n + 2` and a shortcut option (A or B) and
/// returns the multiply-adds of the CIFAR ResNet for one 32x32 RGB image: every conv
/// (`H_out * W_out * c_out * c_in * k * k`) and the classifier (`64 * 10`); batch norm,
/// ReLU, the addition, pooling and option A's zero padding count 0. Compared with
/// [`ResNet::summary`](crate::models::ResNet::summary)'s total for depths 20, 56 and 110.
pub fn check_cifar_macs(f: impl Fn(usize, ShortcutOption) -> usize) -> Verdict {
    cifar_macs_verdict(&f)
}

fn cifar_macs_verdict(f: &dyn Fn(usize, ShortcutOption) -> usize) -> Verdict {
    const E: &str = "6.3 multiply-adds of a CIFAR ResNet";
    let truth = |depth: usize, option: ShortcutOption| {
        crate::models::ResNet::<f32>::cifar(depth, option)
            .summary(32)
            .total_macs()
    };
    let a20 = truth(20, ShortcutOption::A);
    for option in [ShortcutOption::A, ShortcutOption::B] {
        for depth in [20, 56, 110] {
            let want = truth(depth, option);
            let got = match attempt(|| f(depth, option)) {
                Ok(v) => v,
                Err(e) => {
                    return Verdict::fail(
                        E,
                        format!("your function panicked for depth {depth}, option {option}: {e}"),
                    );
                }
            };
            if got == want {
                continue;
            }
            let diff = got as i64 - want as i64;
            // 1x1 projections at the output size: 16x16 x 32 x 16, and 8x8 x 64 x 32.
            let projections = 2 * 16 * 16 * 32 * 16;
            let why = if option == ShortcutOption::B && diff == -(projections as i64) {
                "option B adds a 1x1 projection to the first block of stages 2 and 3: \
                 16x16 x 32 x 16 and 8x8 x 64 x 32 multiply-adds"
                    .to_string()
            } else if option == ShortcutOption::B && diff == 4 * projections as i64 {
                "the projections have stride 2: count them at their output size (16x16 and \
                 8x8), not their input's"
                    .to_string()
            } else if diff == -640 {
                "the classifier is missing: 64 features times 10 classes".to_string()
            } else if diff == -(32 * 32 * 16 * 3 * 9) {
                "the stem is missing: a 3x3 conv from 3 to 16 channels on the 32x32 map".into()
            } else if diff > 0 && depth == 20 && option == ShortcutOption::A {
                format!(
                    "ResNet-20 has {a20} multiply-adds, you count {got}: too many. A stride-2 \
                     conv's output map is half as wide, so it has a quarter of its input's pixels"
                )
            } else {
                format!(
                    "resnet-{depth} with option {option} has {want} multiply-adds, you count \
                     {got} ({diff:+}); count each conv at its output size, stage by stage"
                )
            };
            return Verdict::fail(E, why);
        }
    }
    Verdict::pass(
        E,
        format!(
            "your counts equal the summaries' for depths 20, 56 and 110, options A and B (ResNet-20: {a20})."
        ),
    )
}
