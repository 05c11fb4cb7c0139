//! Adadelta: unit-correct steps from running averages of squared gradients
//! and squared updates, as `torch.optim.Adadelta`.

use descent_io::CheckpointError;

use crate::builder::builder_methods;
use crate::check;
use crate::error::OptimError;
use crate::rule::{UpdateRule, effective_grad, flag};
use crate::state::{ParamState, StateReader, StateWriter};

/// Adadelta options. Defaults are PyTorch's: lr 1.0, rho 0.9, eps 1e-6,
/// weight_decay 0, minimize.
#[derive(Clone, Debug, PartialEq)]
pub struct Adadelta {
    lr: f64,
    /// Smoothing constant of both running averages.
    pub rho: f64,
    /// Added inside both square roots.
    pub eps: f64,
    /// L2 penalty added to the gradient.
    pub weight_decay: f64,
    /// Maximize the objective instead of minimizing it.
    pub maximize: bool,
}

impl Adadelta {
    /// Adadelta with learning rate `lr` (which scales the computed step)
    /// and PyTorch's other defaults.
    pub fn new(lr: f64) -> Adadelta {
        Adadelta {
            lr,
            rho: 0.9,
            eps: 1e-6,
            weight_decay: 0.0,
            maximize: false,
        }
    }
}

impl Default for Adadelta {
    fn default() -> Adadelta {
        Adadelta::new(1.0)
    }
}

builder_methods!(Adadelta {
    rho: f64,
    eps: f64,
    weight_decay: f64,
    maximize: bool,
});

/// Adadelta's state, with PyTorch's names.
#[derive(Clone, Debug, PartialEq)]
pub struct AdadeltaState {
    /// The running average of squared gradients.
    pub square_avg: Vec<f32>,
    /// The running average of squared updates.
    pub acc_delta: Vec<f32>,
}

impl ParamState for AdadeltaState {
    fn save(&self, out: &mut StateWriter<'_>) {
        out.buffer("square_avg", &self.square_avg);
        out.buffer("acc_delta", &self.acc_delta);
    }

    fn load(saved: &StateReader<'_>) -> Result<AdadeltaState, CheckpointError> {
        Ok(AdadeltaState {
            square_avg: saved.buffer("square_avg")?,
            acc_delta: saved.buffer("acc_delta")?,
        })
    }
}

impl UpdateRule for Adadelta {
    type State = AdadeltaState;
    const KIND: &'static str = "Adadelta";

    fn lr(&self) -> f64 {
        self.lr
    }

    fn validate(&self) -> Result<(), OptimError> {
        check::unit_interval("rho", self.rho)?;
        check::non_negative("eps", self.eps)?;
        check::non_negative("weight_decay", self.weight_decay)
    }

    fn options(&self) -> Vec<(&'static str, f64)> {
        vec![
            ("rho", self.rho),
            ("eps", self.eps),
            ("weight_decay", self.weight_decay),
            ("maximize", flag(self.maximize)),
        ]
    }

    fn init(&self, param: &[f32]) -> AdadeltaState {
        AdadeltaState {
            square_avg: vec![0.0; param.len()],
            acc_delta: vec![0.0; param.len()],
        }
    }

    fn update(&self, lr: f64, _: u64, param: &mut [f32], grad: &[f32], state: &mut AdadeltaState) {
        let (lr, rho, eps, wd) = (
            lr as f32,
            self.rho as f32,
            self.eps as f32,
            self.weight_decay as f32,
        );
        // `1 - rho` in f64, as PyTorch computes it with Python floats.
        let weight = (1.0 - self.rho) as f32;
        let (square_avg, acc_delta) = (&mut state.square_avg, &mut state.acc_delta);
        for (i, (p, &g)) in param.iter_mut().zip(grad).enumerate() {
            let g = effective_grad(g, *p, self.maximize, wd);
            let v = &mut square_avg[i];
            *v = *v * rho + weight * g * g;
            let std = (*v + eps).sqrt();
            let u = &mut acc_delta[i];
            let delta = (*u + eps).sqrt() / std * g;
            *u = *u * rho + weight * delta * delta;
            *p += -lr * delta;
        }
    }
}
