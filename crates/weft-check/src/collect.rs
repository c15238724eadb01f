//! Phase 1, *collect*: give every declaration an id and build each
//! module's scope from its own declarations and its imports.

use crate::ModuleSource;
use crate::builtins;
use crate::ctx::{Ctx, ItemRef};
use crate::hir::*;
use crate::ids::ModuleId;
use crate::model::Target;
use crate::names::{Def, DefKind};
use crate::ty::{RecordId, Ty};
use std::collections::{HashMap, HashSet};
use weft_syntax::ast::{self, Item};
use weft_syntax::{Diagnostic, Span};

/// What collecting hands on: where each declaration is, by id.
#[derive(Default)]
pub struct Collected {
    /// Rule id → its declaration (a rule, table, scale or cascade).
    pub rules: IdVec<RuleId, ItemRef>,
    /// Record id → its declaration.
    pub records: IdVec<RecordId, ItemRef>,
    /// Parameter id → its declaration (a parameter or a series).
    pub params: IdVec<ParamId, ItemRef>,
    /// Output id → its declaration.
    pub outputs: IdVec<OutputId, ItemRef>,
    /// Rules declared as cascades.
    pub cascades: HashSet<RuleId>,
}

/// Collect the declarations of every module.
pub fn collect(cx: &mut Ctx<'_>, modules: &[ModuleSource]) -> Collected {
    let mut c = Collector {
        cx,
        out: Collected::default(),
    };
    c.collect(modules);
    c.out
}

struct Collector<'a, 's> {
    cx: &'a mut Ctx<'s>,
    out: Collected,
}

impl Collector<'_, '_> {
    fn collect(&mut self, modules: &[ModuleSource]) {
        for (mi, m) in modules.iter().enumerate() {
            self.cx.model.module(ModuleId::new(mi), m.file);
            if !self.cx.names.add_module(&m.name, ModuleId::new(mi)) {
                continue;
            }
            self.cx.prog.modules.push(ModuleInfo {
                name: m.name.clone(),
                file: m.file,
            });
        }
        // Programmes and assertions are never used in expressions: they have
        // names of their own.
        let mut programme_names: HashMap<String, Span> = HashMap::new();
        let mut assert_names: HashMap<String, Span> = HashMap::new();
        for (mi, m) in modules.iter().enumerate() {
            let module = ModuleId::new(mi);
            for (ii, item) in m.ast.items.iter().enumerate() {
                let at = ItemRef { module, item: ii };
                match item {
                    Item::Enum(e) => self.collect_enum(e, module),
                    Item::Record(r) => {
                        let id = self.cx.prog.records.next_id();
                        let self_local = self.cx.new_local(&r.name.name, Ty::Record(id));
                        self.cx.prog.records.push(RecordDef {
                            name: r.name.name.clone(),
                            display: r.display.clone(),
                            doc: r.doc.clone(),
                            input: r.input.as_ref().map(|i| i.name.clone()),
                            fields: IdVec::new(),
                            checks: Vec::new(),
                            key: None,
                            self_local,
                            span: r.name.span,
                        });
                        self.out.records.push(at);
                        self.cx.model.extent(Target::Record(id), r.span);
                        self.define(&r.name, DefKind::Record(id), module);
                    }
                    Item::Param(p) => {
                        let src = (&p.doc, &p.source);
                        self.push_param(&p.name, false, src, module, at, p.span);
                    }
                    Item::Series(p) => {
                        let src = (&p.doc, &p.source);
                        self.push_param(&p.name, true, src, module, at, p.span);
                    }
                    Item::Rule(r) => {
                        self.push_rule(&r.name, module, &r.doc, &r.source, at, r.span);
                    }
                    Item::Table(t) => {
                        self.push_rule(&t.name, module, &t.doc, &t.source, at, t.span);
                    }
                    Item::Scale(s) => {
                        self.push_rule(&s.name, module, &s.doc, &s.source, at, s.span);
                    }
                    Item::Cascade(c) => {
                        self.out.cascades.insert(self.cx.prog.rules.next_id());
                        self.push_rule(&c.name, module, &c.doc, &c.source, at, c.span);
                    }
                    Item::Output(o) => {
                        let id = self.cx.prog.outputs.next_id();
                        self.cx.prog.outputs.push(OutputDef {
                            name: o.name.name.clone(),
                            record: RecordId::default(),
                            binder: LocalId::default(),
                            columns: Vec::new(),
                            doc: o.doc.clone(),
                            span: o.name.span,
                        });
                        self.out.outputs.push(at);
                        self.cx.model.extent(Target::Output(id), o.span);
                        self.define(&o.name, DefKind::Output(id), module);
                    }
                    Item::Programme(p) => {
                        self.define_separate(&p.name, "programme", &mut programme_names);
                    }
                    Item::Assert(a) => {
                        self.define_separate(&a.name, "assertion", &mut assert_names);
                    }
                    Item::Import(_) | Item::Exception(_) | Item::Test(_) | Item::Defaults(_) => {}
                }
            }
        }
        // Scopes from imports. Each module's own names are listed once, so
        // that an import costs the size of its module, not of the policy.
        self.cx.names.visible = vec![HashSet::new(); modules.len()];
        let mut own_of: Vec<Vec<String>> = vec![Vec::new(); modules.len()];
        for (n, d) in &self.cx.names.defs {
            if let Some(own) = own_of.get_mut(d.module.index()) {
                own.push(n.clone());
            }
        }
        let mut imported_whole = HashSet::new();
        for (mi, m) in modules.iter().enumerate() {
            for item in &m.ast.items {
                let Item::Import(imp) = item else { continue };
                let Some(target) = self.cx.names.module(&imp.module.name) else {
                    let sugg = self
                        .cx
                        .suggestions
                        .closest(&imp.module.name, || self.cx.names.module_names());
                    let mut d = Diagnostic::error(
                        "E0205",
                        format!("there is no module `{}` in this policy", imp.module.name),
                    )
                    .with_label(imp.module.span, "no such module");
                    d = match sugg.first() {
                        Some(s) => d.with_help(format!("did you mean `{s}`?")),
                        None => d.with_help(
                            "a module is a .weft file of the policy directory, named by its path without `.weft`",
                        ),
                    };
                    self.cx.err(d);
                    continue;
                };
                self.cx
                    .model
                    .refer_to(imp.module.span, Target::Module(target));
                let own = own_of
                    .get(target.index())
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                match &imp.names {
                    None => {
                        // A module imported twice adds nothing the second time.
                        if imported_whole.insert((mi, target))
                            && let Some(v) = self.cx.names.visible.get_mut(mi)
                        {
                            v.extend(own.iter().cloned());
                        }
                    }
                    Some(list) => {
                        for n in list {
                            let in_target = self
                                .cx
                                .names
                                .defs
                                .get(&n.name)
                                .is_some_and(|d| d.module == target);
                            if in_target {
                                if let Some(d) = self.cx.names.defs.get(&n.name) {
                                    self.cx.model.refer(n.span, d.kind);
                                }
                                if let Some(v) = self.cx.names.visible.get_mut(mi) {
                                    v.insert(n.name.clone());
                                }
                            } else {
                                let mut d = Diagnostic::error(
                                    "E0204",
                                    format!(
                                        "module `{}` has no declaration `{}`",
                                        imp.module.name, n.name
                                    ),
                                )
                                .with_label(n.span, "not in that module");
                                if let Some(Def { module, .. }) = self.cx.names.defs.get(&n.name) {
                                    let m = self
                                        .cx
                                        .prog
                                        .modules
                                        .get(module.index())
                                        .map(|m| m.name.clone())
                                        .unwrap_or_default();
                                    d = d.with_help(format!(
                                        "`{}` is declared in module `{m}`",
                                        n.name
                                    ));
                                } else if let Some(s) = self
                                    .cx
                                    .suggestions
                                    .closest(&n.name, || own.iter().map(|s| s.as_str()))
                                    .first()
                                {
                                    d = d.with_help(format!("did you mean `{s}`?"));
                                }
                                self.cx.err(d);
                            }
                        }
                    }
                }
            }
        }
    }

    fn define(&mut self, name: &ast::Ident, kind: DefKind, module: ModuleId) {
        if builtins::is_reserved(&name.name) {
            self.cx.err(
                Diagnostic::error(
                    "E0206",
                    format!("`{}` is the name of a built-in", name.name),
                )
                .with_label(name.span, "this name is taken by the language")
                .with_help(format!(
                    "choose another name, such as `{}_value`",
                    name.name
                )),
            );
            return;
        }
        if let Some(prev) = self.cx.names.defs.get(&name.name) {
            let here = self.cx.location(prev.span);
            let what = prev.kind.describe();
            self.cx.err(
                Diagnostic::error("E0201", format!("`{}` is defined twice", name.name))
                    .with_label(name.span, "defined again here")
                    .with_note(format!("first defined as {what} at {here}"))
                    .with_help("names are unique across a policy: rename one of them"),
            );
            return;
        }
        self.cx.names.defs.insert(
            name.name.clone(),
            Def {
                kind,
                module,
                span: name.span,
            },
        );
    }

    fn define_separate(&mut self, name: &ast::Ident, what: &str, seen: &mut HashMap<String, Span>) {
        if let Some(prev) = seen.get(&name.name) {
            let here = self.cx.location(*prev);
            self.cx.err(
                Diagnostic::error("E0201", format!("two {what}s are named `{}`", name.name))
                    .with_label(name.span, "defined again here")
                    .with_note(format!("first defined at {here}"))
                    .with_help(format!("give each {what} its own name")),
            );
        } else {
            seen.insert(name.name.clone(), name.span);
        }
    }

    /// A parameter or a series; `text` is its doc comment and citation.
    fn push_param(
        &mut self,
        name: &ast::Ident,
        series: bool,
        text: (&Option<String>, &Option<String>),
        module: ModuleId,
        at: ItemRef,
        extent: Span,
    ) {
        let id = self.cx.prog.params.next_id();
        self.cx.prog.params.push(ParamDef {
            name: name.name.clone(),
            keys: Vec::new(),
            ty: Ty::Error,
            series,
            source: text.1.clone(),
            doc: text.0.clone(),
            versions: Vec::new(),
            module,
            span: name.span,
        });
        self.out.params.push(at);
        self.cx.model.extent(Target::Param(id), extent);
        self.define(name, DefKind::Param(id), module);
    }

    fn push_rule(
        &mut self,
        name: &ast::Ident,
        module: ModuleId,
        doc: &Option<String>,
        source: &Option<String>,
        at: ItemRef,
        extent: Span,
    ) {
        let id = self.cx.prog.rules.next_id();
        self.cx.prog.rules.push(RuleDef {
            name: name.name.clone(),
            module,
            doc: doc.clone(),
            source: source.clone(),
            param: None,
            ret: Ty::Error,
            kind: RuleKind::Broken,
            exceptions: Vec::new(),
            span: name.span,
        });
        self.out.rules.push(at);
        self.cx.model.extent(Target::Rule(id), extent);
        self.define(name, DefKind::Rule(id), module);
    }

    fn collect_enum(&mut self, e: &ast::EnumDecl, module: ModuleId) {
        let id = self.cx.prog.enums.next_id();
        let mut variants: Vec<VariantDef> = Vec::new();
        if e.variants.len() > 64 {
            self.cx.err(
                Diagnostic::error(
                    "E0208",
                    format!("`{}` has more than 64 variants", e.name.name),
                )
                .with_label(e.name.span, "too many variants")
                .with_help("split the enum into smaller ones"),
            );
        }
        if e.variants.is_empty() {
            self.cx.err(
                Diagnostic::error("E0208", format!("`{}` has no variants", e.name.name))
                    .with_label(e.name.span, "an enum needs at least one variant"),
            );
        }
        for v in e.variants.iter().take(64) {
            let code = v
                .code
                .as_ref()
                .map(|(c, _)| c.clone())
                .unwrap_or_else(|| v.name.name.clone());
            if variants.iter().any(|o| o.name == v.name.name) {
                self.cx.err(
                    Diagnostic::error(
                        "E0207",
                        format!("`{}` has the variant `{}` twice", e.name.name, v.name.name),
                    )
                    .with_label(v.name.span, "repeated variant")
                    .with_help("remove one of them"),
                );
                continue;
            }
            if variants.iter().any(|o| o.code == code) {
                let span = v.code.as_ref().map(|(_, s)| *s).unwrap_or(v.name.span);
                self.cx.err(
                    Diagnostic::error(
                        "E0207",
                        format!("two variants of `{}` have the code `{code}`", e.name.name),
                    )
                    .with_label(span, "repeated code")
                    .with_help("every variant needs its own code in data files"),
                );
                continue;
            }
            variants.push(VariantDef {
                name: v.name.name.clone(),
                code,
                display: v.display.clone(),
                doc: v.doc.clone(),
                span: v.name.span,
            });
        }
        self.cx.prog.enums.push(EnumDef {
            name: e.name.name.clone(),
            display: e.display.clone(),
            doc: e.doc.clone(),
            variants,
            span: e.name.span,
        });
        self.cx.model.extent(Target::Enum(id), e.span);
        self.define(&e.name, DefKind::Enum(id), module);
    }
}
