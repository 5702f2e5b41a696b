//! resgrad's fuzz targets: the bodies live in [`targets`] (shared with the corpus test on
//! stable, `tests/fuzz_corpus.rs`); each binary in `fuzz_targets/` runs one of them under
//! libFuzzer through [`run`]. Every allocation goes through [`cap::Capped`], which holds
//! it to the `-malloc_limit_mb=` given to libFuzzer.

pub mod cap;
pub mod targets;

use std::sync::OnceLock;

#[global_allocator]
static ALLOC: cap::Capped = cap::Capped;

/// Runs the target `body` on `data`.
///
/// The first call sets the allocation cap from `-malloc_limit_mb=` on the command line
/// (aborting on an allocation over it). With `RESGRAD_FUZZ_PLANT=panic` (or `alloc`) in
/// the environment, every input first meets a planted panic (or an allocation of 4 GiB,
/// over the cap): a run with a plant must fail, which shows that the fuzz script catches
/// both.
pub fn run(body: fn(&[u8]), data: &[u8]) {
    static PLANT: OnceLock<Option<String>> = OnceLock::new();
    let plant = PLANT.get_or_init(|| {
        if let Some(bytes) = cap::cap_from_args() {
            cap::set_cap(bytes, cap::Mode::Abort);
        }
        std::env::var("RESGRAD_FUZZ_PLANT").ok()
    });
    match plant.as_deref() {
        Some("panic") => panic!("RESGRAD_FUZZ_PLANT=panic: a planted panic"),
        Some("alloc") => {
            let v: Vec<u8> = Vec::with_capacity(4 << 30);
            std::hint::black_box(&v);
        }
        _ => {}
    }
    body(data);
}
