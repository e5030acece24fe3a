//! Every checked-in supergraph must be what composing its subgraph SDLs gives today.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Directories holding `supergraph.graphql` beside the subgraph SDLs it is composed from.
fn composed_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    let fixtures = workspace().join("router/tests/fixtures");
    for entry in std::fs::read_dir(fixtures).unwrap().flatten() {
        if entry.path().join("supergraph.graphql").exists() {
            dirs.push(entry.path());
        }
    }
    if workspace().join("schema/supergraph.graphql").exists() {
        dirs.push(workspace().join("schema"));
    }
    dirs.sort();
    dirs
}

#[test]
fn checked_in_supergraphs_are_fresh() {
    let dirs = composed_dirs();
    assert!(!dirs.is_empty());
    for dir in dirs {
        let mut inputs: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.extension().is_some_and(|e| e == "graphql")
                    && p.file_stem().is_some_and(|s| s != "supergraph")
            })
            .collect();
        inputs.sort();
        let composed = compose::compose_files(&inputs, &HashMap::new())
            .unwrap_or_else(|e| panic!("{}: {e:#}", dir.display()));
        let checked_in = std::fs::read_to_string(dir.join("supergraph.graphql")).unwrap();
        assert!(
            composed == checked_in,
            "{}/supergraph.graphql is stale: run `cargo run -p compose -- --output {0}/supergraph.graphql {0}/<subgraphs>.graphql`",
            dir.display()
        );
    }
}

#[test]
fn composition_errors_are_reported_with_their_code() {
    let dir = std::env::temp_dir().join(format!("compose-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let a = dir.join("a.graphql");
    let b = dir.join("b.graphql");
    // Both define Query.name without @shareable: composition must refuse.
    std::fs::write(
        &a,
        r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { name: String }"#,
    )
    .unwrap();
    std::fs::write(
        &b,
        r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { name: String }"#,
    )
    .unwrap();
    let error = compose::compose_files(&[a, b], &HashMap::new()).unwrap_err();
    let report = format!("{error:#}");
    assert!(report.contains("composition failed"), "{report}");
    assert!(report.contains("InvalidFieldSharing"), "{report}");
    assert!(report.contains("Query.name"), "{report}");
    std::fs::remove_dir_all(dir).ok();
}
