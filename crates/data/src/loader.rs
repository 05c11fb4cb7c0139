//! Mini-batches: shuffled (seeded) index order, rows gathered per batch.

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use crate::dataset::{Batch, Dataset};
use crate::error::DataError;

/// Serves a [`Dataset`] in mini-batches: [`DataLoader::full_batch`] is batch
/// gradient descent, `batch_size` 1 is stochastic gradient descent, anything
/// in between is mini-batch gradient descent. Like PyTorch's `DataLoader`,
/// it keeps a short last batch unless told to [drop](DataLoader::drop_last)
/// it.
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
#[derive(Debug)]
pub struct DataLoader {
    data: Dataset,
    batch_size: usize,
    drop_last: bool,
    rng: Option<StdRng>,
    order: Vec<usize>,
}

impl DataLoader {
    /// Batches of `batch_size` in data-set order, keeping a short last batch;
    /// a `batch_size` equal to the data set's size gives exactly one batch of
    /// all samples.
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

    /// The whole data set as one batch per epoch: batch gradient descent,
    /// with no leftover batch whatever the data set's size.
    ///
    /// ```
    /// use descent_data::{DataLoader, Dataset};
    /// use descent_tensor::Tensor;
    ///
    /// let data = Dataset::new(Tensor::zeros([5, 2]), Tensor::zeros([5]))?;
    /// let mut loader = DataLoader::full_batch(data);
    /// let sizes: Vec<usize> = loader.epoch().map(|b| b.len()).collect();
    /// assert_eq!(sizes, [5]);
    /// # Ok::<(), descent_data::DataError>(())
    /// ```
    pub fn full_batch(data: Dataset) -> DataLoader {
        let size = data.len();
        DataLoader::new(data, size).expect("a data set has at least one sample")
    }

    /// Reshuffles the order every epoch, reproducibly from `seed`.
    pub fn shuffle(mut self, seed: u64) -> DataLoader {
        self.rng = Some(StdRng::seed_from_u64(seed));
        self
    }

    /// Drops a last batch smaller than `batch_size`, like PyTorch's
    /// `drop_last`; with a `batch_size` above the data set's size, that
    /// leaves no batch at all.
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

    /// The number of samples served per epoch (fewer than the data set's
    /// with `drop_last`).
    pub fn samples_per_epoch(&self) -> usize {
        if self.drop_last {
            self.batches_per_epoch() * self.batch_size
        } else {
            self.data.len()
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
