//! Metrics a [`crate::train::Trainer`] reports: accumulated over an epoch's
//! batches (or a whole validation set), then read once.

use descent_data::Batch;
use descent_layers::{ConfusionMatrix, predicted_classes};
use descent_tensor::Tensor;

/// A quantity measured over many batches of model outputs.
///
/// Implement it for a metric of your own; [`metric_fn`] turns a per-batch
/// closure into one.
pub trait Metric: Send {
    /// The name shown in progress lines and histories, e.g. `"acc"`.
    fn name(&self) -> &str;
    /// Forgets every batch seen so far.
    fn reset(&mut self);
    /// Takes in one batch's model outputs.
    fn update(&mut self, output: &Tensor, batch: &Batch);
    /// The value over every batch since the last reset.
    fn value(&self) -> f64;
}

/// The fraction of samples whose largest output is at their class.
#[derive(Clone, Debug, Default)]
pub struct Accuracy {
    correct: u64,
    seen: u64,
}

impl Metric for Accuracy {
    fn name(&self) -> &str {
        "acc"
    }
    fn reset(&mut self) {
        *self = Accuracy::default();
    }
    fn update(&mut self, output: &Tensor, batch: &Batch) {
        let predicted = predicted_classes(output);
        let labels = batch.classes();
        self.correct += predicted.iter().zip(labels).filter(|(p, l)| p == l).count() as u64;
        self.seen += labels.len() as u64;
    }
    fn value(&self) -> f64 {
        self.correct as f64 / self.seen.max(1) as f64
    }
}

/// The fraction of logits on the same side of 0 as their 0/1 target.
#[derive(Clone, Debug, Default)]
pub struct BinaryAccuracy {
    correct: u64,
    seen: u64,
}

impl Metric for BinaryAccuracy {
    fn name(&self) -> &str {
        "acc"
    }
    fn reset(&mut self) {
        *self = BinaryAccuracy::default();
    }
    fn update(&mut self, output: &Tensor, batch: &Batch) {
        let targets = batch.values();
        self.correct += output
            .data()
            .iter()
            .zip(targets.data())
            .filter(|&(&logit, &target)| (logit > 0.0) == (target > 0.5))
            .count() as u64;
        self.seen += targets.numel() as u64;
    }
    fn value(&self) -> f64 {
        self.correct as f64 / self.seen.max(1) as f64
    }
}

/// The macro-averaged F1 score of a classifier (the unweighted mean of the
/// per-class F1 scores), from the confusion matrix of every batch seen.
#[derive(Clone, Debug)]
pub struct MacroF1(ConfusionMatrix);

impl MacroF1 {
    /// For a classifier of `classes` classes.
    pub fn new(classes: usize) -> MacroF1 {
        MacroF1(ConfusionMatrix::new(classes))
    }
}

impl Metric for MacroF1 {
    fn name(&self) -> &str {
        "f1"
    }
    fn reset(&mut self) {
        self.0 = ConfusionMatrix::new(self.0.classes());
    }
    fn update(&mut self, output: &Tensor, batch: &Batch) {
        self.0.add(&predicted_classes(output), batch.classes());
    }
    fn value(&self) -> f64 {
        self.0.macro_f1()
    }
}

/// The coefficient of determination R² of a regression, over every sample
/// seen (scikit-learn's `r2_score`), accumulated in f64.
#[derive(Clone, Debug, Default)]
pub struct RSquared {
    count: f64,
    sum: f64,
    sum_squares: f64,
    residual: f64,
}

impl Metric for RSquared {
    fn name(&self) -> &str {
        "r2"
    }
    fn reset(&mut self) {
        *self = RSquared::default();
    }
    fn update(&mut self, output: &Tensor, batch: &Batch) {
        for (&p, &t) in output.data().iter().zip(batch.values().data()) {
            let (p, t) = (p as f64, t as f64);
            self.count += 1.0;
            self.sum += t;
            self.sum_squares += t * t;
            self.residual += (t - p) * (t - p);
        }
    }
    fn value(&self) -> f64 {
        let total = self.sum_squares - self.sum * self.sum / self.count.max(1.0);
        if total <= 0.0 {
            return if self.residual == 0.0 { 1.0 } else { 0.0 };
        }
        1.0 - self.residual / total
    }
}

/// A metric from a per-batch closure, averaged over samples (weighted by
/// batch size): right for means such as a top-k accuracy or an error.
///
/// ```
/// use descent::prelude::*;
///
/// let mae = metric_fn("mae", |output, batch| mean_absolute_error(output, batch.values()));
/// # let _ = mae;
/// ```
pub fn metric_fn(
    name: impl Into<String>,
    f: impl Fn(&Tensor, &Batch) -> f64 + Send + 'static,
) -> impl Metric {
    BatchMean {
        name: name.into(),
        f,
        total: 0.0,
        samples: 0,
    }
}

struct BatchMean<F> {
    name: String,
    f: F,
    total: f64,
    samples: usize,
}

impl<F: Fn(&Tensor, &Batch) -> f64 + Send> Metric for BatchMean<F> {
    fn name(&self) -> &str {
        &self.name
    }
    fn reset(&mut self) {
        (self.total, self.samples) = (0.0, 0);
    }
    fn update(&mut self, output: &Tensor, batch: &Batch) {
        self.total += (self.f)(output, batch) * batch.len() as f64;
        self.samples += batch.len();
    }
    fn value(&self) -> f64 {
        self.total / self.samples.max(1) as f64
    }
}
