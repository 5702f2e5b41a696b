//! Initialisation, seeded: the same seed gives the same weights on any machine.

use ndarray::{ArrayD, IxDyn};
use rand::SeedableRng;
use rand_distr::{Distribution, Normal, Uniform};

use crate::Float;

/// The random generator models are built with (rand's `StdRng`, seeded).
pub type Rng = rand::rngs::StdRng;

/// A generator from a seed.
pub fn rng(seed: u64) -> Rng {
    Rng::seed_from_u64(seed)
}

/// How a weight tensor starts. `fan_in` is the number of inputs of one output unit
/// (`C_in kH kW` for a conv, `in` for a linear layer), `fan_out` the same the other way.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Init {
    /// He et al. 2015 ("Delving deep"): normal, std `sqrt(2 / fan_in)`. Keeps a ReLU
    /// net's activations at unit scale; the default for convs.
    HeNormal,
    /// Glorot and Bengio 2010: normal, std `sqrt(2 / (fan_in + fan_out))`.
    GlorotNormal,
    /// PyTorch's default for `nn.Linear`: uniform on `±1 / sqrt(fan_in)`.
    LecunUniform,
    /// All zeros.
    Zeros,
    /// Normal with this std.
    Normal(f64),
}

impl Init {
    /// A tensor of `shape` drawn from this initialisation.
    pub fn sample<T: Float>(
        self,
        shape: &[usize],
        fan_in: usize,
        fan_out: usize,
        rng: &mut Rng,
    ) -> ArrayD<T> {
        let fan_in = fan_in.max(1) as f64;
        let normal = |std: f64, rng: &mut Rng| {
            let d = Normal::new(0.0, std).expect("a finite, non-negative std");
            ArrayD::from_shape_simple_fn(IxDyn(shape), || T::cast(d.sample(rng)))
        };
        match self {
            Init::HeNormal => normal((2.0 / fan_in).sqrt(), rng),
            Init::GlorotNormal => normal((2.0 / (fan_in + fan_out.max(1) as f64)).sqrt(), rng),
            Init::Normal(std) => normal(std, rng),
            Init::LecunUniform => {
                let b = 1.0 / fan_in.sqrt();
                let d = Uniform::new_inclusive(-b, b).expect("a valid range");
                ArrayD::from_shape_simple_fn(IxDyn(shape), || T::cast(d.sample(rng)))
            }
            Init::Zeros => ArrayD::zeros(IxDyn(shape)),
        }
    }
}
