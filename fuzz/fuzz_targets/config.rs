//! libFuzzer target: `adebox::fuzzing::config` (see its documentation).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| adebox::fuzzing::config(data));
