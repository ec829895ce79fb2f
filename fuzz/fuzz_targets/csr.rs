//! libFuzzer target: `adebox::fuzzing::csr` (see its documentation).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| adebox::fuzzing::csr(data));
