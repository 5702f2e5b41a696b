//! Training: a loop with a history, a progress bar (or progress lines where there is no
//! terminal, as in a notebook), determinism, and checkpoint/resume.

pub mod checkpoint;
mod degradation;
pub mod optim;
mod state;

pub use degradation::{
    DegradationConfig, DegradationResult, Family, RunResult, TrainedNet, run_degradation,
    run_degradation_with,
};
pub use state::{load_state, save_state};

use std::io::IsTerminal;
use std::time::Instant;

use crate::data::Dataset;
use crate::nn::{Mode, Module};
use crate::{Tape, Var};
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
    /// Evaluate every this many steps (and at the end).
    pub eval_every: usize,
    /// At most this many images of each split for evaluation (0: all).
    pub eval_images: usize,
    /// Shown in progress output.
    pub label: String,
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
            label: "training".into(),
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
    /// Images per second over the run.
    pub images_per_second: f64,
    /// Wall time of the run, seconds.
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
pub fn evaluate(model: &dyn Module<f32>, data: &Dataset, limit: usize) -> f64 {
    let data = if limit > 0 && limit < data.len() {
        data.take(limit)
    } else {
        data.clone()
    };
    let mut wrong = 0.0;
    for b in data.in_order(256) {
        let tape = Tape::new();
        let logits = tape.no_grad(|| model.forward(&tape.constant(b.images.clone()), Mode::Eval));
        wrong += error_rate(&logits, &b.labels) * b.labels.len() as f64;
    }
    wrong / data.len().max(1) as f64
}

/// Reports progress: an indicatif bar on a terminal; elsewhere (a notebook, a log) a
/// compact line every few seconds, so a learner never stares at a silent cell.
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
    last_line: Instant,
    every: f64,
    quiet: bool,
}

impl Progress {
    /// Progress over `total` steps, labelled `label`.
    pub fn new(total: usize, label: &str) -> Self {
        let quiet = std::env::var_os("RESGRAD_QUIET").is_some();
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = indicatif::ProgressBar::new(total as u64);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{prefix:>14} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}",
            ) {
                bar.set_style(style);
            }
            bar.set_prefix(label.to_string());
            bar
        });
        Progress {
            bar,
            last_line: Instant::now(),
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
            None if !self.quiet
                && (self.last_line.elapsed().as_secs_f64() >= self.every || step == total) =>
            {
                eprintln!("  step {step}/{total} {msg}");
                self.last_line = Instant::now();
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
    /// The history so far.
    pub history: History,
}

impl Run {
    /// A fresh run with `cfg`'s optimizer settings.
    pub fn new(cfg: &TrainConfig) -> Self {
        Run {
            opt: Sgd::new(cfg.lr)
                .momentum(cfg.momentum)
                .weight_decay(cfg.weight_decay),
            step: 0,
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
pub fn train_until(
    model: &dyn Module<f32>,
    train: &Dataset,
    test: Option<&Dataset>,
    cfg: &TrainConfig,
    run: &mut Run,
    until: usize,
) {
    tune_allocator();
    let params = model.parameters();
    let per_epoch = train.len().div_ceil(cfg.batch.max(1)).max(1);
    let until = until.min(cfg.steps);
    let mut progress = Progress::new(cfg.steps, &cfg.label);
    let start = Instant::now();
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
            let logits = model.forward(&tape.constant(batch.images.clone()), Mode::Train);
            let loss = logits.cross_entropy(&batch.labels);
            (
                loss.item() as f64,
                error_rate(&logits, &batch.labels),
                loss.backward_leaves(),
            )
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
            let point = EvalPoint {
                step: run.step,
                train_error: evaluate(model, train, cfg.eval_images),
                test_error: test.map_or(f64::NAN, |d| evaluate(model, d, cfg.eval_images)),
            };
            run.history.evals.push(point);
        }
        let ips =
            (run.step - first) as f64 * cfg.batch as f64 / start.elapsed().as_secs_f64().max(1e-9);
        progress.update(
            run.step,
            cfg.steps,
            &format!("loss {loss:.3} err {:.1}% {ips:.0} img/s", 100.0 * err),
        );
    }
    progress.finish();
    let secs = start.elapsed().as_secs_f64();
    run.history.seconds += secs;
    run.history.images_per_second = ((run.step - first) * cfg.batch) as f64 / secs.max(1e-9);
}

/// Trains `model` for `cfg.steps` steps from scratch.
pub fn train(
    model: &dyn Module<f32>,
    train_set: &Dataset,
    test: Option<&Dataset>,
    cfg: &TrainConfig,
) -> History {
    let mut run = Run::new(cfg);
    train_until(model, train_set, test, cfg, &mut run, cfg.steps);
    run.history
}
