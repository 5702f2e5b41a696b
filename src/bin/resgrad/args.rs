//! The options of `resgrad degradation` and `resgrad bench`, and the parsers of the
//! library's types that clap needs.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use resgrad::data::DataSource;
use resgrad::models::NetKind;
use resgrad::nn::ShortcutOption;
use resgrad::train::Family;

#[derive(Args)]
pub struct Degradation {
    /// fashion, digits, cifar10 or idx [default: fashion if installed, else digits].
    #[arg(long)]
    pub data: Option<DataSource>,
    /// The data folder (idx: the four standard IDX files; cifar10: cifar-10-batches-bin).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// conv (CIFAR ResNet design) or mlp (BN MLPs).
    #[arg(long, default_value_t = Family::Conv)]
    pub family: Family,
    /// Depths in weight layers, comma-separated (conv: 6n + 2).
    #[arg(long, value_delimiter = ',', default_value = "20,56")]
    pub depths: Vec<usize>,
    /// Width of the MLPs or of the first conv stage [default: 8 for conv, 64 for mlp].
    #[arg(long)]
    pub width: Option<usize>,
    /// Optimizer steps.
    #[arg(long, default_value_t = 500)]
    pub steps: usize,
    /// A preset of the settings below. `paper`: He et al. 2015's CIFAR recipe (§4.2) scaled
    /// to --steps: lr 0.1, momentum 0.9, weight decay 1e-4, batch 128, the rate divided by
    /// 10 at 50% and 75% of the run (32k and 48k of 64k iterations), --augment, and for nets
    /// of 110 layers or more a warm-up at lr 0.01 for 400/64000 of the run. A flag given
    /// beside it overrides its value.
    #[arg(long)]
    pub recipe: Option<Recipe>,
    /// Learning rate (SGD, momentum 0.9, weight decay 1e-4); finite, 0 or more
    /// [default: 0.02; 0.1 with --recipe paper].
    #[arg(long)]
    pub lr: Option<f64>,
    /// Divide the rate by 10 at these points: fractions of the run with a decimal point
    /// (0.5,0.75), or step numbers (1500,2250); rising, each once [default: none; 0.5,0.75
    /// with --recipe paper].
    #[arg(long)]
    pub milestones: Option<Milestones>,
    /// Pad-and-crop augmentation with a horizontal flip: each training image is padded
    /// with zeros by an eighth of its side (4 pixels at 32x32, 2 at 14x14), cropped back at
    /// a random offset and flipped half of the time [on with --recipe paper].
    #[arg(long)]
    pub augment: bool,
    /// Warm-up steps at lr / 10 for every net (0: none) [default: 0; with --recipe paper,
    /// the paper's warm-up for nets of 110 layers or more].
    #[arg(long)]
    pub warmup: Option<usize>,
    /// Seeds, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "0")]
    pub seeds: Vec<u64>,
    /// The kinds of net, comma-separated: plain, resnet, and detached (a resnet whose
    /// shortcuts carry the value forward but no gradient back: the causal control).
    #[arg(long, value_delimiter = ',', default_value = "plain,resnet")]
    pub kinds: Vec<NetKind>,
    /// The residual nets' shortcut option (conv): A, B or C.
    #[arg(long, default_value = "A")]
    pub shortcut: ShortcutOption,
    /// Batch size (the last incomplete batch of each epoch is dropped, unless --keep-last)
    /// [default: 128].
    #[arg(long)]
    pub batch: Option<usize>,
    /// Keep the last incomplete batch of each epoch (batch norm refuses a batch of one).
    #[arg(long)]
    pub keep_last: bool,
    /// Anomaly mode: if training diverges, name the first op that produced a NaN or an
    /// infinity, and the line that created it (slower).
    #[arg(long)]
    pub detect_anomaly: bool,
    /// Train on the first N images only (0: all).
    #[arg(long, default_value_t = 0)]
    pub subset: usize,
    /// Shrink the images by 2 (2x2 average pooling).
    #[arg(long)]
    pub half_size: bool,
    /// Evaluate every N steps [default: steps / 10].
    #[arg(long)]
    pub eval_every: Option<usize>,
    /// Evaluate on at most N images of each split (the curves; 0: all).
    #[arg(long, default_value_t = 1000)]
    pub eval_images: usize,
    /// The final evaluation, at the end of each run, on at most N images of each split (0:
    /// all): the whole test set and the first 10,000 training images by default, so the
    /// final errors carry a sampling error of at most about 0.3 points.
    #[arg(long, default_value_t = 10_000)]
    pub final_eval_images: usize,
    /// Where to write the figure, CSV and table.
    #[arg(long, default_value = "out/degradation")]
    pub out: PathBuf,
    /// Save each run's training state in this folder (`<kind>-<depth>-seed<seed>.safetensors`,
    /// written atomically); a folder that already holds run states is refused without --resume.
    #[arg(long)]
    pub checkpoint_dir: Option<PathBuf>,
    /// Save every N steps, and at the end of each run [default: at each evaluation].
    #[arg(long, requires = "checkpoint_dir", value_parser = at_least_1())]
    pub checkpoint_every: Option<usize>,
    /// Continue the sweep saved in --checkpoint-dir with the same settings: finished runs are
    /// read back, an unfinished one continues from its last state, the rest start fresh (an
    /// empty or missing folder starts fresh, and says so). The results equal an uninterrupted
    /// sweep's, bit for bit.
    #[arg(long, requires = "checkpoint_dir")]
    pub resume: bool,
}

#[derive(Subcommand)]
pub enum Bench {
    /// The tape's cost per op.
    Tape {
        /// Ops in the chain.
        #[arg(long, default_value_t = 1_000_000, value_parser = at_least_1())]
        ops: usize,
        /// Runs (the median is shown).
        #[arg(long, default_value_t = 5, value_parser = at_least_1())]
        repeats: usize,
    },
    /// Conv forward and forward+backward GFLOP/s.
    Conv {
        /// Batch size.
        #[arg(long, default_value_t = 128, value_parser = at_least_1())]
        batch: usize,
        /// Runs (the median is shown).
        #[arg(long, default_value_t = 10, value_parser = at_least_1())]
        repeats: usize,
    },
    /// CIFAR ResNets' training and inference images per second and peak memory, one
    /// process per net.
    Train {
        /// Batch size.
        #[arg(long, default_value_t = 128, value_parser = at_least_1())]
        batch: usize,
        /// Timed steps (the median is shown).
        #[arg(long, default_value_t = 10, value_parser = at_least_1())]
        steps: usize,
        /// The depths, comma-separated (6n + 2: 20, 32, 44, 56, 110, 1202, ...).
        #[arg(long, value_delimiter = ',', default_value = "20,56,110")]
        depths: Vec<usize>,
        /// Also append one JSON line per net to this file.
        #[arg(long)]
        json: Option<PathBuf>,
        /// Instead of the table: where each net's training step spends its time, op by op
        /// (forward and backward), with the optimizer and the freeing of the tape.
        #[arg(long)]
        profile: bool,
        /// Measure one net in this process and print its JSON line (what each child
        /// process of the bench runs).
        #[arg(long, hide = true)]
        one: bool,
    },
}

/// A count that must be at least 1 (a batch, a number of runs): clap refuses 0, naming the
/// flag and the range.
fn at_least_1() -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::<usize>::new().range(1..)
}

/// A preset of training settings for `degradation --recipe`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Recipe {
    /// He et al. 2015's CIFAR recipe (§4.2), scaled to the run's length.
    Paper,
}

/// The milestones of `--milestones`: fractions of the run, or step numbers.
#[derive(Debug, Clone, PartialEq)]
pub enum Milestones {
    /// Fractions of the run, each in (0, 1].
    Fractions(Vec<f64>),
    /// Step numbers, each at least 1.
    Steps(Vec<usize>),
}

impl Milestones {
    /// The step numbers in a run of `steps` steps (a fraction f is step round(f * steps));
    /// an error if a step lies past the run, or two fractions land on one step.
    pub fn steps(&self, steps: usize) -> Result<Vec<usize>, String> {
        let at: Vec<usize> = match self {
            Milestones::Steps(v) => v.clone(),
            Milestones::Fractions(v) => v
                .iter()
                .map(|f| ((f * steps as f64).round() as usize).max(1))
                .collect(),
        };
        if let Some(m) = at.iter().find(|&&m| m > steps) {
            return Err(format!(
                "--milestones: step {m} lies past the run's {steps} steps (--steps), so the rate \
                 would never drop there; give steps of at most {steps}, or fractions such as 0.5,0.75"
            ));
        }
        if let Some(w) = at.windows(2).find(|w| w[0] == w[1]) {
            return Err(format!(
                "--milestones: two milestones fall on step {} of {steps}; give fewer, or a longer run",
                w[0]
            ));
        }
        Ok(at)
    }
}

impl std::str::FromStr for Milestones {
    type Err = String;

    /// `0.5,0.75` (fractions: with a decimal point, in (0, 1]) or `1500,2250` (step
    /// numbers), rising strictly, each once.
    fn from_str(s: &str) -> Result<Self, String> {
        let parts: Vec<&str> = s.split(',').map(str::trim).collect();
        let rule = "fractions of the run with a decimal point, such as 0.5,0.75, or step \
                    numbers, such as 1500,2250, rising, each once";
        let fractions = parts.iter().any(|p| p.contains('.'));
        if fractions {
            let mut v = Vec::new();
            for p in &parts {
                let f: f64 = p
                    .parse()
                    .map_err(|_| format!("`{p}` is not a number; milestones are {rule}"))?;
                if !p.contains('.') {
                    return Err(format!(
                        "`{p}` is a step number among fractions; write all milestones as \
                         fractions (0.5) or all as step numbers (1500)"
                    ));
                }
                if !(f > 0.0 && f <= 1.0) {
                    return Err(format!(
                        "the fraction {p} is outside (0, 1]: a milestone is a point of the run, \
                         0.5 its middle; for a step number, write it without a decimal point"
                    ));
                }
                v.push(f);
            }
            check_rising(&v, &parts)?;
            Ok(Milestones::Fractions(v))
        } else {
            let mut v = Vec::new();
            for p in &parts {
                let n: usize = p
                    .parse()
                    .map_err(|_| format!("`{p}` is not a step number; milestones are {rule}"))?;
                if n == 0 {
                    return Err("a milestone at step 0 would only lower the base rate; give steps of at least 1, or a lower --lr".into());
                }
                v.push(n);
            }
            check_rising(&v, &parts)?;
            Ok(Milestones::Steps(v))
        }
    }
}

/// An error naming the first pair of `v` that does not rise (a repeat or a step back).
fn check_rising<T: PartialOrd>(v: &[T], text: &[&str]) -> Result<(), String> {
    match v.windows(2).position(|w| w[0] >= w[1]) {
        None => Ok(()),
        Some(i) if v[i] == v[i + 1] => Err(format!(
            "the milestone {} is given twice; each drop happens once: give each milestone once",
            text[i]
        )),
        Some(i) => Err(format!(
            "the milestones must rise: {} comes after {}; sort them (e.g. 0.5,0.75)",
            text[i + 1],
            text[i]
        )),
    }
}
