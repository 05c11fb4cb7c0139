//! What [`crate::train::Trainer::fit`] measured, epoch by epoch, and its plot.

use std::path::Path;

use crate::plot::{Chart, write_svg};
use crate::train::evaluate::Evaluation;

/// What one epoch of [`crate::train::Trainer::fit`] measured.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochStats {
    /// The epoch, from 1.
    pub epoch: usize,
    /// Training loss and metrics, averaged over the epoch's batches.
    pub train: Evaluation,
    /// Validation loss and metrics at the end of the epoch.
    pub validation: Option<Evaluation>,
    /// The first group's learning rate at the end of the epoch.
    pub lr: f64,
    /// Training samples per second.
    pub samples_per_second: f64,
}

/// Every epoch's statistics, in order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    /// One entry per completed epoch.
    pub epochs: Vec<EpochStats>,
}

impl History {
    /// The last epoch's statistics.
    pub fn last(&self) -> Option<&EpochStats> {
        self.epochs.last()
    }

    /// Writes training and validation loss, and each metric, per epoch as
    /// SVG charts side by side.
    ///
    /// # Errors
    /// A message if the file cannot be written or there is nothing to plot.
    pub fn plot(&self, path: impl AsRef<Path>) -> Result<(), String> {
        let mut charts = vec![self.chart("loss", &|e: &Evaluation| Some(e.loss))];
        let names: Vec<String> = self
            .epochs
            .first()
            .map(|e| e.train.metrics.iter().map(|(n, _)| n.clone()).collect())
            .unwrap_or_default();
        for name in &names {
            charts.push(self.chart(name, &|e: &Evaluation| e.metric(name)));
        }
        write_svg(path, &charts)
    }

    /// One chart: the training and (when measured) validation curve of `value`.
    fn chart<'a>(&self, title: &'a str, value: &dyn Fn(&Evaluation) -> Option<f64>) -> Chart<'a> {
        let curve = |pick: &dyn Fn(&EpochStats) -> Option<&Evaluation>| -> Vec<(f64, f64)> {
            self.epochs
                .iter()
                .filter_map(|e| pick(e).and_then(value).map(|v| (e.epoch as f64, v)))
                .collect()
        };
        let mut chart =
            Chart::new(title, "epoch", title).series("train", curve(&|e| Some(&e.train)));
        let validation = curve(&|e| e.validation.as_ref());
        if !validation.is_empty() {
            chart = chart.series("validation", validation);
        }
        chart
    }
}
