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
//! Each phase is a module with one entry point, called from [`check_model`]
//! in this order; what a phase hands to the next (where declarations are,
//! the parameters of scales, the rules each rule uses) is its return value,
//! and the only state they share is the context of `ctx.rs` (the program
//! being built, names, diagnostics, the semantic model's recorder), which
//! imports no phase. Expressions are checked by `expr/`, declarations by
//! `decls/`; the built-in functions are one table (`builtins.rs`).
//!
//! This crate does no I/O and never panics on any input.

mod analyses;
mod body;
pub mod builtins;
mod collect;
mod ctx;
mod decls;
mod expr;
pub mod hir;
mod ids;
pub mod model;
mod names;
pub mod pack;
mod params;
mod signatures;
mod suggest;
pub mod ty;
mod types;

pub use hir::Program;
pub use model::SemanticModel;
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
    let (program, diags, _) = run(sources, modules, params);
    (program, diags)
}

/// A checked policy: the typed program, its diagnostics and its semantic
/// model.
pub struct Checked {
    pub program: Program,
    /// Sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
    pub model: SemanticModel,
}

/// Check a whole policy and keep its semantic model: what each name
/// stands for, the type of each expression, each item's doc, citation and
/// uses (see [`model`]).
pub fn check_model(
    sources: &SourceMap,
    modules: Vec<ModuleSource>,
    params: &[ParamSource],
) -> Checked {
    let (program, diagnostics, recorded) = run(sources, modules, params);
    let model = SemanticModel::build(recorded, &program);
    Checked {
        program,
        diagnostics,
        model,
    }
}

/// The phases, in order.
fn run(
    sources: &SourceMap,
    modules: Vec<ModuleSource>,
    params: &[ParamSource],
) -> (Program, Vec<Diagnostic>, model::Recorder) {
    let mut cx = ctx::Ctx::new(sources);
    let items = collect::collect(&mut cx, &modules);
    let sigs = signatures::signatures(&mut cx, &items, &modules);
    params::load(&mut cx, &items, &modules, params);
    let bodies = decls::bodies(&mut cx, &items, &sigs, &modules);
    analyses::analyses(&mut cx, &bodies);
    let ctx::Ctx {
        prog,
        mut diags,
        model,
        ..
    } = cx;
    sort_diagnostics(&mut diags);
    (prog, diags, model)
}

/// Sort diagnostics by file, then position, keeping the order of equal ones.
pub fn sort_diagnostics(diags: &mut [Diagnostic]) {
    diags.sort_by_key(|d| d.span().map(|s| (s.file, s.start)).unwrap_or_default());
}
