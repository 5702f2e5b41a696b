//! The paper's networks: exact parameter and multiply-add counts, torchvision's names and
//! shapes, output shapes through every stage.

use resgrad::Tape;
use resgrad::models::{CifarSpec, MlpSpec, NetKind, PlainNet, ResNet, cifar_blocks_per_stage};
use resgrad::ndarray::{ArrayD, IxDyn};
use resgrad::nn::{Init, MlpNorm, Mode, Module, Role, ShortcutOption, StridePlacement, Summary};

#[test]
fn cifar_parameter_counts_match_the_paper_exactly() {
    // He et al. 2015 Table 6, counted exactly for option A.
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

    let r50: ResNet = ResNet::resnet50_v1();
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
    let c: ResNet = CifarSpec::resnet(20, ShortcutOption::A)
        .seed(1)
        .build()
        .unwrap();
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
    let e = CifarSpec::resnet(21, ShortcutOption::A)
        .build::<f32>()
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("6n + 2") && e.contains("21") && e.contains("20 or 26"),
        "{e}"
    );
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

#[test]
fn the_depth_rule_is_6n_plus_2() {
    for (depth, n) in [(8, 1), (20, 3), (56, 9), (110, 18), (1202, 200)] {
        assert_eq!(cifar_blocks_per_stage(depth).unwrap(), n, "depth {depth}");
    }
    for (depth, nearest) in [(0, "8"), (7, "8"), (21, "20 or 26"), (100, "98 or 104")] {
        let e = cifar_blocks_per_stage(depth).unwrap_err().to_string();
        assert!(
            e.contains("6n + 2") && e.contains(&format!("{depth} is not")) && e.contains(nearest),
            "{depth}: {e}"
        );
        // One sentence, not a source line's indentation carried into the message.
        assert!(!e.contains("  "), "{depth}: {e}");
    }
}

#[test]
fn a_spec_builds_the_same_net_as_the_short_constructors() {
    let same = |a: &ResNet, b: &ResNet| {
        let (sa, sb) = (a.state(), b.state());
        assert_eq!(sa.len(), sb.len());
        for ((na, pa, _), (nb, pb, _)) in sa.iter().zip(&sb) {
            assert_eq!(na, nb);
            assert_eq!(*pa.value(), *pb.value(), "{na}");
        }
        assert_eq!(a.name, b.name);
    };
    let spec: ResNet = CifarSpec::resnet(20, ShortcutOption::B).build().unwrap();
    same(&spec, &ResNet::cifar(20, ShortcutOption::B));
    let plain: ResNet = CifarSpec::plain(20).build().unwrap();
    same(&plain, &PlainNet::cifar(20));
    let preact: ResNet = CifarSpec::resnet(20, ShortcutOption::A)
        .pre_activation(true)
        .build()
        .unwrap();
    same(&preact, &ResNet::cifar_preact(20, ShortcutOption::A));
    // A plain spec has no shortcuts whatever its shortcut field says; a residual spec
    // without shortcuts is refused, naming the way out.
    let plain_b: ResNet = CifarSpec::plain(20)
        .shortcut(ShortcutOption::B)
        .build()
        .unwrap();
    same(&plain_b, &plain);
    let e = CifarSpec::resnet(20, ShortcutOption::None)
        .build::<f32>()
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("A, B or C") && e.contains("Plain"), "{e}");
}

#[test]
fn the_spec_sets_init_and_both_scales_on_every_block() {
    let net: ResNet = CifarSpec::resnet(8, ShortcutOption::C)
        .init(Init::Zeros)
        .branch_scale(0.5)
        .shortcut_scale(0.0)
        .build()
        .unwrap();
    for (name, p) in net.named_parameters() {
        if name.contains("conv") || name.contains("downsample.0") {
            assert!(p.value().iter().all(|&w| w == 0.0), "{name}");
        }
    }
    for block in net.stages.iter().flatten() {
        let resgrad::models::Block::Basic(b) = block else {
            panic!("basic blocks")
        };
        assert_eq!((b.branch_scale, b.shortcut_scale), (0.5, 0.0));
    }
    // lambda = 0 removes the shortcut: the block outputs relu(s F(x)).
    let b = &net.stages[0][0];
    let tape = Tape::new();
    let x = tape.constant(ArrayD::<f32>::from_shape_fn(IxDyn(&[2, 16, 4, 4]), |ix| {
        (ix[3] as f32 - 1.5) * 0.3
    }));
    let resgrad::models::Block::Basic(basic) = b else {
        unreachable!()
    };
    assert_eq!(
        b.forward(&x, Mode::Eval).value(),
        basic.branch(&x, Mode::Eval).relu().value()
    );
}

#[test]
fn the_summary_works_for_any_number_of_input_channels() {
    let net: ResNet = CifarSpec::resnet(20, ShortcutOption::A)
        .in_channels(1)
        .width(8)
        .build()
        .unwrap();
    let s = net.summary(28);
    assert_eq!(s.input, vec![1, 1, 28, 28]);
    assert_eq!(s.rows[0].name, "conv1");
    assert_eq!(s.rows[0].params, 8 * 9);
    assert_eq!(s.rows[0].macs, 8 * 9 * 28 * 28);
    assert_eq!(s.output, vec![1, 10]);
    assert_eq!(s.total_params(), net.num_parameters());
}

#[test]
fn a_shortcut_reads_the_block_input_in_the_summary() {
    // Option A: the zero padding sees the block's input, [1, 16, 32, 32], and gives the
    // branch's output shape; option B: so does the projection.
    let row = |s: &Summary, name: &str| s.rows.iter().find(|r| r.name == name).unwrap().clone();
    let a = ResNet::<f32>::cifar(20, ShortcutOption::A).summary(32);
    let pad = row(&a, "layer2.0.shortcut");
    assert_eq!(
        (pad.layer.as_str(), pad.output, pad.params),
        ("ZeroPad (option A)", vec![1, 32, 16, 16], 0)
    );
    let b = ResNet::<f32>::cifar(20, ShortcutOption::B).summary(32);
    let proj = row(&b, "layer2.0.downsample.0");
    assert_eq!((proj.output, proj.params), (vec![1, 32, 16, 16], 16 * 32));
    assert_eq!(proj.macs, 16 * 32 * 16 * 16);
    // The block after it reads the branch's output, not the shortcut's.
    assert_eq!(row(&b, "layer2.1.conv1").output, vec![1, 32, 16, 16]);
}

#[test]
fn v1_and_v1_5_say_which_resnet_50_they_build() {
    let (v1, v15): (ResNet, ResNet) = (ResNet::resnet50_v1(), ResNet::resnet50_v1_5());
    // The same keys and shapes ...
    let keys = |m: &ResNet| {
        m.state()
            .into_iter()
            .map(|(n, p, _)| (n, p.shape()))
            .collect::<Vec<_>>()
    };
    assert_eq!(keys(&v1), keys(&v15));
    // ... but the stride sits elsewhere: on the first 1x1 (v1) or on the 3x3 (v1.5).
    let stride = |m: &ResNet, conv: &str| {
        let resgrad::models::Block::Bottleneck(b) = &m.stages[1][0] else {
            panic!("bottlenecks")
        };
        if conv == "conv1" {
            b.conv1.stride
        } else {
            b.conv2.stride
        }
    };
    assert_eq!((stride(&v1, "conv1"), stride(&v1, "conv2")), (2, 1));
    assert_eq!((stride(&v15, "conv1"), stride(&v15, "conv2")), (1, 2));
    assert!(v15.name.contains("v1.5") && !v1.name.contains("v1.5"));
    assert_eq!(keys(&ResNet::torchvision(50)), keys(&v15));
}

#[test]
fn shortcut_options_and_net_kinds_parse_and_print() {
    for (text, option) in [
        ("A", ShortcutOption::A),
        ("b", ShortcutOption::B),
        ("C", ShortcutOption::C),
        ("none", ShortcutOption::None),
    ] {
        let parsed: ShortcutOption = text.parse().unwrap();
        assert_eq!(parsed, option);
        assert_eq!(
            option.to_string().parse::<ShortcutOption>().unwrap(),
            option
        );
    }
    let e = "D".parse::<ShortcutOption>().unwrap_err();
    assert!(
        e.contains("`D`") && e.contains("A (") && e.contains("B (") && e.contains("C ("),
        "{e}"
    );
    assert_eq!(ShortcutOption::B.to_string(), "B");

    assert_eq!("Plain".parse::<NetKind>().unwrap(), NetKind::Plain);
    assert_eq!("resnet".parse::<NetKind>().unwrap(), NetKind::Residual);
    assert_eq!("residual".parse::<NetKind>().unwrap(), NetKind::Residual);
    assert_eq!(NetKind::Residual.to_string(), "resnet");
    assert_eq!(NetKind::Plain.to_string(), "plain");
    let e = "deep".parse::<NetKind>().unwrap_err();
    assert!(e.contains("plain") && e.contains("resnet"), "{e}");
}

#[test]
fn mlp_specs_build_the_nets_they_name() {
    let plain = MlpSpec::plain(8, 6).batch_norm(true).build::<f64>();
    assert_eq!(plain.layers.len(), 6);
    assert_eq!(plain.named_parameters()[0].0, "0.fc.weight");
    let res = MlpSpec::residual(8, 6).build::<f64>();
    assert_eq!(res.layers.len(), 3);
    assert_eq!(res.num_parameters(), 6 * 8 * 8);
    // The blocks alone carry the same weights as the built net.
    let blocks = MlpSpec::residual(8, 6).seed(4).blocks::<f64>();
    let net = MlpSpec::residual(8, 6).seed(4).build::<f64>();
    assert_eq!(
        *blocks[2].fc2.weight.value(),
        *net.named_parameters()[5].1.value()
    );
    // Norm placement, from the two named switches.
    assert_eq!(MlpSpec::residual(8, 2).block_norm(), MlpNorm::None);
    assert_eq!(
        MlpSpec::residual(8, 2).norm(MlpNorm::Pre).block_norm(),
        MlpNorm::Pre
    );
    assert_eq!(
        MlpSpec::residual(8, 2).batch_norm(true).block_norm(),
        MlpNorm::Post
    );
    // With an input layer and a classifier: depth counts them.
    let full = MlpSpec::residual(8, 6)
        .inputs(Some(12))
        .classes(Some(3))
        .batch_norm(true)
        .build::<f32>();
    let names: Vec<String> = full.layers.iter().map(|(n, _)| n.clone()).collect();
    assert_eq!(
        names,
        ["flatten", "fc_in", "bn_in", "relu_in", "0", "1", "fc"]
    );
}

#[test]
fn mlp_specs_refuse_what_they_cannot_build() {
    let e = MlpSpec::residual(8, 5)
        .try_build::<f64>()
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("even") && e.contains("depth 5"), "{e}");
    let e = MlpSpec::plain(8, 4)
        .batch_norm(true)
        .pre_activation(true)
        .try_build::<f64>()
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("pre-activation") && e.contains("Residual"),
        "{e}"
    );
    assert!(MlpSpec::plain(8, 4).try_blocks::<f64>().is_err());
}

#[test]
fn the_mlp_shortcut_scale_multiplies_the_skip() {
    let tape = Tape::new_f64();
    let x = tape.constant(ArrayD::<f64>::from_shape_fn(IxDyn(&[3, 8]), |ix| {
        (ix[0] as f64 + 1.0) * (ix[1] as f64 - 3.5) * 0.1
    }));
    for lambda in [0.0, 0.5, 1.0] {
        let blocks = MlpSpec::residual(8, 2)
            .branch_scale(0.3)
            .shortcut_scale(lambda)
            .blocks::<f64>();
        let b = &blocks[0];
        assert_eq!(b.shortcut_scale, lambda);
        let y = b.forward(&x, Mode::Eval).value().clone();
        let want = b.branch(&x, Mode::Eval).value() + &(x.value() * lambda);
        let err = (&y - &want).iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(err < 1e-12, "lambda {lambda}: {err}");
    }
}

#[test]
fn a_spec_counts_its_net_before_building_it() {
    // The count the memory check uses, against the built nets' every tensor.
    for spec in [
        CifarSpec::resnet(20, ShortcutOption::A),
        CifarSpec::resnet(20, ShortcutOption::B),
        CifarSpec::resnet(32, ShortcutOption::C),
        CifarSpec::plain(20),
        CifarSpec {
            pre_activation: true,
            ..CifarSpec::resnet(20, ShortcutOption::B)
        },
        CifarSpec::resnet(20, ShortcutOption::B).batch_norm(false),
        CifarSpec {
            in_channels: 1,
            width: 4,
            classes: 3,
            ..CifarSpec::resnet(8, ShortcutOption::A)
        },
    ] {
        let net: ResNet = spec.build().unwrap();
        let held: usize = net.state().iter().map(|(_, p, _)| p.len()).sum();
        assert_eq!(spec.size(), Some(held as u128), "{}", net.name);
    }
}

#[test]
fn a_net_too_big_for_the_machine_is_refused_before_it_is_built() {
    // ResNet-600002 holds about 8.6e9 numbers, 32 GiB in f32; width 100000 about 1e13.
    for spec in [
        CifarSpec::resnet(600_002, ShortcutOption::A),
        CifarSpec {
            width: 100_000,
            ..CifarSpec::resnet(20, ShortcutOption::A)
        },
    ] {
        let e = spec.build::<f32>().err().expect("refused").to_string();
        for w in [
            "would need",
            "GiB",
            "this machine has",
            "smaller depth or width",
        ] {
            assert!(e.contains(w), "`{w}` not in: {e}");
        }
    }
    // Overflowing sizes are refused the same way, not wrapped around.
    let e = CifarSpec {
        width: usize::MAX / 2,
        ..CifarSpec::resnet(20, ShortcutOption::A)
    }
    .build::<f32>()
    .err()
    .expect("refused")
    .to_string();
    assert!(e.contains("more than 2^128"), "{e}");
    // The summary command's path refuses it too.
    let e = resgrad::models::by_name("resnet600002", None, StridePlacement::First1x1)
        .err()
        .expect("refused")
        .to_string();
    assert!(e.contains("would need"), "{e}");
}

#[test]
fn a_training_step_too_big_for_the_machine_is_refused_with_its_estimate() {
    // The estimate against a measured peak (docs/performance.md): ResNet-1202 at batch 32
    // peaked at 3,058 MiB resident (2.99 GiB), the program and the kernels' buffers too.
    let gib = |n: u128| (n * 4) as f64 / f64::from(1u32 << 30);
    let deep = CifarSpec::resnet(1202, ShortcutOption::A);
    let estimate = gib(deep.step_size(32, 32).unwrap());
    assert!((2.7..=2.99).contains(&estimate), "{estimate} GiB");
    // Linear in the batch, the weights aside.
    let small = CifarSpec::resnet(20, ShortcutOption::A);
    let step = |batch| small.step_size(batch, 32).unwrap();
    assert_eq!(step(3) - step(2), step(2) - step(1));
    small.check_step::<f32>(128, 32).unwrap();
    let e = small
        .check_step::<f32>(100_000_000, 32)
        .unwrap_err()
        .to_string();
    for w in [
        "CifarSpec::check_step",
        "batch of 100000000 images of 3x32x32",
        "would need",
        "this machine has",
        "choose a smaller batch",
    ] {
        assert!(e.contains(w), "`{w}` not in: {e}");
    }
    // What `check` refuses comes first.
    let e = CifarSpec::resnet(21, ShortcutOption::A)
        .check_step::<f32>(1, 32)
        .unwrap_err();
    assert!(e.to_string().contains("6n + 2"), "{e}");
}

#[test]
fn an_mlp_spec_counts_its_net_and_refuses_one_too_big() {
    for spec in [
        MlpSpec::plain(16, 6),
        MlpSpec::plain(16, 6).batch_norm(true),
        MlpSpec::residual(16, 8).norm(MlpNorm::Post),
        MlpSpec::residual(16, 10).inputs(Some(64)).classes(Some(10)),
        MlpSpec::plain(8, 5)
            .batch_norm(true)
            .inputs(Some(12))
            .classes(Some(3)),
    ] {
        let net = spec.try_build::<f32>().unwrap();
        let held: usize = net.state().iter().map(|(_, p, _)| p.len()).sum();
        assert_eq!(spec.size(), Some(held as u128), "{spec:?}");
    }
    // Width 100000 and depth 56: 5.6e11 weights, about 2 TiB in f32.
    let e = MlpSpec::plain(100_000, 56)
        .try_build::<f32>()
        .err()
        .expect("refused")
        .to_string();
    for w in ["MlpSpec::build", "would need", "GiB", "this machine has"] {
        assert!(e.contains(w), "`{w}` not in: {e}");
    }
    let e = MlpSpec::residual(100_000, 56)
        .try_blocks::<f32>()
        .err()
        .expect("refused")
        .to_string();
    assert!(e.contains("would need"), "{e}");
}
