//! The fuzz target as a plain test over the corpus (stable Rust, no cargo-fuzz): every file in
//! corpus/readers, and every prefix of each (truncated files are a classic crash).

#[test]
fn readers_survive_the_corpus() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/readers");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("corpus/readers") {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        for end in 0..=bytes.len() {
            scaling_fuzz::check(&bytes[..end]);
        }
        n += 1;
    }
    assert!(n > 0, "empty corpus");
}
