//! The `parley` command: parse the command line and configuration, then hand over
//! to the library.

use std::io::{IsTerminal, Read};
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use parley::config::Config;
use parley::operators::Role;

#[derive(Parser)]
#[command(name = "parley", version, about = "A bot-and-messenger hub: one chat per contact across channels.")]
struct Cli {
    /// The configuration file; a missing config/parley.toml is fine (defaults apply).
    #[arg(long, global = true, env = "PARLEY_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the hub: HTTP API, console, widget, webhooks and workers.
    Serve,
    /// Create or upgrade the database schema, then exit.
    Migrate,
    /// Copy the SQLite database, consistently, while Parley runs (PostgreSQL: pg_dump).
    Backup {
        /// The copy to write; it must not exist yet.
        file: PathBuf,
    },
    /// Manage operators.
    #[command(subcommand)]
    Operator(OperatorCommand),
    /// Bot flows.
    #[command(subcommand)]
    Flows(FlowsCommand),
}

#[derive(Subcommand)]
enum FlowsCommand {
    /// Check the flow files of DIR (default: `[flows] dir`, config/flows): errors and
    /// warnings as `file:line:col: …`; exits non-zero when any file has errors.
    Check { dir: Option<PathBuf> },
}

#[derive(Subcommand)]
enum OperatorCommand {
    /// Add an operator. The password is read from standard input when it is piped,
    /// otherwise one is generated and printed.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_enum, default_value = "operator")]
        role: RoleArg,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum RoleArg {
    Admin,
    Operator,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let path = cli.config.clone().unwrap_or_else(|| PathBuf::from("config/parley.toml"));
    let config = Config::load(&path, cli.config.is_some())?;
    init_tracing(&config);
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(run(cli.command, config))
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve => serve(config).await,
        Command::Migrate => {
            let url = config.database.url.clone();
            tokio::task::spawn_blocking(move || parley::store::Store::open(&url, 1)).await??;
            println!("database is up to date: {}", config.database.url);
            Ok(())
        }
        Command::Backup { file } => {
            let (url, to) = (config.database.url.clone(), file.clone());
            tokio::task::spawn_blocking(move || parley::store::backup(&url, &to)).await??;
            println!("backed up {} to {}", config.database.url, file.display());
            Ok(())
        }
        Command::Operator(OperatorCommand::Add { email, name, role }) => add_operator(config, email, name, role).await,
        Command::Flows(FlowsCommand::Check { dir }) => {
            check_flows(dir.unwrap_or_else(|| PathBuf::from(&config.flows.dir)))
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let launched = parley::launch(config, listener, parley::Options::default()).await?;
    println!("Parley is listening on http://{}", launched.addr);
    if let Some(link) = &launched.setup_link {
        println!("\nNo operator yet. Open this one-time link to create the first admin:\n\n    {link}\n");
    }
    let app = launched.app.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: finishing requests in flight; queued work stays queued");
        app.shutdown.cancel();
    });
    launched.server.await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("can listen for SIGTERM");
        tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

async fn add_operator(config: Config, email: String, name: String, role: RoleArg) -> anyhow::Result<()> {
    let (password, generated) = if std::io::stdin().is_terminal() {
        (parley::operators::password::generate(), true)
    } else {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s)?;
        let s = s.trim_end_matches(['\n', '\r']).to_owned();
        if s.is_empty() { (parley::operators::password::generate(), true) } else { (s, false) }
    };
    let role = match role {
        RoleArg::Admin => Role::Admin,
        RoleArg::Operator => Role::Operator,
    };
    let new = parley::operators::add::prepare(&email, &name, role, password.clone()).await?;
    let url = config.database.url.clone();
    let store = tokio::task::spawn_blocking(move || parley::store::Store::open(&url, 1)).await??;
    let now = parley::clock::system_now_ms();
    let op = store.write(move |db| parley::operators::add::create(db, None, new, now)).await?;
    println!("added {} <{}> as {}", op.name, op.email, op.role.as_str());
    if generated {
        println!("password: {password}");
    }
    Ok(())
}

fn check_flows(dir: PathBuf) -> anyhow::Result<()> {
    let seen = parley::flows::files::check_dir(&dir).with_context(|| format!("cannot read {}", dir.display()))?;
    let (mut errors, mut warnings) = (0, 0);
    for s in &seen {
        let file = s.file.path.display().to_string();
        for d in &s.checked.diagnostics {
            println!("{}", d.render(&file));
            match d.severity {
                parley::flows::Severity::Error => errors += 1,
                parley::flows::Severity::Warning => warnings += 1,
            }
        }
        if !parley::flows::catalog::valid_id(&s.file.id) {
            println!("{file}:1:1: error: a flow file's name is lower-case letters, digits, `-` or `_`");
            errors += 1;
        }
    }
    println!("{} flow file(s) in {}: {errors} error(s), {warnings} warning(s)", seen.len(), dir.display());
    if errors > 0 {
        std::process::exit(1);
    }
    Ok(())
}

fn init_tracing(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&config.log.level));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if config.log.format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}
