//! A training script written the way a PyTorch user writes one: an MLP,
//! a custom loss (focal loss) through the trainer, argmax accuracy, a
//! confusion matrix, slicing a batch, and tensor arithmetic with operators.
//!
//! Run: `cargo run --release --example pytorch_style` (`--help` for options).

use clap::Parser;
use descent::prelude::*;

/// Trains a 784-128-10 MLP on MNIST with focal loss and reports per-class scores.
#[derive(Parser)]
struct Options {
    /// Directory of the four MNIST files (.gz or raw).
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/data/mnist"))]
    data: std::path::PathBuf,
    /// Passes over the training set.
    #[arg(long, default_value_t = 3)]
    epochs: usize,
    /// The focal loss' focusing parameter (0 is cross-entropy).
    #[arg(long, default_value_t = 2.0)]
    gamma: f32,
    /// Seed of the initial weights and the batch order.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

/// Focal loss (Lin et al. 2017): cross-entropy scaled by `(1 - p_true)^gamma`,
/// so confidently right samples count less.
fn focal_loss<'t>(logits: Var<'t>, labels: &[usize], gamma: f32) -> Var<'t> {
    let log_p = logits.log_softmax(-1);
    let index = IndexTensor::from_vec(labels.to_vec(), [labels.len(), 1]);
    let log_p_true = log_p.gather(1, &index); // [batch, 1], as log_p.gather(1, y[:, None])
    let p_true = log_p_true.exp();
    (-(1.0 - p_true).powf(gamma) * log_p_true).mean()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let options = Options::parse();
    let mnist = Mnist::load(&options.data)?;
    let train = Dataset::classification(mnist.train_images, &mnist.train_labels)?;
    let test = Dataset::classification(mnist.test_images.clone(), &mnist.test_labels)?;

    let mut rng = seeded_rng(options.seed);
    let model = Sequential::new()
        .push(Dense::new(784, 128, &mut rng))
        .push(Activation::Relu)
        .push(Dense::new(128, 10, &mut rng));
    let mut opt = Optim::new(model.parameters(), Adam::new(1e-3));
    let mut loader = DataLoader::new(train, 64)?.shuffle(options.seed);

    // A look at one batch, as x[:8] and 2 * x - 1 would be in PyTorch.
    let batch = loader.epoch().next().expect("a batch");
    let first = batch.features.slice(0, 0..8);
    let centered = 2.0 * &first - 1.0;
    println!(
        "first 8 images: {:?}, pixels now in [{}, {}]",
        centered.dims(),
        centered.min(),
        centered.max()
    );

    let gamma = options.gamma;
    let history = Trainer::new(
        &model,
        &mut opt,
        Loss::custom(move |logits, batch| focal_loss(logits, batch.classes(), gamma)),
    )
    .metric(Accuracy::default())
    .epochs(options.epochs)
    .fit(&mut loader, Some(&test))?;

    let predicted = predict_classes(&model, &mnist.test_images, 256);
    let correct = predicted
        .iter()
        .zip(&mnist.test_labels)
        .filter(|(p, l)| p == l)
        .count();
    println!(
        "test accuracy (argmax): {:.2}%",
        100.0 * correct as f64 / predicted.len() as f64
    );
    let matrix = ConfusionMatrix::from_labels(&predicted, &mnist.test_labels, 10);
    println!("{matrix}");
    let last = history.last().expect("an epoch");
    println!("final training focal loss {:.4}", last.train.loss);
    Ok(())
}
