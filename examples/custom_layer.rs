//! A layer defined entirely in user code: a residual block
//! `y = x + W2 relu(W1 x + b1) + b2`. It implements `Module`, trains with a
//! stock optimizer, passes gradcheck, and is saved and loaded, with no
//! change to the library.
//!
//! Run: `cargo run --release --example custom_layer` (`-- --help` for the
//! options).

use clap::Parser;
use descent::prelude::*;

/// Trains, checks, saves and loads a residual block written in user code.
#[derive(Parser)]
struct Options {
    /// Seed of the train/test split of the iris table.
    #[arg(long, default_value_t = 7)]
    split_seed: u64,
}

/// `x + W2 relu(W1 x + b1) + b2`, keeping the width of its input.
struct Residual {
    expand_weight: Param,
    expand_bias: Param,
    project_weight: Param,
    project_bias: Param,
}

impl Residual {
    fn new(width: usize, hidden: usize, rng: &mut impl descent::tensor::rand::Rng) -> Residual {
        let init = |fan_in: usize, fan_out: usize, rng: &mut _| {
            Param::new(Init::KaimingUniform.weight(fan_in, fan_out, rng))
        };
        Residual {
            expand_weight: init(width, hidden, rng),
            expand_bias: Param::new(Tensor::zeros([hidden])),
            // Starting the projection at zero makes the block the identity.
            project_weight: Param::new(Tensor::zeros([width, hidden])),
            project_bias: Param::new(Tensor::zeros([width])),
        }
    }
}

impl Module for Residual {
    fn forward<'t>(&self, x: Var<'t>) -> Var<'t> {
        let tape = x.tape();
        let hidden =
            (x.matmul_t(tape.param(&self.expand_weight)) + tape.param(&self.expand_bias)).relu();
        x + hidden.matmul_t(tape.param(&self.project_weight)) + tape.param(&self.project_bias)
    }

    fn visit_params(&self, v: &mut ParamVisitor<'_>) {
        v.param("expand.weight", &self.expand_weight);
        v.param("expand.bias", &self.expand_bias);
        v.param("project.weight", &self.project_weight);
        v.param("project.bias", &self.project_bias);
    }

    fn describe(&self) -> String {
        let [hidden, width] = [
            self.expand_weight.shape().dim(0),
            self.expand_weight.shape().dim(1),
        ];
        format!("Residual({width} -> {hidden} -> {width})")
    }
}

fn model(seed: u64) -> Sequential {
    let mut rng = seeded_rng(seed);
    Sequential::new()
        .push(Dense::new(4, 16, &mut rng))
        .push(Activation::Tanh)
        .push(Residual::new(16, 32, &mut rng))
        .push(Dense::new(16, 3, &mut rng))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let options = Options::parse();
    let table = Table::read_csv(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/tabular/iris.csv"
    ))?;
    let (x, y) = table.features_and_target("species")?;
    let labels: Vec<usize> = y.data().iter().map(|&v| v as usize).collect();
    let split = train_test_split(table.rows(), 0.3, options.split_seed);
    let scaler = Standardizer::fit(&x.index_select(0, &split.train));
    let x = scaler.transform(&x);
    let pick = |rows: &[usize]| rows.iter().map(|&r| labels[r]).collect::<Vec<_>>();
    let train = Dataset::classification(x.index_select(0, &split.train), &pick(&split.train))?;
    let test = Dataset::classification(x.index_select(0, &split.test), &pick(&split.test))?;

    let net = model(0);
    gradcheck_module(
        &Residual::new(3, 4, &mut seeded_rng(1)),
        &Tensor::randn([2, 3], &mut seeded_rng(2)),
    )?;
    println!("gradcheck of the custom layer passed");
    for (name, p) in net.named_parameters() {
        println!("  {name:<22} {:?}", p.shape());
    }

    let mut opt = Optim::new(net.parameters(), Adam::new(0.01));
    let mut loader = DataLoader::new(train, 16)?.shuffle(0);
    Trainer::new(&net, &mut opt, Loss::CrossEntropy)
        .epochs(60)
        .quiet()
        .fit(&mut loader, None)?;
    let result = evaluate(&net, &test, 64, Loss::CrossEntropy);
    println!(
        "held-out accuracy {:.1}%",
        result.accuracy().unwrap_or(0.0) * 100.0
    );

    let path = std::env::temp_dir().join("descent-custom-layer.ckpt");
    save_module(&net, &path)?;
    let restored = model(99);
    load_module(&restored, &path)?;
    let again = evaluate(&restored, &test, 64, Loss::CrossEntropy);
    assert_eq!(again, result, "the restored model gives the same results");
    println!(
        "saved to and restored from {}: identical results",
        path.display()
    );
    std::fs::remove_file(path)?;
    Ok(())
}
