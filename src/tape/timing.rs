//! Where a step's time goes, op by op: an opt-in stopwatch on the tape, like a small
//! `torch.profiler`.
//!
//! [`Tape::time_ops`](super::Tape::time_ops) starts it. From then on:
//! - **forward**: every op computes its value and then records it, so the time between
//!   one record and the next is the op that was just recorded (with whatever the caller
//!   did in between, such as reading a parameter);
//! - **backward**: each node's backward rule, and the adding of its gradients into its
//!   inputs' slots, is timed on its own.
//!
//! Times are wall time, summed per op name. In a browser there is no clock (see
//! `crate::clock`) and every time is 0.

use std::collections::HashMap;
use std::fmt;

use crate::clock::Stopwatch;

/// The time spent in one kind of op.
#[derive(Clone, Debug, PartialEq)]
pub struct OpTime {
    /// The op's name, as [`Op::name`](crate::Op::name) gives it.
    pub op: String,
    /// How many times it was recorded.
    pub count: usize,
    /// Seconds in its forward computations.
    pub forward_s: f64,
    /// Seconds in its backward rules (and in adding the gradients they returned).
    pub backward_s: f64,
}

/// Time per op name, from one tape or summed over several ([`OpTimes::merge`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OpTimes {
    rows: Vec<OpTime>,
    index: HashMap<String, usize>,
}

impl OpTimes {
    /// One row per op name, in the order the names were first seen.
    pub fn rows(&self) -> &[OpTime] {
        &self.rows
    }

    /// The row for `op`, if it ran.
    pub fn get(&self, op: &str) -> Option<&OpTime> {
        self.index.get(op).map(|&i| &self.rows[i])
    }

    /// Seconds over every op, forward and backward.
    pub fn total_s(&self) -> f64 {
        self.rows.iter().map(|r| r.forward_s + r.backward_s).sum()
    }

    /// Adds `other`'s rows into these, name by name.
    pub fn merge(&mut self, other: &OpTimes) {
        for r in &other.rows {
            let row = self.row(&r.op);
            row.count += r.count;
            row.forward_s += r.forward_s;
            row.backward_s += r.backward_s;
        }
    }

    /// Every time and count divided by `n`: the mean of `n` merged steps.
    pub fn per(&self, n: usize) -> OpTimes {
        let k = n.max(1);
        let mut out = self.clone();
        for r in &mut out.rows {
            r.count /= k;
            r.forward_s /= k as f64;
            r.backward_s /= k as f64;
        }
        out
    }

    fn row(&mut self, op: &str) -> &mut OpTime {
        let i = match self.index.get(op) {
            Some(&i) => i,
            None => {
                self.rows.push(OpTime {
                    op: op.to_string(),
                    count: 0,
                    forward_s: 0.0,
                    backward_s: 0.0,
                });
                self.index.insert(op.to_string(), self.rows.len() - 1);
                self.rows.len() - 1
            }
        };
        &mut self.rows[i]
    }

    pub(crate) fn add_forward(&mut self, op: &str, secs: f64) {
        let row = self.row(op);
        row.count += 1;
        row.forward_s += secs;
    }

    pub(crate) fn add_backward(&mut self, op: &str, secs: f64) {
        self.row(op).backward_s += secs;
    }
}

/// A table, the slowest op first: count, forward ms, backward ms, share of the total.
impl fmt::Display for OpTimes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total = self.total_s();
        let mut rows: Vec<&OpTime> = self.rows.iter().collect();
        rows.sort_by(|a, b| (b.forward_s + b.backward_s).total_cmp(&(a.forward_s + a.backward_s)));
        writeln!(
            f,
            "{:<20} {:>6} {:>10} {:>11} {:>9} {:>6}",
            "op", "count", "fwd ms", "bwd ms", "total ms", "share"
        )?;
        for r in rows {
            let t = r.forward_s + r.backward_s;
            writeln!(
                f,
                "{:<20} {:>6} {:>10.2} {:>11.2} {:>9.2} {:>5.1}%",
                r.op,
                r.count,
                r.forward_s * 1e3,
                r.backward_s * 1e3,
                t * 1e3,
                if total > 0.0 { 100.0 * t / total } else { 0.0 }
            )?;
        }
        write!(
            f,
            "{:<20} {:>6} {:>10} {:>11} {:>9.2} {:>5.1}%",
            "all ops",
            "",
            "",
            "",
            total * 1e3,
            100.0
        )
    }
}

/// The running stopwatch of a tape that times its ops.
pub(crate) struct Timer {
    since: Stopwatch,
    pub(crate) times: OpTimes,
}

impl Timer {
    pub(crate) fn new() -> Self {
        Timer {
            since: Stopwatch::start(),
            times: OpTimes::default(),
        }
    }

    /// An op named `op` was just recorded: the time since the last record was its forward.
    pub(crate) fn recorded(&mut self, op: &str) {
        self.times.add_forward(op, self.since.seconds());
        self.since = Stopwatch::start();
    }
}
