//! The router is a gateway, not a subgraph: nothing of the subgraphs' storage or GraphQL server
//! reaches its build. Read from the workspace's lock file, which lists every package's
//! dependencies (normal, build and dev alike).

use std::collections::{BTreeSet, HashMap};

/// Packages that belong to subgraphs: their database layer and their GraphQL server.
const SUBGRAPH_ONLY: &[&str] = &["sqlx", "async-graphql", "kit", "storage", "commerce"];

/// Every package `root` depends on, directly or not, by name.
fn dependencies_of(lock: &str, root: &str) -> BTreeSet<String> {
    let lock: toml::Value = lock.parse().expect("Cargo.lock is TOML");
    let mut graph: HashMap<String, Vec<String>> = HashMap::new();
    for package in lock["package"].as_array().expect("packages") {
        let name = package["name"].as_str().expect("a name").to_string();
        let dependencies = package
            .get("dependencies")
            .and_then(|d| d.as_array())
            .into_iter()
            .flatten()
            // "name" or "name version" (when two versions are locked).
            .map(|d| {
                d.as_str()
                    .expect("a dependency")
                    .split(' ')
                    .next()
                    .unwrap()
                    .to_string()
            });
        graph.entry(name).or_default().extend(dependencies);
    }
    let mut seen = BTreeSet::new();
    let mut next = vec![root.to_string()];
    while let Some(name) = next.pop() {
        for dependency in graph.get(&name).into_iter().flatten() {
            if seen.insert(dependency.clone()) {
                next.push(dependency.clone());
            }
        }
    }
    seen
}

#[test]
fn the_router_builds_without_sqlx_or_async_graphql() {
    let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.lock"))
        .expect("the workspace's Cargo.lock");
    let dependencies = dependencies_of(&lock, "router");
    assert!(
        dependencies.contains("hive-router-query-planner"),
        "the walk reads the lock file: {dependencies:?}"
    );
    let leaked: Vec<&String> = dependencies
        .iter()
        .filter(|name| {
            SUBGRAPH_ONLY
                .iter()
                .any(|banned| *name == banned || name.starts_with(&format!("{banned}-")))
        })
        .collect();
    assert!(leaked.is_empty(), "the router depends on {leaked:?}");
}

#[test]
fn the_walk_finds_what_a_subgraph_pulls_in() {
    // The same walk from the shop binary finds what the router must not have: the test above
    // can fail.
    let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.lock"))
        .expect("the workspace's Cargo.lock");
    let dependencies = dependencies_of(&lock, "shop");
    for expected in ["sqlx", "async-graphql", "kit", "storage"] {
        assert!(dependencies.contains(expected), "shop lacks {expected}");
    }
}
