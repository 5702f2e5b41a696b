//! Veit et al. 2016's lesion study (`flow::lesion_study`, `flow::run_lesion`): the net
//! comes back whole, a study that forgets to restore it is caught, identity blocks lose
//! nothing, the errors name the function and the rule, and at the chapter's settings the
//! residual net degrades gracefully where the plain net collapses.
//! Run with `--release`: the last test trains two 26-layer nets on Fashion-MNIST.

use resgrad::data::{DataSource, Dataset, digits_split, load_splits};
use resgrad::flow::{
    LesionConfig, accuracy_without, body_elements, lesion_groups, lesion_study, run_lesion,
};
use resgrad::models::{MlpSpec, NetKind};
use resgrad::nn::{Module, Sequential};
use resgrad::train::{TrainConfig, evaluate, train};

/// Everything a lesion could disturb: the names in order, and every parameter's and
/// buffer's bits, by name.
fn fingerprint(net: &Sequential<f32>) -> (Vec<String>, Vec<(String, Vec<u32>)>) {
    let names = net.layers.iter().map(|(n, _)| n.clone()).collect();
    let bits = net
        .named_parameters()
        .into_iter()
        .chain(net.named_buffers())
        .map(|(n, p)| (n, p.value().iter().map(|v| v.to_bits()).collect()))
        .collect();
    (names, bits)
}

/// A BN MLP on the 8x8 digits, trained for 60 steps (so its batch-norm statistics are no
/// longer the fresh ones): 4 residual blocks, or 8 plain layers.
fn small_trained(kind: NetKind) -> (Sequential<f32>, Dataset) {
    let (train_set, test) = digits_split();
    let net = MlpSpec {
        kind,
        depth: 10,
        batch_norm: true,
        inputs: Some(64),
        classes: Some(10),
        seed: 1,
        ..MlpSpec::plain(32, 0)
    }
    .build::<f32>();
    let cfg = TrainConfig {
        steps: 60,
        eval_every: 60,
        eval_images: 100,
        ..TrainConfig::default()
    };
    train(&net, &train_set, None, &cfg).expect("trains");
    (net, test)
}

#[test]
fn the_net_comes_back_bit_for_bit_after_the_study() {
    for kind in [NetKind::Residual, NetKind::Plain] {
        let (mut net, test) = small_trained(kind);
        let before = fingerprint(&net);
        let full = 1.0 - evaluate(&net, &test, 0);
        let per = if kind == NetKind::Residual { 2 } else { 1 };
        let deletions = lesion_study(&mut net, &test, per).expect("runs");
        assert_eq!(deletions.len(), body_elements(&net).len());
        assert_eq!(fingerprint(&net), before, "{kind}: the net changed");
        lesion_groups(&mut net, &test, per, 3).expect("runs");
        assert_eq!(
            fingerprint(&net),
            before,
            "{kind}: groups of 3 changed the net"
        );
        assert_eq!(
            1.0 - evaluate(&net, &test, 0),
            full,
            "{kind}: a different accuracy after"
        );
    }
}

#[test]
fn the_net_comes_back_even_when_the_evaluation_fails() {
    let (mut net, _) = small_trained(NetKind::Residual);
    let before = fingerprint(&net);
    // 14x14 images, where the net takes 8x8: every evaluation is refused.
    let wrong = load_splits(Some(DataSource::Digits), None)
        .expect("embedded")
        .test;
    let wrong = Dataset {
        images: vec![0.0; wrong.len() * 196],
        shape: [1, 14, 14],
        ..wrong
    };
    let e = lesion_study(&mut net, &wrong, 2).expect_err("the net refuses 14x14 images");
    assert!(
        e.to_string().contains("fc_in") || e.to_string().contains("196"),
        "{e}"
    );
    assert_eq!(fingerprint(&net), before);
    let e = accuracy_without(&mut net, &["1", "3"], &wrong).expect_err("refused");
    assert!(!e.to_string().is_empty());
    assert_eq!(fingerprint(&net), before);
}

/// The teeth of the restore check: a study that forgets to put a block back, or puts it
/// back in the wrong place, is caught by the same fingerprint.
#[test]
fn a_study_that_forgets_to_restore_is_caught() {
    let (mut net, test) = small_trained(NetKind::Residual);
    let before = fingerprint(&net);
    // Forgets: removes block "2" and evaluates, never inserts it back.
    let i = body_elements(&net)[2];
    let removed = net.layers.remove(i);
    let _ = evaluate(&net, &test, 0);
    assert_ne!(fingerprint(&net), before, "a missing block must be seen");
    // Puts it back at the end instead of at its place.
    net.layers.push(removed);
    assert_ne!(
        fingerprint(&net),
        before,
        "a block out of place must be seen"
    );
    let removed = net.layers.pop().expect("pushed");
    net.layers.insert(i, removed);
    assert_eq!(fingerprint(&net), before, "now in its place");
    // Deleting two blocks at once: removing the lower first would shift the higher one.
    let acc = accuracy_without(&mut net, &["3", "1"], &test).expect("runs");
    assert_eq!(fingerprint(&net), before);
    assert!((0.0..=1.0).contains(&acc));
}

/// A residual block whose branch outputs zero is the identity (its input already went
/// through a ReLU), so deleting it changes nothing: every lesion keeps the full accuracy,
/// to the bit. Deleting a plain layer of the same net is not free.
#[test]
fn deleting_an_identity_block_loses_nothing() {
    let (mut net, test) = small_trained(NetKind::Residual);
    // bn2's gamma and beta 0: in eval mode the branch is exactly 0 (Goyal et al. 2017).
    net.visit(&mut |name, p, _| {
        if name.contains("bn2.") && (name.ends_with("weight") || name.ends_with("bias")) {
            p.update(|w| w.fill(0.0));
        }
    });
    let full = 1.0 - evaluate(&net, &test, 0);
    let deletions = lesion_study(&mut net, &test, 2).expect("runs");
    assert_eq!(deletions.len(), 4);
    for d in &deletions {
        assert_eq!(d.accuracy, full, "deleting identity block {:?}", d.names);
    }
    // All four at once: the net is fc_in and the classifier, and still the same function.
    let none_left = accuracy_without(&mut net, &["0", "1", "2", "3"], &test).expect("runs");
    assert_eq!(none_left, full);

    let (mut plain, test) = small_trained(NetKind::Plain);
    let full = 1.0 - evaluate(&plain, &test, 0);
    let deletions = lesion_study(&mut plain, &test, 1).expect("runs");
    assert!(
        deletions.iter().any(|d| d.accuracy < full - 0.05),
        "{deletions:?}"
    );
}

#[test]
fn weight_layers_put_blocks_and_layers_on_one_axis() {
    let (mut res, test) = small_trained(NetKind::Residual);
    let d = lesion_study(&mut res, &test, 2).expect("runs");
    let layers: Vec<(usize, usize)> = d.iter().map(|d| d.weight_layers).collect();
    assert_eq!(layers, vec![(2, 3), (4, 5), (6, 7), (8, 9)]);
    assert_eq!(d[1].position(), 4.5);
    let (mut plain, test) = small_trained(NetKind::Plain);
    let pairs = lesion_groups(&mut plain, &test, 1, 2).expect("runs");
    assert_eq!(pairs[0].names, vec!["0".to_string(), "1".to_string()]);
    assert_eq!(pairs[0].weight_layers, (2, 3));
    assert_eq!(pairs.len(), 4);
}

#[test]
fn errors_name_the_function_and_the_rule() {
    let (mut net, test) = small_trained(NetKind::Residual);
    let empty = test.take(0);
    let e = lesion_study(&mut net, &empty, 2).expect_err("empty test set");
    let s = e.to_string();
    assert!(s.contains("lesion_study") && s.contains("empty"), "{s}");

    let mut headless = Sequential::<f32>::new().push_named("fc", resgrad::nn::Flatten);
    let e = lesion_study(&mut headless, &test, 1).expect_err("no body");
    let s = e.to_string();
    assert!(
        s.contains("lesion_study") && s.contains("no body element"),
        "{s}"
    );

    let e = accuracy_without(&mut net, &["fc"], &test).expect_err("the classifier");
    let s = e.to_string();
    assert!(
        s.contains("accuracy_without") && s.contains("classifier"),
        "{s}"
    );
    let e = accuracy_without(&mut net, &["1", "1"], &test).expect_err("twice");
    assert!(e.to_string().contains("twice"), "{e}");

    let cfg = LesionConfig {
        blocks: 0,
        ..LesionConfig::fashion_probe()
    };
    let e = run_lesion(&cfg, &test, &test).expect_err("no blocks");
    let s = e.to_string();
    assert!(
        s.contains("LesionConfig::check") && s.contains("at least 1"),
        "{s}"
    );
    let e = run_lesion(&LesionConfig::fashion_probe(), &test, &empty).expect_err("empty");
    assert!(e.to_string().contains("run_lesion"), "{e}");
}

/// The chapter's settings (Fashion-MNIST at 14x14, 12 blocks of width 64 against 24 plain
/// layers, 600 steps): over single deletions the residual net's mean test accuracy is at
/// least 30 points above the plain net's, the residual net loses at most 10 points on
/// average, and the plain net falls within 15 points of chance.
#[test]
fn at_the_chapters_settings_the_residual_net_degrades_gracefully_and_the_plain_net_collapses() {
    let s = load_splits(Some(DataSource::Fashion), None)
        .unwrap_or_else(|e| panic!("{e}"))
        .prepare(0, true);
    let cfg = LesionConfig::fashion_probe();
    assert!(cfg.blocks >= 10);
    let r = run_lesion(&cfg, &s.train, &s.test).expect("trains");
    println!("{r}");
    assert_eq!(r.residual.deletions.len(), 12);
    assert_eq!(r.plain.deletions.len(), 24);
    assert!(
        r.gap_points() >= 30.0,
        "gap {:.1} points\n{r}",
        r.gap_points()
    );
    assert!(
        r.residual.full_accuracy - r.residual.mean_accuracy() < 0.10,
        "{r}"
    );
    assert!(r.plain.mean_accuracy() < 0.25, "{r}");
    let fig = r.figure();
    assert!(
        fig.svg.contains("<svg") && fig.caption.contains("near chance"),
        "{}",
        fig.caption
    );
}
