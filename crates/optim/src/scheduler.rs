//! Applying schedules to optimizers, and the metric-driven
//! reduce-on-plateau policy.

use descent_io::{Checkpoint, CheckpointError};

use crate::optimizer::Optimizer;
use crate::schedule::Schedule;

/// Drives an optimizer's learning rates with a [`Schedule`]: call
/// [`Scheduler::step`] after each optimizer step (or each epoch).
///
/// ```
/// use descent_autograd::Param;
/// use descent_optim::{CosineAnnealingLr, Optim, Optimizer, Scheduler, Sgd};
/// use descent_tensor::Tensor;
///
/// let mut opt = Optim::new([Param::new(Tensor::zeros([1]))], Sgd::new(0.1));
/// let mut scheduler = Scheduler::new(CosineAnnealingLr { t_max: 10, eta_min: 0.0 }, &mut opt);
/// for _ in 0..5 {
///     opt.step();
///     scheduler.step(&mut opt);
/// }
/// assert!((opt.lr(0) - 0.05).abs() < 1e-12);
/// ```
pub struct Scheduler<S> {
    schedule: S,
    initial_lrs: Vec<f64>,
    t: usize,
}

impl<S: Schedule> Scheduler<S> {
    /// Starts scheduling from the optimizer's current rates, and sets the
    /// step-0 rate (as PyTorch's schedulers do on construction).
    pub fn new(schedule: S, optimizer: &mut dyn Optimizer) -> Scheduler<S> {
        let initial_lrs = (0..optimizer.num_groups())
            .map(|g| optimizer.lr(g))
            .collect();
        let scheduler = Scheduler {
            schedule,
            initial_lrs,
            t: 0,
        };
        scheduler.apply(optimizer);
        scheduler
    }

    /// Advances one step and sets each group's rate.
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
        for (group, lr) in self.lrs().into_iter().enumerate() {
            optimizer.set_lr(group, lr);
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

    /// Restores what [`Scheduler::save_state`] wrote.
    ///
    /// # Errors
    /// [`CheckpointError::State`] if an entry is missing.
    pub fn load_state(
        &mut self,
        checkpoint: &Checkpoint,
        prefix: &str,
    ) -> Result<(), CheckpointError> {
        let t = checkpoint.require_scalar(&format!("{prefix}step"))? as usize;
        let groups = checkpoint.require_scalar(&format!("{prefix}groups"))? as usize;
        let initial_lrs = (0..groups)
            .map(|g| checkpoint.require_scalar(&format!("{prefix}initial_lr.{g}")))
            .collect::<Result<Vec<f64>, _>>()?;
        self.t = t;
        self.initial_lrs = initial_lrs;
        Ok(())
    }
}

/// Whether a smaller or a larger metric is better.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlateauMode {
    /// Lower is better (a loss).
    Min,
    /// Higher is better (an accuracy).
    Max,
}

/// Options of [`ReduceLrOnPlateau`]; the defaults are PyTorch's: mode min,
/// factor 0.1, patience 10, relative threshold 1e-4, cooldown 0, min_lr 0,
/// eps 1e-8.
#[derive(Clone, Debug)]
pub struct PlateauOptions {
    /// Whether lower or higher is better.
    pub mode: PlateauMode,
    /// Multiplier applied on a plateau.
    pub factor: f64,
    /// Calls without improvement tolerated.
    pub patience: usize,
    /// Relative improvement that counts.
    pub threshold: f64,
    /// Calls to wait after a reduction.
    pub cooldown: usize,
    /// The lowest rate.
    pub min_lr: f64,
    /// Reductions smaller than this are skipped.
    pub eps: f64,
}

impl Default for PlateauOptions {
    fn default() -> PlateauOptions {
        PlateauOptions {
            mode: PlateauMode::Min,
            factor: 0.1,
            patience: 10,
            threshold: 1e-4,
            cooldown: 0,
            min_lr: 0.0,
            eps: 1e-8,
        }
    }
}

/// Multiplies the learning rate by `factor` when a metric has not improved
/// for more than `patience` calls (PyTorch's `ReduceLROnPlateau` with a
/// relative threshold).
#[derive(Clone, Debug)]
pub struct ReduceLrOnPlateau {
    options: PlateauOptions,
    best: f64,
    bad_steps: usize,
    cooldown_left: usize,
}

impl ReduceLrOnPlateau {
    /// A policy with the given options.
    ///
    /// # Panics
    /// If `factor` is not in `[0, 1)`.
    pub fn new(options: PlateauOptions) -> ReduceLrOnPlateau {
        assert!(
            (0.0..1.0).contains(&options.factor),
            "ReduceLrOnPlateau: factor {} is not in [0, 1)",
            options.factor
        );
        let best = match options.mode {
            PlateauMode::Min => f64::INFINITY,
            PlateauMode::Max => f64::NEG_INFINITY,
        };
        ReduceLrOnPlateau {
            options,
            best,
            bad_steps: 0,
            cooldown_left: 0,
        }
    }

    /// Records the latest metric and reduces the rates on a plateau.
    pub fn step(&mut self, metric: f64, optimizer: &mut dyn Optimizer) {
        let o = &self.options;
        let improved = match o.mode {
            PlateauMode::Min => metric < self.best * (1.0 - o.threshold),
            PlateauMode::Max => metric > self.best * (1.0 + o.threshold),
        };
        if improved {
            self.best = metric;
            self.bad_steps = 0;
        } else {
            self.bad_steps += 1;
        }
        if self.cooldown_left > 0 {
            self.cooldown_left -= 1;
            self.bad_steps = 0;
        }
        if self.bad_steps > o.patience {
            for group in 0..optimizer.num_groups() {
                let old = optimizer.lr(group);
                let new = (old * o.factor).max(o.min_lr);
                if old - new > o.eps {
                    optimizer.set_lr(group, new);
                }
            }
            self.cooldown_left = o.cooldown;
            self.bad_steps = 0;
        }
    }
    /// Writes the best metric and counters under `prefix`.
    pub fn save_state(&self, checkpoint: &mut Checkpoint, prefix: &str) {
        checkpoint.insert_scalar(format!("{prefix}best"), self.best);
        checkpoint.insert_scalar(format!("{prefix}bad_steps"), self.bad_steps as f64);
        checkpoint.insert_scalar(format!("{prefix}cooldown_left"), self.cooldown_left as f64);
    }

    /// Restores what [`ReduceLrOnPlateau::save_state`] wrote.
    ///
    /// # Errors
    /// [`CheckpointError::State`] if an entry is missing.
    pub fn load_state(
        &mut self,
        checkpoint: &Checkpoint,
        prefix: &str,
    ) -> Result<(), CheckpointError> {
        let best = checkpoint.require_scalar(&format!("{prefix}best"))?;
        let bad_steps = checkpoint.require_scalar(&format!("{prefix}bad_steps"))? as usize;
        let cooldown_left = checkpoint.require_scalar(&format!("{prefix}cooldown_left"))? as usize;
        (self.best, self.bad_steps, self.cooldown_left) = (best, bad_steps, cooldown_left);
        Ok(())
    }
}

/// Any learning-rate policy a training loop can drive: a [`Scheduler`]
/// ignores the metric, [`ReduceLrOnPlateau`] acts on it.
pub trait LrScheduler {
    /// Advances the policy after a step or an epoch; `metric` is the latest
    /// validation loss (or training loss without validation data).
    fn advance(&mut self, optimizer: &mut dyn Optimizer, metric: f64);

    /// Writes the policy's state under `prefix`.
    fn save(&self, checkpoint: &mut Checkpoint, prefix: &str);

    /// Restores what [`LrScheduler::save`] wrote.
    ///
    /// # Errors
    /// [`CheckpointError::State`] if an entry is missing.
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

impl LrScheduler for ReduceLrOnPlateau {
    fn advance(&mut self, optimizer: &mut dyn Optimizer, metric: f64) {
        self.step(metric, optimizer);
    }
    fn save(&self, checkpoint: &mut Checkpoint, prefix: &str) {
        self.save_state(checkpoint, prefix);
    }
    fn load(&mut self, checkpoint: &Checkpoint, prefix: &str) -> Result<(), CheckpointError> {
        self.load_state(checkpoint, prefix)
    }
}
