//! The gradient-flow figures of `resgrad flow`, at initialisation.

use std::fmt::Write as _;

use ndarray::ArrayD;

use super::{
    autocorrelation, boundary_gradients, eq5_split, gaussian, gradient_over_grid,
    layer_response_std, nearby_gradient_cosine, path_length_norms, ratio,
};
use crate::models::{Block, MlpSpec, PlainNet, ResNet};
use crate::nn::{Init, MlpNorm, Mode, Module, ShortcutOption, rng};
use crate::viz::{Figure, LineChart, Series, bar_chart};

/// Everything `resgrad flow` makes.
pub struct FlowOutput {
    /// The figures, each with its CSV.
    pub figures: Vec<Figure>,
    /// SCIENCE.md's predictions as measured: (number, set-up, measured range, must hold).
    pub predictions: Vec<(String, String, String, String)>,
}

const WIDTH: usize = 64;
const BATCH: usize = 64;

fn relative_norms(norms: &[f64]) -> Vec<f64> {
    let last = norms[norms.len() - 1];
    norms.iter().map(|n| n / last).collect()
}

/// Gradient norm against depth for five nets, as a fan over `seeds` seeds.
fn gradient_norm_depth(seeds: u64) -> Figure {
    let mut series = Vec::new();
    let nets: [(&str, usize); 5] = [
        ("Glorot plain", 0),
        ("He plain", 1),
        ("BN plain (He)", 2),
        ("scaled residual", 3),
        ("zero-init residual", 4),
    ];
    for seed in 0..seeds {
        for (name, kind) in nets {
            let (norms, step) = match kind {
                0..=2 => {
                    let init = if kind == 0 {
                        Init::GlorotNormal
                    } else {
                        Init::HeNormal
                    };
                    let net = MlpSpec::plain(WIDTH, 50)
                        .batch_norm(kind == 2)
                        .init(init)
                        .seed(seed)
                        .build::<f64>();
                    (flow_norms(&net.blocks(), seed), 1.0)
                }
                _ => {
                    let net = MlpSpec::residual(WIDTH, 50)
                        .branch_scale(0.2)
                        .seed(seed)
                        .blocks::<f64>();
                    if kind == 4 {
                        net.iter()
                            .for_each(|b| b.fc2.weight.update(|w| w.fill(0.0)));
                    }
                    let blocks: Vec<&dyn Module<f64>> =
                        net.iter().map(|b| b as &dyn Module<f64>).collect();
                    (flow_norms(&blocks, seed), 2.0)
                }
            };
            let points = relative_norms(&norms)
                .into_iter()
                .enumerate()
                .map(|(l, v)| (l as f64 * step, v))
                .collect();
            series.push(Series {
                name: name.into(),
                points,
                color: kind,
                dashed: false,
                legend: seed == 0,
            });
        }
    }
    LineChart {
        title: "Gradient norm against depth, 50 weight layers, width 64, 20 seeds".into(),
        x_label: "weight layer l (input side at 0)".into(),
        y_label: "||dE/dx_l|| / ||dE/dx_L||".into(),
        log_y: true,
        y_range: None,
        series,
        caption: "Without a skip the gradient falls (Glorot), fans out (He) or explodes (BN) on its way back; \
                  the residual nets keep it flat, exactly so at zero init."
            .into(),
    }
    .render("gradient-norm-depth")
}

fn flow_norms(blocks: &[&dyn Module<f64>], seed: u64) -> Vec<f64> {
    let mut r = rng(seed ^ 0x5eed_f10e);
    let x0 = gaussian::<f64>(&[BATCH, WIDTH], &mut r);
    let g = gaussian::<f64>(&[BATCH, WIDTH], &mut r);
    boundary_gradients(blocks, &x0, &g, Mode::Train).norms()
}

fn images(n: usize, hw: usize, seed: u64) -> ArrayD<f32> {
    gaussian::<f32>(&[n, 3, hw, hw], &mut rng(seed))
}

fn eq5_figure() -> Figure {
    let net: ResNet = ResNet::cifar(56, ShortcutOption::A);
    let split = eq5_split(&net, &images(4, 16, 1), 2);
    let pts = |f: &dyn Fn(&(f64, f64)) -> f64| {
        split
            .iter()
            .enumerate()
            .map(|(l, s)| (l as f64, f(s)))
            .collect::<Vec<_>>()
    };
    LineChart {
        title: "He et al. 2016 eq. 5 along ResNet-56: where dE/dx_l comes from".into(),
        x_label: "block l".into(),
        y_label: "gradient norm".into(),
        log_y: true,
        y_range: None,
        series: vec![
            Series::new("through the shortcut", pts(&|s| s.0), 0),
            Series::new("through the branch F", pts(&|s| s.1), 1),
        ],
        caption: "At every block most of the gradient arrives through the shortcut, the term dE/dx_L of eq. 5 \
                  that reaches each layer directly."
            .into(),
    }
    .render("eq5-split-resnet56")
}

fn response_std_figure() -> Figure {
    let x = images(8, 16, 3);
    let mut series = Vec::new();
    let nets: Vec<(&str, ResNet)> = vec![
        ("plain-20", PlainNet::cifar(20)),
        ("plain-56", PlainNet::cifar(56)),
        ("ResNet-20", ResNet::cifar(20, ShortcutOption::A)),
        ("ResNet-56", ResNet::cifar(56, ShortcutOption::A)),
        ("ResNet-110", ResNet::cifar(110, ShortcutOption::A)),
    ];
    for (i, (name, net)) in nets.iter().enumerate() {
        let stds = layer_response_std(net, &x, Mode::Eval);
        series.push(Series::new(
            *name,
            stds.into_iter()
                .enumerate()
                .map(|(l, s)| (l as f64 + 1.0, s))
                .collect(),
            i,
        ));
    }
    LineChart {
        title: "Layer response std (He et al. 2015 Fig. 7), at initialisation, eval mode".into(),
        x_label: "3x3 layer index".into(),
        y_label: "std of the response (after BN, before the addition)".into(),
        log_y: true,
        y_range: None,
        series,
        caption: "The instrument of Fig. 7 before training. In eval mode fresh running statistics (mean 0, \
                  var 1) do not normalise, so responses drift: up along the ResNets' shortcuts, down in plain \
                  nets (in train mode every one would be exactly 1). The paper's figure is for trained nets."
            .into(),
    }
    .render("layer-response-std")
}

fn shattered_figures() -> (Figure, Figure) {
    let mut curves = Vec::new();
    let mut auto = Vec::new();
    for (ci, depth) in [2usize, 10, 50].into_iter().enumerate() {
        for (kind, dashed) in [("plain BN", true), ("scaled residual", false)] {
            let g = if kind == "plain BN" {
                let net = MlpSpec::plain(WIDTH, depth)
                    .batch_norm(true)
                    .seed(5)
                    .build::<f64>();
                gradient_over_grid(&net.blocks(), WIDTH, 256, 5)
            } else {
                let blocks = (depth / 2).max(1);
                let scale = 1.0 / (blocks as f64).sqrt();
                let net = MlpSpec::residual(WIDTH, 2 * blocks)
                    .branch_scale(scale)
                    .seed(5)
                    .build::<f64>();
                gradient_over_grid(&net.blocks(), WIDTH, 256, 5)
            };
            let sd = (g.iter().map(|v| v * v).sum::<f64>() / g.len() as f64)
                .sqrt()
                .max(1e-300);
            let name = format!("{kind}, depth {depth}");
            let t = |i: usize| -2.0 + 4.0 * i as f64 / 255.0;
            // Each depth on its own baseline (+8, 0, -8), so the curves can be told apart.
            let offset = 8.0 - 8.0 * ci as f64;
            let points = g
                .iter()
                .enumerate()
                .map(|(i, v)| (t(i), v / sd + offset))
                .collect();
            curves.push(Series {
                name: kind.to_string(),
                points,
                color: if dashed { 1 } else { 0 },
                dashed,
                legend: ci == 0,
            });
            let ac = autocorrelation(&g, 32);
            auto.push(Series {
                name,
                points: ac
                    .into_iter()
                    .enumerate()
                    .map(|(k, v)| (k as f64, v))
                    .collect(),
                color: 2 * ci + usize::from(dashed),
                dashed,
                legend: true,
            });
        }
    }
    let a = LineChart {
        title: "Shattered gradients: df/dt over a 1-D input, depths 2 (top), 10, 50 (bottom)"
            .into(),
        x_label: "input t".into(),
        y_label: "df/dt, unit rms, offset by depth".into(),
        log_y: false,
        y_range: None,
        series: curves,
        caption:
            "As depth grows the plain BN net's gradient turns to noise (Balduzzi et al. 2017); the \
                  rescaled residual net's stays a smooth function of the input."
                .into(),
    }
    .render("shattered-curves");
    let b = LineChart {
        title: "Shattered gradients: autocorrelation of df/dt along the input".into(),
        x_label: "lag (grid steps of 4/255)".into(),
        y_label: "autocorrelation".into(),
        log_y: false,
        y_range: None,
        series: auto,
        caption: "Nearby inputs of a deep plain BN net get unrelated gradients (autocorrelation near 0 at lag 1); \
                  the rescaled residual net's stay correlated."
            .into(),
    }
    .render("shattered-autocorr");
    (a, b)
}

fn path_length_figure() -> Figure {
    let blocks = MlpSpec::residual(WIDTH, 108)
        .branch_scale(1.0 / 54f64.sqrt())
        .seed(7)
        .blocks::<f64>();
    let norms = path_length_norms(&blocks, 7);
    let total: f64 = norms.iter().sum();
    let bars: Vec<(f64, f64)> = norms
        .iter()
        .enumerate()
        .map(|(k, n)| (k as f64, n / total))
        .collect();
    bar_chart(
        "path-lengths",
        "Veit et al. 2016: gradient share by path length, 54 residual blocks (linearised)",
        (
            "path length: branches crossed",
            "share of the gradient norm",
        ),
        &bars,
        "The gradient is a sum over 2^54 paths; computed exactly for the linearised net, most of it crosses only a \
         few branches, not all 54.",
    )
}

fn lambda_figure() -> (Figure, Vec<(f64, f64)>) {
    let lambdas = [0.0, 0.5, 0.8, 0.9, 0.95, 1.0, 1.05, 1.1, 1.2];
    let x = images(2, 8, 9);
    let mut pts = Vec::new();
    for &l in &lambdas {
        let mut net: ResNet = ResNet::cifar(56, ShortcutOption::A);
        for b in net.stages.iter_mut().flatten() {
            if let Block::Basic(b) = b {
                b.shortcut_scale = l;
            }
        }
        pts.push((l, super::resnet_flow(&net, &x, 10).ratio()));
    }
    let fig = LineChart {
        title: "He et al. 2016 eq. 8: R against the shortcut scale lambda, ResNet-56".into(),
        x_label: "shortcut scale lambda".into(),
        y_label: "R = ||dE/dx_0|| / ||dE/dx_L||".into(),
        log_y: true,
        y_range: None,
        series: vec![
            Series::new("R, ResNet-56 (27 blocks, batch norm)", pts.clone(), 0),
            Series {
                name: "lambda^27: eq. 8's direct term".into(),
                points: pts.iter().map(|&(l, _)| (l, l.powi(27))).filter(|p| p.1 > 0.0).collect(),
                color: 1,
                dashed: true,
                legend: true,
            },
        ],
        caption: "R is smallest at lambda = 1. Scaled shortcuts multiply eq. 5's direct term by lambda^27 \
                  (dashed): below 1 that term vanishes and the net behaves like its plain twin, whose batch \
                  norm makes the gradient grow (R rises); above 1 the direct term itself explodes."
            .into(),
    }
    .render("eq8-lambda");
    (fig, pts)
}

fn blocks_of(net: &[crate::nn::ResidualMlpBlock<f64>]) -> Vec<&dyn Module<f64>> {
    net.iter().map(|b| b as &dyn Module<f64>).collect()
}

fn range_of(v: &[f64]) -> String {
    let (lo, hi) = v
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    format!("{lo:.3} .. {hi:.3}")
}

fn sci_range(v: &[f64]) -> String {
    let (lo, hi) = v
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    format!("{lo:.2e} .. {hi:.2e}")
}

/// SCIENCE.md predictions 2 to 6 as measured here, seeds 0..4 (prediction 1 is exact
/// and checked element-wise in the tests).
fn predictions() -> Vec<(String, String, String, String)> {
    let seeds = 0..5u64;
    let mut rows = Vec::new();
    let r2: Vec<f64> = seeds
        .clone()
        .map(|s| {
            let net = MlpSpec::residual(WIDTH, 50)
                .branch_scale(0.2)
                .seed(s)
                .blocks::<f64>();
            ratio(&blocks_of(&net), BATCH, WIDTH, s)
        })
        .collect();
    rows.push((
        "2".into(),
        "scaled residual, depth 50: R".into(),
        range_of(&r2),
        "1.5 <= R <= 4 (reference 1.85..3.1)".into(),
    ));
    // Without the skip, 25 blocks of W2 relu(W1 x) are a plain ReLU net of 50 layers.
    let r3: Vec<f64> = seeds
        .clone()
        .map(|s| {
            ratio(
                &MlpSpec::plain(WIDTH, 50)
                    .init(Init::GlorotNormal)
                    .seed(s)
                    .build::<f64>()
                    .blocks(),
                BATCH,
                WIDTH,
                s,
            )
        })
        .collect();
    rows.push((
        "3".into(),
        "skip removed (plain), Glorot, depth 50: R".into(),
        sci_range(&r3),
        "R <= 1e-6 (reference <= 8e-8)".into(),
    ));
    let r4p: Vec<f64> = seeds
        .clone()
        .map(|s| {
            ratio(
                &MlpSpec::plain(WIDTH, 50)
                    .batch_norm(true)
                    .seed(s)
                    .build::<f64>()
                    .blocks(),
                BATCH,
                WIDTH,
                s,
            )
        })
        .collect();
    rows.push((
        "4".into(),
        "plain BN, depth 50: R".into(),
        sci_range(&r4p),
        "R >= 1e3 (reference >= 8.5e3)".into(),
    ));
    for (norm, refv) in [(MlpNorm::Post, "31.6"), (MlpNorm::Pre, "22.7")] {
        let r: Vec<f64> = seeds
            .clone()
            .map(|s| {
                ratio(
                    &MlpSpec::residual(WIDTH, 50)
                        .norm(norm)
                        .seed(s)
                        .build::<f64>()
                        .blocks(),
                    BATCH,
                    WIDTH,
                    s,
                )
            })
            .collect();
        rows.push((
            "4".into(),
            format!("residual BN {norm:?}, depth 50: R"),
            range_of(&r),
            format!("R <= 100 (reference <= {refv})"),
        ));
    }
    let c_res: Vec<f64> = seeds
        .clone()
        .map(|s| {
            let net = MlpSpec::residual(WIDTH, 50)
                .branch_scale(0.2)
                .seed(s)
                .blocks::<f64>();
            nearby_gradient_cosine(&blocks_of(&net), 32, WIDTH, 0.99, s)
        })
        .collect();
    rows.push((
        "5".into(),
        "nearby-input cosine, scaled residual".into(),
        range_of(&c_res),
        ">= 0.85 (reference 0.906..0.93)".into(),
    ));
    let c_plain: Vec<f64> = seeds
        .clone()
        .map(|s| {
            nearby_gradient_cosine(
                &MlpSpec::plain(WIDTH, 50)
                    .batch_norm(true)
                    .seed(s)
                    .build::<f64>()
                    .blocks(),
                32,
                WIDTH,
                0.99,
                s,
            )
        })
        .collect();
    rows.push((
        "5".into(),
        "nearby-input cosine, plain BN".into(),
        range_of(&c_plain),
        "<= 0.3 (reference -0.19..0.21)".into(),
    ));
    let r6: Vec<f64> = seeds
        .map(|s| {
            let net = MlpSpec::residual(WIDTH, 10).seed(s).blocks::<f64>();
            ratio(&blocks_of(&net), BATCH, WIDTH, s)
        })
        .collect();
    rows.push((
        "6".into(),
        "unscaled residual, 5 blocks: R".into(),
        range_of(&r6),
        "5 <= R <= 50 (reference 12.6..18.1)".into(),
    ));
    rows
}

/// Every figure of `resgrad flow` and the predictions table; `tick` is called with a
/// short label after each piece of work (for a progress bar).
pub fn all_figures(mut tick: impl FnMut(&str)) -> FlowOutput {
    let mut figures = Vec::new();
    figures.push(gradient_norm_depth(20));
    tick("gradient norm against depth");
    figures.push(eq5_figure());
    tick("eq. 5 split along ResNet-56");
    figures.push(response_std_figure());
    tick("layer response std");
    let (a, b) = shattered_figures();
    figures.push(a);
    figures.push(b);
    tick("shattered gradients");
    figures.push(path_length_figure());
    tick("path lengths");
    let (fig, _) = lambda_figure();
    figures.push(fig);
    tick("eq. 8 lambda sweep");
    let predictions = predictions();
    tick("predictions");
    let mut csv = String::from("prediction,setup,measured,must_hold\n");
    for (n, s, m, h) in &predictions {
        let _ = writeln!(csv, "{n},{s},{m},{h}");
    }
    figures.push(Figure {
        name: "predictions".into(),
        title: "SCIENCE.md predictions".into(),
        caption: String::new(),
        svg: String::new(),
        csv,
    });
    FlowOutput {
        figures,
        predictions,
    }
}
