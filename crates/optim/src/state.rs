//! What an update rule remembers about one parameter, and how it goes into
//! and out of a checkpoint under the parameter's name.

use descent_io::{Checkpoint, CheckpointError};
use descent_tensor::{Shape, Tensor};

use crate::check;
use crate::error::shown;

/// Step counts and sizes beyond 2^53 do not survive the trip through an f64.
const LARGEST_COUNT: f64 = (1u64 << 53) as f64;

/// A [`CheckpointError::State`] saying `what`.
pub(crate) fn mismatch<T>(what: String) -> Result<T, CheckpointError> {
    Err(CheckpointError::State(what))
}

/// A saved scalar that must be a whole number in `[min, 2^53]`: a step
/// count, a number of groups.
pub(crate) fn count(checkpoint: &Checkpoint, name: &str, min: f64) -> Result<u64, CheckpointError> {
    let value = checkpoint.require_scalar(name)?;
    if value.fract() != 0.0 || !(min..=LARGEST_COUNT).contains(&value) {
        return mismatch(format!(
            "{name:?} is {}, not a whole number in [{min}, 2^53]",
            shown(value)
        ));
    }
    Ok(value as u64)
}

/// Checks a saved number of parameter groups against the `expected` one.
pub(crate) fn check_groups(
    checkpoint: &Checkpoint,
    name: &str,
    expected: usize,
) -> Result<(), CheckpointError> {
    let groups = count(checkpoint, name, 0.0)?;
    if groups != expected as u64 {
        return mismatch(format!(
            "has {groups} parameter groups ({name:?}), the optimizer {expected}"
        ));
    }
    Ok(())
}

/// A saved learning rate, which must be valid.
pub(crate) fn saved_lr(checkpoint: &Checkpoint, entry: &str) -> Result<f64, CheckpointError> {
    let lr = checkpoint.require_scalar(entry)?;
    check::lr(lr).map_err(|error| CheckpointError::State(format!("{entry:?}: {error}")))?;
    Ok(lr)
}

/// What an update rule remembers about one parameter (moments, momentum),
/// besides the step count the optimizer keeps. Buffers are saved under
/// `{prefix}{parameter name}.{buffer name}`, PyTorch's names.
///
/// ```
/// use descent_io::CheckpointError;
/// use descent_optim::{ParamState, StateReader, StateWriter};
///
/// struct Velocity {
///     velocity: Vec<f32>,
/// }
///
/// impl ParamState for Velocity {
///     fn new(len: usize) -> Velocity {
///         Velocity { velocity: vec![0.0; len] }
///     }
///     fn save(&self, out: &mut StateWriter<'_>) {
///         out.buffer("velocity", &self.velocity);
///     }
///     fn load(saved: &StateReader<'_>) -> Result<Velocity, CheckpointError> {
///         Ok(Velocity { velocity: saved.buffer("velocity")? })
///     }
/// }
/// ```
pub trait ParamState: Send + Sized {
    /// The state of a parameter of `len` elements before its first update,
    /// unless its rule's [`crate::UpdateRule::init`] says otherwise.
    fn new(len: usize) -> Self;

    /// Writes every buffer and scalar under its name.
    fn save(&self, out: &mut StateWriter<'_>);

    /// Reads back what [`ParamState::save`] wrote.
    ///
    /// # Errors
    /// [`CheckpointError::State`] from the reader: an entry is missing, has
    /// the wrong shape or holds a value that is not finite.
    fn load(saved: &StateReader<'_>) -> Result<Self, CheckpointError>;
}

/// Rules that remember nothing but the step count.
impl ParamState for () {
    fn new(_: usize) {}

    fn save(&self, _: &mut StateWriter<'_>) {}

    fn load(_: &StateReader<'_>) -> Result<(), CheckpointError> {
        Ok(())
    }
}

/// A field of a state: a buffer the size of the parameter, a buffer that
/// exists once an option needs it, or a scalar.
pub(crate) trait Entry: Sized {
    /// The value before the first update: zeros, absent, 0.
    fn initial(len: usize) -> Self;
    /// Saves the value under `name`.
    fn save(&self, name: &str, out: &mut StateWriter<'_>);
    /// Reads the value saved under `name`.
    fn load(saved: &StateReader<'_>, name: &str) -> Result<Self, CheckpointError>;
}

impl Entry for Vec<f32> {
    fn initial(len: usize) -> Self {
        vec![0.0; len]
    }

    fn save(&self, name: &str, out: &mut StateWriter<'_>) {
        out.buffer(name, self);
    }

    fn load(saved: &StateReader<'_>, name: &str) -> Result<Self, CheckpointError> {
        saved.buffer(name)
    }
}

impl Entry for Option<Vec<f32>> {
    fn initial(_: usize) -> Self {
        None
    }

    fn save(&self, name: &str, out: &mut StateWriter<'_>) {
        out.optional_buffer(name, self.as_deref());
    }

    fn load(saved: &StateReader<'_>, name: &str) -> Result<Self, CheckpointError> {
        saved.optional_buffer(name)
    }
}

impl Entry for f64 {
    fn initial(_: usize) -> Self {
        0.0
    }

    fn save(&self, name: &str, out: &mut StateWriter<'_>) {
        out.scalar(name, *self);
    }

    fn load(saved: &StateReader<'_>, name: &str) -> Result<Self, CheckpointError> {
        saved.scalar(name)
    }
}

/// Declares a rule's state: the struct, each field public and saved under
/// its own name (PyTorch's), and [`ParamState`] from the fields' [`Entry`]
/// types.
macro_rules! param_state {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$doc:meta])* $field:ident: $type:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq)]
        pub struct $name {
            $( $(#[$doc])* pub $field: $type, )*
        }

        impl $crate::state::ParamState for $name {
            fn new(len: usize) -> $name {
                $name { $( $field: $crate::state::Entry::initial(len), )* }
            }

            fn save(&self, out: &mut $crate::state::StateWriter<'_>) {
                $( $crate::state::Entry::save(&self.$field, stringify!($field), out); )*
            }

            fn load(
                saved: &$crate::state::StateReader<'_>,
            ) -> Result<$name, descent_io::CheckpointError> {
                Ok($name {
                    $( $field: $crate::state::Entry::load(saved, stringify!($field))?, )*
                })
            }
        }
    };
}

pub(crate) use param_state;

/// Writes one parameter's state into a checkpoint.
#[derive(Debug)]
pub struct StateWriter<'a> {
    checkpoint: &'a mut Checkpoint,
    key: &'a str,
    shape: Shape,
}

impl<'a> StateWriter<'a> {
    /// Writes under `{key}.{name}`; buffers take the parameter's `shape`.
    pub(crate) fn new(checkpoint: &'a mut Checkpoint, key: &'a str, shape: Shape) -> Self {
        StateWriter {
            checkpoint,
            key,
            shape,
        }
    }

    /// Saves a buffer the size of the parameter.
    pub fn buffer(&mut self, name: &str, values: &[f32]) {
        let tensor = Tensor::from_vec(values.to_vec(), self.shape);
        self.checkpoint
            .insert_tensor(format!("{}.{name}", self.key), tensor);
    }

    /// Saves a buffer that exists only once an option needs it.
    pub fn optional_buffer(&mut self, name: &str, values: Option<&[f32]>) {
        if let Some(values) = values {
            self.buffer(name, values);
        }
    }

    /// Saves a scalar.
    pub fn scalar(&mut self, name: &str, value: f64) {
        self.checkpoint
            .insert_scalar(format!("{}.{name}", self.key), value);
    }
}

/// Reads one parameter's state from a checkpoint, checking every value.
#[derive(Debug)]
pub struct StateReader<'a> {
    checkpoint: &'a Checkpoint,
    key: &'a str,
    shape: Shape,
}

impl<'a> StateReader<'a> {
    /// Reads from `{key}.{name}`; buffers must have the parameter's `shape`.
    pub(crate) fn new(checkpoint: &'a Checkpoint, key: &'a str, shape: Shape) -> Self {
        StateReader {
            checkpoint,
            key,
            shape,
        }
    }

    /// A buffer the size of the parameter.
    ///
    /// # Errors
    /// [`CheckpointError::State`] if it is missing, has another shape, or
    /// holds a value that is not finite.
    pub fn buffer(&self, name: &str) -> Result<Vec<f32>, CheckpointError> {
        let entry = format!("{}.{name}", self.key);
        self.optional_buffer(name)?
            .ok_or_else(|| CheckpointError::State(format!("{entry:?} is missing")))
    }

    /// A buffer that exists only once an option needs it: `None` when the
    /// checkpoint has none.
    ///
    /// # Errors
    /// [`CheckpointError::State`] if it has another shape or holds a value
    /// that is not finite.
    pub fn optional_buffer(&self, name: &str) -> Result<Option<Vec<f32>>, CheckpointError> {
        let entry = format!("{}.{name}", self.key);
        let Some(tensor) = self.checkpoint.tensor(&entry) else {
            return Ok(None);
        };
        if tensor.shape() != self.shape {
            return Err(CheckpointError::State(format!(
                "{entry:?} has shape {:?}, the parameter {:?}",
                tensor.shape(),
                self.shape
            )));
        }
        if let Some(bad) = tensor.data().iter().find(|v| !v.is_finite()) {
            return Err(CheckpointError::State(format!("{entry:?} holds {bad}")));
        }
        Ok(Some(tensor.to_vec()))
    }

    /// A finite scalar.
    ///
    /// # Errors
    /// [`CheckpointError::State`] if it is missing or not finite.
    pub fn scalar(&self, name: &str) -> Result<f64, CheckpointError> {
        let entry = format!("{}.{name}", self.key);
        let value = self.checkpoint.require_scalar(&entry)?;
        if !value.is_finite() {
            return Err(CheckpointError::State(format!(
                "{entry:?} is {}",
                shown(value)
            )));
        }
        Ok(value)
    }
}
