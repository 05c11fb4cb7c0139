//! Metrics on plain tensors (no tape needed): accuracy, the confusion
//! matrix with per-class precision, recall and F1, and regression scores,
//! with scikit-learn's definitions.

mod confusion;
mod regression;

pub use confusion::ConfusionMatrix;
pub use regression::{mean_absolute_error, mean_squared_error, r2_score};

use descent_tensor::Tensor;

/// The class with the largest score in each row of `[batch, classes]`
/// scores (the first one on ties, as PyTorch's `argmax`).
///
/// # Panics
/// If the scores are not 2-D.
pub fn predicted_classes(scores: &Tensor) -> Vec<usize> {
    assert_eq!(
        scores.rank(),
        2,
        "predicted_classes: scores must be [batch, classes], got {:?}",
        scores.shape()
    );
    scores.argmax_axis(1, false).to_vec()
}

/// The fraction of rows of `[batch, classes]` scores whose largest entry is
/// at the target class.
///
/// # Panics
/// If the scores are not 2-D or the number of targets differs from the rows.
pub fn accuracy(scores: &Tensor, targets: &[usize]) -> f32 {
    assert_eq!(
        scores.rank(),
        2,
        "accuracy: scores must be [batch, classes], got {:?}",
        scores.shape()
    );
    assert_eq!(
        scores.dims()[0],
        targets.len(),
        "accuracy: {} targets for scores of shape {:?}",
        targets.len(),
        scores.shape()
    );
    let correct = predicted_classes(scores)
        .iter()
        .zip(targets)
        .filter(|&(p, t)| p == t)
        .count();
    correct as f32 / targets.len().max(1) as f32
}

/// The fraction of scores on the same side of `threshold` as their 0/1
/// target: use threshold 0 for logits, 0.5 for probabilities.
///
/// # Panics
/// If the shapes differ.
pub fn binary_accuracy(scores: &Tensor, targets: &Tensor, threshold: f32) -> f32 {
    assert_eq!(
        scores.shape(),
        targets.shape(),
        "binary_accuracy: scores have shape {:?}, targets have shape {:?}",
        scores.shape(),
        targets.shape()
    );
    let correct = scores
        .data()
        .iter()
        .zip(targets.data())
        .filter(|&(&s, &t)| (s > threshold) == (t > 0.5))
        .count();
    correct as f32 / targets.numel().max(1) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accuracy_counts_argmax_hits() {
        let scores = Tensor::from([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]]);
        assert_eq!(accuracy(&scores, &[1, 0, 0]), 2.0 / 3.0);
        let logits = Tensor::from([[2.0], [-1.0], [0.5], [-3.0]]);
        let targets = Tensor::from([[1.0], [0.0], [0.0], [0.0]]);
        assert_eq!(binary_accuracy(&logits, &targets, 0.0), 0.75);
    }
}
