//! The command line every subgraph binary has: `serve` (the default), `sdl`, `--config FILE`,
//! and the subgraph's own commands. A subgraph's `main` is one call to [`run`].

use std::path::PathBuf;

use clap::{Arg, ArgMatches, FromArgMatches, Subcommand};

use crate::app::App;
use crate::settings::Env;
use crate::subgraph::{Settings, Subgraph};
use configuration::Source;

fn command<S: Subgraph>() -> clap::Command {
    let command = clap::Command::new(S::NAME)
        .about(format!("The {} subgraph", S::NAME))
        .arg(
            Arg::new("config")
                .long("config")
                .value_name("FILE")
                .value_parser(clap::value_parser!(PathBuf))
                .help("A dotenv-style file of settings (environment variables win)"),
        )
        .subcommand(clap::Command::new("serve").about("Serve the subgraph (the default)"))
        .subcommand(clap::Command::new("sdl").about("Print the subgraph's federation SDL"));
    S::Command::augment_subcommands(command)
}

/// Parses these arguments (the program name first) and runs what they ask for: `shop catalog
/// serve` comes here with `catalog serve`.
pub async fn run_from<S: Subgraph>(
    args: impl IntoIterator<Item = std::ffi::OsString>,
) -> anyhow::Result<()> {
    run_with::<S>(command::<S>().try_get_matches_from(args)?).await
}

async fn run_with<S: Subgraph>(matches: ArgMatches) -> anyhow::Result<()> {
    if let Some(("sdl", _)) = matches.subcommand() {
        println!("{}", S::sdl());
        return Ok(());
    }
    let _telemetry = telemetry::init(S::NAME, "info,sqlx=warn,tantivy=warn");
    let source = match matches.get_one::<PathBuf>("config") {
        Some(path) => Source::process().with_env_file(path)?,
        None => Source::process(),
    };
    let settings = Settings::<S::Settings>::load::<S>(&Env::new(S::NAME, source))?;
    match matches.subcommand() {
        None | Some(("serve", _)) => {
            let app = App::<S>::build(&settings).await?;
            tracing::info!(address = %app.local_addr(), "{} listening", S::NAME);
            app.run_until(web::server::shutdown_signal()).await?;
            Ok(())
        }
        Some(_) => {
            let own = S::Command::from_arg_matches(&matches)?;
            S::run_command(own, settings).await
        }
    }
}
