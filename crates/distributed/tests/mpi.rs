//! Data-parallel training under MPI, on 2 ranks.
//!
//! Launched by `mpirun` (`OMPI_COMM_WORLD_SIZE` or `PMI_SIZE` set), every
//! rank runs the suite below in the same order; a failed check panics, and
//! the panic hook ends the whole job with the message:
//!
//! ```sh
//! CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUNNER="mpirun -n 2 --oversubscribe" \
//!     cargo test -p descent-distributed --features mpi --test mpi
//! ```
//!
//! Run plainly, it checks that failures end every rank: each scenario is a
//! fresh `mpirun -n 2` of this program, which must exit with an error,
//! quickly, saying why. Without `mpirun` installed it does nothing.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use descent_autograd::{Activation, Tape};
use descent_data::{Batch, Dataset};
use descent_distributed::{
    Communicator, DistributedDataParallel, DistributedError, DistributedSampler, Mpi, Progress,
};
use descent_layers::{Dense, Module, Reduction, Sequential, cross_entropy_loss};
use descent_optim::{Adam, Optim, Optimizer, Sgd};
use descent_tensor::{Tensor, seeded_rng};
use mpi::topology::SimpleCommunicator;
use mpi::traits::CommunicatorCollectives;

/// Selects a failure scenario in a child job.
const SCENARIO: &str = "DESCENT_MPI_SCENARIO";
/// How long a failing job may take to end before it counts as hung.
const HANG: Duration = Duration::from_secs(60);

/// Largest parameter difference between 2 ranks and one process, which sum
/// in different orders: after one SGD step (lr 0.1), and after 10 to 13
/// Adam steps (lr 0.01), across a checkpoint too. Measured: 1.5e-8 and
/// 3.0e-8, one and two f32 ulps of weights near 0.2; the bounds are 4 ulps
/// and 10 times the measurement (Adam divides by the gradient's scale,
/// which can enlarge a difference).
const ONE_STEP_TOLERANCE: f32 = 6e-8;
const ADAM_TOLERANCE: f32 = 3e-7;

fn main() {
    if let Ok(scenario) = std::env::var(SCENARIO) {
        run_scenario(&scenario);
    } else if std::env::var_os("OMPI_COMM_WORLD_SIZE").is_some()
        || std::env::var_os("PMI_SIZE").is_some()
    {
        run_suite();
    } else {
        run_failure_scenarios();
    }
}

type Test = fn(&Communicator);

fn run_suite() {
    let mpi = Mpi::init().expect("MPI initializes");
    let world = mpi.world();
    assert_eq!(world.size(), 2, "the suite runs on 2 ranks: mpirun -n 2");
    let tests: [(&str, Test); 11] = [
        (
            "every_rank_starts_from_rank_0s_parameters",
            every_rank_starts_from_rank_0s_parameters,
        ),
        (
            "a_different_model_on_one_rank_is_refused_on_every_rank",
            a_different_model_on_one_rank_is_refused_on_every_rank,
        ),
        (
            "one_step_on_two_ranks_equals_one_step_in_one_process",
            one_step_on_two_ranks_equals_one_step_in_one_process,
        ),
        (
            "one_rank_trains_exactly_as_one_process",
            one_rank_trains_exactly_as_one_process,
        ),
        (
            "two_ranks_give_the_same_bits_run_after_run_and_rank_to_rank",
            two_ranks_give_the_same_bits_run_after_run_and_rank_to_rank,
        ),
        (
            "a_short_last_batch_with_an_empty_shard_matches_one_process",
            a_short_last_batch_with_an_empty_shard_matches_one_process,
        ),
        (
            "a_parameter_the_optimizer_does_not_hold_gets_this_steps_gradient",
            a_parameter_the_optimizer_does_not_hold_gets_this_steps_gradient,
        ),
        (
            "checkpoints_are_written_by_rank_0_only",
            checkpoints_are_written_by_rank_0_only,
        ),
        (
            "a_missing_checkpoint_is_an_error_on_every_rank",
            a_missing_checkpoint_is_an_error_on_every_rank,
        ),
        (
            "two_ranks_save_and_one_rank_resumes",
            two_ranks_save_and_one_rank_resumes,
        ),
        (
            "one_rank_saves_and_two_ranks_resume",
            one_rank_saves_and_two_ranks_resume,
        ),
    ];
    let started = Instant::now();
    for (name, test) in tests {
        let test_started = Instant::now();
        test(world);
        world.barrier();
        if world.rank() == 0 {
            println!(
                "test {name} ... ok ({:.2} s)",
                test_started.elapsed().as_secs_f64()
            );
        }
    }
    if world.rank() == 0 {
        println!(
            "test result: ok. {} passed on 2 ranks; finished in {:.2} s",
            tests.len(),
            started.elapsed().as_secs_f64()
        );
    }
}

/// 8 features, 3 classes set by the signs of the first two.
fn blobs(samples: usize) -> Dataset {
    let features = Tensor::randn([samples, 8], &mut seeded_rng(42));
    let labels: Vec<usize> = features
        .data()
        .chunks(8)
        .map(|row| usize::from(row[0] > 0.0) + usize::from(row[1] > 0.0))
        .collect();
    Dataset::classification(features, &labels).unwrap()
}

fn mlp(seed: u64) -> Sequential {
    let mut rng = seeded_rng(seed);
    Sequential::new()
        .push(Dense::new(8, 16, &mut rng).with_activation(Activation::Relu))
        .push(Dense::new(16, 3, &mut rng))
}

fn mean_loss<'t>(model: &dyn Module, tape: &'t Tape, batch: &Batch) -> descent_autograd::Var<'t> {
    let logits = model.forward(tape.constant(batch.features.clone()));
    cross_entropy_loss(logits, batch.classes(), Reduction::Mean)
}

/// The position after `at`, in epochs of `steps_per_epoch` global batches.
fn next(at: Progress, steps_per_epoch: usize) -> Progress {
    if at.step + 1 == steps_per_epoch {
        Progress {
            epoch: at.epoch + 1,
            step: 0,
        }
    } else {
        Progress {
            step: at.step + 1,
            ..at
        }
    }
}

fn shard(sampler: &mut DistributedSampler, at: Progress) -> Option<Batch> {
    sampler
        .epoch(at.epoch)
        .nth(at.step)
        .expect("a step within the epoch")
}

/// `steps` data-parallel steps from `at`; returns where they end.
fn train_together(
    ddp: &mut DistributedDataParallel,
    model: &dyn Module,
    optimizer: &mut dyn Optimizer,
    sampler: &mut DistributedSampler,
    mut at: Progress,
    steps: usize,
) -> Progress {
    for _ in 0..steps {
        let shard = shard(sampler, at);
        ddp.train_step(shard.as_ref(), optimizer, |tape, batch| {
            mean_loss(model, tape, batch)
        });
        at = next(at, sampler.batches_per_epoch());
    }
    at
}

/// The same steps in this process alone, without MPI: the reference.
fn train_alone(
    model: &dyn Module,
    optimizer: &mut dyn Optimizer,
    data: Dataset,
    batch: usize,
    steps: usize,
) {
    let mut sampler = DistributedSampler::new(data, batch, 0, 1)
        .unwrap()
        .shuffle(3);
    let mut at = Progress::default();
    for _ in 0..steps {
        let batch = shard(&mut sampler, at).expect("one rank has every sample");
        model.zero_grad();
        let tape = Tape::new();
        mean_loss(model, &tape, &batch).backward();
        optimizer.step();
        at = next(at, sampler.batches_per_epoch());
    }
}

fn sampler(data: Dataset, batch: usize, comm: &Communicator) -> DistributedSampler {
    DistributedSampler::new(data, batch, comm.rank(), comm.size())
        .unwrap()
        .shuffle(3)
}

fn values(model: &dyn Module) -> Vec<f32> {
    model
        .parameters()
        .iter()
        .flat_map(|p| p.value().to_vec())
        .collect()
}

fn max_difference(a: &dyn Module, b: &dyn Module) -> f32 {
    values(a)
        .iter()
        .zip(values(b))
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Every world rank's parameter bits, hashed (FNV-1a), in rank order.
fn bits_on_every_rank(model: &dyn Module) -> Vec<u64> {
    let hash = values(model)
        .iter()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, v| {
            (h ^ u64::from(v.to_bits())).wrapping_mul(0x0100_0000_01b3)
        });
    let world = SimpleCommunicator::world();
    let mut hashes = vec![0u64; 2];
    world.all_gather_into(&hash, &mut hashes[..]);
    hashes
}

fn every_rank_starts_from_rank_0s_parameters(world: &Communicator) {
    let model = mlp(world.rank() as u64);
    let _ddp = DistributedDataParallel::new(&model, world).unwrap();
    assert_eq!(values(&model), values(&mlp(0)));
}

fn a_different_model_on_one_rank_is_refused_on_every_rank(world: &Communicator) {
    let hidden = if world.rank() == 1 { 12 } else { 16 };
    let model = Dense::new(8, hidden, &mut seeded_rng(0));
    let err = DistributedDataParallel::new(&model, world).unwrap_err();
    assert!(matches!(err, DistributedError::ModelMismatch(_)));
    assert_eq!(
        err.to_string(),
        "the ranks' models differ: rank 0 has 144 values in 2 tensors, \
         rank 1 has 108 values in 2 tensors; first difference: \
         rank 0 has parameter weight [16, 8], rank 1 has parameter weight [12, 8]"
    );
}

fn one_step_on_two_ranks_equals_one_step_in_one_process(world: &Communicator) {
    let model = mlp(0);
    let mut opt = Optim::new(model.parameters(), Sgd::new(0.1));
    let mut ddp = DistributedDataParallel::new(&model, world).unwrap();
    train_together(
        &mut ddp,
        &model,
        &mut opt,
        &mut sampler(blobs(64), 32, world),
        Progress::default(),
        1,
    );

    let alone = mlp(0);
    train_alone(
        &alone,
        &mut Optim::new(alone.parameters(), Sgd::new(0.1)),
        blobs(64),
        32,
        1,
    );
    assert_ne!(
        values(&model),
        values(&mlp(0)),
        "the step changed the parameters"
    );
    let difference = max_difference(&model, &alone);
    assert!(
        difference <= ONE_STEP_TOLERANCE,
        "differs by {difference:e}"
    );
}

fn one_rank_trains_exactly_as_one_process(world: &Communicator) {
    let alone_group = world.split(Some(world.rank() as u16)).unwrap();
    let model = mlp(0);
    let mut opt = Optim::new(model.parameters(), Adam::new(0.01));
    let mut ddp = DistributedDataParallel::new(&model, &alone_group).unwrap();
    let mut shards = sampler(blobs(33), 8, &alone_group);
    train_together(
        &mut ddp,
        &model,
        &mut opt,
        &mut shards,
        Progress::default(),
        10,
    );

    let alone = mlp(0);
    train_alone(
        &alone,
        &mut Optim::new(alone.parameters(), Adam::new(0.01)),
        blobs(33),
        8,
        10,
    );
    assert_eq!(values(&model), values(&alone));
}

fn two_ranks_give_the_same_bits_run_after_run_and_rank_to_rank(world: &Communicator) {
    let run = || {
        let model = mlp(0);
        let mut opt = Optim::new(model.parameters(), Adam::new(0.01));
        let mut ddp = DistributedDataParallel::new(&model, world).unwrap();
        train_together(
            &mut ddp,
            &model,
            &mut opt,
            &mut sampler(blobs(80), 16, world),
            Progress::default(),
            12,
        );
        values(&model)
    };
    let first = run();
    for _ in 0..3 {
        assert!(
            run()
                .iter()
                .zip(&first)
                .all(|(a, b)| a.to_bits() == b.to_bits())
        );
    }
    let model = mlp(0);
    let mut opt = Optim::new(model.parameters(), Adam::new(0.01));
    let mut ddp = DistributedDataParallel::new(&model, world).unwrap();
    train_together(
        &mut ddp,
        &model,
        &mut opt,
        &mut sampler(blobs(80), 16, world),
        Progress::default(),
        12,
    );
    let hashes = bits_on_every_rank(&model);
    assert_eq!(hashes[0], hashes[1], "the ranks' parameters differ");
}

fn a_short_last_batch_with_an_empty_shard_matches_one_process(world: &Communicator) {
    // 33 samples in global batches of 8: the fifth has one sample, so rank 1
    // has no shard in it and contributes nothing.
    let model = mlp(0);
    let mut opt = Optim::new(model.parameters(), Adam::new(0.01));
    let mut ddp = DistributedDataParallel::new(&model, world).unwrap();
    let mut shards = sampler(blobs(33), 8, world);
    assert_eq!(shards.epoch(0).last().unwrap().is_none(), world.rank() == 1);
    train_together(
        &mut ddp,
        &model,
        &mut opt,
        &mut shards,
        Progress::default(),
        10,
    );

    let alone = mlp(0);
    train_alone(
        &alone,
        &mut Optim::new(alone.parameters(), Adam::new(0.01)),
        blobs(33),
        8,
        10,
    );
    let difference = max_difference(&model, &alone);
    assert!(difference <= ADAM_TOLERANCE, "differs by {difference:e}");
}

fn a_parameter_the_optimizer_does_not_hold_gets_this_steps_gradient(world: &Communicator) {
    // The first layer is frozen: the optimizer holds the second only.
    let frozen = |model: &Sequential| Optim::new(model.parameters().split_off(2), Adam::new(0.01));
    let model = mlp(0);
    let mut ddp = DistributedDataParallel::new(&model, world).unwrap();
    let mut shards = sampler(blobs(64), 16, world);
    train_together(
        &mut ddp,
        &model,
        &mut frozen(&model),
        &mut shards,
        Progress::default(),
        2,
    );

    let alone = mlp(0);
    train_alone(&alone, &mut frozen(&alone), blobs(64), 16, 2);
    let grads = |m: &Sequential| m.parameters()[0].grad().unwrap().to_vec();
    let difference = grads(&model)
        .iter()
        .zip(grads(&alone))
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    assert!(
        difference <= ONE_STEP_TOLERANCE,
        "differs by {difference:e}"
    );
}

fn checkpoints_are_written_by_rank_0_only(world: &Communicator) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("rank{}.ckpt", world.rank()));
    let model = mlp(0);
    let opt = Optim::new(model.parameters(), Adam::new(0.01));
    let ddp = DistributedDataParallel::new(&model, world).unwrap();
    let progress = Progress { epoch: 2, step: 1 };
    ddp.save_checkpoint(&path, &opt, &sampler(blobs(40), 8, world), progress)
        .unwrap();
    assert_eq!(path.exists(), world.rank() == 0, "rank {}", world.rank());
}

fn a_missing_checkpoint_is_an_error_on_every_rank(world: &Communicator) {
    let model = mlp(0);
    let mut opt = Optim::new(model.parameters(), Adam::new(0.01));
    let ddp = DistributedDataParallel::new(&model, world).unwrap();
    let path = Path::new("/nonexistent/run.ckpt");
    let err = ddp
        .load_checkpoint(path, &mut opt, &sampler(blobs(40), 8, world))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "rank 0 could not read /nonexistent/run.ckpt: No such file or directory (os error 2)"
    );
}

/// 40 samples in global batches of 8 (5 steps an epoch), Adam: the first
/// `savers` ranks take 7 steps and save at epoch 1 step 2; the first
/// `resumers` ranks, from models of other weights, load and take 6 more.
/// The result must match 13 steps in one process.
fn resume_test(world: &Communicator, savers: usize, resumers: usize) {
    // Only rank 0's path is used: rank 0 writes and reads the file.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.ckpt");
    let alone = mlp(0);
    train_alone(
        &alone,
        &mut Optim::new(alone.parameters(), Adam::new(0.01)),
        blobs(40),
        8,
        13,
    );
    let saved_at = Progress { epoch: 1, step: 2 };

    // The first `count` ranks form a group; the others get `None` and go on.
    let group = |count: usize| world.split((world.rank() < count).then_some(0));
    if let Some(savers) = group(savers) {
        let model = mlp(0);
        let mut opt = Optim::new(model.parameters(), Adam::new(0.01));
        let mut ddp = DistributedDataParallel::new(&model, &savers).unwrap();
        let mut shards = sampler(blobs(40), 8, &savers);
        let at = train_together(
            &mut ddp,
            &model,
            &mut opt,
            &mut shards,
            Progress::default(),
            7,
        );
        assert_eq!(at, saved_at);
        ddp.save_checkpoint(&path, &opt, &shards, at).unwrap();
    }
    if let Some(resumers) = group(resumers) {
        let model = mlp(20 + world.rank() as u64);
        let mut opt = Optim::new(model.parameters(), Adam::new(0.01));
        let mut ddp = DistributedDataParallel::new(&model, &resumers).unwrap();
        let mut shards = sampler(blobs(40), 8, &resumers);
        let at = ddp.load_checkpoint(&path, &mut opt, &shards).unwrap();
        assert_eq!(at, saved_at);
        train_together(&mut ddp, &model, &mut opt, &mut shards, at, 6);
        let difference = max_difference(&model, &alone);
        assert!(difference <= ADAM_TOLERANCE, "differs by {difference:e}");
    }
}

fn two_ranks_save_and_one_rank_resumes(world: &Communicator) {
    resume_test(world, 2, 1);
}

fn one_rank_saves_and_two_ranks_resume(world: &Communicator) {
    resume_test(world, 1, 2);
}

/// A child job: rank 1 fails at its fourth step, while rank 0 waits for
/// it in the all-reduce; or, for `mpi_error`, an MPI call fails at the
/// fourth step: rank 1's model has shrunk underneath the wrapper, so rank
/// 0's broadcast of the parameters is longer than rank 1's buffer.
fn run_scenario(scenario: &str) {
    let mpi = Mpi::init().expect("MPI initializes");
    let world = mpi.world();
    let model = mlp(0);
    let mut opt = Optim::new(model.parameters(), Adam::new(0.01));
    let mut ddp = DistributedDataParallel::new(&model, world).unwrap();
    let mut shards = sampler(blobs(400), 8, world);
    let mut at = Progress::default();
    for step in 0..40 {
        if step == 3 && scenario == "mpi_error" {
            if world.rank() == 1 {
                *model.parameters()[0].value_mut() = Tensor::zeros([1]);
            }
            ddp.broadcast_state();
        } else if world.rank() == 1 && step == 3 {
            match scenario {
                "panic" => panic!("simulated failure on rank 1"),
                "die" => std::process::abort(),
                other => panic!("unknown scenario {other:?}"),
            }
        }
        at = train_together(&mut ddp, &model, &mut opt, &mut shards, at, 1);
    }
    println!("rank {} finished every step", world.rank());
}

fn run_failure_scenarios() {
    let found = Command::new("mpirun")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !found {
        println!("mpirun not found: skipping the failure scenarios");
        return;
    }
    let scenarios: [(&str, &str, &[&str]); 3] = [
        (
            "a_panic_on_one_rank_ends_every_rank",
            "panic",
            &[
                "simulated failure on rank 1",
                "descent-distributed: rank 1 of 2 panicked; aborting every rank",
            ],
        ),
        (
            "a_rank_that_dies_ends_every_rank",
            "die",
            &["process rank 1"],
        ),
        (
            "a_failed_mpi_call_ends_every_rank",
            "mpi_error",
            &["MPI_Bcast failed", "truncated"],
        ),
    ];
    for (name, scenario, expected) in scenarios {
        let started = Instant::now();
        let (success, output) = run_job(scenario);
        let seconds = started.elapsed().as_secs_f64();
        assert!(!success, "{name}: the job succeeded:\n{output}");
        assert!(
            !output.contains("finished every step"),
            "{name}: rank 0 went on:\n{output}"
        );
        for text in expected {
            assert!(
                output.contains(text),
                "{name}: {text:?} is missing from:\n{output}"
            );
        }
        println!("test {name} ... ok (the job ended in {seconds:.2} s)");
    }
    println!("test result: ok. {} passed", scenarios.len());
}

/// Runs `scenario` under `mpirun -n 2`; its success and its output. Panics
/// if it runs longer than [`HANG`].
fn run_job(scenario: &str) -> (bool, String) {
    use std::os::unix::process::CommandExt;

    let log = tempfile::NamedTempFile::new().unwrap();
    let mut job = Command::new("mpirun")
        .args(["-n", "2", "--oversubscribe", "-x", SCENARIO])
        .arg(std::env::current_exe().unwrap())
        .env(SCENARIO, scenario)
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        .stdout(log.reopen().unwrap())
        .stderr(log.reopen().unwrap())
        .process_group(0)
        .spawn()
        .expect("mpirun starts");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = job.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > HANG {
            let group = format!("-{}", job.id());
            let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
            let _ = job.wait();
            let output = std::fs::read_to_string(log.path()).unwrap_or_default();
            panic!("scenario {scenario:?} hung for {HANG:?}:\n{output}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let output = std::fs::read_to_string(log.path()).unwrap();
    (status.success(), output)
}
