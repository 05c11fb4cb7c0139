//! NAdam: Adam with Nesterov momentum and momentum decay, as
//! `torch.optim.NAdam`.

use descent_io::CheckpointError;

use crate::adam::check_betas_and_eps;
use crate::builder::builder_methods;
use crate::check;
use crate::error::OptimError;
use crate::rule::{UpdateRule, effective_grad, flag, lerp};
use crate::state::{ParamState, StateReader, StateWriter};
use crate::weight_decay::WeightDecay;

/// NAdam options. Defaults are PyTorch's: lr 2e-3, betas (0.9, 0.999),
/// eps 1e-8, L2 weight decay 0, momentum_decay 4e-3, minimize.
#[derive(Clone, Debug, PartialEq)]
pub struct NAdam {
    lr: f64,
    /// Decay rates of the moment estimates.
    pub betas: (f64, f64),
    /// Added to the denominator.
    pub eps: f64,
    /// Weight decay, L2 or decoupled (PyTorch's `decoupled_weight_decay`).
    pub weight_decay: WeightDecay,
    /// The momentum decay `psi`.
    pub momentum_decay: f64,
    /// Maximize the objective instead of minimizing it.
    pub maximize: bool,
}

impl NAdam {
    /// NAdam with learning rate `lr` and PyTorch's other defaults.
    pub fn new(lr: f64) -> NAdam {
        NAdam {
            lr,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: WeightDecay::L2(0.0),
            momentum_decay: 4e-3,
            maximize: false,
        }
    }
}

impl Default for NAdam {
    fn default() -> NAdam {
        NAdam::new(2e-3)
    }
}

builder_methods!(NAdam {
    betas: (f64, f64),
    eps: f64,
    weight_decay: WeightDecay,
    momentum_decay: f64,
    maximize: bool,
});

/// NAdam's state, with PyTorch's names.
#[derive(Clone, Debug, PartialEq)]
pub struct NAdamState {
    /// The first moment estimate `m`.
    pub exp_avg: Vec<f32>,
    /// The second moment estimate `v`.
    pub exp_avg_sq: Vec<f32>,
    /// The product of the momentum coefficients so far, an f32 value as
    /// PyTorch keeps it.
    pub mu_product: f64,
}

impl ParamState for NAdamState {
    fn save(&self, out: &mut StateWriter<'_>) {
        out.buffer("exp_avg", &self.exp_avg);
        out.buffer("exp_avg_sq", &self.exp_avg_sq);
        out.scalar("mu_product", self.mu_product);
    }

    fn load(saved: &StateReader<'_>) -> Result<NAdamState, CheckpointError> {
        Ok(NAdamState {
            exp_avg: saved.buffer("exp_avg")?,
            exp_avg_sq: saved.buffer("exp_avg_sq")?,
            mu_product: saved.scalar("mu_product")?,
        })
    }
}

impl UpdateRule for NAdam {
    type State = NAdamState;
    const KIND: &'static str = "NAdam";

    fn lr(&self) -> f64 {
        self.lr
    }

    fn validate(&self) -> Result<(), OptimError> {
        check_betas_and_eps(self.betas, self.eps)?;
        self.weight_decay.validate()?;
        check::non_negative("momentum_decay", self.momentum_decay)
    }

    fn options(&self) -> Vec<(&'static str, f64)> {
        let mut options = vec![
            ("beta2", self.betas.1),
            ("eps", self.eps),
            ("momentum_decay", self.momentum_decay),
            ("maximize", flag(self.maximize)),
        ];
        options.extend(self.weight_decay.options());
        options
    }

    fn momentum(&self) -> Option<f64> {
        Some(self.betas.0)
    }

    fn set_momentum(&mut self, beta1: f64) {
        self.betas.0 = beta1;
    }

    fn init(&self, param: &[f32]) -> NAdamState {
        NAdamState {
            exp_avg: vec![0.0; param.len()],
            exp_avg_sq: vec![0.0; param.len()],
            mu_product: 1.0,
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
        let (l2, eps) = (self.weight_decay.l2(), self.eps as f32);
        let (w1, b2, w2) = ((1.0 - b1) as f32, b2 as f32, (1.0 - b2) as f32);
        self.weight_decay.decouple(lr, param);
        let (m, v) = (&mut state.exp_avg, &mut state.exp_avg_sq);
        for (i, (p, &g)) in param.iter_mut().zip(grad).enumerate() {
            let g = effective_grad(g, *p, self.maximize, l2);
            m[i] = lerp(m[i], g, w1);
            v[i] = v[i] * b2 + w2 * g * g;
            let denom = (v[i] / bias_correction2).sqrt() + eps;
            *p += grad_step * g / denom;
            *p += avg_step * m[i] / denom;
        }
    }
}
