//! The `weft` command: check, test, evaluate and run policy packs.
//!
//! Exit codes: 0 success; 1 the policy or the run failed as a whole
//! (diagnostics, a failing test, a missing column, an unsupported month);
//! 2 the command line was wrong; 3 a run stopped by `--fail-fast` or
//! `--max-errors` (nothing written). Stopped by SIGINT, SIGTERM or SIGHUP,
//! it removes its temporary files and exits 130, 143 or 129.
//!
//! `println!`, `print!`, `eprintln!` and `eprint!` in this crate are
//! `out.rs`'s, not std's (declared first, they shadow the prelude's in
//! every module below): a closed stdout or stderr (`weft … | head -1`)
//! ends nothing and panics nothing; the command finishes with its usual
//! exit code. (std's macros panic with "failed printing to stdout".)

#[macro_use]
mod out;
mod cmd;
mod error;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "weft",
    version,
    about = "Weft: social-assistance policy as exact, checked, fast code"
)]
struct Cli {
    /// The language of messages: `zh-CN` or `en` (default: from LC_ALL,
    /// LC_MESSAGES or LANG, else English).
    #[arg(long, global = true, value_name = "LANG")]
    lang: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
pub struct PolicyArgs {
    /// The policy pack: a directory of .weft files and parameter files.
    pub policy: PathBuf,
    /// Parameter files (TOML or CSV) or directories of them that overlay the
    /// pack's parameters for this command.
    #[arg(long = "params", value_name = "FILE_OR_DIR")]
    pub params: Vec<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Check a policy: syntax, names, types, tables, cycles, parameters and
    /// assertions. Exit 1 with diagnostics on errors.
    Check {
        #[command(flatten)]
        policy: PolicyArgs,
    },
    /// Run the policy's `test` blocks, on both engines.
    Test {
        #[command(flatten)]
        policy: PolicyArgs,
        /// `interp`, `jit`, or `both`.
        #[arg(long, default_value = "both")]
        engine: String,
        /// Only tests whose name contains this text.
        #[arg(long)]
        filter: Option<String>,
        /// Also list the rules, table rows and exceptions no test exercised.
        #[arg(long)]
        coverage: bool,
        /// Run OpenFisca YAML test files (every .yaml/.yml file below DIR,
        /// or that file) instead of the policy's own tests, through the
        /// mapping in the policy's openfisca.yaml.
        #[arg(long, value_name = "DIR", conflicts_with = "coverage")]
        yaml: Option<PathBuf>,
    },
    /// Evaluate one household (or record) given as JSON and print every
    /// output.
    Eval {
        #[command(flatten)]
        policy: PolicyArgs,
        /// The month evaluated, YYYY-MM.
        #[arg(long = "as-of")]
        as_of: String,
        /// A JSON file: `{"households": {…}, "persons": [{…}, …]}` (keys are
        /// the policy's input names).
        #[arg(long)]
        input: PathBuf,
        /// `table` or `json`.
        #[arg(long, default_value = "table")]
        format: String,
        /// `interp` or `jit`.
        #[arg(long, default_value = "interp")]
        engine: String,
        /// Explain the outputs of the record with this id instead of
        /// printing every output.
        #[arg(long)]
        explain: Option<String>,
        /// Evaluate the population as of --as-of under the rules, parameters
        /// and series in force in this month (YYYY-MM): the policy's effect
        /// apart from the population's (ages, births).
        #[arg(long = "rules-as-of", value_name = "YYYY-MM")]
        rules_as_of: Option<String>,
    },
    /// Evaluate a whole population: `--persons FILE --households FILE` (the
    /// policy's input names), writing results, errors and a manifest.
    Run(cmd::run::RunArgs),
    /// Compare two situations over one population: another month, other
    /// parameters or another version of the policy. Who gains, who loses,
    /// what it costs.
    Diff(cmd::diff::DiffArgs),
    /// Explain one record's outputs: the rules, table rows, exceptions,
    /// parameters and values that decided them, with their citations.
    Explain(cmd::explain::ExplainArgs),
    /// Write a static, offline documentation site of a policy: programmes,
    /// rules with citations and links both ways, parameters with their
    /// versions, tests and coverage, and a search box.
    Doc(cmd::doc::DocArgs),
    /// Format policy files to the canonical layout, in place; `--check`
    /// lists the files that are not formatted and exits 1.
    Fmt(cmd::fmt::FmtArgs),
    /// Run the language server on standard input and output (for editors).
    Lsp,
    /// Generate a synthetic population from the policy's records, valid by
    /// construction and reproducible by seed.
    Synth {
        #[command(flatten)]
        policy: PolicyArgs,
        /// How many households (group records) to generate.
        #[arg(long, alias = "groups")]
        households: u64,
        /// The seed of the random generator (ChaCha8).
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The month the records must be valid for (birth dates before it, …).
        #[arg(long = "as-of", default_value = "2019-12")]
        as_of: String,
        /// The output directory.
        #[arg(long)]
        out: PathBuf,
        /// csv, jsonl or parquet.
        #[arg(long, default_value = "csv")]
        format: String,
        /// Households evaluated to report each programme's hit rate.
        #[arg(long, default_value_t = 2000)]
        sample: usize,
    },
}

fn main() {
    if let Err(e) = weft::files::install_signal_handlers() {
        eprintln!("warning: signals will not remove temporary files: {e}");
    }
    let args = cmd::run::rewrite_input_flags(std::env::args_os().collect());
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let code = match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => 0,
                _ => 2,
            };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    match weft::lang::detect(cli.lang.as_deref()) {
        Ok(lang) => weft::lang::set_lang(lang),
        Err(asked) => {
            eprintln!("error: --lang {asked}: Weft speaks `zh-CN` and `en`");
            std::process::exit(2);
        }
    }
    let result = match cli.command {
        Command::Check { policy } => cmd::check::check(&policy),
        Command::Test {
            policy,
            engine,
            filter,
            coverage,
            yaml,
        } => match yaml {
            Some(dir) => cmd::test::test_yaml(&policy, &engine, filter.as_deref(), &dir),
            None => cmd::test::test(&policy, &engine, filter.as_deref(), coverage),
        },
        Command::Eval {
            policy,
            as_of,
            input,
            format,
            engine,
            explain,
            rules_as_of,
        } => cmd::eval::eval(
            &policy,
            (&as_of, rules_as_of.as_deref()),
            &input,
            &format,
            &engine,
            explain.as_deref(),
        ),
        Command::Run(args) => cmd::run::run(&args),
        Command::Explain(args) => cmd::explain::explain(&args),
        Command::Diff(args) => cmd::diff::diff(&args),
        Command::Doc(args) => cmd::doc::doc(&args),
        Command::Fmt(args) => cmd::fmt::fmt(&args),
        Command::Lsp => cmd::lsp::lsp(),
        Command::Synth {
            policy,
            households,
            seed,
            as_of,
            out,
            format,
            sample,
        } => cmd::synth::synth(&policy, households, seed, &as_of, &out, &format, sample),
    };
    let code = match result {
        Ok(()) => 0,
        Err(e) => {
            e.report();
            e.exit_code()
        }
    };
    std::process::exit(code);
}
