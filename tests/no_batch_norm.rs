//! `CifarSpec::batch_norm(false)`: a CIFAR net with no batch-norm layer anywhere, biased
//! convs instead, the right parameter count by hand, a correct backward; and the default
//! spec unchanged.

mod common;

use common::uniform;
use resgrad::models::{Block, CifarSpec, ResNet};
use resgrad::ndarray::{ArrayD, IxDyn};
use resgrad::nn::{Mode, Module, Norm, Role, Shortcut, ShortcutOption};
use resgrad::{Tape, gradcheck_params};

/// Parameters of a `k x k` conv from `cin` to `cout` channels with a bias.
fn conv(cin: usize, cout: usize, k: usize) -> usize {
    cin * cout * k * k + cout
}

/// ResNet-20 on CIFAR without batch norm, counted from the architecture: a 3x3 stem,
/// three stages of n = 3 basic blocks (two 3x3 convs each) at 16, 32 and 64 filters, every
/// conv with a bias, a 64 -> 10 classifier.
fn resnet20_no_bn_by_hand(projections: bool) -> usize {
    let stem = conv(3, 16, 3); // 432 + 16 = 448
    let stage1 = 6 * conv(16, 16, 3); // 6 x 2,320 = 13,920
    let stage2 = conv(16, 32, 3) + 5 * conv(32, 32, 3); // 4,640 + 5 x 9,248 = 50,880
    let stage3 = conv(32, 64, 3) + 5 * conv(64, 64, 3); // 18,496 + 5 x 36,928 = 203,136
    let fc = 64 * 10 + 10; // 650
    // Option B: 1x1 projections where the shape changes, 16 -> 32 and 32 -> 64.
    let proj = if projections {
        conv(16, 32, 1) + conv(32, 64, 1) // 544 + 2,112 = 2,656
    } else {
        0
    };
    stem + stage1 + stage2 + stage3 + fc + proj
}

#[test]
fn the_by_hand_count_is_the_papers_minus_batch_norm_plus_biases() {
    // The paper's ResNet-20 has 269,722 parameters; its 19 batch norms hold
    // 2 x (16 + 6 x 16 + 6 x 32 + 6 x 64) = 1,376 of them, and the 19 conv biases that
    // replace them hold 16 + 6 x 16 + 6 x 32 + 6 x 64 = 688.
    assert_eq!(resnet20_no_bn_by_hand(false), 269_034);
    assert_eq!(269_722 - 1_376 + 688, 269_034);
}

#[test]
fn resnet20_without_batch_norm_has_no_batch_norm_anywhere() {
    for (option, preact) in [
        (ShortcutOption::A, false),
        (ShortcutOption::B, false),
        (ShortcutOption::A, true),
        (ShortcutOption::B, true),
    ] {
        let spec = CifarSpec::resnet(20, option)
            .pre_activation(preact)
            .batch_norm(false);
        let net: ResNet = spec.build().unwrap();
        let what = format!("{} (pre-activation {preact})", net.name);
        assert!(net.name.contains("no batch norm"), "{what}");
        assert!(net.bn1.is_none() && net.final_bn.is_none(), "{what}");

        let state = net.state();
        for (name, _, _) in &state {
            assert!(
                !name.contains("bn") && !name.contains("running_") && !name.contains("num_batches"),
                "{what}: `{name}` belongs to a batch norm"
            );
        }
        assert!(net.named_buffers().is_empty(), "{what}: no buffers");
        // Every conv has a bias, torchvision-named.
        let has = |n: &str| {
            state
                .iter()
                .any(|(m, _, r)| m == n && *r == Role::Parameter)
        };
        for name in ["conv1.bias", "layer1.0.conv1.bias", "layer3.2.conv2.bias"] {
            assert!(has(name), "{what}: {name}");
        }
        let b = option == ShortcutOption::B;
        assert_eq!(has("layer2.0.downsample.0.bias"), b, "{what}");
        assert!(!state.iter().any(|(n, _, _)| n.contains("downsample.1")));

        let params = resnet20_no_bn_by_hand(b);
        assert_eq!(net.num_parameters(), params, "{what}");
        let summary = net.summary(32);
        assert_eq!(summary.total_params(), params, "{what}: the summary agrees");
        assert!(
            summary.rows.iter().all(|r| !r.layer.contains("BatchNorm")),
            "{what}: no batch-norm rows"
        );
        // 1 stem conv, 18 block convs, 2 shortcut rows where the shape changes (zero
        // padding or a projection conv), the pooling and the classifier.
        assert_eq!(summary.rows.len(), 23, "{what}\n{summary}");
        assert_eq!(summary.output, vec![1, 10]);

        let tape = Tape::new();
        let x = tape.constant(ArrayD::<f32>::from_elem(IxDyn(&[2, 3, 32, 32]), 0.5));
        for mode in [Mode::Train, Mode::Eval] {
            let y = net.forward(&x, mode);
            assert_eq!(y.shape(), &[2, 10], "{what}");
            assert!(y.value().iter().all(|v| v.is_finite()));
        }
    }
}

#[test]
fn the_blocks_hold_no_norm_and_the_projection_is_a_biased_conv() {
    let net: ResNet = CifarSpec::resnet(20, ShortcutOption::B)
        .batch_norm(false)
        .build()
        .unwrap();
    let Block::Basic(b) = &net.stages[1][0] else {
        panic!("basic blocks")
    };
    assert!(matches!(b.bn1, Norm::None) && matches!(b.bn2, Norm::None));
    assert!(b.conv1.bias.is_some() && b.conv2.bias.is_some());
    let Shortcut::Projection(p) = &b.shortcut else {
        panic!("option B projects where the shape changes")
    };
    assert!(p.0.bias.is_some() && matches!(p.1, Norm::None));
    assert_eq!(
        b.children()
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>(),
        ["conv1", "conv2", "downsample.0"]
    );
}

#[test]
fn zero_init_residual_zeroes_the_last_conv_without_batch_norm() {
    let net: ResNet = CifarSpec::resnet(8, ShortcutOption::A)
        .batch_norm(false)
        .build::<f32>()
        .unwrap()
        .zero_init_residual();
    for block in net.stages.iter().flatten() {
        let Block::Basic(b) = block else {
            panic!("basic blocks")
        };
        assert!(b.conv2.weight.value().iter().all(|&w| w == 0.0));
        assert!(
            b.conv2
                .bias
                .as_ref()
                .unwrap()
                .value()
                .iter()
                .all(|&w| w == 0.0)
        );
        assert!(b.conv1.weight.value().iter().any(|&w| w != 0.0));
    }
}

#[test]
#[should_panic(expected = "no batch norm")]
fn zeroing_the_gamma_of_no_norm_is_an_error() {
    Norm::<f32>::None.zero_gamma();
}

#[test]
fn the_backward_without_batch_norm_is_right() {
    // Depth 8 (one block per stage), width 2, 4x4 images: every path of the no-BN net
    // (stem, identity, zero-pad and projection shortcuts, the pre-activated layout) is
    // checked against central differences, weights and biases included.
    for (option, preact) in [
        (ShortcutOption::A, false),
        (ShortcutOption::B, false),
        (ShortcutOption::B, true),
    ] {
        let net: ResNet<f64> = CifarSpec::resnet(8, option)
            .pre_activation(preact)
            .width(2)
            .classes(3)
            .batch_norm(false)
            .seed(5)
            .build()
            .unwrap();
        let x = uniform(&[2, 3, 4, 4], 21);
        let weights = uniform(&[2, 3], 22);
        let params = net.parameters();
        assert!(
            net.named_parameters()
                .iter()
                .all(|(n, _)| !n.contains("bn"))
        );
        let report = gradcheck_params(
            |tape| {
                (net.forward(&tape.constant(x.clone()), Mode::Train)
                    * tape.constant(weights.clone()))
                .sum()
            },
            &params,
        );
        assert!(
            report.passed(),
            "{} (pre-activation {preact}):\n{report}",
            net.name
        );
        assert_eq!(report.pairs.len(), params.len());
    }
}

#[test]
fn the_default_spec_is_the_papers_net_parameter_for_parameter() {
    let spec = CifarSpec::resnet(20, ShortcutOption::A);
    assert!(spec.batch_norm, "batch norm is on by default");
    let built: ResNet = spec.batch_norm(true).build().unwrap();
    let paper: ResNet = ResNet::cifar(20, ShortcutOption::A);
    let (a, b) = (built.state(), paper.state());
    assert_eq!(a.len(), b.len());
    for ((na, pa, ra), (nb, pb, rb)) in a.iter().zip(&b) {
        assert_eq!((na, ra), (nb, rb));
        assert_eq!(pa.value(), pb.value(), "{na}");
    }
    assert_eq!(built.num_parameters(), 269_722);
    assert!(a.iter().any(|(n, _, _)| n == "layer1.0.bn1.running_mean"));
    assert!(!a.iter().any(|(n, _, _)| n.ends_with("conv1.bias")));
}
