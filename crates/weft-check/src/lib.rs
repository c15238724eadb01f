//! The Weft checker: names, modules, types, periods, parameter tables,
//! decision-table coverage, exceptions and dependency cycles.
//!
//! [`check`] takes parsed modules and parameter data files and returns the
//! typed program ([`hir::Program`]) together with every diagnostic it found;
//! broken input is not exceptional, so the program is always returned (with
//! broken parts marked) and checking goes on after the first error.
//!
//! The checker runs in phases over all modules at once:
//! 1. *collect*: give every declaration an id and build each module's scope
//!    from its own declarations and its imports;
//! 2. *signatures*: resolve the types of record fields, parameters and rule
//!    signatures;
//! 3. *parameter values*: read inline versions and data files, check every
//!    value against its type and every version for missing keys;
//! 4. *bodies*: type every expression (rules, exceptions, tables, cascades,
//!    scales, record checks, assertions, tests, outputs), resolving each
//!    operator to its exact arithmetic and narrowing enum types under
//!    conditions and `match`;
//! 5. *analyses*: decision-table gaps and overlaps, exception conflicts and
//!    dependency cycles, each reported with a concrete witness.
//!
//! This crate does no I/O and never panics on any input.

pub mod hir;
mod names;
pub mod pack;
pub mod params;
mod resolve;
mod suggest;
pub mod tables;
pub mod ty;
mod typeck;

pub use hir::Program;
use weft_syntax::ast;
use weft_syntax::{Diagnostic, FileId, SourceMap};

/// One parsed module of a policy.
pub struct ModuleSource {
    /// The module name: the file's path in the policy directory without
    /// `.weft`, with `/` written as `.` (`jilin/medical.weft` → `medical`
    /// inside the pack `jilin`).
    pub name: String,
    pub file: FileId,
    pub ast: ast::Module,
}

/// A parameter data file (TOML or CSV) already in the source map.
pub struct ParamSource {
    pub file: FileId,
    /// Files given for one run (`--params`) rather than shipped with the
    /// pack: they overlay the pack's versions.
    pub overlay: bool,
}

/// Check a whole policy. Diagnostics come sorted by file and position.
pub fn check(
    sources: &SourceMap,
    modules: Vec<ModuleSource>,
    params: &[ParamSource],
) -> (Program, Vec<Diagnostic>) {
    let mut c = resolve::Checker::new(sources);
    c.collect(&modules);
    c.signatures(&modules);
    c.param_values(&modules, params);
    c.bodies(&modules);
    c.analyses();
    let (program, mut diags) = c.finish();
    sort_diagnostics(&mut diags);
    (program, diags)
}

/// Sort diagnostics by file, then position, keeping the order of equal ones.
pub fn sort_diagnostics(diags: &mut [Diagnostic]) {
    diags.sort_by_key(|d| d.span().map(|s| (s.file, s.start)).unwrap_or_default());
}
