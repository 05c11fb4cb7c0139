//! What the trainer prints: a progress bar while an epoch runs (on a
//! terminal only) and one summary line per epoch, each fitting an 80-column
//! terminal for the built-in metrics.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressState, ProgressStyle};

use crate::train::evaluate::Evaluation;
use crate::train::history::EpochStats;

/// The progress bar of one epoch, counting samples.
pub(crate) struct Progress(ProgressBar);

impl Progress {
    /// A bar for `samples` samples, hidden unless `show` and standard error
    /// is a terminal.
    pub(crate) fn new(show: bool, epoch: usize, epochs: usize, samples: usize) -> Progress {
        if !show || !std::io::stderr().is_terminal() {
            return Progress(ProgressBar::hidden());
        }
        let bar = ProgressBar::new(samples as u64);
        // "epoch 1/5 [=====>    ] loss 0.2345 acc 0.9321 41.2k samples/s 3s<2s"
        let style = ProgressStyle::with_template(
            "epoch {prefix} [{wide_bar}] {msg} {rate} {elapsed}<{eta}",
        )
        .expect("the template is valid")
        .with_key(
            "rate",
            |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{} samples/s", compact(state.per_sec()));
            },
        )
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(format!("{epoch}/{epochs}"));
        Progress(bar)
    }

    /// Counts `samples` more, showing the running loss and metrics.
    pub(crate) fn advance(&self, samples: usize, so_far: &Evaluation) {
        if !self.0.is_hidden() {
            self.0.set_message(metrics_text(so_far, ""));
        }
        self.0.inc(samples as u64);
    }

    /// Removes the bar at the end of the epoch.
    pub(crate) fn finish(&self) {
        self.0.finish_and_clear();
    }

    /// Leaves the bar where it stopped, for an error.
    pub(crate) fn abandon(&self) {
        self.0.abandon();
    }
}

/// A rate to three significant digits: `41234.5` as `41.2k`, `412345` as `412k`.
fn compact(rate: f64) -> String {
    let (value, unit) = match rate {
        r if r >= 1e6 => (r / 1e6, "M"),
        r if r >= 1e3 => (r / 1e3, "k"),
        r => (r, ""),
    };
    let decimals = match value {
        v if v >= 100.0 => 0,
        v if v >= 10.0 => 1,
        _ => 2,
    };
    if unit.is_empty() {
        format!("{value:.0}")
    } else {
        format!("{value:.decimals$}{unit}")
    }
}

/// `loss 0.2345 acc 0.9321`, each name behind `prefix`.
fn metrics_text(e: &Evaluation, prefix: &str) -> String {
    let mut text = format!("{prefix}loss {:.4}", e.loss);
    for (name, value) in &e.metrics {
        text.push_str(&format!(" {prefix}{name} {value:.4}"));
    }
    text
}

/// One line per epoch, Keras style:
/// `epoch 1/5 loss 0.3413 acc 0.9012 val_loss 0.2316 val_acc 0.9310 40.1k samples/s`.
pub(crate) fn summary(stats: &EpochStats, epochs: usize) -> String {
    let mut line = format!(
        "epoch {}/{epochs} {}",
        stats.epoch,
        metrics_text(&stats.train, "")
    );
    if let Some(v) = &stats.validation {
        line.push(' ');
        line.push_str(&metrics_text(v, "val_"));
    }
    line.push_str(&format!(" {} samples/s", compact(stats.samples_per_second)));
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_epoch_line_fits_80_columns() {
        let evaluation = |loss| Evaluation {
            loss,
            metrics: vec![("acc".to_string(), 0.9321)],
        };
        let stats = EpochStats {
            epoch: 10,
            train: evaluation(0.34131),
            validation: Some(evaluation(0.23164)),
            lr: 1e-3,
            samples_per_second: 412_345.0,
        };
        let line = summary(&stats, 10);
        assert_eq!(
            line,
            "epoch 10/10 loss 0.3413 acc 0.9321 val_loss 0.2316 val_acc 0.9321 412k samples/s"
        );
        assert!(line.len() <= 80, "{} columns", line.len());
        assert_eq!(
            (compact(41_234.5), compact(4_123.0), compact(87.4)),
            ("41.2k".into(), "4.12k".into(), "87".into())
        );
    }
}
