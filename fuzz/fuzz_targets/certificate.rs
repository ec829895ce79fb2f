//! libFuzzer target: `adebox::fuzzing::certificate` (see its documentation).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| adebox::fuzzing::certificate(data));
