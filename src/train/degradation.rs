//! The degradation experiment (He et al. 2015, Figs. 1 and 6): plain and residual nets of
//! several depths, the same data, the same budget; deeper plain nets end with *higher
//! training error*, residual nets do not.

use std::fmt::Write as _;

use super::{History, TrainConfig, train};
use crate::data::Dataset;
use crate::models::{CifarSpec, MlpSpec, NetKind, ResNet};
use crate::nn::{Module, Sequential, ShortcutOption};

/// Which networks to train.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Fully connected with batch norm, width `width` (the small-scale probe): plain nets of
    /// `depth` weight layers, and residual nets of a first layer, `(depth - 2) / 2`
    /// post-activation blocks and a classifier.
    Mlp,
    /// The CIFAR ResNet design ([`CifarSpec`](crate::models::CifarSpec)) with `width` filters in its first
    /// stage, and its plain twin; depth `6n + 2`.
    Conv,
}

impl Family {
    /// The name the command line takes: `mlp` or `conv`.
    pub fn name(self) -> &'static str {
        match self {
            Family::Mlp => "mlp",
            Family::Conv => "conv",
        }
    }
}

impl std::fmt::Display for Family {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Family {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "mlp" => Ok(Family::Mlp),
            "conv" => Ok(Family::Conv),
            _ => Err(format!("unknown family `{s}`; choose conv or mlp")),
        }
    }
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
    /// The small-scale probe: BN MLPs of width 64, depths 20 and 56, SGD momentum 0.9,
    /// weight decay 1e-4, batch 128, lr 0.02, 1000 steps (see `docs/degradation.md`).
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

impl DegradationConfig {
    /// One line saying what will run, e.g. for a log: how many nets, which, on what data.
    pub fn describe(&self, data: &Dataset) -> String {
        format!(
            "{} nets ({}, width {}, depths {:?}, seeds {:?}) on {} ({} images), {} steps of {}, lr {}",
            2 * self.depths.len() * self.seeds.len(),
            self.family,
            self.width,
            self.depths,
            self.seeds,
            data.name,
            data.len(),
            self.train.steps,
            self.train.batch,
            self.train.lr
        )
    }

    /// Checks the settings before hours are spent: at least one depth and one seed, a
    /// width of at least 1, the training settings ([`TrainConfig::check`]: steps, batch,
    /// learning rate, ...), for MLPs depths of at least 2 (an input layer and a
    /// classifier), and for conv nets depths of the CIFAR form `6n + 2` whose weights fit
    /// in the machine's memory ([`CifarSpec::check`]; its error is returned).
    #[track_caller]
    pub fn check(&self) -> crate::Result<()> {
        let location = std::panic::Location::caller();
        let bad = |message: String| {
            Err(crate::Error::argument(
                "DegradationConfig::check",
                message,
                location,
            ))
        };
        if self.depths.is_empty() || self.seeds.is_empty() {
            return bad("needs at least one depth and one seed".into());
        }
        if self.width == 0 {
            return bad(
                "width is 0; a layer needs at least 1 unit (64 for MLPs, 8 or 16 for conv nets)"
                    .into(),
            );
        }
        self.train.check()?;
        match self.family {
            Family::Conv => {
                for &depth in &self.depths {
                    // The depth rule and the memory the weights need (3 channels, 10 classes).
                    CifarSpec {
                        width: self.width,
                        ..CifarSpec::resnet(depth, self.shortcut)
                    }
                    .check::<f32>()?;
                }
            }
            Family::Mlp => {
                if let Some(depth) = self.depths.iter().find(|&&d| d < 2) {
                    return bad(format!(
                        "an MLP of depth {depth}: depth counts weight layers, at least 2 (an \
                         input layer and a classifier); try 20 and 56"
                    ));
                }
                for &depth in &self.depths {
                    // The memory the weights need (28x28 inputs, 10 classes).
                    mlp_spec(NetKind::Plain, depth, self.width, 784, 10, 0).check::<f32>()?;
                }
            }
        }
        Ok(())
    }
}

/// One trained network.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// Plain or residual (shown as `plain` or `resnet`).
    pub kind: NetKind,
    /// Depth in weight layers.
    pub depth: usize,
    /// Seed.
    pub seed: u64,
    /// Its training record.
    pub history: History,
}

impl RunResult {
    /// `kind-depth`, e.g. `plain-56`.
    pub fn label(&self) -> String {
        format!("{}-{}", self.kind, self.depth)
    }

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
fn mlp_spec(
    kind: NetKind,
    depth: usize,
    width: usize,
    inputs: usize,
    classes: usize,
    seed: u64,
) -> MlpSpec {
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
}

/// A network just trained by [`run_degradation_with`], for an instrument to look at.
#[derive(Clone, Copy)]
pub enum TrainedNet<'a> {
    /// A fully connected net ([`Family::Mlp`]).
    Mlp(&'a dyn Module<f32>),
    /// A conv net ([`Family::Conv`]; the plain nets are `ResNet`s without shortcuts).
    Conv(&'a ResNet<f32>),
}

/// Trains every (plain, residual) x depth x seed network of `cfg` on `train_set` and
/// evaluates on `test`. Stops at the first run that fails (see
/// [`train_until`](super::train_until)): a run that diverged is an error, not a row of
/// meaningless numbers.
pub fn run_degradation(
    cfg: &DegradationConfig,
    train_set: &Dataset,
    test: Option<&Dataset>,
) -> crate::Result<DegradationResult> {
    run_degradation_with(cfg, train_set, test, |_, _| {})
}

/// [`run_degradation`], calling `after(run, net)` once each network is trained, so that a
/// caller can measure the trained net (e.g. `flow::layer_response_std`) before it is
/// dropped.
pub fn run_degradation_with(
    cfg: &DegradationConfig,
    train_set: &Dataset,
    test: Option<&Dataset>,
    mut after: impl FnMut(&RunResult, TrainedNet<'_>),
) -> crate::Result<DegradationResult> {
    cfg.check()?;
    let mut runs = Vec::new();
    let [c, h, w] = train_set.shape;
    for &seed in &cfg.seeds {
        for &depth in &cfg.depths {
            for kind in [NetKind::Plain, NetKind::Residual] {
                let plain = kind == NetKind::Plain;
                let mut tc = cfg.train.clone();
                tc.seed = seed;
                tc.label = format!("{kind}-{depth} (seed {seed})");
                let result = |history| RunResult {
                    kind,
                    depth,
                    seed,
                    history,
                };
                let run = match cfg.family {
                    Family::Mlp => {
                        let model: Sequential<f32> =
                            mlp_spec(kind, depth, cfg.width, c * h * w, train_set.classes, seed)
                                .build();
                        let run = result(train(&model, train_set, test, &tc)?);
                        after(&run, TrainedNet::Mlp(&model));
                        run
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
                        let run = result(train(&model, train_set, test, &tc)?);
                        after(&run, TrainedNet::Conv(&model));
                        run
                    }
                };
                runs.push(run);
            }
        }
    }
    Ok(DegradationResult {
        dataset: train_set.name.clone(),
        config: cfg.clone(),
        runs,
    })
}

impl DegradationResult {
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
