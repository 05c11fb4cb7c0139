//! The per-parameter update rule every optimizer is, and the state it keeps.

/// What an optimizer remembers about one parameter: its step count and
/// buffers the size of the parameter (moments, momentum), plus a few scalars.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ParamState {
    /// Updates applied so far, counting the one in progress (1 on the first).
    pub step: u64,
    /// One buffer per name in [`UpdateRule::buffers`], in that order.
    pub buffers: Vec<Vec<f32>>,
    /// One value per name in [`UpdateRule::scalars`], in that order.
    pub scalars: Vec<f64>,
}

/// An optimizer's update of one parameter, given its gradient: one fused
/// pass over the parameter. Implement it to write an optimizer of your own;
/// [`crate::Optim`] supplies parameter groups, state and checkpoints.
/// Rules are `Sync` because large models update several parameters on
/// different threads at once.
pub trait UpdateRule: Sync {
    /// The learning rate.
    fn lr(&self) -> f64;

    /// Sets the learning rate (schedulers call this).
    fn set_lr(&mut self, lr: f64);

    /// Names of the per-parameter buffers, saved under these names.
    fn buffers(&self) -> &'static [&'static str] {
        &[]
    }

    /// The value every element of buffer `index` starts at.
    fn buffer_initial_value(&self, index: usize) -> f32 {
        let _ = index;
        0.0
    }

    /// Names of per-parameter scalars and their initial values.
    fn scalars(&self) -> &'static [(&'static str, f64)] {
        &[]
    }

    /// Checks the options, returning a message naming any invalid value.
    fn validate(&self) -> Result<(), String>;

    /// Updates `param` in place from `grad`; `state.step` has already been
    /// incremented for this update.
    fn update(&self, param: &mut [f32], grad: &[f32], state: &mut ParamState);
}

/// PyTorch's `lerp`: `a + w (b - a)` for `w < 0.5`, else `b - (b - a)(1 - w)`,
/// which is how `exp_avg.lerp_(grad, 1 - beta1)` rounds.
pub(crate) fn lerp(a: f32, b: f32, weight: f32) -> f32 {
    if weight < 0.5 {
        a + weight * (b - a)
    } else {
        b - (b - a) * (1.0 - weight)
    }
}

/// The gradient with L2 weight decay folded in (`grad + wd * param`).
pub(crate) fn decayed(grad: f32, param: f32, weight_decay: f32) -> f32 {
    if weight_decay != 0.0 {
        grad + weight_decay * param
    } else {
        grad
    }
}

/// Checks that a hyper-parameter lies in a range, naming it and its value.
pub(crate) fn check(name: &str, value: f64, valid: bool, range: &str) -> Result<(), String> {
    if valid && !value.is_nan() {
        Ok(())
    } else {
        Err(format!("invalid {name}: {value} (must be {range})"))
    }
}

/// Checks the options every rule has: a learning rate and a weight decay.
pub(crate) fn check_lr_and_decay(lr: f64, weight_decay: f64) -> Result<(), String> {
    check("learning rate", lr, lr >= 0.0, ">= 0")?;
    check("weight_decay", weight_decay, weight_decay >= 0.0, ">= 0")
}

/// Checks the options every Adam-family rule has: learning rate, weight
/// decay, betas in [0, 1) and eps.
pub(crate) fn check_adam_options(
    lr: f64,
    weight_decay: f64,
    betas: (f64, f64),
    eps: f64,
) -> Result<(), String> {
    check_lr_and_decay(lr, weight_decay)?;
    check("beta1", betas.0, (0.0..1.0).contains(&betas.0), "in [0, 1)")?;
    check("beta2", betas.1, (0.0..1.0).contains(&betas.1), "in [0, 1)")?;
    check("eps", eps, eps >= 0.0, ">= 0")
}
