//! Golden values from PyTorch: forward outputs and every gradient of conv2d (with stride
//! and padding), batch_norm2d (train and eval, with the running statistics), max_pool2d
//! and avg_pool2d on small fixed inputs. `tests/golden/make_golden.py` made the JSON file
//! once, with PyTorch in float64.
//!
//! In f64 the tape runs the fast convolutions and the reference batch norm and pooling,
//! which must match to 1e-10; the reference convolution loops, called directly, must too.
//! In f32 it runs the fast kernels, which must match to 1e-4 of the largest magnitude.

use resgrad::kernels::{Conv2dGeom, reference};
use resgrad::ndarray::{ArrayD, IxDyn};
use resgrad::{Float, RunningStats, Tape, Var};
use serde_json::Value;

fn golden() -> Value {
    serde_json::from_str(include_str!("golden/torch_cnn_ops.json"))
        .expect("the golden file is valid JSON")
}

fn array<T: Float>(v: &Value) -> ArrayD<T> {
    let shape: Vec<usize> = v["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap() as usize)
        .collect();
    let data: Vec<T> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| T::cast(d.as_f64().unwrap()))
        .collect();
    ArrayD::from_shape_vec(IxDyn(&shape), data).unwrap()
}

#[track_caller]
fn assert_matches<T: Float>(what: &str, ours: &ArrayD<T>, torch: &Value, rel: f64) {
    let torch: ArrayD<f64> = array(torch);
    assert_eq!(ours.shape(), torch.shape(), "{what}: shape");
    let scale = torch.iter().fold(1e-12f64, |m, v| m.max(v.abs()));
    for (i, (a, b)) in ours.iter().zip(torch.iter()).enumerate() {
        assert!(
            (a.as_f64() - b).abs() <= rel * scale,
            "{what}[{i}]: resgrad {a} vs PyTorch {b}"
        );
    }
}

fn run_case<T: Float>(tape: &Tape<T>, case: &Value, rel: f64) {
    let name = case["name"].as_str().unwrap();
    let p = &case["params"];
    let inputs: Vec<Var<T>> = case["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| tape.var(array::<T>(v)))
        .collect();
    let usize_param = |k: &str| p[k].as_u64().unwrap() as usize;
    let mut stats = None;
    let y = match p["kind"].as_str().unwrap() {
        "conv2d" => inputs[0].conv2d(
            &inputs[1],
            inputs.get(2),
            usize_param("stride"),
            usize_param("padding"),
        ),
        "batch_norm2d" => {
            let s = RunningStats::new(inputs[1].len());
            s.mean.set(array::<T>(&case["running_mean_before"]));
            s.var.set(array::<T>(&case["running_var_before"]));
            let y = inputs[0].batch_norm2d(
                &inputs[1],
                &inputs[2],
                &s,
                p["training"].as_bool().unwrap(),
            );
            stats = Some(s);
            y
        }
        "max_pool2d" => inputs[0].max_pool2d(
            usize_param("k"),
            usize_param("stride"),
            usize_param("padding"),
        ),
        "avg_pool2d" => inputs[0].avg_pool2d(
            usize_param("k"),
            usize_param("stride"),
            usize_param("padding"),
        ),
        other => panic!("unknown golden case kind {other}"),
    };
    assert_matches(
        &format!("{name} ({}) forward", T::NAME),
        y.value(),
        &case["y"],
        rel,
    );
    let grads = y.backward_with(array::<T>(&case["gy"]));
    for (i, (v, g)) in inputs
        .iter()
        .zip(case["grads"].as_array().unwrap())
        .enumerate()
    {
        assert_matches(
            &format!("{name} ({}) gradient of input {i}", T::NAME),
            &grads[v],
            g,
            rel,
        );
    }
    if let Some(s) = stats {
        assert_matches(
            &format!("{name} running_mean"),
            &s.mean.value(),
            &case["running_mean_after"],
            rel,
        );
        assert_matches(
            &format!("{name} running_var"),
            &s.var.value(),
            &case["running_var_after"],
            rel,
        );
    }
}

#[test]
fn every_golden_case_matches_pytorch_in_f64() {
    let g = golden();
    let cases = g["cases"].as_array().unwrap();
    assert_eq!(
        cases.len(),
        9,
        "the golden file holds every case make_golden.py writes"
    );
    for case in cases {
        run_case(&Tape::new_f64(), case, 1e-10);
    }
}

#[test]
fn the_reference_conv_loops_match_pytorch_in_f64() {
    // The tape runs the fast convolutions in f64 too; the loops written to be read are
    // held to PyTorch here, on their own.
    let mut checked = 0;
    for case in golden()["cases"].as_array().unwrap() {
        if case["params"]["kind"] != "conv2d" {
            continue;
        }
        let name = case["name"].as_str().unwrap();
        let p = &case["params"];
        let inputs: Vec<ArrayD<f64>> = case["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(array)
            .collect();
        let (x, w, b) = (&inputs[0], &inputs[1], inputs.get(2));
        let g = Conv2dGeom::new(
            x.shape(),
            w.shape(),
            p["stride"].as_u64().unwrap() as usize,
            p["padding"].as_u64().unwrap() as usize,
        )
        .unwrap();
        let flat = |a: &ArrayD<f64>| a.iter().copied().collect::<Vec<f64>>();
        let shaped = |like: &ArrayD<f64>, v: Vec<f64>| ArrayD::from_shape_vec(like.raw_dim(), v);
        let (xs, ws, bs) = (flat(x), flat(w), b.map(flat));
        let gy: ArrayD<f64> = array(&case["gy"]);
        let mut y = vec![0.0; gy.len()];
        reference::conv2d_forward(&xs, &ws, bs.as_deref(), &g, &mut y);
        assert_matches(
            &format!("{name} reference forward"),
            &shaped(&gy, y).unwrap(),
            &case["y"],
            1e-10,
        );
        let grads = case["grads"].as_array().unwrap();
        let mut dx = vec![0.0; xs.len()];
        reference::conv2d_backward_input(&flat(&gy), &ws, &g, &mut dx);
        assert_matches(
            &format!("{name} reference dx"),
            &shaped(x, dx).unwrap(),
            &grads[0],
            1e-10,
        );
        let mut dw = vec![0.0; ws.len()];
        reference::conv2d_backward_weight(&xs, &flat(&gy), &g, &mut dw);
        assert_matches(
            &format!("{name} reference dw"),
            &shaped(w, dw).unwrap(),
            &grads[1],
            1e-10,
        );
        if let Some(b) = b {
            let mut db = vec![0.0; b.len()];
            reference::conv2d_backward_bias(&flat(&gy), g.n, g.cout, &mut db);
            assert_matches(
                &format!("{name} reference db"),
                &shaped(b, db).unwrap(),
                &grads[2],
                1e-10,
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 3, "the golden file holds three conv cases");
}

#[test]
fn every_golden_case_matches_pytorch_in_f32_with_the_fast_kernels() {
    for case in golden()["cases"].as_array().unwrap() {
        run_case(&Tape::new(), case, 1e-4);
    }
}
