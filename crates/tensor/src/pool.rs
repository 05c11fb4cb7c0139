//! Recycled tensor buffers. A training step allocates the same shapes every
//! time; when a tensor whose buffer nobody else shares is dropped, the buffer
//! goes to a small per-thread pool, and the next kernel that needs a buffer
//! of that length takes it back. Steady-state steps then allocate (and fault
//! in fresh pages for) almost nothing. The pool is bounded in bytes and in
//! buffers per length, and is searched linearly: a step uses few lengths.

use std::cell::RefCell;
use std::sync::Arc;

/// The most memory the pool keeps per thread.
const MAX_POOLED_BYTES: usize = 64 << 20;
/// The most buffers kept of any one length.
const MAX_PER_LENGTH: usize = 8;
/// The most distinct lengths kept; the least recently returned go first.
const MAX_LENGTHS: usize = 64;

#[derive(Default)]
struct Pool {
    /// (length, buffers of that length), least recently used first.
    classes: Vec<(usize, Vec<Arc<[f32]>>)>,
    bytes: usize,
}

impl Pool {
    /// Moves the class of `len` to the most recently used end, creating it
    /// if needed; returns its index.
    fn touch(&mut self, len: usize) -> usize {
        let class = match self.classes.iter().rposition(|(l, _)| *l == len) {
            Some(i) => self.classes.remove(i),
            None => (len, Vec::new()),
        };
        self.classes.push(class);
        self.classes.len() - 1
    }

    /// Drops the least recently used classes until `incoming` more bytes fit.
    fn make_room(&mut self, incoming: usize) {
        while (self.bytes + incoming > MAX_POOLED_BYTES || self.classes.len() > MAX_LENGTHS)
            && self.classes.len() > 1
        {
            let (len, buffers) = self.classes.remove(0);
            self.bytes -= len * size_of::<f32>() * buffers.len();
        }
    }
}

thread_local! {
    static POOL: RefCell<Pool> = RefCell::new(Pool::default());
}

/// A buffer of exactly `len` elements from the pool, with stale contents.
pub(crate) fn take(len: usize) -> Option<Arc<[f32]>> {
    POOL.try_with(|pool| {
        let mut pool = pool.borrow_mut();
        pool.classes.iter().rposition(|(l, _)| *l == len)?;
        let index = pool.touch(len);
        let buffer = pool.classes[index].1.pop()?;
        pool.bytes -= len * size_of::<f32>();
        Some(buffer)
    })
    .ok()
    .flatten()
}

/// Keeps `buffer` for reuse if it is unshared, evicting the least recently
/// used lengths when the pool is full.
pub(crate) fn give(mut buffer: Arc<[f32]>) {
    let len = buffer.len();
    let bytes = len * size_of::<f32>();
    if len == 0 || bytes > MAX_POOLED_BYTES / 4 || Arc::get_mut(&mut buffer).is_none() {
        return;
    }
    let _ = POOL.try_with(|pool| {
        let mut pool = pool.borrow_mut();
        let index = pool.touch(len);
        if pool.classes[index].1.len() >= MAX_PER_LENGTH {
            return;
        }
        pool.classes[index].1.push(buffer);
        pool.bytes += bytes;
        pool.make_room(0);
    });
}
