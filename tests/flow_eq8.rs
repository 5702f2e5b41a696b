//! He et al. 2016 eq. 8 (a shortcut scaled by lambda) and the per-layer growth factor,
//! measured on fully connected nets at initialisation.

use resgrad::flow::{
    FlowSetup, bn_relu_growth, depth_curve, eq8_split, gaussian, growth_per_layer, lambda_blocks,
    lambda_sweep_mlp,
};
use resgrad::nn::rng;

fn probe() -> (resgrad::ndarray::ArrayD<f64>, resgrad::ndarray::ArrayD<f64>) {
    let mut r = rng(5);
    (gaussian(&[64, 64], &mut r), gaussian(&[64, 64], &mut r))
}

#[test]
fn with_zero_branches_the_gradient_is_the_product_of_the_lambdas_times_g() {
    let (x0, g) = probe();
    let mut blocks = lambda_blocks(20, 0.9, 1);
    for b in &mut blocks {
        b.fc2.weight.update(|w| w.fill(0.0));
    }
    let split = eq8_split(&blocks, &x0, &g);
    assert_eq!(split.len(), 11, "10 blocks, 11 boundaries");
    let gn = resgrad::flow::norm(&g);
    for (l, &(direct, branch)) in split.iter().enumerate() {
        assert!(
            branch <= 1e-12 * direct,
            "boundary {l}: nothing crosses a zero branch, yet {branch}"
        );
        let want = 0.9f64.powi(10 - l as i32) * gn;
        assert!(
            (direct - want).abs() <= 1e-12 * want,
            "boundary {l}: {direct} vs {want}"
        );
    }
}

#[test]
fn eq5_direct_term_is_g_at_every_block_and_the_branch_term_grows_towards_the_input() {
    // lambda = 1: eq. 5. The direct term is dE/dx_L itself; the branch term is 0 at the
    // output and, for the scaled residual net (E||g||^2 grows by 1 + 2/B per block),
    // about sqrt(e^2 - 1) = 2.5 times ||g|| at the input.
    let (x0, g) = probe();
    let split = eq8_split(&lambda_blocks(50, 1.0, 0), &x0, &g);
    let gn = resgrad::flow::norm(&g);
    assert!(split.iter().all(|s| (s.0 - gn).abs() < 1e-12 * gn));
    assert_eq!(split[25].1, 0.0);
    let at_input = split[0].1 / gn;
    assert!(
        (1.8..3.5).contains(&at_input),
        "branch term at x_0: {at_input}"
    );
}

#[test]
fn lambda_sweep_is_smallest_near_1_and_exponential_in_depth_away_from_it() {
    let lambdas = [0.8, 0.9, 1.0, 1.1, 1.2];
    for depth in [20usize, 100] {
        let sweep = lambda_sweep_mlp(&lambdas, depth, 0);
        let blocks = (depth / 2) as f64;
        for &(l, r) in &sweep {
            // Mean-field: each block multiplies E||g||^2 by lambda^2 + 2/B.
            let predicted = (l * l + 2.0 / blocks).powf(blocks / 2.0);
            assert!(
                r > predicted / 3.0 && r < predicted * 3.0,
                "depth {depth}, lambda {l}: R = {r}, predicted {predicted}"
            );
        }
        let at_one = sweep[2].1;
        assert!(
            (1.5..4.0).contains(&at_one),
            "depth {depth}: R at lambda 1 = {at_one}"
        );
    }
    // Exponential in depth: at lambda 0.9, five times the blocks take R from about 1 (1.05
    // predicted) to about 0.017 (predicted), and at 1.1 from about 3.4 to 160.
    let r20 = lambda_sweep_mlp(&[0.9, 1.1], 20, 0);
    let r100 = lambda_sweep_mlp(&[0.9, 1.1], 100, 0);
    assert!(
        r100[0].1 < r20[0].1 / 20.0,
        "lambda 0.9: {:?} -> {:?}",
        r20[0],
        r100[0]
    );
    assert!(
        r100[1].1 > r20[1].1 * 20.0,
        "lambda 1.1: {:?} -> {:?}",
        r20[1],
        r100[1]
    );
}

#[test]
#[should_panic(expected = "eq. 8's form")]
fn eq8_split_refuses_a_relu_after_the_addition() {
    let (x0, g) = probe();
    let blocks = resgrad::models::MlpSpec::residual(64, 4)
        .norm(resgrad::nn::MlpNorm::Post)
        .blocks::<f64>();
    eq8_split(&blocks, &x0, &g);
}

#[test]
fn growth_fit_recovers_a_known_rate_and_is_not_the_two_ends() {
    let exact: Vec<(f64, f64)> = (0..=30).map(|l| (l as f64, 0.7f64.powi(30 - l))).collect();
    assert!((growth_per_layer(&exact) - 0.7).abs() < 1e-12);
    let mut noisy = exact.clone();
    noisy[0].1 *= 4.0;
    let ends = (noisy[0].1 / noisy[30].1).powf(1.0 / 30.0);
    let fitted = growth_per_layer(&noisy);
    assert!(
        (fitted - 0.7).abs() < (ends - 0.7).abs(),
        "one noisy end moves the fit less"
    );
    assert!(growth_per_layer(&exact[..1]).is_nan());
}

#[test]
fn batch_norm_plain_net_grows_about_1_21_per_layer_as_yang_et_al_predict() {
    assert!((bn_relu_growth() - 1.211).abs() < 1e-3);
    for seed in 0..3 {
        let g = growth_per_layer(&depth_curve(FlowSetup::BnPlain, 50, seed).points);
        assert!((1.15..1.30).contains(&g), "seed {seed}: {g}");
        let he = growth_per_layer(&depth_curve(FlowSetup::HePlain, 50, seed).points);
        assert!((0.95..1.05).contains(&he), "He plain, seed {seed}: {he}");
        let glorot = growth_per_layer(&depth_curve(FlowSetup::GlorotPlain, 50, seed).points);
        assert!(
            (glorot - 0.5f64.sqrt()).abs() < 0.03,
            "Glorot, seed {seed}: {glorot}"
        );
    }
}
