//! Where parallel element-wise work starts to pay on this machine: times a
//! serial loop against rayon over fixed 16K-element chunks (the kernels' own
//! scheme) for growing sizes, for a cheap op (add) and a dear one (exp).
//! `descent_tensor::parallel::PARALLEL_MIN_WORK` is set from its output.
//! It runs on a pool thread, as `Trainer::fit` does, so the calling thread
//! takes its share of every split.
//!
//! Run: `cargo bench --bench parallel_threshold`

use std::hint::black_box;
use std::time::Instant;

use rayon::prelude::*;

const CHUNK: usize = 1 << 14;

/// The best of `repeats` timings of `f`, in microseconds.
fn best_us(repeats: usize, mut f: impl FnMut()) -> f64 {
    (0..repeats)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64() * 1e6
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    descent::tensor::parallel::on_pool(run);
}

fn run() {
    println!("threads: {}", rayon::current_num_threads());
    println!(
        "{:>9} {:>12} {:>12} {:>7} {:>12} {:>12} {:>7}",
        "elements", "add serial", "add rayon", "ratio", "exp serial", "exp rayon", "ratio"
    );
    for shift in 12..=22 {
        let n = 1usize << shift;
        let a: Vec<f32> = (0..n).map(|i| (i % 101) as f32 * 0.01).collect();
        let b = a.clone();
        let mut out = vec![0.0f32; n];
        let repeats = (1 << 24) / n + 5;
        let add_serial = best_us(repeats, || {
            for ((o, x), y) in out.iter_mut().zip(&a).zip(&b) {
                *o = x + y;
            }
            black_box(&out);
        });
        let add_rayon = best_us(repeats, || {
            out.par_chunks_mut(CHUNK)
                .enumerate()
                .for_each(|(c, chunk)| {
                    let s = c * CHUNK;
                    for ((o, x), y) in chunk.iter_mut().zip(&a[s..]).zip(&b[s..]) {
                        *o = x + y;
                    }
                });
            black_box(&out);
        });
        let exp_serial = best_us(repeats, || {
            for (o, x) in out.iter_mut().zip(&a) {
                *o = x.exp();
            }
            black_box(&out);
        });
        let exp_rayon = best_us(repeats, || {
            out.par_chunks_mut(CHUNK)
                .enumerate()
                .for_each(|(c, chunk)| {
                    for (o, x) in chunk.iter_mut().zip(&a[c * CHUNK..]) {
                        *o = x.exp();
                    }
                });
            black_box(&out);
        });
        println!(
            "{n:>9} {add_serial:>10.1}us {add_rayon:>10.1}us {:>6.2}x {exp_serial:>10.1}us {exp_rayon:>10.1}us {:>6.2}x",
            add_serial / add_rayon,
            exp_serial / exp_rayon
        );
    }
}
