//! Chapter 01: The chain rule and the tape.

use super::*;

// ---- 1.1 a value used three times ----

/// Exercise 1.1: build `z = x * x + x` from `x`. The checker runs backward at `x = 3` and
/// expects `z = 12` and `dz/dx = 2x + 1 = 7`: the tape adds the gradients of the three uses.
pub fn check_used_three_times(f: impl Fn(&Var<f64>) -> Var<f64>) -> Verdict {
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
