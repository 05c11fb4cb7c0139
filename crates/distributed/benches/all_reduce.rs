//! The fused gradient all-reduce alone, for buffers of the MNIST MLP's,
//! the CNN's and a 10M-parameter model's size: the ranks meet at a
//! barrier before each call, so the times hold no waiting for a slower
//! rank. Run on 2 ranks:
//!
//! ```sh
//! CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUNNER="mpirun -n 2" \
//!     cargo bench -p descent-distributed --features mpi --bench all_reduce
//! ```

use std::time::{Duration, Instant};

use descent_distributed::{DistributedDataParallel, Mpi};
use descent_layers::{Dense, Module};
use descent_tensor::{Tensor, seeded_rng};

fn main() {
    let mpi = Mpi::init().expect("MPI initializes");
    let world = mpi.world();
    let sizes = [
        ("MNIST MLP", 101_770),
        ("CNN", 215_370),
        ("10M", 10_000_000),
    ];
    for (name, params) in sizes {
        // A 1-to-k dense layer has 2k parameters.
        let model = Dense::new(1, params / 2, &mut seeded_rng(0));
        assert_eq!(model.num_parameters(), params);
        for p in model.parameters() {
            p.accumulate_grad(Tensor::ones(p.shape()));
        }
        let mut ddp = DistributedDataParallel::new(&model, world).unwrap();
        let reps = if params > 1_000_000 { 20 } else { 500 };
        let mut times: Vec<Duration> = (0..reps + 5)
            .map(|_| {
                world.barrier();
                let started = Instant::now();
                ddp.all_reduce_gradients(32, 1.0);
                started.elapsed()
            })
            .skip(5)
            .collect();
        times.sort();
        if world.rank() == 0 {
            let median = times[times.len() / 2].as_secs_f64();
            let bytes = params as f64 * 4.0;
            println!(
                "{name}: {params} parameters ({:.2} MB), {} ranks: median {:.1} us, \
                 min {:.1} us; {:.2} GB/s bus bandwidth (2 (n-1)/n bytes / time, as NCCL counts)",
                bytes / 1e6,
                world.size(),
                median * 1e6,
                times[0].as_secs_f64() * 1e6,
                2.0 * (world.size() - 1) as f64 / world.size() as f64 * bytes / median / 1e9
            );
        }
    }
}
