//! The migration layout both backends keep: each domain folder owns its migrations, named so
//! that two modules written side by side cannot collide, and the same in both backends.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Versions before per-domain naming (`0001`–`0013`): kept, since stores record them.
const LEGACY_MAX: i64 = 13;

/// Every migration of a backend: version → (domain folder, file name).
fn migrations(backend: &str) -> BTreeMap<i64, (String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(backend).join("src");
    let mut out = BTreeMap::new();
    for domain in std::fs::read_dir(&src).unwrap() {
        let domain = domain.unwrap().path();
        let dir: PathBuf = domain.join("migrations");
        if !dir.is_dir() {
            continue;
        }
        let name = domain.file_name().unwrap().to_str().unwrap().to_string();
        for f in std::fs::read_dir(&dir).unwrap() {
            let file = f.unwrap().file_name().into_string().unwrap();
            let stem = file.strip_suffix(".sql").unwrap_or_else(|| panic!("{backend}/{name}: {file} is not .sql"));
            let (version, rest) = stem.split_once('_').unwrap_or_else(|| panic!("{file}: no version"));
            let v: i64 = version.parse().unwrap_or_else(|_| panic!("{backend}: {file}: version {version:?}"));
            assert!(
                rest.starts_with(&format!("{name}_")),
                "{backend}: {file} is in the {name} folder but not named <version>_{name}_<what>.sql"
            );
            if v > LEGACY_MAX {
                assert!(
                    version.len() == 14 && chrono_like(version),
                    "{backend}: {file}: new migrations are versioned by a UTC timestamp YYYYMMDDHHMMSS"
                );
            }
            if let Some(prev) = out.insert(v, (name.clone(), file.clone())) {
                panic!("{backend}: version {v} twice: {} and {file}", prev.1);
            }
        }
    }
    out
}

/// A plausible `YYYYMMDDHHMMSS` from 2026 on.
fn chrono_like(v: &str) -> bool {
    let n = |a: usize, b: usize| v[a..b].parse::<u32>().unwrap_or(99);
    n(0, 4) >= 2026
        && (1..=12).contains(&n(4, 6))
        && (1..=31).contains(&n(6, 8))
        && n(8, 10) < 24
        && n(10, 12) < 60
        && n(12, 14) < 60
}

#[test]
fn each_domain_owns_its_migrations_with_the_same_names_in_both_backends() {
    let sqlite = migrations("zhili-store-sqlite");
    let postgres = migrations("zhili-store-postgres");
    assert!(sqlite.len() >= 13 && postgres.len() >= 11, "found {} and {}", sqlite.len(), postgres.len());
    let new = |m: &BTreeMap<i64, (String, String)>| -> BTreeSet<String> {
        m.iter().filter(|(v, _)| **v > LEGACY_MAX).map(|(_, (d, f))| format!("{d}/{f}")).collect()
    };
    assert_eq!(new(&sqlite), new(&postgres), "a new migration must exist in both backends under the same name");
}
