//! The tape's cost per op: record a chain of scalar-sized ops, then backpropagate it.
//!
//!     cargo bench --bench tape
//!
//! `cargo run --release -- bench tape` prints the same figures per op for a
//! million-op chain.

use criterion::{Criterion, criterion_group, criterion_main};
use resgrad::Tape;
#[allow(dead_code)]
#[path = "../src/bin/resgrad/workloads.rs"]
mod workloads;
use workloads::scalar_chain;

fn tape(c: &mut Criterion) {
    let links = 2_500; // 10,000 ops
    c.bench_function("forward+backward, 10k scalar ops", |b| {
        b.iter(|| {
            let tape = Tape::new();
            let (y, w) = scalar_chain(&tape, links);
            y.backward().get(&w).map(|g| g.sum())
        })
    });
    c.bench_function("forward no_grad, 10k scalar ops", |b| {
        b.iter(|| {
            let tape = Tape::new();
            tape.no_grad(|| scalar_chain(&tape, links).0.item())
        })
    });
}

criterion_group!(benches, tape);
criterion_main!(benches);
