//! Mini-batches: shuffled (seeded) index order, rows gathered per batch.

use descent_tensor::Tensor;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use crate::error::DataError;

/// A data set of `n` samples: features `[n, ...]` and targets `[n, ...]`
/// (class indices are stored as `f32` values in a `[n]` tensor).
#[derive(Clone, Debug)]
pub struct Dataset {
    features: Tensor,
    targets: Tensor,
}

impl Dataset {
    /// Pairs features with targets, row by row.
    ///
    /// # Errors
    /// [`DataError::Invalid`] if the data set is empty or the row counts differ.
    pub fn new(features: Tensor, targets: Tensor) -> Result<Dataset, DataError> {
        let rows = |t: &Tensor| t.dims().first().copied().unwrap_or(0);
        if rows(&features) == 0 {
            return Err(DataError::Invalid(format!(
                "empty data set: features have shape {:?}",
                features.shape()
            )));
        }
        if rows(&features) != rows(&targets) {
            return Err(DataError::Invalid(format!(
                "{} feature rows but {} target rows",
                rows(&features),
                rows(&targets)
            )));
        }
        Ok(Dataset { features, targets })
    }

    /// A classification data set with class indices as targets.
    ///
    /// # Errors
    /// As [`Dataset::new`].
    pub fn classification(features: Tensor, labels: &[usize]) -> Result<Dataset, DataError> {
        let targets = Tensor::from_vec(labels.iter().map(|&l| l as f32).collect(), [labels.len()]);
        Dataset::new(features, targets)
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
    pub fn targets(&self) -> &Tensor {
        &self.targets
    }

    /// The samples at `indices`, gathered into one batch.
    pub fn batch(&self, indices: &[usize]) -> Batch {
        Batch {
            features: self.features.index_select(indices),
            targets: self.targets.index_select(indices),
        }
    }
}

/// One mini-batch.
#[derive(Clone, Debug)]
pub struct Batch {
    /// Features, `[batch, ...]`.
    pub features: Tensor,
    /// Targets, `[batch, ...]`.
    pub targets: Tensor,
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

    /// The targets as class indices.
    ///
    /// # Panics
    /// If a target is negative, fractional or not finite; the message names
    /// the value and its row.
    pub fn classes(&self) -> Vec<usize> {
        self.targets
            .data()
            .iter()
            .enumerate()
            .map(|(row, &t)| {
                assert!(
                    t >= 0.0 && t.fract() == 0.0,
                    "class label {t} in row {row} of the batch is not a non-negative integer"
                );
                t as usize
            })
            .collect()
    }
}

/// Serves a [`Dataset`] in mini-batches. `batch_size` = data-set size is
/// batch gradient descent, 1 is stochastic gradient descent, anything in
/// between is mini-batch gradient descent.
///
/// ```
/// use descent_data::{DataLoader, Dataset};
/// use descent_tensor::Tensor;
///
/// let data = Dataset::new(Tensor::arange(0.0, 10.0, 1.0).reshape([10, 1]), Tensor::zeros([10]))?;
/// let mut loader = DataLoader::new(data, 4)?.shuffle(7).drop_last(false);
/// let sizes: Vec<usize> = loader.epoch().map(|b| b.len()).collect();
/// assert_eq!(sizes, [4, 4, 2]);
/// # Ok::<(), descent_data::DataError>(())
/// ```
pub struct DataLoader {
    data: Dataset,
    batch_size: usize,
    drop_last: bool,
    rng: Option<StdRng>,
    order: Vec<usize>,
}

impl DataLoader {
    /// Batches of `batch_size` in data-set order, keeping a short last batch.
    ///
    /// # Errors
    /// [`DataError::Invalid`] if `batch_size` is 0.
    pub fn new(data: Dataset, batch_size: usize) -> Result<DataLoader, DataError> {
        if batch_size == 0 {
            return Err(DataError::Invalid(
                "batch size must be at least 1, got 0".into(),
            ));
        }
        let order = (0..data.len()).collect();
        Ok(DataLoader {
            data,
            batch_size,
            drop_last: false,
            rng: None,
            order,
        })
    }

    /// Reshuffles the order every epoch, reproducibly from `seed`.
    pub fn shuffle(mut self, seed: u64) -> DataLoader {
        self.rng = Some(StdRng::seed_from_u64(seed));
        self
    }

    /// Drops a last batch smaller than `batch_size`.
    pub fn drop_last(mut self, drop_last: bool) -> DataLoader {
        self.drop_last = drop_last;
        self
    }

    /// The data set.
    pub fn dataset(&self) -> &Dataset {
        &self.data
    }

    /// The batch size.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// The number of batches per epoch.
    pub fn batches_per_epoch(&self) -> usize {
        if self.drop_last {
            self.data.len() / self.batch_size
        } else {
            self.data.len().div_ceil(self.batch_size)
        }
    }

    /// The batches of one epoch; with shuffling, each call draws a new order.
    pub fn epoch(&mut self) -> impl Iterator<Item = Batch> + '_ {
        if let Some(rng) = &mut self.rng {
            self.order.shuffle(rng);
        }
        let batches = self.batches_per_epoch();
        let (data, order, size) = (&self.data, &self.order, self.batch_size);
        (0..batches).map(move |b| data.batch(&order[b * size..((b + 1) * size).min(order.len())]))
    }
}
