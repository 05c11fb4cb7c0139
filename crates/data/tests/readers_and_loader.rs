//! The shipped files load with the documented shapes; damaged copies of them
//! give the documented errors; the loader visits every sample once per epoch.

use descent_data::*;
use descent_tensor::Tensor;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data");

#[test]
fn shipped_mnist_has_the_documented_shapes() {
    let mnist = Mnist::load(format!("{DATA}/mnist")).unwrap();
    assert_eq!(mnist.train_images.dims(), &[8000, 784]);
    assert_eq!(mnist.test_images.dims(), &[1000, 784]);
    assert_eq!(
        (mnist.train_labels.len(), mnist.test_labels.len()),
        (8000, 1000)
    );
    assert!(mnist.train_labels.iter().all(|&l| l < 10));
    for digit in 0..10 {
        assert!(mnist.train_labels.contains(&digit));
    }
    let pixels = mnist.train_images.data();
    assert!(pixels.iter().all(|&p| (0.0..=1.0).contains(&p)));
    assert_eq!(mnist.train_images.max().item(), 1.0);
}

#[test]
fn damaged_idx_files_give_errors_that_say_what_is_wrong() {
    let raw = {
        use std::io::Read;
        let gz = std::fs::read(format!("{DATA}/mnist/t10k-labels-idx1-ubyte.gz")).unwrap();
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut out)
            .unwrap();
        out
    };
    assert_eq!(parse_idx(&raw, "labels").unwrap().dims, vec![1000]);
    let cut = parse_idx(&raw[..500], "labels").unwrap_err().to_string();
    assert_eq!(
        cut,
        "labels: truncated: dimensions [1000] need 1000 bytes of data, found 492"
    );
    let mut wrong_magic = raw.clone();
    wrong_magic[0] = 0x42;
    assert!(
        parse_idx(&wrong_magic, "labels")
            .unwrap_err()
            .to_string()
            .contains("not an IDX file")
    );
    let gz = std::fs::read(format!("{DATA}/mnist/t10k-labels-idx1-ubyte.gz")).unwrap();
    let err = parse_idx(&gz[..gz.len() / 2], "labels.gz")
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("labels.gz: "), "{err}");
    let images_as_labels =
        read_idx_labels(format!("{DATA}/mnist/t10k-images-idx3-ubyte.gz")).unwrap_err();
    assert!(
        images_as_labels
            .to_string()
            .contains("expected labels [count], found dimensions [1000, 28, 28]")
    );
}

#[test]
fn shipped_tables_have_the_documented_shapes() {
    for (file, rows, columns, target) in [
        ("diabetes.csv", 442, 11, "target"),
        ("breast_cancer.csv", 569, 31, "benign"),
        ("iris.csv", 150, 5, "species"),
    ] {
        let table = Table::read_csv(format!("{DATA}/tabular/{file}")).unwrap();
        assert_eq!(table.values.dims(), &[rows, columns], "{file}");
        let (x, y) = table.features_and_target(target).unwrap();
        assert_eq!(
            (x.dims(), y.dims()),
            (&[rows, columns - 1][..], &[rows, 1][..])
        );
    }
}

fn visits(batch_size: usize, drop_last: bool, seed: Option<u64>) -> Vec<Vec<usize>> {
    let n = 100;
    let data = Dataset::new(
        Tensor::arange(0.0, n as f32, 1.0).reshape([n, 1]),
        Tensor::zeros([n]),
    )
    .unwrap();
    let mut loader = DataLoader::new(data, batch_size)
        .unwrap()
        .drop_last(drop_last);
    if let Some(seed) = seed {
        loader = loader.shuffle(seed);
    }
    (0..2)
        .map(|_| {
            loader
                .epoch()
                .flat_map(|b| {
                    b.features
                        .data()
                        .iter()
                        .map(|&v| v as usize)
                        .collect::<Vec<_>>()
                })
                .collect()
        })
        .collect()
}

#[test]
fn every_sample_is_visited_once_per_epoch_for_every_batch_size() {
    for batch_size in [1, 7, 64, 100] {
        for shuffle in [None, Some(3)] {
            let epochs = visits(batch_size, false, shuffle);
            for seen in &epochs {
                let mut sorted = seen.clone();
                sorted.sort();
                assert_eq!(
                    sorted,
                    (0..100).collect::<Vec<_>>(),
                    "batch {batch_size}, shuffle {shuffle:?}"
                );
            }
            let dropped = visits(batch_size, true, shuffle);
            let full = 100 / batch_size * batch_size;
            for seen in &dropped {
                let mut unique = seen.clone();
                unique.sort();
                unique.dedup();
                assert_eq!(
                    (seen.len(), unique.len()),
                    (full, full),
                    "drop_last, batch {batch_size}"
                );
            }
        }
    }
}

#[test]
fn shuffling_is_seeded_and_changes_each_epoch() {
    let a = visits(7, false, Some(11));
    assert_eq!(a, visits(7, false, Some(11)));
    assert_ne!(a[0], a[1], "the order is redrawn every epoch");
    assert_ne!(a, visits(7, false, Some(12)));
    assert_eq!(visits(7, false, None)[0], (0..100).collect::<Vec<_>>());
}

#[test]
fn invalid_loader_arguments_are_rejected() {
    let data = Dataset::new(Tensor::zeros([3, 1]), Tensor::zeros([3])).unwrap();
    let err = DataLoader::new(data, 0).err().unwrap().to_string();
    assert_eq!(err, "batch size must be at least 1, got 0");
    let err = Dataset::new(Tensor::zeros([0, 4]), Tensor::zeros([0]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("empty data set"), "{err}");
    let err = Dataset::new(Tensor::zeros([3, 1]), Tensor::zeros([2]))
        .unwrap_err()
        .to_string();
    assert_eq!(err, "3 feature rows but 2 target rows");
}

#[test]
fn a_full_batch_is_one_batch_of_every_sample() {
    let n = 37;
    let data = Dataset::classification(
        Tensor::arange(0.0, n as f32, 1.0).reshape([n, 1]),
        &(0..n).collect::<Vec<_>>(),
    )
    .unwrap();
    let loaders = [
        DataLoader::full_batch(data.clone()),
        DataLoader::full_batch(data.clone())
            .shuffle(5)
            .drop_last(true),
        DataLoader::new(data.clone(), n).unwrap(),
        DataLoader::new(data.clone(), n).unwrap().drop_last(true),
    ];
    for mut loader in loaders {
        assert_eq!(loader.batches_per_epoch(), 1);
        for _ in 0..2 {
            let batches: Vec<Batch> = loader.epoch().collect();
            assert_eq!(batches.len(), 1);
            let mut classes = batches[0].classes().to_vec();
            classes.sort();
            assert_eq!(classes, (0..n).collect::<Vec<_>>());
            let rows: Vec<usize> = batches[0]
                .features
                .data()
                .iter()
                .map(|&v| v as usize)
                .collect();
            assert_eq!(
                rows,
                batches[0].classes(),
                "features and labels stay paired"
            );
        }
    }
}
