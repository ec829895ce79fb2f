//! libFuzzer target: `adebox::fuzzing::server_token_text` (see its documentation).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| adebox::fuzzing::server_token_text(data));
