//! Subgraph SDL export and federation helpers shared by every subgraph schema.

use std::path::Path;

use async_graphql::{ObjectType, Schema, SubscriptionType, TypeDirective};
use futures_util::future::BoxFuture;
use tracing::Instrument;

// `@authenticated` (federation v2.5): the router refuses the field to anonymous requests.
#[TypeDirective(
    name = "authenticated",
    location = "FieldDefinition",
    location = "Object"
)]
pub fn authenticated() {}

/// The federation SDL of a subgraph, as composition reads it. async-graphql exports
/// `@requiresScopes` natively; `@authenticated` is declared above as a custom directive, so its
/// definition is dropped here and it is imported from the federation spec instead.
pub fn federation_sdl<Q, M, S>(schema: &Schema<Q, M, S>) -> String
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    let sdl = schema.sdl_with_options(async_graphql::SDLExportOptions::new().federation());
    let sdl = sdl
        .lines()
        .filter(|line| !line.starts_with("directive @authenticated"))
        .collect::<Vec<_>>()
        .join("\n");
    sdl.replacen(
        "\"@requiresScopes\"]",
        "\"@requiresScopes\", \"@authenticated\"]",
        1,
    )
}

/// The checked-in file form: a `# url:` line for composition, then the SDL.
pub fn sdl_file(url: &str, sdl: &str) -> String {
    format!("# url: {url}\n{}\n", sdl.trim())
}

/// Test helper: fails when `path` differs from `expected`; `UPDATE_SCHEMA=1` rewrites it.
pub fn assert_file_fresh(path: &Path, expected: &str) {
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(path, expected).expect("write schema file");
        return;
    }
    let checked_in = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        checked_in == expected,
        "{} is stale: run `UPDATE_SCHEMA=1 cargo test --workspace sdl` and then \
         `cargo run -p compose -- --output schema/supergraph.graphql $(ls schema/*.graphql | grep -v supergraph)`",
        path.display()
    );
}

/// How long a dataloader waits for more keys before it runs a batch. Measured with
/// `cargo bench -p catalog --bench entities`: 200 µs cut a lone 100-key `_entities` call from
/// 4.0 to 3.0 ms but, under load, split batches and dropped throughput from ~520 to ~415
/// calls/s; 500 µs was worse still. So async-graphql's 1 ms stays.
pub const BATCH_DELAY: std::time::Duration = std::time::Duration::from_millis(1);

/// A request-scoped dataloader for `loader`, batching as described at [`BATCH_DELAY`].
pub fn dataloader<K, T>(loader: T) -> async_graphql::dataloader::DataLoader<T>
where
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
    T: async_graphql::dataloader::Loader<K>,
{
    // Each batch runs in a span of its own, named by its loader, inside the span of the request
    // that started it: its logs (and database statements) carry that request's id and trace.
    let name = std::any::type_name::<T>()
        .rsplit("::")
        .next()
        .unwrap_or("loader");
    async_graphql::dataloader::DataLoader::new(loader, move |batch: BoxFuture<'static, ()>| {
        let span = tracing::info_span!("dataloader batch", otel.name = %format_args!("batch {name}"), loader = name);
        tokio::spawn(batch.instrument(span))
    })
    .delay(BATCH_DELAY)
}
