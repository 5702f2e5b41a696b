//! Veit et al. 2016's lesion study (their Fig. 3): delete one block at a time from a
//! trained residual net and from its trained plain twin, and measure the test accuracy of
//! what is left.
//!
//! A residual block computes `y = x + F(x)`; deleting it leaves `y = x`, a path the rest
//! of the net has always seen, since every later block receives the sum of all earlier
//! branches (He et al. 2016 eq. 4). A plain layer computes `y = F(x)`; deleting it feeds
//! the next layer an input it was never trained on. Veit et al. deleted residual blocks
//! from a CIFAR-10 ResNet-110 and single layers from VGG; here the nets are fully
//! connected and small, so the study trains in seconds.
//!
//! A body element is a module of a [`Sequential`] whose name is a number (`"0"`, `"1"`,
//! ...: [`MlpSpec`] names the body that way); the input layer (`fc_in`, ...) and the
//! classifier (`fc`) are never deleted, because nothing could stand in for them.

use std::fmt;

use crate::data::Dataset;
use crate::models::{MlpSpec, NetKind};
use crate::nn::{Module, Sequential};
use crate::train::{TrainConfig, train, try_evaluate};
use crate::{Error, Result};

/// The positions in `net.layers` of the body elements: the modules named by a number.
pub fn body_elements<T: crate::Float>(net: &Sequential<T>) -> Vec<usize> {
    net.layers
        .iter()
        .enumerate()
        .filter(|(_, (name, _))| name.parse::<usize>().is_ok())
        .map(|(i, _)| i)
        .collect()
}

/// A named module of a [`Sequential`], as `Sequential::layers` holds it.
type Named = (String, Box<dyn Module<f32>>);

/// A net with some modules taken out; dropping it puts them back where they were, so the
/// net is whole again even when the evaluation in between fails (or panics).
struct Lesioned<'a> {
    net: &'a mut Sequential<f32>,
    /// `(position, (name, module))`, in increasing position.
    removed: Vec<(usize, Named)>,
}

impl<'a> Lesioned<'a> {
    /// Takes the modules at `positions` (distinct, in range) out of `net`. The highest
    /// goes first, so removing one never shifts the position of another still to remove.
    fn new(net: &'a mut Sequential<f32>, positions: &[usize]) -> Self {
        let mut sorted = positions.to_vec();
        sorted.sort_unstable();
        let mut removed: Vec<_> = sorted
            .iter()
            .rev()
            .map(|&i| (i, net.layers.remove(i)))
            .collect();
        removed.reverse();
        Lesioned { net, removed }
    }
}

impl Drop for Lesioned<'_> {
    /// Lowest position first: each module then goes back to exactly where it was.
    fn drop(&mut self) {
        for (i, m) in self.removed.drain(..) {
            self.net.layers.insert(i, m);
        }
    }
}

/// Checks a test set before a lesion study spends any time on it.
#[track_caller]
fn check_test(function: &str, test: &Dataset) -> Result<()> {
    if test.is_empty() {
        return Err(Error::argument(
            function,
            format!(
                "the test set `{}` is empty; a lesion study measures test accuracy, so it needs at least one image",
                test.name
            ),
            std::panic::Location::caller(),
        ));
    }
    Ok(())
}

/// The test accuracy (eval mode, all of `test`) of `net` with the body elements named
/// `names` deleted, all at once. The net is restored before this returns, whatever
/// happens: every module goes back to its place, untouched (an eval-mode forward changes
/// no parameter and no batch-norm statistic).
///
/// Errors (naming `accuracy_without` and the rule): an empty test set; a name that is not
/// a body element of `net` (the input layer and the classifier cannot be deleted), or a
/// name given twice; an evaluation the net refuses (a test image of the wrong size).
#[track_caller]
pub fn accuracy_without(net: &mut Sequential<f32>, names: &[&str], test: &Dataset) -> Result<f64> {
    const F: &str = "accuracy_without";
    let location = std::panic::Location::caller();
    check_test(F, test)?;
    let body = body_elements(net);
    let mut positions = Vec::new();
    for name in names {
        let Some(&i) = body.iter().find(|&&i| net.layers[i].0 == *name) else {
            let listed: Vec<&str> = body.iter().map(|&i| net.layers[i].0.as_str()).collect();
            return Err(Error::argument(
                F,
                format!(
                    "`{name}` is not a body element of this net; only the modules named by a number can be \
                     deleted (here {listed:?}), never the input layer or the classifier"
                ),
                location,
            ));
        };
        if positions.contains(&i) {
            return Err(Error::argument(
                F,
                format!("`{name}` is named twice; each body element can be deleted once"),
                location,
            ));
        }
        positions.push(i);
    }
    let lesioned = Lesioned::new(net, &positions);
    let error = try_evaluate(&*lesioned.net, test, 0)?;
    Ok(1.0 - error)
}

/// One deletion of a lesion study.
#[derive(Debug, Clone, PartialEq)]
pub struct Deletion {
    /// The deleted body elements, by name (`["3"]`, or `["4", "5"]` for a pair).
    pub names: Vec<String>,
    /// The weight layers they held, `(first, last)`, counted from 1 at the input layer
    /// `fc_in` (so the body starts at weight layer 2): plain layer `i` is weight layer
    /// `i + 2`; residual block `i` holds weight layers `2i + 2` and `2i + 3`.
    pub weight_layers: (usize, usize),
    /// Test accuracy of the net without them, in `[0, 1]`.
    pub accuracy: f64,
}

impl Deletion {
    /// Where a figure puts the deletion: the middle of the weight layers it removed, so
    /// that a residual block (two layers) and a plain layer (one) share one axis.
    pub fn position(&self) -> f64 {
        0.5 * (self.weight_layers.0 + self.weight_layers.1) as f64
    }
}

/// The test accuracy of `net` with each body element deleted in turn
/// ([`lesion_groups`] with groups of one): Veit et al.'s single-block lesion.
/// `layers_per_element` is how many weight layers each body element holds (2 for a
/// residual MLP block, 1 for a plain layer); it only labels [`Deletion::weight_layers`].
///
/// The net is restored after every deletion, also on error; it comes back bit for bit.
/// Errors: an empty test set, a net without body elements, or a refused evaluation (each
/// naming `lesion_study` and the rule).
#[track_caller]
pub fn lesion_study(
    net: &mut Sequential<f32>,
    test: &Dataset,
    layers_per_element: usize,
) -> Result<Vec<Deletion>> {
    lesion_groups(net, test, layers_per_element, 1)
}

/// The test accuracy of `net` with each run of `group` consecutive body elements deleted
/// (`0..group`, then `group..2 group`, ...; a shorter run at the end if `group` does not
/// divide the body). With `group = 2` on a plain net, each deletion removes as many weight
/// layers as one residual block holds.
///
/// Errors, each naming `lesion_study` and the rule: an empty test set; a net with no body
/// element (no module named by a number); `group` or `layers_per_element` 0; an
/// evaluation the net refuses. The net is restored in every case.
#[track_caller]
pub fn lesion_groups(
    net: &mut Sequential<f32>,
    test: &Dataset,
    layers_per_element: usize,
    group: usize,
) -> Result<Vec<Deletion>> {
    const F: &str = "lesion_study";
    let location = std::panic::Location::caller();
    check_test(F, test)?;
    if group == 0 || layers_per_element == 0 {
        return Err(Error::argument(
            F,
            format!(
                "group is {group} and layers_per_element is {layers_per_element}; each deletion removes at least \
                 one body element, of at least one weight layer"
            ),
            location,
        ));
    }
    let body = body_elements(net);
    if body.is_empty() {
        return Err(Error::argument(
            F,
            "the net has no body element (no module named by a number, as MlpSpec names its layers and \
             blocks), so there is nothing to delete; a lesion study needs at least 1",
            location,
        ));
    }
    let mut out = Vec::new();
    for (k, chunk) in body.chunks(group).enumerate() {
        let names: Vec<String> = chunk.iter().map(|&i| net.layers[i].0.clone()).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let accuracy = accuracy_without(net, &refs, test)?;
        let first = 2 + k * group * layers_per_element;
        out.push(Deletion {
            weight_layers: (first, first + chunk.len() * layers_per_element - 1),
            names,
            accuracy,
        });
    }
    Ok(out)
}

/// The settings of [`run_lesion`]: a residual MLP of `blocks` blocks and its plain twin of
/// `2 * blocks` layers, both with batch norm, the same input layer and classifier, and the
/// same training recipe.
#[derive(Debug, Clone)]
pub struct LesionConfig {
    /// Residual blocks of two weight layers each (the plain twin gets twice as many layers).
    pub blocks: usize,
    /// Units of every hidden layer.
    pub width: usize,
    /// The training recipe of both nets (its `label` is replaced by each net's own).
    pub train: TrainConfig,
    /// The seed of both nets' weights.
    pub seed: u64,
    /// At most this many test images for every accuracy (0: all).
    pub test_images: usize,
}

impl LesionConfig {
    /// The chapter's settings, for Fashion-MNIST at 14x14: 12 blocks (depth 26 counting
    /// `fc_in` and the classifier) of width 64, 600 steps of 128 at lr 0.02 (momentum 0.9,
    /// weight decay 1e-4), seed 0, the first 5,000 test images.
    pub fn fashion_probe() -> Self {
        LesionConfig {
            blocks: 12,
            width: 64,
            train: TrainConfig {
                steps: 600,
                batch: 128,
                lr: 0.02,
                eval_every: 600,
                eval_images: 2000,
                ..TrainConfig::default()
            },
            seed: 0,
            test_images: 5000,
        }
    }

    /// Weight layers of each net: `fc_in`, the body of `2 * blocks` layers, the classifier.
    pub fn depth(&self) -> usize {
        2 * self.blocks + 2
    }

    /// The spec of the residual net (`NetKind::Residual`) or its plain twin, for images of
    /// `inputs` numbers and `classes` classes.
    pub fn spec(&self, kind: NetKind, inputs: usize, classes: usize) -> MlpSpec {
        MlpSpec {
            kind,
            depth: self.depth(),
            batch_norm: true,
            inputs: Some(inputs),
            classes: Some(classes),
            seed: self.seed,
            ..MlpSpec::plain(self.width, 0)
        }
    }

    /// Checks the settings before anything trains: at least one block, a width of at
    /// least 1, and a training recipe that passes [`TrainConfig::check`].
    #[track_caller]
    pub fn check(&self) -> Result<()> {
        let location = std::panic::Location::caller();
        if self.blocks == 0 {
            return Err(Error::argument(
                "LesionConfig::check",
                "blocks is 0; a lesion study deletes blocks one at a time, so it needs at least 1 \
                 (Veit et al. used 54; the chapter uses 12)",
                location,
            ));
        }
        if self.width == 0 {
            return Err(Error::argument(
                "LesionConfig::check",
                "width is 0; every hidden layer needs at least 1 unit (64 is the chapter's)",
                location,
            ));
        }
        self.train.check()
    }
}

/// One trained net of a lesion study.
#[derive(Debug, Clone)]
pub struct LesionRun {
    /// Residual or plain.
    pub kind: NetKind,
    /// A name for tables and legends, e.g. `resnet-26 (12 blocks)`.
    pub label: String,
    /// Test accuracy of the whole net.
    pub full_accuracy: f64,
    /// One body element deleted at a time.
    pub deletions: Vec<Deletion>,
    /// Its final training loss (the mean of the last 50 steps).
    pub final_loss: f64,
    /// Training time, seconds.
    pub seconds: f64,
}

impl LesionRun {
    /// The mean test accuracy over the deletions (NaN for none).
    pub fn mean_accuracy(&self) -> f64 {
        mean(self.deletions.iter().map(|d| d.accuracy))
    }

    /// The deletion that left the lowest test accuracy (`None` if there was none).
    pub fn worst(&self) -> Option<&Deletion> {
        self.deletions
            .iter()
            .min_by(|a, b| a.accuracy.total_cmp(&b.accuracy))
    }
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    if n == 0 { f64::NAN } else { sum / n as f64 }
}

/// A finished lesion study: the residual net, its plain twin, and the plain twin again
/// with its layers deleted in pairs (as many weight layers per deletion as a block).
#[derive(Debug, Clone)]
pub struct LesionResult {
    /// The data set it ran on.
    pub dataset: String,
    /// Its settings.
    pub config: LesionConfig,
    /// Test images behind every accuracy.
    pub test_images: usize,
    /// Classes of the data (chance accuracy is one over this).
    pub classes: usize,
    /// The residual net, one block deleted at a time.
    pub residual: LesionRun,
    /// The plain twin, one layer deleted at a time (as Veit et al. deleted VGG's layers).
    pub plain: LesionRun,
    /// The plain twin, two consecutive layers deleted at a time.
    pub plain_pairs: Vec<Deletion>,
}

impl LesionResult {
    /// How many points (of 100) the residual net's mean accuracy over single deletions
    /// lies above the plain net's.
    pub fn gap_points(&self) -> f64 {
        100.0 * (self.residual.mean_accuracy() - self.plain.mean_accuracy())
    }

    /// The table of the study, in markdown: each net's intact accuracy, its mean, worst
    /// and best accuracy over the deletions, and its training time.
    pub fn markdown(&self) -> String {
        let pct = |v: f64| format!("{:.1}%", 100.0 * v);
        let row = |label: &str, unit: &str, full: f64, ds: &[Deletion], secs: Option<f64>| {
            let accs: Vec<f64> = ds.iter().map(|d| d.accuracy).collect();
            let lo = accs.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = accs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            format!(
                "| {label} | {unit} | {} | {} | {} | {} | {} | {} |\n",
                ds.len(),
                pct(full),
                pct(mean(accs.iter().copied())),
                pct(lo),
                pct(hi),
                secs.map_or("-".into(), |s| format!("{s:.1} s"))
            )
        };
        let mut s = format!(
            "Lesion study on {}, {} test images; width {}, {} steps of {} at lr {}, seed {}.\n\n\
             | net | deleted | deletions | intact | mean | worst | best | training |\n|---|---|---|---|---|---|---|---|\n",
            self.dataset,
            self.test_images,
            self.config.width,
            self.config.train.steps,
            self.config.train.batch,
            self.config.train.lr,
            self.config.seed,
        );
        let (r, p) = (&self.residual, &self.plain);
        s.push_str(&row(
            &r.label,
            "one block (2 layers)",
            r.full_accuracy,
            &r.deletions,
            Some(r.seconds),
        ));
        s.push_str(&row(
            &p.label,
            "one layer",
            p.full_accuracy,
            &p.deletions,
            Some(p.seconds),
        ));
        s.push_str(&row(
            &p.label,
            "two layers",
            p.full_accuracy,
            &self.plain_pairs,
            None,
        ));
        s.push_str(&format!(
            "\nMean over single deletions: the residual net {:.1} points above the plain net (chance is {:.0}%).\n",
            self.gap_points(),
            100.0 / self.classes.max(1) as f64
        ));
        s
    }
}

impl fmt::Display for LesionResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.markdown())
    }
}

/// Trains the net of `spec` on `train_set` with `cfg`'s recipe and runs the single-element
/// lesion study on `test`.
fn trained_run(
    kind: NetKind,
    cfg: &LesionConfig,
    train_set: &Dataset,
    test: &Dataset,
) -> Result<(LesionRun, Sequential<f32>)> {
    let inputs = train_set.image_len();
    let spec = cfg.spec(kind, inputs, train_set.classes);
    let label = match kind {
        NetKind::Residual | NetKind::Detached => {
            format!("{kind}-{} ({} blocks)", cfg.depth(), cfg.blocks)
        }
        NetKind::Plain => format!("plain-{} ({} layers)", cfg.depth(), 2 * cfg.blocks),
    };
    let mut net = spec.try_build::<f32>()?;
    let tc = TrainConfig {
        label: label.clone(),
        ..cfg.train.clone()
    };
    let history = train(&net, train_set, None, &tc)?;
    let tail = &history.loss[history.loss.len().saturating_sub(50)..];
    let full_accuracy = 1.0 - try_evaluate(&net, test, 0)?;
    let per = if kind == NetKind::Residual { 2 } else { 1 };
    let deletions = lesion_study(&mut net, test, per)?;
    Ok((
        LesionRun {
            kind,
            label,
            full_accuracy,
            deletions,
            final_loss: mean(tail.iter().copied()),
            seconds: history.seconds,
        },
        net,
    ))
}

/// Veit et al. 2016 Fig. 3 at small scale: trains the residual MLP of `cfg` and its plain
/// twin on `train_set` (same data order, same recipe), then deletes each residual block,
/// each plain layer, and each pair of plain layers in turn, measuring the test accuracy
/// on (the first `cfg.test_images` of) `test` in eval mode.
///
/// Errors: settings that fail [`LesionConfig::check`], an empty test set, a training run
/// that fails (a diverged loss, a training set smaller than a batch), each with its rule.
pub fn run_lesion(cfg: &LesionConfig, train_set: &Dataset, test: &Dataset) -> Result<LesionResult> {
    cfg.check()?;
    check_test("run_lesion", test)?;
    let test = if cfg.test_images > 0 && cfg.test_images < test.len() {
        test.take(cfg.test_images)
    } else {
        test.clone()
    };
    let (residual, _) = trained_run(NetKind::Residual, cfg, train_set, &test)?;
    let (plain, mut plain_net) = trained_run(NetKind::Plain, cfg, train_set, &test)?;
    let plain_pairs = lesion_groups(&mut plain_net, &test, 1, 2)?;
    Ok(LesionResult {
        dataset: train_set.name.clone(),
        config: cfg.clone(),
        test_images: test.len(),
        classes: train_set.classes,
        residual,
        plain,
        plain_pairs,
    })
}
