//! The statistics of a comparison over seeds: the mean, the sample standard deviation,
//! Welch's t-test with its 95% interval, the paired t-test, and Student's t distribution
//! they rest on.
//!
//! An experiment that trains each net on a few seeds asks whether one net's final error
//! differs from another's by more than the seeds do. With `n` seeds per net the means carry
//! a standard error of `sd / sqrt(n)`; Welch's test compares two means without assuming
//! their spreads are equal, and its interval says which differences the data allow.

/// The mean of `x` (NaN for an empty slice).
pub fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

/// The sample standard deviation of `x`, with `n - 1` in the denominator (NaN for fewer
/// than two values).
pub fn sd(x: &[f64]) -> f64 {
    let m = mean(x);
    (x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (x.len() as f64 - 1.0)).sqrt()
}

/// A difference between two groups, with its test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Comparison {
    /// The estimate: `mean(a) - mean(b)` (paired: the mean of the differences).
    pub difference: f64,
    /// Its standard error.
    pub se: f64,
    /// Degrees of freedom of the t statistic (Welch–Satterthwaite's, or `n - 1` paired).
    pub df: f64,
    /// `difference / se`.
    pub t: f64,
    /// The two-sided p-value: the chance of a `|t|` at least this large if the two
    /// groups had the same mean.
    pub p: f64,
    /// The 95% interval's lower end, `difference - t(0.975, df) * se`.
    pub low: f64,
    /// Its upper end.
    pub high: f64,
}

impl Comparison {
    fn from(difference: f64, se: f64, df: f64) -> Self {
        if se == 0.0 {
            // Every value equal within each group: the difference is exact.
            return Comparison {
                difference,
                se,
                df,
                t: if difference == 0.0 {
                    0.0
                } else {
                    difference.signum() * f64::INFINITY
                },
                p: if difference == 0.0 { 1.0 } else { 0.0 },
                low: difference,
                high: difference,
            };
        }
        let t = difference / se;
        let half = t_quantile(0.975, df) * se;
        Comparison {
            difference,
            se,
            df,
            t,
            p: 2.0 * (1.0 - t_cdf(t.abs(), df)),
            low: difference - half,
            high: difference + half,
        }
    }
}

/// Welch's t-test of `mean(a) - mean(b)`, for two groups of independent values (seeds)
/// whose spreads may differ. `None` if either group has fewer than two values.
pub fn welch(a: &[f64], b: &[f64]) -> Option<Comparison> {
    if a.len() < 2 || b.len() < 2 {
        return None;
    }
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let (va, vb) = (sd(a).powi(2) / na, sd(b).powi(2) / nb);
    let se = (va + vb).sqrt();
    let df = if va + vb == 0.0 {
        na + nb - 2.0
    } else {
        (va + vb).powi(2) / (va * va / (na - 1.0) + vb * vb / (nb - 1.0))
    };
    Some(Comparison::from(mean(a) - mean(b), se, df))
}

/// The paired t-test of `a[i] - b[i]` (the same seed in both groups). `None` unless the
/// groups have the same length, at least two.
pub fn paired(a: &[f64], b: &[f64]) -> Option<Comparison> {
    if a.len() != b.len() || a.len() < 2 {
        return None;
    }
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    let n = d.len() as f64;
    Some(Comparison::from(mean(&d), sd(&d) / n.sqrt(), n - 1.0))
}

/// `P(T <= t)` for Student's t distribution with `df` degrees of freedom (`df > 0`).
pub fn t_cdf(t: f64, df: f64) -> f64 {
    if t.is_infinite() {
        return if t > 0.0 { 1.0 } else { 0.0 };
    }
    // P(|T| > |t|) = I_x(df/2, 1/2) with x = df / (df + t^2).
    let tail = incomplete_beta(df / (df + t * t), df / 2.0, 0.5);
    if t >= 0.0 {
        1.0 - tail / 2.0
    } else {
        tail / 2.0
    }
}

/// The `p`-quantile of Student's t with `df` degrees of freedom, `0 < p < 1`: the `t`
/// with `t_cdf(t, df) = p`, found by bisection to 1e-12.
pub fn t_quantile(p: f64, df: f64) -> f64 {
    if p == 0.5 {
        return 0.0;
    }
    if p < 0.5 {
        return -t_quantile(1.0 - p, df);
    }
    let (mut lo, mut hi) = (0.0, 1.0);
    while t_cdf(hi, df) < p {
        hi *= 2.0;
    }
    while hi - lo > 1e-12 * hi.max(1.0) {
        let mid = 0.5 * (lo + hi);
        if t_cdf(mid, df) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// The regularised incomplete beta function `I_x(a, b)`, by its continued fraction
/// (evaluated with Lentz's method), using the symmetry `I_x(a, b) = 1 - I_{1-x}(b, a)`
/// where the fraction converges slowly.
fn incomplete_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    if x < (a + 1.0) / (a + b + 2.0) {
        ln_front.exp() * beta_fraction(x, a, b) / a
    } else {
        1.0 - ln_front.exp() * beta_fraction(1.0 - x, b, a) / b
    }
}

/// The continued fraction of the incomplete beta function.
fn beta_fraction(x: f64, a: f64, b: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let mut c = 1.0;
    let mut d = 1.0 - (a + b) * x / (a + 1.0);
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..=300 {
        let m = m as f64;
        // The even step, then the odd step, of the fraction's terms.
        for num in [
            m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0)),
        ] {
            d = 1.0 + num * d;
            if d.abs() < TINY {
                d = TINY;
            }
            c = 1.0 + num / c;
            if c.abs() < TINY {
                c = TINY;
            }
            d = 1.0 / d;
            h *= d * c;
        }
        if (d * c - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

/// `ln Γ(x)` for `x > 0`, by Lanczos' approximation (g = 7, 9 terms; about 15 digits).
fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x) Γ(1 - x) = π / sin(πx).
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut sum = C[0];
    for (i, c) in C.iter().enumerate().skip(1) {
        sum += c / (x + i as f64);
    }
    let t = x + G + 0.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_the_tables() {
        // Two-sided 95% critical values from any table of Student's t.
        for (df, want) in [
            (1.0, 12.706_204_736),
            (2.0, 4.302_652_730),
            (4.0, 2.776_445_105),
            (10.0, 2.228_138_852),
            (30.0, 2.042_272_456),
            (1e6, 1.959_966_3),
        ] {
            let got = t_quantile(0.975, df);
            assert!((got - want).abs() < 1e-6, "df {df}: {got} vs {want}");
        }
        assert!((t_cdf(2.0, 5.0) - 0.949_030_260).abs() < 1e-8);
        assert!((t_cdf(-1.0, 3.0) - 0.195_501_109).abs() < 1e-8);
        assert!((ln_gamma(5.0) - 24f64.ln()).abs() < 1e-12);
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-12);
    }

    #[test]
    fn welch_and_paired_by_hand() {
        let a = [1.0, 2.0, 3.0];
        let b = [4.0, 6.0, 8.0, 10.0];
        let w = welch(&a, &b).unwrap();
        // mean 2 - 7 = -5; variances of the means 1/3 and (20/3)/4 = 5/3: se = sqrt(2).
        assert!((w.difference + 5.0).abs() < 1e-12);
        assert!((w.se - 2f64.sqrt()).abs() < 1e-12);
        // df = 2^2 / ((1/3)^2 / 2 + (5/3)^2 / 3) = 4 / (1/18 + 25/27) = 216 / 53.
        assert!((w.df - 216.0 / 53.0).abs() < 1e-12);
        assert!((w.high - (-5.0 + t_quantile(0.975, 216.0 / 53.0) * 2f64.sqrt())).abs() < 1e-9);
        assert!(w.p > 0.01 && w.p < 0.05, "p = {}", w.p);
        let p = paired(&[1.0, 2.0, 4.0], &[0.0, 0.0, 0.0]).unwrap();
        assert!((p.difference - 7.0 / 3.0).abs() < 1e-12 && p.df == 2.0);
        assert!(welch(&[1.0], &b).is_none() && paired(&a, &b).is_none());
        let exact = welch(&[1.0, 1.0], &[2.0, 2.0]).unwrap();
        assert_eq!((exact.low, exact.high, exact.p), (-1.0, -1.0, 0.0));
    }
}
