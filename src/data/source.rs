//! Choosing a data set by name (as `resgrad degradation --data` does) and preparing its
//! two splits for training.

use std::path::{Path, PathBuf};

use super::{Dataset, cifar10_dir, digits_split, fashion_mnist, fashion_mnist_dir, idx_dir};
use crate::error::{Error, Result};

/// Every data set the library loads from disk or carries with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataSource {
    /// Fashion-MNIST (IDX files; [`fashion_mnist`]), from [`fashion_mnist_dir`] unless a
    /// folder is given.
    Fashion,
    /// The embedded UCI 8x8 digits, split 1,497 / 300 ([`digits_split`]); needs no folder.
    Digits,
    /// CIFAR-10's binary version ([`cifar10_dir`]); needs its folder.
    Cifar10,
    /// Any MNIST-like folder of the four standard IDX files ([`idx_dir`]); needs its folder.
    Idx,
}

impl DataSource {
    /// Every source, in the order of the command line's help.
    pub const ALL: [DataSource; 4] = [
        DataSource::Fashion,
        DataSource::Digits,
        DataSource::Cifar10,
        DataSource::Idx,
    ];

    /// The name the command line takes.
    pub fn name(self) -> &'static str {
        match self {
            DataSource::Fashion => "fashion",
            DataSource::Digits => "digits",
            DataSource::Cifar10 => "cifar10",
            DataSource::Idx => "idx",
        }
    }

    /// Loads the training and test sets, from `dir` where given. A folder that is given
    /// and cannot be read is an error, never a fallback to another data set; the digits
    /// are embedded, so a folder given with them is an error too.
    pub fn load(self, dir: Option<&Path>) -> Result<(Dataset, Dataset)> {
        let need = |what: &str| {
            dir.ok_or_else(|| Error::Data {
                path: "--data-dir".into(),
                problem: format!("{} needs the folder that holds {what}", self.name()),
            })
        };
        match self {
            DataSource::Fashion => fashion_mnist(dir.map_or_else(fashion_mnist_dir, PathBuf::from)),
            DataSource::Digits => match dir {
                None => Ok(digits_split()),
                Some(d) => Err(Error::data(
                    d,
                    "the digits are embedded in resgrad and read no folder; for IDX files in a folder use idx",
                )),
            },
            DataSource::Cifar10 => cifar10_dir(need("data_batch_1.bin .. test_batch.bin")?),
            DataSource::Idx => idx_dir(need("the four IDX files")?),
        }
    }
}

impl std::fmt::Display for DataSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for DataSource {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        DataSource::ALL
            .into_iter()
            .find(|d| d.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                let names: Vec<&str> = DataSource::ALL.iter().map(|d| d.name()).collect();
                format!("unknown data set `{s}`; choose one of {}", names.join(", "))
            })
    }
}

/// A training set and a test set, ready to train on, and where they came from.
#[derive(Debug, Clone)]
pub struct Splits {
    /// The training set.
    pub train: Dataset,
    /// The test set.
    pub test: Dataset,
    /// Where the data came from, in a sentence (e.g. why the digits were used).
    pub origin: String,
}

/// Loads `source` (from `dir` if given). Without a source, Fashion-MNIST is used if it
/// loads (from `dir`, or [`fashion_mnist_dir`]) and otherwise the embedded digits, saying
/// why; but a `dir` that is given must load.
pub fn load_splits(source: Option<DataSource>, dir: Option<&Path>) -> Result<Splits> {
    let (source, origin) = match (source, dir) {
        (Some(DataSource::Digits), None) => (DataSource::Digits, "the embedded UCI digits".into()),
        (Some(s), _) => {
            let from = dir.map_or_else(fashion_mnist_dir, PathBuf::from);
            (s, format!("{s} from {}", from.display()))
        }
        (None, Some(d)) => (DataSource::Fashion, format!("fashion from {}", d.display())),
        (None, None) => match fashion_mnist(fashion_mnist_dir()) {
            Ok((train, test)) => {
                let origin = format!("Fashion-MNIST from {}", fashion_mnist_dir().display());
                return Ok(Splits {
                    train,
                    test,
                    origin,
                });
            }
            Err(_) => {
                let (train, test) = digits_split();
                return Ok(Splits {
                    train,
                    test,
                    origin: "the embedded UCI digits (Fashion-MNIST is not installed: `apt-get install \
                             dataset-fashion-mnist`, or set RESGRAD_DATA, or pass --data and --data-dir)"
                        .into(),
                });
            }
        },
    };
    let (train, test) = source.load(dir)?;
    Ok(Splits {
        train,
        test,
        origin,
    })
}

impl Splits {
    /// Keeps the first `subset` training images (0: all), shrinks both splits by 2 with
    /// `half_size` ([`Dataset::downsample2`]), and normalises both with the training set's
    /// per-channel mean and std.
    pub fn prepare(mut self, subset: usize, half_size: bool) -> Splits {
        if subset > 0 {
            self.train = self.train.take(subset);
        }
        if half_size {
            self.train = self.train.downsample2();
            self.test = self.test.downsample2();
        }
        let (mean, std) = self.train.channel_stats();
        self.train.normalize(&mean, &std);
        self.test.normalize(&mean, &std);
        self
    }
}
