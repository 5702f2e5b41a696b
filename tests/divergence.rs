//! Training that fails loudly: a batch the model refuses, a run that diverges and values
//! that make no sense come back as errors that say what happened and what to do; nothing
//! panics, and no run reports success with meaningless numbers.

mod common;

use common::bn_mlp;
use resgrad::data;
use resgrad::models::CifarSpec;
use resgrad::nn::{BatchNorm2d, Conv2d, Init, Linear, Mode, Module, ShortcutOption, rng};
use resgrad::train::{DegradationConfig, Family, Run, TrainConfig, train, train_until};
use resgrad::{Error, Tape};

fn cfg(steps: usize, batch: usize) -> TrainConfig {
    TrainConfig {
        steps,
        batch,
        eval_every: 1000,
        eval_images: 64,
        label: "test-run".into(),
        ..TrainConfig::default()
    }
}

fn images(n: usize, shape: &[usize]) -> resgrad::ndarray::ArrayD<f32> {
    let mut full = vec![n];
    full.extend_from_slice(shape);
    resgrad::ndarray::ArrayD::from_elem(full, 0.5)
}

#[test]
fn try_forward_returns_batch_norms_error_on_a_batch_of_one_in_training_mode() {
    let net = bn_mlp(0);
    let tape = Tape::new();
    let one = tape.constant(images(1, &[1, 8, 8]));
    let err = net.try_forward(&one, Mode::Train).unwrap_err().to_string();
    assert!(
        err.contains("batch_norm2d") && err.contains("more than one value per channel"),
        "{err}"
    );
    // The same image is fine in eval mode, and two images are fine in training mode.
    assert!(net.try_forward(&one, Mode::Eval).is_ok());
    let two = tape.constant(images(2, &[1, 8, 8]));
    assert_eq!(
        net.try_forward(&two, Mode::Train).unwrap().shape(),
        &[2, 10]
    );

    // A CIFAR ResNet passes its children's errors on too (batch norm after a conv takes
    // its statistics over the batch and the pixels, so one 8x8 image is enough there).
    let conv = CifarSpec::resnet(8, ShortcutOption::A)
        .in_channels(1)
        .width(4)
        .build()
        .unwrap();
    let three_channels = tape.constant(images(2, &[3, 8, 8]));
    let err = conv
        .try_forward(&three_channels, Mode::Train)
        .unwrap_err()
        .to_string();
    assert!(err.contains("conv2d"), "{err}");
    let x = tape.constant(images(1, &[1, 8, 8]));
    assert_eq!(conv.try_forward(&x, Mode::Train).unwrap().shape(), &[1, 10]);
}

#[test]
fn a_refused_batch_updates_no_batch_count() {
    let bn = BatchNorm2d::<f32>::new(3);
    let tape = Tape::new();
    let count = || bn.num_batches_tracked.value().sum();
    assert!(
        bn.try_forward(&tape.constant(images(1, &[3])), Mode::Train)
            .is_err()
    );
    assert_eq!(count(), 0.0);
    assert!(
        bn.try_forward(&tape.constant(images(2, &[3])), Mode::Train)
            .is_ok()
    );
    assert_eq!(count(), 1.0);
}

#[test]
fn try_forward_returns_shape_errors_of_convs_and_linear_layers() {
    let mut r = rng(0);
    let tape = Tape::new();
    let fc = Linear::<f32>::new(4, 3, true, Init::HeNormal, &mut r);
    let err = fc
        .try_forward(&tape.constant(images(2, &[5])), Mode::Eval)
        .unwrap_err();
    assert!(matches!(err, Error::Shape { .. }), "{err}");
    assert!(
        fc.try_forward(&tape.constant(images(2, &[4])), Mode::Eval)
            .is_ok()
    );

    let conv = Conv2d::<f32>::new(3, 8, 3, 1, 1, false, Init::HeNormal, &mut r);
    let err = conv
        .try_forward(&tape.constant(images(2, &[2, 6, 6])), Mode::Eval)
        .unwrap_err();
    assert!(err.to_string().contains("conv2d"), "{err}");
    assert!(
        conv.try_forward(&tape.constant(images(2, &[3, 6, 6])), Mode::Eval)
            .is_ok()
    );
}

#[test]
#[should_panic(expected = "more than one value per channel")]
fn forward_still_panics_with_the_same_text() {
    let tape = Tape::new();
    bn_mlp(0).forward(&tape.constant(images(1, &[1, 8, 8])), Mode::Train);
}

#[test]
fn drop_last_is_on_by_default_and_skips_the_last_batch_of_one() {
    // 33 images in batches of 8: four full batches and one of a single image.
    let d = data::digits().take(33);
    let c = cfg(10, 8);
    assert!(c.drop_last);
    assert_eq!(c.steps_per_epoch(33).unwrap(), 4);
    let h = train(&bn_mlp(1), &d, None, &c).unwrap();
    assert_eq!(h.loss.len(), 10);
    let epochs: Vec<usize> = h.epochs.iter().map(|e| e.0).collect();
    assert_eq!(epochs, [1, 2], "epochs of 4 steps each");
}

#[test]
fn without_drop_last_a_batch_of_one_is_a_clear_error_not_a_panic() {
    let d = data::digits().take(33);
    let c = TrainConfig {
        drop_last: false,
        ..cfg(10, 8)
    };
    assert_eq!(c.steps_per_epoch(33).unwrap(), 5);
    let model = bn_mlp(1);
    let mut run = Run::new(&c);
    let err = train_until(&model, &d, None, &c, &mut run, 10)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("test-run: step 5")
            && err.contains("holds 1 image")
            && err.contains("batch_norm2d")
            && err.contains("drop_last"),
        "{err}"
    );
    assert_eq!(
        run.step, 4,
        "the four full batches ran, the refused one did not"
    );
    // With a batch that leaves two images over, the same setting trains.
    let c = TrainConfig {
        drop_last: false,
        ..cfg(10, 31)
    };
    assert!(train(&bn_mlp(1), &d, None, &c).is_ok());
}

#[test]
fn a_training_set_smaller_than_one_batch_is_refused_with_drop_last() {
    let d = data::digits().take(20);
    let err = train(&bn_mlp(0), &d, None, &cfg(5, 32))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("20 images") && err.contains("batch of 32") && err.contains("drop_last"),
        "{err}"
    );
    let c = TrainConfig {
        drop_last: false,
        ..cfg(5, 32)
    };
    assert!(train(&bn_mlp(0), &d, None, &c).is_ok());
    // An empty training set is refused either way.
    let err = train(&bn_mlp(0), &d.take(0), None, &c)
        .unwrap_err()
        .to_string();
    assert!(err.contains("training set is empty"), "{err}");
}

#[test]
fn a_huge_learning_rate_stops_the_run_naming_the_step() {
    let d = data::digits().take(256);
    let c = TrainConfig {
        lr: 1e6,
        ..cfg(50, 32)
    };
    let model = bn_mlp(2);
    let mut run = Run::new(&c);
    let err = train_until(&model, &d, None, &c, &mut run, 50).unwrap_err();
    let Error::Diverged { step, .. } = &err else {
        panic!("expected a divergence, got {err}");
    };
    assert!(*step < 50, "stopped early, at step {step}");
    assert_eq!(run.step, step - 1, "the diverged step is not taken");
    assert!(run.history.loss.iter().all(|l| l.is_finite()));
    let text = err.to_string();
    assert!(
        text.contains(&format!("diverged at step {step}"))
            && text.contains("last finite loss")
            && text.contains("Lower the learning rate")
            && text.contains("detect_anomaly"),
        "{text}"
    );
    // The same net with the usual learning rate trains to the end.
    assert_eq!(
        train(&bn_mlp(2), &d, None, &cfg(50, 32))
            .unwrap()
            .loss
            .len(),
        50
    );
}

#[test]
fn with_anomaly_mode_the_divergence_names_the_op() {
    let d = data::digits().take(256);
    let c = TrainConfig {
        lr: 1e6,
        detect_anomaly: true,
        ..cfg(50, 32)
    };
    let err = train(&bn_mlp(2), &d, None, &c).unwrap_err();
    assert!(matches!(err, Error::Diverged { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("Anomaly mode found where") && text.contains("op `") && text.contains(".rs:"),
        "{text}"
    );
}

#[test]
fn the_training_settings_are_checked_each_with_its_rule() {
    let d = data::digits().take(64);
    let good = cfg(2, 32);
    assert!(good.check().is_ok());
    let cases: [(TrainConfig, &str); 8] = [
        (
            TrainConfig {
                lr: f64::NAN,
                ..good.clone()
            },
            "learning rate is NaN",
        ),
        (
            TrainConfig {
                lr: f64::INFINITY,
                ..good.clone()
            },
            "learning rate is inf",
        ),
        (
            TrainConfig {
                lr: -0.1,
                ..good.clone()
            },
            "learning rate is -0.1",
        ),
        (
            TrainConfig {
                steps: 0,
                ..good.clone()
            },
            "steps is 0",
        ),
        (
            TrainConfig {
                batch: 0,
                ..good.clone()
            },
            "batch is 0",
        ),
        (
            TrainConfig {
                momentum: 1.0,
                ..good.clone()
            },
            "momentum is 1",
        ),
        (
            TrainConfig {
                momentum: -0.5,
                ..good.clone()
            },
            "momentum is -0.5",
        ),
        (
            TrainConfig {
                weight_decay: f64::NAN,
                ..good.clone()
            },
            "weight decay is NaN",
        ),
    ];
    for (bad, text) in cases {
        let err = bad.check().unwrap_err().to_string();
        assert!(
            err.contains(text) && err.contains("TrainConfig::check"),
            "{err}"
        );
        // The trainer refuses it before any step, and changes nothing.
        let model = bn_mlp(0);
        let before = model.parameters()[0].value();
        let err = train(&model, &d, None, &bad).unwrap_err().to_string();
        assert!(err.contains(text), "{err}");
        assert_eq!(model.parameters()[0].value(), before);
    }
    // A learning rate of 0 is allowed (it trains nothing, but it is a number).
    assert!(TrainConfig { lr: 0.0, ..good }.check().is_ok());
}

#[test]
fn the_degradation_settings_refuse_width_and_depth_zero() {
    let good = DegradationConfig::mlp_probe();
    assert!(good.check().is_ok());
    let err = |c: DegradationConfig| c.check().unwrap_err().to_string();
    let e = err(DegradationConfig {
        width: 0,
        ..good.clone()
    });
    assert!(e.contains("width is 0"), "{e}");
    for depth in [0, 1] {
        let e = err(DegradationConfig {
            depths: vec![20, depth],
            ..good.clone()
        });
        assert!(e.contains(&format!("MLP of depth {depth}")), "{e}");
    }
    let e = err(DegradationConfig {
        family: Family::Conv,
        depths: vec![0],
        ..good.clone()
    });
    assert!(e.contains("6n + 2"), "{e}");
    let mut bad_lr = good.clone();
    bad_lr.train.lr = f64::NAN;
    assert!(err(bad_lr).contains("learning rate is NaN"));
    let mut bad_steps = good.clone();
    bad_steps.train.steps = 0;
    assert!(err(bad_steps).contains("steps is 0"));
    // run_degradation checks them too, before training anything.
    let e = resgrad::train::run_degradation(
        &DegradationConfig { width: 0, ..good },
        &data::digits().take(64),
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("width is 0"), "{e}");
}

/// Runs the command line; returns (success, stderr).
fn resgrad(args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_resgrad"))
        .args(args)
        .env("RESGRAD_QUIET", "1")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_command_line_refuses_values_that_make_no_sense() {
    let dir = std::env::temp_dir().join(format!("resgrad-cli-values-{}", std::process::id()));
    let out = dir.to_str().unwrap();
    let cases = [
        ("--lr=nan", "learning rate is NaN"),
        ("--lr=inf", "learning rate is inf"),
        ("--lr=-1", "learning rate is -1"),
        ("--steps=0", "steps is 0"),
        ("--batch=0", "batch is 0"),
        ("--width=0", "width is 0"),
        ("--depths=0", "6n + 2"),
    ];
    for (arg, text) in cases {
        let (ok, err) = resgrad(&["degradation", "--data", "digits", arg, "--out", out]);
        assert!(!ok && err.contains(text), "{arg}: {err}");
    }
    let (ok, err) = resgrad(&[
        "degradation",
        "--data",
        "digits",
        "--family",
        "mlp",
        "--depths=0",
        "--out",
        out,
    ]);
    assert!(!ok && err.contains("MLP of depth 0"), "{err}");
    assert!(!dir.exists(), "nothing written");
}

#[test]
fn the_command_line_fails_on_divergence_and_names_the_step_and_the_op() {
    let dir = std::env::temp_dir().join(format!("resgrad-cli-diverge-{}", std::process::id()));
    let out = dir.to_str().unwrap();
    let args = [
        "degradation",
        "--data",
        "digits",
        "--family",
        "mlp",
        "--depths",
        "4",
        "--lr",
        "1e6",
        "--steps",
        "50",
        "--out",
        out,
    ];
    let (ok, err) = resgrad(&args);
    assert!(!ok && err.contains("diverged at step"), "{err}");
    assert!(!err.contains("Anomaly mode found where"), "{err}");
    let mut with_anomaly = args.to_vec();
    with_anomaly.push("--detect-anomaly");
    let (ok, err) = resgrad(&with_anomaly);
    assert!(
        !ok && err.contains("diverged at step") && err.contains("op `"),
        "{err}"
    );
    assert!(!dir.exists(), "no table, no figure of a diverged run");
    // The same run with the usual learning rate completes, with a batch that leaves one
    // image over (drop_last).
    let good = [
        "degradation",
        "--data",
        "digits",
        "--family",
        "mlp",
        "--depths",
        "4",
        "--batch",
        "8",
        "--steps",
        "5",
        "--out",
        out,
    ];
    let (ok, err) = resgrad(&good);
    assert!(ok, "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
