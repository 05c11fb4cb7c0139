//! Regressions found by auditing issues 12, 13 and 15 as an adversarial
//! user: each test failed (panicked, hung or returned a wrong value) before
//! the fix it names.

use descent::io::{SafetensorsError, Weights, decode_npy};
use descent::prelude::*;

/// A safetensors payload declaring one F32 tensor `w` of `shape` and no data.
fn empty_safetensors(shape: &str) -> Vec<u8> {
    let header = format!(r#"{{"w":{{"dtype":"F32","shape":{shape},"data_offsets":[0,0]}}}}"#);
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    bytes
}

/// A checkpoint file around `payload`, with a valid header and checksum.
fn checkpoint_around(payload: &[u8]) -> Vec<u8> {
    let mut bytes = Checkpoint::new().to_bytes()[..12].to_vec();
    bytes.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    bytes.extend_from_slice(payload);
    bytes
}

/// A `.npy` file declaring float32 data of `shape` (a Python tuple) and no data.
fn empty_npy(shape: &str) -> Vec<u8> {
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    bytes
}

/// A zero dimension leaves no bytes to read, so the byte-length checks of
/// every format pass; the other dimensions' product still overflows, which
/// `Shape::new` refused with a panic from inside the decoders.
#[test]
fn a_stored_shape_with_a_zero_and_an_overflowing_rest_is_an_error() {
    let payload = empty_safetensors("[0,1099511627776,1099511627776]");
    let err = Checkpoint::from_bytes(&checkpoint_around(&payload)).unwrap_err();
    assert!(
        matches!(err, CheckpointError::Corrupt(_)) && err.to_string().contains("more elements"),
        "{err}"
    );
    let err = Weights::from_bytes(&payload).unwrap_err();
    assert!(
        matches!(err, SafetensorsError::Invalid(_)) && err.to_string().contains("more elements"),
        "{err}"
    );
    let err = decode_npy(&empty_npy("(0, 1099511627776, 1099511627776)")).unwrap_err();
    assert!(err.to_string().contains("too large"), "{err}");
    // Shapes with a zero that do fit still load, as empty tensors.
    let fine = Weights::from_bytes(&empty_safetensors("[0,3]")).unwrap();
    assert_eq!(fine.get("w").unwrap().1.dims(), &[0, 3]);
    assert_eq!(decode_npy(&empty_npy("(0, 3)")).unwrap().dims(), &[0, 3]);
}

/// `Standardizer::fit` walked rows with `chunks(width)`, which panics with
/// "chunk size must be non-zero" for data without columns.
#[test]
fn standardizing_data_without_columns_gives_data_without_columns() {
    let data = Tensor::zeros([4, 0]);
    let scaler = Standardizer::fit(&data);
    assert_eq!(scaler.mean().dims(), &[0]);
    assert_eq!(scaler.transform(&data).dims(), &[4, 0]);
}

/// `height + 2 * padding` wrapped around in release builds: a convolution
/// with a padding of 2^63 returned zeros of the unpadded shape.
#[test]
#[should_panic(
    expected = "conv2d: input of shape [1, 1, 4, 4] and weight of shape [1, 1, 2, 2]: padding (9223372036854775808, 9223372036854775808) or dilation (1, 1) makes a size larger than isize::MAX"
)]
fn a_convolution_padding_that_overflows_is_refused_by_name() {
    let options = Conv2dOptions {
        padding: Pair::from(1 << 63),
        ..Conv2dOptions::default()
    };
    Tensor::ones([1, 1, 4, 4]).conv2d(&Tensor::ones([1, 1, 2, 2]), None, options);
}

/// `in_per_group * groups` wrapped around to the input's channel count.
#[test]
#[should_panic(
    expected = "conv2d: input of shape [1, 2, 4, 4] and weight of shape [0, 2, 2, 2]: with 9223372036854775809 group(s)"
)]
fn a_group_count_that_overflows_is_refused_by_name() {
    let options = Conv2dOptions {
        groups: (1 << 63) + 1,
        ..Conv2dOptions::default()
    };
    Tensor::ones([1, 2, 4, 4]).conv2d(&Tensor::ones([0, 2, 2, 2]), None, options);
}

/// `2 * padding <= kernel` wrapped around and let a padding of 2^63 through
/// to an out-of-bounds index.
#[test]
fn a_pooling_padding_that_overflows_is_refused_by_name() {
    let x = Tensor::ones([1, 1, 4, 4]);
    let options = Pool2dOptions {
        padding: Pair::from(1 << 63),
        ..Pool2dOptions::new(2)
    };
    let message = |f: Box<dyn FnOnce() + std::panic::UnwindSafe>| {
        let panic = std::panic::catch_unwind(f).expect_err("the padding was accepted");
        panic.downcast_ref::<String>().cloned().unwrap_or_default()
    };
    let half =
        "padding (9223372036854775808, 9223372036854775808) must be at most half the kernel (2, 2)";
    let max = message(Box::new(|| drop(x.max_pool2d(options))));
    assert_eq!(max, format!("max_pool2d: {half}"));
    let avg = message(Box::new(|| drop(x.avg_pool2d(options, true))));
    assert_eq!(avg, format!("avg_pool2d: {half}"));
}

/// A zero-length half-cycle left the rate stuck at `base_lr` without a word.
#[test]
fn cyclic_lr_refuses_a_step_size_down_of_zero() {
    let mut opt = Optim::new([Param::new(Tensor::zeros([1]))], Sgd::new(0.1));
    let schedule = CyclicLr::new(0.01, 0.1)
        .step_size_up(1)
        .step_size_down(Some(0));
    let err = Scheduler::try_new(schedule, &mut opt).unwrap_err();
    assert_eq!(err.to_string(), "invalid step_size_down: 0 (must be >= 1)");
}

/// The cycle length `t_0 * t_mult^k` overflowed: a panic in debug builds,
/// an endless loop (a wrapped length of 0) in release builds.
#[test]
fn warm_restarts_whose_cycle_length_overflows_keep_annealing() {
    let mut opt = Optim::new([Param::new(Tensor::zeros([1]))], Sgd::new(0.1));
    let schedule = CosineAnnealingWarmRestarts {
        t_0: 4,
        t_mult: 1 << 62,
        eta_min: 0.0,
    };
    let mut scheduler = Scheduler::new(schedule, &mut opt);
    for _ in 0..6 {
        scheduler.step(&mut opt);
    }
    // Step 6 is 2 steps into a cycle of 2^64 steps: the rate has barely
    // moved from the restart.
    assert!((opt.lr(0) - 0.1).abs() < 1e-12, "{}", opt.lr(0));
}

/// Set in the child process of the tape-growth test.
const GROW_TAPE: &str = "DESCENT_AUDIT_GROW_TAPE";

/// Debug builds warn when a tape passes a million values (one never reset
/// between steps grows without bound); release builds stay silent. The
/// warning goes to standard error, so the test runs itself in a child
/// process and reads it.
#[test]
fn a_tape_that_keeps_growing_warns_in_debug_builds() {
    if std::env::var_os(GROW_TAPE).is_some() {
        let tape = Tape::new();
        let value = Tensor::scalar(1.0);
        for _ in 0..=1 << 20 {
            tape.constant(value.clone());
        }
        return;
    }
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_tape_that_keeps_growing_warns_in_debug_builds",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(GROW_TAPE, "1")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let warned = stderr.contains("is it reset (or created anew) every step?");
    assert_eq!(warned, cfg!(debug_assertions), "standard error: {stderr}");
}

/// RAdam with decoupled weight decay (PyTorch's `decoupled_weight_decay=True`)
/// had no check against hand-computed steps, unlike NAdam's: `param *= 1 - lr
/// wd` first, then the rectified Adam step from the undecayed gradient.
#[test]
fn radam_with_decoupled_weight_decay_follows_pytorch() {
    let (lr, (b1, b2), eps, wd) = (0.05, (0.9, 0.9), 1e-8, 0.1);
    let gradient = |theta: f64| 2.0 * (theta - 0.25);
    // beta2 = 0.9 makes rho_t pass 5 at step 6: 8 steps cover both branches.
    let reference = |start: f64, decoupled: bool| {
        let (mut theta, mut m, mut v) = (start, 0.0f64, 0.0f64);
        for t in 1..=8 {
            let t = t as f64;
            let mut g = gradient(theta);
            if decoupled {
                theta *= 1.0 - lr * wd;
            } else {
                g += wd * theta;
            }
            m = b1 * m + (1.0 - b1) * g;
            v = b2 * v + (1.0 - b2) * g * g;
            let corrected = m / (1.0 - b1.powf(t));
            let rho_inf = 2.0 / (1.0 - b2) - 1.0;
            let rho_t = rho_inf - 2.0 * t * b2.powf(t) / (1.0 - b2.powf(t));
            theta -= if rho_t > 5.0 {
                let rect = ((rho_t - 4.0) * (rho_t - 2.0) * rho_inf
                    / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t))
                    .sqrt();
                corrected * lr * (1.0 - b2.powf(t)).sqrt() / (v.sqrt() + eps) * rect
            } else {
                corrected * lr
            };
        }
        theta
    };
    let start = [1.5f32, -0.7];
    let w = Param::new(Tensor::from(start));
    let rule = RAdam::new(lr)
        .betas((b1, b2))
        .weight_decay(WeightDecay::Decoupled(wd));
    let mut opt = Optim::new([w.clone()], rule);
    for _ in 0..8 {
        w.accumulate_grad(w.value().map(|theta| gradient(theta as f64) as f32));
        opt.step();
        opt.zero_grad();
    }
    for (&got, &from) in w.value().data().iter().zip(&start) {
        let want = reference(from as f64, true);
        assert!((got as f64 - want).abs() < 1e-5, "{got} vs {want}");
        let coupled = reference(from as f64, false);
        assert!((want - coupled).abs() > 1e-3, "the two forms barely differ");
    }
}

/// The attributes `name="value"` of every `<tag ...>` element of `svg`,
/// with the element's text, in document order.
fn svg_elements(svg: &str, tag: &str) -> Vec<(std::collections::HashMap<String, String>, String)> {
    let open = format!("<{tag} ");
    svg.split(&open)
        .skip(1)
        .map(|rest| {
            let end = rest.find('>').unwrap();
            let (head, after) = (&rest[..end], &rest[end + 1..]);
            let attributes = head
                .split('"')
                .collect::<Vec<_>>()
                .chunks(2)
                .filter(|pair| pair.len() == 2)
                .map(|pair| {
                    let name = pair[0].trim().trim_end_matches('=').to_string();
                    (name, pair[1].to_string())
                })
                .collect();
            let text = after.split('<').next().unwrap_or("").trim().to_string();
            (attributes, text)
        })
        .collect()
}

/// Training-curve charts give nine series nine colours and put the legend
/// beside the curves, not over them (checked in the SVG written).
#[test]
fn charts_give_nine_series_nine_colours_and_a_legend_beside_the_curves() {
    let names: Vec<String> = (0..9).map(|i| format!("series {i}")).collect();
    let mut chart = descent::plot::Chart::new("loss", "epoch", "loss");
    for (i, name) in names.iter().enumerate() {
        let points = (1..=5).map(|e| (e as f64, (i + e) as f64)).collect();
        chart = chart.series(name, points);
    }
    let path = std::env::temp_dir().join(format!("audit-chart-{}.svg", std::process::id()));
    descent::plot::write_svg(&path, &[chart]).unwrap();
    let svg = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_file(&path).unwrap();

    let curves: Vec<_> = svg_elements(&svg, "polyline")
        .into_iter()
        .map(|(a, _)| a)
        .filter(|a| a.get("stroke-width").map(String::as_str) == Some("2"))
        .collect();
    assert_eq!(curves.len(), 9, "{svg}");
    let colours: std::collections::HashSet<&String> = curves.iter().map(|a| &a["stroke"]).collect();
    assert_eq!(colours.len(), 9, "colours {colours:?}");
    let rightmost_curve_x = curves
        .iter()
        .flat_map(|a| a["points"].split_whitespace())
        .map(|point| point.split(',').next().unwrap().parse::<f64>().unwrap())
        .fold(f64::NEG_INFINITY, f64::max);
    for name in &names {
        let (label, _) = svg_elements(&svg, "text")
            .into_iter()
            .find(|(_, text)| text == name)
            .unwrap_or_else(|| panic!("no legend entry {name:?}"));
        let x: f64 = label["x"].parse().unwrap();
        assert!(
            x > rightmost_curve_x,
            "{name:?} at x = {x}, curves reach {rightmost_curve_x}"
        );
    }
}
