//! libFuzzer target: `adebox::fuzzing::attestation` (see its documentation).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| adebox::fuzzing::attestation(data));
