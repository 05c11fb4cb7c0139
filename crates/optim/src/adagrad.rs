//! Adagrad: steps scaled by the root of the summed squared gradients, as
//! `torch.optim.Adagrad`.

use crate::check;
use crate::options::rule_options;
use crate::rule::{UpdateRule, effective_grad};
use crate::state::param_state;

rule_options! {
    /// Adagrad options. Defaults are PyTorch's: lr 0.01, lr_decay 0,
    /// weight_decay 0, initial_accumulator_value 0, eps 1e-10, minimize.
    pub struct Adagrad ["Adagrad", lr 0.01] {
        /// Learning-rate decay: the step uses `lr / (1 + (t - 1) lr_decay)`.
        lr_decay: f64 = 0.0 => check::non_negative,
        /// L2 penalty added to the gradient.
        weight_decay: f64 = 0.0 => check::non_negative,
        /// Starting value of the squared-gradient sum.
        initial_accumulator_value: f64 = 0.0 => check::non_negative,
        /// Added to the denominator.
        eps: f64 = 1e-10 => check::non_negative,
    }
}

param_state! {
    /// Adagrad's state, with PyTorch's name.
    pub struct AdagradState {
        /// The sum of squared gradients.
        sum: Vec<f32>,
    }
}

impl UpdateRule for Adagrad {
    type State = AdagradState;

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
