//! The playground's numbers, natively: the same functions the page calls through wasm
//! (`scripts/playground --test` compares the two builds in a browser).

use resgrad::flow::{FlowSetup, depth_curve};
use resgrad::playground::{Arch, Live, Points, Settings, Start, fan};

/// The fan of a setting is the depth curve of the same net: the page draws the flow
/// instruments' numbers, not numbers of its own.
#[test]
fn the_fan_is_the_depth_curve_of_each_seed() {
    for (arch, start, bn, setup) in [
        (Arch::Plain, Start::He, false, FlowSetup::HePlain),
        (Arch::Plain, Start::Glorot, false, FlowSetup::GlorotPlain),
        (Arch::Plain, Start::He, true, FlowSetup::BnPlain),
        (
            Arch::Residual,
            Start::ZeroInitResidual,
            false,
            FlowSetup::ZeroInitResidual,
        ),
        (
            Arch::Residual,
            Start::He,
            true,
            FlowSetup::PostActBnResidual,
        ),
        (
            Arch::PreActivation,
            Start::He,
            true,
            FlowSetup::PreActBnResidual,
        ),
    ] {
        let s = Settings {
            arch,
            start,
            batch_norm: bn,
            depth: 24,
            seed: 4,
            seeds: 3,
            ..Settings::default()
        };
        let probes = fan(&s).unwrap();
        assert_eq!(probes.len(), 3);
        for (i, p) in probes.iter().enumerate() {
            let curve = depth_curve(setup, 24, 4 + i as u64);
            let ys: Vec<f64> = curve.points.iter().map(|q| q.1).collect();
            assert_eq!(p.gradient, ys, "{setup}, seed {}", 4 + i);
        }
    }
}

/// Every control out of its range, and every net the library refuses, gets a sentence
/// that names what to change.
#[test]
fn bad_settings_say_what_to_change() {
    let msg = |s: Settings| fan(&s).unwrap_err().to_string();
    let base = Settings::default;
    assert!(
        msg(Settings {
            depth: 202,
            ..base()
        })
        .contains("choose 2 to 200")
    );
    assert!(msg(Settings { width: 0, ..base() }).contains("choose 1 to 512"));
    assert!(msg(Settings { seeds: 0, ..base() }).contains("choose 1 to 32"));
    assert!(
        msg(Settings {
            lambda: f64::NAN,
            ..base()
        })
        .contains("finite")
    );
    let preact = msg(Settings {
        arch: Arch::PreActivation,
        batch_norm: false,
        ..base()
    });
    assert!(
        preact.contains("pre-activation") && preact.contains("batch_norm true"),
        "{preact}"
    );
    let zero = msg(Settings {
        arch: Arch::Plain,
        start: Start::ZeroInitResidual,
        ..base()
    });
    assert!(zero.contains("plain net has no branch"), "{zero}");
    let odd = msg(Settings {
        depth: 51,
        ..base()
    });
    assert!(odd.contains("even number"), "{odd}");
}

/// Lambda reaches the nets: eq. 5's direct term at the input is lambda^blocks.
#[test]
fn lambda_sets_the_direct_term() {
    for lambda in [0.9, 1.0, 1.1] {
        let s = Settings {
            lambda,
            batch_norm: false,
            start: Start::ZeroInitResidual,
            depth: 40,
            seeds: 1,
            ..Settings::default()
        };
        let split = fan(&s).unwrap()[0].split.clone().expect("eq. 5 holds here");
        let want = lambda.powi(20);
        assert!(
            (split[0].0 - want).abs() < 1e-9 * want,
            "{} vs {want}",
            split[0].0
        );
    }
}

/// The live view's claim, on the page's defaults (spirals, width 32, batch norm, He,
/// learning rate 0.03, a budget of 100 steps): the 30-layer plain net trains clearly
/// worse than its residual twin, seed by seed and on average.
#[test]
fn plain_30_trains_worse_than_residual_30_on_the_spirals() {
    let accuracy = |arch, seed| {
        let s = Settings {
            arch,
            depth: 30,
            width: 32,
            batch_norm: true,
            seed,
            ..Settings::default()
        };
        let mut live = Live::new(&s, Points::Spirals, 0.03).unwrap();
        live.train(100).unwrap();
        assert_eq!(live.losses().len(), 100);
        live.accuracy().unwrap()
    };
    let seeds = 0..6;
    let plain: Vec<f64> = seeds.clone().map(|s| accuracy(Arch::Plain, s)).collect();
    let residual: Vec<f64> = seeds.map(|s| accuracy(Arch::Residual, s)).collect();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    eprintln!("spirals, 100 steps: plain-30 {plain:?}, residual-30 {residual:?}");
    assert!(
        mean(&residual) >= 0.95,
        "residual-30 should fit the spirals: {residual:?}"
    );
    assert!(
        mean(&plain) <= mean(&residual) - 0.10,
        "plain-30 should be clearly worse: plain {plain:?} residual {residual:?}"
    );
    let wins = plain.iter().zip(&residual).filter(|(p, r)| p < r).count();
    assert!(
        wins >= 5,
        "residual-30 should win on nearly every seed: {plain:?} {residual:?}"
    );
}

/// Each data set is two classes of equal size inside the drawn square, and the boundary
/// grid covers it.
#[test]
fn the_live_data_sets_fit_the_drawn_square() {
    for points in [Points::Spirals, Points::Moons, Points::Circles] {
        let live = Live::new(&Settings::default(), points, 0.05).unwrap();
        let pts = live.points();
        assert_eq!(pts.len(), 3 * resgrad::playground::LIVE_POINTS);
        let ones = pts.chunks(3).filter(|p| p[2] == 1.0).count();
        assert_eq!(ones * 2, resgrad::playground::LIVE_POINTS, "{points:?}");
        assert!(
            pts.chunks(3).all(|p| p[0].abs() < 1.5 && p[1].abs() < 1.5),
            "{points:?} leaves the square [-1.5, 1.5]^2"
        );
        let grid = live.grid(10).unwrap();
        assert_eq!(grid.len(), 100);
        assert!(grid.iter().all(|p| (0.0..=1.0).contains(p)));
    }
}
