//! The options of `resgrad degradation` and `resgrad bench`, and the parsers of the
//! library's types that clap needs.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use resgrad::data::DataSource;
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
    /// Learning rate (SGD, momentum 0.9, weight decay 1e-4); finite, 0 or more.
    #[arg(long, default_value_t = 0.02)]
    pub lr: f64,
    /// Warm-up steps at lr / 10 (0: none).
    #[arg(long, default_value_t = 0)]
    pub warmup: usize,
    /// Seeds, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "0")]
    pub seeds: Vec<u64>,
    /// The residual nets' shortcut option (conv): A, B or C.
    #[arg(long, default_value = "A")]
    pub shortcut: ShortcutOption,
    /// Batch size (the last incomplete batch of each epoch is dropped, unless --keep-last).
    #[arg(long, default_value_t = 128)]
    pub batch: usize,
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
    /// Evaluate on at most N images of each split.
    #[arg(long, default_value_t = 1000)]
    pub eval_images: usize,
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
