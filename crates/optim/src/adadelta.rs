//! Adadelta: unit-correct steps from running averages of squared gradients
//! and squared updates, as `torch.optim.Adadelta`.

use crate::check;
use crate::options::rule_options;
use crate::rule::{UpdateRule, effective_grad};
use crate::state::param_state;

rule_options! {
    /// Adadelta options. Defaults are PyTorch's: lr 1.0 (which scales the
    /// computed step), rho 0.9, eps 1e-6, weight_decay 0, minimize.
    pub struct Adadelta ["Adadelta", lr 1.0] {
        /// Smoothing constant of both running averages.
        rho: f64 = 0.9 => check::unit_interval,
        /// Added inside both square roots.
        eps: f64 = 1e-6 => check::non_negative,
        /// L2 penalty added to the gradient.
        weight_decay: f64 = 0.0 => check::non_negative,
    }
}

param_state! {
    /// Adadelta's state, with PyTorch's names.
    pub struct AdadeltaState {
        /// The running average of squared gradients.
        square_avg: Vec<f32>,
        /// The running average of squared updates.
        acc_delta: Vec<f32>,
    }
}

impl UpdateRule for Adadelta {
    type State = AdadeltaState;

    fn update(&self, lr: f64, _: u64, param: &mut [f32], grad: &[f32], state: &mut AdadeltaState) {
        let (lr, rho) = (lr as f32, self.rho as f32);
        let (eps, wd) = (self.eps as f32, self.weight_decay as f32);
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
