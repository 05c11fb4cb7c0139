//! Evaluation and prediction: forward passes on an evaluation tape, which
//! records nothing and runs every layer in evaluation mode without touching
//! the model's own flag, so they are safe to call from several threads at
//! once on one shared model.

use descent_autograd::Tape;
use descent_data::Dataset;
use descent_layers::{Module, predicted_classes};
use descent_tensor::Tensor;

use crate::train::loss::Loss;
use crate::train::metric::Metric;

/// Loss and metrics over a data set (or an epoch's batches).
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// The mean loss per sample.
    pub loss: f64,
    /// Each metric's name and value, in the order they were given.
    pub metrics: Vec<(String, f64)>,
}

impl Evaluation {
    /// The value of the metric called `name`.
    pub fn metric(&self, name: &str) -> Option<f64> {
        self.metrics
            .iter()
            .find(|(n, _)| n == name)
            .map(|&(_, v)| v)
    }

    /// The accuracy, when measured (the classification losses measure it).
    pub fn accuracy(&self) -> Option<f64> {
        self.metric("acc")
    }
}

/// A running mean of per-batch mean losses, weighted by batch size.
#[derive(Default)]
pub(crate) struct MeanLoss {
    total: f64,
    samples: usize,
}

impl MeanLoss {
    pub(crate) fn add(&mut self, batch_mean: f32, samples: usize) {
        self.total += batch_mean as f64 * samples as f64;
        self.samples += samples;
    }

    pub(crate) fn samples(&self) -> usize {
        self.samples
    }

    /// The loss and the metrics' values.
    pub(crate) fn evaluation(&self, metrics: &[Box<dyn Metric>]) -> Evaluation {
        Evaluation {
            loss: self.total / self.samples.max(1) as f64,
            metrics: metrics
                .iter()
                .map(|m| (m.name().to_string(), m.value()))
                .collect(),
        }
    }
}

/// Evaluates `model` on `data` in batches of `batch_size` with the loss's
/// default metrics (accuracy for the classification losses).
///
/// ```
/// use descent::prelude::*;
///
/// let data = Dataset::classification(Tensor::from([[1.0, 0.0], [0.0, 1.0]]), &[0, 1])?;
/// let model = Dense::new(2, 2, &mut seeded_rng(0));
/// let result = evaluate(&model, &data, 32, Loss::CrossEntropy);
/// assert!(result.loss.is_finite() && result.accuracy().is_some());
/// # Ok::<(), DataError>(())
/// ```
///
/// # Panics
/// If `batch_size` is 0.
pub fn evaluate(model: &dyn Module, data: &Dataset, batch_size: usize, loss: Loss) -> Evaluation {
    evaluate_with(model, data, batch_size, &loss, &mut loss.default_metrics())
}

/// [`evaluate`] with the given metrics, which are reset first.
pub(crate) fn evaluate_with(
    model: &dyn Module,
    data: &Dataset,
    batch_size: usize,
    loss: &Loss,
    metrics: &mut [Box<dyn Metric>],
) -> Evaluation {
    assert!(
        batch_size > 0,
        "evaluate: batch size must be at least 1, got 0"
    );
    metrics.iter_mut().for_each(|m| m.reset());
    let indices: Vec<usize> = (0..data.len()).collect();
    let mut mean = MeanLoss::default();
    for chunk in indices.chunks(batch_size) {
        let batch = data.batch(chunk);
        let tape = Tape::eval();
        let output = model.forward(tape.constant(batch.features.clone()));
        mean.add(loss.compute(output, &batch).item(), batch.len());
        let output = output.value();
        metrics.iter_mut().for_each(|m| m.update(&output, &batch));
    }
    mean.evaluation(metrics)
}

/// The model's outputs for `inputs` (`[n, ...]`), computed in batches of
/// `batch_size` rows on evaluation tapes: no gradients, dropout off, batch
/// norm on its running statistics. PyTorch's `model.eval()` +
/// `torch.inference_mode()` + a loop, in one call.
///
/// ```
/// use descent::prelude::*;
///
/// let model = Dense::new(3, 2, &mut seeded_rng(0));
/// let outputs = predict(&model, &Tensor::zeros([10, 3]), 4);
/// assert_eq!(outputs.dims(), &[10, 2]);
/// ```
///
/// # Panics
/// If `batch_size` is 0 or `inputs` has no batch axis.
pub fn predict(model: &dyn Module, inputs: &Tensor, batch_size: usize) -> Tensor {
    assert!(
        batch_size > 0,
        "predict: batch size must be at least 1, got 0"
    );
    assert!(
        inputs.rank() >= 1,
        "predict: inputs must have a batch axis, got shape {:?}",
        inputs.shape()
    );
    let forward = |batch: Tensor| model.forward(Tape::eval().constant(batch)).value();
    let rows = inputs.dims()[0];
    if rows <= batch_size {
        return forward(inputs.clone());
    }
    let outputs: Vec<Tensor> = (0..rows)
        .step_by(batch_size)
        .map(|start| forward(inputs.narrow(0, start, batch_size.min(rows - start))))
        .collect();
    Tensor::concat(&outputs.iter().collect::<Vec<_>>(), 0)
}

/// The class with the largest output for each row of `inputs`: [`predict`]
/// then an argmax per row.
///
/// # Panics
/// As [`predict`], and if the model's outputs are not `[n, classes]`.
pub fn predict_classes(model: &dyn Module, inputs: &Tensor, batch_size: usize) -> Vec<usize> {
    predicted_classes(&predict(model, inputs, batch_size))
}
