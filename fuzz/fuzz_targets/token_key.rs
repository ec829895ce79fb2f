//! libFuzzer target: `adebox::fuzzing::token_key` (see its documentation).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| adebox::fuzzing::token_key(data));
