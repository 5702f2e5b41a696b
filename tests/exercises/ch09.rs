//! Chapter 09's exercises: the solutions, and each checker rejecting its placeholder and a plausible mistake.

use resgrad::Var;
use resgrad::exercises;
use resgrad::nn::{Bottleneck, Mode, Module, PreActBlock, StridePlacement};

#[test]
fn exercise_9_1_bottleneck() {
    let solution = |b: &Bottleneck<f64>, x: &Var<f64>| {
        let m = Mode::Train;
        let h = b.bn1.forward(&b.conv1.forward(x, m), m).relu();
        let h = b.bn2.forward(&b.conv2.forward(&h, m), m).relu();
        let shortcut = b
            .shortcut
            .apply(x, m)
            .expect("a residual block has a shortcut");
        (b.bn3.forward(&b.conv3.forward(&h, m), m) + shortcut).relu()
    };
    let verdict = exercises::check_bottleneck(solution);
    assert!(verdict.passed, "{verdict}");

    let placeholder =
        |b: &Bottleneck<f64>, x: &Var<f64>| -> Var<f64> { b.conv1.forward(x, Mode::Train) };
    let verdict = exercises::check_bottleneck(placeholder);
    assert!(!verdict.passed);
    assert!(verdict.message.contains("shape"), "{verdict}");

    let relu_before_add = |b: &Bottleneck<f64>, x: &Var<f64>| {
        let m = Mode::Train;
        let h = b.bn1.forward(&b.conv1.forward(x, m), m).relu();
        let h = b.bn2.forward(&b.conv2.forward(&h, m), m).relu();
        b.bn3.forward(&b.conv3.forward(&h, m), m).relu() + x
    };
    let verdict = exercises::check_bottleneck(relu_before_add);
    assert!(!verdict.passed);
    assert!(
        verdict
            .message
            .contains("order of BN, ReLU and the addition"),
        "{verdict}"
    );

    // Adding `x` itself is right where the shape is kept and wrong where it changes.
    let always_identity = |b: &Bottleneck<f64>, x: &Var<f64>| {
        let m = Mode::Train;
        let h = b.bn1.forward(&b.conv1.forward(x, m), m).relu();
        let h = b.bn2.forward(&b.conv2.forward(&h, m), m).relu();
        (b.bn3.forward(&b.conv3.forward(&h, m), m) + x).relu()
    };
    let verdict = exercises::check_bottleneck(always_identity);
    assert!(!verdict.passed);
    assert!(
        verdict.message.contains("downsampling block") && verdict.message.contains("b.shortcut"),
        "{verdict}"
    );
}

#[test]
fn exercise_9_2_pre_activation_block() {
    let solution = |b: &PreActBlock<f64>, x: &Var<f64>| {
        let m = Mode::Train;
        let h = b.conv1.forward(&b.bn1.forward(x, m).relu(), m);
        b.conv2.forward(&b.bn2.forward(&h, m).relu(), m) + x
    };
    assert!(exercises::check_preact(solution).passed);
    let placeholder = |_b: &PreActBlock<f64>, x: &Var<f64>| -> Var<f64> { x.clone() };
    assert!(!exercises::check_preact(placeholder).passed);
    let post_activation = |b: &PreActBlock<f64>, x: &Var<f64>| (solution(b, x)).relu();
    let verdict = exercises::check_preact(post_activation);
    assert!(!verdict.passed);
    assert!(verdict.message.contains("order of BN, ReLU"), "{verdict}");
}

/// `c_in c_out K^2 H_out W_out` for each conv of an option-B bottleneck.
fn bottleneck_macs(
    cin: usize,
    width: usize,
    stride: usize,
    placement: StridePlacement,
    side: usize,
    with_projection: bool,
) -> usize {
    let out = side.div_ceil(stride);
    let first = match placement {
        StridePlacement::First1x1 => out,
        StridePlacement::Conv3x3 => side,
    };
    let conv1 = cin * width * first * first;
    let conv2 = width * width * 9 * out * out;
    let conv3 = width * 4 * width * out * out;
    let projects = stride != 1 || cin != 4 * width;
    let shortcut = if projects && with_projection {
        cin * 4 * width * out * out
    } else {
        0
    };
    conv1 + conv2 + conv3 + shortcut
}

#[test]
fn exercise_9_3_the_cost_of_a_bottleneck() {
    let solution = |cin, width, stride, placement, side| {
        bottleneck_macs(cin, width, stride, placement, side, true)
    };
    let verdict = exercises::check_bottleneck_macs(solution);
    assert!(verdict.passed, "{verdict}");

    let placeholder = |_cin, _width, _stride, _placement: StridePlacement, _side| 0;
    let verdict = exercises::check_bottleneck_macs(placeholder);
    assert!(!verdict.passed);
    assert!(verdict.message.contains("nothing counted yet"), "{verdict}");

    let no_projection = |cin, width, stride, placement, side| {
        bottleneck_macs(cin, width, stride, placement, side, false)
    };
    let verdict = exercises::check_bottleneck_macs(no_projection);
    assert!(!verdict.passed);
    assert!(
        verdict.message.contains("projection shortcut is missing"),
        "{verdict}"
    );

    let swapped = |cin, width, stride, placement, side| {
        let other = match placement {
            StridePlacement::First1x1 => StridePlacement::Conv3x3,
            StridePlacement::Conv3x3 => StridePlacement::First1x1,
        };
        bottleneck_macs(cin, width, stride, other, side, true)
    };
    let verdict = exercises::check_bottleneck_macs(swapped);
    assert!(!verdict.passed);
    assert!(verdict.message.contains("other placement"), "{verdict}");

    let panics = |_cin, _width, _stride, _placement: StridePlacement, _side| -> usize {
        panic!("not written yet")
    };
    let verdict = exercises::check_bottleneck_macs(panics);
    assert!(!verdict.passed);
    assert!(verdict.message.contains("panicked"), "{verdict}");
}
