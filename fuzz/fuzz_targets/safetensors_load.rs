//! `safetensors_load`: see [`resgrad_fuzz::targets::safetensors_load`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| resgrad_fuzz::run(
    resgrad_fuzz::targets::safetensors_load,
    data
));
