//! A model's names and shapes as text, compared across ranks before
//! training starts: a rank holding a different model would otherwise sum
//! unrelated gradients, or wait forever for a buffer of another size.

use descent_layers::Module;

/// One line of totals, then one line per parameter and buffer:
/// `parameter 0.weight [128, 784]`.
pub(crate) fn fingerprint(model: &dyn Module) -> String {
    let mut lines = Vec::new();
    let mut values = 0;
    for (kind, tensors) in [
        ("parameter", model.named_parameters()),
        ("buffer", model.named_buffers()),
    ] {
        for (name, tensor) in tensors {
            values += tensor.numel();
            lines.push(format!("{kind} {name} {:?}", tensor.shape().dims()));
        }
    }
    format!(
        "{values} values in {} tensors\n{}",
        lines.len(),
        lines.join("\n")
    )
}

/// `Ok` when every rank's fingerprint is rank 0's; otherwise what the
/// first differing rank has instead.
pub(crate) fn check_same(fingerprints: &[String]) -> Result<(), String> {
    let Some((rank, differing)) = fingerprints
        .iter()
        .enumerate()
        .find(|(_, f)| *f != &fingerprints[0])
    else {
        return Ok(());
    };
    let mut ours = fingerprints[0].lines();
    let mut theirs = differing.lines();
    let totals = (ours.next().unwrap_or(""), theirs.next().unwrap_or(""));
    let mut message = format!("rank 0 has {}, rank {rank} has {}", totals.0, totals.1);
    loop {
        match (ours.next(), theirs.next()) {
            (Some(a), Some(b)) if a == b => continue,
            (None, None) => break,
            (a, b) => {
                let nothing = "nothing";
                message.push_str(&format!(
                    "; first difference: rank 0 has {}, rank {rank} has {}",
                    a.unwrap_or(nothing),
                    b.unwrap_or(nothing)
                ));
                break;
            }
        }
    }
    Err(message)
}

#[cfg(test)]
mod tests {
    use descent_autograd::Activation;
    use descent_layers::{Dense, Sequential};
    use descent_tensor::seeded_rng;

    use super::*;

    fn mlp(hidden: usize, seed: u64) -> Sequential {
        let mut rng = seeded_rng(seed);
        Sequential::new()
            .push(Dense::new(784, hidden, &mut rng).with_activation(Activation::Relu))
            .push(Dense::new(hidden, 10, &mut rng))
    }

    #[test]
    fn names_and_shapes_are_listed_with_their_totals() {
        assert_eq!(
            fingerprint(&mlp(128, 0)),
            "101770 values in 4 tensors\n\
             parameter 0.weight [128, 784]\n\
             parameter 0.bias [128]\n\
             parameter 2.weight [10, 128]\n\
             parameter 2.bias [10]"
        );
    }

    #[test]
    fn the_same_architecture_matches_whatever_its_weights() {
        let same = [fingerprint(&mlp(128, 0)), fingerprint(&mlp(128, 1))];
        assert_eq!(check_same(&same), Ok(()));
    }

    #[test]
    fn a_different_model_is_named_with_its_first_difference() {
        let ranks = [
            fingerprint(&mlp(128, 0)),
            fingerprint(&mlp(128, 0)),
            fingerprint(&mlp(64, 0)),
        ];
        assert_eq!(
            check_same(&ranks).unwrap_err(),
            "rank 0 has 101770 values in 4 tensors, rank 2 has 50890 values in 4 tensors; \
             first difference: rank 0 has parameter 0.weight [128, 784], \
             rank 2 has parameter 0.weight [64, 784]"
        );
        let shorter = mlp(128, 0).push(Dense::new(10, 2, &mut seeded_rng(0)));
        let err = check_same(&[fingerprint(&shorter), fingerprint(&mlp(128, 0))]).unwrap_err();
        assert!(
            err.ends_with(
                "first difference: rank 0 has parameter 3.weight [2, 10], rank 1 has nothing"
            ),
            "{err}"
        );
    }
}
