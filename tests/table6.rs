//! The Table 6 study's committed table is what its committed CSVs give, and the verdicts
//! follow the rule its README states (shown, not shown, reversed), tested on made-up runs
//! where the answer is known.

use std::path::Path;

use resgrad::viz::table6::Study;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/figures/table6");

#[test]
fn the_committed_table_is_what_the_committed_csvs_give() {
    let study = Study::load(DIR).unwrap();
    assert!(!study.runs.is_empty(), "no runs in {DIR}/runs");
    let committed = std::fs::read_to_string(Path::new(DIR).join("table6.md")).unwrap();
    assert_eq!(
        study.markdown(),
        committed,
        "docs/figures/table6/table6.md differs from what the CSVs give: run \
         `cargo run --release -- table6` and commit the result"
    );
    // Every figure's numbers, too.
    for f in study.figures() {
        let path = Path::new(DIR).join(format!("{}.csv", f.name));
        let csv =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(
            f.csv,
            csv,
            "{} differs from what the CSVs give",
            path.display()
        );
    }
    // The final evaluations are on 10,000 images: each final rate is a multiple of 1e-4,
    // and some are not multiples of 5e-4, as every rate on 2,000 images would be (with 2
    // rates per run, all on that grid by chance has probability 5^-(2 runs)).
    let finals: Vec<f64> = study
        .runs
        .iter()
        .flat_map(|r| {
            let last = r.evals.last().unwrap();
            [last.1, last.2]
        })
        .collect();
    let on = |x: f64, grid: f64| ((x / grid) - (x / grid).round()).abs() < 1e-6;
    assert!(finals.iter().all(|&x| on(x, 1e-4)), "{finals:?}");
    assert!(finals.iter().any(|&x| !on(x, 5e-4)), "{finals:?}");
}

/// A study made from text: per net, the final training errors of its seeds.
fn study(nets: &[(&str, usize, &[f64])]) -> Study {
    let mut csv = String::from("kind,depth,seed,step,train_error,test_error\n");
    for (kind, depth, errors) in nets {
        for (seed, e) in errors.iter().enumerate() {
            csv.push_str(&format!("{kind},{depth},{seed},100,0.5,0.5\n"));
            csv.push_str(&format!("{kind},{depth},{seed},200,{e},{e}\n"));
        }
    }
    let mut s = Study {
        runs: Vec::new(),
        responses: Vec::new(),
        init: Vec::new(),
    };
    s.add_csv((Path::new("made-up.csv"), &csv), None, None)
        .unwrap();
    s
}

fn verdicts(s: &Study) -> Vec<(String, &'static str)> {
    s.claims()
        .into_iter()
        .map(|c| (c.text.clone(), c.verdict()))
        .collect()
}

#[test]
fn the_verdicts_follow_the_intervals() {
    let paper = study(&[
        ("plain", 20, &[0.10, 0.11, 0.12]),
        ("plain", 56, &[0.20, 0.21, 0.22]),
        ("resnet", 20, &[0.080, 0.082, 0.081, 0.079, 0.080]),
        ("resnet", 56, &[0.070, 0.071, 0.072, 0.069, 0.070]),
        ("detached", 56, &[0.30, 0.31, 0.32]),
    ]);
    let v = verdicts(&paper);
    assert_eq!(v[0], ("plain-56 ends above plain-20".into(), "shown"));
    assert_eq!(v[1], ("ResNet-56 ends below ResNet-20".into(), "shown"));
    assert_eq!(v[2], ("ResNet-56 ends below plain-56".into(), "shown"));
    assert_eq!(v[3].1, "not yet tested");
    assert_eq!(v[4], ("detached-56 ends above ResNet-56".into(), "shown"));
    assert_eq!(v[5], ("detached-56 ends below plain-56".into(), "reversed"));

    // The ResNets the other way round: reversed; overlapping: not shown.
    let reversed = study(&[
        ("resnet", 20, &[0.070, 0.071, 0.072]),
        ("resnet", 56, &[0.080, 0.082, 0.081]),
    ]);
    assert_eq!(verdicts(&reversed)[1].1, "reversed");
    let overlapping = study(&[
        ("resnet", 20, &[0.070, 0.080, 0.075]),
        ("resnet", 56, &[0.072, 0.078, 0.074]),
    ]);
    assert_eq!(verdicts(&overlapping)[1].1, "not shown");
    let c = &overlapping.claims()[1];
    let t = c.test.unwrap();
    assert!(t.low < 0.0 && t.high > 0.0, "{t:?}");
    // The table prints the interval and the verdict.
    let md = overlapping.markdown();
    assert!(
        md.contains(&format!("[{:+.2}, {:+.2}]", t.low, t.high)) && md.contains("**not shown**"),
        "{md}"
    );
}

#[test]
fn a_malformed_csv_is_an_error_naming_the_file_and_line() {
    let mut s = study(&[]);
    let bad = "kind,depth,seed,step,train_error,test_error\nresnet,20,0,100,0.5\n";
    let e = s
        .add_csv((Path::new("runs/x/degradation-runs.csv"), bad), None, None)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("runs/x/degradation-runs.csv") && e.contains("line 2 has 5 fields, not 6"),
        "{e}"
    );
    let e = s
        .add_csv((Path::new("a.csv"), "net,seed\n"), None, None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("its header is"), "{e}");
    let e = s
        .add_csv(
            (
                Path::new("b.csv"),
                "kind,depth,seed,step,train_error,test_error\nresnot,20,0,1,0.1,0.1\n",
            ),
            None,
            None,
        )
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown net kind `resnot`"), "{e}");
    let e = Study::load("/nonexistent-study").unwrap_err().to_string();
    assert!(e.contains("bash scripts/table6"), "{e}");
}
