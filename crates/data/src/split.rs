//! Seeded train/test splits and k-fold cross-validation, plain or stratified
//! by class, and one-hot encoding.

use std::collections::BTreeMap;

use descent_tensor::Tensor;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

/// Row indices of a split: `train` and `test` partition `0..n`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Split {
    /// Rows for training.
    pub train: Vec<usize>,
    /// Held-out rows.
    pub test: Vec<usize>,
}

/// Shuffles `0..n` with `seed` and holds out `round(n * test_fraction)` rows
/// (like scikit-learn's `train_test_split` without `stratify`).
///
/// ```
/// use descent_data::{Dataset, train_test_split};
/// use descent_tensor::Tensor;
///
/// let data = Dataset::new(Tensor::zeros([10, 3]), Tensor::zeros([10]))?;
/// let split = train_test_split(data.len(), 0.2, 42);
/// assert_eq!((split.train.len(), split.test.len()), (8, 2));
/// let (train, test) = (data.subset(&split.train), data.subset(&split.test));
/// assert_eq!((train.len(), test.len()), (8, 2));
/// # Ok::<(), descent_data::DataError>(())
/// ```
///
/// # Panics
/// If `test_fraction` is not in `[0, 1]`.
pub fn train_test_split(n: usize, test_fraction: f64, seed: u64) -> Split {
    check_fraction("train_test_split", test_fraction);
    let mut rows: Vec<usize> = (0..n).collect();
    rows.shuffle(&mut StdRng::seed_from_u64(seed));
    let test_len = held_out(n, test_fraction);
    let train = rows.split_off(test_len);
    Split { train, test: rows }
}

/// A train/test split of the rows of `labels` that keeps each class's
/// proportion in both parts: of a class's `count` rows, `round(count *
/// test_fraction)` are held out (like scikit-learn's `train_test_split` with
/// `stratify`). Both parts are shuffled, reproducibly from `seed`.
///
/// ```
/// use descent_data::train_test_split_stratified;
///
/// let labels = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1];
/// let split = train_test_split_stratified(&labels, 0.5, 7);
/// let test_ones = split.test.iter().filter(|&&row| labels[row] == 1).count();
/// assert_eq!((split.test.len(), test_ones), (5, 1));
/// ```
///
/// # Panics
/// If `test_fraction` is not in `[0, 1]`.
pub fn train_test_split_stratified(labels: &[usize], test_fraction: f64, seed: u64) -> Split {
    check_fraction("train_test_split_stratified", test_fraction);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut split = Split {
        train: Vec::new(),
        test: Vec::new(),
    };
    for mut rows in rows_by_class(labels) {
        rows.shuffle(&mut rng);
        let train = rows.split_off(held_out(rows.len(), test_fraction));
        split.test.extend(rows);
        split.train.extend(train);
    }
    split.train.shuffle(&mut rng);
    split.test.shuffle(&mut rng);
    split
}

/// k-fold cross-validation: shuffles `0..n` with `seed` and cuts it into `k`
/// folds whose sizes differ by at most one (the first `n % k` are the
/// larger). Split `i` tests on fold `i` and trains on the others, so the
/// test parts partition `0..n` (like scikit-learn's `KFold` with
/// `shuffle=True`).
///
/// ```
/// use descent_data::k_fold;
///
/// let splits = k_fold(10, 3, 0);
/// let sizes: Vec<(usize, usize)> = splits.iter().map(|s| (s.train.len(), s.test.len())).collect();
/// assert_eq!(sizes, [(6, 4), (7, 3), (7, 3)]);
/// let mut tested: Vec<usize> = splits.iter().flat_map(|s| s.test.clone()).collect();
/// tested.sort();
/// assert_eq!(tested, (0..10).collect::<Vec<_>>());
/// ```
///
/// # Panics
/// If `k` is below 2 or above `n`.
pub fn k_fold(n: usize, k: usize, seed: u64) -> Vec<Split> {
    check_folds("k_fold", n, k);
    let mut rows: Vec<usize> = (0..n).collect();
    rows.shuffle(&mut StdRng::seed_from_u64(seed));
    let mut rest = &rows[..];
    let folds = (0..k)
        .map(|fold| {
            let (this, others) = rest.split_at(n / k + usize::from(fold < n % k));
            rest = others;
            this.to_vec()
        })
        .collect();
    splits_from_folds(folds)
}

/// Stratified k-fold cross-validation of the rows of `labels`: like
/// [`k_fold`], and each class's rows are spread over the folds as evenly as
/// possible (its counts in any two folds differ by at most one), as in
/// scikit-learn's `StratifiedKFold` with `shuffle=True`.
///
/// ```
/// use descent_data::k_fold_stratified;
///
/// let labels = [0, 0, 0, 0, 0, 0, 1, 1, 1];
/// for split in k_fold_stratified(&labels, 3, 0) {
///     let ones = split.test.iter().filter(|&&row| labels[row] == 1).count();
///     assert_eq!((split.test.len(), ones), (3, 1));
/// }
/// ```
///
/// # Panics
/// If `k` is below 2 or above `labels.len()`.
pub fn k_fold_stratified(labels: &[usize], k: usize, seed: u64) -> Vec<Split> {
    check_folds("k_fold_stratified", labels.len(), k);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut folds = vec![Vec::new(); k];
    // Dealing the rows class after class, round-robin, evens out both the
    // fold sizes and each class's share of every fold.
    let dealt = rows_by_class(labels).into_iter().flat_map(|mut rows| {
        rows.shuffle(&mut rng);
        rows
    });
    for (position, row) in dealt.enumerate() {
        folds[position % k].push(row);
    }
    for fold in &mut folds {
        fold.shuffle(&mut rng);
    }
    splits_from_folds(folds)
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

fn check_fraction(op: &str, test_fraction: f64) {
    assert!(
        (0.0..=1.0).contains(&test_fraction),
        "{op}: test fraction {test_fraction} is not in [0, 1]"
    );
}

fn check_folds(op: &str, n: usize, k: usize) {
    assert!(
        (2..=n).contains(&k),
        "{op}: k = {k} folds of {n} samples; need 2 <= k <= {n}"
    );
}

/// How many of `count` rows a test fraction holds out.
fn held_out(count: usize, test_fraction: f64) -> usize {
    (count as f64 * test_fraction).round() as usize
}

/// The rows of each class, in increasing order of class and row.
fn rows_by_class(labels: &[usize]) -> Vec<Vec<usize>> {
    let mut classes: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (row, &label) in labels.iter().enumerate() {
        classes.entry(label).or_default().push(row);
    }
    classes.into_values().collect()
}

/// Split `i` tests on fold `i` and trains on all the others.
fn splits_from_folds(folds: Vec<Vec<usize>>) -> Vec<Split> {
    (0..folds.len())
        .map(|i| Split {
            train: folds
                .iter()
                .enumerate()
                .filter(|&(j, _)| j != i)
                .flat_map(|(_, fold)| fold.iter().copied())
                .collect(),
            test: folds[i].clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(rows: impl IntoIterator<Item = usize>) -> Vec<usize> {
        let mut rows: Vec<usize> = rows.into_iter().collect();
        rows.sort();
        rows
    }

    fn count(rows: &[usize], labels: &[usize], class: usize) -> usize {
        rows.iter().filter(|&&row| labels[row] == class).count()
    }

    /// 50 rows of class 7, 30 of class 2 and 20 of class 9, interleaved.
    fn labels() -> Vec<usize> {
        (0..100)
            .map(|i| match i % 10 {
                0..5 => 7,
                5..8 => 2,
                _ => 9,
            })
            .collect()
    }

    #[test]
    fn split_partitions_rows_reproducibly() {
        let a = train_test_split(10, 0.2, 3);
        assert_eq!(a, train_test_split(10, 0.2, 3));
        assert_eq!(a.test.len(), 2);
        assert_eq!(
            sorted(a.train.iter().chain(&a.test).copied()),
            sorted(0..10)
        );
    }

    #[test]
    fn stratified_split_keeps_each_class_proportion_to_rounding() {
        let labels = labels();
        let split = train_test_split_stratified(&labels, 0.25, 1);
        // round(50 / 4) = 13 (half away from zero), round(30 / 4) = 8, 20 / 4 = 5.
        for (class, total, test) in [(7, 50, 13), (2, 30, 8), (9, 20, 5)] {
            assert_eq!(count(&split.test, &labels, class), test, "class {class}");
            assert_eq!(
                count(&split.train, &labels, class),
                total - test,
                "class {class}"
            );
        }
        assert_eq!(
            sorted(split.train.iter().chain(&split.test).copied()),
            sorted(0..100)
        );
        assert_eq!(split, train_test_split_stratified(&labels, 0.25, 1));
        assert_ne!(split, train_test_split_stratified(&labels, 0.25, 2));
        assert_ne!(
            split.test,
            sorted(split.test.clone()),
            "the held-out rows are shuffled, not grouped by class"
        );
    }

    #[test]
    fn k_fold_test_parts_partition_the_rows() {
        let splits = k_fold(10, 3, 4);
        assert_eq!(splits, k_fold(10, 3, 4));
        assert_ne!(splits, k_fold(10, 3, 5));
        let sizes: Vec<usize> = splits.iter().map(|s| s.test.len()).collect();
        assert_eq!(sizes, [4, 3, 3]);
        assert_eq!(
            sorted(splits.iter().flat_map(|s| s.test.clone())),
            sorted(0..10)
        );
        for split in &splits {
            assert_eq!(
                sorted(split.train.iter().chain(&split.test).copied()),
                sorted(0..10)
            );
        }
    }

    #[test]
    fn stratified_k_fold_spreads_each_class_evenly() {
        let labels = labels();
        let splits = k_fold_stratified(&labels, 3, 8);
        assert_eq!(splits, k_fold_stratified(&labels, 3, 8));
        assert_ne!(splits, k_fold_stratified(&labels, 3, 9));
        assert_eq!(
            sorted(splits.iter().flat_map(|s| s.test.clone())),
            sorted(0..100)
        );
        let sizes: Vec<usize> = splits.iter().map(|s| s.test.len()).collect();
        assert_eq!(sizes, [34, 33, 33]);
        for (class, total) in [(7, 50), (2, 30), (9, 20)] {
            let per_fold: Vec<usize> = splits
                .iter()
                .map(|s| count(&s.test, &labels, class))
                .collect();
            assert!(
                per_fold
                    .iter()
                    .all(|&c| c == total / 3 || c == total / 3 + 1),
                "class {class}: {per_fold:?}"
            );
            assert_eq!(per_fold.iter().sum::<usize>(), total);
        }
        for split in &splits {
            assert_eq!(
                sorted(split.train.iter().chain(&split.test).copied()),
                sorted(0..100)
            );
        }
    }

    #[test]
    #[should_panic(expected = "k_fold: k = 4 folds of 3 samples; need 2 <= k <= 3")]
    fn more_folds_than_samples_panic() {
        k_fold(3, 4, 0);
    }

    #[test]
    #[should_panic(expected = "k_fold_stratified: k = 1 folds of 3 samples; need 2 <= k <= 3")]
    fn a_single_fold_panics() {
        k_fold_stratified(&[0, 1, 0], 1, 0);
    }

    #[test]
    fn one_hot_marks_each_label() {
        assert_eq!(
            one_hot(&[2, 0], 3).to_vec(),
            vec![0.0, 0.0, 1.0, 1.0, 0.0, 0.0]
        );
    }
}
