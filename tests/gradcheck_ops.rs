//! A gradient check for every op, including the broadcasting cases.
//!
//! Each test compares the op's backward rule (in `src/backward.rs`) with central finite
//! differences over every input element, in f64. A wrong rule fails here by name.

mod common;

use common::{away_from_zero, check, positive, uniform};
use resgrad::{concat, stack};

// ---- elementwise, binary, same shape and broadcast ----

const BROADCAST_CASES: &[(&[usize], &[usize])] = &[
    (&[2, 3], &[2, 3]),
    (&[2, 3], &[3]),
    (&[3], &[2, 3]),
    (&[2, 1], &[1, 3]),
    (&[2, 3], &[]),
    (&[4, 1, 3], &[2, 1]),
];

#[test]
fn add_with_broadcasting() {
    for (i, (a, b)) in BROADCAST_CASES.iter().enumerate() {
        check(
            |v| &v[0] + &v[1],
            &[uniform(a, i as u64), uniform(b, 100 + i as u64)],
        );
    }
}

#[test]
fn sub_with_broadcasting() {
    for (i, (a, b)) in BROADCAST_CASES.iter().enumerate() {
        check(
            |v| &v[0] - &v[1],
            &[uniform(a, i as u64), uniform(b, 100 + i as u64)],
        );
    }
}

#[test]
fn mul_with_broadcasting() {
    for (i, (a, b)) in BROADCAST_CASES.iter().enumerate() {
        check(
            |v| &v[0] * &v[1],
            &[uniform(a, i as u64), uniform(b, 100 + i as u64)],
        );
    }
}

#[test]
fn div_with_broadcasting() {
    for (i, (a, b)) in BROADCAST_CASES.iter().enumerate() {
        check(
            |v| &v[0] / &v[1],
            &[uniform(a, i as u64), away_from_zero(b, 0.5, 100 + i as u64)],
        );
    }
}

// ---- elementwise, unary ----

#[test]
fn neg_and_scalar_ops() {
    let x = [uniform(&[2, 3], 1)];
    check(|v| -&v[0], &x);
    check(|v| &v[0] + 2.5, &x);
    check(|v| &v[0] - 2.5, &x);
    check(|v| &v[0] * -1.5, &x);
    check(|v| &v[0] / 4.0, &x);
    check(|v| 3.0 * &v[0], &x);
    check(|v| 1.0 - &v[0], &x);
}

#[test]
fn powf() {
    check(|v| v[0].powf(2.5), &[positive(&[2, 3], 0.2, 2)]);
    check(|v| v[0].powf(-1.5), &[positive(&[2, 3], 0.2, 3)]);
    check(|v| v[0].powf(3.0), &[uniform(&[5], 4)]);
}

#[test]
fn sqrt_exp_log() {
    check(|v| v[0].sqrt(), &[positive(&[2, 3], 0.1, 5)]);
    check(|v| v[0].exp(), &[uniform(&[2, 3], 6)]);
    check(|v| v[0].log(), &[positive(&[2, 3], 0.1, 7)]);
}

#[test]
fn activations() {
    // Away from relu's kink at 0, where the derivative does not exist.
    check(|v| v[0].relu(), &[away_from_zero(&[3, 4], 0.05, 8)]);
    check(|v| v[0].sigmoid(), &[uniform(&[3, 4], 9).mapv(|x| 4.0 * x)]);
    check(|v| v[0].tanh(), &[uniform(&[3, 4], 10).mapv(|x| 2.0 * x)]);
}

// ---- linear algebra ----

#[test]
fn matmul_2d() {
    check(
        |v| v[0].matmul(&v[1]),
        &[uniform(&[3, 4], 11), uniform(&[4, 2], 12)],
    );
}

#[test]
fn matmul_batched() {
    check(
        |v| v[0].matmul(&v[1]),
        &[uniform(&[2, 3, 4], 13), uniform(&[2, 4, 2], 14)],
    );
}

#[test]
fn matmul_batch_times_matrix() {
    check(
        |v| v[0].matmul(&v[1]),
        &[uniform(&[2, 3, 4], 15), uniform(&[4, 5], 16)],
    );
}

// ---- reductions ----

#[test]
fn sum_and_mean_over_everything() {
    check(|v| v[0].sum(), &[uniform(&[2, 3, 4], 17)]);
    check(|v| v[0].mean(), &[uniform(&[2, 3, 4], 18)]);
}

#[test]
fn sum_and_mean_over_axes() {
    let x = [uniform(&[2, 3, 4], 19)];
    for axes in [&[0][..], &[1], &[2], &[0, 2], &[1, 2]] {
        for keepdim in [false, true] {
            check(|v| v[0].sum_axes(axes, keepdim), &x);
            check(|v| v[0].mean_axes(axes, keepdim), &x);
        }
    }
}

#[test]
fn max_over_an_axis() {
    // Distinct values, so the argmax is unique and the max is differentiable.
    let x = [uniform(&[3, 4, 2], 20)];
    for axis in 0..3 {
        for keepdim in [false, true] {
            check(|v| v[0].max_axis(axis, keepdim), &x);
        }
    }
}

// ---- shape ----

#[test]
fn reshape_and_flatten() {
    let x = [uniform(&[2, 3, 4], 21)];
    check(|v| v[0].reshape(&[4, 6]), &x);
    check(|v| v[0].flatten(), &x);
    // A reshape followed by an op that mixes elements, so a wrong order would show.
    check(|v| v[0].reshape(&[6, 4]).softmax(1), &x);
}

#[test]
fn permute_and_transpose() {
    let x = [uniform(&[2, 3, 4], 22)];
    check(|v| v[0].permute(&[2, 0, 1]), &x);
    check(|v| v[0].transpose(0, 2), &x);
    check(|v| v[0].t(), &x);
    // Non-trivial downstream use, so that a wrong inverse permutation shows.
    let w = uniform(&[2, 2], 23);
    check(
        |v| v[0].permute(&[1, 2, 0]).matmul(&v[1]).tanh(),
        &[x[0].clone(), w],
    );
}

#[test]
fn slice_along_an_axis() {
    let x = [uniform(&[4, 5], 24)];
    check(|v| v[0].slice(0, 1, 3), &x);
    check(|v| v[0].slice(1, 2, 5), &x);
    check(|v| v[0].slice(1, 0, 1).exp(), &x);
}

#[test]
fn concat_and_stack() {
    let (a, b, c) = (
        uniform(&[2, 3], 25),
        uniform(&[2, 1], 26),
        uniform(&[2, 2], 27),
    );
    check(|v| concat(&[&v[0], &v[1], &v[2]], 1), &[a.clone(), b, c]);
    let (d, e) = (uniform(&[2, 3], 28), uniform(&[2, 3], 29));
    for axis in 0..3 {
        check(
            |v| stack(&[&v[0], &v[1], &v[2]], axis),
            &[a.clone(), d.clone(), e.clone()],
        );
    }
    // A part used twice gets both gradients.
    check(|v| concat(&[&v[0], &v[0]], 0).tanh(), &[d]);
}

// ---- softmax family and losses ----

#[test]
fn softmax_and_log_softmax() {
    let x = [uniform(&[3, 4], 30).mapv(|v| 3.0 * v)];
    for axis in 0..2 {
        check(|v| v[0].softmax(axis), &x);
        check(|v| v[0].log_softmax(axis), &x);
    }
}

#[test]
fn cross_entropy_from_logits() {
    let x = [uniform(&[5, 4], 31).mapv(|v| 3.0 * v)];
    check(|v| v[0].cross_entropy(&[0, 3, 1, 1, 2]), &x);
}

#[test]
fn mean_squared_error() {
    check(
        |v| v[0].mse(&v[1]),
        &[uniform(&[3, 2], 32), uniform(&[3, 2], 33)],
    );
}

// ---- composition: the chain rule and accumulation through shared values ----

#[test]
fn a_small_mlp_end_to_end() {
    let inputs = [
        uniform(&[6, 3], 34),
        uniform(&[3, 5], 35),
        uniform(&[5], 36),
        uniform(&[5, 2], 37),
    ];
    check(
        |v| {
            let h = (v[0].matmul(&v[1]) + &v[2]).tanh();
            h.matmul(&v[3]).cross_entropy(&[0, 1, 1, 0, 1, 0])
        },
        &inputs,
    );
}

#[test]
fn a_value_used_several_times() {
    check(
        |v| (&v[0] * &v[0] + &v[0]).sigmoid() * &v[0],
        &[uniform(&[4], 38)],
    );
}
