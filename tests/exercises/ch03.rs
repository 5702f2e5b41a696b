//! Chapter 03's exercises: the solutions, and each checker rejecting its placeholder and a plausible mistake.

use resgrad::exercises::{self, placeholders};

#[test]
fn exercise_3_1_conv_output_shape() {
    let solution = |x: [usize; 4], w: [usize; 4], s: usize, p: usize| {
        [
            x[0],
            w[0],
            (x[2] + 2 * p - w[2]) / s + 1,
            (x[3] + 2 * p - w[3]) / s + 1,
        ]
    };
    assert!(exercises::check_conv_shape(solution).passed);
    let forgot_stride = |x: [usize; 4], w: [usize; 4], _s: usize, p: usize| {
        [x[0], w[0], x[2] + 2 * p - w[2] + 1, x[3] + 2 * p - w[3] + 1]
    };
    let v = exercises::check_conv_shape(forgot_stride);
    assert!(!v.passed && v.message.contains("stride 2"), "{v}");
    assert!(!exercises::check_conv_shape(placeholders::conv_shape).passed);
    let panics = exercises::check_conv_shape(|_, _, _, _| panic!("oops"));
    assert!(!panics.passed && panics.message.contains("oops"));
}
