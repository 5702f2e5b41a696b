//! The tape's contract: backward is idempotent, shared values accumulate, deep chains do
//! not overflow the stack, no-grad records nothing, and errors say what went wrong.

use resgrad::ndarray::{ArrayD, IxDyn, array};
use resgrad::{Error, Param, Tape, Var};

#[test]
fn backward_twice_gives_the_same_gradients() {
    let tape = Tape::new();
    let x = tape.var(array![0.5f32, -1.0, 2.0]);
    let w = tape.var(array![1.5f32, 0.25, -0.75]);
    let y = (&x * &w).tanh().sum();
    let g1 = y.backward();
    let g2 = y.backward();
    assert_eq!(g1[&x], g2[&x]);
    assert_eq!(g1[&w], g2[&w]);
    // And not doubled: dy/dw = x * (1 - tanh^2(x w)).
    let expected = x.value() * &(x.value() * w.value()).mapv(|v: f32| 1.0 - v.tanh().powi(2));
    for (a, b) in g1[&w].iter().zip(expected.iter()) {
        assert!((a - b).abs() < 1e-6, "{a} vs {b}");
    }
}

#[test]
fn a_var_used_twice_accumulates_its_gradient() {
    let tape = Tape::new_f64();
    let x = tape.var(array![3.0]);
    // y = x * x + x: dy/dx = 2x + 1 = 7, from three uses of x.
    let y = (&x * &x + &x).sum();
    assert_eq!(y.backward()[&x], array![7.0].into_dyn());
}

#[test]
fn a_param_brought_onto_the_tape_twice_is_one_node() {
    let p = Param::new("w", array![2.0f64, -1.0]);
    let tape = Tape::new_f64();
    let a = tape.param(&p);
    let b = tape.param(&p);
    assert_eq!(a.id(), b.id());
    let y = (&a * &b).sum(); // sum(w^2): d/dw = 2w
    let grads = y.backward();
    assert_eq!(grads[&p], array![4.0, -2.0].into_dyn());
    assert_eq!(grads[&p], grads[&a]);
}

#[test]
fn a_chain_of_a_million_nodes_backpropagates_without_recursion() {
    let tape = Tape::new_f64();
    let x = tape.scalar(1.0);
    let c = 1.000_001;
    let mut y = x.clone();
    for _ in 0..500_000 {
        y = y.scale(c).add_scalar(1e-7);
    }
    assert_eq!(tape.len(), 1_000_001);
    let grads = y.backward();
    // y = c^n x + ..., so dy/dx = c^n.
    let expected = c.powi(500_000);
    let got = grads[&x][IxDyn(&[])];
    assert!(
        (got - expected).abs() < 1e-9 * expected,
        "{got} vs {expected}"
    );
    drop(grads);
    drop(y);
    drop(tape); // dropping a million nodes must not recurse either
}

#[test]
fn no_grad_records_nothing_and_computes_the_same_values() {
    let tape = Tape::new();
    let x = tape.var(array![[1.0f32, -2.0], [0.5, 3.0]]);
    let recorded = x.matmul(&x).relu();
    let before = tape.len();
    let plain = tape.no_grad(|| x.matmul(&x).relu());
    assert_eq!(tape.len(), before, "no_grad must not add nodes");
    assert_eq!(plain.value(), recorded.value());
    assert!(plain.id().is_none());
    assert!(tape.is_recording(), "recording resumes after no_grad");
    // A value made under no_grad enters later graphs as a constant.
    let y = (&plain * &x).sum();
    let grads = y.backward();
    assert_eq!(grads[&x], plain.value().clone());
    let err = tape
        .no_grad(|| plain.sum())
        .try_backward()
        .unwrap_err()
        .to_string();
    assert!(err.contains("not recording"), "{err}");
}

#[test]
fn the_tape_prints_one_line_per_node() {
    let tape = Tape::new();
    let x = tape.var(array![[1.0f32, 2.0, 3.0]]);
    let w = tape.var(array![[1.0f32], [0.5], [0.25]]);
    let _y = x.matmul(&w).relu().sum();
    let text = tape.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1 + 5, "{text}");
    assert!(
        lines[3].starts_with("#2") && lines[3].contains("matmul") && lines[3].contains("[1, 1]")
    );
    assert!(lines[3].contains("<- #0, #1"), "{text}");
    assert!(
        lines[5].contains("sum") && lines[5].contains("<- #3"),
        "{text}"
    );
}

#[test]
fn the_graph_draws_one_box_per_node_with_values_and_gradients() {
    let tape = Tape::new();
    let a = tape.scalar(2.0f32);
    let b = tape.scalar(-3.0f32);
    let unrelated = tape.scalar(9.0f32);
    let y = (&a * &b).tanh();
    let grads = y.backward();
    let g = y.graph_with(&grads);
    assert_eq!(
        g.nodes.len(),
        4,
        "the unrelated input is not an ancestor of y"
    );
    let svg = g.to_svg();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    for op in ["#0 input", "#3 mul", "#4 tanh", "grad"] {
        assert!(svg.contains(op), "missing {op} in\n{svg}");
    }
    let dot = g.to_dot();
    assert!(
        dot.contains("n0 -> n3") && dot.contains("n1 -> n3") && dot.contains("n3 -> n4"),
        "{dot}"
    );
    assert_eq!(tape.graph().nodes.len(), 5);
    let _ = unrelated;
}

#[test]
fn f32_is_the_default_and_f64_is_on_request() {
    let t = Tape::new();
    let x: Var<f32> = t.var(array![1.0, 2.0]);
    let t64 = Tape::new_f64();
    let y: Var<f64> = t64.var(array![1.0, 2.0]);
    assert_eq!(x.sum().item(), 3.0f32);
    assert_eq!(y.sum().item(), 3.0f64);
}

// ---- errors a learner can act on ----

#[test]
fn a_broadcast_mismatch_names_the_op_the_shapes_the_rule_and_the_caller() {
    let tape = Tape::new();
    let a = tape.var(ArrayD::<f32>::zeros(IxDyn(&[2, 3])));
    let b = tape.var(ArrayD::<f32>::zeros(IxDyn(&[4])));
    let line = line!() + 1;
    let err = a.try_add(&b).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::Shape { .. }));
    for part in [
        "add",
        "[2, 3] and [4]",
        "broadcast",
        "axis -1 has lengths 3 and 4",
    ] {
        assert!(msg.contains(part), "missing `{part}` in: {msg}");
    }
    assert!(
        msg.contains(&format!("tests/tape.rs:{line}")),
        "no caller location in: {msg}"
    );
}

#[test]
fn the_panicking_form_panics_with_the_same_message() {
    let tape = Tape::new();
    let a = tape.var(ArrayD::<f32>::zeros(IxDyn(&[2, 3])));
    let b = tape.var(ArrayD::<f32>::zeros(IxDyn(&[4, 5])));
    let expected = a.try_matmul(&b).unwrap_err().to_string();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| a.matmul(&b)));
    let payload = caught.unwrap_err();
    let msg = payload.downcast_ref::<String>().unwrap();
    // Same text except the caller's line.
    let strip = |s: &str| s.split(" (called at").next().unwrap().to_string();
    assert_eq!(strip(msg), strip(&expected));
    assert!(
        msg.contains("matmul") && msg.contains("[2, 3] and [4, 5]") && msg.contains("3 columns")
    );
}

#[test]
fn operator_errors_point_at_the_callers_line() {
    let tape = Tape::new();
    let a = tape.var(ArrayD::<f32>::zeros(IxDyn(&[2])));
    let b = tape.var(ArrayD::<f32>::zeros(IxDyn(&[3])));
    let line = line!() + 1;
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| &a * &b));
    let payload = caught.unwrap_err();
    let msg = payload.downcast_ref::<String>().unwrap();
    assert!(msg.contains(&format!("tests/tape.rs:{line}")), "{msg}");
}

#[test]
fn every_shape_checked_op_has_a_try_form_that_returns_an_error() {
    let tape = Tape::new();
    let m = tape.var(ArrayD::<f32>::zeros(IxDyn(&[2, 3])));
    let v = tape.var(ArrayD::<f32>::zeros(IxDyn(&[5])));
    let cases: Vec<(&str, resgrad::Result<Var>)> = vec![
        ("sub", m.try_sub(&v)),
        ("mul", m.try_mul(&v)),
        ("div", m.try_div(&v)),
        ("matmul", v.try_matmul(&m)),
        ("sum", m.try_sum_axes(&[2], false)),
        ("mean", m.try_mean_axes(&[0, 0], false)),
        ("max", m.try_max_axis(4, false)),
        ("reshape", m.try_reshape(&[4, 2])),
        ("permute", m.try_permute(&[0, 0])),
        ("transpose", m.try_transpose(0, 2)),
        ("slice", m.try_slice(1, 2, 4)),
        ("concat", resgrad::try_concat(&[&m, &v], 0)),
        ("stack", resgrad::try_stack(&[&m, &m.t()], 0)),
        ("softmax", m.try_softmax(2)),
        ("log_softmax", m.try_log_softmax(5)),
        ("cross_entropy", m.try_cross_entropy(&[0, 3])),
        ("cross_entropy", m.try_cross_entropy(&[0])),
        ("cross_entropy", v.try_cross_entropy(&[0])),
        ("mse", m.try_mse(&m.t())),
    ];
    for (op, result) in cases {
        let msg = result.unwrap_err().to_string();
        assert!(
            msg.starts_with(op),
            "expected an error from {op}, got: {msg}"
        );
        assert!(msg.contains("tests/tape.rs:"), "no location in: {msg}");
    }
}

#[test]
fn cross_entropy_labels_out_of_range_are_named() {
    let tape = Tape::new();
    let logits = tape.var(ArrayD::<f32>::zeros(IxDyn(&[2, 3])));
    let msg = logits.try_cross_entropy(&[0, 3]).unwrap_err().to_string();
    assert!(
        msg.contains("label 3 (row 1)") && msg.contains("3 classes"),
        "{msg}"
    );
}

#[test]
fn values_from_two_tapes_do_not_mix() {
    let (t1, t2) = (Tape::new(), Tape::new());
    let a = t1.var(array![1.0f32]);
    let b = t2.var(array![1.0f32]);
    let msg = a.try_add(&b).unwrap_err().to_string();
    assert!(msg.contains("different tapes"), "{msg}");
}

#[test]
fn backward_from_a_non_scalar_says_how_to_fix_it() {
    let tape = Tape::new();
    let x = tape.var(array![1.0f32, 2.0]);
    let msg = (&x * 2.0).try_backward().unwrap_err().to_string();
    assert!(
        msg.contains("scalar") && msg.contains("[2]") && msg.contains(".sum()"),
        "{msg}"
    );
}

#[test]
fn cross_entropy_is_stable_for_huge_logits() {
    let tape = Tape::new();
    let logits = tape.var(array![[1e4f32, -1e4, 0.0], [-1e4, 1e4, 1e4]]);
    let loss = logits.cross_entropy(&[1, 2]);
    // Row 0: the true class is 2e4 below the max; row 1: tied with the max, loss ln 2.
    let expected = (2e4 + std::f32::consts::LN_2) / 2.0;
    assert!((loss.item() - expected).abs() < 1.0, "{}", loss.item());
    let g = &loss.backward()[&logits];
    assert!(g.iter().all(|v| v.is_finite()), "{g}");
    // d/dlogits = (softmax - onehot) / N
    assert!((g[[0, 0]] - 0.5).abs() < 1e-6 && (g[[0, 1]] + 0.5).abs() < 1e-6);
    assert!((g[[1, 1]] - 0.25).abs() < 1e-6 && (g[[1, 2]] + 0.25).abs() < 1e-6);
    let ls = logits.log_softmax(1);
    assert!(ls.value().iter().all(|v| v.is_finite()));
    assert!(logits.softmax(1).value().iter().all(|v| v.is_finite()));
}

// ---- anomaly mode ----

#[test]
fn anomaly_mode_names_the_first_forward_op_that_made_a_nan() {
    let tape = Tape::new();
    tape.set_anomaly_mode(true);
    let x = tape.var(array![1.0f32, -1.0]);
    let fine = x.exp();
    let line = line!() + 1;
    let bad = fine.sub(&x.exp().scale(2.0)).log(); // log of a negative number
    let later = bad.sqrt().sum();
    let err = tape.first_anomaly().expect("anomaly mode saw the NaN");
    let msg = err.to_string();
    assert!(msg.contains("forward of op `log`"), "{msg}");
    assert!(msg.contains(&format!("tests/tape.rs:{line}")), "{msg}");
    assert!(msg.contains("NaN at index [0]"), "{msg}");
    // Backward refuses to run on a poisoned graph, with the same report.
    assert_eq!(later.try_backward().unwrap_err(), err);
}

#[test]
fn anomaly_mode_names_the_op_whose_backward_made_an_infinity() {
    let tape = Tape::new();
    tape.set_anomaly_mode(true);
    let x = tape.var(array![0.0f32, 4.0]);
    let line = line!() + 1;
    let y = x.sqrt().sum(); // d sqrt(x)/dx = 1 / (2 sqrt x) is infinite at 0
    assert!(
        tape.first_anomaly().is_none(),
        "the forward values are finite"
    );
    let msg = y.try_backward().unwrap_err().to_string();
    assert!(msg.contains("backward of op `sqrt`"), "{msg}");
    assert!(msg.contains(&format!("tests/tape.rs:{line}")), "{msg}");
    assert!(msg.contains("an infinity at index [0]"), "{msg}");
}

#[test]
fn without_anomaly_mode_nothing_is_checked() {
    let tape = Tape::new();
    let x = tape.var(array![0.0f32, 4.0]);
    let grads = x.sqrt().sum().backward();
    assert!(grads[&x][0].is_infinite());
    assert!(tape.first_anomaly().is_none());
}

#[test]
fn keeping_only_the_leaves_gives_the_same_leaf_gradients_and_frees_the_rest() {
    let tape = Tape::new_f64();
    let x = tape.var(array![[0.5, -1.0], [2.0, 0.25]]);
    let w = resgrad::Param::new("w", array![[1.5, -0.5], [0.25, 2.0]]);
    let h = x.matmul(&tape.param(&w)).tanh();
    let loss = (&h * &h).sum();
    let all = loss.backward();
    let leaves = loss.backward_leaves();
    assert_eq!(all[&x], leaves[&x]);
    assert_eq!(all[&w], leaves[&w]);
    assert!(all.get(&h).is_some());
    assert!(
        leaves.get(&h).is_none(),
        "an intermediate gradient was kept"
    );
}
