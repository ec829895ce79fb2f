//! libFuzzer target: `adebox::fuzzing::machine_info` (see its documentation).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| adebox::fuzzing::machine_info(data));
