//! Why a command failed, and the one place that chooses its exit code and
//! prints its message.
//!
//! Exit codes (`README.md`): 0 success; 1 the policy or the run failed as
//! a whole; 2 the command line was wrong; 3 a run stopped by `--fail-fast`
//! or `--max-errors`. (130, 143 and 129 come from the signal handlers.)

/// Why a command failed.
#[derive(Debug)]
pub enum CliError {
    /// The command line is wrong (exit 2): `error: MESSAGE`.
    Usage(String),
    /// The policy or the run failed as a whole (exit 1): `error: MESSAGE`.
    Failed(String),
    /// A failure the command has already shown (diagnostics, failing
    /// tests, a record that was not evaluated, rows with errors): exit 1,
    /// nothing more printed.
    Reported,
    /// An error of the API, shown as `error: MESSAGE`; its exit code by
    /// its kind.
    Api(weft::Error),
}

impl From<weft::Error> for CliError {
    fn from(e: weft::Error) -> CliError {
        CliError::Api(e)
    }
}

/// What a command gives back.
pub type CliResult = Result<(), CliError>;

impl CliError {
    /// The process's exit code.
    pub fn exit_code(&self) -> i32 {
        use weft::Error as E;
        match self {
            CliError::Usage(_) => 2,
            CliError::Failed(_) | CliError::Reported => 1,
            CliError::Api(e) => match e {
                E::Stopped { .. } => 3,
                E::Usage(_) | E::MissingInput { .. } | E::BadMonth { .. } => 2,
                _ => 1,
            },
        }
    }

    /// Print the message (on stderr), if it was not shown already.
    pub fn report(&self) {
        match self {
            CliError::Usage(m) | CliError::Failed(m) => eprintln!("error: {m}"),
            CliError::Reported => {}
            CliError::Api(e) => {
                eprintln!("error: {e}");
                if let weft::Error::MissingInput { input } = e {
                    eprintln!("help: give it with `--{input} FILE`");
                }
            }
        }
    }
}
