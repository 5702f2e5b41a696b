//! Training: a loop with a history, a progress bar (or progress lines where there is no
//! terminal, as in a notebook), determinism, and checkpoint/resume.

pub mod checkpoint;
mod degradation;
pub mod optim;
mod state;

pub use degradation::{
    Checkpoints, DeepWarmup, DegradationConfig, DegradationResult, Family, RunResult, TrainedNet,
    run_degradation, run_degradation_until, run_degradation_with,
};
pub use state::{load_state, load_state_bytes, save_state};

#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
use std::io::IsTerminal;

use crate::clock::{Stopwatch, per_second};
use crate::data::Dataset;
use crate::nn::{Mode, Module};
use crate::{Error, Result, Tape, Var};
use optim::{Schedule, Sgd};

/// How to train.
#[derive(Debug, Clone)]
pub struct TrainConfig {
    /// Optimizer steps.
    pub steps: usize,
    /// Batch size.
    pub batch: usize,
    /// Base learning rate.
    pub lr: f64,
    /// SGD momentum.
    pub momentum: f64,
    /// Weight decay.
    pub weight_decay: f64,
    /// Learning-rate schedule.
    pub schedule: Schedule,
    /// Seed of the data order and augmentation.
    pub seed: u64,
    /// Pad-4, random crop, flip.
    pub augment: bool,
    /// Evaluate every this many steps (and at the end); at least 1.
    pub eval_every: usize,
    /// At most this many images of each split for evaluation (0: all).
    pub eval_images: usize,
    /// The last evaluation, at the end of the run, on at most this many images of each
    /// split instead (0: all); `None`: [`eval_images`](TrainConfig::eval_images) as for
    /// the others. The final errors are the ones compared, so they are worth more images:
    /// on 10,000 images the sampling error of an error rate near 10% is 0.3 points, on
    /// 1,000 about 0.9.
    pub final_eval_images: Option<usize>,
    /// Shown in progress output.
    pub label: String,
    /// Drop the last incomplete batch of each epoch (true by default, as PyTorch's
    /// `DataLoader(drop_last=True)`): every step then sees `batch` images, and batch norm
    /// never meets a batch of one. The trainer says once, on stderr, how many images each
    /// epoch leaves out. With `false`, a last batch of one image in training mode is an
    /// error from batch norm, returned by the trainer.
    pub drop_last: bool,
    /// Anomaly mode on every step's tape ([`Tape::set_anomaly_mode`]): when training
    /// diverges, the error also names the first op that produced a NaN or an infinity and
    /// the line that created it. Slower (every value is checked); off by default.
    pub detect_anomaly: bool,
}

impl TrainConfig {
    /// Checks the values before any step runs: at least one step, a batch of at least one
    /// image, an evaluation interval of at least one step, a learning rate that is a
    /// finite number and not negative, a momentum in `[0, 1)`, a weight decay that is
    /// finite and not negative. The trainer calls it; so does [`DegradationConfig::check`].
    #[track_caller]
    pub fn check(&self) -> Result<()> {
        let location = std::panic::Location::caller();
        let bad = |message: String| Err(Error::argument("TrainConfig::check", message, location));
        if self.steps == 0 {
            return bad("steps is 0; train for at least 1 step".into());
        }
        if self.batch == 0 {
            return bad("batch is 0; a batch needs at least 1 image (128 is usual)".into());
        }
        if self.eval_every == 0 {
            return bad(format!(
                "eval_every is 0; evaluate every N steps, N at least 1: a tenth of the run \
                 ({}) is usual, and the run's length ({}) evaluates only at the end",
                (self.steps / 10).max(1),
                self.steps
            ));
        }
        if !self.lr.is_finite() || self.lr < 0.0 {
            return bad(format!(
                "the learning rate is {}; it must be a finite number, 0 or more (0.02 or 0.1 is usual)",
                self.lr
            ));
        }
        if !(0.0..1.0).contains(&self.momentum) {
            return bad(format!(
                "the momentum is {}; it must lie in [0, 1) (0.9 is usual, 0 turns it off)",
                self.momentum
            ));
        }
        if !self.weight_decay.is_finite() || self.weight_decay < 0.0 {
            return bad(format!(
                "the weight decay is {}; it must be a finite number, 0 or more (1e-4 is usual)",
                self.weight_decay
            ));
        }
        self.check_schedule(&self.schedule, location)
    }

    /// A multi-step schedule's milestones must rise strictly, each at most the run's
    /// length, and its factor be finite and above 0; a warm-up's rate finite and not
    /// negative. Inner schedules are checked too.
    fn check_schedule(
        &self,
        schedule: &Schedule,
        location: &'static std::panic::Location<'static>,
    ) -> Result<()> {
        let bad = |message: String| Err(Error::argument("TrainConfig::check", message, location));
        match schedule {
            Schedule::MultiStep { milestones, factor } => {
                if let Some(w) = milestones.windows(2).find(|w| w[0] >= w[1]) {
                    return bad(format!(
                        "the milestones {milestones:?} must rise strictly, each step once \
                         ({} then {}): sort them and drop repeats, e.g. 50% and 75% of the run",
                        w[0], w[1]
                    ));
                }
                if let Some(m) = milestones.iter().find(|&&m| m > self.steps) {
                    return bad(format!(
                        "the milestone at step {m} lies past the run's {} steps, so the rate \
                         would never drop there: give milestones of at most {}",
                        self.steps, self.steps
                    ));
                }
                if !factor.is_finite() || *factor <= 0.0 {
                    return bad(format!(
                        "the multi-step factor is {factor}; it must be a finite number above 0 \
                         (10 in the paper)"
                    ));
                }
                Ok(())
            }
            Schedule::Warmup {
                warmup_lr, then, ..
            } => {
                if !warmup_lr.is_finite() || *warmup_lr < 0.0 {
                    return bad(format!(
                        "the warm-up rate is {warmup_lr}; it must be a finite number, 0 or more"
                    ));
                }
                self.check_schedule(then, location)
            }
            Schedule::Constant | Schedule::Cosine { .. } => Ok(()),
        }
    }

    /// Optimizer steps in one epoch of `images` images: `images / batch` with
    /// [`drop_last`](TrainConfig::drop_last), `ceil(images / batch)` without. Refuses a
    /// training set smaller than one full batch when the last batch is dropped (nothing
    /// would be left to train on).
    pub fn steps_per_epoch(&self, images: usize) -> Result<usize> {
        let batch = self.batch.max(1);
        let steps = if self.drop_last {
            images / batch
        } else {
            images.div_ceil(batch)
        };
        if steps == 0 {
            return Err(Error::argument(
                "TrainConfig::steps_per_epoch",
                if images == 0 {
                    "the training set is empty; it needs at least one image per batch".to_string()
                } else {
                    format!(
                        "the training set has {images} images, fewer than one batch of {batch}; \
                         lower the batch, or set drop_last to false (--keep-last)"
                    )
                },
                std::panic::Location::caller(),
            ));
        }
        Ok(steps)
    }
}

impl Default for TrainConfig {
    /// The paper's CIFAR recipe, scaled down: SGD, momentum 0.9, weight decay 1e-4,
    /// batch 128; lr 0.02, which worked for every depth at small scale (`docs/degradation.md`).
    fn default() -> Self {
        TrainConfig {
            steps: 1000,
            batch: 128,
            lr: 0.02,
            momentum: 0.9,
            weight_decay: 1e-4,
            schedule: Schedule::Constant,
            seed: 0,
            augment: false,
            eval_every: 100,
            eval_images: 2000,
            final_eval_images: None,
            label: "training".into(),
            drop_last: true,
            detect_anomaly: false,
        }
    }
}

/// One evaluation during training.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalPoint {
    /// After this many steps.
    pub step: usize,
    /// Classification error on (a fixed part of) the training set, eval mode.
    pub train_error: f64,
    /// Classification error on the test set, eval mode (NaN without one).
    pub test_error: f64,
}

/// What a run recorded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    /// The loss of each step's batch.
    pub loss: Vec<f64>,
    /// The error of each step's batch (train mode, before the step).
    pub batch_error: Vec<f64>,
    /// Evaluations every `eval_every` steps.
    pub evals: Vec<EvalPoint>,
    /// Mean training loss and batch error of each completed epoch: `(epoch, loss, error)`.
    pub epochs: Vec<(usize, f64, f64)>,
    /// Images per second over the run (0 where there is no clock: in a browser, on
    /// `wasm32-unknown-unknown`).
    pub images_per_second: f64,
    /// Wall time of the run, seconds (0 where there is no clock: in a browser, on
    /// `wasm32-unknown-unknown`).
    pub seconds: f64,
}

/// The fraction of rows of `logits` whose largest entry is not the label.
pub fn error_rate(logits: &Var<f32>, labels: &[usize]) -> f64 {
    let v = logits.value();
    let wrong = labels
        .iter()
        .enumerate()
        .filter(|&(i, &l)| {
            let row = v.index_axis(ndarray::Axis(0), i);
            let best = row
                .iter()
                .enumerate()
                .fold(0, |b, (j, &x)| if x > row[b] { j } else { b });
            best != l
        })
        .count();
    wrong as f64 / labels.len().max(1) as f64
}

/// Classification error of `model` on (the first `limit` images of) `data`, eval mode.
///
/// Panics with [`try_evaluate`]'s error.
#[track_caller]
pub fn evaluate(model: &dyn Module<f32>, data: &Dataset, limit: usize) -> f64 {
    crate::error::or_panic(try_evaluate(model, data, limit))
}

/// [`evaluate`], returning the model's error (an input shape it cannot take) instead of
/// panicking.
pub fn try_evaluate(model: &dyn Module<f32>, data: &Dataset, limit: usize) -> Result<f64> {
    let data = if limit > 0 && limit < data.len() {
        data.take(limit)
    } else {
        data.clone()
    };
    let mut wrong = 0.0;
    for b in data.in_order(256) {
        let tape = Tape::new();
        let logits =
            tape.no_grad(|| model.try_forward(&tape.constant(b.images.clone()), Mode::Eval))?;
        wrong += error_rate(&logits, &b.labels) * b.labels.len() as f64;
    }
    Ok(wrong / data.len().max(1) as f64)
}

/// Reports progress: an indicatif bar on a terminal; elsewhere (a notebook, a log) a
/// compact line every few seconds, so a learner never stares at a silent cell.
pub struct Progress {
    bar: Option<Bar>,
    label: String,
    last_line: Stopwatch,
    every: f64,
    quiet: bool,
}

/// indicatif's bar, natively.
#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
type Bar = indicatif::ProgressBar;

/// A browser has no terminal, so no bar is ever made there (and indicatif is not linked).
#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
struct Bar;

#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
impl Bar {
    fn set_position(&self, _: u64) {}
    fn set_message(&self, _: String) {}
    fn finish_and_clear(&self) {}
}

/// A bar over `total` steps, labelled `label`, where stderr is a terminal.
#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
fn terminal_bar(total: usize, label: &str) -> Option<Bar> {
    std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(total as u64);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{prefix:>18} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}",
        ) {
            bar.set_style(style);
        }
        bar.set_prefix(label.to_string());
        bar
    })
}

/// No terminal in a browser: no bar.
#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
fn terminal_bar(_: usize, _: &str) -> Option<Bar> {
    None
}

impl Progress {
    /// Progress over `total` steps, labelled `label` (the bar's prefix; the start of each
    /// line: `plain-20 (seed 0): step 50/500 ...`).
    pub fn new(total: usize, label: &str) -> Self {
        let quiet = std::env::var_os("RESGRAD_QUIET").is_some();
        Progress {
            bar: if quiet {
                None
            } else {
                terminal_bar(total, label)
            },
            label: label.to_string(),
            last_line: Stopwatch::start(),
            every: 3.0,
            quiet,
        }
    }

    /// Marks step `step` done with a status message.
    pub fn update(&mut self, step: usize, total: usize, msg: &str) {
        match &self.bar {
            Some(bar) => {
                bar.set_position(step as u64);
                bar.set_message(msg.to_string());
            }
            None if !self.quiet && (self.last_line.seconds() >= self.every || step == total) => {
                eprintln!("  {}: step {step}/{total} {msg}", self.label);
                self.last_line = Stopwatch::start();
            }
            None => {}
        }
    }

    /// Clears the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Everything a run needs to continue: the optimizer and the step reached.
pub struct Run {
    /// The optimizer (its momentum buffers are part of the state).
    pub opt: Sgd<f32>,
    /// Steps done so far.
    pub step: usize,
    /// The run's length in steps (`cfg.steps` of [`Run::new`]): a loaded state's step
    /// must be at most this ([`load_state`]).
    pub steps: usize,
    /// The history so far.
    pub history: History,
}

impl Run {
    /// A fresh run with `cfg`'s optimizer settings and length.
    pub fn new(cfg: &TrainConfig) -> Self {
        Run {
            opt: Sgd::new(cfg.lr)
                .momentum(cfg.momentum)
                .weight_decay(cfg.weight_decay),
            step: 0,
            steps: cfg.steps,
            history: History::default(),
        }
    }
}

/// Tunes glibc's allocator for training (keep freed tensors in the heap instead of
/// returning them to the kernel after every step: a third of a ResNet-20 step went to the
/// kernel without it). Training calls it; so do benchmarks. Once per process; a no-op
/// off glibc, or with `RESGRAD_NO_MALLOPT` set.
pub fn tune_allocator() {
    crate::alloc::tune();
}

/// Trains `model` on `train` from `run.step` up to `until` steps (at most `cfg.steps`),
/// evaluating on `test`. The data order of step `t` depends only on `(cfg.seed, t)`, so a
/// run resumed from a checkpoint continues the same curve.
///
/// Returns an error, and stops, when:
/// - `cfg` does not pass [`TrainConfig::check`], or the training set holds less than one
///   batch ([`TrainConfig::steps_per_epoch`]);
/// - the model refuses a batch ([`Module::try_forward`]): a wrong input shape, or, with
///   `drop_last` off, batch norm in training mode on a last batch of one image;
/// - the loss becomes NaN or infinite ([`Error::Diverged`]): the step, the last finite
///   loss and what to try; with [`detect_anomaly`](TrainConfig::detect_anomaly), also the
///   first op that produced a NaN or an infinity. The step that diverged is not taken:
///   `run.step` and the history stop before it.
pub fn train_until(
    model: &dyn Module<f32>,
    train: &Dataset,
    test: Option<&Dataset>,
    cfg: &TrainConfig,
    run: &mut Run,
    until: usize,
) -> Result<()> {
    cfg.check()?;
    let per_epoch = cfg.steps_per_epoch(train.len())?;
    tune_allocator();
    say_dropped_once(cfg, train.len());
    let params = model.parameters();
    let until = until.min(cfg.steps);
    let mut progress = Progress::new(cfg.steps, &cfg.label);
    let start = Stopwatch::start();
    let first = run.step;
    let mut epoch_cache: Option<(u64, Vec<crate::data::Batch>)> = None;
    while run.step < until {
        let t = run.step;
        let epoch = (t / per_epoch) as u64;
        if epoch_cache.as_ref().is_none_or(|(e, _)| *e != epoch) {
            epoch_cache = Some((epoch, train.epoch(cfg.batch, cfg.seed, epoch, cfg.augment)));
        }
        let batch = &epoch_cache.as_ref().expect("just filled").1[t % per_epoch];
        run.opt.lr = cfg.schedule.lr(cfg.lr, t);
        let (loss, err, grads) = {
            let tape = Tape::new();
            tape.set_anomaly_mode(cfg.detect_anomaly);
            let logits = model
                .try_forward(&tape.constant(batch.images.clone()), Mode::Train)
                .map_err(|e| refused_batch(cfg, t, batch.labels.len(), train.len(), e))?;
            let loss = logits.try_cross_entropy(&batch.labels)?;
            let value = loss.item() as f64;
            if !value.is_finite() {
                progress.finish();
                return Err(diverged(cfg, run, value, tape.first_anomaly()));
            }
            let grads = match loss.try_backward_keeping(crate::Keep::Leaves) {
                Ok(grads) => grads,
                Err(e @ Error::Anomaly { .. }) => {
                    progress.finish();
                    return Err(diverged(cfg, run, value, Some(e)));
                }
                Err(e) => return Err(e),
            };
            (value, error_rate(&logits, &batch.labels), grads)
        };
        run.opt.step(&params, &grads);
        run.history.loss.push(loss);
        run.history.batch_error.push(err);
        run.step += 1;
        if run.step.is_multiple_of(per_epoch) && run.history.loss.len() >= per_epoch {
            let tail = |v: &[f64]| v[v.len() - per_epoch..].iter().sum::<f64>() / per_epoch as f64;
            let (l, e) = (tail(&run.history.loss), tail(&run.history.batch_error));
            run.history.epochs.push((run.step / per_epoch, l, e));
        }
        if run.step.is_multiple_of(cfg.eval_every.max(1)) || run.step == cfg.steps {
            let images = match cfg.final_eval_images {
                Some(n) if run.step == cfg.steps => n,
                _ => cfg.eval_images,
            };
            let point = EvalPoint {
                step: run.step,
                train_error: try_evaluate(model, train, images)?,
                test_error: match test {
                    Some(d) => try_evaluate(model, d, images)?,
                    None => f64::NAN,
                },
            };
            run.history.evals.push(point);
        }
        let ips = per_second(
            (run.step - first) as f64 * cfg.batch as f64,
            start.seconds(),
        );
        progress.update(
            run.step,
            cfg.steps,
            &format!("loss {loss:.3} err {:.1}% {ips:.0} img/s", 100.0 * err),
        );
    }
    progress.finish();
    let secs = start.seconds();
    run.history.seconds += secs;
    run.history.images_per_second = per_second(((run.step - first) * cfg.batch) as f64, secs);
    Ok(())
}

/// Says once per process, on stderr (unless `RESGRAD_QUIET` is set), how many images each
/// epoch leaves out when `drop_last` drops an incomplete last batch.
fn say_dropped_once(cfg: &TrainConfig, images: usize) {
    static SAID: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    let left = images % cfg.batch.max(1);
    if cfg.drop_last
        && left > 0
        && std::env::var_os("RESGRAD_QUIET").is_none()
        && !SAID.swap(true, std::sync::atomic::Ordering::Relaxed)
    {
        eprintln!(
            "note: drop_last: {images} images make {} full batches of {}; the last {left} \
             images of each shuffled epoch are left out (TrainConfig::drop_last = false keeps them)",
            images / cfg.batch,
            cfg.batch
        );
    }
}

/// The model's error on step `t`'s batch of `size` images; for a batch of one (the last,
/// incomplete batch of an epoch, `drop_last` off), the step and what to do as well.
fn refused_batch(cfg: &TrainConfig, t: usize, size: usize, images: usize, e: Error) -> Error {
    if size != 1 || cfg.batch == 1 {
        return e;
    }
    Error::Argument {
        op: "train".into(),
        message: format!(
            "{}: step {}: the last batch of the epoch holds 1 image ({images} images in \
             batches of {}), and the model refused it: {e}. Keep TrainConfig::drop_last on (the \
             default; --keep-last off), or choose a batch size that leaves more than one image over",
            cfg.label,
            t + 1,
            cfg.batch
        ),
        location: std::panic::Location::caller().to_string(),
    }
}

/// A loss for a message: 4 decimals, or 4 significant digits in e-notation when large.
fn short(x: f64) -> String {
    if x.abs() < 1e4 {
        format!("{x:.4}")
    } else {
        format!("{x:.3e}")
    }
}

/// The error of a run whose step `run.step + 1` went wrong: its loss `loss` is not
/// finite, or (anomaly mode) its backward pass found a NaN or an infinity.
fn diverged(cfg: &TrainConfig, run: &Run, loss: f64, anomaly: Option<Error>) -> Error {
    let last_finite = match run.history.loss.last() {
        Some(l) => format!("{} at step {}", short(*l), run.step),
        None => "none, the first step's loss was already not finite".into(),
    };
    let mut hint = format!(
        "Lower the learning rate (it was {} at this step, base {}), or warm up with a few \
         hundred steps at lr / 10 (Schedule::Warmup, --warmup).",
        cfg.schedule.lr(cfg.lr, run.step),
        cfg.lr
    );
    let what = if loss.is_finite() {
        format!(
            "anomaly mode found a NaN or an infinity (the loss was {})",
            short(loss)
        )
    } else {
        format!("the loss became {loss}")
    };
    match anomaly {
        Some(e) => hint.push_str(&format!(" Anomaly mode found where: {e}.")),
        None if cfg.detect_anomaly => {}
        None => hint.push_str(
            " To see which op first produced a NaN or an infinity, turn on \
             TrainConfig::detect_anomaly (--detect-anomaly).",
        ),
    }
    Error::Diverged {
        run: cfg.label.clone(),
        step: run.step + 1,
        what,
        last_finite,
        hint,
    }
}

/// Trains `model` for `cfg.steps` steps from scratch; see [`train_until`] for the errors.
pub fn train(
    model: &dyn Module<f32>,
    train_set: &Dataset,
    test: Option<&Dataset>,
    cfg: &TrainConfig,
) -> Result<History> {
    let mut run = Run::new(cfg);
    train_until(model, train_set, test, cfg, &mut run, cfg.steps)?;
    Ok(run.history)
}
