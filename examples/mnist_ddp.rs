//! The flagship MLP (784-128-10, Adam 1e-3, a global batch of 64, 5 epochs)
//! trained data-parallel on every rank MPI launched.
//!
//! Run: `cargo build --release --example mnist_ddp --features distributed`,
//! then `mpirun -n 2 target/release/examples/mnist_ddp`.
//! Options: `--data DIR` (the four MNIST files; default: the shipped subset),
//! `--epochs N` (5), `--batch-size N` (64, over all ranks), `--lr F` (1e-3),
//! `--seed N` (0), `--out DIR` (target/mnist_ddp: the checkpoint, written
//! after each epoch), `--resume` (go on from that checkpoint, on any number
//! of ranks).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use descent::distributed::{
    Communicator, DistributedDataParallel, DistributedSampler, Mpi, Progress,
};
use descent::prelude::*;

struct Options {
    data: PathBuf,
    epochs: usize,
    batch_size: usize,
    lr: f64,
    seed: u64,
    out: PathBuf,
    resume: bool,
}

/// The options, or `None` for `--help` (printed by rank 0).
fn parse_options(rank: usize) -> Result<Option<Options>, String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut options = Options {
        data: root.join("data/mnist"),
        epochs: 5,
        batch_size: 64,
        lr: 1e-3,
        seed: 0,
        out: root.join("target/mnist_ddp"),
        resume: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        let number = |v: String| {
            v.parse::<f64>()
                .map_err(|_| format!("{flag}: {v:?} is not a number"))
        };
        match flag.as_str() {
            "--data" => options.data = value()?.into(),
            "--epochs" => options.epochs = number(value()?)? as usize,
            "--batch-size" => options.batch_size = number(value()?)? as usize,
            "--lr" => options.lr = number(value()?)?,
            "--seed" => options.seed = number(value()?)? as u64,
            "--out" => options.out = value()?.into(),
            "--resume" => options.resume = true,
            "--help" | "-h" => {
                if rank == 0 {
                    let header = include_str!("mnist_ddp.rs").lines().take(10);
                    println!("{}", header.collect::<Vec<_>>().join("\n"));
                }
                return Ok(None);
            }
            other => return Err(format!("unknown option {other:?}; try --help")),
        }
    }
    Ok(Some(options))
}

fn main() {
    let mpi = Mpi::init().expect("MPI is initialized once");
    let world = mpi.world();
    // Every rank fails together on a bad option or mismatched model; a rank
    // failing alone (a missing data file on one machine) must still end the
    // others, which would wait for it forever.
    if let Err(err) = run(world) {
        world.abort(err);
    }
}

fn run(world: &Communicator) -> Result<(), Box<dyn std::error::Error>> {
    let Some(options) = parse_options(world.rank())? else {
        return Ok(());
    };
    let leader = world.rank() == 0;
    let mnist = Mnist::load(&options.data)?;
    let train = Dataset::classification(mnist.train_images, &mnist.train_labels)?;
    let (test_images, test_labels) = (mnist.test_images, mnist.test_labels);

    let mut rng = seeded_rng(options.seed);
    let model = Sequential::new()
        .push(Dense::new(784, 128, &mut rng).with_activation(Activation::Relu))
        .push(Dense::new(128, 10, &mut rng));
    let mut opt = Optim::new(model.parameters(), Adam::new(options.lr));
    let mut ddp = DistributedDataParallel::new(&model, world)?;
    let mut sampler =
        DistributedSampler::new(train, options.batch_size, world.rank(), world.size())?
            .shuffle(options.seed);

    let checkpoint = options.out.join("mnist_ddp.ckpt");
    if leader {
        std::fs::create_dir_all(&options.out)?;
    }
    let start = if options.resume {
        ddp.load_checkpoint(&checkpoint, &mut opt, &sampler)?
    } else {
        Progress::default()
    };
    if leader {
        println!(
            "MNIST from {}: {} training and {} test images; {} ranks, global batch {}",
            options.data.display(),
            sampler.dataset().len(),
            test_labels.len(),
            world.size(),
            options.batch_size,
        );
    }

    let mut steps = 0;
    let mut training = Duration::ZERO;
    for epoch in start.epoch..options.epochs {
        let skip = if epoch == start.epoch { start.step } else { 0 };
        let started = Instant::now();
        let (mut loss_sum, mut epoch_steps) = (0.0, 0);
        for shard in sampler.epoch(epoch).skip(skip) {
            loss_sum += ddp.train_step(shard.as_ref(), &mut opt, |tape, batch| {
                let logits = model.forward(tape.constant(batch.features.clone()));
                cross_entropy_loss(logits, batch.classes(), Reduction::Mean)
            });
            epoch_steps += 1;
        }
        training += started.elapsed();
        steps += epoch_steps;
        let next = Progress {
            epoch: epoch + 1,
            step: 0,
        };
        ddp.save_checkpoint(&checkpoint, &opt, &sampler, next)?;
        if leader {
            let tape = Tape::eval();
            let logits = model.forward(tape.constant(test_images.clone()));
            println!(
                "epoch {}: train loss {:.4}, test accuracy {:.2}% ({:.3} s)",
                epoch + 1,
                loss_sum / epoch_steps.max(1) as f32,
                accuracy(&logits.value(), &test_labels) * 100.0,
                started.elapsed().as_secs_f64()
            );
        }
    }

    if leader && steps > 0 {
        let (reductions, reducing) = ddp.all_reduce_time();
        println!(
            "{} ranks: {steps} steps in {:.2} s, {:.0} steps/s; all-reduce {:.3} ms per step ({:.0}% of a step)",
            world.size(),
            training.as_secs_f64(),
            steps as f64 / training.as_secs_f64(),
            reducing.as_secs_f64() * 1e3 / reductions as f64,
            reducing.as_secs_f64() / training.as_secs_f64() * 100.0
        );
        println!("checkpoint: {}", checkpoint.display());
    }
    Ok(())
}
