//! Horovod's data parallelism: every rank holds the whole model, starts
//! from rank 0's parameters, averages its gradients with the others' after
//! each backward pass, and takes the same optimizer step.

use std::path::Path;
use std::time::{Duration, Instant};

use descent_autograd::{Tape, Var};
use descent_data::Batch;
use descent_io::Checkpoint;
use descent_layers::Module;
use descent_optim::Optimizer;

use crate::checkpoint::{Progress, restore_training, training_checkpoint};
use crate::comm::Communicator;
use crate::error::DistributedError;
use crate::fingerprint::{check_same, fingerprint};
use crate::fused::FusedGradients;
use crate::ring::ring_all_reduce;
use crate::sampler::DistributedSampler;

/// A model trained by every rank of a [`Communicator`] together (PyTorch's
/// `DistributedDataParallel`, Horovod's `DistributedOptimizer`).
///
/// Each step, every rank computes the gradient of its mean loss over its
/// shard of the global batch; [`all_reduce_gradients`](Self::all_reduce_gradients)
/// replaces it, on every rank, by the gradient of the mean loss over the
/// whole global batch, in one fused all-reduce whose summation order is
/// fixed (see the crate documentation); every rank then takes the same
/// optimizer step. The parameters stay identical, bit for bit, on every rank.
///
/// ```no_run
/// use descent_autograd::Activation;
/// use descent_data::Dataset;
/// use descent_distributed::{DistributedDataParallel, DistributedSampler, Mpi};
/// use descent_layers::{Dense, Module, Reduction, Sequential, cross_entropy_loss};
/// use descent_optim::{Adam, Optim};
/// use descent_tensor::{Tensor, seeded_rng};
///
/// let mpi = Mpi::init()?;
/// let world = mpi.world();
/// let mut rng = seeded_rng(0);
/// let model = Sequential::new()
///     .push(Dense::new(4, 16, &mut rng).with_activation(Activation::Relu))
///     .push(Dense::new(16, 3, &mut rng));
/// let mut ddp = DistributedDataParallel::new(&model, world)?; // rank 0's weights everywhere
/// let mut opt = Optim::new(model.parameters(), Adam::new(1e-3));
/// let data = Dataset::classification(Tensor::zeros([100, 4]), &[0; 100])?;
/// let mut sampler = DistributedSampler::new(data, 32, world.rank(), world.size())?.shuffle(0);
/// for epoch in 0..5 {
///     for shard in sampler.epoch(epoch) {
///         let loss = ddp.train_step(shard.as_ref(), &mut opt, |tape, batch| {
///             let logits = model.forward(tape.constant(batch.features.clone()));
///             cross_entropy_loss(logits, batch.classes(), Reduction::Mean)
///         });
///         if world.rank() == 0 {
///             println!("loss {loss}"); // the global batch's, the same on every rank
///         }
///     }
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct DistributedDataParallel<'a> {
    model: &'a dyn Module,
    comm: &'a Communicator,
    gradients: FusedGradients,
    scratch: Vec<f32>,
    /// Reused by every step, as its buffers are.
    tape: Tape,
    reductions: usize,
    reduction_time: Duration,
}

impl<'a> DistributedDataParallel<'a> {
    /// Checks that every rank of `comm` holds a model with the same
    /// parameter and buffer names and shapes, then copies rank 0's values
    /// to every rank. Every rank of `comm` must call it.
    ///
    /// # Errors
    /// [`DistributedError::ModelMismatch`] on every rank, naming the first
    /// rank whose model differs from rank 0's and how.
    pub fn new(
        model: &'a dyn Module,
        comm: &'a Communicator,
    ) -> Result<DistributedDataParallel<'a>, DistributedError> {
        check_same(&comm.all_gather_text(&fingerprint(model)))
            .map_err(DistributedError::ModelMismatch)?;
        let ddp = DistributedDataParallel {
            model,
            comm,
            gradients: FusedGradients::new(model.parameters()),
            scratch: Vec::new(),
            tape: Tape::new(),
            reductions: 0,
            reduction_time: Duration::ZERO,
        };
        ddp.broadcast_state();
        Ok(ddp)
    }

    /// The group of ranks.
    pub fn communicator(&self) -> &Communicator {
        self.comm
    }

    /// Copies rank 0's parameters and buffers to every rank, in one
    /// broadcast. Parameters never drift apart; buffers such as running
    /// statistics do (each rank's follow its own shards), and rank 0's are
    /// the ones checkpoints keep.
    pub fn broadcast_state(&self) {
        let tensors = self.model.state_dict();
        let mut values: Vec<f32> = Vec::new();
        for (_, tensor) in &tensors {
            values.extend_from_slice(tensor.value().data());
        }
        self.comm.broadcast_f32(&mut values);
        let mut start = 0;
        for (_, tensor) in &tensors {
            let mut value = tensor.value_mut();
            let end = start + value.numel();
            value.data_mut().copy_from_slice(&values[start..end]);
            start = end;
        }
    }

    /// Replaces this rank's gradients by their average over the global
    /// batch, on every rank, and returns the global batch's mean loss.
    /// `samples` is this rank's number of samples (0 if it had none: its
    /// gradients and `mean_loss` are then ignored), `mean_loss` its mean
    /// loss over them. Every rank of the group must call it each step.
    ///
    /// # Panics
    /// If no rank had a sample.
    pub fn all_reduce_gradients(&mut self, samples: usize, mean_loss: f32) -> f32 {
        let started = Instant::now();
        let loss = if self.comm.size() == 1 {
            // The only rank's gradients are the global batch's already:
            // one rank trains exactly as one process does.
            assert!(
                samples > 0,
                "all_reduce_gradients: no rank had a sample in this step"
            );
            mean_loss
        } else {
            self.gradients.pack(samples, mean_loss);
            ring_all_reduce(self.comm, self.gradients.buffer_mut(), &mut self.scratch);
            self.gradients.unpack()
        };
        self.reductions += 1;
        self.reduction_time += started.elapsed();
        loss
    }

    /// One training step on this rank's `shard` of a global batch:
    /// clears the model's gradients, runs `loss` (forward pass and mean
    /// loss over the shard) and its backward pass, averages the gradients
    /// across ranks, and steps `optimizer`. Returns the global batch's mean
    /// loss. A rank without a shard (`None`) skips the forward pass but
    /// takes part in the rest.
    pub fn train_step(
        &mut self,
        shard: Option<&Batch>,
        optimizer: &mut dyn Optimizer,
        loss: impl for<'t> FnOnce(&'t Tape, &Batch) -> Var<'t>,
    ) -> f32 {
        // The model's, not the optimizer's: every parameter of the model is
        // in the all-reduce, also one the optimizer does not update.
        self.gradients.clear();
        let (samples, mean_loss) = match shard {
            Some(batch) => {
                self.tape.reset();
                let loss = loss(&self.tape, batch);
                loss.backward();
                (batch.len(), loss.item())
            }
            None => (0, 0.0),
        };
        let global_loss = self.all_reduce_gradients(samples, mean_loss);
        optimizer.step();
        global_loss
    }

    /// How many all-reduces ran, and their total time (packing, the ring,
    /// unpacking, and waiting for the slowest rank).
    pub fn all_reduce_time(&self) -> (usize, Duration) {
        (self.reductions, self.reduction_time)
    }

    /// Writes the model, the optimizer's state, the sampler's
    /// configuration and `progress` to `path`, from rank 0 only and
    /// atomically (a crash leaves the previous file whole). Every rank must
    /// call it; all get rank 0's outcome.
    ///
    /// # Errors
    /// [`DistributedError::Checkpoint`] with rank 0's error, on every rank.
    pub fn save_checkpoint(
        &self,
        path: impl AsRef<Path>,
        optimizer: &dyn Optimizer,
        sampler: &DistributedSampler,
        progress: Progress,
    ) -> Result<(), DistributedError> {
        let outcome = if self.comm.rank() == 0 {
            training_checkpoint(self.model, optimizer, sampler, progress)
                .save(path.as_ref())
                .map_err(|err| format!("rank 0 could not save the checkpoint: {err}"))
        } else {
            Ok(())
        };
        self.comm
            .broadcast_result(outcome)
            .map_err(DistributedError::Checkpoint)
    }

    /// Restores what [`save_checkpoint`](Self::save_checkpoint) wrote,
    /// whatever number of ranks wrote it, and returns where to go on. Rank
    /// 0 reads the file and sends it to the others, so only rank 0's
    /// machine needs it. Every rank must call it.
    ///
    /// # Errors
    /// [`DistributedError::Checkpoint`] on every rank if rank 0 cannot read
    /// the file or it does not fit the model, optimizer or sampler; nothing
    /// has changed then.
    pub fn load_checkpoint(
        &self,
        path: impl AsRef<Path>,
        optimizer: &mut dyn Optimizer,
        sampler: &DistributedSampler,
    ) -> Result<Progress, DistributedError> {
        let path = path.as_ref();
        let mut bytes = Vec::new();
        let read = if self.comm.rank() == 0 {
            std::fs::read(path)
                .map(|contents| bytes = contents)
                .map_err(|err| format!("rank 0 could not read {}: {err}", path.display()))
        } else {
            Ok(())
        };
        self.comm
            .broadcast_result(read)
            .map_err(DistributedError::Checkpoint)?;
        self.comm.broadcast_bytes(&mut bytes);
        Checkpoint::from_bytes(&bytes)
            .and_then(|checkpoint| restore_training(&checkpoint, self.model, optimizer, sampler))
            .map_err(|err| DistributedError::Checkpoint(format!("{}: {err}", path.display())))
    }
}

impl std::fmt::Debug for DistributedDataParallel<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DistributedDataParallel")
            .field("rank", &self.comm.rank())
            .field("size", &self.comm.size())
            .field("reductions", &self.reductions)
            .finish_non_exhaustive()
    }
}
