//! The first model, micrograd style: an MLP with two hidden layers of 16, built from the
//! tape's ops, trained on two moons until it classifies every training point.
//!
//!     cargo run --release --example moons
//!
//! It prints the loss as it trains, the final accuracy, and the path of an SVG that draws
//! the decision boundary.

use resgrad::ndarray::{Array1, Array2, ArrayD, Axis};
use resgrad::plotters::prelude::*;
use resgrad::{Param, Tape, Var, data};

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, Normal};

/// A fully connected layer `x W + b`, with He-normal weights (std sqrt(2 / fan_in)).
struct Linear {
    w: Param,
    b: Param,
}

impl Linear {
    fn new(name: &str, fan_in: usize, fan_out: usize, rng: &mut StdRng) -> Self {
        let he = Normal::new(0.0, (2.0 / fan_in as f32).sqrt()).unwrap();
        Linear {
            w: Param::new(
                format!("{name}.weight"),
                Array2::from_shape_simple_fn((fan_in, fan_out), || he.sample(rng)),
            ),
            b: Param::new(format!("{name}.bias"), Array1::<f32>::zeros(fan_out)),
        }
    }

    fn forward(&self, tape: &Tape, x: &Var) -> Var {
        x.matmul(&tape.param(&self.w)) + tape.param(&self.b)
    }
}

struct Mlp {
    layers: Vec<Linear>,
}

impl Mlp {
    fn new(sizes: &[usize], seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let layers = sizes
            .windows(2)
            .enumerate()
            .map(|(i, s)| Linear::new(&format!("fc{}", i + 1), s[0], s[1], &mut rng))
            .collect();
        Mlp { layers }
    }

    /// Logits: ReLU between layers, none after the last.
    fn forward(&self, tape: &Tape, x: &Var) -> Var {
        let mut h = x.clone();
        for (i, layer) in self.layers.iter().enumerate() {
            h = layer.forward(tape, &h);
            if i + 1 < self.layers.len() {
                h = h.relu();
            }
        }
        h
    }

    fn params(&self) -> Vec<&Param> {
        self.layers.iter().flat_map(|l| [&l.w, &l.b]).collect()
    }

    /// Predicted class per row, without recording a graph.
    fn predict(&self, x: &Array2<f32>) -> Vec<usize> {
        let tape = Tape::new();
        tape.no_grad(|| {
            let logits = self.forward(&tape, &tape.constant(x.clone()));
            logits
                .value()
                .axis_iter(Axis(0))
                .map(|row| if row[1] > row[0] { 1 } else { 0 })
                .collect()
        })
    }
}

fn accuracy(pred: &[usize], labels: &[usize]) -> f64 {
    pred.iter().zip(labels).filter(|(p, l)| p == l).count() as f64 / labels.len() as f64
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (x, labels) = data::two_moons(200, 0.1, 0);
    let model = Mlp::new(&[2, 16, 16, 2], 1);
    let (lr, momentum, steps) = (0.1f32, 0.9f32, 1000);
    // One momentum buffer per parameter, in the order of `params()`.
    let mut velocity: Vec<ArrayD<f32>> = model
        .params()
        .iter()
        .map(|p| ArrayD::zeros(p.shape()))
        .collect();

    for step in 1..=steps {
        // A fresh tape each step: record the forward pass, go back through it once.
        let tape = Tape::new();
        let loss = model
            .forward(&tape, &tape.constant(x.clone()))
            .cross_entropy(&labels);
        let grads = loss.backward();
        for (p, v) in model.params().into_iter().zip(&mut velocity) {
            // SGD with momentum, as PyTorch: v = momentum v + g;  p = p - lr v.
            *v = &*v * momentum + &grads[p];
            p.update(|w| w.scaled_add(-lr, v));
        }
        if step % 100 == 0 || step == 1 {
            let acc = accuracy(&model.predict(&x), &labels);
            println!(
                "step {step:>4}  loss {:.4}  train accuracy {:.1}%",
                loss.item(),
                100.0 * acc
            );
        }
    }

    let acc = accuracy(&model.predict(&x), &labels);
    println!(
        "final training accuracy: {:.1}% ({} points)",
        100.0 * acc,
        labels.len()
    );

    let path = std::path::Path::new("out/moons.svg");
    std::fs::create_dir_all("out")?;
    draw_boundary(&model, &x, &labels, path)?;
    println!("decision boundary: {}", path.display());
    Ok(())
}

/// Colours the plane by the predicted class and draws the training points on top.
fn draw_boundary(
    model: &Mlp,
    x: &Array2<f32>,
    labels: &[usize],
    path: &std::path::Path,
) -> Result<(), Box<dyn std::error::Error>> {
    let (x0, x1, y0, y1) = (-1.5f32, 2.5f32, -1.0f32, 1.5f32);
    let res = 120;
    let grid = Array2::from_shape_fn((res * res, 2), |(k, d)| {
        let (i, j) = (k % res, k / res);
        if d == 0 {
            x0 + (x1 - x0) * (i as f32 + 0.5) / res as f32
        } else {
            y0 + (y1 - y0) * (j as f32 + 0.5) / res as f32
        }
    });
    let pred = model.predict(&grid);

    let root = SVGBackend::new(path, (640, 420)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Two moons: decision boundary of a 2-16-16-2 MLP",
            ("sans-serif", 18),
        )
        .margin(10)
        .x_label_area_size(44)
        .y_label_area_size(56)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    // Ticks as briefly as they read (`0`, `0.5`, never `0.0`), in type large enough to read.
    let tick = |v: &f32| {
        let s = format!("{v:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    };
    let font = ("sans-serif", resgrad::viz::font::TICK);
    chart
        .configure_mesh()
        .x_desc("x1")
        .y_desc("x2")
        .label_style(font)
        .axis_desc_style(font)
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .draw()?;
    let (dx, dy) = ((x1 - x0) / res as f32, (y1 - y0) / res as f32);
    let shade = [RGBColor(198, 219, 239), RGBColor(253, 208, 162)];
    // One rectangle per run of equal predictions along a row keeps the SVG small.
    let mut runs = Vec::new();
    for j in 0..res {
        let row = &pred[j * res..(j + 1) * res];
        let mut start = 0;
        for i in 1..=res {
            if i == res || row[i] != row[start] {
                let (ax, ay) = (x0 + dx * start as f32, y0 + dy * j as f32);
                runs.push(Rectangle::new(
                    [(ax, ay), (x0 + dx * i as f32, ay + dy)],
                    shade[row[start]].filled(),
                ));
                start = i;
            }
        }
    }
    chart.draw_series(runs)?;
    let ink = [RGBColor(33, 102, 172), RGBColor(217, 95, 2)];
    for (class, color) in ink.into_iter().enumerate() {
        chart
            .draw_series(
                x.axis_iter(Axis(0))
                    .zip(labels)
                    .filter(|(_, l)| **l == class)
                    .map(|(p, _)| Circle::new((p[0], p[1]), 3, color.filled())),
            )?
            .label(format!("class {class}"))
            .legend(move |(a, b)| Circle::new((a, b), 4, color.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font(("sans-serif", resgrad::viz::font::LEGEND))
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}
