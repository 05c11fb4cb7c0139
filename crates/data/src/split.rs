//! Seeded train/test splits and one-hot encoding.

use descent_tensor::Tensor;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

/// Row indices of a shuffled split: `train` and `test` partition `0..n`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Split {
    /// Rows for training.
    pub train: Vec<usize>,
    /// Held-out rows.
    pub test: Vec<usize>,
}

/// Shuffles `0..n` with `seed` and holds out `round(n * test_fraction)` rows.
///
/// # Panics
/// If `test_fraction` is not in `[0, 1]`.
pub fn train_test_split(n: usize, test_fraction: f64, seed: u64) -> Split {
    assert!(
        (0.0..=1.0).contains(&test_fraction),
        "train_test_split: test fraction {test_fraction} is not in [0, 1]"
    );
    let mut rows: Vec<usize> = (0..n).collect();
    rows.shuffle(&mut StdRng::seed_from_u64(seed));
    let test_len = (n as f64 * test_fraction).round() as usize;
    let train = rows.split_off(test_len);
    Split { train, test: rows }
}

/// `[labels.len(), classes]` rows with a 1 at each label's column.
///
/// # Panics
/// If a label is not below `classes`.
pub fn one_hot(labels: &[usize], classes: usize) -> Tensor {
    let mut data = vec![0.0; labels.len() * classes];
    for (row, &label) in labels.iter().enumerate() {
        assert!(
            label < classes,
            "one_hot: label {label} of row {row} is out of range for {classes} classes"
        );
        data[row * classes + label] = 1.0;
    }
    Tensor::from_vec(data, [labels.len(), classes])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_partitions_rows_reproducibly() {
        let a = train_test_split(10, 0.2, 3);
        assert_eq!(a, train_test_split(10, 0.2, 3));
        assert_eq!(a.test.len(), 2);
        let mut all: Vec<usize> = a.train.iter().chain(&a.test).copied().collect();
        all.sort();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn one_hot_marks_each_label() {
        assert_eq!(
            one_hot(&[2, 0], 3).to_vec(),
            vec![0.0, 0.0, 1.0, 1.0, 0.0, 0.0]
        );
    }
}
