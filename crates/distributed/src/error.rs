//! What can stop data-parallel training, reported alike on every rank.

/// An error every rank of a group returns together, so that no rank goes on
/// to wait for the others. (A failure on one rank alone, such as a failed
/// MPI call or a panic, aborts every rank instead: see `Mpi::init`.)
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DistributedError {
    /// The ranks hold models with different parameter names or shapes.
    #[error("the ranks' models differ: {0}")]
    ModelMismatch(String),
    /// A checkpoint could not be written, read or restored; the message is
    /// rank 0's, or the restore's, the same on every rank.
    #[error("{0}")]
    Checkpoint(String),
    /// MPI was initialized before in this process (it can be once only).
    #[error("MPI is already initialized in this process")]
    AlreadyInitialized,
}
