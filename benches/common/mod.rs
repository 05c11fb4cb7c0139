//! Models and loops shared by the benchmarks.

use descent::prelude::*;

#[path = "../../examples/cnn/model.rs"]
mod cnn_model;

/// A ReLU MLP with the given layer sizes, seeded; each hidden layer's bias
/// and ReLU run fused in its `Dense` op.
pub fn mlp(sizes: &[usize]) -> Sequential {
    let mut rng = seeded_rng(0);
    let mut model = Sequential::new();
    for (i, pair) in sizes.windows(2).enumerate() {
        let layer = Dense::new(pair[0], pair[1], &mut rng);
        model = model.push(if i + 2 < sizes.len() {
            layer.with_activation(Activation::Relu)
        } else {
            layer
        });
    }
    model
}

/// One training step (forward, softmax cross-entropy, backward, Adam).
pub struct StepBench {
    model: Sequential,
    opt: Optim<Adam>,
    x: Tensor,
    labels: Vec<usize>,
    tape: Tape,
}

impl StepBench {
    pub fn new(sizes: &[usize], batch: usize) -> StepBench {
        let model = mlp(sizes);
        let opt = Optim::new(model.parameters(), Adam::new(1e-3));
        let x = Tensor::rand_uniform([batch, sizes[0]], 0.0, 1.0, &mut seeded_rng(2));
        let labels = (0..batch).map(|i| i % sizes[sizes.len() - 1]).collect();
        StepBench {
            model,
            opt,
            x,
            labels,
            tape: Tape::new(),
        }
    }

    /// Runs one step; returns the number of values it recorded on the tape.
    pub fn step(&mut self) -> usize {
        self.tape.reset();
        let logits = self.model.forward(self.tape.constant(self.x.clone()));
        cross_entropy_loss(logits, &self.labels, Reduction::Mean).backward();
        self.opt.step();
        self.opt.zero_grad();
        self.tape.len()
    }
}

/// One epoch of the flagship configuration over `loader`.
pub fn mnist_epoch(model: &Sequential, opt: &mut dyn Optimizer, loader: &mut DataLoader) {
    let mut tape = Tape::new();
    for batch in loader.epoch() {
        tape.reset();
        let logits = model.forward(tape.constant(batch.features.clone()));
        cross_entropy_loss(logits, batch.classes(), Reduction::Mean).backward();
        opt.step();
        opt.zero_grad();
    }
}

/// The shipped MNIST training images and labels, and the flagship model and
/// optimizer with a batch-64 loader.
pub fn mnist_setup() -> (Sequential, Optim<Adam>, DataLoader) {
    let mnist = Mnist::load(concat!(env!("CARGO_MANIFEST_DIR"), "/data/mnist"))
        .expect("the shipped MNIST subset");
    let train =
        Dataset::classification(mnist.train_images, &mnist.train_labels).expect("non-empty");
    let model = mlp(&[784, 128, 10]);
    let opt = Optim::new(model.parameters(), Adam::new(1e-3));
    let loader = DataLoader::new(train, 64).expect("batch > 0").shuffle(0);
    (model, opt, loader)
}

/// The CNN flagship of `examples/cnn/model.rs`, seeded with 0.
pub fn cnn() -> Sequential {
    cnn_model::cnn(&mut seeded_rng(0))
}
