//! Composes subgraph SDL files into a Federation v2 supergraph with apollo-federation.
//!
//! ```text
//! compose --output schema/supergraph.graphql [--check] [--url NAME=URL]... SUBGRAPH.graphql...
//! ```
//! Each subgraph is named after its file stem. Its URL (the `join__Graph` value the router
//! calls unless configured otherwise) comes from `--url NAME=URL`, else from a first-line
//! comment `# url: http://...` in its SDL, else `http://127.0.0.1:4000/NAME` as a placeholder.
//! With `--check` nothing is written: the exit code says whether the output is up to date.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use compose::compose_files;

struct Args {
    output: PathBuf,
    check: bool,
    urls: HashMap<String, String>,
    inputs: Vec<PathBuf>,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut args = std::env::args().skip(1);
    let mut output = None;
    let mut check = false;
    let mut urls = HashMap::new();
    let mut inputs = Vec::new();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--output" | "-o" => {
                output = Some(PathBuf::from(args.next().context("--output needs a path")?))
            }
            "--check" => check = true,
            "--url" => {
                let pair = args.next().context("--url needs NAME=URL")?;
                let (name, url) = pair.split_once('=').context("--url needs NAME=URL")?;
                urls.insert(name.to_string(), url.to_string());
            }
            _ if arg.starts_with('-') => bail!("unknown option {arg}"),
            _ => inputs.push(PathBuf::from(arg)),
        }
    }
    let Some(output) = output else {
        bail!("usage: compose --output FILE [--check] [--url NAME=URL]... SUBGRAPH.graphql...")
    };
    if inputs.is_empty() {
        bail!("no subgraph SDL files given");
    }
    Ok(Args {
        output,
        check,
        urls,
        inputs,
    })
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(error) => {
            eprintln!("{error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<ExitCode> {
    let args = parse_args()?;
    let supergraph = compose_files(&args.inputs, &args.urls)?;
    if args.check {
        let current = std::fs::read_to_string(&args.output).unwrap_or_default();
        if current != supergraph {
            eprintln!(
                "{} is stale: run compose without --check to regenerate it",
                args.output.display()
            );
            return Ok(ExitCode::FAILURE);
        }
        return Ok(ExitCode::SUCCESS);
    }
    std::fs::write(&args.output, supergraph)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    eprintln!("wrote {}", args.output.display());
    Ok(ExitCode::SUCCESS)
}
