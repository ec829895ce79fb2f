//! libFuzzer target: `adebox::fuzzing::checkin` (see its documentation).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| adebox::fuzzing::checkin(data));
