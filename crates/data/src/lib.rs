//! `descent-data`: reading and preparing data for the `descent` framework.
//!
//! ```
//! use descent_data::{Standardizer, Table};
//!
//! let table = Table::parse_csv("x1,x2,y\n1,10,0\n3,30,1\n", "inline")?;
//! let (features, target) = table.features_and_target("y")?;
//! let scaled = Standardizer::fit(&features).transform(&features);
//! assert_eq!(scaled.dims(), &[2, 2]);
//! assert_eq!(target.to_vec(), vec![0.0, 1.0]);
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
