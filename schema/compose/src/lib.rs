//! Composes subgraph SDL files into a Federation v2 supergraph with apollo-federation.
//!
//! A build-time tool: apollo-federation is Elastic-2.0 licensed and stays out of the router
//! binary. The `compose` binary wraps [`compose_files`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use apollo_federation::composition::{compose, CompositionOptions};
use apollo_federation::subgraph::typestate::Subgraph;

/// Composes the given subgraph files; `Err` carries every composition error, one per line.
pub fn compose_files(inputs: &[PathBuf], urls: &HashMap<String, String>) -> anyhow::Result<String> {
    let mut subgraphs = Vec::new();
    for path in inputs {
        let name = subgraph_name(path)?;
        let sdl = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let url = urls
            .get(&name)
            .cloned()
            .or_else(|| url_comment(&sdl))
            .unwrap_or_else(|| format!("http://127.0.0.1:4000/{name}"));
        let subgraph = Subgraph::parse(&name, &url, &sdl)
            .map_err(|e| anyhow::anyhow!("subgraph {name} ({}): {e}", path.display()))?;
        subgraphs.push(subgraph);
    }
    match compose(subgraphs, CompositionOptions::default()) {
        Ok(supergraph) => Ok(supergraph.schema().schema().to_string()),
        Err(failure) => {
            let mut report = String::from("composition failed:\n");
            for error in &failure.errors {
                report.push_str(&format!("  - [{:?}] {error}\n", error.code()));
            }
            bail!(report)
        }
    }
}

fn subgraph_name(path: &Path) -> anyhow::Result<String> {
    path.file_stem()
        .and_then(|s| s.to_str())
        .map(str::to_string)
        .with_context(|| format!("cannot name a subgraph after {}", path.display()))
}

fn url_comment(sdl: &str) -> Option<String> {
    let first = sdl.lines().next()?.trim();
    first
        .strip_prefix("# url:")
        .map(|url| url.trim().to_string())
}
