//! `gradcheck`: compare every backward rule a function uses with central finite differences.
//!
//! As PyTorch's `torch.autograd.gradcheck`: in `f64`, over every element of every input,
//! and reported per (input, output) pair, so that a learner sees *which* derivative is
//! wrong, where, and by how much.

use std::fmt;

use ndarray::{Array2, ArrayD};

use crate::tape::{GradKey, Param, Tape, Var};

/// Step and tolerances. An element passes when `|analytic - numeric| <= atol + rtol * |numeric|`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GradcheckConfig {
    /// The finite-difference step: `(f(x + eps) - f(x - eps)) / (2 eps)`.
    pub eps: f64,
    /// Absolute tolerance.
    pub atol: f64,
    /// Relative tolerance.
    pub rtol: f64,
}

impl Default for GradcheckConfig {
    /// PyTorch's defaults: eps 1e-6, atol 1e-5, rtol 1e-3.
    fn default() -> Self {
        GradcheckConfig {
            eps: 1e-6,
            atol: 1e-5,
            rtol: 1e-3,
        }
    }
}

/// The result for one (input, output) pair: its worst element.
#[derive(Debug, Clone, PartialEq)]
pub struct PairReport {
    /// Which input (its position in the `inputs` slice).
    pub input: usize,
    /// Which output (0 for a function returning one `Var`).
    pub output: usize,
    /// The index of the input element with the worst mismatch.
    pub input_index: Vec<usize>,
    /// The index of the output element with the worst mismatch.
    pub output_index: Vec<usize>,
    /// d output / d input at the worst element, from backward.
    pub analytic: f64,
    /// The same, from central differences.
    pub numeric: f64,
    /// `|analytic - numeric|`.
    pub abs_err: f64,
    /// `abs_err / |numeric|` (or `abs_err` when `numeric` is 0).
    pub rel_err: f64,
    /// Whether every element of this pair is within tolerance.
    pub passed: bool,
}

/// What [`gradcheck()`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct GradcheckReport {
    /// One entry per (input, output) pair.
    pub pairs: Vec<PairReport>,
    /// The step and tolerances used.
    pub config: GradcheckConfig,
    /// Set if backward itself failed (then `pairs` is empty).
    pub error: Option<String>,
}

impl GradcheckReport {
    /// Whether every pair passed and backward ran.
    pub fn passed(&self) -> bool {
        self.error.is_none() && self.pairs.iter().all(|p| p.passed)
    }

    /// The pairs that failed.
    pub fn failures(&self) -> impl Iterator<Item = &PairReport> {
        self.pairs.iter().filter(|p| !p.passed)
    }

    /// The largest relative error over all pairs.
    pub fn max_rel_err(&self) -> f64 {
        self.pairs.iter().map(|p| p.rel_err).fold(0.0, f64::max)
    }

    /// Panics with the report's table unless it passed.
    #[track_caller]
    pub fn assert_ok(&self) {
        assert!(self.passed(), "{self}");
    }
}

impl fmt::Display for GradcheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.config;
        if let Some(e) = &self.error {
            return writeln!(f, "gradcheck: FAILED, backward did not run: {e}");
        }
        let failed = self.failures().count();
        let verdict = if failed == 0 {
            "passed".to_string()
        } else {
            format!("FAILED ({failed} of {} pairs)", self.pairs.len())
        };
        writeln!(
            f,
            "gradcheck {verdict}: eps {:e}, pass if |analytic - numeric| <= {:e} + {:e} * |numeric|",
            c.eps, c.atol, c.rtol
        )?;
        writeln!(
            f,
            "{:<6} {:<7} {:<26} {:>14} {:>14} {:>10} {:>10}  ok",
            "input",
            "output",
            "worst element (in -> out)",
            "analytic",
            "numeric",
            "abs err",
            "rel err"
        )?;
        for p in &self.pairs {
            let at = format!("{:?} -> {:?}", p.input_index, p.output_index);
            writeln!(
                f,
                "{:<6} {:<7} {:<26} {:>14.6e} {:>14.6e} {:>10.2e} {:>10.2e}  {}",
                p.input,
                p.output,
                at,
                p.analytic,
                p.numeric,
                p.abs_err,
                p.rel_err,
                if p.passed { "yes" } else { "NO" }
            )?;
        }
        Ok(())
    }
}

/// What a checked function may return: one `Var` or several.
pub trait Outputs {
    /// The outputs, in order.
    fn into_outputs(self) -> Vec<Var<f64>>;
}

impl Outputs for Var<f64> {
    fn into_outputs(self) -> Vec<Var<f64>> {
        vec![self]
    }
}

impl Outputs for Vec<Var<f64>> {
    fn into_outputs(self) -> Vec<Var<f64>> {
        self
    }
}

/// Checks the gradients of `f` at `inputs` with PyTorch's default tolerances.
///
/// `f` receives the inputs as `Var<f64>`s on a fresh tape and returns one output or
/// several. It must be deterministic.
///
/// ```
/// use resgrad::{gradcheck, ndarray::array};
/// let report = gradcheck(|v| (&v[0] * &v[1]).tanh().sum(), &[
///     array![0.3, -0.7].into_dyn(),
///     array![1.5, 0.2].into_dyn(),
/// ]);
/// assert!(report.passed(), "{report}");
/// ```
pub fn gradcheck<F, O>(f: F, inputs: &[ArrayD<f64>]) -> GradcheckReport
where
    F: Fn(&[Var<f64>]) -> O,
    O: Outputs,
{
    gradcheck_with(f, inputs, GradcheckConfig::default())
}

/// [`gradcheck()`] with a chosen step and tolerances.
pub fn gradcheck_with<F, O>(
    f: F,
    inputs: &[ArrayD<f64>],
    config: GradcheckConfig,
) -> GradcheckReport
where
    F: Fn(&[Var<f64>]) -> O,
    O: Outputs,
{
    // The analytic side: record once, then backward once per output element.
    let tape = Tape::new_f64();
    let vars: Vec<Var<f64>> = inputs.iter().map(|x| tape.var(x.clone())).collect();
    let outs = f(&vars).into_outputs();
    let keys: Vec<&dyn GradKey<f64>> = vars.iter().map(|v| v as &dyn GradKey<f64>).collect();
    let in_lens: Vec<usize> = inputs.iter().map(ArrayD::len).collect();
    let analytic = analytic_jacobians(&outs, &keys, &in_lens);
    let out_shapes: Vec<Vec<usize>> = outs.iter().map(|o| o.shape().to_vec()).collect();
    drop(outs);

    // The numeric side: nudge a copy of the inputs, evaluate without recording.
    let mut xs: Vec<ArrayD<f64>> = inputs.to_vec();
    let numeric = numeric_jacobians(inputs, &out_shapes, config.eps, |i, e, value| {
        let orig = nth(&xs[i], e);
        set_nth(&mut xs[i], e, value);
        let t = Tape::new_f64();
        t.set_recording(false);
        let vars: Vec<Var<f64>> = xs.iter().map(|x| t.var(x.clone())).collect();
        let outs = f(&vars).into_outputs();
        set_nth(&mut xs[i], e, orig);
        outs.iter().map(|o| o.value().clone()).collect()
    });
    let in_shapes: Vec<Vec<usize>> = inputs.iter().map(|x| x.shape().to_vec()).collect();
    report(analytic, numeric, &in_shapes, &out_shapes, config)
}

/// `jac[output][input]`, an `[output elements, input elements]` matrix.
type Jacobians = Vec<Vec<Array2<f64>>>;

/// Row `j` of `d out / d in` is the gradient of `out[j]`: one backward pass per output
/// element, read for each of `keys` (the inputs or the parameters).
fn analytic_jacobians(
    outs: &[Var<f64>],
    keys: &[&dyn GradKey<f64>],
    in_lens: &[usize],
) -> Result<Jacobians, String> {
    let mut jac = Vec::new();
    for out in outs {
        // A key the output does not depend on gets no gradient: its rows stay zero.
        let mut per_input: Vec<Array2<f64>> = in_lens
            .iter()
            .map(|&n| Array2::zeros((out.len(), n)))
            .collect();
        for j in 0..out.len() {
            let mut seed = ArrayD::zeros(out.value().raw_dim());
            set_nth(&mut seed, j, 1.0);
            let grads = out.try_backward_with(seed).map_err(|e| e.to_string())?;
            for (i, key) in keys.iter().enumerate() {
                if let Some(g) = key.node_in(&grads).ok().and_then(|id| grads.by_id(id)) {
                    let row = per_input[i].row_mut(j);
                    row.into_iter().zip(g.iter()).for_each(|(d, &s)| *d = s);
                }
            }
        }
        jac.push(per_input);
    }
    Ok(jac)
}

/// Column `e` of `d out / d in_i` is `(f(x + eps e) - f(x - eps e)) / (2 eps)`.
/// `eval_at(i, e, v)` evaluates every output with element `e` of input `i` set to `v` and
/// everything else at its original value.
fn numeric_jacobians(
    inputs: &[ArrayD<f64>],
    out_shapes: &[Vec<usize>],
    eps: f64,
    mut eval_at: impl FnMut(usize, usize, f64) -> Vec<ArrayD<f64>>,
) -> Jacobians {
    let mut jac: Jacobians = out_shapes
        .iter()
        .map(|o| {
            let n: usize = o.iter().product();
            inputs.iter().map(|x| Array2::zeros((n, x.len()))).collect()
        })
        .collect();
    for (i, x) in inputs.iter().enumerate() {
        for e in 0..x.len() {
            let orig = nth(x, e);
            let plus = eval_at(i, e, orig + eps);
            let minus = eval_at(i, e, orig - eps);
            for (k, (p, m)) in plus.iter().zip(&minus).enumerate() {
                for (j, (a, b)) in p.iter().zip(m.iter()).enumerate() {
                    jac[k][i][[j, e]] = (a - b) / (2.0 * eps);
                }
            }
        }
    }
    jac
}

/// One [`PairReport`] per (input, output) pair, or the error if backward failed.
fn report(
    analytic: Result<Jacobians, String>,
    numeric: Jacobians,
    in_shapes: &[Vec<usize>],
    out_shapes: &[Vec<usize>],
    config: GradcheckConfig,
) -> GradcheckReport {
    let analytic = match analytic {
        Ok(a) => a,
        Err(e) => {
            return GradcheckReport {
                pairs: vec![],
                config,
                error: Some(e),
            };
        }
    };
    let mut pairs = Vec::new();
    for (k, (ja, jn)) in analytic.iter().zip(&numeric).enumerate() {
        for (i, (a, n)) in ja.iter().zip(jn).enumerate() {
            let shapes = (in_shapes[i].as_slice(), out_shapes[k].as_slice());
            pairs.push(compare(a, n, (i, k), shapes, &config));
        }
    }
    GradcheckReport {
        pairs,
        config,
        error: None,
    }
}

fn nth(a: &ArrayD<f64>, n: usize) -> f64 {
    a.iter().nth(n).copied().unwrap_or(0.0)
}

fn set_nth(a: &mut ArrayD<f64>, n: usize, v: f64) {
    if let Some(x) = a.iter_mut().nth(n) {
        *x = v;
    }
}

fn compare(
    a: &Array2<f64>,
    n: &Array2<f64>,
    (input, output): (usize, usize),
    (in_shape, out_shape): (&[usize], &[usize]),
    c: &GradcheckConfig,
) -> PairReport {
    let mut worst = (0usize, 0usize, -1.0f64);
    for ((jo, ji), &na) in n.indexed_iter() {
        let an = a[[jo, ji]];
        let score = (an - na).abs() / (c.atol + c.rtol * na.abs());
        if score > worst.2 || score.is_nan() {
            worst = (jo, ji, if score.is_nan() { f64::INFINITY } else { score });
        }
    }
    let (jo, ji, score) = worst;
    let (analytic, numeric) = if a.is_empty() {
        (0.0, 0.0)
    } else {
        (a[[jo, ji]], n[[jo, ji]])
    };
    let abs_err = (analytic - numeric).abs();
    PairReport {
        input,
        output,
        input_index: unravel(ji, in_shape),
        output_index: unravel(jo, out_shape),
        analytic,
        numeric,
        abs_err,
        rel_err: if numeric != 0.0 {
            abs_err / numeric.abs()
        } else {
            abs_err
        },
        passed: score <= 1.0,
    }
}

/// The multi-index of flat position `flat` in a row-major array of `shape`.
fn unravel(mut flat: usize, shape: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; shape.len()];
    for (d, &len) in shape.iter().enumerate().rev() {
        if len > 0 {
            idx[d] = flat % len;
            flat /= len;
        }
    }
    idx
}

/// Checks the gradients of `f` with respect to parameters: `f` records a computation on
/// the tape it is given (bringing the params on with `tape.param`), and the gradients
/// backward finds for each param are compared with central differences, made by nudging
/// each element of each param in place (and putting it back).
///
/// This is how a whole block or network is checked, weights included. It shares the
/// Jacobian loops of [`gradcheck_with`]; only what is nudged differs.
pub fn gradcheck_params<F>(f: F, params: &[Param<f64>]) -> GradcheckReport
where
    F: Fn(&Tape<f64>) -> Var<f64>,
{
    let config = GradcheckConfig::default();
    let tape = Tape::new_f64();
    let out = f(&tape);
    let keys: Vec<&dyn GradKey<f64>> = params.iter().map(|p| p as &dyn GradKey<f64>).collect();
    let in_lens: Vec<usize> = params.iter().map(Param::len).collect();
    let analytic = analytic_jacobians(std::slice::from_ref(&out), &keys, &in_lens);
    let out_shapes = vec![out.shape().to_vec()];
    drop(out);
    drop(tape);

    let values: Vec<ArrayD<f64>> = params.iter().map(|p| p.value().as_ref().clone()).collect();
    let numeric = numeric_jacobians(&values, &out_shapes, config.eps, |i, e, value| {
        let orig = nth(&values[i], e);
        params[i].update(|v| set_nth(v, e, value));
        let t = Tape::new_f64();
        t.set_recording(false);
        let out = f(&t).value().clone();
        params[i].update(|v| set_nth(v, e, orig));
        vec![out]
    });
    let in_shapes: Vec<Vec<usize>> = params.iter().map(|p| p.shape()).collect();
    report(analytic, numeric, &in_shapes, &out_shapes, config)
}
