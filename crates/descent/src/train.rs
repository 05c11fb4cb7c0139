//! A Keras-style training loop: `fit` with validation, a learning-rate
//! scheduler, early stopping and best-checkpoint saving; `evaluate` without a
//! tape; the per-epoch history and its plot.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use descent_autograd::{Tape, Var};
use descent_data::{Batch, DataLoader, Dataset};
use descent_io::{Checkpoint, CheckpointError};
use descent_layers::{
    Module, ModuleCheckpoint, Reduction, accuracy, bce_with_logits_loss, binary_accuracy,
    cross_entropy_loss, mse_loss,
};
use descent_optim::{LrScheduler, Optimizer};
use indicatif::{ProgressBar, ProgressStyle};

use crate::plot::{Chart, Series, write_svg};

/// The objective of a [`Trainer`], and with it the accuracy metric reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loss {
    /// Softmax cross-entropy on logits against class indices; reports accuracy.
    CrossEntropy,
    /// Binary cross-entropy on logits against 0/1 targets; reports accuracy.
    BinaryCrossEntropyWithLogits,
    /// Mean squared error; reports no accuracy.
    MeanSquaredError,
}

impl Loss {
    /// The mean loss of a batch's model outputs.
    pub fn compute<'t>(self, output: Var<'t>, batch: &Batch) -> Var<'t> {
        match self {
            Loss::CrossEntropy => cross_entropy_loss(output, batch.classes(), Reduction::Mean),
            Loss::BinaryCrossEntropyWithLogits => bce_with_logits_loss(
                output,
                &batch.values().reshape(output.shape()),
                Reduction::Mean,
            ),
            Loss::MeanSquaredError => mse_loss(
                output,
                &batch.values().reshape(output.shape()),
                Reduction::Mean,
            ),
        }
    }

    /// The fraction of correct predictions, for classification losses.
    pub fn accuracy(self, output: &descent_tensor::Tensor, batch: &Batch) -> Option<f32> {
        match self {
            Loss::CrossEntropy => Some(accuracy(output, batch.classes())),
            Loss::BinaryCrossEntropyWithLogits => Some(binary_accuracy(
                output,
                &batch.values().reshape(output.shape()),
                0.0,
            )),
            Loss::MeanSquaredError => None,
        }
    }
}

/// Loss and accuracy over a whole data set.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Evaluation {
    /// The mean loss per sample.
    pub loss: f64,
    /// The fraction correct, for classification losses.
    pub accuracy: Option<f64>,
}

/// Evaluates `model` on `data` in batches of `batch_size`, in evaluation mode
/// and without recording a tape.
///
/// # Panics
/// If `batch_size` is 0.
pub fn evaluate(model: &dyn Module, data: &Dataset, batch_size: usize, loss: Loss) -> Evaluation {
    assert!(
        batch_size > 0,
        "evaluate: batch size must be at least 1, got 0"
    );
    model.set_training(false);
    let indices: Vec<usize> = (0..data.len()).collect();
    let mut totals = Totals::default();
    for chunk in indices.chunks(batch_size) {
        let batch = data.batch(chunk);
        let tape = Tape::no_grad();
        let output = model.forward(tape.constant(batch.features.clone()));
        let value = loss.compute(output, &batch).item();
        totals.add(value, loss.accuracy(&output.value(), &batch), batch.len());
    }
    model.set_training(true);
    totals.evaluation()
}

#[derive(Default)]
struct Totals {
    loss: f64,
    correct: f64,
    samples: usize,
    has_accuracy: bool,
}

impl Totals {
    fn add(&mut self, mean_loss: f32, accuracy: Option<f32>, samples: usize) {
        self.loss += mean_loss as f64 * samples as f64;
        if let Some(a) = accuracy {
            self.correct += a as f64 * samples as f64;
            self.has_accuracy = true;
        }
        self.samples += samples;
    }

    fn evaluation(&self) -> Evaluation {
        let n = self.samples.max(1) as f64;
        Evaluation {
            loss: self.loss / n,
            accuracy: self.has_accuracy.then(|| self.correct / n),
        }
    }
}

/// What one epoch of [`Trainer::fit`] measured.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochStats {
    /// The epoch, from 1.
    pub epoch: usize,
    /// Training loss and accuracy, averaged over the epoch's batches.
    pub train: Evaluation,
    /// Validation loss and accuracy at the end of the epoch.
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
    /// Writes training and validation loss (and accuracy, when measured) per
    /// epoch as an SVG chart.
    ///
    /// # Errors
    /// A message if the file cannot be written or there is nothing to plot.
    pub fn plot(&self, path: impl AsRef<Path>) -> Result<(), String> {
        let curve = |f: &dyn Fn(&EpochStats) -> Option<f64>| -> Vec<(f64, f64)> {
            self.epochs
                .iter()
                .filter_map(|e| f(e).map(|v| (e.epoch as f64, v)))
                .collect()
        };
        let mut loss = vec![Series {
            name: "train",
            points: curve(&|e| Some(e.train.loss)),
        }];
        let validation_loss = curve(&|e| e.validation.map(|v| v.loss));
        if !validation_loss.is_empty() {
            loss.push(Series {
                name: "validation",
                points: validation_loss,
            });
        }
        let mut charts = vec![Chart {
            title: "loss",
            x_label: "epoch",
            y_label: "loss",
            log_y: false,
            series: loss,
        }];
        let train_accuracy = curve(&|e| e.train.accuracy);
        if !train_accuracy.is_empty() {
            let mut series = vec![Series {
                name: "train",
                points: train_accuracy,
            }];
            let validation = curve(&|e| e.validation.and_then(|v| v.accuracy));
            if !validation.is_empty() {
                series.push(Series {
                    name: "validation",
                    points: validation,
                });
            }
            charts.push(Chart {
                title: "accuracy",
                x_label: "epoch",
                y_label: "accuracy",
                log_y: false,
                series,
            });
        }
        write_svg(path, &charts)
    }
}

/// Why training stopped early with an error.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// The loss became NaN or infinite; the last good checkpoint is kept.
    #[error(
        "loss became {value} at epoch {epoch}, batch {batch}; stopping (the last good checkpoint is kept)"
    )]
    NonFiniteLoss {
        /// The epoch, from 1.
        epoch: usize,
        /// The batch within the epoch, from 1.
        batch: usize,
        /// The loss value.
        value: f32,
    },
    /// Saving the best checkpoint failed.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
}

/// When a scheduler is advanced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Every {
    /// After every optimizer step.
    Step,
    /// After every epoch (with the epoch's validation loss as metric).
    Epoch,
}

/// Trains a model with the loop everyone writes, so you do not have to.
///
/// ```
/// use descent::prelude::*;
/// use descent::train::{Loss, Trainer};
///
/// let mut rng = seeded_rng(0);
/// let x = Tensor::randn([64, 2], &mut rng);
/// let labels: Vec<usize> = x.data().chunks(2).map(|r| (r[0] + r[1] > 0.0) as usize).collect();
/// let data = Dataset::classification(x, &labels)?;
/// let model = Sequential::new().push(Dense::new(2, 2, &mut rng));
/// let mut opt = Optim::new(model.parameters(), Adam::new(0.05)).unwrap();
/// let mut loader = DataLoader::new(data.clone(), 16)?.shuffle(1);
/// let history = Trainer::new(&model, &mut opt, Loss::CrossEntropy)
///     .epochs(20)
///     .quiet()
///     .fit(&mut loader, Some(&data))
///     .unwrap();
/// assert!(history.epochs.last().unwrap().validation.unwrap().accuracy.unwrap() > 0.9);
/// # Ok::<(), descent::data::DataError>(())
/// ```
pub struct Trainer<'a> {
    model: &'a dyn Module,
    optimizer: &'a mut dyn Optimizer,
    loss: Loss,
    epochs: usize,
    scheduler: Option<(&'a mut dyn LrScheduler, Every)>,
    patience: Option<usize>,
    best_checkpoint: Option<PathBuf>,
    quiet: bool,
    detect_anomalies: bool,
}

impl<'a> Trainer<'a> {
    /// A trainer for `model`, updated by `optimizer` to minimize `loss`;
    /// one epoch unless [`Trainer::epochs`] says otherwise.
    pub fn new(model: &'a dyn Module, optimizer: &'a mut dyn Optimizer, loss: Loss) -> Trainer<'a> {
        Trainer {
            model,
            optimizer,
            loss,
            epochs: 1,
            scheduler: None,
            patience: None,
            best_checkpoint: None,
            quiet: false,
            detect_anomalies: false,
        }
    }

    /// The number of epochs.
    pub fn epochs(mut self, epochs: usize) -> Trainer<'a> {
        self.epochs = epochs;
        self
    }

    /// Advances `scheduler` after every step or every epoch.
    pub fn scheduler(mut self, scheduler: &'a mut dyn LrScheduler, every: Every) -> Trainer<'a> {
        self.scheduler = Some((scheduler, every));
        self
    }

    /// Stops when the validation loss (training loss without validation
    /// data) has not improved for `patience` epochs.
    pub fn early_stopping(mut self, patience: usize) -> Trainer<'a> {
        self.patience = Some(patience);
        self
    }

    /// Saves model, optimizer and scheduler to `path` (atomically) whenever
    /// the monitored loss improves.
    pub fn best_checkpoint(mut self, path: impl Into<PathBuf>) -> Trainer<'a> {
        self.best_checkpoint = Some(path.into());
        self
    }

    /// Checks every op for NaN and infinity (see
    /// `descent_autograd::Tape::detect_anomalies`), so a non-finite loss is
    /// reported with the op that caused it. Slower; for debugging.
    pub fn detect_anomalies(mut self) -> Trainer<'a> {
        self.detect_anomalies = true;
        self
    }

    /// No progress bar and no per-epoch lines.
    pub fn quiet(mut self) -> Trainer<'a> {
        self.quiet = true;
        self
    }

    /// Trains on `train`, evaluating on `validation` after each epoch.
    ///
    /// # Errors
    /// [`TrainError::NonFiniteLoss`] when the loss becomes NaN or infinite
    /// (the best checkpoint on disk is the last good one);
    /// [`TrainError::Checkpoint`] when saving fails.
    pub fn fit(
        mut self,
        train: &mut DataLoader,
        validation: Option<&Dataset>,
    ) -> Result<History, TrainError> {
        let mut history = History::default();
        let mut best = f64::INFINITY;
        let mut epochs_without_improvement = 0;
        for epoch in 1..=self.epochs {
            let stats = self.train_epoch(epoch, train, validation)?;
            let monitored = stats.validation.map_or(stats.train.loss, |v| v.loss);
            if let Some((scheduler, Every::Epoch)) = &mut self.scheduler {
                scheduler.advance(self.optimizer, monitored);
            }
            if !self.quiet {
                println!("{}", summary(&stats, self.epochs));
            }
            history.epochs.push(stats);
            if monitored < best {
                best = monitored;
                epochs_without_improvement = 0;
                if let Some(path) = &self.best_checkpoint {
                    self.checkpoint().save(path)?;
                }
            } else {
                epochs_without_improvement += 1;
                if self
                    .patience
                    .is_some_and(|p| epochs_without_improvement >= p)
                {
                    if !self.quiet {
                        println!(
                            "early stopping: no improvement for {epochs_without_improvement} epochs"
                        );
                    }
                    break;
                }
            }
        }
        Ok(history)
    }

    /// The model's parameters with optimizer and scheduler state.
    fn checkpoint(&self) -> Checkpoint {
        let mut checkpoint = Checkpoint::from_module(self.model);
        self.optimizer.save_state(&mut checkpoint, "optimizer.");
        if let Some((scheduler, _)) = &self.scheduler {
            scheduler.save(&mut checkpoint, "scheduler.");
        }
        checkpoint
    }

    fn train_epoch(
        &mut self,
        epoch: usize,
        train: &mut DataLoader,
        validation: Option<&Dataset>,
    ) -> Result<EpochStats, TrainError> {
        let progress = self.progress_bar(epoch, train.batches_per_epoch());
        let started = Instant::now();
        let mut totals = Totals::default();
        let mut tape = Tape::new();
        tape.detect_anomalies(self.detect_anomalies);
        self.model.set_training(true);
        for (index, batch) in train.epoch().enumerate() {
            tape.reset();
            let output = self.model.forward(tape.constant(batch.features.clone()));
            let loss = self.loss.compute(output, &batch);
            let value = loss.item();
            if !value.is_finite() {
                progress.abandon();
                return Err(TrainError::NonFiniteLoss {
                    epoch,
                    batch: index + 1,
                    value,
                });
            }
            loss.backward();
            self.optimizer.step();
            self.optimizer.zero_grad();
            if let Some((scheduler, Every::Step)) = &mut self.scheduler {
                scheduler.advance(self.optimizer, value as f64);
            }
            totals.add(
                value,
                self.loss.accuracy(&output.value(), &batch),
                batch.len(),
            );
            let so_far = totals.evaluation();
            progress.set_message(metrics_text(&so_far));
            progress.inc(1);
        }
        progress.finish_and_clear();
        let seconds = started.elapsed().as_secs_f64();
        Ok(EpochStats {
            epoch,
            train: totals.evaluation(),
            validation: validation
                .map(|v| evaluate(self.model, v, train.batch_size().max(256), self.loss)),
            lr: self.optimizer.lr(0),
            samples_per_second: totals.samples as f64 / seconds.max(1e-9),
        })
    }

    fn progress_bar(&self, epoch: usize, batches: usize) -> ProgressBar {
        if self.quiet || !std::io::stderr().is_terminal() {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::new(batches as u64);
        let style =
            ProgressStyle::with_template("epoch {prefix} [{bar:30}] {pos}/{len} {msg} ({per_sec})")
                .expect("the template is valid")
                .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(format!("{epoch}/{}", self.epochs));
        bar
    }
}

fn metrics_text(e: &Evaluation) -> String {
    match e.accuracy {
        Some(a) => format!("loss {:.4} acc {:.2}%", e.loss, a * 100.0),
        None => format!("loss {:.4}", e.loss),
    }
}

fn summary(stats: &EpochStats, epochs: usize) -> String {
    let mut line = format!(
        "epoch {}/{epochs}  train {}",
        stats.epoch,
        metrics_text(&stats.train)
    );
    if let Some(v) = &stats.validation {
        line.push_str(&format!("  val {}", metrics_text(v)));
    }
    line.push_str(&format!(
        "  lr {:.3e}  {:.0} samples/s",
        stats.lr, stats.samples_per_second
    ));
    line
}
