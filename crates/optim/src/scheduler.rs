//! Applying schedules to optimizers, and the trait training loops drive
//! every learning-rate policy through.

use descent_io::{Checkpoint, CheckpointError};

use crate::error::OptimError;
use crate::optimizer::Optimizer;
use crate::schedule::Schedule;
use crate::state::{check_groups, count, saved_lr};

/// Drives an optimizer's learning rates (and momentum, for schedules that
/// cycle it) with a [`Schedule`]: call [`Scheduler::step`] after each
/// optimizer step (or each epoch).
///
/// ```
/// use descent_autograd::Param;
/// use descent_optim::{CosineAnnealingLr, Optim, OptimError, Optimizer, Scheduler, Sgd};
/// use descent_tensor::Tensor;
///
/// let mut opt = Optim::new([Param::new(Tensor::zeros([1]))], Sgd::new(0.1));
/// let mut scheduler = Scheduler::new(CosineAnnealingLr { t_max: 10, eta_min: 0.0 }, &mut opt);
/// for _ in 0..5 {
///     opt.step();
///     scheduler.step(&mut opt);
/// }
/// assert!((opt.lr(0) - 0.05).abs() < 1e-12);
/// # Ok::<(), OptimError>(())
/// ```
#[derive(Debug)]
pub struct Scheduler<S> {
    schedule: S,
    initial_lrs: Vec<f64>,
    t: usize,
}

impl<S: Schedule> Scheduler<S> {
    /// Starts scheduling from the optimizer's current rates, and sets the
    /// step-0 rate (as PyTorch's schedulers do on construction).
    ///
    /// # Panics
    /// On what [`Scheduler::try_new`] returns as an error.
    pub fn new(schedule: S, optimizer: &mut dyn Optimizer) -> Scheduler<S> {
        Scheduler::try_new(schedule, optimizer).unwrap_or_else(|e| panic!("scheduler: {e}"))
    }

    /// [`Scheduler::new`] for options that come from outside the program.
    ///
    /// # Errors
    /// [`OptimError::InvalidOption`] naming an invalid option of the
    /// schedule; [`OptimError::NoMomentum`] if it cycles momentum and a
    /// group's rule has none (Adagrad, Adadelta).
    pub fn try_new(schedule: S, optimizer: &mut dyn Optimizer) -> Result<Scheduler<S>, OptimError> {
        schedule.validate()?;
        if schedule.momentum(0).is_some()
            && let Some(group) =
                (0..optimizer.num_groups()).find(|&g| optimizer.momentum(g).is_none())
        {
            return Err(OptimError::NoMomentum { group });
        }
        let initial_lrs = (0..optimizer.num_groups())
            .map(|g| optimizer.lr(g))
            .collect();
        let scheduler = Scheduler {
            schedule,
            initial_lrs,
            t: 0,
        };
        scheduler.apply(optimizer);
        Ok(scheduler)
    }

    /// Advances one step and sets each group's rate (and momentum).
    pub fn step(&mut self, optimizer: &mut dyn Optimizer) {
        self.t += 1;
        self.apply(optimizer);
    }

    /// The rate of each group at the current step.
    pub fn lrs(&self) -> Vec<f64> {
        self.initial_lrs
            .iter()
            .map(|&lr| self.schedule.lr(lr, self.t))
            .collect()
    }

    /// Steps taken so far.
    pub fn steps(&self) -> usize {
        self.t
    }

    fn apply(&self, optimizer: &mut dyn Optimizer) {
        let momentum = self.schedule.momentum(self.t);
        for (group, lr) in self.lrs().into_iter().enumerate() {
            optimizer.set_lr(group, lr);
            if let Some(momentum) = momentum {
                optimizer.set_momentum(group, momentum);
            }
        }
    }

    /// Writes the step count and initial rates under `prefix`.
    pub fn save_state(&self, checkpoint: &mut Checkpoint, prefix: &str) {
        checkpoint.insert_scalar(format!("{prefix}step"), self.t as f64);
        checkpoint.insert_scalar(format!("{prefix}groups"), self.initial_lrs.len() as f64);
        for (g, lr) in self.initial_lrs.iter().enumerate() {
            checkpoint.insert_scalar(format!("{prefix}initial_lr.{g}"), *lr);
        }
    }

    /// Restores what [`Scheduler::save_state`] wrote, for a scheduler over
    /// as many groups.
    ///
    /// # Errors
    /// [`CheckpointError::State`] if an entry is missing or invalid, or the
    /// number of groups differs.
    pub fn load_state(
        &mut self,
        checkpoint: &Checkpoint,
        prefix: &str,
    ) -> Result<(), CheckpointError> {
        let t = count(checkpoint, &format!("{prefix}step"), 0.0)?;
        check_groups(
            checkpoint,
            &format!("{prefix}groups"),
            self.initial_lrs.len(),
        )?;
        let initial_lrs = (0..self.initial_lrs.len())
            .map(|g| saved_lr(checkpoint, &format!("{prefix}initial_lr.{g}")))
            .collect::<Result<Vec<f64>, _>>()?;
        self.t = t as usize;
        self.initial_lrs = initial_lrs;
        Ok(())
    }
}

/// Any learning-rate policy a training loop can drive: a [`Scheduler`]
/// ignores the metric, [`crate::ReduceLrOnPlateau`] acts on it. `Send`, as
/// optimizers are, so a training loop can run on the thread pool's threads.
pub trait LrScheduler: Send {
    /// Advances the policy after a step or an epoch; `metric` is the latest
    /// validation loss (or training loss without validation data).
    fn advance(&mut self, optimizer: &mut dyn Optimizer, metric: f64);

    /// Writes the policy's state under `prefix`.
    fn save(&self, checkpoint: &mut Checkpoint, prefix: &str);

    /// Restores what [`LrScheduler::save`] wrote.
    ///
    /// # Errors
    /// [`CheckpointError::State`] if an entry is missing or invalid.
    fn load(&mut self, checkpoint: &Checkpoint, prefix: &str) -> Result<(), CheckpointError>;
}

impl<S: Schedule> LrScheduler for Scheduler<S> {
    fn advance(&mut self, optimizer: &mut dyn Optimizer, _: f64) {
        self.step(optimizer);
    }

    fn save(&self, checkpoint: &mut Checkpoint, prefix: &str) {
        self.save_state(checkpoint, prefix);
    }

    fn load(&mut self, checkpoint: &Checkpoint, prefix: &str) -> Result<(), CheckpointError> {
        self.load_state(checkpoint, prefix)
    }
}
