//! When and how kernels split work across rayon threads.
//!
//! Work goes parallel only above [`PARALLEL_MIN_WORK`] units of work,
//! where one unit is one cheap element operation (an add) and a
//! transcendental one (exp, tanh) counts [`TRANSCENDENTAL_COST`]. In a
//! tight loop on a pool thread (`cargo bench --bench parallel_threshold`,
//! 2-core target) a split pays from 32K elements, but in training the other
//! thread has often gone to sleep since the last split, and waking it costs
//! more: 2^18 was the best of 2^16, 2^18 and 2^19 for the CNN flagship's
//! epoch on two threads (`cargo bench --bench epochs -- --workload
//! cnn-adam`, 2026-11-25: 2^19 ~1.03 s, 2^18 ~0.98 s, 2^16 ~0.98 s) and
//! no worse for the large MLP. Work is cut into fixed-size chunks, never
//! into one piece per thread, so every element (and every partial sum) is
//! computed the same way whatever the thread count: results are
//! bit-identical with 1 or 2 threads.

use rayon::prelude::*;

/// Below this much work (in cheap element operations) a kernel runs on the
/// calling thread.
pub const PARALLEL_MIN_WORK: usize = 1 << 18;

/// The work of one transcendental evaluation (exp, ln, tanh), in cheap
/// element operations: with it, such maps go parallel from 64K elements.
pub const TRANSCENDENTAL_COST: usize = 8;

/// The fixed unit of parallel work, in element operations.
pub const CHUNK_WORK: usize = 1 << 14;

/// Runs `f` on a thread of rayon's pool and returns its result, so that
/// the parallel kernels `f` calls split their work between that thread and
/// the others, as OpenMP's master thread joins its team. Called from any
/// other thread, each parallel kernel hands all its work to the pool and
/// sleeps until the pool's threads wake, finish and wake it in turn: for the
/// CNN flagship on two threads that costs ~10% of an epoch
/// (`benches/compare/run.py --workloads cnn-adam`). Training loops
/// ([`Trainer::fit`] in `descent`) run this way; a hand-written loop can too.
/// Inside the pool already, `f` just runs.
///
/// ```
/// use descent_tensor::{Tensor, parallel::on_pool};
///
/// let sum = on_pool(|| Tensor::ones([1000, 1000]).sum());
/// assert_eq!(sum.item(), 1e6);
/// ```
///
/// [`Trainer::fit`]: https://docs.rs/descent/latest/descent/struct.Trainer.html#method.fit
pub fn on_pool<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    rayon::scope(|_| f())
}

/// Calls `fill(start, chunk)` over `out` cut into consecutive chunks, where
/// `start` is the chunk's offset in `out`; in parallel for large outputs.
/// Each chunk holds a whole number of `unit`s (e.g. rows), so `fill` never
/// sees a unit split across chunks.
pub fn fill_chunks(out: &mut [f32], unit: usize, fill: impl Fn(usize, &mut [f32]) + Sync) {
    fill_chunks_weighted(out, unit, 1, fill)
}

/// As [`fill_chunks`], for kernels that do `work_per_element` operations to
/// produce each output element (a reduction over an axis of that length).
pub fn fill_chunks_weighted(
    out: &mut [f32],
    unit: usize,
    work_per_element: usize,
    fill: impl Fn(usize, &mut [f32]) + Sync,
) {
    match parallel_chunk(out.len(), unit, work_per_element) {
        None => fill(0, out),
        Some(chunk) => out
            .par_chunks_mut(chunk)
            .enumerate()
            .for_each(|(i, slice)| fill(i * chunk, slice)),
    }
}

/// As [`fill_chunks_weighted`] for two outputs of the same length, cut at
/// the same places: `fill(a_chunk, b_chunk)` (a kernel that updates one
/// buffer in place while it writes another).
pub fn fill_chunk_pairs_weighted(
    a: &mut [f32],
    b: &mut [f32],
    unit: usize,
    work_per_element: usize,
    fill: impl Fn(&mut [f32], &mut [f32]) + Sync,
) {
    assert_eq!(
        a.len(),
        b.len(),
        "fill_chunk_pairs_weighted: lengths differ"
    );
    match parallel_chunk(a.len(), unit, work_per_element) {
        None => fill(a, b),
        Some(chunk) => a
            .par_chunks_mut(chunk)
            .zip(b.par_chunks_mut(chunk))
            .for_each(|(a, b)| fill(a, b)),
    }
}

/// The chunk length, a whole number of `unit`s, for `len` elements of
/// `work_per_element` each; `None` when the work is too small to repay a
/// rayon call.
fn parallel_chunk(len: usize, unit: usize, work_per_element: usize) -> Option<usize> {
    let unit = unit.max(1);
    let work = work_per_element.max(1);
    if len.saturating_mul(work) < PARALLEL_MIN_WORK || len <= unit {
        return None;
    }
    Some((CHUNK_WORK / work).max(1).div_ceil(unit) * unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_pool_runs_on_a_pool_thread_and_returns_the_result() {
        assert_eq!(rayon::current_thread_index(), None);
        let (index, value) = on_pool(|| (rayon::current_thread_index(), 42));
        assert!(index.is_some(), "ran on the calling thread");
        assert_eq!(value, 42);
        let nested = on_pool(|| on_pool(rayon::current_thread_index));
        assert!(nested.is_some());
    }
}
