//! Chapter 09's exercises: the solutions, and each checker rejecting its placeholder and a plausible mistake.

use resgrad::Var;
use resgrad::exercises;
use resgrad::nn::{Bottleneck, Mode, Module, PreActBlock};

#[test]
fn exercise_9_1_bottleneck() {
    let solution = |b: &Bottleneck<f64>, x: &Var<f64>| {
        let m = Mode::Train;
        let h = b.bn1.forward(&b.conv1.forward(x, m), m).relu();
        let h = b.bn2.forward(&b.conv2.forward(&h, m), m).relu();
        (b.bn3.forward(&b.conv3.forward(&h, m), m) + x).relu()
    };
    assert!(exercises::check_bottleneck(solution).passed);
    let relu_before_add = |b: &Bottleneck<f64>, x: &Var<f64>| {
        let m = Mode::Train;
        let h = b.bn1.forward(&b.conv1.forward(x, m), m).relu();
        let h = b.bn2.forward(&b.conv2.forward(&h, m), m).relu();
        b.bn3.forward(&b.conv3.forward(&h, m), m).relu() + x
    };
    assert!(!exercises::check_bottleneck(relu_before_add).passed);
}

#[test]
fn exercise_9_2_pre_activation_block() {
    let solution = |b: &PreActBlock<f64>, x: &Var<f64>| {
        let m = Mode::Train;
        let h = b.conv1.forward(&b.bn1.forward(x, m).relu(), m);
        b.conv2.forward(&b.bn2.forward(&h, m).relu(), m) + x
    };
    assert!(exercises::check_preact(solution).passed);
    let post_activation = |b: &PreActBlock<f64>, x: &Var<f64>| (solution(b, x)).relu();
    assert!(!exercises::check_preact(post_activation).passed);
}
