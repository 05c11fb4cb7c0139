//! Kills a training process with SIGKILL at 50 random moments; after every
//! kill the checkpoint on disk is complete (the previous or the new one) and
//! training resumes from it.

use std::process::Command;
use std::time::Duration;

use descent::prelude::*;
use descent::tensor::rand::{RngExt, SeedableRng, rngs::StdRng};

#[test]
fn a_checkpoint_survives_sigkill_at_any_moment() {
    let dir = std::env::temp_dir().join(format!("descent-crash-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("train.ckpt");
    let mut rng = StdRng::seed_from_u64(2024);
    let mut last_step = 0.0;
    let mut kills_after_first_save = 0;
    for kill in 0..50 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_crash_trainer"))
            .arg(&path)
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_micros(rng.random_range(2_000..40_000)));
        child.kill().unwrap(); // SIGKILL on Unix
        let status = child.wait().unwrap();
        assert!(
            !status.success(),
            "kill {kill}: the trainer exited on its own: {status}"
        );
        if !path.exists() {
            continue;
        }
        kills_after_first_save += 1;
        let checkpoint = Checkpoint::load(&path)
            .unwrap_or_else(|e| panic!("kill {kill}: checkpoint unreadable: {e}"));
        let model = Sequential::new()
            .push(Dense::new(128, 512, &mut seeded_rng(9)))
            .push(Activation::Tanh)
            .push(Dense::new(512, 4, &mut seeded_rng(9)));
        checkpoint.restore_module(&model).unwrap();
        let mut opt = Optim::new(model.named_parameters(), Adam::new(1e-3));
        opt.load_state(&checkpoint, "optimizer.").unwrap();
        let step = checkpoint.require_scalar("step").unwrap();
        assert!(
            step >= last_step,
            "kill {kill}: step went back from {last_step} to {step}: training did not resume"
        );
        assert_eq!(
            opt.steps(0, 0) as f64,
            step,
            "optimizer state matches the step"
        );
        last_step = step;
    }
    assert!(
        kills_after_first_save >= 40,
        "only {kills_after_first_save} kills came after a checkpoint existed"
    );
    assert!(
        last_step >= 30.0,
        "training barely advanced across restarts: step {last_step}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
