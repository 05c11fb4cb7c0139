//! Linear regression on the diabetes table, written directly on the tape and
//! fitted with full-batch gradient descent.
//!
//! Run: `cargo run --release --example linear_regression`

use descent::prelude::*;

fn main() -> Result<(), DataError> {
    let table = Table::read_csv(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/tabular/diabetes.csv"
    ))?;
    let (raw, y) = table.features_and_target("target")?;
    let x = Standardizer::fit(&raw).transform(&raw);
    let features = x.dims()[1];

    let w = Param::new(Tensor::zeros([features, 1]));
    let b = Param::new(Tensor::zeros([1]));
    let learning_rate = 0.2;
    for epoch in 0..=3000 {
        let tape = Tape::new();
        let prediction = tape.constant(x.clone()).matmul(tape.param(&w)) + tape.param(&b);
        let loss = (prediction - tape.constant(y.clone())).square().mean();
        loss.backward();
        if epoch % 500 == 0 {
            println!("epoch {epoch:>4}  mse {:>10.2}", loss.item());
        }
        for p in [&w, &b] {
            let step = p
                .grad()
                .expect("backward reached every parameter")
                .mul_scalar(learning_rate);
            p.set_value(p.value().sub(&step));
            p.zero_grad();
        }
    }
    let names = table.columns.iter().filter(|c| *c != "target");
    for (name, weight) in names.zip(w.value().data()) {
        println!("{name:>6}: {weight:>8.2}");
    }
    println!("intercept: {:.2}", b.value().item());
    Ok(())
}
