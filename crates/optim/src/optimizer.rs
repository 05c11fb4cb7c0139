//! Parameter groups, per-parameter state and checkpoints around any
//! [`UpdateRule`].

use descent_autograd::Param;
use descent_autograd::parking_lot::{RwLockReadGuard, RwLockWriteGuard};
use descent_io::{Checkpoint, CheckpointError};
use descent_tensor::Tensor;
use descent_tensor::parallel::PARALLEL_MIN_WORK;
use rayon::prelude::*;

use crate::rule::{ParamState, UpdateRule};

/// What training loops and schedulers need from any optimizer.
pub trait Optimizer {
    /// Applies one update to every parameter that has a gradient.
    fn step(&mut self);

    /// Clears every parameter's gradient.
    fn zero_grad(&self);

    /// The number of parameter groups.
    fn num_groups(&self) -> usize;

    /// The learning rate of a group.
    fn lr(&self, group: usize) -> f64;

    /// Sets the learning rate of a group.
    fn set_lr(&mut self, group: usize, lr: f64);

    /// Every parameter, group by group.
    fn params(&self) -> Vec<Param>;

    /// Writes step counts, buffers and learning rates under `prefix`.
    fn save_state(&self, checkpoint: &mut Checkpoint, prefix: &str);

    /// Restores what [`Optimizer::save_state`] wrote. Everything is checked
    /// before anything changes, so on `Err` the optimizer is untouched.
    ///
    /// # Errors
    /// [`CheckpointError::State`] naming the missing or mismatched entry.
    fn load_state(&mut self, checkpoint: &Checkpoint, prefix: &str) -> Result<(), CheckpointError>;
}

struct Group<R> {
    rule: R,
    params: Vec<Param>,
    states: Vec<Option<ParamState>>,
}

/// An optimizer: an [`UpdateRule`] applied to groups of parameters, each
/// group with its own options (PyTorch's parameter groups).
///
/// ```
/// use descent_autograd::{Param, Tape};
/// use descent_optim::{Adam, Optim, Optimizer};
/// use descent_tensor::Tensor;
///
/// let w = Param::new(Tensor::from([3.0]));
/// let mut opt = Optim::new([w.clone()], Adam::new(0.1));
/// for _ in 0..200 {
///     let tape = Tape::new();
///     tape.param(&w).square().sum().backward();
///     opt.step();
///     opt.zero_grad();
/// }
/// assert!(w.value().item().abs() < 0.05);
/// ```
pub struct Optim<R> {
    groups: Vec<Group<R>>,
}

impl<R: UpdateRule> Optim<R> {
    /// An optimizer over `params` with one group using `rule`.
    ///
    /// # Panics
    /// If the rule's options are invalid; the message names the value.
    pub fn new(params: impl IntoIterator<Item = Param>, rule: R) -> Optim<R> {
        let mut optimizer = Optim { groups: Vec::new() };
        optimizer.add_param_group(params, rule);
        optimizer
    }

    /// Adds a group of parameters with its own options (e.g. no weight
    /// decay for biases).
    ///
    /// # Panics
    /// If the options are invalid, or a parameter is already in a group.
    pub fn add_param_group(&mut self, params: impl IntoIterator<Item = Param>, rule: R) {
        if let Err(message) = rule.validate() {
            panic!("optimizer: {message}");
        }
        let params: Vec<Param> = params.into_iter().collect();
        for (i, p) in params.iter().enumerate() {
            let seen_before = params[..i].iter().any(|q| q.same_as(p))
                || self
                    .groups
                    .iter()
                    .flat_map(|g| &g.params)
                    .any(|q| q.same_as(p));
            assert!(
                !seen_before,
                "optimizer: a parameter appears in more than one group"
            );
        }
        let states = vec![None; params.len()];
        self.groups.push(Group {
            rule,
            params,
            states,
        });
    }

    /// The options of a group.
    pub fn rule(&self, group: usize) -> &R {
        &self.groups[group].rule
    }

    /// Mutable options of a group.
    pub fn rule_mut(&mut self, group: usize) -> &mut R {
        &mut self.groups[group].rule
    }

    /// The state of parameter `index` of `group`, once it has been updated.
    pub fn state(&self, group: usize, index: usize) -> Option<&ParamState> {
        self.groups[group].states[index].as_ref()
    }
}

/// A parameter's value and gradient, borrowed for its update, and its
/// state with the step counted.
struct Borrowed<'a> {
    value: RwLockWriteGuard<'a, Tensor>,
    grad: RwLockReadGuard<'a, Option<Tensor>>,
    state: &'a mut ParamState,
}

impl Borrowed<'_> {
    /// The parameter's values, its gradient and its state, as a rule takes them.
    fn parts(&mut self) -> (&mut [f32], &[f32], &mut ParamState) {
        let grad = self.grad.as_ref().map_or(&[][..], Tensor::data);
        (self.value.data_mut(), grad, self.state)
    }
}

/// Borrows a parameter for its update; `None` when it has no gradient.
///
/// # Panics
/// If the gradient's shape differs from the parameter's.
fn borrow_for_update<'a, R: UpdateRule>(
    rule: &R,
    param: &'a Param,
    state: &'a mut Option<ParamState>,
) -> Option<Borrowed<'a>> {
    let grad = param.grad_ref();
    let grad_shape = grad.as_ref().map(Tensor::shape)?;
    let value = param.value_mut();
    assert_eq!(
        grad_shape,
        value.shape(),
        "optimizer: gradient of shape {grad_shape:?} for a parameter of shape {:?}",
        value.shape()
    );
    let state = state.get_or_insert_with(|| fresh_state(rule, value.numel()));
    state.step += 1;
    Some(Borrowed { value, grad, state })
}

/// Updates a group's parameters on several threads at once: worth it from
/// 2^19 elements (a memory-bound Adam pass over the 1.86M weights of a
/// 784-1024-1024-10 MLP takes ~2 ms on one core, and a second core's
/// bandwidth roughly halves it). Each parameter is still updated by one
/// thread in one pass, so the bits do not depend on the threads.
fn update_in_parallel<R: UpdateRule>(group: &mut Group<R>) {
    // Borrow on the calling thread (`Param` is not `Send`); the threads
    // then only touch plain slices.
    let mut borrowed: Vec<_> = group
        .params
        .iter()
        .zip(&mut group.states)
        .filter_map(|(param, state)| borrow_for_update(&group.rule, param, state))
        .collect();
    // The borrow guards stay on this thread; the tasks get the slices.
    let mut updates: Vec<_> = borrowed.iter_mut().map(Borrowed::parts).collect();
    // One task per parameter, so an idle thread can steal the large ones.
    updates
        .par_iter_mut()
        .with_max_len(1)
        .for_each(|(param, grad, state)| group.rule.update(param, grad, state));
}

fn fresh_state(rule: &impl UpdateRule, len: usize) -> ParamState {
    ParamState {
        step: 0,
        buffers: (0..rule.buffers().len())
            .map(|i| vec![rule.buffer_initial_value(i); len])
            .collect(),
        scalars: rule.scalars().iter().map(|&(_, v)| v).collect(),
    }
}

impl<R: UpdateRule> Optimizer for Optim<R> {
    fn step(&mut self) {
        for group in &mut self.groups {
            let work: usize = group
                .params
                .iter()
                .filter_map(|p| p.grad_ref().as_ref().map(Tensor::numel))
                .sum();
            if work >= PARALLEL_MIN_WORK && rayon::current_num_threads() > 1 {
                update_in_parallel(group);
                continue;
            }
            for (param, state) in group.params.iter().zip(&mut group.states) {
                if let Some(mut borrowed) = borrow_for_update(&group.rule, param, state) {
                    let (param, grad, state) = borrowed.parts();
                    group.rule.update(param, grad, state);
                }
            }
        }
    }

    fn zero_grad(&self) {
        for param in self.groups.iter().flat_map(|g| &g.params) {
            param.zero_grad();
        }
    }

    fn num_groups(&self) -> usize {
        self.groups.len()
    }

    fn lr(&self, group: usize) -> f64 {
        self.groups[group].rule.lr()
    }

    fn set_lr(&mut self, group: usize, lr: f64) {
        assert!(
            lr >= 0.0,
            "optimizer: invalid learning rate: {lr} (must be >= 0)"
        );
        self.groups[group].rule.set_lr(lr);
    }

    fn params(&self) -> Vec<Param> {
        self.groups
            .iter()
            .flat_map(|g| g.params.iter().cloned())
            .collect()
    }

    fn save_state(&self, checkpoint: &mut Checkpoint, prefix: &str) {
        checkpoint.insert_scalar(format!("{prefix}groups"), self.groups.len() as f64);
        for (g, group) in self.groups.iter().enumerate() {
            checkpoint.insert_scalar(format!("{prefix}group.{g}.lr"), group.rule.lr());
            checkpoint.insert_scalar(
                format!("{prefix}group.{g}.params"),
                group.params.len() as f64,
            );
            for (i, (param, state)) in group.params.iter().zip(&group.states).enumerate() {
                let Some(state) = state else { continue };
                let key = format!("{prefix}state.{g}.{i}");
                checkpoint.insert_scalar(format!("{key}.step"), state.step as f64);
                for (name, buffer) in group.rule.buffers().iter().zip(&state.buffers) {
                    let tensor = Tensor::from_vec(buffer.clone(), param.shape());
                    checkpoint.insert_tensor(format!("{key}.{name}"), tensor);
                }
                for ((name, _), value) in group.rule.scalars().iter().zip(&state.scalars) {
                    checkpoint.insert_scalar(format!("{key}.{name}"), *value);
                }
            }
        }
    }

    fn load_state(&mut self, checkpoint: &Checkpoint, prefix: &str) -> Result<(), CheckpointError> {
        let mismatch = |what: String| Err(CheckpointError::State(what));
        let groups = checkpoint.require_scalar(&format!("{prefix}groups"))?;
        if groups != self.groups.len() as f64 {
            return mismatch(format!(
                "has {groups} parameter groups, the optimizer {}",
                self.groups.len()
            ));
        }
        let mut restored = Vec::with_capacity(self.groups.len());
        for (g, group) in self.groups.iter().enumerate() {
            let lr = checkpoint.require_scalar(&format!("{prefix}group.{g}.lr"))?;
            let count = checkpoint.require_scalar(&format!("{prefix}group.{g}.params"))?;
            if count != group.params.len() as f64 {
                return mismatch(format!(
                    "group {g} has {count} parameters, the optimizer {}",
                    group.params.len()
                ));
            }
            let mut states = Vec::with_capacity(group.params.len());
            for (i, param) in group.params.iter().enumerate() {
                let key = format!("{prefix}state.{g}.{i}");
                let Some(step) = checkpoint.scalar(&format!("{key}.step")) else {
                    states.push(None);
                    continue;
                };
                let mut buffers = Vec::new();
                for name in group.rule.buffers() {
                    let entry = format!("{key}.{name}");
                    match checkpoint.tensor(&entry) {
                        Some(t) if t.shape() == param.shape() => buffers.push(t.to_vec()),
                        Some(t) => {
                            return mismatch(format!(
                                "{entry:?} has shape {:?}, the parameter {:?}",
                                t.shape(),
                                param.shape()
                            ));
                        }
                        None => return mismatch(format!("{entry:?} is missing")),
                    }
                }
                let scalars = group
                    .rule
                    .scalars()
                    .iter()
                    .map(|(name, _)| checkpoint.require_scalar(&format!("{key}.{name}")))
                    .collect::<Result<Vec<f64>, _>>()?;
                states.push(Some(ParamState {
                    step: step as u64,
                    buffers,
                    scalars,
                }));
            }
            restored.push((lr, states));
        }
        for (group, (lr, states)) in self.groups.iter_mut().zip(restored) {
            group.rule.set_lr(lr);
            group.states = states;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Adam;
    use descent_tensor::seeded_rng;

    /// Three Adam steps on parameters large enough to be updated in parallel.
    fn adam_steps() -> Vec<Tensor> {
        let mut rng = seeded_rng(9);
        let params: Vec<Param> = [[700, 700], [200, 200], [3, 5]]
            .into_iter()
            .map(|shape| Param::new(Tensor::randn(shape, &mut rng)))
            .collect();
        let total: usize = params.iter().map(|p| p.value().numel()).sum();
        assert!(total >= PARALLEL_MIN_WORK);
        let mut opt = Optim::new(params.clone(), Adam::new(0.01));
        for _ in 0..3 {
            for p in &params {
                p.accumulate_grad(p.value().mul_scalar(0.5).add_scalar(-0.1));
            }
            opt.step();
            opt.zero_grad();
        }
        params.iter().map(Param::value).collect()
    }

    #[test]
    fn parallel_updates_give_the_same_bits_as_serial_ones() {
        let in_pool = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(adam_steps)
        };
        let serial = in_pool(1);
        let parallel = in_pool(2);
        let initial = Tensor::randn([700, 700], &mut seeded_rng(9));
        assert!(
            !serial[0].all_close(&initial, 1e-3, 0.0),
            "the steps moved nothing"
        );
        for (a, b) in serial.iter().zip(&parallel) {
            assert!(a.bit_eq(b));
        }
    }
}
