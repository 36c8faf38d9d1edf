//! `garrison`: the server and its operator commands.

mod adapters;
mod cli;
mod http;
mod regex_pool;
mod render_threads;
mod settings;
mod studio;
mod telemetry;
mod wiring;

use clap::Parser;

fn main() -> std::process::ExitCode {
    // One crypto provider for every rustls client in the process (image fetches, S3, Discord).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = cli::Cli::parse();
    match cli::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            // `{:#}` prints the whole context chain on one line; no secret is ever put in one.
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
