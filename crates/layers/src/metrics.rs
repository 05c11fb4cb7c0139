//! Accuracy metrics on plain tensors (no tape needed).

use descent_tensor::Tensor;

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
    let predicted = scores.argmax_axis(1, false);
    let correct = predicted
        .data()
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
