//! Drawing the tape: micrograd's `draw_dot`, as DOT text and as a self-contained SVG.
//!
//! It reads the tape only through its public view, [`Tape::nodes`].
//!
//! One box per node shows its id, op, shape, a summary of its value and, if you pass the
//! [`Grads`], of its gradient. In a notebook the graph shows inline (`evcxr_display`).

use std::fmt::Write as _;
use std::path::Path;

use ndarray::ArrayD;

use crate::io::{escape_html, evcxr_show, write_atomic};
use crate::{Float, Grads, NodeId, Tape, Var};

/// The most nodes one drawing shows; larger graphs keep the nodes nearest the output.
pub const MAX_DRAWN_NODES: usize = 300;

/// One box of the drawing.
#[derive(Debug, Clone)]
pub struct GraphNode {
    /// The node's id on its tape.
    pub id: NodeId,
    /// The op with its arguments, e.g. `sum(axes=[1], keepdim=false)`.
    pub op: String,
    /// The value's shape.
    pub shape: Vec<usize>,
    /// A summary of the value.
    pub data: String,
    /// A summary of the gradient, if grads were given and the node has one.
    pub grad: Option<String>,
    /// Parent ids that are drawn too.
    pub parents: Vec<NodeId>,
}

/// A drawable snapshot of (part of) a tape.
#[derive(Debug, Clone)]
pub struct Graph {
    /// The boxes, in recording order.
    pub nodes: Vec<GraphNode>,
    /// How many nodes were left out to stay under [`MAX_DRAWN_NODES`].
    pub omitted: usize,
}

fn summarize<T: Float>(a: &ArrayD<T>) -> String {
    if a.len() == 1 {
        let x = a.iter().next().map_or(0.0, |v| v.as_f64());
        format!("{x:.4}")
    } else if a.is_empty() {
        "empty".into()
    } else {
        let n = a.len() as f64;
        let mean = a.iter().map(|v| v.as_f64()).sum::<f64>() / n;
        let amax = a.iter().map(|v| v.as_f64().abs()).fold(0.0, f64::max);
        format!("mean {mean:.3}, max|.| {amax:.3}")
    }
}

impl<T: Float> Tape<T> {
    /// The whole tape as a graph.
    pub fn graph(&self) -> Graph {
        self.graph_of(None, None)
    }

    /// The whole tape as a graph, with gradients.
    pub fn graph_with(&self, grads: &Grads<T>) -> Graph {
        self.graph_of(None, Some(grads))
    }

    fn graph_of(&self, root: Option<NodeId>, grads: Option<&Grads<T>>) -> Graph {
        let all = self.nodes();
        let n = all.len();
        // Which nodes to draw: all, or the ancestors of `root` (found with an explicit
        // stack, not recursion, so deep graphs are fine).
        let mut keep = vec![root.is_none(); n];
        if let Some(r) = root {
            let mut stack = vec![r];
            while let Some(i) = stack.pop() {
                if !std::mem::replace(&mut keep[i], true) {
                    stack.extend_from_slice(&all[i].parents);
                }
            }
        }
        let mut ids: Vec<NodeId> = (0..n).filter(|&i| keep[i]).collect();
        let omitted = ids.len().saturating_sub(MAX_DRAWN_NODES);
        ids.drain(..omitted);
        let drawn = |p: &NodeId| ids.binary_search(p).is_ok();
        let nodes = ids
            .iter()
            .map(|&i| {
                let node = &all[i];
                GraphNode {
                    id: i,
                    op: node.op.label(),
                    shape: node.value.shape().to_vec(),
                    data: summarize(&node.value),
                    grad: grads.and_then(|g| g.by_id(i)).map(summarize),
                    parents: node.parents.iter().copied().filter(drawn).collect(),
                }
            })
            .collect();
        Graph { nodes, omitted }
    }
}

impl<T: Float> Var<T> {
    /// The graph of everything this value was computed from.
    pub fn graph(&self) -> Graph {
        self.tape()
            .graph_of(Some(self.id().unwrap_or(0)), None)
            .only_if(self.id().is_some())
    }

    /// The graph of everything this value was computed from, with gradients.
    pub fn graph_with(&self, grads: &Grads<T>) -> Graph {
        self.tape()
            .graph_of(Some(self.id().unwrap_or(0)), Some(grads))
            .only_if(self.id().is_some())
    }
}

const BOX_W: f64 = 210.0;
const LINE_H: f64 = 15.0;
const GAP_X: f64 = 50.0;
const GAP_Y: f64 = 14.0;
const PAD: f64 = 10.0;

impl Graph {
    fn only_if(self, recorded: bool) -> Graph {
        if recorded {
            self
        } else {
            Graph {
                nodes: vec![],
                omitted: 0,
            }
        }
    }

    fn lines(n: &GraphNode) -> Vec<String> {
        let mut l = vec![
            format!("#{} {}", n.id, n.op),
            format!("shape {:?}", n.shape),
            format!("data {}", n.data),
        ];
        if let Some(g) = &n.grad {
            l.push(format!("grad {g}"));
        }
        l
    }

    /// Graphviz DOT text (left to right, one record per node).
    pub fn to_dot(&self) -> String {
        let mut s = String::from(
            "digraph tape {\n  rankdir=LR;\n  node [shape=record, fontname=\"monospace\"];\n",
        );
        for n in &self.nodes {
            let label = Self::lines(n)
                .iter()
                .map(|l| l.replace('|', "/").replace(['{', '}'], ""))
                .collect::<Vec<_>>();
            let _ = writeln!(
                s,
                "  n{} [label=\"{{{}}}\"];",
                n.id,
                label.join(" | ").replace('"', "'")
            );
            for p in &n.parents {
                let _ = writeln!(s, "  n{p} -> n{};", n.id);
            }
        }
        s.push_str("}\n");
        s
    }

    /// A self-contained SVG: columns by depth (inputs on the left), curved edges.
    pub fn to_svg(&self) -> String {
        // depth = 1 + the deepest drawn parent; parents come first in recording order.
        let index = |id: NodeId| self.nodes.binary_search_by_key(&id, |n| n.id).ok();
        let mut depth = vec![0usize; self.nodes.len()];
        for (k, n) in self.nodes.iter().enumerate() {
            depth[k] = n
                .parents
                .iter()
                .filter_map(|&p| index(p))
                .map(|j| depth[j] + 1)
                .max()
                .unwrap_or(0);
        }
        // Leaves move right, to just before their first use, so their edges stay short.
        let mut first_use = vec![usize::MAX; self.nodes.len()];
        for (k, n) in self.nodes.iter().enumerate() {
            for j in n.parents.iter().filter_map(|&p| index(p)) {
                first_use[j] = first_use[j].min(depth[k]);
            }
        }
        for (k, n) in self.nodes.iter().enumerate() {
            if n.parents.is_empty() && first_use[k] != usize::MAX {
                depth[k] = first_use[k] - 1;
            }
        }
        let box_h = |n: &GraphNode| Self::lines(n).len() as f64 * LINE_H + 8.0;
        let mut col_y = vec![PAD; depth.iter().max().map_or(1, |d| d + 1)];
        let mut pos = Vec::with_capacity(self.nodes.len());
        for (k, n) in self.nodes.iter().enumerate() {
            let x = PAD + depth[k] as f64 * (BOX_W + GAP_X);
            let y = col_y[depth[k]];
            col_y[depth[k]] += box_h(n) + GAP_Y;
            pos.push((x, y));
        }
        let width = PAD * 2.0 + col_y.len() as f64 * (BOX_W + GAP_X) - GAP_X;
        let height = col_y.iter().cloned().fold(PAD, f64::max)
            + PAD
            + if self.omitted > 0 { 20.0 } else { 0.0 };
        let mut s = String::new();
        let _ = writeln!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="monospace" font-size="11">"#
        );
        s.push_str(r##"<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>"##);
        s.push('\n');
        for (k, n) in self.nodes.iter().enumerate() {
            let (x, y) = pos[k];
            for &p in &n.parents {
                if let Some(j) = index(p) {
                    let (px, py) = pos[j];
                    let (x1, y1) = (px + BOX_W, py + box_h(&self.nodes[j]) / 2.0);
                    let (x2, y2) = (x, y + box_h(n) / 2.0);
                    let mx = (x1 + x2) / 2.0;
                    let _ = writeln!(
                        s,
                        r##"<path d="M{x1:.1},{y1:.1} C{mx:.1},{y1:.1} {mx:.1},{y2:.1} {x2:.1},{y2:.1}" fill="none" stroke="#555" marker-end="url(#arrow)"/>"##
                    );
                }
            }
        }
        for (k, n) in self.nodes.iter().enumerate() {
            let (x, y) = pos[k];
            let fill = if n.parents.is_empty() {
                "#e8f1fb"
            } else {
                "#fdf6e3"
            };
            let _ = writeln!(
                s,
                r##"<rect x="{x:.1}" y="{y:.1}" width="{BOX_W}" height="{:.1}" rx="4" fill="{fill}" stroke="#333"/>"##,
                box_h(n)
            );
            for (li, line) in Self::lines(n).iter().enumerate() {
                let weight = if li == 0 {
                    r#" font-weight="bold""#
                } else {
                    ""
                };
                let _ = writeln!(
                    s,
                    r#"<text x="{:.1}" y="{:.1}"{weight}>{}</text>"#,
                    x + 6.0,
                    y + 15.0 + li as f64 * LINE_H,
                    escape_html(&truncate(line, 30))
                );
            }
        }
        if self.omitted > 0 {
            let _ = writeln!(
                s,
                r#"<text x="{PAD}" y="{:.1}">{} earlier nodes not drawn (at most {MAX_DRAWN_NODES})</text>"#,
                height - 8.0,
                self.omitted
            );
        }
        s.push_str("</svg>\n");
        s
    }

    /// Writes the SVG to `path` (via a temporary file, so a failure leaves no half file).
    pub fn save_svg(&self, path: impl AsRef<Path>) -> std::io::Result<()> {
        write_atomic(path.as_ref(), self.to_svg().as_bytes())
    }

    /// Shows the graph inline in an evcxr notebook.
    pub fn evcxr_display(&self) {
        evcxr_show("image/svg+xml", &self.to_svg());
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}
