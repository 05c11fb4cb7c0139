//! NAdam: Adam with Nesterov momentum and momentum decay, as
//! `torch.optim.NAdam`.

use crate::adam::Moments;
use crate::check;
use crate::options::rule_options;
use crate::rule::{UpdateRule, effective_grad};
use crate::state::{ParamState, param_state};
use crate::weight_decay::WeightDecay;

rule_options! {
    /// NAdam options. Defaults are PyTorch's: lr 2e-3, betas (0.9, 0.999),
    /// eps 1e-8, L2 weight decay 0, momentum_decay 4e-3, minimize.
    pub struct NAdam ["NAdam", lr 2e-3, momentum betas] {
        /// Decay rates of the moment estimates.
        betas: (f64, f64) = (0.9, 0.999) => check::betas,
        /// Added to the denominator.
        eps: f64 = 1e-8 => check::non_negative,
        /// Weight decay, L2 or decoupled (PyTorch's `decoupled_weight_decay`).
        weight_decay: WeightDecay = WeightDecay::L2(0.0) => WeightDecay::check,
        /// The momentum decay `psi`.
        momentum_decay: f64 = 4e-3 => check::non_negative,
    }
}

param_state! {
    /// NAdam's state, with PyTorch's names.
    pub struct NAdamState {
        /// The first moment estimate `m`.
        exp_avg: Vec<f32>,
        /// The second moment estimate `v`.
        exp_avg_sq: Vec<f32>,
        /// The product of the momentum coefficients so far, an f32 value as
        /// PyTorch keeps it.
        mu_product: f64,
    }
}

impl UpdateRule for NAdam {
    type State = NAdamState;

    fn init(&self, param: &[f32]) -> NAdamState {
        NAdamState {
            mu_product: 1.0,
            ..NAdamState::new(param.len())
        }
    }

    fn update(&self, lr: f64, step: u64, param: &mut [f32], grad: &[f32], state: &mut NAdamState) {
        let t = step as f64;
        let (b1, b2) = self.betas;
        let bias_correction2 = (1.0 - b2.powf(t)) as f32;
        let mu = b1 * (1.0 - 0.5 * 0.96f64.powf(t * self.momentum_decay));
        let mu_next = b1 * (1.0 - 0.5 * 0.96f64.powf((t + 1.0) * self.momentum_decay));
        // PyTorch keeps mu_product as an f32 tensor.
        let mu_product = (state.mu_product as f32 * mu as f32) as f64;
        state.mu_product = mu_product;
        let mu_product_next = mu_product * mu_next;
        let grad_step = (-lr * (1.0 - mu) / (1.0 - mu_product)) as f32;
        let avg_step = ((-lr * mu_next) / (1.0 - mu_product_next)) as f32;
        let (l2, eps, moments) = (
            self.weight_decay.l2(),
            self.eps as f32,
            Moments::new(self.betas),
        );
        self.weight_decay.decouple(lr, param);
        let (m, v) = (&mut state.exp_avg, &mut state.exp_avg_sq);
        for (i, (p, &g)) in param.iter_mut().zip(grad).enumerate() {
            let g = effective_grad(g, *p, self.maximize, l2);
            moments.update(g, &mut m[i], &mut v[i]);
            let denom = (v[i] / bias_correction2).sqrt() + eps;
            *p += grad_step * g / denom;
            *p += avg_step * m[i] / denom;
        }
    }
}
