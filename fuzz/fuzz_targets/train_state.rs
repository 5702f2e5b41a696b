//! `train_state`: see [`resgrad_fuzz::targets::train_state`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| resgrad_fuzz::run(
    resgrad_fuzz::targets::train_state,
    data
));
