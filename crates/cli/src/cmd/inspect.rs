//! `tokentrail inspect` (being written).
use std::process::ExitCode;

/// Arguments of `inspect`.
#[derive(clap::Args, Debug)]
pub struct InspectArgs {}

/// Run `inspect`.
pub fn run(_args: InspectArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("inspect is being written")
}
