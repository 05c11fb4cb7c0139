//! The per-parameter update every optimizer of [`crate::Optim`] is.

use crate::options::RuleOptions;
use crate::state::ParamState;

/// An optimizer's update of one parameter: options in `self`, the
/// parameter's state in `Self::State`, the learning rate and step count
/// from the group ([`crate::Optim`] keeps both, with parameter groups and
/// checkpoints). Burn's `SimpleOptimizer` and PyTorch's functional
/// optimizers have the same shape. Rules are `Sync` because large models
/// update several parameters on different threads at once.
///
/// A rule of your own is its options, its state and the update:
///
/// ```
/// use descent_autograd::Param;
/// use descent_io::CheckpointError;
/// use descent_optim::{
///     Optim, OptimError, Optimizer, ParamState, RuleOptions, StateReader, StateWriter,
///     UpdateRule,
/// };
/// use descent_tensor::Tensor;
///
/// /// Sign descent with momentum: `v = mu v + g; p -= lr sign(v)`.
/// #[derive(Clone, Debug)]
/// struct SignMomentum {
///     lr: f64,
///     mu: f64,
/// }
///
/// impl RuleOptions for SignMomentum {
///     const KIND: &'static str = "SignMomentum";
///     fn lr(&self) -> f64 {
///         self.lr
///     }
///     fn validate(&self) -> Result<(), OptimError> {
///         Ok(())
///     }
///     fn options(&self) -> Vec<(String, f64)> {
///         vec![("mu".into(), self.mu)]
///     }
/// }
///
/// struct Velocity(Vec<f32>);
///
/// impl ParamState for Velocity {
///     fn new(len: usize) -> Velocity {
///         Velocity(vec![0.0; len])
///     }
///     fn save(&self, out: &mut StateWriter<'_>) {
///         out.buffer("velocity", &self.0);
///     }
///     fn load(saved: &StateReader<'_>) -> Result<Velocity, CheckpointError> {
///         Ok(Velocity(saved.buffer("velocity")?))
///     }
/// }
///
/// impl UpdateRule for SignMomentum {
///     type State = Velocity;
///     fn update(&self, lr: f64, _: u64, param: &mut [f32], grad: &[f32], state: &mut Velocity) {
///         for ((p, &g), v) in param.iter_mut().zip(grad).zip(&mut state.0) {
///             *v = self.mu as f32 * *v + g;
///             *p -= lr as f32 * v.signum();
///         }
///     }
/// }
///
/// let w = Param::new(Tensor::from([2.0]));
/// let mut opt = Optim::new([w.clone()], SignMomentum { lr: 0.5, mu: 0.5 });
/// w.accumulate_grad(Tensor::from([3.0]));
/// opt.step();
/// assert_eq!(w.value().item(), 1.5);
/// # Ok::<(), OptimError>(())
/// ```
pub trait UpdateRule: RuleOptions {
    /// What the rule remembers about each parameter.
    type State: ParamState;

    /// The state of a parameter before its first update; by default
    /// [`ParamState::new`].
    fn init(&self, param: &[f32]) -> Self::State {
        Self::State::new(param.len())
    }

    /// Updates `param` in place from `grad` at the group's learning rate
    /// `lr`; `step` counts the parameter's updates, this one included (1 on
    /// the first).
    fn update(&self, lr: f64, step: u64, param: &mut [f32], grad: &[f32], state: &mut Self::State);
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

/// The gradient PyTorch's rules start from: negated when maximizing, then
/// with L2 weight decay folded in (`grad + wd * param`).
pub(crate) fn effective_grad(grad: f32, param: f32, maximize: bool, weight_decay: f32) -> f32 {
    let grad = if maximize { -grad } else { grad };
    if weight_decay != 0.0 {
        grad + weight_decay * param
    } else {
        grad
    }
}
