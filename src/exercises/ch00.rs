//! Chapter 00: Start here (a little Rust for Python users).

use super::*;

// ---- 0.1 a closure ----

/// Exercise 0.1: leaky ReLU as a closure, `x` for `x > 0` and `0.1 x` otherwise (Python:
/// `lambda x: x if x > 0 else 0.1 * x`). The checker calls it at five points, both sides of
/// zero.
pub fn check_leaky_relu(f: impl Fn(f64) -> f64) -> Verdict {
    // The work is in a non-generic function, compiled once in the library rather than
    // again in every notebook cell that calls the checker.
    check_leaky_relu_dyn(&f)
}

fn check_leaky_relu_dyn(f: &dyn Fn(f64) -> f64) -> Verdict {
    const E: &str = "0.1 a closure";
    for x in [-2.0, -0.5, 0.0, 0.5, 3.0] {
        let want = if x > 0.0 { x } else { 0.1 * x };
        let got = match attempt(|| f(x)) {
            Ok(y) => y,
            Err(e) => return Verdict::fail(E, format!("your closure panicked at x = {x}: {e}")),
        };
        if (got - want).abs() > 1e-12 {
            let side = if x > 0.0 {
                "a positive input passes through unchanged"
            } else {
                "a negative input is multiplied by 0.1"
            };
            return Verdict::fail(
                E,
                format!("at x = {x} your closure gives {got}, leaky ReLU gives {want}: {side}"),
            );
        }
    }
    Verdict::pass(
        E,
        "x for x > 0 and 0.1 x otherwise, at five points on both sides of zero.",
    )
}

// ---- 0.2 a Result from a try_ op ----

/// Exercise 0.2: a function that returns `a.try_matmul(b)` when the shapes fit, tries
/// `a.try_matmul(&b.t())` when they do not, and returns an `Err` when neither fits. The
/// checker tries `[2, 3]` with `[3, 4]` (fits), with `[4, 3]` (fits once transposed) and
/// with `[5, 2]` (never fits), and compares values with the library's matmul.
pub fn check_matmul_or_transpose(
    f: impl Fn(&Var<f64>, &Var<f64>) -> crate::Result<Var<f64>>,
) -> Verdict {
    // The work is in a non-generic function, compiled once in the library rather than
    // again in every notebook cell that calls the checker.
    check_matmul_or_transpose_dyn(&f)
}

/// A learner's function from two operands to a product or an error.
type MatmulAttempt<'a> = &'a dyn Fn(&Var<f64>, &Var<f64>) -> crate::Result<Var<f64>>;

fn check_matmul_or_transpose_dyn(f: MatmulAttempt<'_>) -> Verdict {
    const E: &str = "0.2 a Result from a try_ op";
    let tape = Tape::new_f64();
    let grid = |rows: usize, cols: usize, start: f64| {
        let values = (0..rows * cols).map(|i| start + i as f64).collect();
        tape.var(ArrayD::from_shape_vec(IxDyn(&[rows, cols]), values).expect("rows * cols"))
    };
    let a = grid(2, 3, 1.0);
    let cases = [
        (grid(3, 4, -2.0), false, "[3, 4] (the shapes fit)"),
        (
            grid(4, 3, 0.5),
            true,
            "[4, 3] (they fit once b is transposed)",
        ),
    ];
    for (b, transpose, what) in &cases {
        let want = if *transpose {
            a.matmul(&b.t())
        } else {
            a.matmul(b)
        };
        match attempt(|| f(&a, b)) {
            Err(e) => {
                return Verdict::fail(
                    E,
                    format!(
                        "your function panicked on [2, 3] and {what}: {e}. A try_ op returns Err \
                         instead of panicking; match on it rather than calling .unwrap()"
                    ),
                );
            }
            Ok(Err(e)) => {
                let advice = if *transpose {
                    "when a b does not fit, try a.try_matmul(&b.t()) before giving up"
                } else {
                    "try a.try_matmul(b) first, and transpose only when it fails"
                };
                return Verdict::fail(
                    E,
                    format!("on [2, 3] and {what} you returned Err({e}); {advice}"),
                );
            }
            Ok(Ok(y)) if y.shape() != want.shape() || max_diff(y.value(), want.value()) > 1e-9 => {
                let expected = if *transpose { "a bᵀ" } else { "a b" };
                return Verdict::fail(
                    E,
                    format!(
                        "on [2, 3] and {what} you returned a value of shape {:?}; it should be \
                         {expected}, of shape {:?}",
                        y.shape(),
                        want.shape()
                    ),
                );
            }
            Ok(Ok(_)) => {}
        }
    }
    let b = grid(5, 2, 0.0);
    match attempt(|| f(&a, &b)) {
        Err(e) => Verdict::fail(
            E,
            format!(
                "your function panicked on [2, 3] and [5, 2], where neither a b nor a bᵀ fits: \
                 {e}. Return the Err instead"
            ),
        ),
        Ok(Ok(y)) => Verdict::fail(
            E,
            format!(
                "on [2, 3] and [5, 2] neither a b nor a bᵀ fits, yet you returned Ok with shape {:?}",
                y.shape()
            ),
        ),
        Ok(Err(_)) => Verdict::pass(
            E,
            "a b when it fits, a bᵀ when that fits, and the Err when neither does.",
        ),
    }
}
