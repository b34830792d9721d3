//! Replays every committed fuzzing input through the same `shopbot::fuzzing`
//! function the fuzz target calls: the seeds (`fuzz/seeds/<target>/`, real
//! shapes from the fixtures and tests), the minimised corpus the fuzzer grew
//! from them (`fuzz/corpus/<target>/`) and the inputs that once crashed a
//! target (`fuzz/regressions/<target>/`). What the fuzzer found stays tested
//! without the fuzzer. See docs/DEVELOPMENT.md, "Fuzzing".

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::Instant;

use shopbot::fuzzing::TARGETS;

fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && p.file_name().is_some_and(|n| n != ".gitkeep"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_committed_fuzz_input_replays_cleanly() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let started = Instant::now();
    let mut failures = Vec::new();
    for (name, body) in TARGETS {
        let seeds = files(&fuzz.join("seeds").join(name));
        let corpus = files(&fuzz.join("corpus").join(name));
        assert!(!seeds.is_empty(), "fuzz/seeds/{name}/ is empty or missing");
        assert!(!corpus.is_empty(), "fuzz/corpus/{name}/ is empty or missing");
        let regressions = files(&fuzz.join("regressions").join(name));
        for file in seeds.iter().chain(&corpus).chain(&regressions) {
            let data = std::fs::read(file).unwrap();
            if catch_unwind(AssertUnwindSafe(|| body(&data))).is_err() {
                failures.push(file.display().to_string());
            }
        }
        eprintln!(
            "{name}: {} seeds, {} corpus and {} regression inputs",
            seeds.len(),
            corpus.len(),
            regressions.len()
        );
    }
    eprintln!("replayed in {:.1?}", started.elapsed());
    assert!(
        failures.is_empty(),
        "these inputs fail their target:\n{}",
        failures.join("\n")
    );
}
