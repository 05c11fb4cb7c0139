//! A training run in one checkpoint: the model, the optimizer's state, the
//! sampler's configuration and the next step. Nothing in it depends on the
//! number of ranks, so a run resumes on any number.

use descent_io::{Checkpoint, CheckpointError};
use descent_layers::{Module, ModuleCheckpoint};
use descent_optim::Optimizer;

use crate::sampler::DistributedSampler;

const OPTIMIZER_PREFIX: &str = "optimizer.";
const SAMPLER_PREFIX: &str = "sampler.";
const EPOCH: &str = "progress.epoch";
const STEP: &str = "progress.step";

/// Where a run stands: the next step to train is step `step` (counted in
/// global batches) of epoch `epoch`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// The epoch, from 0.
    pub epoch: usize,
    /// The global batch within the epoch, from 0.
    pub step: usize,
}

/// Everything a resumed run needs.
pub(crate) fn training_checkpoint(
    model: &dyn Module,
    optimizer: &dyn Optimizer,
    sampler: &DistributedSampler,
    progress: Progress,
) -> Checkpoint {
    let mut checkpoint = Checkpoint::from_module(model);
    optimizer.save_state(&mut checkpoint, OPTIMIZER_PREFIX);
    sampler.save_state(&mut checkpoint, SAMPLER_PREFIX);
    checkpoint.insert_scalar(EPOCH, progress.epoch as f64);
    checkpoint.insert_scalar(STEP, progress.step as f64);
    checkpoint
}

/// Restores what [`training_checkpoint`] saved and returns where to go on.
/// On `Err` nothing has changed.
pub(crate) fn restore_training(
    checkpoint: &Checkpoint,
    model: &dyn Module,
    optimizer: &mut dyn Optimizer,
    sampler: &DistributedSampler,
) -> Result<Progress, CheckpointError> {
    sampler.check_state(checkpoint, SAMPLER_PREFIX)?;
    let progress = Progress {
        epoch: checkpoint.require_scalar(EPOCH)? as usize,
        step: checkpoint.require_scalar(STEP)? as usize,
    };
    let before = Checkpoint::from_module(model);
    checkpoint.restore_module(model)?;
    if let Err(err) = optimizer.load_state(checkpoint, OPTIMIZER_PREFIX) {
        before
            .restore_module(model)
            .expect("the model's own state fits the model");
        return Err(err);
    }
    Ok(progress)
}

#[cfg(test)]
mod tests {
    use descent_autograd::{Param, Tape};
    use descent_data::Dataset;
    use descent_layers::Dense;
    use descent_optim::{Adam, Optim, Sgd};
    use descent_tensor::{Tensor, seeded_rng};

    use super::*;

    fn sampler(batch: usize) -> DistributedSampler {
        let data = Dataset::new(Tensor::zeros([12, 2]), Tensor::zeros([12])).unwrap();
        DistributedSampler::new(data, batch, 0, 1)
            .unwrap()
            .shuffle(5)
    }

    /// One Adam step on a 2-to-1 dense layer, so the optimizer has state.
    fn trained(seed: u64) -> (Dense, Optim<Adam>) {
        let model = Dense::new(2, 1, &mut seeded_rng(seed));
        let mut opt = Optim::new(model.parameters(), Adam::new(0.1));
        let tape = Tape::new();
        model
            .forward(tape.constant(Tensor::from([[1.0, 2.0]])))
            .square()
            .sum()
            .backward();
        opt.step();
        (model, opt)
    }

    fn values(model: &dyn Module) -> Vec<Vec<f32>> {
        model
            .parameters()
            .iter()
            .map(|p| p.value().to_vec())
            .collect()
    }

    #[test]
    fn a_run_comes_back_with_its_progress() {
        let (model, opt) = trained(0);
        let progress = Progress { epoch: 3, step: 2 };
        let checkpoint = training_checkpoint(&model, &opt, &sampler(4), progress);

        let (fresh, mut fresh_opt) = trained(1);
        let resumed = restore_training(&checkpoint, &fresh, &mut fresh_opt, &sampler(4)).unwrap();
        assert_eq!(resumed, progress);
        assert_eq!(values(&fresh), values(&model));
        let mut saved_again = Checkpoint::new();
        fresh_opt.save_state(&mut saved_again, OPTIMIZER_PREFIX);
        for name in saved_again.tensor_names() {
            assert_eq!(saved_again.tensor(name), checkpoint.tensor(name), "{name}");
        }
    }

    #[test]
    fn a_refused_checkpoint_changes_nothing() {
        let (model, opt) = trained(0);
        let checkpoint = training_checkpoint(&model, &opt, &sampler(4), Progress::default());
        let (fresh, _) = trained(1);
        let before = values(&fresh);

        let err = restore_training(
            &checkpoint,
            &fresh,
            &mut Optim::new(fresh.parameters(), Adam::new(0.1)),
            &sampler(6),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("sampler.global_batch_size"),
            "{err}"
        );
        assert_eq!(values(&fresh), before);

        // The model fits but the optimizer's state does not: the model is
        // put back as it was.
        let mut sgd = Optim::new(
            [Param::new(Tensor::zeros([1]))],
            Sgd::new(0.1).momentum(descent_optim::Momentum::Classic(0.9)),
        );
        assert!(restore_training(&checkpoint, &fresh, &mut sgd, &sampler(4)).is_err());
        assert_eq!(values(&fresh), before);
    }
}
