//! Learning-rate schedules in closed form: the learning rate at step `t` as a
//! function of `t` and the group's initial learning rate. PyTorch's formulas
//! (Keras' for inverse-time decay). A [`crate::Scheduler`] applies one to an
//! optimizer, per batch or per epoch, whichever you call `step` on.

use std::f64::consts::PI;

/// A learning rate as a function of the step.
pub trait Schedule {
    /// The learning rate at step `t` (0 before the first `step`), for a group
    /// whose learning rate was `initial_lr` when scheduling began.
    fn lr(&self, initial_lr: f64, t: usize) -> f64;
}

/// `initial_lr * gamma^floor(t / step_size)` (PyTorch's `StepLR`).
#[derive(Clone, Debug)]
pub struct StepLr {
    /// Steps between decays.
    pub step_size: usize,
    /// Multiplicative decay.
    pub gamma: f64,
}

impl Schedule for StepLr {
    fn lr(&self, initial_lr: f64, t: usize) -> f64 {
        initial_lr * self.gamma.powi((t / self.step_size.max(1)) as i32)
    }
}

/// `initial_lr * gamma^(milestones passed)` (PyTorch's `MultiStepLR`).
#[derive(Clone, Debug)]
pub struct MultiStepLr {
    /// Steps at which the rate decays, in increasing order.
    pub milestones: Vec<usize>,
    /// Multiplicative decay.
    pub gamma: f64,
}

impl Schedule for MultiStepLr {
    fn lr(&self, initial_lr: f64, t: usize) -> f64 {
        let passed = self.milestones.iter().filter(|&&m| m <= t).count();
        initial_lr * self.gamma.powi(passed as i32)
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
}

/// `initial_lr / (1 + decay_rate * t / decay_steps)`, with `t / decay_steps`
/// floored when `staircase` (Keras' `InverseTimeDecay`).
#[derive(Clone, Debug)]
pub struct InverseTimeDecay {
    /// The decay rate.
    pub decay_rate: f64,
    /// Steps per unit of decay.
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
}

/// `eta_min + (initial_lr - eta_min) (1 + cos(pi t / t_max)) / 2`
/// (PyTorch's `CosineAnnealingLR`, closed form).
#[derive(Clone, Debug)]
pub struct CosineAnnealingLr {
    /// Steps from the initial rate to `eta_min`.
    pub t_max: usize,
    /// The final learning rate.
    pub eta_min: f64,
}

impl Schedule for CosineAnnealingLr {
    fn lr(&self, initial_lr: f64, t: usize) -> f64 {
        cosine(initial_lr, self.eta_min, t as f64 / self.t_max as f64)
    }
}

fn cosine(from: f64, to: f64, progress: f64) -> f64 {
    to + (from - to) * (1.0 + (PI * progress).cos()) / 2.0
}

/// Cosine annealing restarted after `t_0`, `t_0 * t_mult`, ... steps (SGDR,
/// PyTorch's `CosineAnnealingWarmRestarts`).
#[derive(Clone, Debug)]
pub struct CosineAnnealingWarmRestarts {
    /// Length of the first cycle.
    pub t_0: usize,
    /// Growth factor of each following cycle (>= 1).
    pub t_mult: usize,
    /// The lowest learning rate.
    pub eta_min: f64,
}

impl Schedule for CosineAnnealingWarmRestarts {
    fn lr(&self, initial_lr: f64, t: usize) -> f64 {
        let (mut start, mut length) = (0, self.t_0.max(1));
        while t >= start + length {
            start += length;
            length *= self.t_mult.max(1);
        }
        cosine(initial_lr, self.eta_min, (t - start) as f64 / length as f64)
    }
}

/// A linear ramp of the rate's factor from `start_factor` to `end_factor`
/// over `total_iters` steps, then constant (PyTorch's `LinearLR`): the usual
/// warm-up.
#[derive(Clone, Debug)]
pub struct LinearLr {
    /// Factor at step 0.
    pub start_factor: f64,
    /// Factor from step `total_iters` on.
    pub end_factor: f64,
    /// Length of the ramp.
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
        let progress = t.min(self.total_iters) as f64 / self.total_iters.max(1) as f64;
        initial_lr * (self.start_factor + (self.end_factor - self.start_factor) * progress)
    }
}

/// Schedules one after another: schedule `i + 1` starts (at its own step 0)
/// at `milestones[i]` (PyTorch's `SequentialLR`), e.g. warm-up then cosine.
pub struct Chain {
    schedules: Vec<Box<dyn Schedule>>,
    milestones: Vec<usize>,
}

impl Chain {
    /// Chains `schedules`, switching at `milestones`.
    ///
    /// # Panics
    /// If there is not exactly one milestone fewer than schedules, or the
    /// milestones do not increase.
    pub fn new(schedules: Vec<Box<dyn Schedule>>, milestones: Vec<usize>) -> Chain {
        assert_eq!(
            milestones.len() + 1,
            schedules.len(),
            "Chain: {} schedules need {} milestones, got {}",
            schedules.len(),
            schedules.len().saturating_sub(1),
            milestones.len()
        );
        assert!(
            milestones.windows(2).all(|w| w[0] < w[1]),
            "Chain: milestones {milestones:?} do not increase"
        );
        Chain {
            schedules,
            milestones,
        }
    }
}

impl Schedule for Chain {
    fn lr(&self, initial_lr: f64, t: usize) -> f64 {
        let index = self.milestones.iter().filter(|&&m| m <= t).count();
        let start = if index == 0 {
            0
        } else {
            self.milestones[index - 1]
        };
        self.schedules[index].lr(initial_lr, t - start)
    }
}

/// The shape of a cyclical schedule's cycles.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum CyclicMode {
    /// Constant amplitude.
    Triangular,
    /// Amplitude halved every cycle.
    Triangular2,
    /// Amplitude scaled by `gamma^t`.
    ExpRange {
        /// Per-step decay of the amplitude.
        gamma: f64,
    },
}

/// Cyclical learning rates between `base_lr` and `max_lr` (PyTorch's
/// `CyclicLR`; the optimizer's own rate is ignored). Unlike PyTorch's
/// default, momentum is not cycled.
#[derive(Clone, Debug)]
pub struct CyclicLr {
    /// The lower bound.
    pub base_lr: f64,
    /// The upper bound.
    pub max_lr: f64,
    /// Steps of the increasing half-cycle.
    pub step_size_up: usize,
    /// Steps of the decreasing half-cycle.
    pub step_size_down: usize,
    /// Amplitude policy.
    pub mode: CyclicMode,
}

impl Schedule for CyclicLr {
    fn lr(&self, _: f64, t: usize) -> f64 {
        let total = (self.step_size_up + self.step_size_down) as f64;
        let up_ratio = self.step_size_up as f64 / total;
        let cycle = (1.0 + t as f64 / total).floor();
        let x = 1.0 + t as f64 / total - cycle;
        let scale = if x <= up_ratio {
            x / up_ratio
        } else {
            (x - 1.0) / (up_ratio - 1.0)
        };
        let amplitude = match self.mode {
            CyclicMode::Triangular => 1.0,
            CyclicMode::Triangular2 => 1.0 / 2f64.powf(cycle - 1.0),
            CyclicMode::ExpRange { gamma } => gamma.powi(t as i32),
        };
        self.base_lr + (self.max_lr - self.base_lr) * scale * amplitude
    }
}

/// The 1cycle policy (PyTorch's `OneCycleLR` with cosine annealing, two
/// phases): from `max_lr / div_factor` up to `max_lr` over `pct_start` of
/// `total_steps`, then down to `max_lr / (div_factor * final_div_factor)`.
/// The optimizer's own rate is ignored; momentum is not cycled.
#[derive(Clone, Debug)]
pub struct OneCycleLr {
    /// The peak learning rate.
    pub max_lr: f64,
    /// Steps in the whole cycle.
    pub total_steps: usize,
    /// Fraction of the cycle spent increasing (PyTorch default 0.3).
    pub pct_start: f64,
    /// `max_lr / initial rate` (default 25).
    pub div_factor: f64,
    /// `initial rate / final rate` (default 1e4).
    pub final_div_factor: f64,
}

impl OneCycleLr {
    /// PyTorch's defaults for a peak of `max_lr` over `total_steps`.
    pub fn new(max_lr: f64, total_steps: usize) -> OneCycleLr {
        OneCycleLr {
            max_lr,
            total_steps,
            pct_start: 0.3,
            div_factor: 25.0,
            final_div_factor: 1e4,
        }
    }
}

impl Schedule for OneCycleLr {
    fn lr(&self, _: f64, t: usize) -> f64 {
        let initial = self.max_lr / self.div_factor;
        let min = initial / self.final_div_factor;
        let peak_step = self.pct_start * self.total_steps as f64 - 1.0;
        let last_step = self.total_steps as f64 - 1.0;
        let t = t as f64;
        if t <= peak_step {
            cosine(initial, self.max_lr, t / peak_step)
        } else {
            cosine(self.max_lr, min, (t - peak_step) / (last_step - peak_step))
        }
    }
}

/// `initial_lr * f(t)` for any closure (PyTorch's `LambdaLR`).
pub struct LambdaLr<F>(pub F);

impl<F: Fn(usize) -> f64> Schedule for LambdaLr<F> {
    fn lr(&self, initial_lr: f64, t: usize) -> f64 {
        initial_lr * (self.0)(t)
    }
}
