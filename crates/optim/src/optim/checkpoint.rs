//! An [`Optim`]'s state in a checkpoint, under a prefix:
//!
//! - `kind.{KIND}`: the rule's kind, so that state cannot load into another rule;
//! - `groups`, and per group `group.{g}.lr`, `group.{g}.momentum` (rules
//!   with momentum or beta1), `group.{g}.params`, `group.{g}.with_state`
//!   (how many of its parameters have state) and `group.{g}.option.{name}`;
//! - per parameter with state, by name: `{name}.step` and the rule's
//!   buffers, `{name}.exp_avg` and so on (PyTorch's names).
//!
//! Loading checks the kind, the groups and the options, and validates every
//! value, before anything changes.

use descent_io::{Checkpoint, CheckpointError};

use super::{Optim, Slot};
use crate::error::{OptimError, shown};
use crate::rule::UpdateRule;
use crate::state::{ParamState, StateReader, StateWriter, check_groups, count, mismatch, saved_lr};

pub(super) fn save<R: UpdateRule>(optim: &Optim<R>, checkpoint: &mut Checkpoint, prefix: &str) {
    checkpoint.insert_scalar(format!("{prefix}kind.{}", R::KIND), 1.0);
    checkpoint.insert_scalar(format!("{prefix}groups"), optim.groups.len() as f64);
    for (g, group) in optim.groups.iter().enumerate() {
        let key = format!("{prefix}group.{g}");
        checkpoint.insert_scalar(format!("{key}.lr"), group.lr);
        if let Some(momentum) = group.rule.momentum() {
            checkpoint.insert_scalar(format!("{key}.momentum"), momentum);
        }
        checkpoint.insert_scalar(format!("{key}.params"), group.params.len() as f64);
        let with_state = group.slots.iter().flatten().count();
        checkpoint.insert_scalar(format!("{key}.with_state"), with_state as f64);
        for (name, value) in group.rule.options() {
            checkpoint.insert_scalar(format!("{key}.option.{name}"), value);
        }
        for ((name, param), slot) in group.names.iter().zip(&group.params).zip(&group.slots) {
            let Some(slot) = slot else { continue };
            let key = format!("{prefix}{name}");
            checkpoint.insert_scalar(format!("{key}.step"), slot.step as f64);
            slot.state
                .save(&mut StateWriter::new(checkpoint, &key, param.shape()));
        }
    }
}

fn invalid(entry: String) -> impl FnOnce(OptimError) -> CheckpointError {
    move |error| CheckpointError::State(format!("{entry:?}: {error}"))
}

fn check_kind<R: UpdateRule>(checkpoint: &Checkpoint, prefix: &str) -> Result<(), CheckpointError> {
    let marker = format!("{prefix}kind.");
    if checkpoint.scalar(&format!("{marker}{}", R::KIND)).is_some() {
        return Ok(());
    }
    let saved = checkpoint
        .scalar_names()
        .find_map(|name| name.strip_prefix(&marker));
    match saved {
        Some(other) => mismatch(format!(
            "under {prefix:?} was saved by {other}, this optimizer is {}",
            R::KIND
        )),
        None => mismatch(format!(
            "under {prefix:?} holds no optimizer state ({:?} is missing)",
            format!("{marker}{}", R::KIND)
        )),
    }
}

/// The saved options of a group must be the rule's, name for name.
fn check_options<R: UpdateRule>(
    checkpoint: &Checkpoint,
    key: &str,
    rule: &R,
) -> Result<(), CheckpointError> {
    let options = rule.options();
    let marker = format!("{key}.option.");
    for (name, value) in &options {
        let entry = format!("{marker}{name}");
        let saved = checkpoint.require_scalar(&entry)?;
        if saved != *value {
            return mismatch(format!(
                "{entry:?} is {}, the optimizer's {name} is {}",
                shown(saved),
                shown(*value)
            ));
        }
    }
    let unknown = checkpoint
        .scalar_names()
        .filter_map(|name| name.strip_prefix(&marker))
        .find(|saved| options.iter().all(|(name, _)| name != saved));
    match unknown {
        Some(name) => mismatch(format!(
            "\"{marker}{name}\" is not an option of {}",
            R::KIND
        )),
        None => Ok(()),
    }
}

pub(super) fn load<R: UpdateRule>(
    optim: &mut Optim<R>,
    checkpoint: &Checkpoint,
    prefix: &str,
) -> Result<(), CheckpointError> {
    check_kind::<R>(checkpoint, prefix)?;
    check_groups(checkpoint, &format!("{prefix}groups"), optim.groups.len())?;
    let mut restored = Vec::with_capacity(optim.groups.len());
    for (g, group) in optim.groups.iter().enumerate() {
        let key = format!("{prefix}group.{g}");
        let params = count(checkpoint, &format!("{key}.params"), 0.0)?;
        if params != group.params.len() as u64 {
            return mismatch(format!(
                "group {g} has {params} parameters, the optimizer {}",
                group.params.len()
            ));
        }
        let lr = saved_lr(checkpoint, &format!("{key}.lr"))?;
        // The saved momentum is restored like the learning rate; then every
        // option must match.
        let mut rule = group.rule.clone();
        if let Some(current) = rule.momentum() {
            let entry = format!("{key}.momentum");
            let saved = checkpoint.require_scalar(&entry)?;
            if saved != current {
                rule.set_momentum(saved);
            }
            rule.validate().map_err(invalid(entry))?;
        }
        check_options(checkpoint, &key, &rule)?;
        let mut slots = Vec::with_capacity(group.params.len());
        for (name, param) in group.names.iter().zip(&group.params) {
            let key = format!("{prefix}{name}");
            let step_entry = format!("{key}.step");
            if checkpoint.scalar(&step_entry).is_none() {
                slots.push(None);
                continue;
            }
            let step = count(checkpoint, &step_entry, 1.0)?;
            let reader = StateReader::new(checkpoint, &key, param.shape());
            let state = R::State::load(&reader)?;
            slots.push(Some(Slot { step, state }));
        }
        let saved_with_state = count(checkpoint, &format!("{key}.with_state"), 0.0)?;
        let found = slots.iter().flatten().count() as u64;
        if found != saved_with_state {
            return mismatch(format!(
                "holds state for {saved_with_state} parameters of group {g}, but only {found} under \
                 the optimizer's parameter names (saved for another model, or under other names?)"
            ));
        }
        restored.push((lr, rule, slots));
    }
    for (group, (lr, rule, slots)) in optim.groups.iter_mut().zip(restored) {
        (group.lr, group.rule, group.slots) = (lr, rule, slots);
    }
    Ok(())
}
