//! The `ketaflow` command: the only place that knows argv, exit codes and process setup.
//!
//! Exit codes: 0 success, 1 a failure while running (database unreachable, port taken),
//! 2 bad input (arguments, configuration, a refused value).

mod auditcmd;
mod backupcmd;
mod config;
mod instruments;
mod ledgercmd;
mod pkcmd;
mod score;
mod serve;
mod users;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{Config, Overrides};

#[derive(Parser)]
#[command(
    name = "ketaflow",
    version,
    about = "Ketaflow: the open platform for ketamine and esketamine clinics"
)]
struct Cli {
    /// Configuration file (default: ketaflow.toml in the working directory, if present).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the web server.
    Serve {
        /// Address and port to listen on [default: 127.0.0.1:8080].
        #[arg(long, value_name = "HOST:PORT")]
        addr: Option<String>,
        /// Database URL: sqlite://PATH or postgres://USER@HOST/DB [default: sqlite://ketaflow.db].
        #[arg(long, value_name = "URL")]
        database: Option<String>,
        /// Seed and serve fictional demo data; refuses a database with real data.
        #[arg(long)]
        demo: bool,
        /// Serve HTTPS with this PEM certificate chain (with --tls-key).
        #[arg(long, value_name = "FILE")]
        tls_cert: Option<PathBuf>,
        /// The PEM private key of --tls-cert.
        #[arg(long, value_name = "FILE")]
        tls_key: Option<PathBuf>,
    },
    /// Manage staff accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Configuration helpers.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Rating instruments: list the definitions, load a clinic's licensed wording.
    Instruments {
        #[command(subcommand)]
        command: InstrumentsCommand,
    },
    /// The audit trail of every access to patient data.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Write a backup of the database while the server runs (SQLite: a consistent copy,
    /// checked; PostgreSQL: pg_dump's custom format).
    Backup {
        /// The file to write; it must not exist.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Database URL (overrides configuration).
        #[arg(long, value_name = "URL")]
        database: Option<String>,
    },
    /// Restore a backup into an empty database, then check its audit trail and ledger.
    Restore {
        /// The backup file.
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
        /// Database URL to restore into (overrides configuration); it must be empty.
        #[arg(long, value_name = "URL")]
        database: Option<String>,
    },
    /// The controlled-substance ledger.
    Ledger {
        #[command(subcommand)]
        command: LedgerCommand,
    },
    /// Simulate concentrations for a scenario (JSON file, or - for standard input).
    Simulate {
        /// The scenario file.
        #[arg(long, value_name = "FILE")]
        scenario: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value = "json")]
        format: pkcmd::SimFormat,
        /// Simulate this many virtual patients and report 5/50/95th percentiles.
        #[arg(long, value_name = "N")]
        population: Option<usize>,
        /// Seed of the virtual population.
        #[arg(long, value_name = "S", default_value_t = 1)]
        seed: u64,
    },
    /// Work out an infusion (dose, stock volume, bag concentration, pump rate) or esketamine devices.
    Dose {
        /// Patient weight in kilograms.
        #[arg(long)]
        weight_kg: Option<f64>,
        /// Patient weight in pounds, instead of kilograms.
        #[arg(long)]
        weight_lb: Option<f64>,
        /// Ordered dose, mg per kg.
        #[arg(long)]
        mg_per_kg: Option<f64>,
        /// Infusion duration, minutes.
        #[arg(long)]
        duration_min: Option<f64>,
        /// Stock concentration, mg/mL.
        #[arg(long)]
        stock_mg_per_ml: Option<f64>,
        /// Bag volume the stock is added to, mL.
        #[arg(long, default_value_t = 100.0)]
        bag_ml: f64,
        /// An esketamine dose in mg, to count Spravato devices instead.
        #[arg(long)]
        esketamine_mg: Option<f64>,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: pkcmd::DoseFormat,
    },
    /// Score a rating instrument from its answers.
    Score {
        /// phq9, gad7, pcl5, madrs, qids_sr16, epds, ybocs, cadss6, moaas, rass, pain_nrs, bprs_positive.
        instrument: String,
        /// The numbers beside the chosen options, in item order, comma-separated
        /// (EPDS: the option position 0–3 from the top). Negative RASS values need --answers=-2.
        #[arg(long, allow_hyphen_values = true)]
        answers: String,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: score::Format,
    },
    /// Check that a running server answers /healthz (exit 0 when healthy).
    Healthcheck {
        /// Base URL of the server.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a staff account; the password is read from standard input.
    Add {
        /// Login email.
        #[arg(long)]
        email: String,
        /// admin, prescriber, nurse or front_desk.
        #[arg(long)]
        role: String,
        /// Name shown in the interface [default: the part of the email before @].
        #[arg(long)]
        name: Option<String>,
        /// Read the password from the first line of standard input.
        #[arg(long, required = true)]
        password_stdin: bool,
        /// Database URL (overrides configuration).
        #[arg(long, value_name = "URL")]
        database: Option<String>,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a bearer token for a user and print it once.
    Create {
        /// The user's login email.
        #[arg(long)]
        email: String,
        /// What the token is for.
        #[arg(long, default_value = "created with ketaflow token create")]
        label: String,
        /// Days after which the token opens nothing (1 to 3650); without it, until revoked.
        #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u32).range(1..=3650))]
        expires_in_days: Option<u32>,
        /// Database URL (overrides configuration).
        #[arg(long, value_name = "URL")]
        database: Option<String>,
    },
}

#[derive(Subcommand)]
enum InstrumentsCommand {
    /// List every instrument with its items, ranges, LOINC codes and licence status.
    List,
    /// Load an instrument's wording from a JSON file, checked against its definition.
    Import {
        /// The JSON file.
        file: PathBuf,
        /// Database URL (overrides configuration).
        #[arg(long, value_name = "URL")]
        database: Option<String>,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the whole hash chain of audit events; exit non-zero naming the first bad event
    /// when anything was altered, inserted or removed behind the application's back.
    Verify {
        /// Database URL (overrides configuration).
        #[arg(long, value_name = "URL")]
        database: Option<String>,
    },
}

#[derive(Subcommand)]
enum LedgerCommand {
    /// Check the whole hash chain and every container's balance; exit non-zero naming the
    /// first bad entry when anything was altered, inserted or removed.
    Verify {
        /// Database URL (overrides configuration).
        #[arg(long, value_name = "URL")]
        database: Option<String>,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print a commented example configuration file.
    Example,
}

/// An error caused by what the user gave (exit code 2), as opposed to a failure while running.
#[derive(Debug)]
pub(crate) struct InputError(pub(crate) String);

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InputError {}

/// mimalloc instead of the system allocator: under load the server spends a quarter of its
/// time in glibc's malloc and free (measured with perf on the audited read; see BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let mut stderr = std::io::stderr().lock();
            let _ = writeln!(stderr, "ketaflow: {err:#}");
            let input = err
                .chain()
                .any(|c| c.is::<InputError>() || c.to_string().starts_with("configuration"));
            ExitCode::from(if input { 2 } else { 1 })
        }
    }
}

fn load_config(
    cli_config: Option<&std::path::Path>,
    overrides: Overrides,
) -> anyhow::Result<Config> {
    let env: Vec<(String, String)> = std::env::vars().collect();
    let (config, warnings) = config::load(cli_config, &env, &overrides)?;
    for w in warnings {
        eprintln!("ketaflow: warning: {w}");
    }
    Ok(config)
}

/// The configuration for a command that works on the database: `--database`, when given,
/// in place of the configured one.
fn load_database_config(
    cli_config: Option<&std::path::Path>,
    database: Option<String>,
) -> anyhow::Result<Config> {
    load_config(
        cli_config,
        Overrides {
            database,
            addr: None,
        },
    )
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    use anyhow::Context;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let config_path = cli.config.as_deref();
    match cli.command {
        Command::Serve {
            addr,
            database,
            demo,
            tls_cert,
            tls_key,
        } => {
            let mut config = load_config(config_path, Overrides { database, addr })?;
            if tls_cert.is_some() {
                config.server.tls_cert = tls_cert;
            }
            if tls_key.is_some() {
                config.server.tls_key = tls_key;
            }
            serve::init_tracing(&config);
            runtime()?.block_on(serve::serve(config, demo))
        }
        Command::User {
            command:
                UserCommand::Add {
                    email,
                    role,
                    name,
                    password_stdin: _,
                    database,
                },
        } => {
            let config = load_database_config(config_path, database)?;
            let password = users::read_password_stdin()?;
            runtime()?.block_on(users::add(
                &config,
                &email,
                &role,
                name.as_deref(),
                &password,
            ))
        }
        Command::Token {
            command:
                TokenCommand::Create {
                    email,
                    label,
                    expires_in_days,
                    database,
                },
        } => {
            let config = load_database_config(config_path, database)?;
            runtime()?.block_on(users::create_token(
                &config,
                &email,
                &label,
                expires_in_days,
            ))
        }
        Command::Config {
            command: ConfigCommand::Example,
        } => {
            print!("{}", config::EXAMPLE);
            Ok(())
        }
        Command::Instruments {
            command: InstrumentsCommand::List,
        } => {
            instruments::list();
            Ok(())
        }
        Command::Instruments {
            command: InstrumentsCommand::Import { file, database },
        } => {
            let config = load_database_config(config_path, database)?;
            runtime()?.block_on(instruments::import(&config, &file))
        }
        Command::Audit {
            command: AuditCommand::Verify { database },
        } => {
            let config = load_database_config(config_path, database)?;
            runtime()?.block_on(auditcmd::verify(&config))
        }
        Command::Backup { out, database } => {
            let config = load_database_config(config_path, database)?;
            runtime()?.block_on(backupcmd::backup(&config, &out))
        }
        Command::Restore { from, database } => {
            let config = load_database_config(config_path, database)?;
            runtime()?.block_on(backupcmd::restore(&config, &from))
        }
        Command::Ledger {
            command: LedgerCommand::Verify { database },
        } => {
            let config = load_database_config(config_path, database)?;
            runtime()?.block_on(ledgercmd::verify(&config))
        }
        Command::Simulate {
            scenario,
            format,
            population,
            seed,
        } => {
            let config = load_config(config_path, Overrides::default())?;
            pkcmd::simulate(&scenario, format, population, seed, config.dosing.caps())
        }
        Command::Dose {
            weight_kg,
            weight_lb,
            mg_per_kg,
            duration_min,
            stock_mg_per_ml,
            bag_ml,
            esketamine_mg,
            format,
        } => {
            let config = load_config(config_path, Overrides::default())?;
            pkcmd::dose(pkcmd::DoseArgs {
                weight_kg,
                weight_lb,
                mg_per_kg,
                duration_min,
                stock_mg_per_ml,
                bag_ml,
                esketamine_mg,
                format,
                max_mg_per_kg: config.dosing.max_mg_per_kg,
            })
        }
        Command::Score {
            instrument,
            answers,
            format,
        } => score::run(&instrument, &answers, format),
        Command::Healthcheck { url } => runtime()?.block_on(serve::healthcheck(&url)),
    }
}
