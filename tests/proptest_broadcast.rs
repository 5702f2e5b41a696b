//! Property test: for random broadcast-compatible shapes, the gradients of the binary ops
//! match finite differences, and each gradient has its input's shape.

use proptest::prelude::*;
use resgrad::gradcheck;
use resgrad::ndarray::{ArrayD, IxDyn};

/// A shape of up to 3 axes, and a second shape broadcast-compatible with it: some axes
/// dropped from the front, some set to 1.
fn broadcast_pair() -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
    prop::collection::vec(1usize..4, 0..=3)
        .prop_flat_map(|a| {
            let n = a.len();
            (Just(a), 0..=n, prop::collection::vec(any::<bool>(), n))
        })
        .prop_map(|(a, drop, ones)| {
            let b: Vec<usize> = a
                .iter()
                .zip(&ones)
                .skip(drop)
                .map(|(&d, &one)| if one { 1 } else { d })
                .collect();
            (a, b)
        })
}

fn values(shape: &[usize], seed: u64) -> ArrayD<f64> {
    let n: usize = shape.iter().product();
    // Deterministic, away from zero (so div is well-conditioned), varied in sign.
    let v = (0..n).map(|i| {
        let t = ((i as u64 * 7919 + seed * 104_729) % 1000) as f64 / 1000.0;
        if i % 2 == 0 { 0.5 + t } else { -0.5 - t }
    });
    ArrayD::from_shape_vec(IxDyn(shape), v.collect()).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn binary_ops_broadcast_and_backpropagate((a, b) in broadcast_pair(), swap in any::<bool>(), seed in 0u64..1000) {
        let (a, b) = if swap { (b, a) } else { (a, b) };
        let inputs = [values(&a, seed), values(&b, seed + 1)];
        for (name, report) in [
            ("add", gradcheck(|v| (&v[0] + &v[1]).tanh(), &inputs)),
            ("sub", gradcheck(|v| (&v[0] - &v[1]).tanh(), &inputs)),
            ("mul", gradcheck(|v| &v[0] * &v[1], &inputs)),
            ("div", gradcheck(|v| &v[0] / &v[1], &inputs)),
        ] {
            prop_assert!(report.passed(), "{name} {a:?} with {b:?}:\n{report}");
        }
    }
}
