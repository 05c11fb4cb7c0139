//! The flagship configuration learns: one epoch of the 784-128-10 MLP on the
//! shipped MNIST subset reaches >= 85% test accuracy; the trainer's history,
//! checkpoint and plot are produced.

use descent::prelude::*;

#[test]
fn one_epoch_of_the_mnist_mlp_reaches_85_percent() {
    let mnist = Mnist::load(concat!(env!("CARGO_MANIFEST_DIR"), "/data/mnist")).unwrap();
    let train = Dataset::classification(mnist.train_images, &mnist.train_labels).unwrap();
    let test = Dataset::classification(mnist.test_images, &mnist.test_labels).unwrap();
    let mut rng = seeded_rng(0);
    let model = Sequential::new()
        .push(Dense::new(784, 128, &mut rng).with_activation(Activation::Relu))
        .push(Dense::new(128, 10, &mut rng));
    let mut opt = Optim::new(model.parameters(), Adam::new(1e-3)).unwrap();
    let mut loader = DataLoader::new(train, 64).unwrap().shuffle(0);
    let dir = std::env::temp_dir().join(format!("descent-mnist-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    let history = Trainer::new(&model, &mut opt, Loss::CrossEntropy)
        .epochs(1)
        .quiet()
        .best_checkpoint(dir.join("best.ckpt"))
        .fit(&mut loader, Some(&test))
        .unwrap();

    let accuracy = evaluate(&model, &test, 500, Loss::CrossEntropy)
        .accuracy
        .unwrap();
    assert!(
        accuracy >= 0.85,
        "test accuracy after one epoch: {accuracy}"
    );
    let recorded = history.epochs[0].validation.unwrap().accuracy.unwrap();
    assert!(
        (recorded - accuracy).abs() < 1e-6,
        "the history records {recorded}, evaluate gives {accuracy}"
    );

    let restored = Sequential::new()
        .push(Dense::new(784, 128, &mut rng).with_activation(Activation::Relu))
        .push(Dense::new(128, 10, &mut rng));
    load_module(&restored, dir.join("best.ckpt")).unwrap();
    assert_eq!(
        evaluate(&restored, &test, 500, Loss::CrossEntropy)
            .accuracy
            .unwrap(),
        accuracy
    );

    history.plot(dir.join("history.svg")).unwrap();
    let svg = std::fs::read_to_string(dir.join("history.svg")).unwrap();
    assert!(svg.contains("<svg") && svg.contains("accuracy") && svg.contains("validation"));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn training_stops_with_a_clear_error_on_a_non_finite_loss() {
    let x = Tensor::from([[1.0], [2.0], [3.0], [4.0]]);
    let data = Dataset::new(x, Tensor::from([[2.0], [4.0], [6.0], [8.0]])).unwrap();
    let model = Sequential::new().push(Dense::new(1, 1, &mut seeded_rng(0)));
    let mut opt = Optim::new(model.parameters(), Sgd::new(1e3)).unwrap();
    let mut loader = DataLoader::new(data, 4).unwrap();
    let err = Trainer::new(&model, &mut opt, Loss::MeanSquaredError)
        .epochs(100)
        .quiet()
        .fit(&mut loader, None)
        .unwrap_err();
    assert!(
        err.to_string().starts_with("loss became inf")
            || err.to_string().starts_with("loss became NaN"),
        "{err}"
    );
}

#[test]
fn early_stopping_ends_training_once_validation_stalls() {
    let x = Tensor::randn([32, 3], &mut seeded_rng(1));
    let y = Tensor::randn([32, 1], &mut seeded_rng(2));
    let data = Dataset::new(x, y).unwrap();
    let model = Sequential::new().push(Dense::new(3, 1, &mut seeded_rng(0)));
    let mut opt = Optim::new(model.parameters(), Sgd::new(0.5)).unwrap();
    let mut loader = DataLoader::new(data.clone(), 32).unwrap();
    let history = Trainer::new(&model, &mut opt, Loss::MeanSquaredError)
        .epochs(1000)
        .early_stopping(3)
        .quiet()
        .fit(&mut loader, Some(&data))
        .unwrap();
    assert!(
        history.epochs.len() < 1000,
        "early stopping never triggered"
    );
}
