//! Learning-rate schedules in closed form: the learning rate at step `t` as a
//! function of `t` and the group's initial learning rate. PyTorch's formulas
//! (Keras' for inverse-time decay). A [`crate::Scheduler`] applies one to an
//! optimizer, per batch or per epoch, whichever you call `step` on. Options
//! are public fields, checked when a scheduler starts.

use std::f64::consts::PI;

use crate::check;
use crate::error::OptimError;

/// A learning rate (and, for cyclical schedules, a momentum) as a function
/// of the step. `Send`, as optimizers are, so a training loop can run on
/// the thread pool's threads.
pub trait Schedule: Send {
    /// The learning rate at step `t` (0 before the first `step`), for a group
    /// whose learning rate was `initial_lr` when scheduling began.
    fn lr(&self, initial_lr: f64, t: usize) -> f64;

    /// The momentum (or Adam's `beta1`) at step `t`, for schedules that cycle
    /// it; `None` leaves the optimizer's momentum alone.
    fn momentum(&self, t: usize) -> Option<f64> {
        let _ = t;
        None
    }

    /// Checks the options, naming any invalid value.
    ///
    /// # Errors
    /// [`OptimError::InvalidOption`] for the first invalid option.
    fn validate(&self) -> Result<(), OptimError> {
        Ok(())
    }
}

/// `initial_lr * gamma^floor(t / step_size)` (PyTorch's `StepLR`).
#[derive(Clone, Debug)]
pub struct StepLr {
    /// Steps between decays (at least 1).
    pub step_size: usize,
    /// Multiplicative decay.
    pub gamma: f64,
}

impl Schedule for StepLr {
    fn lr(&self, initial_lr: f64, t: usize) -> f64 {
        initial_lr * self.gamma.powi((t / self.step_size) as i32)
    }

    fn validate(&self) -> Result<(), OptimError> {
        check::at_least_one("step_size", self.step_size)?;
        check::non_negative("gamma", self.gamma)
    }
}

/// `initial_lr * gamma^(milestones passed)` (PyTorch's `MultiStepLR`).
#[derive(Clone, Debug)]
pub struct MultiStepLr {
    /// Steps at which the rate decays; one listed twice decays twice.
    pub milestones: Vec<usize>,
    /// Multiplicative decay.
    pub gamma: f64,
}

impl Schedule for MultiStepLr {
    fn lr(&self, initial_lr: f64, t: usize) -> f64 {
        let passed = self.milestones.iter().filter(|&&m| m <= t).count();
        initial_lr * self.gamma.powi(passed as i32)
    }

    fn validate(&self) -> Result<(), OptimError> {
        check::non_negative("gamma", self.gamma)
    }
}

/// `initial_lr * gamma^t` (PyTorch's `ExponentialLR`).
#[derive(Clone, Debug)]
pub struct ExponentialLr {
    /// Multiplicative decay per step.
    pub gamma: f64,
}

impl Schedule for ExponentialLr {
    fn lr(&self, initial_lr: f64, t: usize) -> f64 {
        initial_lr * self.gamma.powi(t as i32)
    }

    fn validate(&self) -> Result<(), OptimError> {
        check::non_negative("gamma", self.gamma)
    }
}

/// `initial_lr / (1 + decay_rate * t / decay_steps)`, with `t / decay_steps`
/// floored when `staircase` (Keras' `InverseTimeDecay`).
#[derive(Clone, Debug)]
pub struct InverseTimeDecay {
    /// The decay rate.
    pub decay_rate: f64,
    /// Steps per unit of decay (> 0).
    pub decay_steps: f64,
    /// Decay in whole units of `decay_steps`.
    pub staircase: bool,
}

impl Schedule for InverseTimeDecay {
    fn lr(&self, initial_lr: f64, t: usize) -> f64 {
        let mut progress = t as f64 / self.decay_steps;
        if self.staircase {
            progress = progress.floor();
        }
        initial_lr / (1.0 + self.decay_rate * progress)
    }

    fn validate(&self) -> Result<(), OptimError> {
        check::non_negative("decay_rate", self.decay_rate)?;
        check::positive("decay_steps", self.decay_steps)
    }
}

/// `eta_min + (initial_lr - eta_min) (1 + cos(pi t / t_max)) / 2`
/// (PyTorch's `CosineAnnealingLR`, closed form).
#[derive(Clone, Debug)]
pub struct CosineAnnealingLr {
    /// Steps from the initial rate to `eta_min` (at least 1).
    pub t_max: usize,
    /// The final learning rate.
    pub eta_min: f64,
}

impl Schedule for CosineAnnealingLr {
    fn lr(&self, initial_lr: f64, t: usize) -> f64 {
        cosine(initial_lr, self.eta_min, t as f64 / self.t_max as f64)
    }

    fn validate(&self) -> Result<(), OptimError> {
        check::at_least_one("t_max", self.t_max)?;
        check::non_negative("eta_min", self.eta_min)
    }
}

/// From `from` (progress 0) to `to` (progress 1) along half a cosine.
pub(crate) fn cosine(from: f64, to: f64, progress: f64) -> f64 {
    to + (from - to) * (1.0 + (PI * progress).cos()) / 2.0
}

/// Cosine annealing restarted after `t_0`, `t_0 * t_mult`, ... steps (SGDR,
/// PyTorch's `CosineAnnealingWarmRestarts`).
#[derive(Clone, Debug)]
pub struct CosineAnnealingWarmRestarts {
    /// Length of the first cycle (at least 1).
    pub t_0: usize,
    /// Growth factor of each following cycle (at least 1).
    pub t_mult: usize,
    /// The lowest learning rate.
    pub eta_min: f64,
}

impl Schedule for CosineAnnealingWarmRestarts {
    fn lr(&self, initial_lr: f64, t: usize) -> f64 {
        // Saturating: a cycle too long to count never ends, where a wrapped
        // length of 0 made this loop spin forever.
        let (mut start, mut length) = (0usize, self.t_0);
        while t >= start.saturating_add(length) {
            start += length;
            length = length.saturating_mul(self.t_mult);
        }
        cosine(initial_lr, self.eta_min, (t - start) as f64 / length as f64)
    }

    fn validate(&self) -> Result<(), OptimError> {
        check::at_least_one("t_0", self.t_0)?;
        check::at_least_one("t_mult", self.t_mult)?;
        check::non_negative("eta_min", self.eta_min)
    }
}

/// A linear ramp of the rate's factor from `start_factor` to `end_factor`
/// over `total_iters` steps, then constant (PyTorch's `LinearLR`): the usual
/// warm-up.
#[derive(Clone, Debug)]
pub struct LinearLr {
    /// Factor at step 0, in `(0, 1]`.
    pub start_factor: f64,
    /// Factor from step `total_iters` on, in `[0, 1]`.
    pub end_factor: f64,
    /// Length of the ramp (at least 1).
    pub total_iters: usize,
}

impl Default for LinearLr {
    /// PyTorch's defaults: 1/3 to 1 over 5 steps.
    fn default() -> LinearLr {
        LinearLr {
            start_factor: 1.0 / 3.0,
            end_factor: 1.0,
            total_iters: 5,
        }
    }
}

impl Schedule for LinearLr {
    fn lr(&self, initial_lr: f64, t: usize) -> f64 {
        let progress = t.min(self.total_iters) as f64 / self.total_iters as f64;
        initial_lr * (self.start_factor + (self.end_factor - self.start_factor) * progress)
    }

    fn validate(&self) -> Result<(), OptimError> {
        let start = self.start_factor;
        check::holds(
            "start_factor",
            start,
            start > 0.0 && start <= 1.0,
            "in (0, 1]",
        )?;
        check::unit_interval("end_factor", self.end_factor)?;
        check::at_least_one("total_iters", self.total_iters)
    }
}

/// Schedules one after another: schedule `i + 1` starts (at its own step 0)
/// at `milestones[i]` (PyTorch's `SequentialLR`), e.g. warm-up then cosine.
pub struct Chain {
    schedules: Vec<Box<dyn Schedule>>,
    milestones: Vec<usize>,
}

impl Chain {
    /// Chains `schedules`, switching at `milestones`: one milestone fewer
    /// than schedules, increasing (checked when a scheduler starts).
    pub fn new(schedules: Vec<Box<dyn Schedule>>, milestones: Vec<usize>) -> Chain {
        Chain {
            schedules,
            milestones,
        }
    }

    /// The schedule in force at step `t`, and the step it started at.
    fn active(&self, t: usize) -> (&dyn Schedule, usize) {
        let index = self.milestones.iter().filter(|&&m| m <= t).count();
        let start = index.checked_sub(1).map_or(0, |i| self.milestones[i]);
        (self.schedules[index].as_ref(), start)
    }
}

impl Schedule for Chain {
    fn lr(&self, initial_lr: f64, t: usize) -> f64 {
        let (schedule, start) = self.active(t);
        schedule.lr(initial_lr, t - start)
    }

    fn momentum(&self, t: usize) -> Option<f64> {
        let (schedule, start) = self.active(t);
        schedule.momentum(t - start)
    }

    fn validate(&self) -> Result<(), OptimError> {
        let count = self.milestones.len() as f64;
        let wanted = self.schedules.len().max(1) - 1;
        check::holds(
            "milestones (count)",
            count,
            self.milestones.len() == wanted && !self.schedules.is_empty(),
            "one fewer than the schedules, which must not be empty",
        )?;
        for pair in self.milestones.windows(2) {
            check::holds(
                "milestones",
                pair[1] as f64,
                pair[0] < pair[1],
                "increasing",
            )?;
        }
        self.schedules.iter().try_for_each(|s| s.validate())
    }
}

/// `initial_lr * f(t)` for any closure (PyTorch's `LambdaLR`).
pub struct LambdaLr<F>(pub F);

impl<F: Fn(usize) -> f64 + Send> Schedule for LambdaLr<F> {
    fn lr(&self, initial_lr: f64, t: usize) -> f64 {
        initial_lr * (self.0)(t)
    }
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chain")
            .field("schedules", &self.schedules.len())
            .field("milestones", &self.milestones)
            .finish()
    }
}

impl<F> std::fmt::Debug for LambdaLr<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LambdaLr(..)")
    }
}
