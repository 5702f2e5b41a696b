//! Veit et al. 2016 Fig. 3, drawn: the test accuracy of a trained net with one block (or
//! layer) deleted, against where the deletion was, from the numbers
//! [`flow::run_lesion`](crate::flow::run_lesion) returns.

use super::{Figure, LineChart, Series};
use crate::flow::{Deletion, LesionResult};

/// `(position, accuracy in percent)` of each deletion.
fn points(deletions: &[Deletion]) -> Vec<(f64, f64)> {
    deletions
        .iter()
        .map(|d| (d.position(), 100.0 * d.accuracy))
        .collect()
}

impl LesionResult {
    /// The caption of [`LesionResult::figure`], from the numbers: each net's intact
    /// accuracy and its mean and worst over single deletions; "gracefully" and
    /// "collapses" only where the numbers say so.
    pub fn caption(&self) -> String {
        let (r, p) = (&self.residual, &self.plain);
        let chance = 100.0 / self.classes.max(1) as f64;
        let pct = |v: f64| format!("{:.1}%", 100.0 * v);
        let worst = |run: &crate::flow::LesionRun| run.worst().map_or(f64::NAN, |d| d.accuracy);
        let graceful = r.full_accuracy - r.mean_accuracy() < 0.05;
        let collapses = 100.0 * p.mean_accuracy() < chance + 10.0;
        format!(
            "Deleting one of the {} residual blocks {} (intact {}, mean over deletions {}, worst {}); deleting one \
             of the {} plain layers {} (intact {}, mean {}, worst {}; chance is {chance:.0}%). Each point sits at the \
             middle of the weight layers it removed; dashed: the intact nets.",
            r.deletions.len(),
            if graceful {
                "costs a few points"
            } else {
                "costs accuracy"
            },
            pct(r.full_accuracy),
            pct(r.mean_accuracy()),
            pct(worst(r)),
            p.deletions.len(),
            if collapses {
                "drops the plain net to near chance"
            } else {
                "costs the plain net accuracy"
            },
            pct(p.full_accuracy),
            pct(p.mean_accuracy()),
            pct(worst(p)),
        )
    }

    /// Test accuracy against the position of the deletion (a weight-layer index, so that
    /// blocks of two layers and single layers share the axis), for the residual net, the
    /// plain net (single layers) and the plain net (pairs of layers), with each intact
    /// net's accuracy and chance as dashed reference lines.
    pub fn figure(&self) -> Figure {
        let (r, p) = (&self.residual, &self.plain);
        let depth = self.config.depth() as f64;
        let across = |y: f64| vec![(1.0, y), (depth, y)];
        let chance = 100.0 / self.classes.max(1) as f64;
        let series = vec![
            Series {
                dashed: true,
                ..Series::new(
                    format!("{}, intact", r.label),
                    across(100.0 * r.full_accuracy),
                    0,
                )
            },
            Series {
                dashed: true,
                ..Series::new(
                    format!("{}, intact", p.label),
                    across(100.0 * p.full_accuracy),
                    1,
                )
            },
            Series {
                dashed: true,
                ..Series::new("chance", across(chance), 6)
            },
            Series::new(
                format!("{}: one block deleted", r.label),
                points(&r.deletions),
                0,
            ),
            Series::new(
                format!("{}: one layer deleted", p.label),
                points(&p.deletions),
                1,
            ),
            Series::new(
                format!("{}: two layers deleted", p.label),
                points(&self.plain_pairs),
                2,
            ),
        ];
        LineChart {
            title: format!(
                "Lesion study (Veit et al. 2016, Fig. 3): delete one block, {}",
                self.dataset
            ),
            x_label: "position of the deletion (weight layer; 1 is fc_in)".into(),
            y_label: "test accuracy (%)".into(),
            x_integer: true,
            y_range: Some((0.0, 100.0)),
            series,
            caption: self.caption(),
            ..LineChart::default()
        }
        .render("lesion")
    }
}
