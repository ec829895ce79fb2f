//! libFuzzer target: `adebox::fuzzing::dep_response` (see its documentation).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| adebox::fuzzing::dep_response(data));
