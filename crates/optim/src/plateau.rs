//! The metric-driven policy: reduce the learning rate when a metric stops
//! improving (PyTorch's `ReduceLROnPlateau`).

use descent_io::{Checkpoint, CheckpointError};

use crate::check;
use crate::error::{OptimError, shown};
use crate::optimizer::Optimizer;
use crate::scheduler::LrScheduler;
use crate::state::{count, mismatch};

/// Whether a smaller or a larger metric is better.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlateauMode {
    /// Lower is better (a loss).
    Min,
    /// Higher is better (an accuracy).
    Max,
}

/// How much better a metric must be than the best so far to count as an
/// improvement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThresholdMode {
    /// Better by a fraction `threshold` of the best (PyTorch's `"rel"`):
    /// `metric < best (1 - threshold)` in `Min` mode.
    Rel,
    /// Better by `threshold` itself (`"abs"`): `metric < best - threshold`
    /// in `Min` mode.
    Abs,
}

/// Options of [`ReduceLrOnPlateau`]; the defaults are PyTorch's: mode min,
/// factor 0.1, patience 10, relative threshold 1e-4, cooldown 0, min_lr 0,
/// eps 1e-8.
#[derive(Clone, Debug)]
pub struct PlateauOptions {
    /// Whether lower or higher is better.
    pub mode: PlateauMode,
    /// Multiplier applied on a plateau, in `[0, 1)`.
    pub factor: f64,
    /// Calls without improvement tolerated.
    pub patience: usize,
    /// The improvement that counts, relative or absolute.
    pub threshold: f64,
    /// Whether `threshold` is relative or absolute.
    pub threshold_mode: ThresholdMode,
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
            threshold_mode: ThresholdMode::Rel,
            cooldown: 0,
            min_lr: 0.0,
            eps: 1e-8,
        }
    }
}

/// Multiplies the learning rate by `factor` when a metric has not improved
/// for more than `patience` calls (PyTorch's `ReduceLROnPlateau`).
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
    /// On what [`ReduceLrOnPlateau::try_new`] returns as an error.
    pub fn new(options: PlateauOptions) -> ReduceLrOnPlateau {
        ReduceLrOnPlateau::try_new(options).unwrap_or_else(|e| panic!("ReduceLrOnPlateau: {e}"))
    }

    /// [`ReduceLrOnPlateau::new`] for options that come from outside the program.
    ///
    /// # Errors
    /// [`OptimError::InvalidOption`] naming an invalid option (`factor`
    /// outside `[0, 1)`, a negative or infinite `threshold`, `min_lr` or
    /// `eps`).
    pub fn try_new(options: PlateauOptions) -> Result<ReduceLrOnPlateau, OptimError> {
        check::fraction("factor", options.factor)?;
        check::non_negative("threshold", options.threshold)?;
        check::non_negative("min_lr", options.min_lr)?;
        check::non_negative("eps", options.eps)?;
        Ok(ReduceLrOnPlateau {
            best: worst(options.mode),
            options,
            bad_steps: 0,
            cooldown_left: 0,
        })
    }

    /// Whether `metric` improves on the best so far (PyTorch's `is_better`).
    fn improves(&self, metric: f64) -> bool {
        let (best, threshold) = (self.best, self.options.threshold);
        match (self.options.mode, self.options.threshold_mode) {
            (PlateauMode::Min, ThresholdMode::Rel) => metric < best * (1.0 - threshold),
            (PlateauMode::Min, ThresholdMode::Abs) => metric < best - threshold,
            (PlateauMode::Max, ThresholdMode::Rel) => metric > best * (1.0 + threshold),
            (PlateauMode::Max, ThresholdMode::Abs) => metric > best + threshold,
        }
    }

    /// Records the latest metric and reduces the rates on a plateau.
    pub fn step(&mut self, metric: f64, optimizer: &mut dyn Optimizer) {
        if self.improves(metric) {
            self.best = metric;
            self.bad_steps = 0;
        } else {
            self.bad_steps += 1;
        }
        if self.cooldown_left > 0 {
            self.cooldown_left -= 1;
            self.bad_steps = 0;
        }
        let o = &self.options;
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

    /// Writes the best metric, the counters and the modes under `prefix`.
    pub fn save_state(&self, checkpoint: &mut Checkpoint, prefix: &str) {
        checkpoint.insert_scalar(format!("{prefix}best"), self.best);
        checkpoint.insert_scalar(format!("{prefix}bad_steps"), self.bad_steps as f64);
        checkpoint.insert_scalar(format!("{prefix}cooldown_left"), self.cooldown_left as f64);
        let [mode, threshold_mode] = self.modes();
        checkpoint.insert_scalar(format!("{prefix}mode_max"), mode);
        checkpoint.insert_scalar(format!("{prefix}threshold_abs"), threshold_mode);
    }

    /// The modes as checkpoints record them: 1 for `Max`, 1 for `Abs`.
    fn modes(&self) -> [f64; 2] {
        [
            f64::from(u8::from(self.options.mode == PlateauMode::Max)),
            f64::from(u8::from(self.options.threshold_mode == ThresholdMode::Abs)),
        ]
    }

    /// Restores what [`ReduceLrOnPlateau::save_state`] wrote, for a policy
    /// with the same modes.
    ///
    /// # Errors
    /// [`CheckpointError::State`] if an entry is missing or invalid, or the
    /// modes differ.
    pub fn load_state(
        &mut self,
        checkpoint: &Checkpoint,
        prefix: &str,
    ) -> Result<(), CheckpointError> {
        let saved_modes = [
            checkpoint.require_scalar(&format!("{prefix}mode_max"))?,
            checkpoint.require_scalar(&format!("{prefix}threshold_abs"))?,
        ];
        if saved_modes != self.modes() {
            return mismatch(format!(
                "under {prefix:?} was saved with other modes (mode_max, threshold_abs) = {saved_modes:?}, the policy's are {:?}",
                self.modes()
            ));
        }
        let entry = format!("{prefix}best");
        let best = checkpoint.require_scalar(&entry)?;
        if !(best.is_finite() || best == worst(self.options.mode)) {
            return mismatch(format!("{entry:?} is {}", shown(best)));
        }
        let bad_steps = count(checkpoint, &format!("{prefix}bad_steps"), 0.0)? as usize;
        let cooldown_left = count(checkpoint, &format!("{prefix}cooldown_left"), 0.0)? as usize;
        (self.best, self.bad_steps, self.cooldown_left) = (best, bad_steps, cooldown_left);
        Ok(())
    }
}

/// The best metric before the first: anything improves on it.
fn worst(mode: PlateauMode) -> f64 {
    match mode {
        PlateauMode::Min => f64::INFINITY,
        PlateauMode::Max => f64::NEG_INFINITY,
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
