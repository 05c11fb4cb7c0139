//! Models and optimizers cross threads: the compile-time `Send + Sync`
//! checks for optimizers (modules are checked in
//! crates/layers/tests/layers.rs, `Param` in crates/autograd/tests/tape.rs),
//! and an optimizer moved to a worker thread training a model the main
//! thread shares.

use std::sync::Arc;

use descent::prelude::*;

#[test]
fn optimizers_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Optim<Adam>>();
    assert_send_sync::<Optim<Sgd>>();
    assert_send_sync::<Optim<Adagrad>>();
    assert_send_sync::<Optim<Adadelta>>();
    assert_send_sync::<Optim<Adamax>>();
    assert_send_sync::<Optim<NAdam>>();
    assert_send_sync::<Optim<RAdam>>();
    assert_send_sync::<Optim<RmsProp>>();
}

#[test]
fn a_worker_thread_trains_the_model_the_main_thread_evaluates() {
    let mut rng = seeded_rng(0);
    let x = Tensor::randn([64, 3], &mut rng);
    let y = x
        .matmul(&Tensor::from([[1.0], [-2.0], [0.5]]))
        .add_scalar(0.25);
    let model = Arc::new(Dense::new(3, 1, &mut rng));
    let loss = |model: &Dense| {
        let tape = Tape::eval();
        let prediction = model.forward(tape.constant(x.clone()));
        mse_loss(prediction, &y, Reduction::Mean).item()
    };
    let before = loss(&model);
    let opt = Optim::new(model.parameters(), Adam::new(0.05));
    let worker = {
        let (model, x, y) = (Arc::clone(&model), x.clone(), y.clone());
        std::thread::spawn(move || {
            let mut opt = opt;
            for _ in 0..200 {
                let tape = Tape::new();
                let prediction = model.forward(tape.constant(x.clone()));
                mse_loss(prediction, &y, Reduction::Mean).backward();
                opt.step();
                opt.zero_grad();
            }
        })
    };
    worker.join().unwrap();
    let after = loss(&model);
    assert!(after < before * 1e-3, "loss {before} -> {after}");
}
