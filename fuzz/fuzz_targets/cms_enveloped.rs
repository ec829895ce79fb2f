//! libFuzzer target: `adebox::fuzzing::cms_enveloped` (see its documentation).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| adebox::fuzzing::cms_enveloped(data));
