//! The checker's phases over whole declarations: collecting names, building
//! scopes, resolving signatures, and checking each declaration's body with
//! the expression checker of [`crate::typeck`].

use crate::hir::*;
use crate::names::{Def, DefKind, Lookup, Names};
use crate::suggest::Suggestions;
use crate::ty::{DurUnit, Per, Ty, full_set};
use crate::{ModuleSource, ParamSource};
use std::collections::{HashMap, HashSet};
use weft_syntax::ast::{self, Item};
use weft_syntax::{Diagnostic, SourceMap, Span};

pub const BUILTINS: &[&str] = &[
    "min",
    "max",
    "clamp",
    "abs",
    "round",
    "per_month",
    "per_year",
    "prior_year",
    "years_between",
    "months_between",
    "days_between",
    "add_months",
    "add_days",
    "add_years",
    "year",
    "month",
    "day",
    "is_set",
    "decimal",
    "int",
    "bands_start",
    "bands_contiguous",
    "min_rate",
    "max_rate",
    "sum",
    "count",
    "any",
    "all",
];

pub const TYPE_NAMES: &[&str] = &[
    "Bool", "Int", "Decimal", "Money", "Text", "Date", "Days", "Months", "Years", "Bands",
];

/// Where a rule's declaration is, for the body phase.
#[derive(Clone, Copy)]
pub struct ItemRef {
    pub module: usize,
    pub item: usize,
}

pub struct Checker<'s> {
    pub sources: &'s SourceMap,
    pub prog: Program,
    pub names: Names,
    pub diags: Vec<Diagnostic>,
    pub rule_items: Vec<ItemRef>,
    pub record_items: Vec<ItemRef>,
    pub param_items: Vec<ItemRef>,
    pub output_items: Vec<ItemRef>,
    /// Rule → the rules it refers to, with the first place it does.
    pub deps: Vec<Vec<(RuleId, Span)>>,
    /// Typed `defaults` per record: field → value.
    pub defaults: HashMap<u32, HashMap<u32, TestValue>>,
    /// The parameter locals of each scale, set with its signature.
    pub scale_params: HashMap<RuleId, Vec<LocalId>>,
    /// Rules declared as cascades.
    pub cascade_rules: HashSet<RuleId>,
    /// "Did you mean", within the budget of this check.
    pub suggestions: Suggestions,
}

impl<'s> Checker<'s> {
    pub fn new(sources: &'s SourceMap) -> Checker<'s> {
        Checker {
            sources,
            prog: Program::default(),
            names: Names::default(),
            diags: Vec::new(),
            rule_items: Vec::new(),
            record_items: Vec::new(),
            param_items: Vec::new(),
            output_items: Vec::new(),
            deps: Vec::new(),
            defaults: HashMap::new(),
            scale_params: HashMap::new(),
            cascade_rules: HashSet::new(),
            suggestions: Suggestions::new(sources.iter().map(|(_, f)| f.text.len()).sum()),
        }
    }

    pub fn err(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    pub fn new_local(&mut self, name: &str, ty: Ty) -> LocalId {
        self.prog.locals.push(LocalInfo {
            name: name.to_string(),
            ty,
        });
        (self.prog.locals.len() - 1) as LocalId
    }

    pub fn finish(self) -> (Program, Vec<Diagnostic>) {
        (self.prog, self.diags)
    }

    fn location(&self, span: Span) -> String {
        let (l, c) = self.sources.line_col(span.file, span.start);
        format!("{}:{}:{}", self.sources.name(span.file), l, c)
    }

    fn define(&mut self, name: &ast::Ident, kind: DefKind, module: u32) {
        if BUILTINS.contains(&name.name.as_str()) || TYPE_NAMES.contains(&name.name.as_str()) {
            self.err(
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
        if let Some(prev) = self.names.defs.get(&name.name) {
            let here = self.location(prev.span);
            let what = prev.kind.describe();
            self.err(
                Diagnostic::error("E0201", format!("`{}` is defined twice", name.name))
                    .with_label(name.span, "defined again here")
                    .with_note(format!("first defined as {what} at {here}"))
                    .with_help("names are unique across a policy: rename one of them"),
            );
            return;
        }
        self.names.defs.insert(
            name.name.clone(),
            Def {
                kind,
                module,
                span: name.span,
            },
        );
    }

    // ------------------------------------------------------------ collect

    pub fn collect(&mut self, modules: &[ModuleSource]) {
        for (mi, m) in modules.iter().enumerate() {
            if !self.names.add_module(&m.name, mi as u32) {
                continue;
            }
            self.prog.modules.push(ModuleInfo {
                name: m.name.clone(),
                file: m.file,
            });
        }
        // Programmes and assertions are never used in expressions: they have
        // names of their own.
        let mut programme_names: HashMap<String, Span> = HashMap::new();
        let mut assert_names: HashMap<String, Span> = HashMap::new();
        for (mi, m) in modules.iter().enumerate() {
            let module = mi as u32;
            for (ii, item) in m.ast.items.iter().enumerate() {
                let at = ItemRef {
                    module: mi,
                    item: ii,
                };
                match item {
                    Item::Enum(e) => self.collect_enum(e, module),
                    Item::Record(r) => {
                        let id = self.prog.records.len() as u32;
                        let self_local = self.new_local(&r.name.name, Ty::Record(id));
                        self.prog.records.push(RecordDef {
                            name: r.name.name.clone(),
                            display: r.display.clone(),
                            doc: r.doc.clone(),
                            input: r.input.as_ref().map(|i| i.name.clone()),
                            fields: Vec::new(),
                            checks: Vec::new(),
                            key: None,
                            self_local,
                            span: r.name.span,
                        });
                        self.record_items.push(at);
                        self.define(&r.name, DefKind::Record(id), module);
                    }
                    Item::Param(p) => {
                        let id = self.prog.params.len() as u32;
                        self.prog.params.push(ParamDef {
                            name: p.name.name.clone(),
                            keys: Vec::new(),
                            ty: Ty::Error,
                            series: false,
                            source: p.source.clone(),
                            doc: p.doc.clone(),
                            versions: Vec::new(),
                            module,
                            span: p.name.span,
                        });
                        self.param_items.push(at);
                        self.define(&p.name, DefKind::Param(id), module);
                    }
                    Item::Series(p) => {
                        let id = self.prog.params.len() as u32;
                        self.prog.params.push(ParamDef {
                            name: p.name.name.clone(),
                            keys: Vec::new(),
                            ty: Ty::Error,
                            series: true,
                            source: p.source.clone(),
                            doc: p.doc.clone(),
                            versions: Vec::new(),
                            module,
                            span: p.name.span,
                        });
                        self.param_items.push(at);
                        self.define(&p.name, DefKind::Param(id), module);
                    }
                    Item::Rule(r) => {
                        self.push_rule(&r.name, module, &r.doc, &r.source, at);
                    }
                    Item::Table(t) => {
                        self.push_rule(&t.name, module, &t.doc, &t.source, at);
                    }
                    Item::Scale(s) => {
                        self.push_rule(&s.name, module, &s.doc, &s.source, at);
                    }
                    Item::Cascade(c) => {
                        self.cascade_rules.insert(self.prog.rules.len() as RuleId);
                        self.push_rule(&c.name, module, &c.doc, &c.source, at);
                    }
                    Item::Output(o) => {
                        let id = self.prog.outputs.len() as u32;
                        self.prog.outputs.push(OutputDef {
                            name: o.name.name.clone(),
                            record: 0,
                            binder: 0,
                            columns: Vec::new(),
                            doc: o.doc.clone(),
                            span: o.name.span,
                        });
                        self.output_items.push(at);
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
        self.names.visible = vec![HashSet::new(); modules.len()];
        let mut own_of: Vec<Vec<String>> = vec![Vec::new(); modules.len()];
        for (n, d) in &self.names.defs {
            if let Some(own) = own_of.get_mut(d.module as usize) {
                own.push(n.clone());
            }
        }
        let mut imported_whole = HashSet::new();
        for (mi, m) in modules.iter().enumerate() {
            for item in &m.ast.items {
                let Item::Import(imp) = item else { continue };
                let Some(target) = self.names.module(&imp.module.name) else {
                    let sugg = self
                        .suggestions
                        .closest(&imp.module.name, || self.names.module_names());
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
                    self.err(d);
                    continue;
                };
                let own = own_of
                    .get(target as usize)
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                match &imp.names {
                    None => {
                        // A module imported twice adds nothing the second time.
                        if imported_whole.insert((mi, target))
                            && let Some(v) = self.names.visible.get_mut(mi)
                        {
                            v.extend(own.iter().cloned());
                        }
                    }
                    Some(list) => {
                        for n in list {
                            let in_target = self
                                .names
                                .defs
                                .get(&n.name)
                                .is_some_and(|d| d.module == target);
                            if in_target {
                                if let Some(v) = self.names.visible.get_mut(mi) {
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
                                if let Some(Def { module, .. }) = self.names.defs.get(&n.name) {
                                    let m = self
                                        .prog
                                        .modules
                                        .get(*module as usize)
                                        .map(|m| m.name.clone())
                                        .unwrap_or_default();
                                    d = d.with_help(format!(
                                        "`{}` is declared in module `{m}`",
                                        n.name
                                    ));
                                } else if let Some(s) = self
                                    .suggestions
                                    .closest(&n.name, || own.iter().map(|s| s.as_str()))
                                    .first()
                                {
                                    d = d.with_help(format!("did you mean `{s}`?"));
                                }
                                self.err(d);
                            }
                        }
                    }
                }
            }
        }
    }

    fn define_separate(&mut self, name: &ast::Ident, what: &str, seen: &mut HashMap<String, Span>) {
        if let Some(prev) = seen.get(&name.name) {
            let here = self.location(*prev);
            self.err(
                Diagnostic::error("E0201", format!("two {what}s are named `{}`", name.name))
                    .with_label(name.span, "defined again here")
                    .with_note(format!("first defined at {here}"))
                    .with_help(format!("give each {what} its own name")),
            );
        } else {
            seen.insert(name.name.clone(), name.span);
        }
    }

    fn push_rule(
        &mut self,
        name: &ast::Ident,
        module: u32,
        doc: &Option<String>,
        source: &Option<String>,
        at: ItemRef,
    ) {
        let id = self.prog.rules.len() as u32;
        self.prog.rules.push(RuleDef {
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
        self.rule_items.push(at);
        self.deps.push(Vec::new());
        self.define(name, DefKind::Rule(id), module);
    }

    fn collect_enum(&mut self, e: &ast::EnumDecl, module: u32) {
        let id = self.prog.enums.len() as u32;
        let mut variants: Vec<VariantDef> = Vec::new();
        if e.variants.len() > 64 {
            self.err(
                Diagnostic::error(
                    "E0208",
                    format!("`{}` has more than 64 variants", e.name.name),
                )
                .with_label(e.name.span, "too many variants")
                .with_help("split the enum into smaller ones"),
            );
        }
        if e.variants.is_empty() {
            self.err(
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
                self.err(
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
                self.err(
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
        self.prog.enums.push(EnumDef {
            name: e.name.name.clone(),
            display: e.display.clone(),
            doc: e.doc.clone(),
            variants,
            span: e.name.span,
        });
        self.define(&e.name, DefKind::Enum(id), module);
    }

    // --------------------------------------------------------------- types

    /// Report a name that is not visible.
    pub fn unknown_name(&mut self, module: u32, name: &ast::Ident, what: &str) {
        match self.names.lookup(module, &name.name) {
            Lookup::NotImported(_, m) => {
                let d = Diagnostic::error(
                    "E0202",
                    format!(
                        "`{}` is declared in module `{m}`, which is not imported here",
                        name.name
                    ),
                )
                .with_label(name.span, "not imported")
                .with_help(format!(
                    "add `import {m}.{{{}}}` at the top of this file",
                    name.name
                ));
                self.err(d);
            }
            _ => {
                let sugg = self
                    .suggestions
                    .closest(&name.name, || self.names.visible_names(module));
                let mut d =
                    Diagnostic::error("E0203", format!("there is no {what} named `{}`", name.name))
                        .with_label(name.span, "unknown name");
                if let Some(s) = sugg.first() {
                    d = d.with_help(format!("did you mean `{s}`?"));
                } else {
                    // A close name in a module not imported here.
                    let far = self
                        .suggestions
                        .closest(&name.name, || self.names.defs.keys().map(|k| k.as_str()));
                    if let Some(s) = far.first()
                        && let Lookup::NotImported(_, m) = self.names.lookup(module, s)
                    {
                        d = d.with_help(format!(
                                "did you mean `{s}`? It is declared in module `{m}`: add `import {m}.{{{s}}}` at the top of this file"
                            ));
                    }
                }
                self.err(d);
            }
        }
    }

    pub fn resolve_type(&mut self, t: &ast::TypeExpr, module: u32) -> Ty {
        let base = match &t.kind {
            ast::TypeKind::Money(p) => Ty::Money(per_of(*p)),
            ast::TypeKind::Bands(p) => Ty::Bands(per_of(*p)),
            ast::TypeKind::List(r) => match self.names.lookup(module, &r.name) {
                Lookup::Found(Def {
                    kind: DefKind::Record(id),
                    ..
                }) => Ty::List(*id),
                Lookup::Found(d) => {
                    let what = d.kind.describe();
                    self.err(
                        Diagnostic::error("E0301", format!("`{}` is not a record", r.name))
                            .with_label(r.span, format!("this is {what}"))
                            .with_help("a list holds the members of a record, e.g. `[Person]`"),
                    );
                    Ty::Error
                }
                _ => {
                    self.unknown_name(module, r, "record");
                    Ty::Error
                }
            },
            ast::TypeKind::Named(n) => match n.name.as_str() {
                "Bool" => Ty::Bool,
                "Int" => Ty::Int,
                "Decimal" => Ty::Decimal,
                "Text" => Ty::Text,
                "Date" => Ty::Date,
                "Days" => Ty::Dur(DurUnit::Days),
                "Months" => Ty::Dur(DurUnit::Months),
                "Years" => Ty::Dur(DurUnit::Years),
                _ => match self.names.lookup(module, &n.name) {
                    Lookup::Found(Def {
                        kind: DefKind::Enum(id),
                        ..
                    }) => {
                        let n = self
                            .prog
                            .enums
                            .get(*id as usize)
                            .map(|e| e.variants.len())
                            .unwrap_or(0);
                        Ty::Enum(*id, full_set(n))
                    }
                    Lookup::Found(Def {
                        kind: DefKind::Record(id),
                        ..
                    }) => Ty::Record(*id),
                    Lookup::Found(d) => {
                        let what = d.kind.describe();
                        self.err(
                            Diagnostic::error("E0301", format!("`{}` is not a type", n.name))
                                .with_label(n.span, format!("this is {what}"))
                                .with_help("types are Bool, Int, Decimal, Money, Text, Date, Days, Months, Years, enums and records"),
                        );
                        Ty::Error
                    }
                    _ => {
                        if let Lookup::NotImported(..) = self.names.lookup(module, &n.name) {
                            self.unknown_name(module, n, "type");
                        } else {
                            let sugg = self.suggestions.closest(&n.name, || {
                                let mut cands: Vec<&str> = TYPE_NAMES.to_vec();
                                cands.extend(self.names.visible_names(module));
                                cands
                            });
                            let mut d = Diagnostic::error(
                                "E0203",
                                format!("there is no type named `{}`", n.name),
                            )
                            .with_label(n.span, "unknown type");
                            if let Some(s) = sugg.first() {
                                d = d.with_help(format!("did you mean `{s}`?"));
                            }
                            self.err(d);
                        }
                        Ty::Error
                    }
                },
            },
        };
        if t.optional {
            Ty::Opt(Box::new(base))
        } else {
            base
        }
    }

    // ---------------------------------------------------------- signatures

    pub fn signatures(&mut self, modules: &[ModuleSource]) {
        // Records: field types and kinds.
        for ri in 0..self.record_items.len() {
            let at = self.record_items[ri];
            let Some(Item::Record(r)) = item(modules, at) else {
                continue;
            };
            let module = at.module as u32;
            let mut fields: Vec<FieldDef> = Vec::new();
            let mut key = None;
            for f in &r.fields {
                if fields.iter().any(|o| o.name == f.name.name) {
                    self.err(
                        Diagnostic::error(
                            "E0209",
                            format!("`{}` has the field `{}` twice", r.name.name, f.name.name),
                        )
                        .with_label(f.name.span, "repeated field")
                        .with_help("remove or rename one of them"),
                    );
                    continue;
                }
                let ty = self.resolve_type(&f.ty, module);
                let kind = match (&ty, &f.by) {
                    (Ty::Record(target), Some(col)) => FieldKind::Link {
                        target: *target,
                        column: col.name.clone(),
                    },
                    (Ty::Record(_), None) => {
                        self.err(
                            Diagnostic::error(
                                "E0310",
                                format!(
                                    "the link `{}` needs the column that holds the key",
                                    f.name.name
                                ),
                            )
                            .with_label(f.ty.span, "a link to another record")
                            .with_help(format!(
                                "write `{}: {} by COLUMN`, naming the column of the key",
                                f.name.name,
                                self.sources.slice(f.ty.span)
                            )),
                        );
                        FieldKind::Column
                    }
                    (Ty::List(of), _) => FieldKind::Members { of: *of },
                    (_, Some(col)) => {
                        self.err(
                            Diagnostic::error("E0310", "`by` only goes with a link to a record")
                                .with_label(col.span, "not a link")
                                .with_help("remove `by …`, or give the field a record type"),
                        );
                        FieldKind::Column
                    }
                    _ => FieldKind::Column,
                };
                if matches!(ty, Ty::Bands(_)) {
                    self.err(
                        Diagnostic::error("E0311", "a record field cannot hold bands")
                            .with_label(f.ty.span, "bands are for parameters")
                            .with_help("declare the bands as a parameter"),
                    );
                }
                if let Ty::Opt(inner) = &ty
                    && !inner.is_scalar()
                {
                    self.err(
                        Diagnostic::error("E0311", "only a value can be optional")
                            .with_label(f.ty.span, "a link or list cannot be optional")
                            .with_help("remove the `?`"),
                    );
                }
                if f.key {
                    if key.is_some() {
                        self.err(
                            Diagnostic::error("E0312", format!("`{}` has two keys", r.name.name))
                                .with_label(f.name.span, "second key")
                                .with_help("a record has at most one key field"),
                        );
                    } else if !matches!(ty, Ty::Text | Ty::Int) {
                        self.err(
                            Diagnostic::error("E0312", "a key must be Text or Int")
                                .with_label(f.ty.span, "not Text or Int")
                                .with_help("ids are usually `Text`"),
                        );
                    } else {
                        key = Some(fields.len() as u32);
                    }
                }
                let range = f.range.as_ref().and_then(|rg| self.field_range(rg, &ty));
                // A members list is drawn by its number of members.
                let synth_ty = if matches!(ty, Ty::List(_)) {
                    Ty::Int
                } else {
                    ty.clone()
                };
                let synth = f.synth.as_ref().and_then(|s| self.synth_spec(s, &synth_ty));
                fields.push(FieldDef {
                    name: f.name.name.clone(),
                    ty,
                    kind,
                    range,
                    synth,
                    doc: f.doc.clone(),
                    span: f.name.span,
                });
            }
            if let Some(rec) = self.prog.records.get_mut(ri) {
                rec.fields = fields;
                rec.key = key;
            }
        }
        // Members lists need exactly one link back.
        for ri in 0..self.prog.records.len() {
            let rec = &self.prog.records[ri];
            let members: Vec<(String, u32, Span)> = rec
                .fields
                .iter()
                .filter_map(|f| match f.kind {
                    FieldKind::Members { of } => Some((f.name.clone(), of, f.span)),
                    _ => None,
                })
                .collect();
            for (name, of, span) in members {
                let links = self
                    .prog
                    .records
                    .get(of as usize)
                    .map(|o| {
                        o.fields
                            .iter()
                            .filter(|f| matches!(f.kind, FieldKind::Link { target, .. } if target as usize == ri))
                            .count()
                    })
                    .unwrap_or(0);
                if links != 1 {
                    let other = self
                        .prog
                        .records
                        .get(of as usize)
                        .map(|o| o.name.clone())
                        .unwrap_or_default();
                    let this = self.prog.records[ri].name.clone();
                    self.err(
                        Diagnostic::error(
                            "E0313",
                            format!("`{name}` lists the `{other}` records that link to `{this}`, but {links} fields of `{other}` do"),
                        )
                        .with_label(span, "members need exactly one link back")
                        .with_help(format!("give `{other}` one field `{}: {this} by COLUMN`", this.to_lowercase())),
                    );
                }
            }
        }
        // Parameters.
        for pi in 0..self.param_items.len() {
            let at = self.param_items[pi];
            let module = at.module as u32;
            match item(modules, at) {
                Some(Item::Param(p)) => {
                    let mut keys = Vec::new();
                    for ks in &p.keys {
                        if let Some(k) = self.key_set(ks, module) {
                            keys.push(k);
                        }
                    }
                    let ty = self.resolve_type(&p.ty, module);
                    let ty = self.param_type(ty, &p.ty);
                    if let Some(pd) = self.prog.params.get_mut(pi) {
                        pd.keys = keys;
                        pd.ty = ty;
                    }
                }
                Some(Item::Series(s)) => {
                    let ty = self.resolve_type(&s.ty, module);
                    let ty = self.param_type(ty, &s.ty);
                    if matches!(ty, Ty::Bands(_)) {
                        self.err(
                            Diagnostic::error(
                                "E0311",
                                "a series holds one value per month, not bands",
                            )
                            .with_label(s.ty.span, "bands here")
                            .with_help("declare bands with `param`"),
                        );
                    }
                    if let Some(pd) = self.prog.params.get_mut(pi) {
                        pd.ty = ty;
                    }
                }
                _ => {}
            }
        }
        // Rule signatures.
        for ri in 0..self.rule_items.len() {
            let at = self.rule_items[ri];
            let module = at.module as u32;
            let (params, ret, is_scale, name_span): (&[ast::Param], &ast::TypeExpr, bool, Span) =
                match item(modules, at) {
                    Some(Item::Rule(r)) => (&r.params, &r.ret, false, r.name.span),
                    Some(Item::Table(t)) => (&t.params, &t.ret, false, t.name.span),
                    Some(Item::Cascade(c)) => (&c.params, &c.ret, false, c.name.span),
                    Some(Item::Scale(s)) => (&s.params, &s.ret, true, s.name.span),
                    _ => continue,
                };
            let ret_ty = self.resolve_type(ret, module);
            if ret_ty == Ty::Text {
                self.err(
                    Diagnostic::error("E0314", "a rule cannot compute text")
                        .with_label(ret.span, "text")
                        .with_help("Weft computes numbers, amounts, dates, true/false and categories (enums); copy ids from fields in an output instead"),
                );
            } else if !ret_ty.is_scalar() && !ret_ty.is_error() {
                let shown = self.prog.show(&ret_ty);
                self.err(
                    Diagnostic::error("E0314", format!("a rule cannot return `{shown}`"))
                        .with_label(ret.span, "not a single value")
                        .with_help("rules return Bool, Int, Decimal, Money, Text, Date, a duration or an enum"),
                );
            }
            let mut param = None;
            if !is_scale {
                if params.len() > 1 {
                    self.err(
                        Diagnostic::error("E0315", "a rule takes at most one record")
                            .with_label(params[1].name.span, "a second parameter")
                            .with_help("read other values through the record, e.g. `p.household`"),
                    );
                }
                if let Some(p) = params.first() {
                    let t = self.resolve_type(&p.ty, module);
                    match t {
                        Ty::Record(rid) => {
                            let l = self.new_local(&p.name.name, Ty::Record(rid));
                            param = Some((l, rid));
                        }
                        Ty::Error => {}
                        other => {
                            let shown = self.prog.show(&other);
                            self.err(
                                Diagnostic::error(
                                    "E0315",
                                    format!("a rule is defined for a record, not for `{shown}`"),
                                )
                                .with_label(p.ty.span, "not a record")
                                .with_help("use a `scale` for a function of plain values, or a `let` inside a rule"),
                            );
                        }
                    }
                }
            } else if params.is_empty() {
                self.err(
                    Diagnostic::error("E0315", "a scale needs the amount it applies to")
                        .with_label(name_span, "no parameters")
                        .with_help("write `scale name(amount: Money per year): Money per year`"),
                );
            } else {
                let mut locals = Vec::new();
                for (i, p) in params.iter().enumerate() {
                    let t = self.resolve_type(&p.ty, module);
                    let ok = if i == 0 {
                        matches!(
                            t,
                            Ty::Int | Ty::Decimal | Ty::Money(_) | Ty::Dur(_) | Ty::Error
                        )
                    } else {
                        t.is_scalar()
                    };
                    if !ok {
                        let shown = self.prog.show(&t);
                        self.err(
                            Diagnostic::error("E0315", format!("a scale cannot take `{shown}`"))
                                .with_label(
                                    p.ty.span,
                                    if i == 0 {
                                        "the amount must be a number or money"
                                    } else {
                                        "not a plain value"
                                    },
                                ),
                        );
                    }
                    locals.push(self.new_local(&p.name.name, t));
                }
                self.scale_params.insert(ri as RuleId, locals);
            }
            if let Some(rd) = self.prog.rules.get_mut(ri) {
                rd.ret = ret_ty;
                rd.param = param;
            }
        }
        // Outputs: their records.
        for oi in 0..self.output_items.len() {
            let at = self.output_items[oi];
            let Some(Item::Output(o)) = item(modules, at) else {
                continue;
            };
            let module = at.module as u32;
            match self.names.lookup(module, &o.record.name) {
                Lookup::Found(Def {
                    kind: DefKind::Record(rid),
                    ..
                }) => {
                    let rid = *rid;
                    let l = self.new_local(&o.binder.name, Ty::Record(rid));
                    if let Some(od) = self.prog.outputs.get_mut(oi) {
                        od.record = rid;
                        od.binder = l;
                    }
                }
                _ => {
                    self.unknown_name(module, &o.record, "record");
                    if let Some(od) = self.prog.outputs.get_mut(oi) {
                        od.record = u32::MAX;
                    }
                }
            }
        }
    }

    fn param_type(&mut self, ty: Ty, t: &ast::TypeExpr) -> Ty {
        match &ty {
            Ty::Bool
            | Ty::Int
            | Ty::Decimal
            | Ty::Money(_)
            | Ty::Date
            | Ty::Dur(_)
            | Ty::Enum(..)
            | Ty::Bands(_)
            | Ty::Error => ty,
            other => {
                let shown = self.prog.show(other);
                self.err(
                    Diagnostic::error("E0311", format!("a parameter cannot hold `{shown}`"))
                        .with_label(t.span, "not a parameter type")
                        .with_help("parameters hold Bool, Int, Decimal, Money, Date, durations, enums or bands"),
                );
                Ty::Error
            }
        }
    }

    /// `Enum except a, b` → (enum, set).
    pub fn key_set(&mut self, ks: &ast::KeySet, module: u32) -> Option<(u32, u64)> {
        let eid = match self.names.lookup(module, &ks.enum_name.name) {
            Lookup::Found(Def {
                kind: DefKind::Enum(id),
                ..
            }) => *id,
            Lookup::Found(d) => {
                let what = d.kind.describe();
                self.err(
                    Diagnostic::error("E0316", format!("`{}` is not an enum", ks.enum_name.name))
                        .with_label(ks.enum_name.span, format!("this is {what}"))
                        .with_help("parameters are keyed by enums, e.g. `[Region]`"),
                );
                return None;
            }
            _ => {
                self.unknown_name(module, &ks.enum_name, "enum");
                return None;
            }
        };
        let e = self.prog.enums.get(eid as usize)?;
        let mut set = full_set(e.variants.len());
        let mut bad = Vec::new();
        for x in &ks.except {
            match e.variants.iter().position(|v| v.name == x.name) {
                Some(i) => set &= !(1u64 << i),
                None => bad.push(x.clone()),
            }
        }
        let ename = e.name.clone();
        let names: Vec<String> = e.variants.iter().map(|v| v.name.clone()).collect();
        for x in bad {
            let sugg = self
                .suggestions
                .closest(&x.name, || names.iter().map(|s| s.as_str()));
            let mut d = Diagnostic::error(
                "E0303",
                format!("`{}` is not a variant of `{ename}`", x.name),
            )
            .with_label(x.span, "unknown variant");
            if let Some(s) = sugg.first() {
                d = d.with_help(format!("did you mean `{s}`?"));
            }
            self.err(d);
        }
        if set == 0 {
            self.err(
                Diagnostic::error("E0316", "this key set leaves no key")
                    .with_label(ks.span, "every variant is excepted")
                    .with_help("remove some of the exceptions"),
            );
        }
        Some((eid, set))
    }

    /// A constant literal checked against a type: the i64 it stands for.
    pub fn const_value(&mut self, lit: &ast::Lit, ty: &Ty) -> Option<i64> {
        use ast::LitKind as L;
        let got = match (&lit.kind, ty) {
            (L::Int(v), Ty::Int) => Some(*v),
            (L::Int(v), Ty::Decimal) => v.checked_mul(weft_syntax::num::MICRO),
            (L::Int(v), Ty::Dur(_)) => Some(*v),
            (L::Decimal(v), Ty::Decimal) => Some(*v),
            (L::Money(v), Ty::Money(_)) => Some(*v),
            (L::Date(v), Ty::Date) => Some(*v as i64),
            (L::Bool(b), Ty::Bool) => Some(*b as i64),
            (L::Duration(v, u), Ty::Dur(w)) if dur_unit(*u) == *w => Some(*v),
            _ => None,
        };
        if got.is_none() {
            let shown = self.prog.show(ty);
            let hint = match ty {
                Ty::Money(_) => "write an amount like `¥1,234.50`",
                Ty::Decimal => "write a decimal like `0.35` or `35%`",
                Ty::Date => "write a date like `2019-07-01`",
                Ty::Dur(DurUnit::Months) => "write a number of months like `12`",
                _ => "write a value of that type",
            };
            self.err(
                Diagnostic::error("E0317", format!("this value is not a `{shown}`"))
                    .with_label(lit.span, format!("expected `{shown}`"))
                    .with_help(hint),
            );
        }
        got
    }

    /// A word (an enum variant, `true`/`false`) as a value of type `ty`.
    pub fn word_value(&mut self, w: &ast::Ident, ty: &Ty) -> Option<i64> {
        match ty {
            Ty::Enum(e, _) => {
                let en = self.prog.enums.get(*e as usize)?;
                match en.variants.iter().position(|v| v.name == w.name) {
                    Some(i) => Some(i as i64),
                    None => {
                        let ename = en.name.clone();
                        let names: Vec<String> =
                            en.variants.iter().map(|v| v.name.clone()).collect();
                        let sugg = self
                            .suggestions
                            .closest(&w.name, || names.iter().map(|s| s.as_str()));
                        let mut d = Diagnostic::error(
                            "E0303",
                            format!("`{}` is not a variant of `{ename}`", w.name),
                        )
                        .with_label(w.span, "unknown variant");
                        d = match sugg.first() {
                            Some(s) => d.with_help(format!("did you mean `{s}`?")),
                            None => d.with_help(format!("the variants are {}", names.join(", "))),
                        };
                        self.err(d);
                        None
                    }
                }
            }
            Ty::Bool if w.name == "true" || w.name == "false" => Some((w.name == "true") as i64),
            _ => {
                let shown = self.prog.show(ty);
                self.err(
                    Diagnostic::error("E0317", format!("`{}` is not a `{shown}`", w.name))
                        .with_label(w.span, format!("expected `{shown}`")),
                );
                None
            }
        }
    }

    fn field_range(&mut self, rg: &ast::RangeLit, ty: &Ty) -> Option<(Option<i64>, Option<i64>)> {
        if !ty.is_ordered() {
            let shown = self.prog.show(ty);
            self.err(
                Diagnostic::error("E0318", format!("a `{shown}` field cannot have a range"))
                    .with_label(rg.span, "ranges need numbers, amounts or dates"),
            );
            return None;
        }
        let lo = self.const_value(&rg.lo, ty)?;
        let hi = match &rg.hi {
            Some(h) => {
                let v = self.const_value(h, ty)?;
                Some(if rg.inclusive { v } else { v.checked_sub(1)? })
            }
            None => None,
        };
        if let Some(h) = hi
            && h < lo
        {
            self.err(
                Diagnostic::error("E0318", "this range is empty")
                    .with_label(rg.span, "the upper end is below the lower end"),
            );
            return None;
        }
        Some((Some(lo), hi))
    }

    fn synth_spec(&mut self, s: &ast::Synth, ty: &Ty) -> Option<Vec<(SynthAlt, u64)>> {
        let alts: Vec<(&ast::SynthAlt, u64)> = match s {
            ast::Synth::One(a) => vec![(a, 1)],
            ast::Synth::Weighted(ws) => ws.iter().map(|(a, w, _)| (a, *w)).collect(),
        };
        let inner = match ty {
            Ty::Opt(t) => (**t).clone(),
            t => t.clone(),
        };
        let mut out = Vec::new();
        for (a, w) in alts {
            let alt = match a {
                ast::SynthAlt::Absent(span) => {
                    if !matches!(ty, Ty::Opt(_)) {
                        self.err(
                            Diagnostic::error("E0319", "only an optional field can be absent")
                                .with_label(*span, "this field always has a value"),
                        );
                        continue;
                    }
                    SynthAlt::Absent
                }
                ast::SynthAlt::Value(l) => match (&l.kind, &inner) {
                    (ast::LitKind::Bool(b), Ty::Bool) => SynthAlt::Value(*b as i64),
                    _ => SynthAlt::Value(self.const_value(l, &inner)?),
                },
                ast::SynthAlt::Word(w) => SynthAlt::Value(self.word_value(w, &inner)?),
                ast::SynthAlt::Range(r) => {
                    let lo = self.const_value(&r.lo, &inner)?;
                    let hi = match &r.hi {
                        Some(h) => {
                            let v = self.const_value(h, &inner)?;
                            if r.inclusive { v } else { v.checked_sub(1)? }
                        }
                        None => {
                            self.err(
                                Diagnostic::error("E0319", "a generated range needs an upper end")
                                    .with_label(r.span, "open range"),
                            );
                            continue;
                        }
                    };
                    if hi < lo {
                        self.err(
                            Diagnostic::error("E0319", "this range is empty")
                                .with_label(r.span, "the upper end is below the lower end"),
                        );
                        continue;
                    }
                    SynthAlt::Range(lo, hi)
                }
            };
            out.push((alt, w));
        }
        Some(out)
    }

    // -------------------------------------------------------------- bodies

    pub fn param_values(&mut self, modules: &[ModuleSource], files: &[ParamSource]) {
        crate::params::load(self, modules, files);
    }

    pub fn bodies(&mut self, modules: &[ModuleSource]) {
        crate::typeck::bodies(self, modules);
    }

    pub fn analyses(&mut self) {
        crate::tables::analyse(self);
        self.cycles();
    }

    /// Report every dependency cycle among rules, naming it.
    fn cycles(&mut self) {
        let n = self.deps.len();
        // Tarjan's strongly connected components, iteratively.
        let mut index = vec![usize::MAX; n];
        let mut low = vec![0usize; n];
        let mut on_stack = vec![false; n];
        let mut stack: Vec<usize> = Vec::new();
        let mut next_index = 0usize;
        let mut sccs: Vec<Vec<usize>> = Vec::new();
        for root in 0..n {
            if index[root] != usize::MAX {
                continue;
            }
            let mut work: Vec<(usize, usize)> = vec![(root, 0)];
            while let Some(&mut (v, ref mut ei)) = work.last_mut() {
                if *ei == 0 && index[v] == usize::MAX {
                    index[v] = next_index;
                    low[v] = next_index;
                    next_index += 1;
                    stack.push(v);
                    on_stack[v] = true;
                }
                let edges = &self.deps[v];
                if *ei < edges.len() {
                    let w = edges[*ei].0 as usize;
                    *ei += 1;
                    if w >= n {
                        continue;
                    }
                    if index[w] == usize::MAX {
                        work.push((w, 0));
                    } else if on_stack[w] {
                        low[v] = low[v].min(index[w]);
                    }
                } else {
                    work.pop();
                    if let Some(&(parent, _)) = work.last() {
                        low[parent] = low[parent].min(low[v]);
                    }
                    if low[v] == index[v] {
                        let mut comp = Vec::new();
                        while let Some(w) = stack.pop() {
                            on_stack[w] = false;
                            comp.push(w);
                            if w == v {
                                break;
                            }
                        }
                        let self_loop = self.deps[v].iter().any(|(t, _)| *t as usize == v);
                        if comp.len() > 1 || self_loop {
                            sccs.push(comp);
                        }
                    }
                }
            }
        }
        for comp in sccs {
            // Walk the cycle from its first-declared rule.
            let members: HashSet<usize> = comp.iter().copied().collect();
            let start = comp.iter().copied().min().unwrap_or(0);
            let mut path = vec![start];
            let mut spans = Vec::new();
            let mut cur = start;
            loop {
                let next = self.deps[cur]
                    .iter()
                    .find(|(t, _)| {
                        members.contains(&(*t as usize))
                            && (*t as usize == start || !path.contains(&(*t as usize)))
                    })
                    .or_else(|| {
                        self.deps[cur]
                            .iter()
                            .find(|(t, _)| members.contains(&(*t as usize)))
                    });
                let Some(&(t, sp)) = next else { break };
                spans.push((cur, sp));
                let t = t as usize;
                if t == start || path.len() > members.len() {
                    path.push(t);
                    break;
                }
                path.push(t);
                cur = t;
            }
            let names: Vec<String> = path
                .iter()
                .map(|r| {
                    format!(
                        "`{}`",
                        self.prog
                            .rules
                            .get(*r)
                            .map(|r| r.name.as_str())
                            .unwrap_or("?")
                    )
                })
                .collect();
            let first_name = self
                .prog
                .rules
                .get(start)
                .map(|r| r.name.clone())
                .unwrap_or_default();
            let mut d = Diagnostic::error(
                "E0501",
                format!("`{first_name}` depends on itself: {}", names.join(" → ")),
            );
            if let Some(&(_, sp)) = spans.first() {
                let to = path
                    .get(1)
                    .and_then(|r| self.prog.rules.get(*r))
                    .map(|r| r.name.clone())
                    .unwrap_or_default();
                d = d.with_label(sp, format!("`{first_name}` uses `{to}` here"));
            }
            for &(r, sp) in spans.iter().skip(1) {
                let from = self
                    .prog
                    .rules
                    .get(r)
                    .map(|r| r.name.clone())
                    .unwrap_or_default();
                if sp.file == spans[0].1.file {
                    d = d.with_label(sp, format!("`{from}` continues the cycle here"));
                } else {
                    let loc = self.location(sp);
                    d = d.with_note(format!("{loc}: `{from}` continues the cycle"));
                }
            }
            d = d.with_help("a rule may not depend on its own value; break the cycle by computing one of them without the other");
            self.err(d);
            for r in comp {
                if let Some(rd) = self.prog.rules.get_mut(r) {
                    rd.kind = RuleKind::Broken;
                }
            }
        }
    }
}

pub fn per_of(p: Option<ast::Period>) -> Per {
    match p {
        None => Per::Once,
        Some(ast::Period::Month) => Per::Month,
        Some(ast::Period::Year) => Per::Year,
    }
}

pub fn dur_unit(u: ast::DurationUnit) -> DurUnit {
    match u {
        ast::DurationUnit::Days => DurUnit::Days,
        ast::DurationUnit::Months => DurUnit::Months,
        ast::DurationUnit::Years => DurUnit::Years,
    }
}

pub fn item(modules: &[ModuleSource], at: ItemRef) -> Option<&Item> {
    modules.get(at.module)?.ast.items.get(at.item)
}
