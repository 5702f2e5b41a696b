//! The degradation experiment (He et al. 2015, Figs. 1 and 6): plain and residual nets of
//! several depths, the same data, the same budget; deeper plain nets end with *higher
//! training error*, residual nets do not.

use std::fmt::Write as _;

use super::{History, TrainConfig, train};
use crate::data::Dataset;
use crate::flow::layer_response_std;
use crate::models::{CifarSpec, MlpSpec, NetKind, ResNet};
use crate::nn::{Mode, Sequential, ShortcutOption};
use crate::viz::{Figure, LineChart, Series, panels};

/// Which networks to train.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Fully connected with batch norm, width `width` (SCIENCE.md's probe): plain nets of
    /// `depth` weight layers, and residual nets of a first layer, `(depth - 2) / 2`
    /// post-activation blocks and a classifier.
    Mlp,
    /// The CIFAR ResNet design ([`CifarSpec`](crate::models::CifarSpec)) with `width` filters in its first
    /// stage, and its plain twin; depth `6n + 2`.
    Conv,
}

/// The experiment's settings.
#[derive(Debug, Clone)]
pub struct DegradationConfig {
    /// MLP or conv nets.
    pub family: Family,
    /// Depths to compare (weight layers).
    pub depths: Vec<usize>,
    /// Width of the MLPs, or of the conv nets' first stage.
    pub width: usize,
    /// Seeds (of the weights and the data order).
    pub seeds: Vec<u64>,
    /// The residual nets' shortcut option (conv only).
    pub shortcut: ShortcutOption,
    /// Training settings (lr, steps, batch, warm-up through the schedule, ...).
    pub train: TrainConfig,
}

impl DegradationConfig {
    /// SCIENCE.md's probe: BN MLPs of width 64, depths 20 and 56, SGD momentum 0.9,
    /// weight decay 1e-4, batch 128, lr 0.02, 1000 steps.
    pub fn mlp_probe() -> Self {
        DegradationConfig {
            family: Family::Mlp,
            depths: vec![20, 56],
            width: 64,
            seeds: vec![0],
            shortcut: ShortcutOption::A,
            train: TrainConfig {
                steps: 1000,
                eval_every: 100,
                ..TrainConfig::default()
            },
        }
    }
}

/// One trained network.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// `plain` or `resnet`.
    pub kind: &'static str,
    /// Depth in weight layers.
    pub depth: usize,
    /// Seed.
    pub seed: u64,
    /// Its training record.
    pub history: History,
    /// Fig. 7: std of each 3x3 layer's response, eval mode, trained (conv only).
    pub response_std: Vec<f64>,
}

impl RunResult {
    /// The final training error (eval mode, on the evaluation subset).
    pub fn final_train_error(&self) -> f64 {
        self.history
            .evals
            .last()
            .map_or(f64::NAN, |e| e.train_error)
    }
    /// The final test error.
    pub fn final_test_error(&self) -> f64 {
        self.history.evals.last().map_or(f64::NAN, |e| e.test_error)
    }
}

/// Everything the experiment produced.
#[derive(Debug, Clone)]
pub struct DegradationResult {
    /// The data set's name.
    pub dataset: String,
    /// The settings.
    pub config: DegradationConfig,
    /// One entry per (kind, depth, seed).
    pub runs: Vec<RunResult>,
}

/// The MLP of `Family::Mlp`: an input layer, `depth - 2` hidden layers (plain) or
/// `(depth - 2) / 2` post-activation blocks (residual), all with batch norm, and a
/// classifier.
fn mlp(
    kind: NetKind,
    depth: usize,
    width: usize,
    inputs: usize,
    classes: usize,
    seed: u64,
) -> Sequential<f32> {
    let hidden = depth.saturating_sub(2);
    let hidden = match kind {
        NetKind::Plain => hidden,
        NetKind::Residual => hidden / 2 * 2,
    };
    MlpSpec {
        kind,
        depth: hidden + 2,
        batch_norm: true,
        inputs: Some(inputs),
        classes: Some(classes),
        seed,
        ..MlpSpec::plain(width, 0)
    }
    .build()
}

/// Trains every (plain, residual) x depth x seed network of `cfg` on `train_set` and
/// evaluates on `test`.
pub fn run_degradation(
    cfg: &DegradationConfig,
    train_set: &Dataset,
    test: Option<&Dataset>,
) -> DegradationResult {
    let mut runs = Vec::new();
    let [c, h, w] = train_set.shape;
    for &seed in &cfg.seeds {
        for &depth in &cfg.depths {
            for kind in ["plain", "resnet"] {
                let plain = kind == "plain";
                let mut tc = cfg.train.clone();
                tc.seed = seed;
                tc.label = format!("{kind}-{depth}");
                let (history, response_std) = match cfg.family {
                    Family::Mlp => {
                        let kind = if plain {
                            NetKind::Plain
                        } else {
                            NetKind::Residual
                        };
                        let model = mlp(kind, depth, cfg.width, c * h * w, train_set.classes, seed);
                        (train(&model, train_set, test, &tc), Vec::new())
                    }
                    Family::Conv => {
                        let spec = if plain {
                            CifarSpec::plain(depth)
                        } else {
                            CifarSpec::resnet(depth, cfg.shortcut)
                        };
                        let model: ResNet = CifarSpec {
                            in_channels: c,
                            width: cfg.width,
                            classes: train_set.classes,
                            seed,
                            ..spec
                        }
                        .build()
                        .expect("depths are checked by the caller (6n + 2)");
                        let history = train(&model, train_set, test, &tc);
                        let probe = train_set.take(256).in_order(256).remove(0).images;
                        (history, layer_response_std(&model, &probe, Mode::Eval))
                    }
                };
                runs.push(RunResult {
                    kind,
                    depth,
                    seed,
                    history,
                    response_std,
                });
            }
        }
    }
    DegradationResult {
        dataset: train_set.name.clone(),
        config: cfg.clone(),
        runs,
    }
}

impl DegradationResult {
    /// He et al. 2015 Fig. 6 style: plain nets on the left, ResNets on the right; dashed
    /// training error, solid test error, one colour per depth (seed 0).
    pub fn figure(&self) -> Figure {
        let panel =
            |kind: &str, title: &str| {
                let mut series = Vec::new();
                for (ci, &depth) in self.config.depths.iter().enumerate() {
                    if let Some(r) = self.runs.iter().find(|r| {
                        r.kind == kind && r.depth == depth && r.seed == self.config.seeds[0]
                    }) {
                        let pts = |f: &dyn Fn(&super::EvalPoint) -> f64| {
                            r.history
                                .evals
                                .iter()
                                .map(|e| (e.step as f64, 100.0 * f(e)))
                                .collect::<Vec<_>>()
                        };
                        series.push(Series {
                            name: format!("{kind}-{depth} train"),
                            points: pts(&|e| e.train_error),
                            color: ci,
                            dashed: true,
                            legend: true,
                        });
                        if r.history.evals.iter().any(|e| e.test_error.is_finite()) {
                            series.push(Series {
                                name: format!("{kind}-{depth} test"),
                                points: pts(&|e| e.test_error),
                                color: ci,
                                dashed: false,
                                legend: true,
                            });
                        }
                    }
                }
                LineChart {
                    title: title.into(),
                    x_label: "step".into(),
                    y_label: "error (%)".into(),
                    log_y: false,
                    y_range: None,
                    series,
                    caption: String::new(),
                }
            };
        panels(
            "degradation",
            &format!(
                "Degradation on {}: plain nets (left) vs ResNets (right)",
                self.dataset
            ),
            &[panel("plain", "plain"), panel("resnet", "ResNet")],
            "Dashed: training error; solid: test error. The deeper plain net ends with the higher training error \
             (degradation: an optimisation problem, not overfitting); with shortcuts, depth no longer hurts.",
        )
    }

    /// Fig. 7 for the trained conv nets: response std by layer (empty for MLPs).
    pub fn response_figure(&self) -> Option<Figure> {
        let series: Vec<Series> = self
            .runs
            .iter()
            .filter(|r| !r.response_std.is_empty() && r.seed == self.config.seeds[0])
            .enumerate()
            .map(|(i, r)| {
                Series::new(
                    format!("{}-{}", r.kind, r.depth),
                    r.response_std
                        .iter()
                        .enumerate()
                        .map(|(l, &s)| (l as f64 + 1.0, s))
                        .collect(),
                    i,
                )
            })
            .collect();
        (!series.is_empty()).then(|| {
            LineChart {
                title: "Layer responses of the trained nets (He et al. 2015 Fig. 7), eval mode".into(),
                x_label: "3x3 layer index".into(),
                y_label: "std of the response (after BN, before the addition)".into(),
                log_y: false,
                y_range: None,
                series,
                caption: "He et al. find, after full training, ResNets' responses smaller than plain nets' and smaller in \
                          deeper ResNets (the residual functions stay near zero); a short run need not show it yet."
                    .into(),
            }
            .render("layer-response-std-trained")
        })
    }

    /// One row per run: kind, depth, seed, final train and test error, time, img/s.
    pub fn csv(&self) -> String {
        let mut s = String::from("kind,depth,seed,step,train_error,test_error\n");
        for r in &self.runs {
            for e in &r.history.evals {
                let _ = writeln!(
                    s,
                    "{},{},{},{},{},{}",
                    r.kind, r.depth, r.seed, e.step, e.train_error, e.test_error
                );
            }
        }
        s
    }

    /// A markdown table of the final errors.
    pub fn markdown(&self) -> String {
        let mut s = String::from(
            "| net | seed | final training error | final test error | time (s) | img/s |\n|---|---|---|---|---|---|\n",
        );
        for r in &self.runs {
            let _ = writeln!(
                s,
                "| {}-{} | {} | {:.1}% | {} | {:.0} | {:.0} |",
                r.kind,
                r.depth,
                r.seed,
                100.0 * r.final_train_error(),
                if r.final_test_error().is_finite() {
                    format!("{:.1}%", 100.0 * r.final_test_error())
                } else {
                    "-".into()
                },
                r.history.seconds,
                r.history.images_per_second
            );
        }
        s
    }
}
