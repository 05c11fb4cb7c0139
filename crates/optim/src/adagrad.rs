//! Adagrad: steps scaled by the root of the summed squared gradients, as
//! `torch.optim.Adagrad`.

use descent_io::CheckpointError;

use crate::builder::builder_methods;
use crate::check;
use crate::error::OptimError;
use crate::rule::{UpdateRule, effective_grad, flag};
use crate::state::{ParamState, StateReader, StateWriter};

/// Adagrad options. Defaults are PyTorch's: lr 0.01, lr_decay 0,
/// weight_decay 0, initial_accumulator_value 0, eps 1e-10, minimize.
#[derive(Clone, Debug, PartialEq)]
pub struct Adagrad {
    lr: f64,
    /// Learning-rate decay: the step uses `lr / (1 + (t - 1) lr_decay)`.
    pub lr_decay: f64,
    /// L2 penalty added to the gradient.
    pub weight_decay: f64,
    /// Starting value of the squared-gradient sum.
    pub initial_accumulator_value: f64,
    /// Added to the denominator.
    pub eps: f64,
    /// Maximize the objective instead of minimizing it.
    pub maximize: bool,
}

impl Adagrad {
    /// Adagrad with learning rate `lr` and PyTorch's other defaults.
    pub fn new(lr: f64) -> Adagrad {
        Adagrad {
            lr,
            lr_decay: 0.0,
            weight_decay: 0.0,
            initial_accumulator_value: 0.0,
            eps: 1e-10,
            maximize: false,
        }
    }
}

impl Default for Adagrad {
    fn default() -> Adagrad {
        Adagrad::new(0.01)
    }
}

builder_methods!(Adagrad {
    lr_decay: f64,
    weight_decay: f64,
    initial_accumulator_value: f64,
    eps: f64,
    maximize: bool,
});

/// Adagrad's state, with PyTorch's name.
#[derive(Clone, Debug, PartialEq)]
pub struct AdagradState {
    /// The sum of squared gradients.
    pub sum: Vec<f32>,
}

impl ParamState for AdagradState {
    fn save(&self, out: &mut StateWriter<'_>) {
        out.buffer("sum", &self.sum);
    }

    fn load(saved: &StateReader<'_>) -> Result<AdagradState, CheckpointError> {
        Ok(AdagradState {
            sum: saved.buffer("sum")?,
        })
    }
}

impl UpdateRule for Adagrad {
    type State = AdagradState;
    const KIND: &'static str = "Adagrad";

    fn lr(&self) -> f64 {
        self.lr
    }

    fn validate(&self) -> Result<(), OptimError> {
        check::non_negative("lr_decay", self.lr_decay)?;
        check::non_negative("weight_decay", self.weight_decay)?;
        check::non_negative("initial_accumulator_value", self.initial_accumulator_value)?;
        check::non_negative("eps", self.eps)
    }

    fn options(&self) -> Vec<(&'static str, f64)> {
        vec![
            ("lr_decay", self.lr_decay),
            ("weight_decay", self.weight_decay),
            ("initial_accumulator_value", self.initial_accumulator_value),
            ("eps", self.eps),
            ("maximize", flag(self.maximize)),
        ]
    }

    fn init(&self, param: &[f32]) -> AdagradState {
        AdagradState {
            sum: vec![self.initial_accumulator_value as f32; param.len()],
        }
    }

    fn update(
        &self,
        lr: f64,
        step: u64,
        param: &mut [f32],
        grad: &[f32],
        state: &mut AdagradState,
    ) {
        let clr = (lr / (1.0 + (step - 1) as f64 * self.lr_decay)) as f32;
        let (wd, eps) = (self.weight_decay as f32, self.eps as f32);
        for ((p, &g), s) in param.iter_mut().zip(grad).zip(&mut state.sum) {
            let g = effective_grad(g, *p, self.maximize, wd);
            *s += g * g;
            *p += -clr * g / (s.sqrt() + eps);
        }
    }
}
