//! Chapter 08: Shattered gradients and ensembles of paths.

use super::*;

/// The correlation length of `g` by the library's own autocorrelation: the first lag
/// `k >= 1` whose autocorrelation is below 1/2, or `g.len()` if none is.
fn correlation_length(g: &[f64]) -> usize {
    let a = crate::flow::autocorrelation(g, g.len().saturating_sub(1));
    (1..a.len()).find(|&k| a[k] < 0.5).unwrap_or(g.len())
}

// ---- 8.1 correlation length ----

/// Exercise 8.1: the correlation length of a sequence: the smallest lag `k >= 1` at which
/// its autocorrelation (mean removed, divided by the lag-0 sum) falls below 1/2, or the
/// sequence's length if it never does. Compared with [`crate::flow::autocorrelation`] on a
/// smooth curve, white noise and a random walk.
pub fn check_correlation_length(f: impl Fn(&[f64]) -> usize) -> Verdict {
    const E: &str = "8.1 correlation length";
    let smooth: Vec<f64> = (0..256).map(|i| (i as f64 * 0.05).sin()).collect();
    let noise: Vec<f64> = gaussian::<f64>(&[256], &mut rng(13))
        .iter()
        .copied()
        .collect();
    let walk: Vec<f64> = noise
        .iter()
        .scan(0.0, |s, v| {
            *s += v;
            Some(*s)
        })
        .collect();
    for (what, g) in [
        ("a smooth curve", &smooth),
        ("white noise", &noise),
        ("a random walk (brown noise)", &walk),
    ] {
        let want = correlation_length(g);
        match attempt(|| f(g)) {
            Err(e) => return Verdict::fail(E, format!("your function panicked on {what}: {e}")),
            Ok(0) => {
                return Verdict::fail(
                    E,
                    "you returned 0, but lag 0 always has autocorrelation 1: start looking at lag 1",
                );
            }
            Ok(k) if k + 1 == want => {
                return Verdict::fail(
                    E,
                    format!(
                        "{what}: you have {k}, it is {want}: one lag early, you returned the last lag still at or above 1/2"
                    ),
                );
            }
            Ok(k) if k != want => {
                return Verdict::fail(
                    E,
                    format!(
                        "{what}: you have {k}, it is {want} (is the mean removed, and is each lag divided by the lag-0 sum?)"
                    ),
                );
            }
            Ok(_) => {}
        }
    }
    Verdict::pass(
        E,
        format!(
            "right for a smooth curve ({}), white noise ({}) and a random walk ({}).",
            correlation_length(&smooth),
            correlation_length(&noise),
            correlation_length(&walk)
        ),
    )
}

// ---- 8.2 counting paths ----

/// Exercise 8.2: the number of paths of length `k` (crossing exactly `k` residual
/// branches) through `n` blocks, as an `f64`: the binomial coefficient `C(n, k)`.
/// Checked for every `k` at `n` = 1, 3, 10, 54 and 110, to a relative 1e-9.
pub fn check_path_count(f: impl Fn(usize, usize) -> f64) -> Verdict {
    const E: &str = "8.2 counting paths";
    let binomial = |n: usize, k: usize| -> f64 {
        (0..k).fold(1.0, |c, i| c * (n - i) as f64 / (i + 1) as f64)
    };
    for n in [1usize, 3, 10, 54, 110] {
        for k in 0..=n {
            let want = binomial(n, k);
            match attempt(|| f(n, k)) {
                Err(e) => {
                    return Verdict::fail(
                        E,
                        format!(
                            "your function panicked at n = {n}, k = {k}: {e} (a factorial overflows an integer: use f64, or multiply and divide as you go)"
                        ),
                    );
                }
                Ok(v) if v.is_nan() || (v - want).abs() > 1e-9 * want => {
                    return Verdict::fail(
                        E,
                        format!(
                            "{n} blocks, paths of length {k}: you have {v}, it is {want}. A path is a choice of which \
                             {k} of the {n} branches to cross, in the blocks' order: choose k of n"
                        ),
                    );
                }
                Ok(_) => {}
            }
        }
    }
    Verdict::pass(
        E,
        "C(n, k) for every length at 1, 3, 10, 54 and 110 blocks; summed over k they give 2^n.",
    )
}

// ---- 8.3 a lesion of your own ----

/// Small BN MLPs on the 8x8 digits for 8.3, trained for 40 steps: a residual net of 4
/// blocks and a plain net of 8 layers, with the test set.
fn lesion_nets() -> (Vec<crate::nn::Sequential<f32>>, crate::data::Dataset) {
    let (train_set, test) = crate::data::digits_split();
    let nets = [
        crate::models::NetKind::Residual,
        crate::models::NetKind::Plain,
    ]
    .into_iter()
    .map(|kind| {
        let net = crate::models::MlpSpec {
            kind,
            depth: 10,
            batch_norm: true,
            inputs: Some(64),
            classes: Some(10),
            seed: 2,
            ..crate::models::MlpSpec::plain(32, 0)
        }
        .build::<f32>();
        let cfg = crate::train::TrainConfig {
            steps: 40,
            eval_every: 40,
            eval_images: 64,
            label: "8.3".into(),
            ..crate::train::TrainConfig::default()
        };
        // The digits and these settings always train; a failure would be a bug here.
        let _ = crate::train::train(&net, &train_set, None, &cfg);
        net
    })
    .collect();
    (nets, test)
}

/// The names of `net`'s modules, in order.
fn layer_names(net: &crate::nn::Sequential<f32>) -> Vec<String> {
    net.layers.iter().map(|(n, _)| n.clone()).collect()
}

/// Exercise 8.3: delete several body elements of a trained net at once (by name),
/// measure the test accuracy in eval mode, and put them all back where they were.
/// Compared with [`crate::flow::accuracy_without`] on a residual and a plain MLP, and the
/// net must come back in its original order.
pub fn check_lesion_without(
    f: impl Fn(&mut crate::nn::Sequential<f32>, &[&str], &crate::data::Dataset) -> f64,
) -> Verdict {
    const E: &str = "8.3 a lesion of your own";
    let (mut nets, test) = lesion_nets();
    let sets: [&[&str]; 4] = [&["2"], &["1", "3"], &["3", "0"], &["0", "1", "2"]];
    for net in nets.iter_mut() {
        let order = layer_names(net);
        let what = if order.len() > 10 {
            "the plain net"
        } else {
            "the residual net"
        };
        for names in sets {
            let want = match crate::flow::accuracy_without(net, names, &test) {
                Ok(a) => a,
                Err(e) => return Verdict::fail(E, format!("the checker's own lesion failed: {e}")),
            };
            let got = attempt(|| f(net, names, &test));
            let now = layer_names(net);
            match got {
                Err(e) => {
                    return Verdict::fail(
                        E,
                        format!("your function panicked deleting {names:?} from {what}: {e}"),
                    );
                }
                Ok(_) if now != order => {
                    return Verdict::fail(
                        E,
                        format!(
                            "after deleting {names:?}, {what} came back as {now:?}; it was {order:?}. Put every module \
                             back at its own position (remove the highest position first, insert the lowest first)"
                        ),
                    );
                }
                Ok(a) if (a - want).abs() > 1e-12 => {
                    return Verdict::fail(
                        E,
                        format!(
                            "deleting {names:?} from {what}: you have accuracy {a:.4}, it is {want:.4}. Did you delete \
                             exactly those elements, found by name (removing one shifts the positions after it), and \
                             evaluate in eval mode on the whole test set?"
                        ),
                    );
                }
                Ok(_) => {}
            }
        }
    }
    Verdict::pass(
        E,
        "the same accuracies as the library's accuracy_without for four lesions of a residual and a plain net, \
         and each net came back in its order.",
    )
}

/// Placeholders of chapter 08's exercises (they run, and the checkers say what is missing).
pub mod placeholders08 {
    /// Exercise 8.3: deletes nothing.
    pub fn lesion_without(
        net: &mut crate::nn::Sequential<f32>,
        _names: &[&str],
        test: &crate::data::Dataset,
    ) -> f64 {
        1.0 - crate::train::evaluate(&*net, test, 0)
    }
}
