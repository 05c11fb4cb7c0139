//! A module's parameters and buffers in a [`Checkpoint`], by dotted name
//! under `model.` (`model.0.weight`, ...).

use std::path::Path;

use descent_io::{Checkpoint, CheckpointError};

use crate::module::Module;

/// Where a module's tensors live in a checkpoint: `model.0.weight`, ...
const MODEL_PREFIX: &str = "model.";

/// Puts modules into checkpoints and takes them back out.
pub trait ModuleCheckpoint {
    /// A checkpoint holding every parameter and buffer of `module`.
    fn from_module(module: &dyn Module) -> Self;

    /// Adds (or replaces) every parameter and buffer of `module`.
    fn insert_module(&mut self, module: &dyn Module);

    /// Copies the saved parameters and buffers into `module`. Every name and
    /// shape is checked before anything is written, so on `Err` the module
    /// is unchanged.
    ///
    /// # Errors
    /// [`CheckpointError::MissingParameter`], [`CheckpointError::UnexpectedParameter`]
    /// or [`CheckpointError::ShapeMismatch`], naming the parameter.
    fn restore_module(&self, module: &dyn Module) -> Result<(), CheckpointError>;
}

impl ModuleCheckpoint for Checkpoint {
    fn from_module(module: &dyn Module) -> Checkpoint {
        let mut checkpoint = Checkpoint::new();
        checkpoint.insert_module(module);
        checkpoint
    }

    fn insert_module(&mut self, module: &dyn Module) {
        for (name, tensor) in module.state_dict() {
            self.insert_tensor(format!("{MODEL_PREFIX}{name}"), tensor.value());
        }
    }

    fn restore_module(&self, module: &dyn Module) -> Result<(), CheckpointError> {
        let tensors = module.state_dict();
        let mut saved = Vec::with_capacity(tensors.len());
        for (name, tensor) in &tensors {
            let value = self
                .tensor(&format!("{MODEL_PREFIX}{name}"))
                .ok_or_else(|| CheckpointError::MissingParameter(name.clone()))?;
            if value.shape() != tensor.shape() {
                return Err(CheckpointError::ShapeMismatch {
                    name: name.clone(),
                    expected: tensor.shape().dims().to_vec(),
                    found: value.dims().to_vec(),
                });
            }
            saved.push(value);
        }
        if let Some(extra) = self
            .tensor_names()
            .filter_map(|key| key.strip_prefix(MODEL_PREFIX))
            .find(|name| !tensors.iter().any(|(n, _)| n == name))
        {
            return Err(CheckpointError::UnexpectedParameter(extra.to_string()));
        }
        for ((_, tensor), value) in tensors.iter().zip(saved) {
            tensor.set_value(value.clone());
        }
        Ok(())
    }
}

/// Saves a module's parameters and buffers to `path` atomically.
///
/// # Errors
/// As [`Checkpoint::save`].
pub fn save_module(module: &dyn Module, path: impl AsRef<Path>) -> Result<(), CheckpointError> {
    Checkpoint::from_module(module).save(path)
}

/// Loads what [`save_module`] saved into `module`.
///
/// # Errors
/// As [`Checkpoint::load`] and [`ModuleCheckpoint::restore_module`].
pub fn load_module(module: &dyn Module, path: impl AsRef<Path>) -> Result<(), CheckpointError> {
    Checkpoint::load(path)?.restore_module(module)
}
