//! Data sets: a [`Dataset`] with batching, seeded shuffling, normalisation and the paper's
//! augmentation; loaders for IDX (MNIST, Fashion-MNIST) and CIFAR-10 binary files; the
//! embedded UCI digits; synthetic sets.

mod dataset;
mod files;
mod synthetic;

pub use dataset::{Batch, Dataset};
pub use files::{cifar10_file, digits, fashion_mnist, fashion_mnist_dir, idx_pair};
pub use synthetic::{regression_grid, spirals, two_moons};
