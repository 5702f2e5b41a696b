//! Chapter 00's exercises: the solutions, and each checker rejecting its placeholder and a plausible mistake.

use resgrad::exercises;
use resgrad::{Result, Var};

#[test]
fn exercise_0_1_a_closure() {
    assert!(exercises::check_leaky_relu(|x| if x > 0.0 { x } else { 0.1 * x }).passed);
    // The same function, written with max: also right.
    assert!(exercises::check_leaky_relu(|x| x.max(0.1 * x)).passed);
    // The placeholder: the identity.
    let v = exercises::check_leaky_relu(|x| x);
    assert!(!v.passed && v.message.contains("multiplied by 0.1"), "{v}");
    // PyTorch's default slope, 0.01, instead of the 0.1 asked for.
    let v = exercises::check_leaky_relu(|x| if x > 0.0 { x } else { 0.01 * x });
    assert!(!v.passed && v.message.contains("x = -2"), "{v}");
    // A closure that panics is reported, not propagated.
    let v = exercises::check_leaky_relu(|x| if x < 0.0 { panic!("not yet") } else { x });
    assert!(!v.passed && v.message.contains("panicked"), "{v}");
}

fn matmul_or_transpose(a: &Var<f64>, b: &Var<f64>) -> Result<Var<f64>> {
    match a.try_matmul(b) {
        Ok(y) => Ok(y),
        Err(first) => a.try_matmul(&b.t()).map_err(|_| first),
    }
}

#[test]
fn exercise_0_2_a_result_from_a_try_op() {
    let v = exercises::check_matmul_or_transpose(matmul_or_transpose);
    assert!(v.passed, "{v}");
    // The same with combinators.
    let v = exercises::check_matmul_or_transpose(|a, b| {
        a.try_matmul(b)
            .or_else(|e| a.try_matmul(&b.t()).map_err(|_| e))
    });
    assert!(v.passed, "{v}");
    // The placeholder: no second try.
    let v = exercises::check_matmul_or_transpose(|a, b| a.try_matmul(b));
    assert!(!v.passed && v.message.contains("b.t()"), "{v}");
    // Unwrapping the second try: panics where neither fits.
    let v = exercises::check_matmul_or_transpose(|a, b| {
        Ok(a.try_matmul(b).unwrap_or_else(|_| a.matmul(&b.t())))
    });
    assert!(
        !v.passed && v.message.contains("panicked") && v.message.contains("[5, 2]"),
        "{v}"
    );
    // Always transposing: fails where the shapes fit as they are.
    let v = exercises::check_matmul_or_transpose(|a, b| a.try_matmul(&b.t()));
    assert!(
        !v.passed && v.message.contains("try a.try_matmul(b) first"),
        "{v}"
    );
}
