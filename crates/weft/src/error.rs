//! Why something could not be done: one error type for the whole API.

use crate::{Date, Diagnostics};
use std::path::PathBuf;

/// Why something could not be done.
///
/// Problems with single records are not errors: they are
/// [`ErrorRow`](crate::ErrorRow)s of a result. An `Error` means nothing
/// (or, for a run over files, nothing new) was produced.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The policy has errors (warnings may be among the diagnostics).
    #[error("the policy has errors:\n{0}")]
    Policy(Diagnostics),
    /// Parameters given for one use (overlays) break assertions of the
    /// policy; the diagnostics hold the failures (warnings too).
    #[error("the parameters given break {} of the policy", plural(.0.error_count(), "assertion", "assertions"))]
    Assertions(Diagnostics),
    /// A file or directory could not be read or written.
    #[error("{doing} {}: {source}", .path.display())]
    Io {
        /// What was being done (`cannot read the policy`).
        doing: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The error of the operating system.
        source: std::io::Error,
    },
    /// A file could be read but not used as it is (not UTF-8 text).
    #[error("{}: {message}", .path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// Text that should be a month (`YYYY-MM`) is not one.
    #[error("`{text}` is not a month; write it as YYYY-MM, e.g. 2018-08")]
    BadMonth {
        /// The text given.
        text: String,
    },
    /// The month cannot be evaluated: a parameter the policy reads has no
    /// version in force (or a series has no value) on a date it is read
    /// as of.
    #[error("{}", no_version(param, *date, *series))]
    NoParameterVersion {
        /// The parameter.
        param: String,
        /// The date it is read as of.
        date: Date,
        /// Whether it is a series (a value per month) rather than versions.
        series: bool,
    },
    /// Records were given for an input the policy does not read.
    #[error("the policy has no input `{name}`; its inputs are {}", list(inputs))]
    UnknownInput {
        /// The name given.
        name: String,
        /// The policy's inputs.
        inputs: Vec<String>,
    },
    /// An input the policy reads was not given.
    #[error("the policy reads the input `{input}`, which was not given")]
    MissingInput {
        /// The input's name.
        input: String,
    },
    /// An input lacks columns the policy reads.
    #[error("{input}: missing column(s) {}", columns.join(", "))]
    MissingColumns {
        /// The input (or its file's name, for a run over files).
        input: String,
        /// The columns missing.
        columns: Vec<String>,
    },
    /// A column of a record batch has a type that cannot hold the field's
    /// values (see [`Policy::input_schema`](crate::Policy::input_schema)).
    #[error(
        "the column `{column}` of `{input}` is {found}, which cannot hold its values; expected {expected}"
    )]
    ColumnType {
        /// The input.
        input: String,
        /// The column.
        column: String,
        /// The types accepted.
        expected: String,
        /// The type found.
        found: String,
    },
    /// A money column of a record batch holds integers, which could be fen
    /// or yuan: say which with
    /// [`BatchOptions::integer_money`](crate::BatchOptions::integer_money).
    #[error(
        "the money column `{column}` of `{input}` holds integers, which could be fen or yuan; say which (BatchOptions::integer_money), or give Decimal128 yuan"
    )]
    IntegerMoney {
        /// The input.
        input: String,
        /// The column.
        column: String,
    },
    /// In strict mode, a field or column the policy does not read.
    #[error(
        "`{input}` has no field `{column}` (strict mode refuses fields the policy does not read)"
    )]
    UnknownColumn {
        /// The input.
        input: String,
        /// The field or column.
        column: String,
    },
    /// In strict mode, an explained output column the policy does not have.
    #[error("no output column named {}", columns.join(", "))]
    UnknownOutputColumn {
        /// The columns asked for.
        columns: Vec<String>,
    },
    /// The record to explain is not among the records given.
    #[error("no record has the id `{id}`")]
    NoSuchRecord {
        /// The id asked for.
        id: String,
    },
    /// The record to explain was not evaluated: it (or its group) was
    /// rejected; the error row says why.
    #[error("the record `{id}` is not evaluated: {}", error.message)]
    NotEvaluated {
        /// The id asked for.
        id: String,
        /// Why.
        error: Box<crate::ErrorRow>,
    },
    /// The id names both a group record and a member record.
    #[error("`{id}` is the id of a {group} and of a {member}")]
    AmbiguousId {
        /// The id.
        id: String,
        /// The group input (`households`).
        group: String,
        /// The member input (`persons`).
        member: String,
    },
    /// Records that do not fit the policy's inputs (malformed JSON, an
    /// input given twice, …).
    #[error("{0}")]
    Input(String),
    /// The options of a run are wrong (an output directory holding other
    /// files, a file given as the output directory, …).
    #[error("{0}")]
    Usage(String),
    /// A run over files failed as a whole (an input refused as a whole, a
    /// full disk, …); nothing was written.
    #[error("{0}")]
    Run(String),
    /// A run was stopped because too many rows were rejected; nothing was
    /// written.
    #[error("stopped after {errors} rejected row(s) (limit {limit}); nothing was written")]
    Stopped {
        /// Rows rejected.
        errors: u64,
        /// The limit given.
        limit: u64,
    },
    /// Another run is writing to the output directory.
    #[error("another weft run ({}) is writing to {}", who(*pid), .out.display())]
    Busy {
        /// The output directory.
        out: PathBuf,
        /// The process holding it, when known.
        pid: Option<u32>,
    },
    /// The engine could not compile the policy.
    #[error("{0}")]
    Engine(String),
    /// A bug in Weft: the policy passed the checks but could not be
    /// lowered.
    #[error("internal error while lowering the policy: {0}")]
    Internal(String),
}

impl miette::Diagnostic for Error {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        match self {
            Error::Policy(d) | Error::Assertions(d) => d.code(),
            _ => None,
        }
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        match self {
            Error::Policy(d) | Error::Assertions(d) => d.related(),
            _ => None,
        }
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn list(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.split_last() {
        None => "none".into(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

fn no_version(param: &str, date: Date, series: bool) -> String {
    if series {
        format!(
            "the series `{param}` has no value for {}",
            weft_syntax::num::format_month(date.days())
        )
    } else {
        format!("no version of `{param}` is in force on {date}")
    }
}

fn who(pid: Option<u32>) -> String {
    match pid {
        Some(p) if p == std::process::id() => format!("pid {p}, this process"),
        Some(p) => format!("pid {p}"),
        None => "pid unknown".into(),
    }
}

impl From<weft_ir::bind::BindError> for Error {
    fn from(e: weft_ir::bind::BindError) -> Error {
        Error::NoParameterVersion {
            param: e.param,
            date: Date::from_days(e.date),
            series: e.series,
        }
    }
}

impl From<weft_engine::run::RunError> for Error {
    fn from(e: weft_engine::run::RunError) -> Error {
        use weft_engine::run::RunError as R;
        match e {
            R::Usage(m) => Error::Usage(m),
            R::MissingInput { input } => Error::MissingInput { input },
            R::MissingColumns { file, columns } => Error::MissingColumns {
                input: file,
                columns,
            },
            R::Stopped { errors, limit } => Error::Stopped { errors, limit },
            other => Error::Run(other.to_string()),
        }
    }
}
