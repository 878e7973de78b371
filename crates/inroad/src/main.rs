//! `inroad`: the command-line front of Inroad. A thin layer: it parses arguments,
//! opens the store, calls one engine use case, and formats the report (human text
//! and progress on stderr, `--json` on stdout).

mod access;
mod campaign;
mod cli;
mod demo;
mod forecast;
mod key;
mod leads;
mod linkedin;
mod mailbox;
mod run;
mod serve;
mod stats;
mod suppress;
mod verify;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use cli::{Cli, Command};

/// mimalloc rather than glibc's allocator: an import allocates a few strings per cell
/// on one thread and frees them on another, where glibc's arenas cost a fifth of the
/// engine's CPU (docs/BENCHMARKS.md, "Into PostgreSQL").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line: the cause chain joined, so the user sees what and why.
            let message: Vec<String> = e.chain().map(ToString::to_string).collect();
            eprintln!("error: {}", message.join(": "));
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let key_file = key::KeyFile::new(cli.key_file.as_deref(), &cli.db);
    match cli.command {
        Command::Init => {
            let store = inroad_store::open(&cli.db)?;
            eprintln!("{}: {}", inroad_store::describe(&cli.db), store.migrated());
            Ok(())
        }
        Command::Demo(args) => demo::run(&args),
        Command::Leads(cmd) => leads::run(&cli.db, cmd),
        Command::Campaign(cmd) => campaign::run(&cli.db, cmd),
        Command::Mailbox(cmd) => mailbox::run(&cli.db, &key_file, cmd),
        Command::Run(args) => run::run(&cli.db, &key_file, &args),
        Command::Forecast(args) => forecast::run(&cli.db, &args),
        Command::Stats { campaign, json } => stats::run(&cli.db, campaign.as_deref(), json),
        Command::Serve(args) => serve::run(&cli.db, &key_file, &args),
        Command::User(cmd) => access::run_user(&cli.db, cmd),
        Command::Token(cmd) => access::run_token(&cli.db, cmd),
        Command::Suppress(cmd) => suppress::run(&cli.db, cmd),
        Command::Linkedin(cmd) => linkedin::run(&cli.db, cmd),
        Command::Verify(args) => verify::run(&cli.db, args),
        Command::Find(args) => verify::run_find(&cli.db, args),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "inroad", &mut std::io::stdout());
            Ok(())
        }
    }
}

/// Prints one JSON object on stdout (the `--json` contract).
pub fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string(value)?);
    Ok(())
}
