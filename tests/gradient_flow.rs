//! The identity path keeps gradients alive at depth: the predictions of
//! `resgrad::flow::PREDICTIONS` (`docs/predictions.md`) on fully connected nets (width 64,
//! batch 64, no biases, seeds 0..4), with negative controls that break the residual
//! addition's backward and show which assertion fails. The bounds come from that one
//! table; the nets are built here, independently of `flow::FlowSetup`.
//!
//! Depth counts weight layers: a residual block holds two, so depth 50 is 25 blocks.
//! `R = ||dE/dx_0|| / ||dE/dx_L||` with `E = <G, x_L>`, `G ~ N(0, 1)`.

use resgrad::flow::{
    PREDICTIONS, boundary_gradients, gaussian, nearby_gradient_cosine, prediction, ratio,
};
use resgrad::models::MlpSpec;
use resgrad::ndarray::ArrayD;
use resgrad::nn::{Init, MlpNorm, Mode, Module, ResidualMlpBlock, Sequential, rng};
use resgrad::{CustomOp, Var};

const WIDTH: usize = 64;
const BATCH: usize = 64;
const SEEDS: std::ops::Range<u64> = 0..5;

fn residual(blocks: usize, norm: MlpNorm, init: Init, scale: f64, seed: u64) -> Sequential<f64> {
    MlpSpec::residual(WIDTH, 2 * blocks)
        .norm(norm)
        .init(init)
        .branch_scale(scale)
        .seed(seed)
        .build()
}

// ---- the residual addition with a deliberately wrong backward (variants B and S of docs/predictions.md) ----

#[derive(Clone, Copy, Debug, PartialEq)]
enum AddBackward {
    /// The true rule: the skip and the branch both get the gradient.
    Correct,
    /// Variant B: only the branch gets it (the skip gets none).
    BranchOnly,
    /// Variant S: only the skip gets it (the branch gets none).
    SkipOnly,
}

struct ResidualAdd(AddBackward);

impl CustomOp<f64> for ResidualAdd {
    fn name(&self) -> &str {
        "residual_add"
    }
    fn forward(&self, x: &[&ArrayD<f64>]) -> ArrayD<f64> {
        x[0] + x[1]
    }
    fn backward(&self, _x: &[&ArrayD<f64>], _y: &ArrayD<f64>, g: &ArrayD<f64>) -> Vec<ArrayD<f64>> {
        let zero = ArrayD::zeros(g.raw_dim());
        match self.0 {
            AddBackward::Correct => vec![g.clone(), g.clone()],
            AddBackward::BranchOnly => vec![zero, g.clone()],
            AddBackward::SkipOnly => vec![g.clone(), zero],
        }
    }
}

/// A residual MLP block whose addition `x + F(x)` goes through [`ResidualAdd`].
struct Rewired<'a>(&'a ResidualMlpBlock<f64>, AddBackward);

impl Module<f64> for Rewired<'_> {
    fn forward(&self, x: &Var<f64>, mode: Mode) -> Var<f64> {
        x.apply(ResidualAdd(self.1), &[&self.0.branch(x, mode)])
    }
    fn children(&self) -> Vec<(String, &dyn Module<f64>)> {
        self.0.children()
    }
}

/// `blocks` with their additions rewired.
fn rewired(blocks: &[ResidualMlpBlock<f64>], add: AddBackward) -> Vec<Rewired<'_>> {
    blocks.iter().map(|b| Rewired(b, add)).collect()
}

fn residual_blocks(blocks: usize, scale: f64, seed: u64) -> Vec<ResidualMlpBlock<f64>> {
    MlpSpec::residual(WIDTH, 2 * blocks)
        .branch_scale(scale)
        .seed(seed)
        .blocks()
}

fn as_modules<'a>(blocks: &'a [Rewired<'a>]) -> Vec<&'a dyn Module<f64>> {
    blocks.iter().map(|b| b as &dyn Module<f64>).collect()
}

// ---- prediction 1: zero-init residual, 25 blocks: dE/dx_0 == dE/dx_L ----

/// The largest |dE/dx_0 - dE/dx_L| over the batch, for a zero-init residual MLP.
fn zero_init_max_difference(seed: u64, add: AddBackward) -> (f64, f64) {
    let net = residual_blocks(25, 1.0, seed);
    for b in &net {
        b.fc2.weight.update(|w| w.fill(0.0));
    }
    let blocks = rewired(&net, add);
    let mut r = rng(seed);
    let x0 = gaussian::<f64>(&[BATCH, WIDTH], &mut r);
    let g = gaussian::<f64>(&[BATCH, WIDTH], &mut r);
    let flow = boundary_gradients(&as_modules(&blocks), &x0, &g, Mode::Train);
    let diff = (&flow.grads[0] - &flow.grads[25])
        .iter()
        .fold(0.0f64, |m, v| m.max(v.abs()));
    (diff, flow.ratio())
}

#[test]
fn prediction_1_zero_init_residual_passes_the_gradient_unchanged() {
    for seed in SEEDS {
        let (diff, r) = zero_init_max_difference(seed, AddBackward::Correct);
        assert!(
            prediction("1").holds(diff),
            "seed {seed}: dE/dx_0 differs from dE/dx_L by {diff}"
        );
        assert!((r - 1.0).abs() < 1e-12, "seed {seed}: R = {r}");
    }
    // The same in f32, through the tape's own add.
    let net: Sequential<f32> = MlpSpec::residual(WIDTH, 50).build();
    net.visit(&mut |n, p, _| {
        if n.ends_with("fc2.weight") {
            p.update(|w| w.fill(0.0));
        }
    });
    let mut r = rng(9);
    let (x0, g) = (
        gaussian::<f32>(&[BATCH, WIDTH], &mut r),
        gaussian::<f32>(&[BATCH, WIDTH], &mut r),
    );
    let flow = boundary_gradients(&net.blocks(), &x0, &g, Mode::Train);
    let diff = (&flow.grads[0] - &flow.grads[25])
        .iter()
        .fold(0.0f32, |m, v| m.max(v.abs()));
    assert!(prediction("1").holds(diff as f64), "f32: {diff}");
}

#[test]
fn prediction_1_rejects_variant_b_the_skip_that_gets_no_gradient() {
    for seed in SEEDS {
        let (diff, r) = zero_init_max_difference(seed, AddBackward::BranchOnly);
        assert!(
            !prediction("1").holds(diff),
            "seed {seed}: prediction 1 did not see variant B"
        );
        assert_eq!(
            r, 0.0,
            "seed {seed}: with W2 = 0 and no skip gradient, nothing reaches x_0"
        );
    }
}

// ---- prediction 2: scaled residual, depth 50: 1.5 <= R <= 4 ----

fn scaled_ratio(seed: u64, add: AddBackward) -> f64 {
    let net = residual_blocks(25, 1.0 / 5.0, seed);
    let blocks = rewired(&net, add);
    ratio(&as_modules(&blocks), BATCH, WIDTH, seed)
}

#[test]
fn prediction_2_scaled_residual_keeps_r_between_1_5_and_4() {
    for seed in SEEDS {
        let r = scaled_ratio(seed, AddBackward::Correct);
        assert!(prediction("2").holds(r), "seed {seed}: R = {r}");
    }
}

#[test]
fn prediction_2_rejects_both_broken_variants() {
    for seed in SEEDS {
        let b = scaled_ratio(seed, AddBackward::BranchOnly);
        assert!(
            !prediction("2").holds(b),
            "seed {seed}: variant B gave R = {b}, inside the band"
        );
        assert!(
            b < 1e-8,
            "seed {seed}: variant B should all but vanish, R = {b}"
        );
        let s = scaled_ratio(seed, AddBackward::SkipOnly);
        assert!(
            !prediction("2").holds(s),
            "seed {seed}: variant S gave R = {s}, inside the band"
        );
        assert!(
            (s - 1.0).abs() < 1e-12,
            "seed {seed}: variant S passes G through untouched, R = {s}"
        );
    }
}

// ---- prediction 3: the same with the skip removed, Glorot init: R <= 1e-6 ----
// Without the skip, 25 blocks of W2 relu(W1 x) are a plain ReLU net of 50 Glorot layers
// (the reference simulation measures exactly that net).

#[test]
fn prediction_3_without_the_skip_the_gradient_vanishes() {
    for seed in SEEDS {
        let net = MlpSpec::plain(WIDTH, 50)
            .init(Init::GlorotNormal)
            .seed(seed)
            .build::<f64>();
        let r = ratio(&net.blocks(), BATCH, WIDTH, seed);
        assert!(prediction("3").holds(r), "seed {seed}: R = {r}");
        // And the residual version of the very same kind of net does not vanish.
        let res = residual(25, MlpNorm::None, Init::GlorotNormal, 1.0, seed);
        assert!(
            ratio(&res.blocks(), BATCH, WIDTH, seed) >= 1.0,
            "seed {seed}"
        );
    }
}

// ---- prediction 4: batch norm, depth 50: plain explodes, residual does not ----

#[test]
fn prediction_4_plain_bn_explodes_and_residual_bn_does_not() {
    for seed in SEEDS {
        let plain = MlpSpec::plain(WIDTH, 50)
            .batch_norm(true)
            .seed(seed)
            .build::<f64>();
        let r = ratio(&plain.blocks(), BATCH, WIDTH, seed);
        assert!(prediction("4a").holds(r), "seed {seed}: plain BN R = {r}");
        for (norm, id) in [(MlpNorm::Post, "4b"), (MlpNorm::Pre, "4c")] {
            let net = residual(25, norm, Init::HeNormal, 1.0, seed);
            let r = ratio(&net.blocks(), BATCH, WIDTH, seed);
            assert!(
                prediction(id).holds(r),
                "seed {seed}: residual {norm:?} R = {r}"
            );
        }
    }
}

// ---- prediction 5: nearby inputs keep correlated gradients in a residual net ----

#[test]
fn prediction_5_residual_gradients_do_not_shatter() {
    for seed in SEEDS {
        let res = residual(25, MlpNorm::None, Init::HeNormal, 1.0 / 5.0, seed);
        let c = nearby_gradient_cosine(&res.blocks(), 32, WIDTH, 0.99, seed);
        assert!(
            prediction("5a").holds(c),
            "seed {seed}: scaled residual cosine {c}"
        );
        let plain = MlpSpec::plain(WIDTH, 50)
            .batch_norm(true)
            .seed(seed)
            .build::<f64>();
        let c = nearby_gradient_cosine(&plain.blocks(), 32, WIDTH, 0.99, seed);
        assert!(
            prediction("5b").holds(c),
            "seed {seed}: plain BN cosine {c}"
        );
    }
}

// ---- prediction 6: unscaled residual, 5 blocks: 5 <= R <= 50 ----

fn unscaled_ratio(seed: u64, add: AddBackward) -> f64 {
    let net = residual_blocks(5, 1.0, seed);
    let blocks = rewired(&net, add);
    ratio(&as_modules(&blocks), BATCH, WIDTH, seed)
}

#[test]
fn prediction_6_the_skip_stops_vanishing_not_growth() {
    for seed in SEEDS {
        let r = unscaled_ratio(seed, AddBackward::Correct);
        assert!(prediction("6").holds(r), "seed {seed}: R = {r}");
    }
}

#[test]
fn prediction_6_rejects_variant_s() {
    for seed in SEEDS {
        let r = unscaled_ratio(seed, AddBackward::SkipOnly);
        assert!(
            !prediction("6").holds(r) && r < prediction("6").min,
            "seed {seed}: variant S gave R = {r}"
        );
    }
}

#[test]
fn gradcheck_flags_both_broken_variants() {
    let x = gaussian::<f64>(&[4, 6], &mut rng(1));
    let block = ResidualMlpBlock::<f64>::new(6, MlpNorm::None, Init::HeNormal, &mut rng(2));
    for add in [AddBackward::BranchOnly, AddBackward::SkipOnly] {
        let m = Rewired(&block, add);
        let report =
            resgrad::gradcheck(|v| m.forward(&v[0], Mode::Train), std::slice::from_ref(&x));
        assert!(!report.passed(), "{add:?} passed gradcheck");
        assert!(report.max_rel_err() > 0.1, "{add:?}: {report}");
    }
    let m = Rewired(&block, AddBackward::Correct);
    assert!(resgrad::gradcheck(|v| m.forward(&v[0], Mode::Train), &[x]).passed());
}

#[test]
fn parameter_gradient_norms_name_every_parameter() {
    let net = residual(3, MlpNorm::Post, Init::HeNormal, 1.0, 0);
    let tape = resgrad::Tape::new_f64();
    let x = tape.constant(gaussian::<f64>(&[8, WIDTH], &mut rng(1)));
    let grads = net.forward(&x, Mode::Train).powf(2.0).sum().backward();
    let norms = resgrad::flow::parameter_gradient_norms(&net, &grads);
    assert_eq!(norms.len(), net.named_parameters().len());
    assert_eq!(norms[0].0, "0.fc1.weight");
    assert!(norms.iter().all(|(_, n)| n.is_finite()));
    assert!(
        norms
            .iter()
            .filter(|(n, _)| n.ends_with("weight"))
            .all(|(_, v)| *v > 0.0)
    );
}

// ---- the table itself: what the library measures, and the doc that lists it ----

#[test]
fn the_table_names_the_nets_the_tests_build() {
    use resgrad::flow::{FlowSetup, Quantity};
    // The depths and set-ups the tests above use, row by row.
    let want = [
        (
            "1",
            FlowSetup::ZeroInitResidual,
            50,
            Quantity::MaxDifference,
        ),
        ("2", FlowSetup::ScaledResidual, 50, Quantity::Ratio),
        ("3", FlowSetup::GlorotPlain, 50, Quantity::Ratio),
        ("4a", FlowSetup::BnPlain, 50, Quantity::Ratio),
        ("4b", FlowSetup::PostActBnResidual, 50, Quantity::Ratio),
        ("4c", FlowSetup::PreActBnResidual, 50, Quantity::Ratio),
        ("5a", FlowSetup::ScaledResidual, 50, Quantity::NearbyCosine),
        ("5b", FlowSetup::BnPlain, 50, Quantity::NearbyCosine),
        ("6", FlowSetup::UnscaledResidual, 10, Quantity::Ratio),
    ];
    assert_eq!(PREDICTIONS.len(), want.len());
    for (p, (id, setup, depth, q)) in PREDICTIONS.iter().zip(want) {
        assert_eq!((p.id, p.setup, p.depth, p.quantity), (id, setup, depth, q));
        assert!(p.min < p.max, "{id}: empty range");
        assert!(!p.source.is_empty() && !p.reference.is_empty(), "{id}");
    }
}

#[test]
fn the_library_measures_the_same_numbers_as_the_tests() {
    // flow::FlowSetup builds the same nets as this file, so `resgrad flow` reports what
    // the tests assert.
    let lib = prediction("2").measure(3);
    let here = scaled_ratio(3, AddBackward::Correct);
    assert!((lib - here).abs() <= 1e-9 * here, "{lib} vs {here}");
    let lib = prediction("5b").measure(1);
    let plain = MlpSpec::plain(WIDTH, 50)
        .batch_norm(true)
        .seed(1)
        .build::<f64>();
    let here = nearby_gradient_cosine(&plain.blocks(), 32, WIDTH, 0.99, 1);
    assert_eq!(lib, here);
}

/// `docs/predictions.md` carries the table between two markers; regenerate it with
/// `RESGRAD_BLESS=1 cargo test --test gradient_flow docs_predictions`.
#[test]
fn docs_predictions_md_is_current() {
    const BEGIN: &str = "<!-- begin: generated from resgrad::flow::PREDICTIONS -->\n";
    const END: &str = "<!-- end: generated -->";
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/predictions.md");
    let doc = std::fs::read_to_string(&path).expect("docs/predictions.md");
    let (head, rest) = doc.split_once(BEGIN).expect("the begin marker");
    let (table, tail) = rest.split_once(END).expect("the end marker");
    let want = resgrad::flow::predictions_markdown();
    if table != want {
        if std::env::var_os("RESGRAD_BLESS").is_some() {
            std::fs::write(&path, format!("{head}{BEGIN}{want}{END}{tail}")).unwrap();
        } else {
            panic!(
                "docs/predictions.md is not current with flow::PREDICTIONS; regenerate with \
                 `RESGRAD_BLESS=1 cargo test --test gradient_flow docs_predictions`.\nwant:\n{want}"
            );
        }
    }
}
