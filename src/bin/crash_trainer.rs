//! A training process for the crash-safety test (`tests/crash_safety.rs`):
//! resumes from the checkpoint at the path given, then trains forever,
//! saving model, optimizer state and step count every few steps, until it is
//! killed. The model is large enough (~0.5 MB) that kills land mid-write.

use std::path::PathBuf;

use descent::prelude::*;

fn model() -> Sequential {
    let mut rng = seeded_rng(0);
    Sequential::new()
        .push(Dense::new(128, 512, &mut rng))
        .push(Activation::Tanh)
        .push(Dense::new(512, 4, &mut rng))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = PathBuf::from(
        std::env::args()
            .nth(1)
            .ok_or("usage: crash_trainer CHECKPOINT")?,
    );
    let net = model();
    let mut opt = Optim::new(net.named_parameters(), Adam::new(1e-3));
    let mut step = 0u64;
    if path.exists() {
        let checkpoint = Checkpoint::load(&path)?;
        checkpoint.restore_module(&net)?;
        opt.load_state(&checkpoint, "optimizer.")?;
        step = checkpoint.require_scalar("step")? as u64;
    }
    let mut tape = Tape::new();
    loop {
        let x = Tensor::randn([16, 128], &mut seeded_rng(step));
        let labels: Vec<usize> = (0..16).map(|i| (i + step as usize) % 4).collect();
        tape.reset();
        cross_entropy_loss(net.forward(tape.constant(x)), &labels, Reduction::Mean).backward();
        opt.step();
        opt.zero_grad();
        step += 1;
        if step.is_multiple_of(3) {
            let mut checkpoint = Checkpoint::from_module(&net);
            opt.save_state(&mut checkpoint, "optimizer.");
            checkpoint.insert_scalar("step", step as f64);
            checkpoint.save(&path)?;
        }
    }
}
