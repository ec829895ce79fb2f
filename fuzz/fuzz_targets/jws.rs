//! libFuzzer target: `adebox::fuzzing::jws` (see its documentation).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| adebox::fuzzing::jws(data));
