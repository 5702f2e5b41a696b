//! The degradation experiment (He et al. 2015, Figs. 1 and 6): plain and residual nets of
//! several depths, the same data, the same budget; deeper plain nets end with *higher
//! training error*, residual nets do not.
//!
//! A sweep can save each run's training state in a folder ([`Checkpoints`]) and resume
//! from it: finished runs are read back, an unfinished run continues from its last state,
//! and the results equal those of an uninterrupted sweep, bit for bit.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::optim::Schedule;
use super::{EvalPoint, History, Run, TrainConfig, load_state, state, train_until};
use crate::data::Dataset;
use crate::error::Error;
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
    /// The kinds of net to train at each depth and seed, in this order: plain and
    /// residual by default; [`NetKind::Detached`] adds the causal control.
    pub kinds: Vec<NetKind>,
    /// Training settings (lr, steps, batch, schedule, augmentation, ...), the same for
    /// every run but the seed and, for the deepest nets, the warm-up.
    pub train: TrainConfig,
    /// A warm-up at a lower rate for the nets of at least a given depth (the paper's
    /// ResNet-110), before [`TrainConfig::schedule`]; `None`: no warm-up.
    pub warmup: Option<DeepWarmup>,
    /// Save each run's training state in a folder, and resume from it (`None`: no files).
    pub checkpoints: Option<Checkpoints>,
}

/// A warm-up for the deepest nets of a sweep: He et al. 2015 §4.2 train ResNet-110 at lr
/// 0.01 "until the training error is below 80% (about 400 iterations)", then go back to
/// 0.1, because 0.1 is "slightly too large to start converging" at that depth.
///
/// Nets of at least [`min_depth`](DeepWarmup::min_depth) layers train at
/// [`lr`](DeepWarmup::lr) for the first [`steps`](DeepWarmup::steps) steps; the
/// schedule's milestones keep their step numbers (the run's step, not the step after the
/// warm-up). Shallower nets have no warm-up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DeepWarmup {
    /// The shallowest net that warms up (110 in the paper; 0: every net).
    pub min_depth: usize,
    /// Steps at the warm-up rate.
    pub steps: usize,
    /// The warm-up rate.
    pub lr: f64,
}

impl DeepWarmup {
    /// The paper's warm-up scaled to a run of `steps` steps: lr 0.01 for 400 of 64,000
    /// iterations (0.625% of the run, at least 1 step), for nets of 110 layers or more.
    pub fn paper(steps: usize) -> Self {
        DeepWarmup {
            min_depth: 110,
            steps: ((steps as f64 * 400.0 / 64_000.0).round() as usize).max(1),
            lr: 0.01,
        }
    }
}

/// Where a sweep saves its runs' training states, how often, and whether it resumes.
///
/// Each run of the sweep has one file in [`dir`](Checkpoints::dir),
/// `<kind>-<depth>-seed<seed>.safetensors` (e.g. `plain-20-seed0.safetensors`), written
/// atomically: the model, the optimizer's momentum buffers and the step (as
/// [`save_state`](super::save_state) writes them, so [`load_state`] reads it too), and
/// in its metadata the settings that shape the run's curve, its history so far and
/// whether it is finished.
///
/// - **A new sweep** (`resume: false`) refuses a folder that already holds run states,
///   rather than overwrite them.
/// - **A resumed sweep** (`resume: true`) first checks every state file of its runs:
///   a file saved with other settings (another learning rate, batch, data set, ...) is
///   refused with each differing setting, its saved and its given value, and nothing is
///   trained or written. Then finished runs are read back, not trained again; an
///   unfinished run continues from its last state; runs without a file start fresh. The
///   histories, evaluations, final weights and so the table, CSV and figures equal those
///   of an uninterrupted sweep, bit for bit, on any number of threads (only the
///   wall-time columns differ, as between any two runs). A folder that is missing or
///   holds no run state is not an error: the sweep says so on stderr and starts fresh,
///   so the same command can start a sweep and continue it after an interruption.
/// - **One sweep at a time**: while a sweep runs, its folder holds the lock file
///   `.resgrad-sweep.lock` with the sweep's PID, and a second sweep on the folder is
///   refused, naming that PID. The lock is removed when the sweep ends; one left by a
///   process that no longer runs is taken over.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoints {
    /// The folder (created if missing).
    pub dir: PathBuf,
    /// Save every this many steps, and at the end of each run; 0: at each evaluation
    /// (every [`TrainConfig::eval_every`] steps).
    pub every: usize,
    /// Continue from the states in `dir` instead of refusing a folder that holds some.
    pub resume: bool,
}

impl Checkpoints {
    /// New checkpoints in `dir`, saved at each evaluation; `resume` as given.
    pub fn new(dir: impl Into<PathBuf>, resume: bool) -> Self {
        Checkpoints {
            dir: dir.into(),
            every: 0,
            resume,
        }
    }
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
            kinds: vec![NetKind::Plain, NetKind::Residual],
            train: TrainConfig {
                steps: 1000,
                eval_every: 100,
                ..TrainConfig::default()
            },
            warmup: None,
            checkpoints: None,
        }
    }

    /// The training settings of the nets of `depth` (seed and label aside):
    /// [`train`](DegradationConfig::train), with the [`warmup`](DegradationConfig::warmup)
    /// in front of its schedule if the net is deep enough. The warm-up keeps a multi-step
    /// schedule's milestones at the same steps of the run.
    pub fn train_config_for(&self, depth: usize) -> TrainConfig {
        let mut tc = self.train.clone();
        if let Some(w) = self.warmup.filter(|w| depth >= w.min_depth && w.steps > 0) {
            // Warmup counts its inner schedule's steps from the end of the warm-up.
            let then = match &tc.schedule {
                Schedule::MultiStep { milestones, factor } => Schedule::MultiStep {
                    milestones: milestones
                        .iter()
                        .map(|m| m.saturating_sub(w.steps))
                        .collect(),
                    factor: *factor,
                },
                other => other.clone(),
            };
            tc.schedule = Schedule::Warmup {
                steps: w.steps,
                warmup_lr: w.lr,
                then: Box::new(then),
            };
        }
        tc
    }
}

impl DegradationConfig {
    /// One line saying what will run, e.g. for a log: how many nets, which, on what data.
    pub fn describe(&self, data: &Dataset) -> String {
        format!(
            "{} nets ({}, kinds {}, width {}, depths {:?}, seeds {:?}) on {} ({} images), {} \
             steps of {}, lr {}, schedule {:?}{}, augmentation {}",
            self.kinds.len() * self.depths.len() * self.seeds.len(),
            self.family,
            self.kinds
                .iter()
                .map(|k| k.to_string())
                .collect::<Vec<_>>()
                .join(","),
            self.width,
            self.depths,
            self.seeds,
            data.name,
            data.len(),
            self.train.steps,
            self.train.batch,
            self.train.lr,
            self.train.schedule,
            self.warmup.map_or(String::new(), |w| format!(
                ", warm-up at lr {} for {} steps at depth {} and more",
                w.lr, w.steps, w.min_depth
            )),
            if self.train.augment {
                format!(
                    "pad {} and crop, flip",
                    crate::data::augment_padding(data.shape[1].max(data.shape[2]))
                )
            } else {
                "off".into()
            }
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
        if self.depths.is_empty() || self.seeds.is_empty() || self.kinds.is_empty() {
            return bad("needs at least one depth, one seed and one kind of net".into());
        }
        for (what, repeated) in [
            ("depth", first_repeat(&self.depths).map(|d| d.to_string())),
            ("seed", first_repeat(&self.seeds).map(|d| d.to_string())),
            ("kind", first_repeat(&self.kinds).map(|d| d.to_string())),
        ] {
            if let Some(value) = repeated {
                return bad(format!(
                    "the {what} {value} is given twice; each run would be trained twice with the \
                     same result: give each {what} once"
                ));
            }
        }
        if let Some(w) = &self.warmup
            && (!w.lr.is_finite() || w.lr < 0.0)
        {
            return bad(format!(
                "the warm-up rate is {}; it must be a finite number, 0 or more (0.01 in the paper)",
                w.lr
            ));
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

/// The first value of `v` that appears again later, if any.
fn first_repeat<T: PartialEq>(v: &[T]) -> Option<&T> {
    v.iter()
        .enumerate()
        .find(|(i, x)| v[i + 1..].contains(x))
        .map(|(_, x)| x)
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
        NetKind::Residual | NetKind::Detached => hidden / 2 * 2,
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

/// [`run_degradation`], calling `after(run, net)` once each network is trained (or read
/// back from its finished state, see [`Checkpoints`]), so that a caller can measure the
/// trained net (e.g. `flow::layer_response_std`) before it is dropped.
pub fn run_degradation_with(
    cfg: &DegradationConfig,
    train_set: &Dataset,
    test: Option<&Dataset>,
    after: impl FnMut(&RunResult, TrainedNet<'_>),
) -> crate::Result<DegradationResult> {
    let result = run_degradation_until(cfg, train_set, test, usize::MAX, after)?;
    Ok(result.expect("a sweep run to its end finishes every run"))
}

/// [`run_degradation_with`], stopping once `until` optimizer steps of the sweep are done,
/// counted over its runs in order (seed, depth, plain then residual; each run counts
/// `cfg.train.steps`), as an interruption would, but with the state of the run it stops
/// in saved. Returns `None` when it stopped before the end (resume with
/// [`Checkpoints::resume`] to continue), the result when every run is finished.
///
/// Stopping early needs [`DegradationConfig::checkpoints`] (otherwise the runs would be
/// lost); without them, an `until` below the sweep's total is refused.
#[track_caller]
pub fn run_degradation_until(
    cfg: &DegradationConfig,
    train_set: &Dataset,
    test: Option<&Dataset>,
    until: usize,
    mut after: impl FnMut(&RunResult, TrainedNet<'_>),
) -> crate::Result<Option<DegradationResult>> {
    cfg.check()?;
    let order = sweep_order(cfg);
    let total = order.len().saturating_mul(cfg.train.steps);
    if until < total && cfg.checkpoints.is_none() {
        return Err(Error::argument(
            "run_degradation_until",
            format!(
                "stopping at step {until} of the sweep's {total} would lose the runs: set \
                 DegradationConfig::checkpoints to save them"
            ),
            std::panic::Location::caller(),
        ));
    }
    // The data's fingerprints are computed only for checkpoints, which record them.
    let prints = cfg
        .checkpoints
        .as_ref()
        .map(|_| DataPrint::of(train_set, test));
    let mut sweep = match (&cfg.checkpoints, &prints) {
        (Some(ck), Some(prints)) => Some(Sweep::open(ck, cfg, &order, prints)?),
        _ => None,
    };
    let mut runs = Vec::new();
    let [c, h, w] = train_set.shape;
    for (i, &(seed, depth, kind)) in order.iter().enumerate() {
        let mut tc = cfg.train_config_for(depth);
        tc.seed = seed;
        tc.label = format!("{kind}-{depth} (seed {seed})");
        let target = until
            .saturating_sub(i * cfg.train.steps)
            .min(cfg.train.steps);
        let job = RunJob {
            tc: &tc,
            train_set,
            test,
            target,
            sweep: sweep.as_mut(),
            name: state_name(kind, depth, seed),
            settings: prints
                .as_ref()
                .map_or_else(Vec::new, |p| run_settings(cfg, kind, depth, seed, p)),
        };
        let result = |history| RunResult {
            kind,
            depth,
            seed,
            history,
        };
        match cfg.family {
            Family::Mlp => {
                let model: Sequential<f32> =
                    mlp_spec(kind, depth, cfg.width, c * h * w, train_set.classes, seed).build();
                let Some(history) = job.run(&model)? else {
                    return Ok(None);
                };
                let run = result(history);
                after(&run, TrainedNet::Mlp(&model));
                runs.push(run);
            }
            Family::Conv => {
                let spec = match kind {
                    NetKind::Plain => CifarSpec::plain(depth),
                    NetKind::Residual | NetKind::Detached => CifarSpec {
                        kind,
                        ..CifarSpec::resnet(depth, cfg.shortcut)
                    },
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
                let Some(history) = job.run(&model)? else {
                    return Ok(None);
                };
                let run = result(history);
                after(&run, TrainedNet::Conv(&model));
                runs.push(run);
            }
        }
    }
    Ok(Some(DegradationResult {
        dataset: train_set.name.clone(),
        config: cfg.clone(),
        runs,
    }))
}

/// The sweep's runs in the order they train: `(seed, depth, kind)`.
fn sweep_order(cfg: &DegradationConfig) -> Vec<(u64, usize, NetKind)> {
    let mut order = Vec::new();
    for &seed in &cfg.seeds {
        for &depth in &cfg.depths {
            for &kind in &cfg.kinds {
                order.push((seed, depth, kind));
            }
        }
    }
    order
}

/// One run of a sweep: train it (or read it back) up to `target` steps.
struct RunJob<'a> {
    tc: &'a TrainConfig,
    train_set: &'a Dataset,
    test: Option<&'a Dataset>,
    target: usize,
    sweep: Option<&'a mut Sweep>,
    name: String,
    settings: Vec<Setting>,
}

impl RunJob<'_> {
    /// Trains `model` from scratch or from its saved state up to `target` steps, saving
    /// its state as it goes; its history once it has all `tc.steps` steps, else `None`.
    fn run(self, model: &dyn Module<f32>) -> crate::Result<Option<History>> {
        let tc = self.tc;
        let mut run = Run::new(tc);
        let Some(sweep) = self.sweep else {
            train_until(model, self.train_set, self.test, tc, &mut run, self.target)?;
            return Ok((run.step == tc.steps).then_some(run.history));
        };
        let path = sweep.dir.join(&self.name);
        if let Some(saved) = sweep.saved.remove(&self.name) {
            load_state(model, &mut run, &path)?;
            if run.step != saved.step {
                return Err(Error::checkpoint(
                    &path,
                    format!(
                        "the file changed while the sweep read it (step {} in its first \
                         reading, {} in its second): is another sweep using this folder?",
                        saved.step, run.step
                    ),
                ));
            }
            run.history = saved.history;
            note(&if saved.finished {
                format!("{}: finished, read back from {}", tc.label, path.display())
            } else {
                format!(
                    "{}: resuming at step {} of {} from {}",
                    tc.label,
                    run.step,
                    tc.steps,
                    path.display()
                )
            });
        }
        let every = match sweep.every {
            0 => tc.eval_every.max(1),
            n => n,
        };
        while run.step < self.target {
            let next = ((run.step / every + 1) * every).min(self.target);
            train_until(model, self.train_set, self.test, tc, &mut run, next)?;
            // The rate over every step of the run, across sessions.
            run.history.images_per_second =
                crate::clock::per_second((run.step * tc.batch) as f64, run.history.seconds);
            let mut meta = self
                .settings
                .iter()
                .map(|s| (format!("{SETTING}{}", s.name), s.value.clone()))
                .collect::<BTreeMap<_, _>>();
            meta.insert(FORMAT_KEY.into(), FORMAT.into());
            meta.insert(FINISHED_KEY.into(), (run.step == tc.steps).to_string());
            meta.extend(history_metadata(&run.history));
            state::save_state_with(model, &run, &path, meta)?;
        }
        Ok((run.step == tc.steps).then_some(run.history))
    }
}

/// Says `line` on stderr, unless `RESGRAD_QUIET` is set.
fn note(line: &str) {
    if std::env::var_os("RESGRAD_QUIET").is_none() {
        eprintln!("{line}");
    }
}

/// The metadata key that marks a degradation run's state, and its format.
const FORMAT_KEY: &str = "resgrad.sweep.format";
/// The format this version writes and reads.
const FORMAT: &str = "1";
/// `true` once the run has all its steps.
const FINISHED_KEY: &str = "resgrad.sweep.finished";
/// The prefix of the settings' keys.
const SETTING: &str = "resgrad.sweep.setting.";
/// The prefix of the history's keys.
const HISTORY: &str = "resgrad.sweep.history.";

/// The file of one run in the checkpoint folder, e.g. `plain-20-seed0.safetensors`.
fn state_name(kind: NetKind, depth: usize, seed: u64) -> String {
    format!("{kind}-{depth}-seed{seed}.safetensors")
}

/// Whether `name` is a run state's file name (any kind, depth and seed).
fn is_state_name(name: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    name.strip_suffix(".safetensors")
        .and_then(|n| {
            n.strip_prefix("plain-")
                .or_else(|| n.strip_prefix("resnet-"))
                .or_else(|| n.strip_prefix("detached-"))
        })
        .and_then(|n| n.split_once("-seed"))
        .is_some_and(|(depth, seed)| digits(depth) && digits(seed))
}

/// One setting that shapes a run's curve: its name in the file, where it is set, and
/// its value as text.
struct Setting {
    name: &'static str,
    flag: &'static str,
    value: String,
}

/// What identifies the data: names, sizes and fingerprints of the training and test sets.
struct DataPrint {
    train: (String, usize, [usize; 3], usize, String),
    test: Option<(String, usize, String)>,
}

impl DataPrint {
    fn of(train: &Dataset, test: Option<&Dataset>) -> Self {
        DataPrint {
            train: (
                train.name.clone(),
                train.len(),
                train.shape,
                train.classes,
                fingerprint(train),
            ),
            test: test.map(|t| (t.name.clone(), t.len(), fingerprint(t))),
        }
    }
}

/// A 64-bit FNV-1a hash of a data set's shape, labels and pixel bits, in hex: two data
/// sets with the same name and size but other images differ here.
fn fingerprint(d: &Dataset) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |x: u64| {
        h ^= x;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    };
    d.shape.iter().for_each(|&s| eat(s as u64));
    eat(d.classes as u64);
    eat(d.labels.len() as u64);
    d.labels.iter().for_each(|&l| eat(l as u64));
    d.images.iter().for_each(|x| eat(u64::from(x.to_bits())));
    format!("{h:016x}")
}

/// The settings that shape the curve of run `(kind, depth, seed)` of `cfg` on the data of
/// `prints`, in the order an error lists them.
fn run_settings(
    cfg: &DegradationConfig,
    kind: NetKind,
    depth: usize,
    seed: u64,
    prints: &DataPrint,
) -> Vec<Setting> {
    let t = &cfg.train_config_for(depth);
    let (name, images, [c, h, w], classes, print) = &prints.train;
    let shortcut = match (cfg.family, kind) {
        (Family::Conv, NetKind::Residual | NetKind::Detached) => format!("{:?}", cfg.shortcut),
        _ => "none".into(),
    };
    let augment = if t.augment {
        format!(
            "pad {} and crop, flip",
            crate::data::augment_padding(*h.max(w))
        )
    } else {
        "off".into()
    };
    let data = "--data, --data-dir, --subset, --half-size";
    let set = |name, flag, value: String| Setting { name, flag, value };
    vec![
        set("family", "--family", cfg.family.to_string()),
        set("kind", "the file name", kind.to_string()),
        set("depth", "--depths", depth.to_string()),
        set("seed", "--seeds", seed.to_string()),
        set("width", "--width", cfg.width.to_string()),
        set("shortcut", "--shortcut", shortcut),
        set("steps", "--steps", t.steps.to_string()),
        set("batch", "--batch, --recipe", t.batch.to_string()),
        set("lr", "--lr, --recipe", t.lr.to_string()),
        set("momentum", "TrainConfig::momentum", t.momentum.to_string()),
        set(
            "weight_decay",
            "TrainConfig::weight_decay",
            t.weight_decay.to_string(),
        ),
        set(
            "schedule",
            "--milestones, --warmup, --recipe",
            format!("{:?}", t.schedule),
        ),
        set("augment", "--augment, --recipe", augment),
        set("drop_last", "--keep-last", t.drop_last.to_string()),
        set("eval_every", "--eval-every", t.eval_every.to_string()),
        set("eval_images", "--eval-images", t.eval_images.to_string()),
        set(
            "final_eval_images",
            "--final-eval-images",
            t.final_eval_images
                .map_or("as eval_images".into(), |n| n.to_string()),
        ),
        set("data", "--data, --data-dir", name.clone()),
        set("training_images", "--subset", images.to_string()),
        set("image_shape", "--half-size", format!("{c}x{h}x{w}")),
        set("classes", "--data", classes.to_string()),
        set("training_data_fingerprint", data, print.clone()),
        set(
            "test_data",
            "--data, --data-dir",
            match &prints.test {
                Some((name, n, _)) => format!("{name} ({n} images)"),
                None => "none".into(),
            },
        ),
        set(
            "test_data_fingerprint",
            data,
            prints.test.as_ref().map_or("none".into(), |t| t.2.clone()),
        ),
    ]
}

/// A list of floats as text, each written so that it reads back to the same bits.
fn floats(v: impl Iterator<Item = f64>) -> String {
    v.map(|x| x.to_string()).collect::<Vec<_>>().join(",")
}

/// `history` as metadata entries (every float written so it reads back to the same bits).
fn history_metadata(history: &History) -> BTreeMap<String, String> {
    let key = |k: &str| format!("{HISTORY}{k}");
    let evals = history
        .evals
        .iter()
        .map(|e| format!("{}:{}:{}", e.step, e.train_error, e.test_error))
        .collect::<Vec<_>>()
        .join(";");
    let epochs = history
        .epochs
        .iter()
        .map(|(e, l, r)| format!("{e}:{l}:{r}"))
        .collect::<Vec<_>>()
        .join(";");
    BTreeMap::from([
        (key("loss"), floats(history.loss.iter().copied())),
        (
            key("batch_error"),
            floats(history.batch_error.iter().copied()),
        ),
        (key("evals"), evals),
        (key("epochs"), epochs),
        (key("seconds"), history.seconds.to_string()),
        (
            key("images_per_second"),
            history.images_per_second.to_string(),
        ),
    ])
}

/// What a run's state file says about the run (its tensors are read by [`load_state`]).
struct Saved {
    step: usize,
    finished: bool,
    history: History,
}

/// A file in the checkpoint folder whose record cannot be read: the key, the problem and
/// what to do.
fn damaged(path: &Path, key: &str, problem: impl std::fmt::Display) -> Error {
    Error::checkpoint(
        path,
        format!(
            "its metadata `{key}` {problem}; the file is damaged: delete it to train this \
             run again"
        ),
    )
}

/// Reads the record of the run state at `path` and checks it against `settings` (the
/// settings of the run it belongs to) and `steps` (the run's length). Changes nothing.
fn read_saved(path: &Path, settings: &[Setting], steps: usize) -> crate::Result<Saved> {
    let file = crate::tensors::read_file::<f32>(path)?;
    let meta = &file.metadata;
    let Some(format) = meta.get(FORMAT_KEY) else {
        return Err(Error::checkpoint(
            path,
            "it is a training state without a degradation run's record (its settings and \
             history), written by save_state or by an older resgrad; it cannot continue this \
             run bit for bit: move it out of the folder, or use another --checkpoint-dir",
        ));
    };
    if format != FORMAT {
        return Err(Error::checkpoint(
            path,
            format!(
                "it is a degradation run's state in format {format}; this resgrad reads \
                 format {FORMAT}: resume with the resgrad that wrote it, or use another \
                 --checkpoint-dir"
            ),
        ));
    }
    let differ: Vec<String> = settings
        .iter()
        .filter_map(|s| {
            let saved = meta.get(&format!("{SETTING}{}", s.name));
            (saved != Some(&s.value)).then(|| {
                format!(
                    "{}: saved {}, given {} ({})",
                    s.name,
                    saved.map_or("nothing", String::as_str),
                    s.value,
                    s.flag
                )
            })
        })
        .collect();
    if !differ.is_empty() {
        return Err(Error::checkpoint(
            path,
            format!(
                "this run was saved with other settings, and resuming would not continue \
                 its curve: {}. Resume with the settings it was started with, or give \
                 another --checkpoint-dir (Checkpoints::dir) to start afresh",
                differ.join("; ")
            ),
        ));
    }
    let get = |k: &str| meta.get(k).ok_or_else(|| damaged(path, k, "is missing"));
    let step: usize = get("step")?
        .parse()
        .map_err(|_| damaged(path, "step", "is not a step count"))?;
    let finished = match get(FINISHED_KEY)?.as_str() {
        "true" => true,
        "false" => false,
        other => {
            return Err(damaged(
                path,
                FINISHED_KEY,
                format!("is `{other}`, not true or false"),
            ));
        }
    };
    let history = parse_history(path, meta)?;
    let problem = if history.loss.len() != step || history.batch_error.len() != step {
        Some(format!(
            "holds {} losses and {} batch errors, but the state is at step {step}",
            history.loss.len(),
            history.batch_error.len()
        ))
    } else if history.evals.iter().any(|e| e.step > step) {
        Some(format!(
            "holds an evaluation after step {step}, the state's step"
        ))
    } else if finished != (step == steps) {
        Some(format!(
            "says finished: {finished}, but the state is at step {step} of {steps}"
        ))
    } else {
        None
    };
    if let Some(problem) = problem {
        return Err(damaged(path, &format!("{HISTORY}*"), problem));
    }
    Ok(Saved {
        step,
        finished,
        history,
    })
}

/// The history recorded by [`history_metadata`].
fn parse_history(path: &Path, meta: &BTreeMap<String, String>) -> crate::Result<History> {
    let field = |k: &str| -> crate::Result<(String, &String)> {
        let key = format!("{HISTORY}{k}");
        let value = meta
            .get(&key)
            .ok_or_else(|| damaged(path, &key, "is missing"))?;
        Ok((key, value))
    };
    let float = |key: &str, s: &str| -> crate::Result<f64> {
        s.parse()
            .map_err(|_| damaged(path, key, format!("holds `{s}`, not a number")))
    };
    let list = |k: &str| -> crate::Result<Vec<f64>> {
        let (key, v) = field(k)?;
        v.split(',')
            .filter(|s| !s.is_empty())
            .map(|s| float(&key, s))
            .collect()
    };
    let triples = |k: &str| -> crate::Result<Vec<(usize, f64, f64)>> {
        let (key, v) = field(k)?;
        v.split(';')
            .filter(|s| !s.is_empty())
            .map(|t| {
                let parts: Vec<&str> = t.split(':').collect();
                let [n, a, b] = parts[..] else {
                    return Err(damaged(path, &key, format!("holds `{t}`, not n:x:y")));
                };
                let n = n
                    .parse()
                    .map_err(|_| damaged(path, &key, format!("holds `{t}`, not n:x:y")))?;
                Ok((n, float(&key, a)?, float(&key, b)?))
            })
            .collect()
    };
    let scalar = |k: &str| -> crate::Result<f64> {
        let (key, v) = field(k)?;
        float(&key, v)
    };
    Ok(History {
        loss: list("loss")?,
        batch_error: list("batch_error")?,
        evals: triples("evals")?
            .into_iter()
            .map(|(step, train_error, test_error)| EvalPoint {
                step,
                train_error,
                test_error,
            })
            .collect(),
        epochs: triples("epochs")?,
        seconds: scalar("seconds")?,
        images_per_second: scalar("images_per_second")?,
    })
}

/// An open checkpoint folder: where to save, how often, and the records of the runs to
/// resume (checked before anything trains).
struct Sweep {
    dir: PathBuf,
    every: usize,
    saved: BTreeMap<String, Saved>,
    /// The folder's lock, held while the sweep runs, so that no other sweep uses it.
    _lock: crate::io::FolderLock,
}

/// The lock file a sweep keeps in its checkpoint folder while it runs: this process's id.
const LOCK: &str = ".resgrad-sweep.lock";

impl Sweep {
    /// Opens `ck.dir` for the runs `order` of `cfg`: locks it ([`LOCK`]; a folder another
    /// running sweep holds is refused, naming its PID), then refuses a folder with run
    /// states unless resuming; when resuming, reads and checks the state of every run that
    /// has one. Writes nothing but the folder itself and the lock, which is removed when
    /// the sweep ends.
    fn open(
        ck: &Checkpoints,
        cfg: &DegradationConfig,
        order: &[(u64, usize, NetKind)],
        prints: &DataPrint,
    ) -> crate::Result<Sweep> {
        let dir = &ck.dir;
        let lock =
            crate::io::FolderLock::take(dir, LOCK, "sweep", "--checkpoint-dir (Checkpoints::dir)")
                .map_err(|e| Error::checkpoint(dir, e))?;
        let found = state_files(dir)?;
        if !ck.resume && !found.is_empty() {
            return Err(Error::checkpoint(
                dir,
                format!(
                    "the folder already holds {} run state(s) ({}), and a new sweep would \
                     overwrite them: use --resume (Checkpoints::resume) to continue them, or \
                     another folder",
                    found.len(),
                    shortened(&found)
                ),
            ));
        }
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::checkpoint(dir, format!("could not create the folder: {e}")))?;
        let mut saved = BTreeMap::new();
        if ck.resume {
            if found.is_empty() {
                note(&format!(
                    "checkpoints: nothing to resume in {} (no run states); starting fresh",
                    dir.display()
                ));
            }
            let mut ours = Vec::new();
            for &(seed, depth, kind) in order {
                let name = state_name(kind, depth, seed);
                if found.contains(&name) {
                    let settings = run_settings(cfg, kind, depth, seed, prints);
                    let record = read_saved(&dir.join(&name), &settings, cfg.train.steps)?;
                    saved.insert(name.clone(), record);
                    ours.push(name);
                }
            }
            let others: Vec<String> = found.into_iter().filter(|n| !ours.contains(n)).collect();
            if !others.is_empty() {
                note(&format!(
                    "checkpoints: {} holds states of runs this sweep does not have ({}); left alone",
                    dir.display(),
                    shortened(&others)
                ));
            }
        }
        Ok(Sweep {
            dir: dir.clone(),
            every: ck.every,
            saved,
            _lock: lock,
        })
    }
}

/// The run-state file names in `dir`, sorted (none if `dir` does not exist).
fn state_files(dir: &Path) -> crate::Result<Vec<String>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(Error::checkpoint(
                dir,
                format!("could not list the folder: {e}"),
            ));
        }
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| is_state_name(n))
        .collect();
    names.sort();
    Ok(names)
}

/// At most four names, then how many more.
fn shortened(names: &[String]) -> String {
    let mut s = names.iter().take(4).cloned().collect::<Vec<_>>().join(", ");
    if names.len() > 4 {
        let _ = write!(s, " and {} more", names.len() - 4);
    }
    s
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

    /// One row per run: `kind,depth,seed,seconds,images_per_second`, the run's own
    /// training time (summed over the commands that trained it, when resumed) and rate.
    pub fn times_csv(&self) -> String {
        let mut s = String::from("kind,depth,seed,seconds,images_per_second\n");
        for r in &self.runs {
            let _ = writeln!(
                s,
                "{},{},{},{:.1},{:.1}",
                r.kind, r.depth, r.seed, r.history.seconds, r.history.images_per_second
            );
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
