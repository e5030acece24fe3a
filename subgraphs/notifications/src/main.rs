// Many small allocations per request (GraphQL values, rows); mimalloc handles them faster than
// the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    kit::cli::run::<notifications::Notifications>().await
}
