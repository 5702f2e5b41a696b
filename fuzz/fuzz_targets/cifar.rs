//! `cifar`: see [`resgrad_fuzz::targets::cifar`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| resgrad_fuzz::run(resgrad_fuzz::targets::cifar, data));
