//! The CNN flagship learns: one epoch of `examples/cnn/model.rs`'s network on the
//! shipped MNIST subset reaches >= 88% test accuracy (91.3% on the
//! reference machine). A CNN with batch norm trains with every optimizer,
//! and the Trainer's checkpoints carry its running statistics.

use descent::prelude::*;

mod common;
use common::flagship_cnn;

fn mnist() -> (Dataset, Dataset) {
    let mnist = Mnist::load(concat!(env!("CARGO_MANIFEST_DIR"), "/data/mnist")).unwrap();
    let images = |pixels: Tensor| {
        let n = pixels.dims()[0];
        pixels.reshape([n, 1, 28, 28])
    };
    (
        Dataset::classification(images(mnist.train_images), &mnist.train_labels).unwrap(),
        Dataset::classification(images(mnist.test_images), &mnist.test_labels).unwrap(),
    )
}

/// A small CNN with batch norm and global average pooling.
fn with_batch_norm(seed: u64) -> Sequential {
    let mut rng = seeded_rng(seed);
    Sequential::new()
        .push(
            Conv2d::new(1, 8, 3, &mut rng)
                .stride(2)
                .padding(1)
                .bias(false),
        )
        .push(BatchNorm2d::new(8))
        .push(Activation::Relu)
        .push(Conv2d::new(8, 16, 3, &mut rng).stride(2).padding(1))
        .push(Activation::Relu)
        .push(AdaptiveAvgPool2d::new(1))
        .push(Flatten::new())
        .push(BatchNorm1d::new(16))
        .push(Dense::new(16, 10, &mut rng))
}

#[test]
fn one_epoch_of_the_cnn_reaches_88_percent() {
    let (train, test) = mnist();
    let model = flagship_cnn(0);
    let mut opt = Optim::new(model.parameters(), Adam::new(1e-3));
    let mut loader = DataLoader::new(train, 64).unwrap().shuffle(0);
    Trainer::new(&model, &mut opt, Loss::CrossEntropy)
        .epochs(1)
        .quiet()
        .fit(&mut loader, None)
        .unwrap();
    let accuracy = evaluate(&model, &test, 500, Loss::CrossEntropy)
        .accuracy()
        .unwrap();
    assert!(
        accuracy >= 0.88,
        "test accuracy after one epoch: {accuracy}"
    );
}

/// Every optimizer of the crate, by name.
const OPTIMIZERS: [&str; 9] = [
    "sgd", "adam", "adamw", "adamax", "nadam", "radam", "adagrad", "rmsprop", "adadelta",
];

/// The optimizer `name` over `params`, with a learning rate that moves a
/// small CNN within 30 steps.
fn optimizer(name: &str, params: Vec<Param>) -> Box<dyn Optimizer> {
    match name {
        "sgd" => Box::new(Optim::new(
            params,
            Sgd::new(0.1).momentum(Momentum::Classic(0.9)),
        )),
        "adam" => Box::new(Optim::new(params, Adam::new(1e-2))),
        "adamw" => Box::new(Optim::new(params, AdamW::new(1e-2))),
        "adamax" => Box::new(Optim::new(params, Adamax::new(1e-2))),
        "nadam" => Box::new(Optim::new(params, NAdam::new(1e-2))),
        "radam" => Box::new(Optim::new(params, RAdam::new(3e-2))),
        "adagrad" => Box::new(Optim::new(params, Adagrad::new(0.05))),
        "rmsprop" => Box::new(Optim::new(params, RmsProp::new(1e-3))),
        "adadelta" => Box::new(Optim::new(params, Adadelta::new(10.0))),
        other => panic!("no optimizer {other}"),
    }
}

#[test]
fn a_batch_norm_cnn_learns_with_every_optimizer() {
    let (train, _) = mnist();
    let batch = train.batch(&(0..64).collect::<Vec<_>>());
    let labels = batch.classes().to_vec();
    for name in OPTIMIZERS {
        let model = with_batch_norm(1);
        let buffers = model.named_buffers();
        let mut opt = optimizer(name, model.parameters());
        let mut tape = Tape::new();
        let mut losses = Vec::new();
        for _ in 0..30 {
            tape.reset();
            let logits = model.forward(tape.constant(batch.features.clone()));
            let loss = cross_entropy_loss(logits, &labels, Reduction::Mean);
            losses.push(loss.item());
            loss.backward();
            opt.step();
            opt.zero_grad();
        }
        assert!(
            losses[29] < 0.7 * losses[0],
            "{name}: loss went from {} to {}",
            losses[0],
            losses[29]
        );
        // The running statistics moved, but no optimizer touched them.
        let (_, tracked) = &buffers[2];
        assert_eq!(tracked.value().item(), 30.0, "{name}");
        assert!(buffers.iter().all(|(_, b)| b.grad().is_none()), "{name}");
    }
}

#[test]
fn checkpoints_carry_the_running_statistics() {
    let (train, test) = mnist();
    let subset = |d: &Dataset, n: usize| d.subset(&(0..n).collect::<Vec<_>>());
    let (train, test) = (subset(&train, 512), subset(&test, 256));
    let model = with_batch_norm(2);
    let mut opt = Optim::new(model.parameters(), Adam::new(1e-2));
    let mut loader = DataLoader::new(train, 32).unwrap().shuffle(2);
    let dir = std::env::temp_dir().join(format!("descent-cnn-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    Trainer::new(&model, &mut opt, Loss::CrossEntropy)
        .epochs(2)
        .quiet()
        .best_checkpoint(dir.join("best.ckpt"))
        .fit(&mut loader, Some(&test))
        .unwrap();
    // The trainer's evaluation left the model in training mode; the last
    // epoch improved (or not): reload the best to compare like with like.
    load_module(&model, dir.join("best.ckpt")).unwrap();
    let restored = with_batch_norm(3);
    load_module(&restored, dir.join("best.ckpt")).unwrap();
    assert!(model.is_training() && restored.is_training());
    for ((name, a), (_, b)) in model.state_dict().iter().zip(restored.state_dict()) {
        assert!(a.value().bit_eq(&b.value()), "{name}");
    }
    let batches = restored.named_buffers()[2].1.value().item();
    assert!(batches >= 16.0, "num_batches_tracked {batches}");
    let evaluation = |m: &Sequential| evaluate(m, &test, 64, Loss::CrossEntropy);
    assert_eq!(evaluation(&model), evaluation(&restored));
    std::fs::remove_dir_all(dir).unwrap();
}
