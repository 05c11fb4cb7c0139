//! Cyclical schedules, which set the learning rate from their own bounds
//! (the optimizer's rate is ignored) and by default cycle the momentum, or
//! Adam's `beta1`, against it: PyTorch's `CyclicLR` and `OneCycleLR`.

use std::f64::consts::PI;

use crate::builder::builder_methods;
use crate::check;
use crate::error::OptimError;
use crate::schedule::Schedule;

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
/// `CyclicLR`), with momentum cycled the other way, from `max_momentum`
/// down to `base_momentum` as the rate rises. `CyclicLr::new` gives
/// PyTorch's defaults: 2000 steps up, as many down, triangular, momentum
/// cycled between 0.8 and 0.9.
#[derive(Clone, Debug)]
pub struct CyclicLr {
    /// The lower bound of the rate.
    pub base_lr: f64,
    /// The upper bound of the rate.
    pub max_lr: f64,
    /// Steps of the increasing half-cycle (at least 1).
    pub step_size_up: usize,
    /// Steps of the decreasing half-cycle (at least 1); `None` for
    /// `step_size_up`.
    pub step_size_down: Option<usize>,
    /// Amplitude policy.
    pub mode: CyclicMode,
    /// Cycle the optimizer's momentum (or `beta1`) inversely to the rate.
    pub cycle_momentum: bool,
    /// The momentum at the rate's peak.
    pub base_momentum: f64,
    /// The momentum at the rate's trough.
    pub max_momentum: f64,
}

impl CyclicLr {
    /// Cycles between `base_lr` and `max_lr` with PyTorch's other defaults.
    pub fn new(base_lr: f64, max_lr: f64) -> CyclicLr {
        CyclicLr {
            base_lr,
            max_lr,
            step_size_up: 2000,
            step_size_down: None,
            mode: CyclicMode::Triangular,
            cycle_momentum: true,
            base_momentum: 0.8,
            max_momentum: 0.9,
        }
    }

    /// How far along step `t` is from the trough (0) to the peak (1), times
    /// the mode's amplitude (PyTorch's `scale_factor * scale_fn`).
    fn height(&self, t: usize) -> f64 {
        let up = self.step_size_up as f64;
        let total = up + self.step_size_down.unwrap_or(self.step_size_up) as f64;
        let up_ratio = up / total;
        let t = t as f64;
        let cycle = (1.0 + t / total).floor();
        let x = 1.0 + t / total - cycle;
        let scale = if x <= up_ratio {
            x / up_ratio
        } else {
            (x - 1.0) / (up_ratio - 1.0)
        };
        let amplitude = match self.mode {
            CyclicMode::Triangular => 1.0,
            CyclicMode::Triangular2 => 1.0 / 2f64.powf(cycle - 1.0),
            CyclicMode::ExpRange { gamma } => gamma.powf(t),
        };
        scale * amplitude
    }
}

builder_methods!(CyclicLr {
    step_size_up: usize,
    step_size_down: Option<usize>,
    mode: CyclicMode,
    cycle_momentum: bool,
    base_momentum: f64,
    max_momentum: f64,
});

impl Schedule for CyclicLr {
    fn lr(&self, _: f64, t: usize) -> f64 {
        self.base_lr + (self.max_lr - self.base_lr) * self.height(t)
    }

    fn momentum(&self, t: usize) -> Option<f64> {
        let range = self.max_momentum - self.base_momentum;
        self.cycle_momentum
            .then(|| self.max_momentum - range * self.height(t))
    }

    fn validate(&self) -> Result<(), OptimError> {
        check::non_negative("base_lr", self.base_lr)?;
        check::non_negative("max_lr", self.max_lr)?;
        check::at_least_one("step_size_up", self.step_size_up)?;
        if let Some(down) = self.step_size_down {
            check::at_least_one("step_size_down", down)?;
        }
        if let CyclicMode::ExpRange { gamma } = self.mode {
            check::non_negative("gamma", gamma)?;
        }
        check::non_negative("base_momentum", self.base_momentum)?;
        check::non_negative("max_momentum", self.max_momentum)
    }
}

/// How [`OneCycleLr`] moves between its landmarks.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AnnealStrategy {
    /// Half a cosine (PyTorch's `"cos"`, the default).
    Cos,
    /// A straight line (`"linear"`).
    Linear,
}

impl AnnealStrategy {
    /// From `start` (progress 0) to `end` (progress 1), with PyTorch's
    /// arithmetic.
    fn anneal(self, start: f64, end: f64, progress: f64) -> f64 {
        match self {
            AnnealStrategy::Cos => end + (start - end) / 2.0 * ((PI * progress).cos() + 1.0),
            AnnealStrategy::Linear => (end - start) * progress + start,
        }
    }
}

/// The 1cycle policy (PyTorch's `OneCycleLR`): from `max_lr / div_factor`
/// up to `max_lr` over `pct_start` of `total_steps`, then down to
/// `max_lr / (div_factor * final_div_factor)`; with `three_phase`, back
/// down to the initial rate symmetrically before the final descent. The
/// momentum moves the other way between `max_momentum` and
/// `base_momentum`. Step `total_steps` holds the final rate; stepping past
/// it panics, as PyTorch raises.
#[derive(Clone, Debug)]
pub struct OneCycleLr {
    /// The peak learning rate.
    pub max_lr: f64,
    /// Steps in the whole cycle.
    pub total_steps: usize,
    /// Fraction of the cycle spent increasing (default 0.3).
    pub pct_start: f64,
    /// Cosine or linear annealing (default cosine).
    pub anneal_strategy: AnnealStrategy,
    /// Cycle the optimizer's momentum (or `beta1`) inversely to the rate
    /// (default true).
    pub cycle_momentum: bool,
    /// The momentum at the rate's peak (default 0.85).
    pub base_momentum: f64,
    /// The momentum at the start and the end (default 0.95).
    pub max_momentum: f64,
    /// `max_lr / initial rate` (default 25).
    pub div_factor: f64,
    /// `initial rate / final rate` (default 1e4).
    pub final_div_factor: f64,
    /// Three phases, fast.ai's original policy, instead of two (default false).
    pub three_phase: bool,
}

/// One phase of the 1cycle policy: where it ends, and the rate and the
/// momentum at its start and end.
struct Phase {
    end_step: f64,
    lr: (f64, f64),
    momentum: (f64, f64),
}

impl OneCycleLr {
    /// PyTorch's defaults for a peak of `max_lr` over `total_steps`.
    pub fn new(max_lr: f64, total_steps: usize) -> OneCycleLr {
        OneCycleLr {
            max_lr,
            total_steps,
            pct_start: 0.3,
            anneal_strategy: AnnealStrategy::Cos,
            cycle_momentum: true,
            base_momentum: 0.85,
            max_momentum: 0.95,
            div_factor: 25.0,
            final_div_factor: 1e4,
            three_phase: false,
        }
    }

    /// PyTorch's `_schedule_phases`.
    fn phases(&self) -> Vec<Phase> {
        let initial = self.max_lr / self.div_factor;
        let min = initial / self.final_div_factor;
        let (low, high) = (self.base_momentum, self.max_momentum);
        let total = self.total_steps as f64;
        let peak = self.pct_start * total - 1.0;
        let last = total - 1.0;
        let phase = |end_step, lr, momentum| Phase {
            end_step,
            lr,
            momentum,
        };
        let rise = phase(peak, (initial, self.max_lr), (high, low));
        if self.three_phase {
            let fall = 2.0 * self.pct_start * total - 2.0;
            vec![
                rise,
                phase(fall, (self.max_lr, initial), (low, high)),
                phase(last, (initial, min), (high, high)),
            ]
        } else {
            vec![rise, phase(last, (self.max_lr, min), (low, high))]
        }
    }

    /// The rate and the momentum at step `t`.
    ///
    /// # Panics
    /// If `t` is past `total_steps`.
    fn at(&self, t: usize) -> (f64, f64) {
        assert!(
            t <= self.total_steps,
            "OneCycleLr: stepped {t} times, past total_steps {}",
            self.total_steps
        );
        let phases = self.phases();
        let t = t as f64;
        let mut start = 0.0;
        for (i, phase) in phases.iter().enumerate() {
            if t <= phase.end_step || i == phases.len() - 1 {
                // Step total_steps, which a loop reaches with its last
                // scheduler step, ends the last phase: PyTorch extrapolates
                // past it, below zero with linear annealing.
                let progress = ((t - start) / (phase.end_step - start)).min(1.0);
                let anneal = |(from, to)| self.anneal_strategy.anneal(from, to, progress);
                return (anneal(phase.lr), anneal(phase.momentum));
            }
            start = phase.end_step;
        }
        unreachable!("the last phase takes every step")
    }
}

builder_methods!(OneCycleLr {
    pct_start: f64,
    anneal_strategy: AnnealStrategy,
    cycle_momentum: bool,
    base_momentum: f64,
    max_momentum: f64,
    div_factor: f64,
    final_div_factor: f64,
    three_phase: bool,
});

impl Schedule for OneCycleLr {
    fn lr(&self, _: f64, t: usize) -> f64 {
        self.at(t).0
    }

    fn momentum(&self, t: usize) -> Option<f64> {
        self.cycle_momentum.then(|| self.at(t).1)
    }

    fn validate(&self) -> Result<(), OptimError> {
        check::non_negative("max_lr", self.max_lr)?;
        check::at_least_one("total_steps", self.total_steps)?;
        check::unit_interval("pct_start", self.pct_start)?;
        check::positive("div_factor", self.div_factor)?;
        check::positive("final_div_factor", self.final_div_factor)?;
        check::non_negative("base_momentum", self.base_momentum)?;
        check::non_negative("max_momentum", self.max_momentum)?;
        let mut start = 0.0;
        for phase in self.phases() {
            check::holds(
                "pct_start",
                self.pct_start,
                phase.end_step > start,
                "such that every phase of the cycle lasts at least one step",
            )?;
            start = phase.end_step;
        }
        Ok(())
    }
}
