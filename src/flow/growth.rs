//! How fast a gradient grows (or shrinks) per layer on its way back to the input: a
//! least-squares fit of `ln ||dE/dx_l||` against `l`, and the rate Yang et al. 2019
//! predict for plain ReLU nets with batch norm.

/// The factor by which the gradient norm grows per layer towards the input (layer 0),
/// fitted by least squares to all the points: `exp(-b)`, where `b` is the slope of the
/// line through `(l, ln n_l)` for the points `(l, n_l)` (`l` in layers, the input side at
/// 0, as in [`DepthCurve::points`](super::DepthCurve::points)). Above 1 the gradient
/// explodes towards the input, below 1 it vanishes.
///
/// Unlike `R^(1/L)` from the two end points, the fit uses every layer, so one noisy layer
/// at either end does not decide it. `NaN` for fewer than two points or a non-positive
/// norm.
///
/// ```
/// // A gradient that doubles at every layer towards the input.
/// let points: Vec<(f64, f64)> = (0..10).map(|l| (l as f64, 2f64.powi(9 - l))).collect();
/// assert!((resgrad::flow::growth_per_layer(&points) - 2.0).abs() < 1e-12);
/// ```
pub fn growth_per_layer(points: &[(f64, f64)]) -> f64 {
    if points.len() < 2 || points.iter().any(|p| p.1.is_nan() || p.1 <= 0.0) {
        return f64::NAN;
    }
    let n = points.len() as f64;
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1.ln()).sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for &(x, y) in points {
        sxy += (x - mean_x) * (y.ln() - mean_y);
        sxx += (x - mean_x) * (x - mean_x);
    }
    (-sxy / sxx).exp()
}

/// Yang et al. 2019's rate for a plain ReLU net with batch norm at initialisation, per
/// layer, in norm: `sqrt(pi / (pi - 1)) = 1.211`. Batch norm divides each unit by its batch
/// standard deviation; the pre-activation of a layer fed by ReLU outputs has variance
/// `(pi - 1)/pi` of what He initialisation counts on, because batch norm removes the mean
/// that the ReLU outputs share, so each layer multiplies the gradient's squared norm by
/// about `pi / (pi - 1) = 1.467`.
pub fn bn_relu_growth() -> f64 {
    (std::f64::consts::PI / (std::f64::consts::PI - 1.0)).sqrt()
}
