//! Every library function a front end calls (the command line or Python) has a doc example
//! that runs as a doc test, so a newcomer calling the library sees each entry point used. The
//! set is derived from the front ends' sources: every `name(` call there whose name is a
//! free `pub fn` of the library. A new entry point without an example fails this test.

mod common;

use common::rust_files;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Identifiers directly followed by `(` (calls), outside line comments.
fn calls(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        let b = code.as_bytes();
        for (i, &c) in b.iter().enumerate() {
            if c != b'(' {
                continue;
            }
            let mut j = i;
            while j > 0 && (b[j - 1].is_ascii_alphanumeric() || b[j - 1] == b'_') {
                j -= 1;
            }
            if j < i && !b[j].is_ascii_digit() {
                out.insert(code[j..i].to_string());
            }
        }
    }
    out
}

/// Free (unindented) `pub fn`s of the library: name -> whether any definition of that name
/// has a fenced example in its doc comment.
fn documented(src: &Path) -> BTreeMap<String, (String, bool)> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut out: BTreeMap<String, (String, bool)> = BTreeMap::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, l) in lines.iter().enumerate() {
            let Some(rest) = l.strip_prefix("pub fn ") else {
                continue;
            };
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let mut j = i;
            let mut example = false;
            while j > 0 && (lines[j - 1].starts_with("///") || lines[j - 1].starts_with("#[")) {
                j -= 1;
                example |= lines[j].contains("```");
            }
            let place = format!("{}:{}", f.display(), i + 1);
            let e = out.entry(name).or_insert((place, false));
            e.1 |= example;
        }
    }
    out
}

#[test]
fn every_entry_point_a_front_end_calls_has_a_doc_example() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let lib = documented(&root.join("scaling/src"));
    let mut called = BTreeSet::new();
    for front in ["scaling-cli/src", "scaling-py/src"] {
        let mut files = Vec::new();
        rust_files(&root.join(front), &mut files);
        for f in files {
            called.extend(calls(&std::fs::read_to_string(&f).unwrap()));
        }
    }
    let entry: Vec<&String> = called.iter().filter(|n| lib.contains_key(*n)).collect();
    assert!(entry.len() > 40, "found only {} entry points", entry.len());
    let missing: Vec<String> = entry
        .iter()
        .filter(|n| !lib[**n].1)
        .map(|n| format!("{n} ({})", lib[*n].0))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} entry points have no doc example:\n{}",
        missing.len(),
        entry.len(),
        missing.join("\n")
    );
}
