//! Every figure's caption says only what its numbers show, and the tour says which net is
//! training and where its data came from. The claims of each caption are checked here on
//! the numbers the figure is drawn from (the same seeds, so the same numbers).

#[path = "common/svg.rs"]
mod svg;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use resgrad::flow::{self, FlowSetup};
use resgrad::models::NetKind;
use resgrad::train::{DegradationResult, EvalPoint, History, RunResult};
use resgrad::viz::flow as figs;
use resgrad::viz::{LineChart, Series, bar_chart};

#[test]
fn gradient_norm_caption_holds_for_seeds_0_to_19() {
    let curves = flow::gradient_norm_depth(20);
    let r = |depth, setup| figs::r_range(&curves, depth, setup).expect("measured");
    // Depth 50. Measured: Glorot 3.2e-9 to 6.9e-8, batch norm 8.3e3 to 4.1e4, He 0.109 to
    // 2.31 (21x from least to most).
    let glorot = r(50, FlowSetup::GlorotPlain);
    assert!(glorot.1 < 1e-6, "Glorot plain, depth 50: {glorot:?}");
    let bn = r(50, FlowSetup::BnPlain);
    assert!(bn.0 > 1e3, "BN plain, depth 50: {bn:?}");
    let he50 = r(50, FlowSetup::HePlain);
    assert!(
        he50.0 > 0.05 && he50.1 < 5.0,
        "He plain, depth 50: {he50:?}"
    );
    // Depth 200. Measured: He plain 1.6e-3 to 6.98 (4,400x), scaled residual 2.50 to 2.78.
    let he = r(200, FlowSetup::HePlain);
    assert!(
        he.1 / he.0 > 100.0,
        "He plain nets at depth 200 should drift apart by more than 100x: {he:?}"
    );
    assert!(
        he.1 / he.0 > 10.0 * (he50.1 / he50.0),
        "the drift should grow with depth: {he50:?} at 50, {he:?} at 200"
    );
    let scaled = r(200, FlowSetup::ScaledResidual);
    assert!(
        scaled.0 >= 2.0 && scaled.1 <= 3.2,
        "scaled residual, depth 200: {scaled:?}"
    );
    for c in curves
        .iter()
        .filter(|c| c.setup == FlowSetup::ZeroInitResidual)
    {
        assert!(
            c.points.iter().all(|p| p.1 == 1.0),
            "zero-init residual, depth {}, seed {}: not 1 at every layer",
            c.depth,
            c.seed
        );
    }
    assert_eq!(
        curves
            .iter()
            .filter(|c| c.depth == 200 && c.setup == FlowSetup::ZeroInitResidual)
            .count(),
        20
    );
    let fig = figs::gradient_norm_depth_figure(&curves);
    for claim in [
        "seeds 0 to 19",
        "the gradient vanishes (Glorot, R 3.2e-9 to 6.9e-8)",
        "explodes (batch norm, R",
        "At depth 200 the He-initialised plain nets drift apart, R 1.6e-3 to 6.98",
        "the scaled residual nets stay within R 2.50 to 2.78",
        "zero-init residual nets at exactly 1 at every layer",
    ] {
        assert!(
            fig.caption.contains(claim),
            "caption lacks `{claim}`: {}",
            fig.caption
        );
    }
    assert!(fig.svg.contains("depth 50: five initialisations"));
    assert!(
        fig.svg
            .contains("depth 200: He init, plain against residual")
    );
    assert!(fig.svg.contains("zero-init residual (dashed)"));
    // The CSV keeps every seed's curve: 20 seeds of 5 set-ups at 50, of 3 at 200.
    let rows = fig.csv.lines().skip(1).count();
    let want: usize = curves.iter().map(|c| c.points.len()).sum();
    assert_eq!(rows, want);
    assert_eq!(curves.len(), 20 * (5 + 3));
}

#[test]
fn eq5_caption_says_where_the_shortcut_carries_more() {
    let split = flow::eq5_split_resnet56();
    assert_eq!(split.len(), 27, "ResNet-56 has 27 blocks");
    // Nearest the input the branch carries more: measured 2.11x, 1.43x, 1.16x at blocks 0
    // to 2, and 1.005x at block 3.
    for (l, &(shortcut, branch)) in split.iter().enumerate().take(3) {
        assert!(
            branch > 1.1 * shortcut,
            "block {l}: branch {branch} against shortcut {shortcut}"
        );
    }
    assert!(split[3].1 > split[3].0 && split[3].1 < 1.05 * split[3].0);
    // From block 4 on the shortcut carries more: measured 1.11x (block 4) to 2.23x.
    for (l, &(shortcut, branch)) in split.iter().enumerate().skip(4) {
        assert!(
            shortcut > 1.05 * branch,
            "block {l}: shortcut {shortcut} against branch {branch}"
        );
    }
    assert_eq!(figs::shortcut_dominates_from(&split), 4);
    let fig = figs::eq5_figure(&split);
    for claim in [
        "From block 4 to block 26 the shortcut carries the larger part, 1.11 to 2.23 times the branch's",
        "at blocks 0 to 3, nearest the input, the branch carries more (block 0: 1895 against 897)",
    ] {
        assert!(fig.caption.contains(claim), "{}", fig.caption);
    }
    assert!(!fig.caption.contains("every block"), "{}", fig.caption);
}

#[test]
fn eq5_caption_follows_other_numbers() {
    // Everywhere the shortcut: no "nearest the input" clause.
    let fig = figs::eq5_figure(&[(3.0, 1.0), (2.0, 1.0)]);
    assert!(
        fig.caption.contains("From block 0 to block 1") && !fig.caption.contains("nearest"),
        "{}",
        fig.caption
    );
    // The branch at the last block: the shortcut does not dominate anywhere to the end.
    let fig = figs::eq5_figure(&[(3.0, 1.0), (1.0, 2.0)]);
    assert!(
        fig.caption.contains("not the larger at the last block")
            && fig.caption.contains("at 1 of them"),
        "{}",
        fig.caption
    );
}

#[test]
fn the_other_flow_captions_hold_on_their_numbers() {
    // Eq. 8: R falls to its smallest near lambda = 1, then rises. Measured: 22166 at 0,
    // 27.6 at 1, 25.3 at 1.05 (the smallest), 178 at 1.2.
    let sweep = flow::lambda_sweep();
    let (at_min, r_min) = sweep
        .iter()
        .copied()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap();
    assert!(at_min == 1.0 || at_min == 1.05, "{sweep:?}");
    assert!(sweep[0].1 > 100.0 * r_min, "{sweep:?}");
    let fig = figs::lambda_figure(&sweep);
    assert!(
        fig.caption.contains("R falls to its smallest") && fig.caption.contains("then rises"),
        "{}",
        fig.caption
    );

    // Shattered gradients. Measured lag-1 autocorrelation: plain BN 0.894, 0.010, -0.024 at
    // depths 2, 10, 50; scaled residual 0.98 at each.
    let runs = flow::shattered();
    let lag1 = |setup, depth| {
        runs.iter()
            .find(|r| r.setup == setup && r.depth == depth)
            .unwrap()
            .autocorrelation[1]
    };
    assert!(lag1(FlowSetup::BnPlain, 2) > 0.5);
    assert!(lag1(FlowSetup::BnPlain, 50).abs() < 0.2);
    for depth in [2, 10, 50] {
        assert!(lag1(FlowSetup::ScaledResidual, depth) > 0.9);
    }
    let (curves, auto) = figs::shattered_figures(&runs);
    assert!(
        curves.caption.contains("turns to noise"),
        "{}",
        curves.caption
    );
    assert!(
        auto.caption
            .contains("At depth 50 nearby inputs of the plain BN net get unrelated gradients"),
        "{}",
        auto.caption
    );
    assert_ne!(curves.caption, auto.caption, "one caption per figure");

    // Path lengths: paths through at most 5 of 54 branches hold most of the gradient
    // (measured 91%); the share peaks at 2 branches.
    let shares = flow::path_length_shares();
    assert!(shares[..6].iter().sum::<f64>() > 0.5);
    let fig = figs::path_length_figure(&shares);
    assert!(
        fig.caption.contains("hold 91% of the summed norms")
            && fig.caption.contains("peaks at 2 branches")
            && fig
                .caption
                .contains("most of it crosses only a few branches"),
        "{}",
        fig.caption
    );

    // Fig. 7's instrument at initialisation, eval mode: plain nets fall, ResNets grow.
    let nets = flow::response_std_at_init();
    for (name, stds) in &nets {
        let (first, last) = (stds[0], stds[stds.len() - 1]);
        if name.starts_with("plain") {
            assert!(last < first, "{name}: {first} -> {last}");
        } else {
            assert!(last > first, "{name}: {first} -> {last}");
        }
    }
    let fig = figs::response_std_figure(&nets);
    assert!(
        fig.caption
            .contains("the plain nets' responses fall with depth, the ResNets' grow"),
        "{}",
        fig.caption
    );
}

/// A degradation result with these final training errors (percent), seed 0.
fn degradation(errors: [(NetKind, usize, f64); 4]) -> DegradationResult {
    let mut config = resgrad::viz::tour::tour_config();
    config.depths = vec![20, 56];
    DegradationResult {
        dataset: "made up".into(),
        config,
        runs: errors
            .iter()
            .map(|&(kind, depth, e)| RunResult {
                kind,
                depth,
                seed: 0,
                history: History {
                    evals: vec![
                        EvalPoint {
                            step: 100,
                            train_error: 0.5,
                            test_error: 0.5,
                        },
                        EvalPoint {
                            step: 200,
                            train_error: e / 100.0,
                            test_error: e / 100.0 + 0.01,
                        },
                    ],
                    ..History::default()
                },
            })
            .collect(),
    }
}

#[test]
fn degradation_caption_follows_the_numbers() {
    use NetKind::{Plain, Residual};
    let degraded = degradation([
        (Plain, 20, 14.0),
        (Residual, 20, 15.7),
        (Plain, 56, 25.1),
        (Residual, 56, 15.6),
    ]);
    let fig = degraded.figure();
    assert!(
        fig.caption
            .contains("plain-20 14.0%, resnet-20 15.7%, plain-56 25.1%, resnet-56 15.6%")
            && fig
                .caption
                .contains("The deeper plain net ends 11.1 points higher in training error (degradation: an optimisation problem, not overfitting)")
            && fig
                .caption
                .contains("the deeper ResNet ends 0.1 points below the shallower"),
        "{}",
        fig.caption
    );
    assert!(!fig.caption.contains("  "), "{}", fig.caption);
    svg::assert_readable_ticks("degradation", &fig.svg, true);
    let not_degraded = degradation([
        (Plain, 20, 20.0),
        (Residual, 20, 15.0),
        (Plain, 56, 18.0),
        (Residual, 56, 17.5),
    ]);
    let caption = not_degraded.caption();
    assert!(
        caption.contains("Here the deeper plain net does not end higher")
            && caption.contains("the deeper ResNet ends 2.5 points above the shallower")
            && !caption.contains("degradation:"),
        "{caption}"
    );
}

#[test]
fn integer_axes_are_labelled_with_integers_in_readable_type() {
    // Two whole-number points: ticks only at 0 and 1 (no 0.2 steps rounded to "0").
    let chart = LineChart {
        title: "t".into(),
        x_label: "lag".into(),
        y_label: "y".into(),
        x_integer: true,
        series: vec![Series::new("s", vec![(0.0, 0.25), (1.0, 0.75)], 0)],
        caption: "A caption long enough to say something about the numbers drawn here.".into(),
        ..LineChart::default()
    };
    let fig = chart.render("two-points");
    svg::assert_readable_ticks("two-points", &fig.svg, true);
    let xs: Vec<String> = svg::tick_labels(&fig.svg)
        .into_iter()
        .filter(|(a, _)| svg::attr(a, "text-anchor") == Some("middle"))
        .map(|(_, t)| t)
        .collect();
    assert_eq!(xs, ["0", "1"]);
    // The same chart as a real axis labels fractions, and still no "1.0".
    let real = LineChart {
        x_integer: false,
        ..chart.clone()
    }
    .render("real");
    svg::assert_readable_ticks("real", &real.svg, false);
    assert!(
        svg::tick_labels(&real.svg)
            .iter()
            .any(|(_, t)| t.contains('.'))
    );
    // Bars at whole numbers: an integer axis.
    let bars = bar_chart(
        "bars",
        "bars",
        ("category", "count"),
        &[(0.0, 3.0), (1.0, 5.0), (2.0, 4.0)],
        "Three bars.",
    );
    svg::assert_readable_ticks("bars", &bars.svg, true);
    // Without the option, the failure the test exists for: plotters' own labels.
    let mut old = String::new();
    {
        use resgrad::plotters::prelude::*;
        let root = SVGBackend::with_string(&mut old, (400, 300)).into_drawing_area();
        let mut c = ChartBuilder::on(&root)
            .x_label_area_size(30)
            .y_label_area_size(30)
            .build_cartesian_2d(0.0..26.0, 0.0..1.0)
            .unwrap();
        c.configure_mesh().draw().unwrap();
        root.present().unwrap();
    }
    let caught = std::panic::catch_unwind(|| svg::assert_readable_ticks("plotters", &old, true));
    assert!(
        caught.is_err(),
        "the check must reject `5.0` and small type"
    );
}

/// Runs the `resgrad` binary with `args` in a fresh folder, without Fashion-MNIST.
fn resgrad(args: &[&str], dir: &std::path::Path) -> Command {
    std::fs::create_dir_all(dir).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_resgrad"));
    cmd.args(args)
        .current_dir(dir)
        .env("RESGRAD_DATA", dir.join("no-fashion-mnist-here"))
        .env_remove("RESGRAD_QUIET")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

#[test]
fn the_tour_says_at_once_that_fashion_mnist_is_missing() {
    let dir = std::env::temp_dir().join(format!("resgrad-tour-data-{}", std::process::id()));
    let mut child = resgrad(&[], &dir).spawn().unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let mut said = Vec::new();
    // The data line comes before any work: read up to it, then stop the tour.
    for line in stderr.lines() {
        let line = line.unwrap();
        said.push(line.clone());
        if line.starts_with("data:") || said.len() > 20 {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let data = said.iter().find(|l| l.starts_with("data:"));
    assert!(
        data.is_some_and(|l| l.contains("Fashion-MNIST is not installed")
            && l.contains("`apt-get install dataset-fashion-mnist`")
            && l.contains("embedded 8x8 UCI digits")),
        "{said:#?}"
    );
}

#[test]
fn training_lines_name_the_net_and_its_seed() {
    let dir = std::env::temp_dir().join(format!("resgrad-train-lines-{}", std::process::id()));
    let out = resgrad(
        &[
            "degradation",
            "--data",
            "digits",
            "--depths",
            "8",
            "--steps",
            "2",
            "--eval-every",
            "2",
            "--eval-images",
            "64",
            "--batch",
            "32",
            "--subset",
            "64",
            "--out",
            "deg",
        ],
        &dir,
    )
    .output()
    .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    for net in ["plain-8 (seed 0)", "resnet-8 (seed 0)"] {
        assert!(
            err.lines()
                .any(|l| l.trim_start().starts_with(&format!("{net}: step 2/2 loss"))),
            "no training line of {net}: {err}"
        );
    }
}
