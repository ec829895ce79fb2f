//! libFuzzer target: `adebox::fuzzing::retry_after` (see its documentation).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| adebox::fuzzing::retry_after(data));
