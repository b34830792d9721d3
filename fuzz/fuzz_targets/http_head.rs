#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| shopbot::fuzzing::http_head(data));
