//! `idx`: see [`resgrad_fuzz::targets::idx`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| resgrad_fuzz::run(resgrad_fuzz::targets::idx, data));
