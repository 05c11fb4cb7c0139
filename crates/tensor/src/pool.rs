//! Recycled tensor buffers. A training step allocates the same shapes every
//! time; when a tensor whose buffer nobody else shares is dropped, the buffer
//! goes to a small per-thread pool, and the next kernel that needs a buffer
//! of that length takes it back. Steady-state steps then allocate (and fault
//! in fresh pages for) almost nothing. The pool is bounded in bytes, in
//! buffers per length and in lengths; the least recently used length goes
//! first. A step uses few lengths, so lookups are a short linear scan.

use std::cell::RefCell;
use std::sync::Arc;

/// The most memory the pool keeps per thread.
const MAX_POOLED_BYTES: usize = 64 << 20;
/// The most buffers kept of any one length.
const MAX_PER_LENGTH: usize = 32;
/// Shorter buffers are left to the allocator, whose thread cache serves
/// them faster than the pool's lookup.
const MIN_POOLED_LEN: usize = 16;
/// The most distinct lengths kept.
const MAX_LENGTHS: usize = 64;

struct Class {
    len: usize,
    buffers: Vec<Arc<[f32]>>,
    last_used: u64,
}

#[derive(Default)]
struct Pool {
    classes: Vec<Class>,
    bytes: usize,
    clock: u64,
}

impl Pool {
    fn class(&mut self, len: usize) -> Option<&mut Class> {
        self.clock += 1;
        let clock = self.clock;
        let class = self.classes.iter_mut().find(|c| c.len == len)?;
        class.last_used = clock;
        Some(class)
    }

    /// Evicts least recently used lengths until the pool is within bounds.
    fn shrink(&mut self) {
        while self.bytes > MAX_POOLED_BYTES || self.classes.len() > MAX_LENGTHS {
            let Some(oldest) = (0..self.classes.len()).min_by_key(|&i| self.classes[i].last_used)
            else {
                return;
            };
            let class = self.classes.swap_remove(oldest);
            self.bytes -= class.len * size_of::<f32>() * class.buffers.len();
        }
    }
}

thread_local! {
    static POOL: RefCell<Pool> = RefCell::new(Pool::default());
}

/// A buffer of exactly `len` elements from the pool, with stale contents.
pub(crate) fn take(len: usize) -> Option<Arc<[f32]>> {
    if len < MIN_POOLED_LEN {
        return None;
    }
    POOL.try_with(|pool| {
        let mut pool = pool.borrow_mut();
        let buffer = pool.class(len)?.buffers.pop()?;
        pool.bytes -= len * size_of::<f32>();
        Some(buffer)
    })
    .ok()
    .flatten()
}

/// Keeps `buffer` for reuse if it is unshared and not too large.
pub(crate) fn give(mut buffer: Arc<[f32]>) {
    let len = buffer.len();
    let bytes = len * size_of::<f32>();
    if len < MIN_POOLED_LEN || bytes > MAX_POOLED_BYTES / 4 || Arc::get_mut(&mut buffer).is_none() {
        return;
    }
    let _ = POOL.try_with(|pool| {
        let mut pool = pool.borrow_mut();
        let clock = pool.clock;
        match pool.class(len) {
            Some(class) if class.buffers.len() >= MAX_PER_LENGTH => return,
            Some(class) => class.buffers.push(buffer),
            None => pool.classes.push(Class {
                len,
                buffers: vec![buffer],
                last_used: clock,
            }),
        }
        pool.bytes += bytes;
        pool.shrink();
    });
}
