//! Heap allocations per training step in steady state, and the peak heap of
//! training the flagship MNIST configuration, through a counting allocator
//! (kept out of `benches/perf.rs`, whose timings it would slow).
//!
//! Run: `cargo bench --bench allocations`

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

// Each benchmark binary uses part of the shared code.
#[allow(dead_code)]
mod common;
use common::StepBench;

struct Counting;
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator and only updates counters.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Relaxed);
        let now = CURRENT.fetch_add(layout.size(), Relaxed) + layout.size();
        PEAK.fetch_max(now, Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn main() {
    println!("### heap allocations per training step in steady state (784-128-10, batch 64)\n");
    let mut bench = StepBench::new(&[784, 128, 10], 64);
    for _ in 0..20 {
        bench.step();
    }
    let mut per_step = Vec::new();
    let mut ops = 0;
    for _ in 0..3 {
        let before = ALLOCATIONS.load(Relaxed);
        for _ in 0..1000 {
            ops = bench.step();
        }
        per_step.push((ALLOCATIONS.load(Relaxed) - before) as f64 / 1000.0);
    }
    println!(
        "{per_step:?} allocations per step over three 1,000-step windows; {ops} values recorded on the tape per step"
    );

    println!("\n### peak heap while training the flagship MNIST configuration (3 epochs)\n");
    let (model, mut opt, mut loader) = common::mnist_setup();
    let data_set = CURRENT.load(Relaxed);
    PEAK.store(data_set, Relaxed);
    for _ in 0..3 {
        common::mnist_epoch(&model, &mut opt, &mut loader);
    }
    println!(
        "{:.1} MB in all, {:.1} MB above the loaded data set",
        PEAK.load(Relaxed) as f64 / 1e6,
        (PEAK.load(Relaxed) - data_set) as f64 / 1e6
    );
}
