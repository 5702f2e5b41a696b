//! Data sets. For now the synthetic ones; real images come with the loaders.

mod synthetic;

pub use synthetic::two_moons;
