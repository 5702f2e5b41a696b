//! Chapter 01: The chain rule and the tape.

use super::*;

// ---- 1.1 a value used three times ----

/// Exercise 1.1: build `z = x * x + x` from `x`. The checker runs backward at `x = 3` and
/// expects `z = 12` and `dz/dx = 2x + 1 = 7`: the tape adds the gradients of the three uses.
pub fn check_used_three_times(f: impl Fn(&Var<f64>) -> Var<f64>) -> Verdict {
    // The work is in a non-generic function, compiled once in the library rather than
    // again in every notebook cell that calls the checker.
    check_used_three_times_dyn(&f)
}

fn check_used_three_times_dyn(f: &dyn Fn(&Var<f64>) -> Var<f64>) -> Verdict {
    const E: &str = "1.1 a value used three times";
    let tape = Tape::new_f64();
    let x = tape.scalar(3.0);
    let z = match attempt(|| f(&x)) {
        Ok(z) => z,
        Err(e) => return Verdict::fail(E, format!("your expression panicked: {e}")),
    };
    if z.len() != 1 || (z.item() - 12.0).abs() > 1e-12 {
        return Verdict::fail(
            E,
            format!(
                "z should be 3 * 3 + 3 = 12, it is {:?}",
                z.value().iter().collect::<Vec<_>>()
            ),
        );
    }
    match z.try_backward().map(|g| g.get(&x).map(|d| d[[]])) {
        Ok(Some(d)) if (d - 7.0).abs() < 1e-12 => Verdict::pass(
            E,
            "z = 12 and dz/dx = 7: two uses in x * x, one in + x, all added up.",
        ),
        Ok(Some(d)) => Verdict::fail(E, format!("dz/dx came out {d}; it should be 2x + 1 = 7")),
        Ok(None) => Verdict::fail(
            E,
            "z does not depend on x on the tape: build it from x with tape ops",
        ),
        Err(e) => Verdict::fail(E, e.to_string()),
    }
}

// ---- 1.2 the backward of a / b on the notebook's own tape ----

/// Exercise 1.2: the division op of the notebook's own scalar tape, with its backward
/// written by the learner. `f(a, b, g)` builds `z = (a / b) * g` on that tape, runs its
/// backward and returns `(dz/da, dz/db)`. The checker compares them at three points with
/// resgrad's tape, whose table says `d(a/b)/da = 1/b` and `d(a/b)/db = -a/b^2`.
pub fn check_div_backward(f: impl Fn(f64, f64, f64) -> (f64, f64)) -> Verdict {
    // The work is in a non-generic function, compiled once in the library rather than
    // again in every notebook cell that calls the checker.
    check_div_backward_dyn(&f)
}

fn check_div_backward_dyn(f: &dyn Fn(f64, f64, f64) -> (f64, f64)) -> Verdict {
    const E: &str = "1.2 the backward of a / b";
    let close = |x: f64, y: f64| (x - y).abs() <= 1e-9 * (1.0 + y.abs());
    for (a, b, g) in [(3.0, 2.0, 1.0), (-1.5, 0.5, 2.0), (2.0, -4.0, -0.5)] {
        let tape = Tape::new_f64();
        let (av, bv) = (tape.scalar(a), tape.scalar(b));
        let grads = ((&av / &bv) * g).backward();
        let (want_a, want_b) = (grads[&av][[]], grads[&bv][[]]);
        let (got_a, got_b) = match attempt(|| f(a, b, g)) {
            Ok(d) => d,
            Err(e) => {
                return Verdict::fail(
                    E,
                    format!("your tape panicked at a = {a}, b = {b}, g = {g}: {e}"),
                );
            }
        };
        if close(got_a, want_a) && close(got_b, want_b) {
            continue;
        }
        let at = format!("at a = {a}, b = {b}, g = {g}");
        let hint = if close(got_a * g, want_a) && close(got_b * g, want_b) {
            "these are the local derivatives without g: the backward must multiply them by \
             the gradient arriving from above (the chain rule)"
                .to_string()
        } else if close(got_a, want_a) && close(got_b, -want_b) {
            "dz/db has the wrong sign: d(a/b)/db = -a/b^2".to_string()
        } else if !close(got_a, want_a) {
            format!("d(a/b)/da = 1/b, so dz/da should be g/b = {want_a}")
        } else {
            format!("d(a/b)/db = -a/b^2, so dz/db should be -g a/b^2 = {want_b}")
        };
        return Verdict::fail(
            E,
            format!("{at} your tape gives dz/da = {got_a}, dz/db = {got_b}; {hint}"),
        );
    }
    Verdict::pass(
        E,
        "dz/da = g/b and dz/db = -g a/b^2 at three points, as in resgrad's table.",
    )
}
