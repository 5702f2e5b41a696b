//! Data sets: a [`Dataset`] with batching, seeded shuffling, normalisation and the paper's
//! augmentation; loaders for IDX (MNIST, Fashion-MNIST) and CIFAR-10 binary files; the
//! embedded UCI digits; synthetic sets. [`DataSource`] names each set the library loads,
//! and [`load_splits`] gives a training and a test set ready to train on.

mod dataset;
mod files;
mod source;
mod synthetic;

pub use dataset::{Batch, Dataset, augment_padding};
pub use files::{
    cifar10_dir, cifar10_file, cifar10_from_bytes, digits, digits_split, fashion_mnist,
    fashion_mnist_dir, idx_dir, idx_pair, idx_pair_from_bytes,
};
pub use source::{DataSource, Splits, load_splits};
pub use synthetic::{circles, regression_grid, spirals, two_moons};
