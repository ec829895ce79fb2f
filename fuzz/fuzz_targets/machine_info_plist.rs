//! libFuzzer target: `adebox::fuzzing::machine_info_plist` (see its documentation).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| adebox::fuzzing::machine_info_plist(data));
