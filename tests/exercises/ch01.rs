//! Chapter 01's exercises: the solutions, and each checker rejecting its placeholder and a plausible mistake.

use resgrad::exercises::{self, placeholders};

#[test]
fn exercise_1_1_a_value_used_three_times() {
    assert!(exercises::check_used_three_times(|x| x * x + x).passed);
    let v = exercises::check_used_three_times(|x| x.powf(2.0) + 3.0);
    assert!(!v.passed && v.message.contains("dz/dx"), "{v}");
    assert!(!exercises::check_used_three_times(placeholders::used_three_times).passed);
}

#[test]
fn exercise_1_2_the_backward_of_a_division() {
    // The solution, as the notebook's tape computes it for z = (a / b) * g.
    let v = exercises::check_div_backward(|a, b, g| (g / b, -g * a / (b * b)));
    assert!(v.passed, "{v}");
    // The placeholder: a backward that sends nothing back.
    let v = exercises::check_div_backward(|_, _, _| (0.0, 0.0));
    assert!(!v.passed && v.message.contains("1/b"), "{v}");
    // The local derivatives without the incoming gradient g.
    let v = exercises::check_div_backward(|a, b, _| (1.0 / b, -a / (b * b)));
    assert!(!v.passed && v.message.contains("chain rule"), "{v}");
    // The sign of d(a/b)/db lost.
    let v = exercises::check_div_backward(|a, b, g| (g / b, g * a / (b * b)));
    assert!(!v.passed && v.message.contains("wrong sign"), "{v}");
    // b not squared.
    let v = exercises::check_div_backward(|a, b, g| (g / b, -g * a / b));
    assert!(!v.passed && v.message.contains("-a/b^2"), "{v}");
}
