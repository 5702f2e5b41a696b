//! The gradient-flow predictions, as one table: what is measured, on which net, the range
//! that must hold, and where the prediction comes from. The tests, `resgrad flow` and its
//! CSV, and `docs/predictions.md` all read [`PREDICTIONS`].

use std::fmt::Write as _;

use super::setup::{BATCH, FlowSetup, WIDTH};
use super::{boundary_gradients, gaussian, nearby_gradient_cosine, ratio};
use crate::nn::{Mode, rng};

/// What a prediction measures, at initialisation, with `E = <G, x_L>` and `G ~ N(0, 1)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Quantity {
    /// `R = ||dE/dx_0|| / ||dE/dx_L||` on a batch of [`BATCH`] rows `x_0 ~ N(0, 1)`.
    Ratio,
    /// The largest `|dE/dx_0 - dE/dx_L|`, element by element, over the batch.
    MaxDifference,
    /// The mean cosine between `dE/dx_0` at two nearby inputs (`cos(x, x') = 0.99`, equal
    /// norms, the same `G` for both), over 32 pairs.
    NearbyCosine,
}

impl Quantity {
    /// The symbol used in the tables.
    pub fn symbol(self) -> &'static str {
        match self {
            Quantity::Ratio => "R",
            Quantity::MaxDifference => "max |dE/dx_0 - dE/dx_L|",
            Quantity::NearbyCosine => "cos",
        }
    }
}

/// One prediction: `min <= quantity <= max` on `setup` at `depth` weight layers, for every
/// seed `0..5`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prediction {
    /// Its number; predictions with several rows get a letter (`4a`, `4b`, ...).
    pub id: &'static str,
    /// The net.
    pub setup: FlowSetup,
    /// Its depth in weight layers (a residual block holds two).
    pub depth: usize,
    /// What is measured.
    pub quantity: Quantity,
    /// The lower bound (`f64::NEG_INFINITY`: none).
    pub min: f64,
    /// The upper bound (`f64::INFINITY`: none).
    pub max: f64,
    /// What a reference simulation (f64, 20+ seeds) measured.
    pub reference: &'static str,
    /// The paper, and the equation or section, the prediction comes from.
    pub source: &'static str,
}

/// Every gradient-flow prediction the tests check (nets of width 64, no biases, batch 64,
/// seeds 0..4).
pub static PREDICTIONS: [Prediction; 9] = [
    Prediction {
        id: "1",
        setup: FlowSetup::ZeroInitResidual,
        depth: 50,
        quantity: Quantity::MaxDifference,
        min: f64::NEG_INFINITY,
        max: 1e-6,
        reference: "exact for 50 of 50 seeds; a skip that gets no gradient gives R = 0",
        source: "He et al. 2016, eq. 5 with F = 0: dE/dx_l = dE/dx_L; Goyal et al. 2017, Fixup, SkipInit",
    },
    Prediction {
        id: "2",
        setup: FlowSetup::ScaledResidual,
        depth: 50,
        quantity: Quantity::Ratio,
        min: 1.5,
        max: 4.0,
        reference: "1.85 to 3.1 at every depth from 10 to 200",
        source: "He et al. 2016, eq. 5: the term dE/dx_L reaches every layer directly; Balduzzi et al. 2017 (rescaled branches)",
    },
    Prediction {
        id: "3",
        setup: FlowSetup::GlorotPlain,
        depth: 50,
        quantity: Quantity::Ratio,
        min: f64::NEG_INFINITY,
        max: 1e-6,
        reference: "<= 8e-8",
        source: "Glorot and Bengio 2010; He et al. 2015b (Delving deep): Glorot init halves the gradient variance per ReLU layer",
    },
    Prediction {
        id: "4a",
        setup: FlowSetup::BnPlain,
        depth: 50,
        quantity: Quantity::Ratio,
        min: 1e3,
        max: f64::INFINITY,
        reference: ">= 8.5e3",
        source: "Yang et al. 2019: batch norm in a plain net explodes the gradient at init, about 1.21x per layer",
    },
    Prediction {
        id: "4b",
        setup: FlowSetup::PostActBnResidual,
        depth: 50,
        quantity: Quantity::Ratio,
        min: f64::NEG_INFINITY,
        max: 100.0,
        reference: "<= 31.6",
        source: "He et al. 2015, the post-activation block; He et al. 2016, eq. 5",
    },
    Prediction {
        id: "4c",
        setup: FlowSetup::PreActBnResidual,
        depth: 50,
        quantity: Quantity::Ratio,
        min: f64::NEG_INFINITY,
        max: 100.0,
        reference: "<= 22.7",
        source: "He et al. 2016, the pre-activation block and eq. 5",
    },
    Prediction {
        id: "5a",
        setup: FlowSetup::ScaledResidual,
        depth: 50,
        quantity: Quantity::NearbyCosine,
        min: 0.85,
        max: f64::INFINITY,
        reference: "0.906 to 0.93",
        source: "Balduzzi et al. 2017: in rescaled resnets gradient correlations decay only like 1/sqrt(L)",
    },
    Prediction {
        id: "5b",
        setup: FlowSetup::BnPlain,
        depth: 50,
        quantity: Quantity::NearbyCosine,
        min: f64::NEG_INFINITY,
        max: 0.3,
        reference: "-0.19 to 0.21",
        source: "Balduzzi et al. 2017: in plain ReLU nets gradients at nearby inputs decorrelate like 2^-L",
    },
    Prediction {
        id: "6",
        setup: FlowSetup::UnscaledResidual,
        depth: 10,
        quantity: Quantity::Ratio,
        min: 5.0,
        max: 50.0,
        reference: "12.6 to 18.1 (theory 3^(5/2) = 15.6: each He-init block multiplies E||g||^2 by 1 + 2)",
        source: "He et al. 2016, eq. 5: the skip stops the gradient vanishing, not growing",
    },
];

/// The prediction numbered `id` (`"1"`, `"4a"`, ...).
///
/// # Panics
/// If there is no such prediction; the message lists the ids.
pub fn prediction(id: &str) -> &'static Prediction {
    PREDICTIONS.iter().find(|p| p.id == id).unwrap_or_else(|| {
        let ids: Vec<&str> = PREDICTIONS.iter().map(|p| p.id).collect();
        panic!("no gradient-flow prediction `{id}`; the table has {ids:?}")
    })
}

fn short(v: f64) -> String {
    if v != 0.0 && (v.abs() < 1e-2 || v.abs() >= 1e3) {
        format!("{v:.0e}")
    } else {
        format!("{v}")
    }
}

impl Prediction {
    /// Whether `value` is in `min..=max`.
    pub fn holds(&self, value: f64) -> bool {
        value >= self.min && value <= self.max
    }

    /// The set-up in words: the net and its depth.
    pub fn setup_text(&self) -> String {
        if self.setup.is_residual() {
            format!(
                "{}, {} blocks (depth {})",
                self.setup.label(),
                self.depth / 2,
                self.depth
            )
        } else {
            format!("{}, depth {}", self.setup.label(), self.depth)
        }
    }

    /// The range that must hold, e.g. `1.5 <= R <= 4`.
    pub fn bound_text(&self) -> String {
        let q = self.quantity.symbol();
        match (self.min.is_finite(), self.max.is_finite()) {
            (true, true) => format!("{} <= {q} <= {}", short(self.min), short(self.max)),
            (true, false) => format!("{q} >= {}", short(self.min)),
            (false, true) => format!("{q} <= {}", short(self.max)),
            (false, false) => format!("{q}: any value"),
        }
    }

    /// Builds the net of `seed` and measures the quantity on it.
    pub fn measure(&self, seed: u64) -> f64 {
        let net = self.setup.net(self.depth, seed);
        let blocks = net.blocks();
        match self.quantity {
            Quantity::Ratio => ratio(&blocks, BATCH, WIDTH, seed),
            Quantity::NearbyCosine => nearby_gradient_cosine(&blocks, 32, WIDTH, 0.99, seed),
            Quantity::MaxDifference => {
                let mut r = rng(seed ^ 0x5eed_f10e);
                let x0 = gaussian::<f64>(&[BATCH, WIDTH], &mut r);
                let g = gaussian::<f64>(&[BATCH, WIDTH], &mut r);
                let flow = boundary_gradients(&blocks, &x0, &g, Mode::Train);
                let last = flow.grads.len() - 1;
                (&flow.grads[0] - &flow.grads[last])
                    .iter()
                    .fold(0.0f64, |m, v| m.max(v.abs()))
            }
        }
    }
}

/// A prediction and what it measured, one value per seed.
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    /// The prediction.
    pub prediction: &'static Prediction,
    /// The measured value for each seed.
    pub values: Vec<f64>,
}

impl Measured {
    /// The smallest and largest value measured.
    pub fn range(&self) -> (f64, f64) {
        self.values
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            })
    }

    /// Whether the prediction held for every seed.
    pub fn holds(&self) -> bool {
        self.values.iter().all(|&v| self.prediction.holds(v))
    }

    /// The measured range as text, e.g. `1.921 .. 2.804` or `3.1e-9 .. 7.2e-8`.
    pub fn range_text(&self) -> String {
        let (lo, hi) = self.range();
        let sci = |v: f64| v != 0.0 && (v.abs() < 1e-2 || v.abs() >= 1e3);
        if sci(lo) || sci(hi) {
            format!("{lo:.2e} .. {hi:.2e}")
        } else {
            format!("{lo:.3} .. {hi:.3}")
        }
    }
}

/// Measures every prediction of [`PREDICTIONS`] for each seed of `seeds`.
pub fn measure_predictions(seeds: std::ops::Range<u64>) -> Vec<Measured> {
    PREDICTIONS
        .iter()
        .map(|p| Measured {
            prediction: p,
            values: seeds.clone().map(|s| p.measure(s)).collect(),
        })
        .collect()
}

/// [`PREDICTIONS`] as a markdown table (the one in `docs/predictions.md`).
pub fn predictions_markdown() -> String {
    let mut s = String::from(
        "| # | set-up | must hold | reference simulation | source |\n|---|---|---|---|---|\n",
    );
    // A `|` inside a cell (as in `max |dE/dx_0 - dE/dx_L|`) would end the cell.
    let cell = |t: &str| t.replace('|', "\\|");
    for p in &PREDICTIONS {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} |",
            p.id,
            cell(&p.setup_text()),
            cell(&p.bound_text()),
            cell(p.reference),
            cell(p.source)
        );
    }
    s
}
