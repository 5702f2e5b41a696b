//! A layer-by-layer summary, as torchinfo prints it: name, output shape, parameters and
//! multiply-adds per layer, then the totals.

use std::fmt;

use super::{Module, Role, ShapeFlow};
use crate::Float;

/// One leaf layer of a summary.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryRow {
    /// Hierarchical name, e.g. `layer1.0.conv1`.
    pub name: String,
    /// The layer's kind, e.g. `Conv2d 3x3/1`.
    pub layer: String,
    /// Output shape.
    pub output: Vec<usize>,
    /// Trainable parameters.
    pub params: usize,
    /// Multiply-adds for the summarised input (convs and linear layers; batch norm,
    /// ReLU and pooling count 0, as in the paper's FLOP counts).
    pub macs: usize,
}

/// A model's summary for one input shape.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// The model's name.
    pub title: String,
    /// The input shape summarised.
    pub input: Vec<usize>,
    /// One row per leaf layer, in order.
    pub rows: Vec<SummaryRow>,
    /// The output shape.
    pub output: Vec<usize>,
}

impl Summary {
    /// Summarises `model` for an input of shape `input` (batch first): one row per leaf
    /// layer, named by its path, with shapes passed between children as each container's
    /// [`shape_flow`](Module::shape_flow) says.
    pub fn of<T: Float>(title: &str, model: &dyn Module<T>, input: &[usize]) -> Summary {
        let mut s = Summary {
            title: title.to_string(),
            input: input.to_vec(),
            ..Summary::default()
        };
        s.output = s.walk("", model, input);
        s
    }

    /// Adds the rows of `m`, named under `path`, for `input`; returns its output shape.
    fn walk<T: Float>(&mut self, path: &str, m: &dyn Module<T>, input: &[usize]) -> Vec<usize> {
        if let Some(info) = m.describe(input) {
            let mut params = 0;
            m.own_params(&mut |_, p, role| {
                if role == Role::Parameter {
                    params += p.len();
                }
            });
            self.rows.push(SummaryRow {
                name: path.to_string(),
                layer: info.layer,
                output: info.output.clone(),
                params,
                macs: info.macs,
            });
            return info.output;
        }
        let children = m.children();
        let branch = match m.shape_flow() {
            ShapeFlow::Sequence => children.len(),
            ShapeFlow::Residual { branch } => branch,
        };
        let (mut main, mut side) = (input.to_vec(), input.to_vec());
        for (i, (name, child)) in children.into_iter().enumerate() {
            let child_path = if path.is_empty() {
                name
            } else {
                format!("{path}.{name}")
            };
            if i < branch {
                main = self.walk(&child_path, child, &main);
            } else {
                side = self.walk(&child_path, child, &side);
            }
        }
        main
    }

    /// Total trainable parameters.
    pub fn total_params(&self) -> usize {
        self.rows.iter().map(|r| r.params).sum()
    }

    /// Total multiply-adds.
    pub fn total_macs(&self) -> usize {
        self.rows.iter().map(|r| r.macs).sum()
    }

    /// Shows the summary in an evcxr notebook, as a preformatted block.
    pub fn evcxr_display(&self) {
        crate::io::evcxr_show_text(&self.to_string(), None);
    }
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Multiply-adds with a unit: `40.55M`, `3.86G`.
pub fn human(n: usize) -> String {
    let x = n as f64;
    if x >= 1e9 {
        format!("{:.3}G", x / 1e9)
    } else if x >= 1e6 {
        format!("{:.2}M", x / 1e6)
    } else if x >= 1e3 {
        format!("{:.1}K", x / 1e3)
    } else {
        n.to_string()
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .rows
            .iter()
            .map(|r| r.name.len())
            .max()
            .unwrap_or(5)
            .max(5);
        let rule = "=".repeat(width + 70);
        writeln!(f, "{rule}")?;
        writeln!(f, "{} (input {:?})", self.title, self.input)?;
        writeln!(f, "{rule}")?;
        writeln!(
            f,
            "{:<width$}  {:<20} {:<20} {:>11} {:>13}",
            "Layer", "Type", "Output shape", "Params", "Mult-adds"
        )?;
        writeln!(f, "{}", "-".repeat(width + 70))?;
        for r in &self.rows {
            writeln!(
                f,
                "{:<width$}  {:<20} {:<20} {:>11} {:>13}",
                r.name,
                r.layer,
                format!("{:?}", r.output),
                thousands(r.params),
                thousands(r.macs)
            )?;
        }
        writeln!(f, "{rule}")?;
        writeln!(f, "Total params: {}", thousands(self.total_params()))?;
        writeln!(
            f,
            "Total mult-adds: {} ({})",
            thousands(self.total_macs()),
            human(self.total_macs())
        )?;
        writeln!(f, "Output shape: {:?}", self.output)?;
        write!(f, "{rule}")
    }
}
