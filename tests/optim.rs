//! Optimizer steps against values computed by hand, with PyTorch's semantics.

use resgrad::ndarray::array;
use resgrad::train::optim::{Adam, Schedule, Sgd};
use resgrad::{Param, Tape};

/// Loss = sum(w * c): its gradient is exactly c.
fn step_with(c: [f64; 2], p: &Param<f64>, f: &mut dyn FnMut(&Param<f64>, &resgrad::Grads<f64>)) {
    let tape = Tape::new_f64();
    let loss = (tape.param(p) * tape.constant(array![c[0], c[1]])).sum();
    let grads = loss.backward();
    f(p, &grads);
}

#[test]
fn sgd_with_momentum_and_weight_decay_by_hand() {
    let p = Param::new("w", array![1.0, -2.0]);
    let mut opt = Sgd::new(0.1).momentum(0.9).weight_decay(0.01);
    // Step 1: g = c + 0.01 w = [0.5 + 0.01, 1 - 0.02] = [0.51, 0.98]; v = g; w -= 0.1 v.
    step_with([0.5, 1.0], &p, &mut |p, g| {
        opt.step(std::slice::from_ref(p), g)
    });
    let w1 = [1.0 - 0.1 * 0.51, -2.0 - 0.1 * 0.98];
    assert!(
        (p.value()[0] - w1[0]).abs() < 1e-12 && (p.value()[1] - w1[1]).abs() < 1e-12,
        "{:?}",
        p.value()
    );
    // Step 2: g = c + 0.01 w1; v = 0.9 v + g; w -= 0.1 v.
    step_with([0.5, 1.0], &p, &mut |p, g| {
        opt.step(std::slice::from_ref(p), g)
    });
    let g2 = [0.5 + 0.01 * w1[0], 1.0 + 0.01 * w1[1]];
    let v2 = [0.9 * 0.51 + g2[0], 0.9 * 0.98 + g2[1]];
    let w2 = [w1[0] - 0.1 * v2[0], w1[1] - 0.1 * v2[1]];
    assert!((p.value()[0] - w2[0]).abs() < 1e-12 && (p.value()[1] - w2[1]).abs() < 1e-12);
}

#[test]
fn sgd_nesterov_by_hand() {
    let p = Param::new("w", array![1.0, 1.0]);
    let mut opt = Sgd::new(0.1).momentum(0.9).nesterov(true);
    step_with([1.0, 2.0], &p, &mut |p, g| {
        opt.step(std::slice::from_ref(p), g)
    });
    // v = g; update = g + 0.9 v = 1.9 g.
    assert!((p.value()[0] - (1.0 - 0.1 * 1.9)).abs() < 1e-12);
    step_with([1.0, 2.0], &p, &mut |p, g| {
        opt.step(std::slice::from_ref(p), g)
    });
    // v = 0.9 g + g = 1.9 g; update = g + 0.9 * 1.9 g = 2.71 g.
    assert!(
        (p.value()[1] - (1.0 - 0.1 * 3.8 - 0.1 * 2.71 * 2.0)).abs() < 1e-12,
        "{:?}",
        p.value()
    );
}

#[test]
fn adam_by_hand() {
    let p = Param::new("w", array![0.5, -0.5]);
    let mut opt = Adam::new(0.01);
    // With a constant gradient the bias-corrected moments are m = g, v = g^2 at every
    // step, so each step moves every weight by lr * g / (|g| + eps) = lr * sign(g).
    for k in 1..=3 {
        step_with([2.0, -0.25], &p, &mut |p, g| {
            opt.step(std::slice::from_ref(p), g)
        });
        let eps_term = |g: f64| 0.01 * g / (g.abs() + 1e-8);
        let want = [
            0.5 - k as f64 * eps_term(2.0),
            -0.5 - k as f64 * eps_term(-0.25),
        ];
        assert!(
            (p.value()[0] - want[0]).abs() < 1e-10 && (p.value()[1] - want[1]).abs() < 1e-10,
            "step {k}: {:?}",
            p.value()
        );
    }
}

#[test]
fn schedules() {
    let ms = Schedule::MultiStep {
        milestones: vec![32_000, 48_000],
        factor: 10.0,
    };
    assert_eq!(ms.lr(0.1, 0), 0.1);
    assert!(
        (ms.lr(0.1, 32_000) - 0.01).abs() < 1e-15 && (ms.lr(0.1, 50_000) - 0.001).abs() < 1e-15
    );
    let warm = Schedule::Warmup {
        steps: 400,
        warmup_lr: 0.01,
        then: Box::new(ms),
    };
    assert_eq!(warm.lr(0.1, 399), 0.01);
    assert_eq!(warm.lr(0.1, 400), 0.1);
    let cos = Schedule::Cosine { total: 100 };
    assert!((cos.lr(1.0, 50) - 0.5).abs() < 1e-12 && cos.lr(1.0, 100).abs() < 1e-12);
}

/// The paper's warm-up (He et al. 2015 §4.2) goes in front of the schedule of the deepest
/// nets only, and the rate still drops at the milestones' own steps of the run.
#[test]
fn the_deep_warm_up_leaves_shallow_nets_alone_and_keeps_the_milestones() {
    use resgrad::train::{DeepWarmup, DegradationConfig, TrainConfig};
    let cfg = DegradationConfig {
        train: TrainConfig {
            steps: 64_000,
            lr: 0.1,
            schedule: Schedule::MultiStep {
                milestones: vec![32_000, 48_000],
                factor: 10.0,
            },
            ..TrainConfig::default()
        },
        warmup: Some(DeepWarmup::paper(64_000)),
        ..DegradationConfig::mlp_probe()
    };
    assert_eq!(cfg.warmup.unwrap().steps, 400);
    let lr = |depth: usize, t: usize| {
        let tc = cfg.train_config_for(depth);
        tc.schedule.lr(tc.lr, t)
    };
    for (t, shallow, deep) in [
        (0, 0.1, 0.01),
        (399, 0.1, 0.01),
        (400, 0.1, 0.1),
        (31_999, 0.1, 0.1),
        (32_000, 0.01, 0.01),
        (47_999, 0.01, 0.01),
        (48_000, 0.001, 0.001),
    ] {
        assert!(
            (lr(56, t) - shallow).abs() < 1e-12,
            "depth 56, step {t}: {}",
            lr(56, t)
        );
        assert!(
            (lr(110, t) - deep).abs() < 1e-12,
            "depth 110, step {t}: {}",
            lr(110, t)
        );
    }
}
