//! MPI's lifetime in a process, and what a panic on one rank does.

use mpi::environment::Universe;
use mpi::ffi;

use crate::comm::Communicator;
use crate::error::DistributedError;

/// MPI, initialized for this process (`MPI_Init`) until dropped
/// (`MPI_Finalize`). Launch the program with `mpirun -n N program`.
pub struct Mpi {
    world: Communicator,
    // Dropped after `world`: finalizing comes last.
    _universe: Universe,
}

impl Mpi {
    /// Initializes MPI and installs a panic hook that, after the usual
    /// panic message, ends every rank (`MPI_Abort`): a rank that unwinds
    /// alone would leave the others waiting for it in their next collective
    /// call forever. Panics caught with `catch_unwind` abort too.
    ///
    /// # Errors
    /// [`DistributedError::AlreadyInitialized`] on a second call.
    pub fn init() -> Result<Mpi, DistributedError> {
        let universe = mpi::initialize().ok_or(DistributedError::AlreadyInitialized)?;
        let world = Communicator::new(universe.world());
        let (rank, size) = (world.rank(), world.size());
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            previous(info);
            if mpi::environment::is_initialized() && !mpi::environment::is_finalized() {
                eprintln!(
                    "descent-distributed: rank {rank} of {size} panicked; aborting every rank"
                );
                // SAFETY: MPI is initialized and not finalized.
                unsafe { ffi::MPI_Abort(ffi::RSMPI_COMM_WORLD, 1) };
            }
        }));
        Ok(Mpi {
            world,
            _universe: universe,
        })
    }

    /// Every rank the program was launched with.
    pub fn world(&self) -> &Communicator {
        &self.world
    }
}

impl std::fmt::Debug for Mpi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mpi").field("world", &self.world).finish()
    }
}
