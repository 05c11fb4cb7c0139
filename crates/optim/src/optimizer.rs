//! What training loops and schedulers need from any optimizer.

use descent_autograd::Param;
use descent_io::{Checkpoint, CheckpointError};

/// What training loops and schedulers need from any optimizer. `Send`, so
/// a `Box<dyn Optimizer>` can train in a background thread.
pub trait Optimizer: Send {
    /// Applies one update to every parameter that has a gradient.
    fn step(&mut self);

    /// Clears every parameter's gradient.
    fn zero_grad(&self);

    /// The number of parameter groups.
    fn num_groups(&self) -> usize;

    /// The learning rate of a group.
    fn lr(&self, group: usize) -> f64;

    /// Sets the learning rate of a group (schedulers call this).
    ///
    /// # Panics
    /// If `lr` is negative, not finite or overflows an `f32`.
    fn set_lr(&mut self, group: usize, lr: f64);

    /// A group's momentum factor or `beta1`, which cyclical schedules cycle;
    /// `None` when its rule has neither.
    fn momentum(&self, group: usize) -> Option<f64>;

    /// Sets what [`Optimizer::momentum`] reports.
    ///
    /// # Panics
    /// If the group's rule has no momentum, or the value is out of its range.
    fn set_momentum(&mut self, group: usize, momentum: f64);

    /// Every parameter, group by group.
    fn params(&self) -> Vec<Param>;

    /// Writes the rule's kind and options, each group's learning rate, and
    /// each parameter's state under `{prefix}{parameter name}.`.
    fn save_state(&self, checkpoint: &mut Checkpoint, prefix: &str);

    /// Restores what [`Optimizer::save_state`] wrote. The kind, the options
    /// and the groups must match, every value must be valid, and
    /// everything is checked before anything changes, so on `Err` the
    /// optimizer is untouched.
    ///
    /// # Errors
    /// [`CheckpointError::State`] naming the missing, mismatched or invalid
    /// entry.
    fn load_state(&mut self, checkpoint: &Checkpoint, prefix: &str) -> Result<(), CheckpointError>;
}
