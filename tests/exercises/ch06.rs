//! Chapter 06's exercises: the solutions, and each checker rejecting its placeholder and a plausible mistake.

use resgrad::exercises::{self, placeholders};
use resgrad::ndarray::ArrayD;
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
fn exercise_6_2_zero_init_residual() {
    assert!(exercises::check_zero_init(|b| b.bn2.zero_gamma()).passed);
    let v = exercises::check_zero_init(|b| b.bn1.zero_gamma());
    assert!(!v.passed && v.message.contains("which parameter"), "{v}");
    assert!(!exercises::check_zero_init(placeholders::zero_init).passed);
}
