//! A layer-by-layer summary, as torchinfo prints it: name, output shape, parameters and
//! multiply-adds per layer, then the totals.

use std::fmt;

use crate::Float;
use crate::nn::Module;

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
    prefix: Vec<String>,
}

impl Summary {
    /// Summarises `model` for an input of shape `input` (batch first).
    pub fn of<T: Float>(title: &str, model: &dyn Module<T>, input: &[usize]) -> Summary {
        let mut s = Summary {
            title: title.to_string(),
            input: input.to_vec(),
            ..Summary::default()
        };
        s.output = model.summarize(input, &mut s);
        s
    }

    /// Adds a row named by the current path.
    pub fn row(&mut self, layer: &str, output: &[usize], params: usize, macs: usize) {
        self.rows.push(SummaryRow {
            name: self.prefix.join("."),
            layer: layer.to_string(),
            output: output.to_vec(),
            params,
            macs,
        });
    }

    /// Adds a row named `name` under the current path.
    pub fn named_row(
        &mut self,
        name: &str,
        layer: &str,
        output: &[usize],
        params: usize,
        macs: usize,
    ) {
        self.prefix.push(name.to_string());
        self.row(layer, output, params, macs);
        self.prefix.pop();
    }

    /// Summarises a child module under `name`; returns its output shape.
    pub fn child<T: Float>(
        &mut self,
        name: &str,
        m: &dyn Module<T>,
        input: &[usize],
    ) -> Vec<usize> {
        self.prefix.push(name.to_string());
        let out = m.summarize(input, self);
        self.prefix.pop();
        out
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
