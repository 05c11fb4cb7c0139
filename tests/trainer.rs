//! The trainer's contract beyond the happy path: any loss and metrics, clear
//! errors for non-finite values, empty epochs and bad validation data, and
//! the model's mode left as it was.

use descent::prelude::*;

/// Iris (150 samples, 4 features, 3 classes), standardized.
fn iris() -> Dataset {
    let table = Table::read_csv(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/tabular/iris.csv"
    ))
    .unwrap();
    let (features, species) = table.features_and_target("species").unwrap();
    let labels: Vec<usize> = species.data().iter().map(|&s| s as usize).collect();
    let features = Standardizer::fit(&features).transform(&features);
    Dataset::classification(features, &labels).unwrap()
}

fn mlp(seed: u64) -> Sequential {
    let mut rng = seeded_rng(seed);
    Sequential::new()
        .push(Dense::new(4, 16, &mut rng))
        .push(Activation::Relu)
        .push(Dense::new(16, 3, &mut rng))
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("descent-trainer-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Focal loss (Lin et al. 2017, gamma 2): a loss the trainer knows nothing of.
fn focal_loss<'t>(logits: Var<'t>, batch: &Batch) -> Var<'t> {
    let p = logits.softmax(-1);
    let one_hot = logits.tape().constant(one_hot(batch.classes(), 3));
    let p_true = (p * one_hot).sum_axis(-1, false);
    (-((1.0 - p_true).square() * p_true.ln())).mean()
}

#[test]
fn a_custom_loss_and_metrics_train_through_the_trainer() {
    let data = iris();
    let model = mlp(0);
    let mut opt = Optim::new(model.parameters(), Adam::new(0.02));
    let mut loader = DataLoader::new(data.clone(), 16).unwrap().shuffle(0);
    let history = Trainer::new(&model, &mut opt, Loss::custom(focal_loss))
        .metric(Accuracy::default())
        .metric(MacroF1::new(3))
        .metric(metric_fn("top2", |output, batch| {
            let rows = output.data().chunks(3).zip(batch.classes());
            let hits = rows.filter(|&(row, &c)| row.iter().filter(|&&v| v > row[c]).count() < 2);
            hits.count() as f64 / batch.len() as f64
        }))
        .epochs(30)
        .quiet()
        .fit(&mut loader, Some(&data))
        .unwrap();
    let last = history.last().unwrap().validation.as_ref().unwrap();
    assert!(last.accuracy().unwrap() > 0.95, "{last:?}");
    assert!(last.metric("f1").unwrap() > 0.95, "{last:?}");
    assert!(last.metric("top2").unwrap() > 0.99, "{last:?}");
    assert!(
        history.epochs[0].train.loss > 2.0 * last.loss,
        "{history:?}"
    );

    let predicted = predict_classes(&model, data.features(), 64);
    let matrix = ConfusionMatrix::from_labels(&predicted, data.targets().classes(), 3);
    assert!((matrix.accuracy() - last.accuracy().unwrap()).abs() < 1e-9);
    let outputs = predict(&model, data.features(), 7);
    let whole = model
        .forward(Tape::eval().constant(data.features().clone()))
        .value();
    assert!(outputs.all_close(&whole, 1e-6, 1e-6));
}

#[test]
fn nan_in_the_data_is_reported_with_where_it_came_from() {
    let data = iris();
    let mut features = data.features().clone();
    features.data_mut()[4 * 7 + 2] = f32::NAN;
    let poisoned = Dataset::classification(features, data.targets().classes()).unwrap();
    let model = mlp(1);
    let mut opt = Optim::new(model.parameters(), Sgd::new(0.1));
    let mut loader = DataLoader::new(poisoned, 150).unwrap();
    let err = Trainer::new(&model, &mut opt, Loss::CrossEntropy)
        .detect_anomalies()
        .quiet()
        .fit(&mut loader, None)
        .unwrap_err();
    let message = err.to_string();
    assert!(
        message.starts_with("loss became NaN at epoch 1, batch 1; the first non-finite value: a constant of shape [150, 4]"),
        "{message}"
    );
    // Without detection the error says how to find the op.
    let mut loader = DataLoader::full_batch(iris());
    let model = mlp(1);
    model.parameters()[0].value_mut().data_mut()[0] = f32::INFINITY;
    let mut opt = Optim::new(model.parameters(), Sgd::new(0.1));
    let err = Trainer::new(&model, &mut opt, Loss::CrossEntropy)
        .quiet()
        .fit(&mut loader, None)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("run with Trainer::detect_anomalies()"),
        "{err}"
    );
}

#[test]
fn an_op_that_makes_nan_is_named() {
    let data = iris();
    let model = mlp(2);
    let mut opt = Optim::new(model.parameters(), Sgd::new(0.1));
    let mut loader = DataLoader::new(data, 150).unwrap();
    // sqrt of negative outputs: NaN from the "sqrt" op, not from the data.
    let err = Trainer::new(
        &model,
        &mut opt,
        Loss::custom(|output, _| output.sqrt().mean()),
    )
    .detect_anomalies()
    .quiet()
    .fit(&mut loader, None)
    .unwrap_err();
    match err {
        TrainError::NonFiniteLoss {
            first_non_finite: Some(anomaly),
            ..
        } => {
            assert_eq!(anomaly.op, "sqrt", "{anomaly}")
        }
        other => panic!("{other}"),
    }
}

#[test]
fn an_epoch_without_batches_is_an_error_and_saves_nothing() {
    let dir = temp_dir("no-batches");
    let model = mlp(3);
    let mut opt = Optim::new(model.parameters(), Sgd::new(0.1));
    let mut loader = DataLoader::new(iris(), 200).unwrap().drop_last(true);
    let err = Trainer::new(&model, &mut opt, Loss::CrossEntropy)
        .best_checkpoint(dir.join("best.ckpt"))
        .quiet()
        .fit(&mut loader, None)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the data loader gives no batches: 150 samples in batches of 200 with drop_last"
    );
    assert!(!dir.join("best.ckpt").exists());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn nan_only_in_the_validation_data_is_an_error() {
    let data = iris();
    let mut features = data.features().clone();
    features.data_mut()[0] = f32::NAN;
    let validation = Dataset::classification(features, data.targets().classes()).unwrap();
    let model = mlp(4);
    let mut opt = Optim::new(model.parameters(), Adam::new(0.01));
    let mut loader = DataLoader::new(data, 32).unwrap();
    let err = Trainer::new(&model, &mut opt, Loss::CrossEntropy)
        .quiet()
        .fit(&mut loader, Some(&validation))
        .unwrap_err();
    assert!(
        matches!(err, TrainError::NonFiniteValidation { epoch: 1, .. }),
        "{err}"
    );
}

#[test]
fn evaluate_and_fit_leave_the_model_in_its_mode() {
    let model = Sequential::new()
        .push(Dense::new(4, 8, &mut seeded_rng(5)))
        .push(Dropout::new(0.5, 0))
        .push(Dense::new(8, 3, &mut seeded_rng(6)));
    let data = iris();
    model.set_training(false);
    let first = evaluate(&model, &data, 50, Loss::CrossEntropy);
    assert!(!model.is_training());
    // Deterministic in evaluation: dropout is off.
    assert_eq!(evaluate(&model, &data, 50, Loss::CrossEntropy), first);
    let mut opt = Optim::new(model.parameters(), Sgd::new(0.01));
    let mut loader = DataLoader::new(data, 50).unwrap();
    Trainer::new(&model, &mut opt, Loss::CrossEntropy)
        .quiet()
        .fit(&mut loader, None)
        .unwrap();
    assert!(!model.is_training(), "fit left the model in training mode");
}

#[test]
fn a_non_finite_loss_leaves_the_last_good_checkpoint_on_disk() {
    // lr 0.2 on this line doubles the error every step: the loss passes
    // f32's range after ~130 epochs, every epoch after the first worse.
    let x = Tensor::from([[1.0], [2.0], [3.0], [4.0]]);
    let data = Dataset::new(x, Tensor::from([[2.0], [4.0], [6.0], [8.0]])).unwrap();
    let model = Sequential::new().push(Dense::new(1, 1, &mut seeded_rng(0)));
    let mut opt = Optim::new(model.named_parameters(), Sgd::new(0.2));
    let mut loader = DataLoader::new(data.clone(), 4).unwrap();
    let path = temp_dir("diverging").join("best.ckpt");
    let err = Trainer::new(&model, &mut opt, Loss::MeanSquaredError)
        .epochs(1000)
        .best_checkpoint(&path)
        .quiet()
        .fit(&mut loader, Some(&data))
        .unwrap_err();
    assert!(
        matches!(
            err,
            TrainError::NonFiniteLoss { .. } | TrainError::NonFiniteValidation { .. }
        ),
        "{err}"
    );
    // The file holds the first epoch's weights, finite and whole.
    let restored = Sequential::new().push(Dense::new(1, 1, &mut seeded_rng(9)));
    load_module(&restored, &path).unwrap();
    let weights: Vec<f32> = restored
        .parameters()
        .iter()
        .flat_map(|p| p.value().to_vec())
        .collect();
    assert!(
        weights.iter().all(|w| w.is_finite() && w.abs() < 100.0),
        "{weights:?}"
    );
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
}
