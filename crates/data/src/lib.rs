//! `descent-data`: reading and preparing data for the `descent` framework.
//!
//! - Readers: [`Table`] for numeric CSV files, [`Mnist`] and [`read_idx`] for
//!   IDX files. Truncated, corrupt or hostile files give a [`DataError`]
//!   saying what is wrong and where.
//! - Preparation: [`Standardizer`] and [`MinMaxScaler`], fitted on training
//!   rows only; [`train_test_split`], [`k_fold`] and their stratified
//!   variants; [`one_hot`].
//! - Training input: a [`Dataset`] of features and [`Targets`] (real values,
//!   or exact class indices), served in [`Batch`]es by a [`DataLoader`].
//!
//! ```
//! use descent_data::{DataLoader, Dataset, Standardizer, Table, train_test_split_stratified};
//!
//! let iris = Table::read_csv(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/tabular/iris.csv"))?;
//! let (features, species) = iris.features_and_target("species")?;
//! let labels: Vec<usize> = species.data().iter().map(|&s| s as usize).collect();
//! let split = train_test_split_stratified(&labels, 0.2, 42);
//! let scaler = Standardizer::fit(&features.index_select(0, &split.train));
//! let data = Dataset::classification(scaler.transform(&features), &labels)?;
//! let (train, test) = (data.subset(&split.train), data.subset(&split.test));
//! assert_eq!((train.len(), test.len()), (120, 30));
//! let mut loader = DataLoader::new(train, 32)?.shuffle(0);
//! assert_eq!(loader.epoch().map(|batch| batch.len()).collect::<Vec<_>>(), [32, 32, 32, 24]);
//! # Ok::<(), descent_data::DataError>(())
//! ```

mod csv;
mod dataset;
mod error;
mod idx;
mod loader;
mod scale;
mod split;

pub use csv::Table;
pub use dataset::{Batch, Dataset, Targets};
pub use error::DataError;
pub use idx::{
    IdxArray, MAX_IDX_DATA_BYTES, Mnist, parse_idx, read_idx, read_idx_images, read_idx_labels,
};
pub use loader::DataLoader;
pub use scale::{MinMaxScaler, Standardizer};
pub use split::{
    Split, k_fold, k_fold_stratified, one_hot, train_test_split, train_test_split_stratified,
};
