//! libFuzzer target: `adebox::fuzzing::jws_header` (see its documentation).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| adebox::fuzzing::jws_header(data));
