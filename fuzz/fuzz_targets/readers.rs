//! libFuzzer target: the CSV, JSON, law-file and saved-fit readers on arbitrary bytes.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    scaling_fuzz::check(data);
});
