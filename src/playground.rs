//! What the browser playground computes, in plain Rust: the page's controls as
//! [`Settings`], the gradient fan over seeds ([`fan`], from [`probe_mlp`]), and a small net
//! trained live on a 2-D data set ([`Live`], through the crate's own trainer).
//!
//! The `playground/` crate exports these to JavaScript from a WebAssembly build; the
//! native build runs the very same functions, which is how the tests check the page's
//! numbers.

use ndarray::Axis;

use crate::data::{Dataset, circles, spirals, two_moons};
use crate::flow::{MlpProbe, probe_mlp};
use crate::models::{MlpSpec, NetKind};
use crate::nn::{Init, Mode, Module, Sequential};
use crate::train::{Run, TrainConfig, train_until, try_evaluate};
use crate::{Error, Result, Tape};

/// The probe batch: rows of `x_0` in every gradient measurement.
pub const PROBE_BATCH: usize = 64;

/// The shape of the net.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    /// Weight layers one after another: `fc -> [bn] -> relu`.
    Plain,
    /// He et al. 2015's blocks, `x + F(x)` (with batch norm: `relu(x + BN(...))`).
    Residual,
    /// He et al. 2016's pre-activation blocks, `x + W2 relu(BN(W1 relu(BN(x))))`.
    PreActivation,
}

/// How the weights start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// Glorot and Bengio 2010, `N(0, 1/fan_in)`.
    Glorot,
    /// He et al. 2015b, `N(0, 2/fan_in)`.
    He,
    /// He init, then the last layer of every residual branch set to 0.
    ZeroInitResidual,
}

/// The page's controls.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Plain, residual or pre-activation.
    pub arch: Arch,
    /// Weight layers, 2 to 200 (even for residual nets: two per block).
    pub depth: usize,
    /// Units per layer.
    pub width: usize,
    /// `lambda`, the shortcut's scale (He et al. 2016 eq. 8); residual nets only.
    pub lambda: f64,
    /// The initialisation.
    pub start: Start,
    /// Batch norm on or off.
    pub batch_norm: bool,
    /// The first seed.
    pub seed: u64,
    /// Seeds in the fan: `seed, seed + 1, ...`.
    pub seeds: usize,
}

impl Default for Settings {
    /// A residual net of 50 weight layers of width 64, He init, no batch norm, lambda 1,
    /// 8 seeds from 0.
    fn default() -> Self {
        Settings {
            arch: Arch::Residual,
            depth: 50,
            width: 64,
            lambda: 1.0,
            start: Start::He,
            batch_norm: false,
            seed: 0,
            seeds: 8,
        }
    }
}

impl Settings {
    /// The body's spec for one seed (no input layer, no classifier), after checking the
    /// ranges the page allows. The rules of the net itself (an even depth for residual
    /// blocks, batch norm for pre-activation, zero-init only with branches) are
    /// [`MlpSpec::check`]'s, and its errors say them.
    pub fn spec(&self, seed: u64) -> Result<MlpSpec> {
        self.check()?;
        let base = match self.arch {
            Arch::Plain => MlpSpec::plain(self.width, self.depth),
            Arch::Residual | Arch::PreActivation => MlpSpec::residual(self.width, self.depth),
        };
        let spec = MlpSpec {
            batch_norm: self.batch_norm,
            pre_activation: self.arch == Arch::PreActivation,
            init: match self.start {
                Start::Glorot => Init::GlorotNormal,
                Start::He | Start::ZeroInitResidual => Init::HeNormal,
            },
            zero_init_residual: self.start == Start::ZeroInitResidual,
            shortcut_scale: if base.kind == NetKind::Residual {
                self.lambda
            } else {
                1.0
            },
            seed,
            ..base
        };
        spec.check::<f64>()?;
        Ok(spec)
    }

    /// The ranges the page allows: depth 2 to 200, width 1 to 512, 1 to 32 seeds, a finite
    /// lambda.
    pub fn check(&self) -> Result<()> {
        let bad = |why: String| {
            Err(Error::argument(
                "playground::Settings",
                why,
                std::panic::Location::caller(),
            ))
        };
        if !(2..=200).contains(&self.depth) {
            return bad(format!(
                "depth {}: choose 2 to 200 weight layers",
                self.depth
            ));
        }
        if !(1..=512).contains(&self.width) {
            return bad(format!("width {}: choose 1 to 512 units", self.width));
        }
        if !(1..=32).contains(&self.seeds) {
            return bad(format!("{} seeds: choose 1 to 32", self.seeds));
        }
        if !self.lambda.is_finite() {
            return bad(format!(
                "lambda {}: it must be a finite number",
                self.lambda
            ));
        }
        Ok(())
    }
}

/// The probe of every seed of `settings`, in order: the gradient fan, the spread of the
/// signal, and eq. 5's split.
pub fn fan(settings: &Settings) -> Result<Vec<MlpProbe>> {
    settings.check()?;
    (0..settings.seeds as u64)
        .map(|i| probe_mlp(&settings.spec(settings.seed + i)?, PROBE_BATCH))
        .collect()
}

/// A 2-D data set of the live view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Points {
    /// Two interleaved spirals ([`spirals`]).
    Spirals,
    /// Two moons ([`two_moons`]), centred.
    Moons,
    /// Two circles ([`circles`]).
    Circles,
}

/// Points in each live data set.
pub const LIVE_POINTS: usize = 256;
/// The live net's batch.
pub const LIVE_BATCH: usize = 64;

/// A net of the page's settings (seed [`Settings::seed`]) with a 2-D input layer and a
/// two-way classifier, trained a few steps at a time by the crate's trainer
/// ([`train_until`]) on a 2-D data set.
pub struct Live {
    model: Sequential<f32>,
    data: Dataset,
    cfg: TrainConfig,
    run: Run,
}

impl Live {
    /// A fresh net on `points` (seed `settings.seed`; noise 0.1 for the moons, centred and
    /// scaled by 0.75 to fit the square, 0.05 for the others), trained by SGD with momentum 0.9, learning rate `lr`, batches of
    /// [`LIVE_BATCH`]. `settings.depth` counts every weight layer, the input layer and the
    /// classifier included.
    pub fn new(settings: &Settings, points: Points, lr: f64) -> Result<Live> {
        let spec = MlpSpec {
            inputs: Some(2),
            classes: Some(2),
            ..settings.spec(settings.seed)?
        };
        let model = spec.try_build::<f32>()?;
        let (x, labels) = match points {
            Points::Spirals => spirals(LIVE_POINTS, 2, 0.05, settings.seed),
            Points::Moons => {
                let (mut x, y) = two_moons(LIVE_POINTS, 0.1, settings.seed);
                x.column_mut(0).mapv_inplace(|v| 0.75 * (v - 0.5));
                x.column_mut(1).mapv_inplace(|v| 0.75 * (v - 0.25));
                (x, y)
            }
            Points::Circles => circles(LIVE_POINTS, 0.05, settings.seed),
        };
        let data = Dataset {
            name: format!("{points:?}").to_lowercase(),
            images: x.iter().copied().collect(),
            shape: [2, 1, 1],
            labels,
            classes: 2,
        };
        let cfg = TrainConfig {
            steps: usize::MAX / 2,
            batch: LIVE_BATCH,
            lr,
            momentum: 0.9,
            weight_decay: 0.0,
            seed: settings.seed,
            eval_every: usize::MAX / 2,
            eval_images: 0,
            label: "playground".into(),
            ..TrainConfig::default()
        };
        cfg.check()?;
        let run = Run::new(&cfg);
        Ok(Live {
            model,
            data,
            cfg,
            run,
        })
    }

    /// Trains `steps` more steps; a diverged run returns the trainer's error.
    pub fn train(&mut self, steps: usize) -> Result<()> {
        let until = self.run.step + steps;
        train_until(
            &self.model,
            &self.data,
            None,
            &self.cfg,
            &mut self.run,
            until,
        )
    }

    /// Steps taken.
    pub fn step(&self) -> usize {
        self.run.step
    }

    /// The training loss of every step so far.
    pub fn losses(&self) -> &[f64] {
        &self.run.history.loss
    }

    /// The share of the training points classified right, in eval mode.
    pub fn accuracy(&self) -> Result<f64> {
        Ok(1.0 - try_evaluate(&self.model, &self.data, 0)?)
    }

    /// The points: `x`, `y` and label, point after point.
    pub fn points(&self) -> Vec<f64> {
        self.data
            .images
            .chunks(2)
            .zip(&self.data.labels)
            .flat_map(|(p, &l)| [p[0] as f64, p[1] as f64, l as f64])
            .collect()
    }

    /// The probability of class 1 on an `n` by `n` grid over `[-1.5, 1.5]^2`, row after
    /// row from the top (`y = 1.5`), each row from `x = -1.5`; eval mode.
    pub fn grid(&self, n: usize) -> Result<Vec<f64>> {
        let n = n.max(2);
        let at = |i: usize| -1.5 + 3.0 * i as f32 / (n - 1) as f32;
        let pts = ndarray::Array4::from_shape_fn((n * n, 2, 1, 1), |(k, c, _, _)| {
            if c == 0 { at(k % n) } else { -at(k / n) }
        });
        let tape = Tape::new();
        let logits = tape.no_grad(|| {
            self.model
                .try_forward(&tape.constant(pts.into_dyn()), Mode::Eval)
        })?;
        Ok(logits
            .value()
            .axis_iter(Axis(0))
            .map(|row| {
                let d = (row[1] - row[0]) as f64;
                1.0 / (1.0 + (-d).exp())
            })
            .collect())
    }
}
