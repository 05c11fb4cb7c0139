//! Samples paired with their targets: real values for regression, exact
//! class indices for classification.

use descent_tensor::Tensor;

use crate::error::DataError;

/// What the samples of a [`Dataset`] or [`Batch`] are labelled with.
#[derive(Clone, Debug, PartialEq)]
pub enum Targets {
    /// Real values, `[n, ...]`: regression outputs, 0/1 probabilities, ±1
    /// margins.
    Values(Tensor),
    /// One class index per sample, kept as `usize` so that every label is
    /// exact (an `f32` holds integers exactly only below 2^24).
    Classes(Vec<usize>),
}

impl Targets {
    /// The number of samples labelled.
    pub fn len(&self) -> usize {
        match self {
            Targets::Values(values) => values.dims().first().copied().unwrap_or(0),
            Targets::Classes(classes) => classes.len(),
        }
    }

    /// True when no sample is labelled.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The real-valued targets.
    ///
    /// # Panics
    /// If the targets are class indices.
    pub fn values(&self) -> &Tensor {
        match self {
            Targets::Values(values) => values,
            Targets::Classes(_) => panic!(
                "values: these targets are class indices, not real values \
                 (the data set was built with Dataset::classification)"
            ),
        }
    }

    /// The class indices.
    ///
    /// # Panics
    /// If the targets are real values.
    pub fn classes(&self) -> &[usize] {
        match self {
            Targets::Classes(classes) => classes,
            Targets::Values(values) => panic!(
                "classes: these targets are real values of shape {:?}, not class indices \
                 (build the data set with Dataset::classification)",
                values.shape()
            ),
        }
    }

    /// The targets of the samples at `indices`, in that order.
    fn select(&self, indices: &[usize]) -> Targets {
        match self {
            Targets::Values(values) => Targets::Values(values.index_select(0, indices)),
            Targets::Classes(classes) => {
                Targets::Classes(indices.iter().map(|&i| classes[i]).collect())
            }
        }
    }
}

/// A data set of `n` samples: features `[n, ...]` and one target per sample.
///
/// ```
/// use descent_data::Dataset;
/// use descent_tensor::Tensor;
///
/// let features = Tensor::from([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]);
/// let data = Dataset::classification(features, &[2, 0, 1])?;
/// assert_eq!(data.len(), 3);
/// let batch = data.batch(&[2, 0]);
/// assert_eq!(batch.features.to_vec(), [4.0, 5.0, 0.0, 1.0]);
/// assert_eq!(batch.classes(), [1, 2]);
/// # Ok::<(), descent_data::DataError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Dataset {
    features: Tensor,
    targets: Targets,
}

impl Dataset {
    /// Pairs features with real-valued targets, row by row.
    ///
    /// # Errors
    /// [`DataError::Invalid`] if the data set is empty or the row counts differ.
    pub fn new(features: Tensor, targets: Tensor) -> Result<Dataset, DataError> {
        Dataset::with_targets(features, Targets::Values(targets))
    }

    /// A classification data set: one class index per row of `features`.
    ///
    /// # Errors
    /// As [`Dataset::new`].
    pub fn classification(features: Tensor, labels: &[usize]) -> Result<Dataset, DataError> {
        Dataset::with_targets(features, Targets::Classes(labels.to_vec()))
    }

    fn with_targets(features: Tensor, targets: Targets) -> Result<Dataset, DataError> {
        let rows = features.dims().first().copied().unwrap_or(0);
        if rows == 0 {
            return Err(DataError::Invalid(format!(
                "empty data set: features have shape {:?}",
                features.shape()
            )));
        }
        if rows != targets.len() {
            return Err(DataError::Invalid(format!(
                "{rows} feature rows but {} target rows",
                targets.len()
            )));
        }
        Ok(Dataset { features, targets })
    }

    /// The number of samples.
    pub fn len(&self) -> usize {
        self.features.dims()[0]
    }

    /// Always false: empty data sets are rejected on construction.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// All features.
    pub fn features(&self) -> &Tensor {
        &self.features
    }

    /// All targets.
    pub fn targets(&self) -> &Targets {
        &self.targets
    }

    /// The data set of the samples at `indices`, in that order, e.g. one
    /// part of a [`Split`](crate::Split).
    ///
    /// # Panics
    /// If `indices` is empty or an index is out of range.
    pub fn subset(&self, indices: &[usize]) -> Dataset {
        assert!(
            !indices.is_empty(),
            "subset: no indices given for a data set of {} samples",
            self.len()
        );
        let batch = self.batch(indices);
        Dataset {
            features: batch.features,
            targets: batch.targets,
        }
    }

    /// The samples at `indices`, gathered into one batch.
    ///
    /// # Panics
    /// If an index is out of range.
    pub fn batch(&self, indices: &[usize]) -> Batch {
        Batch {
            features: self.features.index_select(0, indices),
            targets: self.targets.select(indices),
        }
    }
}

/// One mini-batch: features and targets of the same samples.
#[derive(Clone, Debug)]
pub struct Batch {
    /// Features, `[batch, ...]`.
    pub features: Tensor,
    /// Targets, one per sample.
    pub targets: Targets,
}

impl Batch {
    /// The number of samples.
    pub fn len(&self) -> usize {
        self.features.dims()[0]
    }

    /// True for a batch without samples (never produced by a loader).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The class indices of a classification batch.
    ///
    /// # Panics
    /// If the batch's targets are real values.
    pub fn classes(&self) -> &[usize] {
        self.targets.classes()
    }

    /// The real-valued targets of a regression batch, `[batch, ...]`.
    ///
    /// # Panics
    /// If the batch's targets are class indices.
    pub fn values(&self) -> &Tensor {
        self.targets.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_labels_stay_exact_integers() {
        // 2^24 + 1 is the first integer an f32 cannot hold.
        let labels = [16_777_217, 3, usize::MAX];
        let data = Dataset::classification(Tensor::zeros([3, 2]), &labels).unwrap();
        assert_eq!(data.targets(), &Targets::Classes(labels.to_vec()));
        assert_eq!(data.batch(&[0, 2]).classes(), [16_777_217, usize::MAX]);
        assert_eq!(data.subset(&[2, 1]).targets().classes(), [usize::MAX, 3]);
    }

    #[test]
    fn regression_targets_stay_a_tensor() {
        let data = Dataset::new(Tensor::zeros([3, 1]), Tensor::from([[0.5], [-1.0], [2.0]]));
        let batch = data.unwrap().batch(&[2, 1]);
        assert_eq!(batch.values(), &Tensor::from([[2.0], [-1.0]]));
    }

    #[test]
    fn mismatched_and_empty_data_sets_are_rejected() {
        let err = Dataset::classification(Tensor::zeros([3, 1]), &[0, 1]).unwrap_err();
        assert_eq!(err.to_string(), "3 feature rows but 2 target rows");
        let err = Dataset::classification(Tensor::zeros([0, 4]), &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "empty data set: features have shape [0, 4]"
        );
    }

    #[test]
    #[should_panic(
        expected = "classes: these targets are real values of shape [3], not class indices"
    )]
    fn classes_of_a_regression_batch_panic() {
        let data = Dataset::new(Tensor::zeros([3, 1]), Tensor::from([0.0, 1.0, 2.0])).unwrap();
        data.batch(&[0, 1, 2]).classes();
    }

    #[test]
    #[should_panic(expected = "values: these targets are class indices, not real values")]
    fn values_of_a_classification_batch_panic() {
        let data = Dataset::classification(Tensor::zeros([2, 1]), &[0, 1]).unwrap();
        data.batch(&[1]).values();
    }
}
