//! libFuzzer target: `adebox::fuzzing::profile_csv` (see its documentation).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| adebox::fuzzing::profile_csv(data));
