//! The matrix-factorization example's model, trained for a few epochs, beats
//! the global-mean baseline RMSE by at least 30%.

#[path = "../examples/matrix_factorization/model.rs"]
mod model;

use descent::prelude::*;
use model::{MatrixFactorization, rmse, synthetic_ratings};

#[test]
fn factorization_beats_the_global_mean_by_30_percent() {
    let data = synthetic_ratings(400, 200, 3, 0.2, 0.5, 11);
    let split = train_test_split(data.ratings.numel(), 0.2, 12);
    let train = Dataset::new(
        data.pairs.index_select(&split.train),
        data.ratings.index_select(&split.train),
    )
    .unwrap();
    let test = Dataset::new(
        data.pairs.index_select(&split.test),
        data.ratings.index_select(&split.test),
    )
    .unwrap();
    let mean = train.targets().values().mean().item();
    let baseline = rmse(
        &Tensor::full(test.targets().values().shape(), mean),
        test.targets().values(),
    );

    let model = MatrixFactorization::new(400, 200, 3, mean, 13);
    let mut opt = Optim::new(model.parameters(), Adam::new(0.02)).unwrap();
    let mut loader = DataLoader::new(train, 256).unwrap().shuffle(14);
    Trainer::new(&model, &mut opt, Loss::MeanSquaredError)
        .epochs(8)
        .quiet()
        .fit(&mut loader, None)
        .unwrap();

    let tape = Tape::no_grad();
    let held_out = rmse(
        &model
            .forward(tape.constant(test.features().clone()))
            .value(),
        test.targets().values(),
    );
    assert!(
        held_out <= 0.7 * baseline,
        "held-out RMSE {held_out} vs global-mean baseline {baseline}"
    );
    let names: Vec<String> = model
        .named_parameters()
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(
        names,
        [
            "users.weight",
            "items.weight",
            "user_bias.weight",
            "item_bias.weight"
        ]
    );
}
