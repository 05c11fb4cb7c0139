//! `descent-distributed`: data-parallel training across processes and
//! machines, on MPI, in Horovod's manner.
//!
//! Every rank (process) holds the whole model. `DistributedDataParallel::new`
//! checks that every rank's model has the same parameter names and shapes
//! and copies rank 0's values to all; a [`DistributedSampler`] gives each
//! rank a disjoint shard of each global batch; after the backward pass,
//! `DistributedDataParallel::all_reduce_gradients` averages the gradients
//! over the global batch in one fused buffer (one all-reduce per step, not
//! one per parameter); every rank then takes the same optimizer step.
//!
//! **Reproducible.** The all-reduce is a ring that sums each element in a
//! fixed order (chunk `c` of the buffer as `g[c] + g[c+1] + ... + g[c-1]`,
//! ranks modulo `n`), not `MPI_Allreduce`, whose order may change with the
//! algorithm the library picks. `n` ranks give the same bits run after run,
//! and the parameters after a step with a global batch `B` equal one
//! process's with batch `B` up to f32 summation order.
//!
//! **Resumable on any number of ranks.** The global batches do not depend
//! on the number of ranks, and `DistributedDataParallel::save_checkpoint`
//! (rank 0 only, atomically) keeps nothing that does.
//!
//! **Failing loudly, never hanging.** Ranks whose models differ all return
//! [`DistributedError::ModelMismatch`] before the first step. A failed MPI
//! call, a panic on any rank (`Mpi::init` installs the hook) or
//! `Communicator::abort` ends every rank with a message naming the rank;
//! a rank that dies is reported by `mpirun`, which ends the others.
//!
//! The MPI runtime (`Mpi`, `Communicator`, `DistributedDataParallel`) is
//! behind the `mpi` feature, which needs an MPI library (OpenMPI:
//! `apt-get install libopenmpi-dev openmpi-bin`, and `libclang-dev` for the
//! bindings); without it the crate holds the sampler and builds anywhere.

// Without `mpi` these only serve their unit tests, which the default
// (MPI-free) test suite runs.
#[cfg_attr(not(feature = "mpi"), allow(dead_code))]
mod checkpoint;
mod error;
#[cfg_attr(not(feature = "mpi"), allow(dead_code))]
mod fingerprint;
#[cfg_attr(not(feature = "mpi"), allow(dead_code))]
mod fused;
#[cfg_attr(not(feature = "mpi"), allow(dead_code))]
mod ring;
mod sampler;

#[cfg(feature = "mpi")]
mod comm;
#[cfg(feature = "mpi")]
mod ddp;
#[cfg(feature = "mpi")]
mod runtime;

pub use checkpoint::Progress;
pub use error::DistributedError;
pub use sampler::{DistributedSampler, Shards};

#[cfg(feature = "mpi")]
pub use comm::Communicator;
#[cfg(feature = "mpi")]
pub use ddp::DistributedDataParallel;
#[cfg(feature = "mpi")]
pub use runtime::Mpi;
