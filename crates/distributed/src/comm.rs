//! A group of ranks and the few MPI calls training needs. Every call's
//! result is checked: a communicator's error handler is set to return
//! errors, and a failed call aborts every rank with a message saying which
//! call failed and why, rather than leaving the others waiting.

use std::ffi::{c_int, c_void};
use std::fmt::Display;

use mpi::ffi;
use mpi::topology::{Color, SimpleCommunicator};
use mpi::traits::{AsRaw, Communicator as _};

use crate::ring::Exchange;

/// The most elements one MPI call moves: its counts are C `int`s.
const MAX_COUNT: usize = 1 << 30;

/// A group of ranks that train together (an MPI communicator): every rank
/// of the world from [`Mpi::world`](crate::Mpi::world), or a part of it from
/// [`Communicator::split`].
pub struct Communicator {
    comm: SimpleCommunicator,
}

impl std::fmt::Debug for Communicator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Communicator")
            .field("rank", &self.rank())
            .field("size", &self.size())
            .finish()
    }
}

impl Communicator {
    pub(crate) fn new(comm: SimpleCommunicator) -> Communicator {
        // SAFETY: a valid communicator and a predefined error handler.
        let code = unsafe { ffi::MPI_Comm_set_errhandler(comm.as_raw(), ffi::RSMPI_ERRORS_RETURN) };
        let communicator = Communicator { comm };
        communicator.check("MPI_Comm_set_errhandler", code);
        communicator
    }

    /// This rank, in `0..size()`.
    pub fn rank(&self) -> usize {
        self.comm.rank() as usize
    }

    /// The number of ranks.
    pub fn size(&self) -> usize {
        self.comm.size() as usize
    }

    /// Splits the group (`MPI_Comm_split`): ranks passing the same `color`
    /// form a new group, ranked in their order here; ranks passing `None`
    /// get `None`. Every rank must call it.
    pub fn split(&self, color: Option<u16>) -> Option<Communicator> {
        let color = color.map_or_else(Color::undefined, |c| Color::with_value(c.into()));
        self.comm.split_by_color(color).map(Communicator::new)
    }

    /// Waits until every rank has reached this call.
    pub fn barrier(&self) {
        // SAFETY: a valid communicator.
        let code = unsafe { ffi::MPI_Barrier(self.comm.as_raw()) };
        self.check("MPI_Barrier", code);
    }

    /// Prints `message` with this rank's number and ends every rank of
    /// every group (`MPI_Abort`): what a rank that fails alone must do, since
    /// the others would otherwise wait for it forever.
    pub fn abort(&self, message: impl Display) -> ! {
        eprintln!(
            "descent-distributed: rank {} of {}: {message}; aborting every rank",
            self.rank(),
            self.size()
        );
        // SAFETY: the world communicator is valid while MPI is initialized.
        unsafe { ffi::MPI_Abort(ffi::RSMPI_COMM_WORLD, 1) };
        std::process::abort()
    }

    /// Copies rank 0's `values` to every rank.
    pub(crate) fn broadcast_f32(&self, values: &mut [f32]) {
        for piece in values.chunks_mut(MAX_COUNT) {
            // SAFETY: `piece` holds `piece.len()` f32s, on every rank alike.
            let code = unsafe {
                ffi::MPI_Bcast(
                    piece.as_mut_ptr().cast::<c_void>(),
                    piece.len() as c_int,
                    ffi::RSMPI_FLOAT,
                    0,
                    self.comm.as_raw(),
                )
            };
            self.check("MPI_Bcast", code);
        }
    }

    /// Copies rank 0's `bytes`, whatever their length, to every rank.
    pub(crate) fn broadcast_bytes(&self, bytes: &mut Vec<u8>) {
        let mut len = [bytes.len() as u64];
        // SAFETY: one u64 on every rank.
        let code = unsafe {
            ffi::MPI_Bcast(
                len.as_mut_ptr().cast::<c_void>(),
                1,
                ffi::RSMPI_UINT64_T,
                0,
                self.comm.as_raw(),
            )
        };
        self.check("MPI_Bcast", code);
        bytes.resize(len[0] as usize, 0);
        for piece in bytes.chunks_mut(MAX_COUNT) {
            // SAFETY: `piece` holds `piece.len()` bytes, on every rank alike.
            let code = unsafe {
                ffi::MPI_Bcast(
                    piece.as_mut_ptr().cast::<c_void>(),
                    piece.len() as c_int,
                    ffi::RSMPI_UINT8_T,
                    0,
                    self.comm.as_raw(),
                )
            };
            self.check("MPI_Bcast", code);
        }
    }

    /// Rank 0's result on every rank: `Ok`, or its error message.
    pub(crate) fn broadcast_result(&self, result: Result<(), String>) -> Result<(), String> {
        let mut bytes = match result {
            Ok(()) => Vec::new(),
            Err(message) => message.into_bytes(),
        };
        self.broadcast_bytes(&mut bytes);
        if bytes.is_empty() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&bytes).into_owned())
        }
    }

    /// Every rank's `text`, in rank order, on every rank.
    pub(crate) fn all_gather_text(&self, text: &str) -> Vec<String> {
        assert!(
            text.len() < MAX_COUNT,
            "all_gather_text: {} bytes is too long",
            text.len()
        );
        let mut lengths = vec![0 as c_int; self.size()];
        // SAFETY: one int sent and one received per rank.
        let code = unsafe {
            ffi::MPI_Allgather(
                [text.len() as c_int].as_ptr().cast::<c_void>(),
                1,
                ffi::RSMPI_INT32_T,
                lengths.as_mut_ptr().cast::<c_void>(),
                1,
                ffi::RSMPI_INT32_T,
                self.comm.as_raw(),
            )
        };
        self.check("MPI_Allgather", code);
        let offsets: Vec<c_int> = lengths
            .iter()
            .scan(0, |end, &len| {
                let start = *end;
                *end += len;
                Some(start)
            })
            .collect();
        let total: usize = lengths.iter().map(|&len| len as usize).sum();
        let mut gathered = vec![0u8; total];
        // SAFETY: `gathered` holds every rank's length at its offset.
        let code = unsafe {
            ffi::MPI_Allgatherv(
                text.as_ptr().cast::<c_void>(),
                text.len() as c_int,
                ffi::RSMPI_UINT8_T,
                gathered.as_mut_ptr().cast::<c_void>(),
                lengths.as_ptr(),
                offsets.as_ptr(),
                ffi::RSMPI_UINT8_T,
                self.comm.as_raw(),
            )
        };
        self.check("MPI_Allgatherv", code);
        offsets
            .iter()
            .zip(&lengths)
            .map(|(&start, &len)| {
                let bytes = &gathered[start as usize..(start + len) as usize];
                String::from_utf8_lossy(bytes).into_owned()
            })
            .collect()
    }

    /// Aborts every rank if an MPI call failed.
    fn check(&self, call: &str, code: c_int) {
        if code != ffi::MPI_SUCCESS as c_int {
            self.abort(format!("{call} failed: {}", error_text(code)));
        }
    }
}

impl Exchange for Communicator {
    fn rank(&self) -> usize {
        Communicator::rank(self)
    }

    fn size(&self) -> usize {
        Communicator::size(self)
    }

    fn send_receive(&self, send: &[f32], to: usize, receive: &mut [f32], from: usize) {
        assert!(
            send.len() <= MAX_COUNT && receive.len() <= MAX_COUNT,
            "send_receive: a chunk of {} values is more than one MPI message holds",
            send.len().max(receive.len())
        );
        // SAFETY: the buffers hold the counts given; MPI_Sendrecv allows
        // the partner to be this rank's neighbour on both sides.
        let code = unsafe {
            ffi::MPI_Sendrecv(
                send.as_ptr().cast::<c_void>(),
                send.len() as c_int,
                ffi::RSMPI_FLOAT,
                to as c_int,
                0,
                receive.as_mut_ptr().cast::<c_void>(),
                receive.len() as c_int,
                ffi::RSMPI_FLOAT,
                from as c_int,
                0,
                self.comm.as_raw(),
                ffi::RSMPI_STATUS_IGNORE,
            )
        };
        self.check("MPI_Sendrecv", code);
    }
}

/// MPI's description of an error code.
fn error_text(code: c_int) -> String {
    let mut text = vec![0u8; ffi::MPI_MAX_ERROR_STRING as usize];
    let mut len: c_int = 0;
    // SAFETY: `text` holds MPI_MAX_ERROR_STRING bytes, as the call requires.
    let described = unsafe { ffi::MPI_Error_string(code, text.as_mut_ptr().cast(), &mut len) } == 0;
    if described {
        text.truncate(len.max(0) as usize);
        format!("{} (MPI error {code})", String::from_utf8_lossy(&text))
    } else {
        format!("MPI error {code}")
    }
}
