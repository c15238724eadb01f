//! Weft's surface syntax: the pest grammar (`grammar/weft.pest`), the AST
//! with spans, the token pre-scan, exact literals and the diagnostics type
//! shared by every later phase.
//!
//! This crate does no I/O: it takes text and returns values. It never
//! panics on any input; bad text becomes [`Diagnostic`]s.

pub mod ast;
pub mod diag;
pub mod fmt;
pub mod num;
pub mod parse;
pub mod scan;
pub mod span;

pub use diag::{Diagnostic, Label, Level};
pub use parse::parse_module;
pub use span::{FileId, SourceFile, SourceMap, Span};
