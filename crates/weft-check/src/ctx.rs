//! The checker's context: what every phase reads and adds to.
//!
//! This module is the leaf of the checker: it imports no phase. It holds
//! the program being built, the names declared, the diagnostics, the "did
//! you mean" budget and the semantic model's recorder, and offers the one
//! way to look a name up ([`Ctx::find`] and [`Ctx::lookup`]), which reports
//! a name that is missing, not imported or of the wrong kind, and records
//! every name it resolves for the [semantic model](crate::model).
//!
//! What one phase hands to the next (where declarations are, the
//! parameters of scales, the rules each rule uses) is not kept here: each
//! phase returns it, and `lib.rs` passes it on, so the phases run in one
//! direction.

use crate::hir::{LocalId, LocalInfo, Program};
use crate::ids::ModuleId;
use crate::model::Recorder;
use crate::names::{Def, DefKind, Lookup, Names};
use crate::suggest::Suggestions;
use crate::ty::Ty;
use weft_msg::t;
use weft_syntax::ast::{self, Item};
use weft_syntax::{Diagnostic, SourceMap, Span};

/// Where a declaration is in the parsed modules.
#[derive(Clone, Copy)]
pub struct ItemRef {
    pub module: ModuleId,
    pub item: usize,
}

/// The declaration at an [`ItemRef`].
pub fn item(modules: &[crate::ModuleSource], at: ItemRef) -> Option<&Item> {
    modules.get(at.module.index())?.ast.items.get(at.item)
}

pub struct Ctx<'s> {
    pub sources: &'s SourceMap,
    pub prog: Program,
    pub names: Names,
    pub diags: Vec<Diagnostic>,
    /// "Did you mean", within the budget of this check.
    pub suggestions: Suggestions,
    /// Names resolved and expressions typed, for the semantic model.
    pub model: Recorder,
}

/// What a name stands for where it is used.
pub enum Resolved {
    Found(DefKind),
    /// Declared in this module, which is not imported here.
    NotImported,
    Unknown,
}

/// How [`Ctx::find`] reports a name of the wrong kind.
pub enum WrongKind<'a> {
    /// As an unknown name ("there is no rule named …").
    Unknown,
    /// With its own diagnostic, given what the name is.
    Report(&'a dyn Fn(DefKind) -> Diagnostic),
}

impl<'s> Ctx<'s> {
    pub fn new(sources: &'s SourceMap) -> Ctx<'s> {
        Ctx {
            sources,
            prog: Program::default(),
            names: Names::default(),
            diags: Vec::new(),
            suggestions: Suggestions::new(sources.iter().map(|(_, f)| f.text.len()).sum()),
            model: Recorder::default(),
        }
    }

    pub fn err(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    pub fn new_local(&mut self, name: &str, ty: Ty) -> LocalId {
        self.prog.locals.push(LocalInfo {
            name: name.to_string(),
            ty,
        })
    }

    /// A new local declared by a name in the text (a `let`, a binding, a
    /// rule's parameter): recorded as a definition for the semantic model.
    pub fn bind_local(&mut self, name: &ast::Ident, ty: Ty) -> LocalId {
        let l = self.new_local(&name.name, ty);
        self.model.define_local(l, name.span);
        l
    }

    /// `file:line:col` of a position, for notes.
    pub fn location(&self, span: Span) -> String {
        let (l, c) = self.sources.line_col(span.file, span.start);
        format!("{}:{}:{}", self.sources.name(span.file), l, c)
    }

    /// Look a name up in a module's scope without reporting anything; a
    /// name found is recorded as a reference to its declaration.
    pub fn lookup(&mut self, module: ModuleId, name: &ast::Ident) -> Resolved {
        match self.names.lookup(module, &name.name) {
            Lookup::Found(d) => {
                self.model.refer(name.span, d.kind);
                Resolved::Found(d.kind)
            }
            Lookup::NotImported(_) => Resolved::NotImported,
            Lookup::Unknown => Resolved::Unknown,
        }
    }

    /// Look a name up where one kind of declaration is wanted: `pick` takes
    /// the kinds that fit. A name that is not visible is reported as
    /// unknown ("there is no `what` named …", or not imported); a name of
    /// another kind as `wrong` says.
    pub fn find<T>(
        &mut self,
        module: ModuleId,
        name: &ast::Ident,
        what: &str,
        pick: impl FnOnce(DefKind) -> Option<T>,
        wrong: WrongKind<'_>,
    ) -> Option<T> {
        let kind = match self.names.lookup(module, &name.name) {
            Lookup::Found(Def { kind, .. }) => Some(*kind),
            _ => None,
        };
        let Some(kind) = kind else {
            self.unknown_name(module, name, what);
            return None;
        };
        match pick(kind) {
            Some(t) => {
                self.model.refer(name.span, kind);
                Some(t)
            }
            None => {
                match wrong {
                    WrongKind::Unknown => self.unknown_name(module, name, what),
                    WrongKind::Report(report) => self.err(report(kind)),
                }
                None
            }
        }
    }

    /// Report a name that is not visible (or not of the kind wanted).
    pub fn unknown_name(&mut self, module: ModuleId, name: &ast::Ident, what: &str) {
        match self.names.lookup(module, &name.name) {
            Lookup::NotImported(m) => {
                let m = m.to_string();
                let d = Diagnostic::error(
                    "E0202",
                    t!("name-not-imported", name = &name.name, module = &m),
                )
                .with_label(name.span, t!("not-imported"))
                .with_help(t!("not-imported.help", module = &m, name = &name.name));
                self.err(d);
            }
            _ => {
                let sugg = self
                    .suggestions
                    .closest(&name.name, || self.names.visible_names(module));
                let what = match what {
                    "parameter" | "type" | "value" | "rule" | "output" | "record" | "enum" => {
                        t!(&format!("kind-{what}"))
                    }
                    other => other.to_string(),
                };
                let mut d =
                    Diagnostic::error("E0203", t!("no-such-name", what = what, name = &name.name))
                        .with_label(name.span, t!("no-such-name.label"));
                if let Some(s) = sugg.first() {
                    d = d.with_help(t!("did-you-mean", name = s));
                } else {
                    // A close name in a module not imported here.
                    let far = self
                        .suggestions
                        .closest(&name.name, || self.names.defs.keys().map(|k| k.as_str()));
                    if let Some(s) = far.first()
                        && let Lookup::NotImported(m) = self.names.lookup(module, s)
                    {
                        let m = m.to_string();
                        d = d.with_help(t!("did-you-mean-far", name = s, module = &m));
                    }
                }
                self.err(d);
            }
        }
    }
}
