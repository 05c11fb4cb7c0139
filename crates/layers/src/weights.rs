//! A module's parameters and buffers in a safetensors [`Weights`] file,
//! under the names of [`Module::state_dict`]: the names, shapes and dtypes
//! PyTorch's `model.state_dict()` has for the equivalent model, so
//! `safetensors.torch.save_file` and `load_file` on the other side read and
//! write the same file.

use std::path::Path;

use descent_autograd::Param;
use descent_io::{Dtype, Mismatch, SafetensorsError, Weights};

use crate::module::{Module, ParamVisitor, TensorKind};

/// How a tensor of `kind` is stored: counts are `torch.int64` in PyTorch.
fn dtype_of(kind: TensorKind) -> Dtype {
    match kind {
        TensorKind::Parameter | TensorKind::Buffer => Dtype::F32,
        TensorKind::CountBuffer => Dtype::I64,
    }
}

/// Puts modules into weights files and takes them back out.
pub trait ModuleWeights {
    /// Every parameter and buffer of `module`, by [`Module::state_dict`] name.
    fn from_module(module: &dyn Module) -> Self;

    /// Copies the file's tensors into `module`. Every name, shape and dtype
    /// is checked before anything is written, so on `Err` the module is
    /// unchanged.
    ///
    /// # Errors
    /// [`SafetensorsError::DoesNotFit`] listing every tensor that is
    /// missing, unexpected, or of another shape or dtype.
    fn restore_module(&self, module: &dyn Module) -> Result<(), SafetensorsError>;
}

impl ModuleWeights for Weights {
    fn from_module(module: &dyn Module) -> Weights {
        let mut weights = Weights::new();
        for (name, tensor, kind) in named_tensors(module) {
            weights.insert(name, tensor.value(), dtype_of(kind));
        }
        // What Hugging Face writes; its loaders check for it.
        weights.insert_metadata("format", "pt");
        weights
    }

    fn restore_module(&self, module: &dyn Module) -> Result<(), SafetensorsError> {
        let tensors = named_tensors(module);
        let mut mismatches = Vec::new();
        for (name, tensor, kind) in &tensors {
            let Some((dtype, value)) = self.get(name) else {
                mismatches.push(Mismatch::Missing(name.clone()));
                continue;
            };
            if value.shape() != tensor.shape() {
                mismatches.push(Mismatch::Shape {
                    name: name.clone(),
                    model: tensor.shape().dims().to_vec(),
                    file: value.dims().to_vec(),
                });
            }
            if dtype != dtype_of(*kind) {
                mismatches.push(Mismatch::Dtype {
                    name: name.clone(),
                    model: dtype_of(*kind),
                    file: dtype,
                });
            }
        }
        mismatches.extend(
            self.names()
                .filter(|name| !tensors.iter().any(|(n, _, _)| n == name))
                .map(|name| Mismatch::Unexpected(name.to_string())),
        );
        if !mismatches.is_empty() {
            return Err(SafetensorsError::DoesNotFit(mismatches));
        }
        for (name, tensor, _) in &tensors {
            let (_, value) = self.get(name).expect("checked above");
            tensor.set_value(value.clone());
        }
        Ok(())
    }
}

/// Every parameter and buffer of `module` with its name and kind.
fn named_tensors(module: &dyn Module) -> Vec<(String, Param, TensorKind)> {
    let mut out = Vec::new();
    module.visit_params(&mut ParamVisitor::new(&mut |name, tensor, kind| {
        out.push((name.to_string(), tensor.clone(), kind))
    }));
    out
}

/// Saves a module's parameters and buffers to `path` as safetensors,
/// atomically, with PyTorch's names, layouts and dtypes.
///
/// ```
/// use descent_layers::{Activation, Dense, Module, Sequential, load_safetensors, save_safetensors};
/// use descent_tensor::seeded_rng;
///
/// let mut rng = seeded_rng(0);
/// let model = Sequential::new()
///     .push(Dense::new(4, 8, &mut rng))
///     .push(Activation::Relu)
///     .push(Dense::new(8, 2, &mut rng));
/// let path = std::env::temp_dir().join(format!("doc-{}.safetensors", std::process::id()));
/// save_safetensors(&model, &path)?;
/// let copy = Sequential::new()
///     .push(Dense::new(4, 8, &mut rng))
///     .push(Activation::Relu)
///     .push(Dense::new(8, 2, &mut rng));
/// load_safetensors(&copy, &path)?;
/// assert_eq!(copy.parameters()[0].value(), model.parameters()[0].value());
/// # std::fs::remove_file(path).unwrap();
/// # Ok::<(), descent_io::SafetensorsError>(())
/// ```
///
/// # Errors
/// As [`Weights::save`].
pub fn save_safetensors(
    module: &dyn Module,
    path: impl AsRef<Path>,
) -> Result<(), SafetensorsError> {
    Weights::from_module(module).save(path)
}

/// Loads a safetensors file (from [`save_safetensors`], or PyTorch's
/// `safetensors.torch.save_file(model.state_dict(), path)`) into `module`.
///
/// # Errors
/// As [`Weights::load`] and [`ModuleWeights::restore_module`]; on `Err` the
/// module is unchanged.
pub fn load_safetensors(
    module: &dyn Module,
    path: impl AsRef<Path>,
) -> Result<(), SafetensorsError> {
    Weights::load(path)?.restore_module(module)
}
