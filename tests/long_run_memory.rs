//! 100,000 training steps of a small model keep a flat resident set: the
//! tape, gradients and optimizer state do not leak. This binary holds this
//! one test so no other test's memory is counted.

use descent::prelude::*;

/// Resident set size in bytes, from /proc/self/statm (Linux).
fn resident_bytes() -> usize {
    let statm =
        std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm is readable on Linux");
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .expect("statm has a resident field");
    pages * 4096
}

#[test]
fn memory_stays_flat_over_100_000_steps() {
    let mut rng = seeded_rng(0);
    let model = Sequential::new()
        .push(Dense::new(8, 16, &mut rng))
        .push(Activation::Relu)
        .push(Dense::new(16, 1, &mut rng));
    let mut opt = Optim::new(model.parameters(), Adam::new(1e-3)).unwrap();
    let mut scheduler = Scheduler::new(
        CosineAnnealingLr {
            t_max: 1000,
            eta_min: 1e-5,
        },
        &mut opt,
    )
    .unwrap();
    let x = Tensor::randn([8, 8], &mut rng);
    let y = Tensor::randn([8, 1], &mut rng);
    let mut tape = Tape::new();
    let mut after_warmup = 0;
    for step in 1..=100_000 {
        tape.reset();
        let prediction = model.forward(tape.constant(x.clone()));
        mse_loss(prediction, &y, Reduction::Mean).backward();
        opt.step();
        opt.zero_grad();
        scheduler.step(&mut opt);
        if step == 1_000 {
            after_warmup = resident_bytes();
        }
    }
    let at_end = resident_bytes();
    let growth = at_end as f64 - after_warmup as f64;
    assert!(
        growth.abs() < 2.0 * 1024.0 * 1024.0,
        "resident set went from {after_warmup} to {at_end} bytes over 99,000 steps"
    );
}
