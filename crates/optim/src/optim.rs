//! Parameter groups, each with a rule and a learning rate, and every
//! parameter's state, around any [`UpdateRule`].

mod checkpoint;

use descent_autograd::Param;
use descent_autograd::parking_lot::{RwLockReadGuard, RwLockWriteGuard};
use descent_io::{Checkpoint, CheckpointError};
use descent_tensor::Tensor;
use descent_tensor::parallel::PARALLEL_MIN_WORK;
use rayon::prelude::*;

use crate::check;
use crate::error::OptimError;
use crate::optimizer::Optimizer;
use crate::rule::UpdateRule;

/// A parameter handed to an optimizer: a bare [`Param`], named by its
/// position among the optimizer's parameters (`"0"`, `"1"`, ...), or a
/// `(name, Param)` pair from `named_parameters()`, whose saved state then
/// finds its parameter again after the model's parameters are reordered.
pub trait IntoNamedParam {
    /// The parameter, and its name if it has one.
    fn into_named(self) -> (Option<String>, Param);
}

impl IntoNamedParam for Param {
    fn into_named(self) -> (Option<String>, Param) {
        (None, self)
    }
}

impl IntoNamedParam for (String, Param) {
    fn into_named(self) -> (Option<String>, Param) {
        (Some(self.0), self.1)
    }
}

impl IntoNamedParam for (&str, Param) {
    fn into_named(self) -> (Option<String>, Param) {
        (Some(self.0.to_string()), self.1)
    }
}

/// A parameter's step count and the rule's state for it.
struct Slot<S> {
    step: u64,
    state: S,
}

struct Group<R: UpdateRule> {
    rule: R,
    lr: f64,
    params: Vec<Param>,
    names: Vec<String>,
    slots: Vec<Option<Slot<R::State>>>,
}

/// An optimizer: an [`UpdateRule`] applied to groups of parameters, each
/// group with its own options and learning rate (PyTorch's parameter
/// groups).
///
/// ```
/// use descent_autograd::{Param, Tape};
/// use descent_optim::{Adam, Optim, OptimError, Optimizer};
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
///
/// // Options that come from a user (a command line) are checked without a panic:
/// let err = Optim::try_new([w.clone()], Adam::new(-1.0)).unwrap_err();
/// assert!(matches!(err, OptimError::InvalidOption { .. }));
/// ```
pub struct Optim<R: UpdateRule> {
    groups: Vec<Group<R>>,
}

impl<R: UpdateRule> Optim<R> {
    /// An optimizer over `params` (bare or named, see [`IntoNamedParam`])
    /// with one group using `rule`.
    ///
    /// # Panics
    /// On what [`Optim::try_new`] returns as an error (options written in
    /// the program are a programmer's to get right, as PyTorch raises).
    pub fn new<P: IntoNamedParam>(params: impl IntoIterator<Item = P>, rule: R) -> Optim<R> {
        Optim::try_new(params, rule).unwrap_or_else(|e| panic!("optimizer: {e}"))
    }

    /// [`Optim::new`] for options that come from outside the program.
    ///
    /// # Errors
    /// As [`Optim::try_add_param_group`].
    pub fn try_new<P: IntoNamedParam>(
        params: impl IntoIterator<Item = P>,
        rule: R,
    ) -> Result<Optim<R>, OptimError> {
        let mut optimizer = Optim { groups: Vec::new() };
        optimizer.try_add_param_group(params, rule)?;
        Ok(optimizer)
    }

    /// Adds a group of parameters with its own options (e.g. no weight
    /// decay for biases), starting at the rule's learning rate.
    ///
    /// # Panics
    /// On what [`Optim::try_add_param_group`] returns as an error.
    pub fn add_param_group<P: IntoNamedParam>(
        &mut self,
        params: impl IntoIterator<Item = P>,
        rule: R,
    ) {
        self.try_add_param_group(params, rule)
            .unwrap_or_else(|e| panic!("optimizer: {e}"))
    }

    /// [`Optim::add_param_group`] for options that come from outside the program.
    ///
    /// # Errors
    /// [`OptimError::InvalidOption`] naming an invalid option,
    /// [`OptimError::DuplicateParameter`] if a parameter is already in the
    /// optimizer, [`OptimError::DuplicateName`] if two share a name.
    pub fn try_add_param_group<P: IntoNamedParam>(
        &mut self,
        params: impl IntoIterator<Item = P>,
        rule: R,
    ) -> Result<(), OptimError> {
        check::lr(rule.lr())?;
        rule.validate()?;
        let before = self.groups.iter().map(|g| g.params.len()).sum::<usize>();
        let (mut names, mut new_params) = (Vec::new(), Vec::new());
        for (position, (name, param)) in params.into_iter().map(P::into_named).enumerate() {
            let name = name.unwrap_or_else(|| (before + position).to_string());
            let known = self
                .groups
                .iter()
                .flat_map(|g| g.names.iter().zip(&g.params))
                .chain(names.iter().zip(&new_params));
            for (known_name, known_param) in known {
                if known_param.same_as(&param) {
                    return Err(OptimError::DuplicateParameter(name));
                }
                if *known_name == name {
                    return Err(OptimError::DuplicateName(name));
                }
            }
            names.push(name);
            new_params.push(param);
        }
        self.groups.push(Group {
            lr: rule.lr(),
            rule,
            slots: new_params.iter().map(|_| None).collect(),
            params: new_params,
            names,
        });
        Ok(())
    }

    /// The options of a group.
    pub fn rule(&self, group: usize) -> &R {
        &self.groups[group].rule
    }

    /// Mutable options of a group, checked at the next step (which panics
    /// naming an invalid value). Options may change at any time: state an
    /// option needs (a momentum buffer) is created when first used. The
    /// learning rate stays the group's ([`Optimizer::set_lr`]).
    pub fn rule_mut(&mut self, group: usize) -> &mut R {
        &mut self.groups[group].rule
    }

    /// The names of a group's parameters, as checkpoints key their state.
    pub fn param_names(&self, group: usize) -> &[String] {
        &self.groups[group].names
    }

    /// The state of parameter `index` of `group`, once it has been updated.
    pub fn state(&self, group: usize, index: usize) -> Option<&R::State> {
        let slot = self.groups[group].slots[index].as_ref();
        slot.map(|slot| &slot.state)
    }

    /// How many times parameter `index` of `group` has been updated.
    pub fn steps(&self, group: usize, index: usize) -> u64 {
        let slot = self.groups[group].slots[index].as_ref();
        slot.map_or(0, |slot| slot.step)
    }
}

/// A parameter's value and gradient, borrowed for its update, and its slot
/// with the step counted.
struct Borrowed<'a, S> {
    value: RwLockWriteGuard<'a, Tensor>,
    grad: RwLockReadGuard<'a, Option<Tensor>>,
    slot: &'a mut Slot<S>,
}

impl<S> Borrowed<'_, S> {
    /// The parameter's values, its gradient and its slot, as a rule takes them.
    fn parts(&mut self) -> (&mut [f32], &[f32], &mut Slot<S>) {
        let grad = self.grad.as_ref().map_or(&[][..], Tensor::data);
        (self.value.data_mut(), grad, self.slot)
    }
}

/// Borrows a parameter for its update; `None` when it has no gradient.
///
/// # Panics
/// If the gradient's shape differs from the parameter's.
fn borrow_for_update<'a, R: UpdateRule>(
    rule: &R,
    param: &'a Param,
    slot: &'a mut Option<Slot<R::State>>,
) -> Option<Borrowed<'a, R::State>> {
    let grad = param.grad_ref();
    let grad_shape = grad.as_ref().map(Tensor::shape)?;
    let value = param.value_mut();
    assert_eq!(
        grad_shape,
        value.shape(),
        "optimizer: gradient of shape {grad_shape:?} for a parameter of shape {:?}",
        value.shape()
    );
    let slot = slot.get_or_insert_with(|| Slot {
        step: 0,
        state: rule.init(value.data()),
    });
    slot.step += 1;
    Some(Borrowed { value, grad, slot })
}

/// Updates a group's parameters on several threads at once: worth it from
/// 2^19 elements (a memory-bound Adam pass over the 1.86M weights of a
/// 784-1024-1024-10 MLP takes ~2 ms on one core, and a second core's
/// bandwidth roughly halves it). Each parameter is still updated by one
/// thread in one pass, so the bits do not depend on the threads.
fn update_in_parallel<R: UpdateRule>(group: &mut Group<R>) {
    // Borrow on the calling thread; the threads then only touch plain slices.
    let mut borrowed: Vec<_> = group
        .params
        .iter()
        .zip(&mut group.slots)
        .filter_map(|(param, slot)| borrow_for_update(&group.rule, param, slot))
        .collect();
    // The borrow guards stay on this thread; the tasks get the slices.
    let mut updates: Vec<_> = borrowed.iter_mut().map(Borrowed::parts).collect();
    let (rule, lr) = (&group.rule, group.lr);
    // One task per parameter, so an idle thread can steal the large ones.
    updates
        .par_iter_mut()
        .with_max_len(1)
        .for_each(|(param, grad, slot)| rule.update(lr, slot.step, param, grad, &mut slot.state));
}

impl<R: UpdateRule> Optimizer for Optim<R> {
    fn step(&mut self) {
        for (index, group) in self.groups.iter_mut().enumerate() {
            if let Err(error) = group.rule.validate() {
                panic!("optimizer: group {index}: {error}");
            }
            let work: usize = group
                .params
                .iter()
                .filter_map(|p| p.grad_ref().as_ref().map(Tensor::numel))
                .sum();
            if work >= PARALLEL_MIN_WORK && rayon::current_num_threads() > 1 {
                update_in_parallel(group);
                continue;
            }
            for (param, slot) in group.params.iter().zip(&mut group.slots) {
                if let Some(mut borrowed) = borrow_for_update(&group.rule, param, slot) {
                    let (param, grad, slot) = borrowed.parts();
                    group
                        .rule
                        .update(group.lr, slot.step, param, grad, &mut slot.state);
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
        self.groups[group].lr
    }

    fn set_lr(&mut self, group: usize, lr: f64) {
        if let Err(error) = check::lr(lr) {
            panic!("optimizer: group {group}: {error}");
        }
        self.groups[group].lr = lr;
    }

    fn momentum(&self, group: usize) -> Option<f64> {
        self.groups[group].rule.momentum()
    }

    fn set_momentum(&mut self, group: usize, momentum: f64) {
        let rule = &mut self.groups[group].rule;
        assert!(
            rule.momentum().is_some(),
            "optimizer: group {group}: {} has neither momentum nor beta1",
            R::KIND
        );
        let mut changed = rule.clone();
        changed.set_momentum(momentum);
        if let Err(error) = changed.validate() {
            panic!("optimizer: group {group}: {error}");
        }
        *rule = changed;
    }

    fn params(&self) -> Vec<Param> {
        self.groups
            .iter()
            .flat_map(|g| g.params.iter().cloned())
            .collect()
    }

    fn save_state(&self, checkpoint: &mut Checkpoint, prefix: &str) {
        checkpoint::save(self, checkpoint, prefix);
    }

    fn load_state(&mut self, checkpoint: &Checkpoint, prefix: &str) -> Result<(), CheckpointError> {
        checkpoint::load(self, checkpoint, prefix)
    }
}

impl<R: UpdateRule> std::fmt::Debug for Optim<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut list = f.debug_list();
        for group in &self.groups {
            list.entry(&format_args!(
                "{{ rule: {:?}, lr: {}, params: {:?} }}",
                group.rule, group.lr, group.names
            ));
        }
        list.finish()
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
