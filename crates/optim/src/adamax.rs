//! Adamax: Adam with the infinity norm, as `torch.optim.Adamax`.

use descent_io::CheckpointError;

use crate::adam::check_betas_and_eps;
use crate::builder::builder_methods;
use crate::check;
use crate::error::OptimError;
use crate::rule::{UpdateRule, effective_grad, flag, lerp};
use crate::state::{ParamState, StateReader, StateWriter};

/// Adamax options. Defaults are PyTorch's: lr 2e-3, betas (0.9, 0.999),
/// eps 1e-8, weight_decay 0, minimize.
#[derive(Clone, Debug, PartialEq)]
pub struct Adamax {
    lr: f64,
    /// Decay rates of the first moment and the infinity norm.
    pub betas: (f64, f64),
    /// Added to `|grad|` in the infinity norm.
    pub eps: f64,
    /// L2 penalty added to the gradient.
    pub weight_decay: f64,
    /// Maximize the objective instead of minimizing it.
    pub maximize: bool,
}

impl Adamax {
    /// Adamax with learning rate `lr` and PyTorch's other defaults.
    pub fn new(lr: f64) -> Adamax {
        Adamax {
            lr,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            maximize: false,
        }
    }
}

impl Default for Adamax {
    fn default() -> Adamax {
        Adamax::new(2e-3)
    }
}

builder_methods!(Adamax {
    betas: (f64, f64),
    eps: f64,
    weight_decay: f64,
    maximize: bool,
});

/// Adamax's state, with PyTorch's names.
#[derive(Clone, Debug, PartialEq)]
pub struct AdamaxState {
    /// The first moment estimate `m`.
    pub exp_avg: Vec<f32>,
    /// The exponentially weighted infinity norm `u`.
    pub exp_inf: Vec<f32>,
}

impl ParamState for AdamaxState {
    fn save(&self, out: &mut StateWriter<'_>) {
        out.buffer("exp_avg", &self.exp_avg);
        out.buffer("exp_inf", &self.exp_inf);
    }

    fn load(saved: &StateReader<'_>) -> Result<AdamaxState, CheckpointError> {
        Ok(AdamaxState {
            exp_avg: saved.buffer("exp_avg")?,
            exp_inf: saved.buffer("exp_inf")?,
        })
    }
}

impl UpdateRule for Adamax {
    type State = AdamaxState;
    const KIND: &'static str = "Adamax";

    fn lr(&self) -> f64 {
        self.lr
    }

    fn validate(&self) -> Result<(), OptimError> {
        check_betas_and_eps(self.betas, self.eps)?;
        check::non_negative("weight_decay", self.weight_decay)
    }

    fn options(&self) -> Vec<(&'static str, f64)> {
        vec![
            ("beta2", self.betas.1),
            ("eps", self.eps),
            ("weight_decay", self.weight_decay),
            ("maximize", flag(self.maximize)),
        ]
    }

    fn momentum(&self) -> Option<f64> {
        Some(self.betas.0)
    }

    fn set_momentum(&mut self, beta1: f64) {
        self.betas.0 = beta1;
    }

    fn init(&self, param: &[f32]) -> AdamaxState {
        AdamaxState {
            exp_avg: vec![0.0; param.len()],
            exp_inf: vec![0.0; param.len()],
        }
    }

    fn update(&self, lr: f64, step: u64, param: &mut [f32], grad: &[f32], state: &mut AdamaxState) {
        let (b1, b2) = self.betas;
        let clr = (lr / (1.0 - b1.powi(i32::try_from(step).unwrap_or(i32::MAX)))) as f32;
        let (w1, b2, eps, wd) = (
            (1.0 - b1) as f32,
            b2 as f32,
            self.eps as f32,
            self.weight_decay as f32,
        );
        let (m, u) = (&mut state.exp_avg, &mut state.exp_inf);
        for (i, (p, &g)) in param.iter_mut().zip(grad).enumerate() {
            let g = effective_grad(g, *p, self.maximize, wd);
            m[i] = lerp(m[i], g, w1);
            u[i] = (u[i] * b2).max(g.abs() + eps);
            *p += -clr * m[i] / u[i];
        }
    }
}
