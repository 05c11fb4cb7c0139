//! PyTorch's start of the CNN flagship's training, written by
//! `data/interop/cnn_start.py`: its initial weights, its batch order and the
//! accuracy it reached. Training descent from the same draws separates
//! descent's arithmetic from the luck of a seed.

use std::path::{Path, PathBuf};

use descent::prelude::*;

/// The files `cnn_start.py` wrote into one directory.
pub struct PytorchStart {
    dir: PathBuf,
    /// One permutation of the training images per epoch.
    pub order: Vec<Vec<usize>>,
    /// The loss of each of the first 10 steps.
    pub losses: Vec<f64>,
    /// PyTorch's test accuracy after each epoch, as a fraction.
    pub accuracy: Vec<f64>,
}

impl PytorchStart {
    /// Reads `cnn_start.json` from `dir`.
    pub fn load(dir: impl AsRef<Path>) -> PytorchStart {
        let dir = dir.as_ref().to_path_buf();
        let text = std::fs::read_to_string(dir.join("cnn_start.json")).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json["batch_size"], 64, "the flagship's batch size");
        assert_eq!(json["lr"], 1e-3, "the flagship's learning rate");
        let order = json["order"]
            .as_array()
            .unwrap()
            .iter()
            .map(|epoch| {
                let indices = epoch.as_array().unwrap().iter();
                indices.map(|i| i.as_u64().unwrap() as usize).collect()
            })
            .collect();
        let numbers = |key: &str| -> Vec<f64> {
            let values = json[key].as_array().unwrap().iter();
            values.map(|v| v.as_f64().unwrap()).collect()
        };
        PytorchStart {
            dir,
            order,
            losses: numbers("losses"),
            accuracy: numbers("accuracy"),
        }
    }

    /// Gives the flagship CNN `model` PyTorch's initial weights.
    pub fn load_initial_weights(&self, model: &Sequential) {
        load_safetensors(model, self.dir.join("cnn_start.safetensors")).unwrap();
    }

    /// PyTorch's initial weights.
    pub fn initial_weights(&self) -> Weights {
        Weights::load(self.dir.join("cnn_start.safetensors")).unwrap()
    }

    /// The weights PyTorch had after 10 steps.
    pub fn after_10_steps(&self) -> Weights {
        Weights::load(self.dir.join("cnn_start_10_steps.safetensors")).unwrap()
    }
}

/// The shipped MNIST subset as `[n, 1, 28, 28]` images and labels.
pub struct Images {
    pub train: Tensor,
    pub train_labels: Vec<usize>,
    pub test: Tensor,
    pub test_labels: Vec<usize>,
}

impl Images {
    pub fn load() -> Images {
        let mnist = Mnist::load(concat!(env!("CARGO_MANIFEST_DIR"), "/data/mnist")).unwrap();
        let as_images = |pixels: Tensor| {
            let n = pixels.dims()[0];
            pixels.reshape([n, 1, 28, 28])
        };
        Images {
            train: as_images(mnist.train_images),
            train_labels: mnist.train_labels,
            test: as_images(mnist.test_images),
            test_labels: mnist.test_labels,
        }
    }

    /// One step of `opt` on each batch of 64 of `order`, stopping after
    /// `steps` batches when given; returns each step's loss.
    pub fn train(
        &self,
        model: &Sequential,
        opt: &mut dyn Optimizer,
        order: &[usize],
        steps: Option<usize>,
    ) -> Vec<f32> {
        let batches = order.chunks(64).take(steps.unwrap_or(usize::MAX));
        batches
            .map(|batch| {
                opt.zero_grad();
                let labels: Vec<usize> = batch.iter().map(|&i| self.train_labels[i]).collect();
                let tape = Tape::new();
                let logits = model.forward(tape.constant(self.train.index_select(0, batch)));
                let loss = cross_entropy_loss(logits, &labels, Reduction::Mean);
                loss.backward();
                opt.step();
                loss.value().item()
            })
            .collect()
    }

    /// Test accuracy, as a fraction.
    pub fn test_accuracy(&self, model: &Sequential) -> f64 {
        let logits = model
            .forward(Tape::eval().constant(self.test.clone()))
            .value();
        accuracy(&logits, &self.test_labels) as f64
    }
}
