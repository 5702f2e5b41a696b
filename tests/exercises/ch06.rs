//! Chapter 06's exercises: the solutions, and each checker rejecting its placeholder and a plausible mistake.

use resgrad::exercises::{self, placeholders};
use resgrad::ndarray::ArrayD;
use resgrad::nn::{BasicBlock, ShortcutOption};
use resgrad::{Var, concat};

fn option_a(x: &Var<f64>, out: usize) -> Var<f64> {
    let s = x.shape().to_vec();
    // Every second row, then every second column, from tape ops: reshape exposes pairs.
    let h = x
        .reshape(&[s[0], s[1], s[2] / 2, 2, s[3]])
        .slice(3, 0, 1)
        .reshape(&[s[0], s[1], s[2] / 2, s[3]]);
    let w = h
        .reshape(&[s[0], s[1], s[2] / 2, s[3] / 2, 2])
        .slice(4, 0, 1)
        .reshape(&[s[0], s[1], s[2] / 2, s[3] / 2]);
    let extra = out - s[1];
    let zeros = |c: usize| {
        x.tape()
            .constant(ArrayD::<f64>::zeros(vec![s[0], c, s[2] / 2, s[3] / 2]))
    };
    concat(&[&zeros(extra / 2), &w, &zeros(extra - extra / 2)], 1)
}

#[test]
fn exercise_6_1_option_a_shortcut() {
    assert!(
        exercises::check_option_a(option_a).passed,
        "{}",
        exercises::check_option_a(option_a)
    );
    // Padding all the zeros after the input's channels: right shape, wrong values.
    let lopsided = |x: &Var<f64>, out: usize| {
        let y = option_a(x, x.shape()[1]);
        let s = y.shape().to_vec();
        concat(
            &[
                &y,
                &x.tape()
                    .constant(ArrayD::<f64>::zeros(vec![s[0], out - s[1], s[2], s[3]])),
            ],
            1,
        )
    };
    let v = exercises::check_option_a(lopsided);
    assert!(!v.passed && v.message.contains("values differ"), "{v}");
    let v = exercises::check_option_a(|x, _| x.clone());
    assert!(!v.passed && v.message.contains("shape"), "{v}");
}
#[test]
fn exercise_6_2_zero_init_without_batch_norm() {
    let solution = |b: &BasicBlock<f64>| {
        b.conv2.weight.update(|w| w.fill(0.0));
        if let Some(bias) = &b.conv2.bias {
            bias.update(|v| v.fill(0.0));
        }
    };
    let v = exercises::check_zero_init(solution);
    assert!(v.passed, "{v}");
    // Zeroing the weight alone leaves conv2's bias in the branch.
    let v = exercises::check_zero_init(|b| b.conv2.weight.update(|w| w.fill(0.0)));
    assert!(!v.passed && v.message.contains("bias"), "{v}");
    // The batch-norm recipe: there is no batch norm here, and the library says so.
    let v = exercises::check_zero_init(|b| b.bn2.zero_gamma());
    assert!(!v.passed && v.message.contains("no batch norm"), "{v}");
    // The first conv does not end the branch.
    let v = exercises::check_zero_init(|b| b.conv1.weight.update(|w| w.fill(0.0)));
    assert!(!v.passed && v.message.contains("which layer"), "{v}");
    assert!(!exercises::check_zero_init(placeholders::zero_init).passed);
}

/// Multiply-adds of the CIFAR ResNet of `depth` for one 32x32 image, stage by stage;
/// `at_input` counts every conv at its input's map size (the mistake).
fn cifar_macs(depth: usize, option: ShortcutOption, at_input: bool) -> usize {
    let n = (depth - 2) / 6;
    let mut total = 32 * 32 * 16 * 3 * 9; // the stem
    let (mut cin, mut hw) = (16, 32);
    for (i, c) in [16, 32, 64].into_iter().enumerate() {
        for b in 0..n {
            let stride = if i > 0 && b == 0 { 2 } else { 1 };
            let out = hw / stride;
            let first = if at_input { hw } else { out };
            total += first * first * c * cin * 9 + out * out * c * c * 9;
            if option == ShortcutOption::B && stride == 2 {
                total += first * first * c * cin; // the 1x1 projection
            }
            (cin, hw) = (c, out);
        }
    }
    total + 64 * 10 // the classifier
}

#[test]
fn exercise_6_3_cifar_multiply_adds() {
    let v = exercises::check_cifar_macs(|d, o| cifar_macs(d, o, false));
    assert!(v.passed && v.message.contains("40551040"), "{v}");
    let v = exercises::check_cifar_macs(|d, o| cifar_macs(d, o, true));
    assert!(!v.passed && v.message.contains("quarter"), "{v}");
    let v = exercises::check_cifar_macs(|d, o| cifar_macs(d, o, false) - 640);
    assert!(!v.passed && v.message.contains("classifier"), "{v}");
    let v = exercises::check_cifar_macs(|d, _| cifar_macs(d, ShortcutOption::A, false));
    assert!(!v.passed && v.message.contains("projection"), "{v}");
    assert!(!exercises::check_cifar_macs(|_, _| 0).passed);
}
