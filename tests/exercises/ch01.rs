//! Chapter 01's exercises: the solutions, and each checker rejecting its placeholder and a plausible mistake.

use resgrad::exercises::{self, placeholders};

#[test]
fn exercise_1_1_a_value_used_three_times() {
    assert!(exercises::check_used_three_times(|x| x * x + x).passed);
    let v = exercises::check_used_three_times(|x| x.powf(2.0) + 3.0);
    assert!(!v.passed && v.message.contains("dz/dx"), "{v}");
    assert!(!exercises::check_used_three_times(placeholders::used_three_times).passed);
}
