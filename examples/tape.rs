//! Build y = f(x) by hand, print the tape, backpropagate, and draw the graph.
//!
//!     cargo run --release --example tape
//!
//! The neuron of micrograd's README: o = tanh(x1 w1 + x2 w2 + b).

use resgrad::Tape;

fn main() -> std::io::Result<()> {
    let tape = Tape::new_f64();
    let x1 = tape.scalar(2.0);
    let x2 = tape.scalar(0.0);
    let w1 = tape.scalar(-3.0);
    let w2 = tape.scalar(1.0);
    let b = tape.scalar(6.881_373_587_019_543);
    let o = (&x1 * &w1 + &x2 * &w2 + &b).tanh();

    println!("{tape}");
    let grads = o.backward();
    // do/dn = 1 - tanh(n)^2 = 0.5 here, so do/dw1 = 0.5 * x1 = 1.0 and do/dx1 = 0.5 * w1 = -1.5.
    for (name, v) in [("x1", &x1), ("w1", &w1), ("x2", &x2), ("w2", &w2)] {
        println!("do/d{name} = {:+.4}", grads[v][[]]);
    }
    let path = "out/tape.svg";
    o.graph_with(&grads).save_svg(path)?;
    println!("graph: {path}");
    Ok(())
}
