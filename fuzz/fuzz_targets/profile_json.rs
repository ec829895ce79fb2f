//! libFuzzer target: `adebox::fuzzing::profile_json` (see its documentation).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| adebox::fuzzing::profile_json(data));
