//! Training a CNN gives the same bits whatever the number of threads:
//! convolutions run image by image in parallel, but their weight gradients
//! are summed over fixed groups of images in a fixed order.

use descent::prelude::*;

/// Three Adam steps of a CNN with batch norm on a batch large enough that
/// every parallel path runs; the losses and the final parameters and
/// buffers.
fn train() -> Vec<Tensor> {
    let mut rng = seeded_rng(5);
    let model = Sequential::new()
        .push(Conv2d::new(3, 16, 5, &mut rng).padding(2))
        .push(BatchNorm2d::new(16))
        .push(Activation::Relu)
        .push(MaxPool2d::new(2))
        .push(Conv2d::new(16, 32, 3, &mut rng).padding(1).groups(2))
        .push(Activation::Relu)
        .push(AvgPool2d::new(2))
        .push(Flatten::new())
        .push(Dense::new(32 * 8 * 8, 10, &mut rng));
    let x = Tensor::randn([50, 3, 32, 32], &mut rng);
    let labels: Vec<usize> = (0..50).map(|i| (i * 7) % 10).collect();
    let mut opt = Optim::new(model.parameters(), Adam::new(1e-3));
    let mut results = Vec::new();
    for _ in 0..3 {
        let tape = Tape::new();
        let loss = cross_entropy_loss(
            model.forward(tape.constant(x.clone())),
            &labels,
            Reduction::Mean,
        );
        loss.backward();
        opt.step();
        opt.zero_grad();
        results.push(loss.value());
    }
    results.extend(model.state_dict().into_iter().map(|(_, p)| p.value()));
    results
}

#[test]
fn cnn_training_gives_identical_bits_on_one_two_and_three_threads() {
    let run = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(train)
    };
    let one = run(1);
    for threads in [2, 3] {
        let many = run(threads);
        for (i, (a, b)) in one.iter().zip(&many).enumerate() {
            assert!(
                a.bit_eq(b),
                "result {i} differs between 1 and {threads} threads"
            );
        }
    }
}
