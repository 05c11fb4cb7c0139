//! A Keras-style training loop: [`Trainer::fit`] with any loss and metrics,
//! validation, a learning-rate scheduler, early stopping and
//! best-checkpoint saving; [`evaluate`], [`predict`] and [`predict_classes`]
//! on evaluation tapes; the per-epoch [`History`] and its plot.

mod error;
mod evaluate;
mod history;
mod loss;
mod metric;
mod progress;

pub use error::TrainError;
pub use evaluate::{Evaluation, evaluate, predict, predict_classes};
pub use history::{EpochStats, History};
pub use loss::Loss;
pub use metric::{Accuracy, BinaryAccuracy, MacroF1, Metric, RSquared, metric_fn};

use std::path::PathBuf;
use std::time::Instant;

use descent_autograd::Tape;
use descent_data::{DataLoader, Dataset};
use descent_io::Checkpoint;
use descent_layers::{Module, ModuleCheckpoint};
use descent_optim::{LrScheduler, Optimizer};
use descent_tensor::parallel::on_pool;

use crate::train::evaluate::{MeanLoss, evaluate_with};
use crate::train::progress::Progress;

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
///
/// let mut rng = seeded_rng(0);
/// let x = Tensor::randn([64, 2], &mut rng);
/// let labels: Vec<usize> = x.data().chunks(2).map(|r| (r[0] + r[1] > 0.0) as usize).collect();
/// let data = Dataset::classification(x, &labels)?;
/// let model = Sequential::new().push(Dense::new(2, 2, &mut rng));
/// let mut opt = Optim::new(model.parameters(), Adam::new(0.05));
/// let mut loader = DataLoader::new(data.clone(), 16)?.shuffle(1);
/// let history = Trainer::new(&model, &mut opt, Loss::CrossEntropy)
///     .metric(MacroF1::new(2))
///     .epochs(20)
///     .quiet()
///     .fit(&mut loader, Some(&data))
///     .unwrap();
/// let last = history.last().unwrap().validation.as_ref().unwrap();
/// assert!(last.accuracy().unwrap() > 0.9 && last.metric("f1").unwrap() > 0.9);
/// # Ok::<(), DataError>(())
/// ```
pub struct Trainer<'a> {
    model: &'a dyn Module,
    optimizer: &'a mut dyn Optimizer,
    loss: Loss,
    metrics: Vec<Box<dyn Metric>>,
    epochs: usize,
    scheduler: Option<(&'a mut dyn LrScheduler, Every)>,
    patience: Option<usize>,
    best_checkpoint: Option<PathBuf>,
    quiet: bool,
    detect_anomalies: bool,
}

impl<'a> Trainer<'a> {
    /// A trainer for `model`, updated by `optimizer` to minimize `loss`
    /// (a built-in one, or [`Loss::custom`]), reporting the loss's default
    /// metrics; one epoch unless [`Trainer::epochs`] says otherwise.
    pub fn new(model: &'a dyn Module, optimizer: &'a mut dyn Optimizer, loss: Loss) -> Trainer<'a> {
        Trainer {
            model,
            optimizer,
            metrics: loss.default_metrics(),
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

    /// Also reports `metric` on the training batches and the validation data.
    pub fn metric(mut self, metric: impl Metric + 'static) -> Trainer<'a> {
        self.metrics.push(Box::new(metric));
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

    /// Checks every value for NaN and infinity (see
    /// `descent_autograd::Tape::detect_anomalies`), so a non-finite loss or
    /// gradient is reported with the first op (or data) that produced it.
    /// Slower; for debugging.
    pub fn detect_anomalies(mut self) -> Trainer<'a> {
        self.detect_anomalies = true;
        self
    }

    /// No progress bar and no per-epoch lines.
    pub fn quiet(mut self) -> Trainer<'a> {
        self.quiet = true;
        self
    }

    /// Trains on `train`, evaluating on `validation` after each epoch. The
    /// model runs in training mode and gets its previous mode back at the end.
    ///
    /// # Errors
    /// [`TrainError::NoBatches`] before anything is trained when the loader
    /// gives no batch; [`TrainError::NonFiniteLoss`],
    /// [`TrainError::NonFiniteGradient`] or [`TrainError::NonFiniteValidation`]
    /// when a value becomes NaN or infinite (the best checkpoint on disk is
    /// the last good one); [`TrainError::Checkpoint`] when saving fails.
    pub fn fit(
        mut self,
        train: &mut DataLoader,
        validation: Option<&Dataset>,
    ) -> Result<History, TrainError> {
        if train.batches_per_epoch() == 0 {
            return Err(TrainError::NoBatches {
                samples: train.dataset().len(),
                batch_size: train.batch_size(),
            });
        }
        let was_training = self.model.is_training();
        let result = on_pool(|| self.run(train, validation));
        self.model.set_training(was_training);
        result
    }

    fn run(
        &mut self,
        train: &mut DataLoader,
        validation: Option<&Dataset>,
    ) -> Result<History, TrainError> {
        let mut history = History::default();
        let mut best = f64::INFINITY;
        let mut epochs_without_improvement = 0;
        for epoch in 1..=self.epochs {
            let stats = self.train_epoch(epoch, train, validation)?;
            let monitored = stats
                .validation
                .as_ref()
                .map_or(stats.train.loss, |v| v.loss);
            if let Some((scheduler, Every::Epoch)) = &mut self.scheduler {
                scheduler.advance(self.optimizer, monitored);
            }
            if !self.quiet {
                println!("{}", progress::summary(&stats, self.epochs));
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
        let progress = Progress::new(!self.quiet, epoch, self.epochs, train.samples_per_epoch());
        let started = Instant::now();
        let mut mean = MeanLoss::default();
        self.metrics.iter_mut().for_each(|m| m.reset());
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
                    first_non_finite: tape.anomaly(),
                });
            }
            loss.backward();
            if self.detect_anomalies
                && let Some(anomaly) = tape.anomaly()
                && self.has_non_finite_gradient()
            {
                progress.abandon();
                return Err(TrainError::NonFiniteGradient {
                    epoch,
                    batch: index + 1,
                    first_non_finite: anomaly,
                });
            }
            self.optimizer.step();
            self.optimizer.zero_grad();
            if let Some((scheduler, Every::Step)) = &mut self.scheduler {
                scheduler.advance(self.optimizer, value as f64);
            }
            mean.add(value, batch.len());
            let output = output.value();
            self.metrics
                .iter_mut()
                .for_each(|m| m.update(&output, &batch));
            progress.advance(batch.len(), &mean.evaluation(&self.metrics));
        }
        progress.finish();
        let seconds = started.elapsed().as_secs_f64();
        let train_result = mean.evaluation(&self.metrics);
        let validation = validation.map(|data| {
            // At least 64 rows, so that per-batch costs stay small next to
            // the work; not many more, because an evaluation tape holds
            // every layer's output until it drops: at 256 images the CNN
            // flagship's validation peaked 28 MB above its training.
            let batch_size = train.batch_size().max(64);
            evaluate_with(self.model, data, batch_size, &self.loss, &mut self.metrics)
        });
        if let Some(v) = &validation
            && !v.loss.is_finite()
        {
            return Err(TrainError::NonFiniteValidation {
                epoch,
                value: v.loss,
            });
        }
        Ok(EpochStats {
            epoch,
            train: train_result,
            validation,
            lr: self.optimizer.lr(0),
            samples_per_second: mean.samples() as f64 / seconds.max(1e-9),
        })
    }

    fn has_non_finite_gradient(&self) -> bool {
        self.model
            .parameters()
            .iter()
            .any(|p| p.grad_ref().as_ref().is_some_and(|g| !g.is_finite()))
    }
}

impl std::fmt::Debug for Trainer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let metrics: Vec<&str> = self.metrics.iter().map(|m| m.name()).collect();
        f.debug_struct("Trainer")
            .field("model", &self.model.describe())
            .field("loss", &self.loss)
            .field("metrics", &metrics)
            .field("epochs", &self.epochs)
            .field(
                "scheduler",
                &self.scheduler.as_ref().map(|(_, every)| every),
            )
            .field("patience", &self.patience)
            .field("best_checkpoint", &self.best_checkpoint)
            .field("detect_anomalies", &self.detect_anomalies)
            .finish_non_exhaustive()
    }
}
