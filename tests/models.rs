//! The paper's networks: exact parameter and multiply-add counts, torchvision's names and
//! shapes, output shapes through every stage.

use resgrad::Tape;
use resgrad::models::{PlainNet, ResNet};
use resgrad::ndarray::{ArrayD, IxDyn};
use resgrad::nn::{Mode, Module, Role, ShortcutOption, StridePlacement};

#[test]
fn cifar_parameter_counts_match_the_paper_exactly() {
    // He et al. 2015 Table 6, counted exactly for option A (SCIENCE.md).
    for (depth, params) in [
        (20, 269_722),
        (32, 464_154),
        (44, 658_586),
        (56, 853_018),
        (110, 1_727_962),
    ] {
        let a: ResNet = ResNet::cifar(depth, ShortcutOption::A);
        assert_eq!(
            a.summary(32).total_params(),
            params,
            "resnet{depth} option A"
        );
        assert_eq!(
            a.num_parameters(),
            params,
            "resnet{depth}: the summary and the module agree"
        );
        // Option B adds the two projections (1x1 conv + BN): 576 + 2,176 = 2,752.
        let b: ResNet = ResNet::cifar(depth, ShortcutOption::B);
        assert_eq!(
            b.summary(32).total_params(),
            params + 2_752,
            "resnet{depth} option B"
        );
        // The plain twin has exactly option A's parameters: option A adds none.
        assert_eq!(
            PlainNet::cifar(depth).num_parameters(),
            params,
            "plain{depth}"
        );
    }
}

#[test]
fn cifar_multiply_adds_match_the_paper() {
    let mmacs = |d| {
        ResNet::<f32>::cifar(d, ShortcutOption::A)
            .summary(32)
            .total_macs() as f64
            / 1e6
    };
    assert_eq!(format!("{:.1}", mmacs(20)), "40.6");
    assert_eq!(format!("{:.1}", mmacs(56)), "125.5");
    assert_eq!(format!("{:.1}", mmacs(110)), "252.9");
}

#[test]
fn imagenet_parameter_counts_equal_torchvisions() {
    for (depth, params) in [
        (18, 11_689_512),
        (34, 21_797_672),
        (50, 25_557_032),
        (101, 44_549_160),
        (152, 60_192_808),
    ] {
        for placement in [StridePlacement::First1x1, StridePlacement::Conv3x3] {
            let m: ResNet = ResNet::imagenet(depth, ShortcutOption::B, placement);
            assert_eq!(m.num_parameters(), params, "resnet{depth} {placement:?}");
            assert_eq!(m.summary(224).total_params(), params);
        }
    }
}

#[test]
fn imagenet_multiply_adds_match_table_1() {
    // Paper placement (v1): 1.8, 3.6, 3.8, 7.6, 11.3 x 10^9 in Table 1.
    for (depth, gmacs) in [
        (18, "1.814"),
        (34, "3.664"),
        (50, "3.858"),
        (101, "7.570"),
        (152, "11.282"),
    ] {
        let m: ResNet = ResNet::imagenet(depth, ShortcutOption::B, StridePlacement::First1x1);
        assert_eq!(
            format!("{:.3}", m.summary(224).total_macs() as f64 / 1e9),
            gmacs,
            "resnet{depth}"
        );
    }
    // torchvision's placement (v1.5) costs more.
    let v15: ResNet = ResNet::torchvision(50);
    assert_eq!(
        format!("{:.3}", v15.summary(224).total_macs() as f64 / 1e9),
        "4.089"
    );
}

#[test]
fn imagenet_names_shapes_and_dtypes_are_torchvisions() {
    let keys = include_str!("torchvision/resnet_keys.txt");
    for depth in [18, 34, 50, 101, 152] {
        let model: ResNet = ResNet::torchvision(depth);
        let ours: Vec<(String, Vec<usize>, bool)> = model
            .state()
            .into_iter()
            .map(|(n, p, _)| (n.clone(), p.shape(), n.ends_with("num_batches_tracked")))
            .collect();
        let theirs: Vec<(String, Vec<usize>, bool)> = keys
            .lines()
            .filter(|l| l.starts_with(&format!("resnet{depth} ")))
            .map(|l| {
                let f: Vec<&str> = l.split(' ').collect();
                let shape = f.get(3).filter(|s| !s.is_empty()).map_or(vec![], |s| {
                    s.split(',').map(|d| d.parse().unwrap()).collect()
                });
                (f[1].to_string(), shape, f[2] == "int64")
            })
            .collect();
        assert!(!theirs.is_empty());
        assert_eq!(
            ours.len(),
            theirs.len(),
            "resnet{depth}: number of state-dict entries"
        );
        for (o, t) in ours.iter().zip(&theirs) {
            assert_eq!(o, t, "resnet{depth}");
        }
    }
}

#[test]
fn output_shapes_through_every_stage_and_block() {
    let net: ResNet = ResNet::cifar(20, ShortcutOption::A);
    let s = net.summary(32);
    let shape_of = |name: &str| {
        s.rows
            .iter()
            .rev()
            .find(|r| r.name.starts_with(name))
            .unwrap()
            .output
            .clone()
    };
    assert_eq!(shape_of("conv1"), vec![1, 16, 32, 32]);
    assert_eq!(shape_of("layer1.2"), vec![1, 16, 32, 32]);
    assert_eq!(shape_of("layer2.0"), vec![1, 32, 16, 16]);
    assert_eq!(shape_of("layer3.2"), vec![1, 64, 8, 8]);
    assert_eq!(s.output, vec![1, 10]);

    // And a real forward pass agrees with the summary, block by block.
    let tape = Tape::new();
    let x = tape.constant(ArrayD::<f32>::from_elem(IxDyn(&[2, 3, 32, 32]), 0.5));
    let mut h = net.conv1.forward(&x, Mode::Train);
    h = net.bn1.as_ref().unwrap().forward(&h, Mode::Train).relu();
    for (i, stage) in net.stages.iter().enumerate() {
        for (j, block) in stage.iter().enumerate() {
            h = block.forward(&h, Mode::Train);
            let mut want = shape_of(&format!("layer{}.{j}", i + 1));
            want[0] = 2;
            assert_eq!(h.shape(), want.as_slice(), "layer{}.{j}", i + 1);
        }
    }
    assert_eq!(net.forward(&x, Mode::Eval).shape(), &[2, 10]);

    let r50: ResNet = ResNet::resnet50();
    let s = r50.summary(224);
    assert_eq!(
        s.rows
            .iter()
            .rev()
            .find(|r| r.name.starts_with("layer4.2"))
            .unwrap()
            .output,
        vec![1, 2048, 7, 7]
    );
    assert_eq!(s.output, vec![1, 1000]);
}

#[test]
fn names_are_hierarchical_and_buffers_are_apart() {
    let net: ResNet = ResNet::cifar(20, ShortcutOption::B);
    let state = net.state();
    let has = |name: &str, role: Role| state.iter().any(|(n, _, r)| n == name && *r == role);
    assert!(has("layer1.0.conv1.weight", Role::Parameter));
    assert!(has("layer1.0.bn1.running_mean", Role::Buffer));
    assert!(has("layer2.0.downsample.0.weight", Role::Parameter));
    assert!(has("layer2.0.downsample.1.running_var", Role::Buffer));
    assert!(has("fc.bias", Role::Parameter));
    assert!(
        !state
            .iter()
            .any(|(n, _, _)| n.starts_with("layer1.0.downsample")),
        "no projection where shapes match"
    );
}

#[test]
fn the_same_seed_gives_the_same_weights() {
    let a: ResNet = ResNet::cifar(20, ShortcutOption::A);
    let b: ResNet = ResNet::cifar(20, ShortcutOption::A);
    for ((na, pa), (_, pb)) in a.named_parameters().iter().zip(b.named_parameters()) {
        assert_eq!(*pa.value(), *pb.value(), "{na}");
    }
    // He init: std sqrt(2 / fan_in) for layer3's convs (fan_in 64 * 9), within sampling error.
    let w = a.stages[2][1].named_parameters()[0].1.value();
    let std = (w.iter().map(|v| (v * v) as f64).sum::<f64>() / w.len() as f64).sqrt();
    let want = (2.0 / 576.0f64).sqrt();
    assert!((std / want - 1.0).abs() < 0.03, "std {std} vs {want}");
    // A different seed gives different weights.
    let c: ResNet =
        ResNet::try_cifar(20, ShortcutOption::A, false, &mut resgrad::nn::rng(1)).unwrap();
    assert_ne!(*a.conv1.weight.value(), *c.conv1.weight.value());
}

#[test]
fn zero_init_residual_makes_every_block_start_as_the_identity() {
    let net: ResNet = ResNet::cifar(20, ShortcutOption::A).zero_init_residual();
    let tape = Tape::new();
    // A non-negative input: the ReLU after the addition then leaves it unchanged.
    let x = tape.constant(ArrayD::<f32>::from_shape_fn(IxDyn(&[2, 16, 8, 8]), |ix| {
        (ix[3] as f32 * 0.1).sin().abs()
    }));
    let y = net.stages[0][1].forward(&x, Mode::Train);
    assert_eq!(y.value(), x.value());
}

#[test]
fn bad_depths_are_named() {
    let e = ResNet::<f32>::try_cifar(21, ShortcutOption::A, false, &mut resgrad::nn::rng(0))
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("6n + 2") && e.contains("21"), "{e}");
    let e = ResNet::<f32>::try_imagenet(
        19,
        ShortcutOption::B,
        StridePlacement::First1x1,
        &mut resgrad::nn::rng(0),
    )
    .err()
    .unwrap()
    .to_string();
    assert!(e.contains("18, 34, 50, 101 and 152"), "{e}");
}

#[test]
fn the_bottleneck_costs_what_a_64d_basic_block_does() {
    let rows = resgrad::models::compare_blocks();
    let macs: Vec<usize> = rows.iter().map(|r| r.1).collect();
    assert_eq!(macs, vec![69_632, 73_728, 1_179_648]);
}

#[test]
fn resnet_1202_has_the_papers_19_point_4_million_parameters() {
    let net: ResNet = ResNet::cifar(1202, ShortcutOption::A);
    assert_eq!(
        format!("{:.1}M", net.num_parameters() as f64 / 1e6),
        "19.4M"
    );
    assert_eq!(net.stages.iter().map(Vec::len).sum::<usize>(), 600);
}
