//! `gradcheck`: compare every backward rule a function uses with central finite differences.
//!
//! As PyTorch's `torch.autograd.gradcheck`: in `f64`, over every element of every input,
//! and reported per (input, output) pair, so that a learner sees *which* derivative is
//! wrong, where, and by how much.

use std::fmt;

use ndarray::{Array2, ArrayD};

use crate::{Tape, Var};

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
    let (analytic, out_shapes) = match analytic_jacobians(&f, inputs) {
        Ok(j) => j,
        Err(e) => {
            return GradcheckReport {
                pairs: vec![],
                config,
                error: Some(e),
            };
        }
    };
    let numeric = numeric_jacobians(&f, inputs, config.eps);
    let mut pairs = Vec::new();
    for (k, (ja, jn)) in analytic.iter().zip(&numeric).enumerate() {
        for (i, (a, n)) in ja.iter().zip(jn).enumerate() {
            let shapes = (inputs[i].shape(), out_shapes[k].as_slice());
            pairs.push(compare(a, n, (i, k), shapes, &config));
        }
    }
    GradcheckReport {
        pairs,
        config,
        error: None,
    }
}

/// `jac[output][input]`, an `[output elements, input elements]` matrix.
type Jacobians = Vec<Vec<Array2<f64>>>;

/// Row `j` of `d out / d in` is the gradient of `out[j]`: one backward pass per output element.
/// Also returns the output shapes, to report indices in them.
fn analytic_jacobians<F, O>(
    f: &F,
    inputs: &[ArrayD<f64>],
) -> Result<(Jacobians, Vec<Vec<usize>>), String>
where
    F: Fn(&[Var<f64>]) -> O,
    O: Outputs,
{
    let tape = Tape::new_f64();
    let vars: Vec<Var<f64>> = inputs.iter().map(|x| tape.var(x.clone())).collect();
    let outs = f(&vars).into_outputs();
    let mut jac = Vec::new();
    for out in &outs {
        let mut per_input: Vec<Array2<f64>> = inputs
            .iter()
            .map(|x| Array2::zeros((out.len(), x.len())))
            .collect();
        for j in 0..out.len() {
            let mut seed = ArrayD::zeros(out.value().raw_dim());
            if let Some(s) = seed.iter_mut().nth(j) {
                *s = 1.0;
            }
            let grads = out.try_backward_with(seed).map_err(|e| e.to_string())?;
            for (i, v) in vars.iter().enumerate() {
                if let Some(g) = grads.get(v) {
                    for (dst, &src) in per_input[i].row_mut(j).iter_mut().zip(g.iter()) {
                        *dst = src;
                    }
                }
            }
        }
        jac.push(per_input);
    }
    Ok((jac, outs.iter().map(|o| o.shape().to_vec()).collect()))
}

/// Column `e` of `d out / d in` is `(f(x + eps e) - f(x - eps e)) / (2 eps)`.
fn numeric_jacobians<F, O>(f: &F, inputs: &[ArrayD<f64>], eps: f64) -> Jacobians
where
    F: Fn(&[Var<f64>]) -> O,
    O: Outputs,
{
    let eval = |xs: &[ArrayD<f64>]| -> Vec<ArrayD<f64>> {
        let tape = Tape::new_f64();
        tape.set_recording(false);
        let vars: Vec<Var<f64>> = xs.iter().map(|x| tape.var(x.clone())).collect();
        f(&vars)
            .into_outputs()
            .iter()
            .map(|o| o.value().clone())
            .collect()
    };
    let base = eval(inputs);
    let mut jac: Jacobians = base
        .iter()
        .map(|o| {
            inputs
                .iter()
                .map(|x| Array2::zeros((o.len(), x.len())))
                .collect()
        })
        .collect();
    let mut xs: Vec<ArrayD<f64>> = inputs.to_vec();
    for i in 0..inputs.len() {
        for e in 0..inputs[i].len() {
            let orig = inputs[i].iter().nth(e).copied().unwrap_or(0.0);
            set_nth(&mut xs[i], e, orig + eps);
            let plus = eval(&xs);
            set_nth(&mut xs[i], e, orig - eps);
            let minus = eval(&xs);
            set_nth(&mut xs[i], e, orig);
            for (k, (p, m)) in plus.iter().zip(&minus).enumerate() {
                for (j, (a, b)) in p.iter().zip(m.iter()).enumerate() {
                    jac[k][i][[j, e]] = (a - b) / (2.0 * eps);
                }
            }
        }
    }
    jac
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
/// This is how a whole block or network is checked, weights included.
pub fn gradcheck_params<F>(f: F, params: &[crate::Param<f64>]) -> GradcheckReport
where
    F: Fn(&Tape<f64>) -> Var<f64>,
{
    let config = GradcheckConfig::default();
    let tape = Tape::new_f64();
    let out = f(&tape);
    let mut analytic: Vec<Array2<f64>> = params
        .iter()
        .map(|p| Array2::zeros((out.len(), p.len())))
        .collect();
    for j in 0..out.len() {
        let mut seed = ArrayD::zeros(out.value().raw_dim());
        set_nth(&mut seed, j, 1.0);
        let grads = match out.try_backward_with(seed) {
            Ok(g) => g,
            Err(e) => {
                return GradcheckReport {
                    pairs: vec![],
                    config,
                    error: Some(e.to_string()),
                };
            }
        };
        for (i, p) in params.iter().enumerate() {
            if let Some(g) = grads.get(p) {
                analytic[i]
                    .row_mut(j)
                    .iter_mut()
                    .zip(g.iter())
                    .for_each(|(d, &s)| *d = s);
            }
        }
    }
    let out_shape = out.shape().to_vec();
    drop(out);
    drop(tape);
    let eval = || {
        let t = Tape::new_f64();
        t.set_recording(false);
        f(&t).value().clone()
    };
    let mut pairs = Vec::new();
    for (i, p) in params.iter().enumerate() {
        let mut numeric = Array2::zeros((out_shape.iter().product(), p.len()));
        for e in 0..p.len() {
            let orig = p.value().iter().nth(e).copied().unwrap_or(0.0);
            p.update(|v| set_nth(v, e, orig + config.eps));
            let plus = eval();
            p.update(|v| set_nth(v, e, orig - config.eps));
            let minus = eval();
            p.update(|v| set_nth(v, e, orig));
            for (j, (a, b)) in plus.iter().zip(minus.iter()).enumerate() {
                numeric[[j, e]] = (a - b) / (2.0 * config.eps);
            }
        }
        pairs.push(compare(
            &analytic[i],
            &numeric,
            (i, 0),
            (&p.shape(), &out_shape),
            &config,
        ));
    }
    GradcheckReport {
        pairs,
        config,
        error: None,
    }
}
