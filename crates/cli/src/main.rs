//! `platformctl`: the command-line edge of the platform control plane.
//!
//! This crate only parses arguments, calls the library crates (load → observe → compare) and
//! renders their results for humans (tables, diagnostics with carets, colour on a TTY) or for
//! machines (`--json`: one document on stdout carrying `schema` and `exitCode`). Exit codes are
//! a contract; see `docs/exit-codes.md`.

mod cli;
mod commands;
mod diag;
mod output;
mod style;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

/// Loading a catalog allocates and frees many small strings (YAML scalars, paths): mimalloc
/// does that markedly faster than glibc's allocator (docs/PERFORMANCE.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            let mut code = u8::try_from(e.exit_code()).unwrap_or(2);
            // drift-check's contract: 2 means drift, so its usage errors are 1.
            if code == 2 && std::env::args().any(|a| a == "drift-check") {
                code = commands::drift::exit::USAGE;
            }
            return ExitCode::from(code);
        }
    };
    let code = match &cli.command {
        Command::Validate(args) => commands::validate::run(&cli, args),
        Command::Coverage(args) => commands::coverage::run(&cli, args),
        Command::Modules(cmd) => commands::modules::run(&cli, cmd),
        Command::Plan(args) => commands::drift::plan(&cli, args),
        Command::DriftCheck(args) => commands::drift::drift_check(&cli, args),
        Command::Updates(args) => commands::drift::updates(&cli, args),
        Command::Apply(args) => commands::apply::run(&cli, args),
        Command::Ack(args) => commands::ack::run(&cli, args),
        Command::Schema(cmd) => commands::schema::run(cmd),
        Command::Workplan(cmd) => commands::workplan::run(&cli, cmd),
        Command::Hub(args) => commands::hub::run(&cli, args),
        Command::Metadata(cmd) => commands::metadata::run(&cli, cmd),
        Command::Serve(args) => commands::serve::serve(&cli, args),
        Command::Mcp(args) => commands::serve::mcp(&cli, args),
        Command::Completions { shell } => commands::schema::completions(*shell),
    };
    ExitCode::from(code)
}
