#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| shopbot::fuzzing::config_toml(data));
