//! The semantic model: what the checker learnt about the text, to query by
//! position. A language server and `weft doc` read it; nothing in checking
//! depends on it.
//!
//! While the phases run, a [`Recorder`] in the checker's context notes
//! every name it resolves (the span of the occurrence and the declaration
//! it stands for, a [`Target`]), every local a name in the text declares,
//! the type of every expression checked, and the extent of every
//! declaration. [`SemanticModel::build`] then sorts these by position and
//! joins them with the typed program:
//! - every name occurrence → its definition ([`SemanticModel::definition_at`]),
//! - every expression → its type, with the period of money
//!   ([`SemanticModel::type_at`]),
//! - every item (enum, record, parameter, rule, output, programme,
//!   assertion) → its doc comment, citation (`source`) and the
//!   declarations it uses ([`SemanticModel::items`]), and the other way,
//!   the items that use a declaration ([`SemanticModel::dependents`]),
//! - every declaration → its references ([`SemanticModel::references`]).
//!
//! Offsets are byte offsets into a file of the [`SourceMap`] the program
//! was checked with.
//!
//! [`SourceMap`]: weft_syntax::SourceMap

use crate::hir::{FieldId, LocalId, OutputId, ParamId, Program, RuleId};
use crate::ids::ModuleId;
use crate::names::DefKind;
use crate::ty::{EnumId, RecordId, Ty};
use std::collections::{BTreeSet, HashMap};
use weft_syntax::{FileId, Span};

/// A declaration a name can stand for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    Enum(EnumId),
    /// A variant of an enum, by its position.
    Variant(EnumId, u32),
    Record(RecordId),
    Field(RecordId, FieldId),
    Param(ParamId),
    Rule(RuleId),
    /// An output, by its position in [`Program::outputs`].
    Output(OutputId),
    /// A column of an output, by its position in the output.
    Column(OutputId, u32),
    /// A programme, by its position in [`Program::programmes`].
    Programme(u32),
    /// An assertion, by its position in [`Program::asserts`].
    Assert(u32),
    /// A module (its file), by its position in the list of modules given
    /// to [`crate::check`].
    Module(ModuleId),
    /// A local: a rule's parameter, a `let`, a binding of `match`, of a
    /// comprehension or of an output.
    Local(LocalId),
}

impl Target {
    fn of(kind: DefKind) -> Target {
        match kind {
            DefKind::Enum(e) => Target::Enum(e),
            DefKind::Record(r) => Target::Record(r),
            DefKind::Param(p) => Target::Param(p),
            DefKind::Rule(r) => Target::Rule(r),
            DefKind::Output(o) => Target::Output(o),
        }
    }

    /// Whether this is a top-level declaration (an item), not a part of
    /// one or a local.
    pub fn is_item(self) -> bool {
        !matches!(
            self,
            Target::Variant(..)
                | Target::Field(..)
                | Target::Column(..)
                | Target::Module(_)
                | Target::Local(_)
        )
    }
}

/// What the phases note for the model, in the order they find it.
#[derive(Debug, Default)]
pub(crate) struct Recorder {
    refs: Vec<(Span, Target)>,
    locals: Vec<(LocalId, Span)>,
    types: Vec<(Span, Ty)>,
    /// Declarations and the whole text each covers; a target may have
    /// several (a rule and its exceptions).
    extents: Vec<(Target, Span)>,
    /// The start of each module's file.
    modules: Vec<(ModuleId, Span)>,
}

impl Recorder {
    /// A name that stands for a top-level declaration.
    pub fn refer(&mut self, span: Span, kind: DefKind) {
        self.refs.push((span, Target::of(kind)));
    }

    /// A name that stands for a field, a variant or a local.
    pub fn refer_to(&mut self, span: Span, target: Target) {
        self.refs.push((span, target));
    }

    /// A module and its file.
    pub fn module(&mut self, m: ModuleId, file: weft_syntax::FileId) {
        self.modules.push((m, Span::new(file, 0, 0)));
    }

    /// The name that declares a local.
    pub fn define_local(&mut self, l: LocalId, span: Span) {
        self.locals.push((l, span));
    }

    /// The type of the expression at `span`.
    pub fn typed(&mut self, span: Span, ty: &Ty) {
        self.types.push((span, ty.clone()));
    }

    /// Text that belongs to a declaration: the declaration itself, or an
    /// exception to a rule.
    pub fn extent(&mut self, target: Target, span: Span) {
        self.extents.push((target, span));
    }
}

/// A declaration's name and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Definition {
    pub target: Target,
    /// The name in the declaration.
    pub span: Span,
}

/// An item of the policy: what `weft doc` lists and hover describes.
#[derive(Debug, Clone)]
pub struct ItemInfo {
    pub target: Target,
    pub name: String,
    /// "rule", "parameter", …
    pub kind: &'static str,
    /// The name in the declaration.
    pub span: Span,
    pub doc: Option<String>,
    /// The citation (`source "…"`).
    pub source: Option<String>,
    /// The items it uses (each once, by kind, then in declaration order).
    pub uses: Vec<Target>,
}

/// What a hover shows: the text under the cursor and a description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hover {
    pub span: Span,
    /// Lines of plain text: a first line naming the thing and its type,
    /// then its doc comment and citation where it has them.
    pub text: String,
}

/// The semantic model of a checked policy. See the [module](self) doc.
#[derive(Debug, Default, Clone)]
pub struct SemanticModel {
    /// Name occurrences, sorted by file and start.
    refs: Vec<(Span, Target)>,
    /// Typed expressions, sorted by file and start.
    types: Vec<(Span, Ty)>,
    /// The name that declares each target.
    defs: HashMap<Target, Span>,
    items: Vec<ItemInfo>,
    item_of: HashMap<Target, usize>,
}

fn key(s: &Span) -> (FileId, u32, u32) {
    (s.file, s.start, s.end)
}

fn covers(s: &Span, file: FileId, offset: usize) -> bool {
    s.file == file && (s.start as usize) <= offset && offset < s.end as usize
}

impl SemanticModel {
    /// Join what was recorded with the typed program.
    pub(crate) fn build(rec: Recorder, prog: &Program) -> SemanticModel {
        let Recorder {
            mut refs,
            locals,
            mut types,
            extents,
            modules,
        } = rec;
        refs.sort_by_key(|(s, _)| key(s));
        refs.dedup();
        types.sort_by_key(|(s, _)| key(s));
        let mut defs: HashMap<Target, Span> = locals
            .into_iter()
            .map(|(l, s)| (Target::Local(l), s))
            .chain(modules.into_iter().map(|(m, s)| (Target::Module(m), s)))
            .collect();
        let mut items = Vec::new();
        let mut item = |target: Target,
                        kind: &'static str,
                        name: &str,
                        span: Span,
                        doc: &Option<String>,
                        source: &Option<String>| {
            items.push(ItemInfo {
                target,
                name: name.to_string(),
                kind,
                span,
                doc: doc.clone(),
                source: source.clone(),
                uses: Vec::new(),
            });
        };
        for (id, e) in prog.enums.iter_enumerated() {
            item(Target::Enum(id), "enum", &e.name, e.span, &e.doc, &None);
            for (v, vd) in e.variants.iter().enumerate() {
                defs.insert(Target::Variant(id, v as u32), vd.span);
            }
        }
        for (id, r) in prog.records.iter_enumerated() {
            item(Target::Record(id), "record", &r.name, r.span, &r.doc, &None);
            for (f, fd) in r.fields.iter_enumerated() {
                defs.insert(Target::Field(id, f), fd.span);
            }
        }
        for (i, p) in prog.params.iter_enumerated() {
            let kind = if p.series { "series" } else { "parameter" };
            let t = Target::Param(i);
            item(t, kind, &p.name, p.span, &p.doc, &p.source);
        }
        for (i, r) in prog.rules.iter_enumerated() {
            let kind = match r.kind {
                crate::hir::RuleKind::Table(_) => "table",
                crate::hir::RuleKind::Cascade(_) => "cascade",
                crate::hir::RuleKind::Scale(_) => "scale",
                _ => "rule",
            };
            let t = Target::Rule(i);
            item(t, kind, &r.name, r.span, &r.doc, &r.source);
        }
        for (i, o) in prog.outputs.iter_enumerated() {
            let t = Target::Output(i);
            item(t, "output", &o.name, o.span, &o.doc, &None);
            for (c, cd) in o.columns.iter().enumerate() {
                defs.insert(Target::Column(i, c as u32), cd.span);
            }
        }
        for (i, p) in prog.programmes.iter().enumerate() {
            let t = Target::Programme(i as u32);
            item(t, "programme", &p.name, p.span, &p.doc, &p.source);
        }
        for (i, a) in prog.asserts.iter().enumerate() {
            let t = Target::Assert(i as u32);
            item(t, "assertion", &a.name, a.span, &a.doc, &a.source);
        }
        let item_of: HashMap<Target, usize> = items
            .iter()
            .enumerate()
            .map(|(i, it)| (it.target, i))
            .collect();
        for it in &items {
            defs.insert(it.target, it.span);
        }
        // What each item uses: the items named inside its extents.
        for (target, extent) in &extents {
            let Some(&i) = item_of.get(target) else {
                continue;
            };
            let start = refs.partition_point(|(s, _)| key(s) < (extent.file, extent.start, 0));
            let mut uses: BTreeSet<Target> = BTreeSet::new();
            for (s, t) in refs.iter().skip(start) {
                if s.file != extent.file || s.start >= extent.end {
                    break;
                }
                if t.is_item() && t != target {
                    uses.insert(*t);
                }
            }
            if let Some(it) = items.get_mut(i) {
                for u in uses {
                    if !it.uses.contains(&u) {
                        it.uses.push(u);
                    }
                }
            }
        }
        for it in &mut items {
            it.uses.sort();
        }
        SemanticModel {
            refs,
            types,
            defs,
            items,
            item_of,
        }
    }

    /// The declaration a name at this offset stands for, or the one it
    /// declares.
    pub fn target_at(&self, file: FileId, offset: usize) -> Option<Target> {
        let end = self
            .refs
            .partition_point(|(s, _)| (s.file, s.start as usize) <= (file, offset));
        let used = self.refs[..end]
            .iter()
            .rev()
            .take_while(|(s, _)| s.file == file)
            .filter(|(s, _)| covers(s, file, offset))
            .min_by_key(|(s, _)| s.len())
            .map(|(_, t)| *t);
        used.or_else(|| {
            self.defs
                .iter()
                .filter(|(_, s)| covers(s, file, offset))
                .min_by_key(|(t, s)| (s.len(), **t))
                .map(|(t, _)| *t)
        })
    }

    /// Where the name at this offset is declared.
    pub fn definition_at(&self, file: FileId, offset: usize) -> Option<Definition> {
        let target = self.target_at(file, offset)?;
        let span = self.definition(target)?;
        Some(Definition { target, span })
    }

    /// The name that declares a target.
    pub fn definition(&self, target: Target) -> Option<Span> {
        self.defs.get(&target).copied()
    }

    /// Every name occurrence and what it stands for, by position (for
    /// semantic highlighting).
    pub fn occurrences(&self) -> impl Iterator<Item = (Span, Target)> + '_ {
        self.refs.iter().copied()
    }

    /// Every place a target is named, in order (not its declaration).
    pub fn references(&self, target: Target) -> Vec<Span> {
        self.refs
            .iter()
            .filter(|(_, t)| *t == target)
            .map(|(s, _)| *s)
            .collect()
    }

    /// The type of the innermost expression at this offset, with its span.
    pub fn type_at(&self, file: FileId, offset: usize) -> Option<(Span, &Ty)> {
        let end = self
            .types
            .partition_point(|(s, _)| (s.file, s.start as usize) <= (file, offset));
        self.types[..end]
            .iter()
            .rev()
            .take_while(|(s, _)| s.file == file)
            .filter(|(s, _)| covers(s, file, offset))
            .min_by_key(|(s, _)| s.len())
            .map(|(s, t)| (*s, t))
    }

    /// Every item, enums first, then records, parameters, rules, outputs,
    /// programmes and assertions, each in declaration order.
    pub fn items(&self) -> &[ItemInfo] {
        &self.items
    }

    /// The item a target names.
    pub fn item(&self, target: Target) -> Option<&ItemInfo> {
        self.items.get(*self.item_of.get(&target)?)
    }

    /// The items that use a target.
    pub fn dependents(&self, target: Target) -> Vec<Target> {
        self.items
            .iter()
            .filter(|it| it.uses.contains(&target))
            .map(|it| it.target)
            .collect()
    }

    /// The name of a target and what it is, for people:
    /// "rule `dibao`: Money per month".
    pub fn describe(&self, prog: &Program, target: Target) -> String {
        let ty = |t: &Ty| prog.show(t);
        match target {
            Target::Enum(e) => {
                let en = prog.enums.get(e);
                let name = en.map(|e| e.name.as_str()).unwrap_or_default();
                let vs: Vec<&str> = en
                    .map(|e| e.variants.iter().map(|v| v.name.as_str()).collect())
                    .unwrap_or_default();
                format!("enum `{name}`: {}", vs.join(", "))
            }
            Target::Variant(e, v) => {
                let en = prog.enums.get(e);
                let name = en.map(|e| e.name.as_str()).unwrap_or_default();
                let var = en.and_then(|e| e.variants.get(v as usize));
                match var {
                    Some(var) => {
                        format!("variant `{}` of `{name}` (code `{}`)", var.name, var.code)
                    }
                    None => format!("a variant of `{name}`"),
                }
            }
            Target::Field(r, f) => {
                let rec = prog.records.get(r);
                let fd = rec.and_then(|x| x.fields.get(f));
                match (rec, fd) {
                    (Some(rec), Some(fd)) => {
                        format!("field `{}.{}`: {}", rec.name, fd.name, ty(&fd.ty))
                    }
                    _ => "a field".to_string(),
                }
            }
            Target::Param(p) => match prog.params.get(p) {
                Some(pd) => {
                    let keys: Vec<&str> = pd
                        .keys
                        .iter()
                        .filter_map(|(e, _)| prog.enums.get(*e).map(|e| e.name.as_str()))
                        .collect();
                    let keyed = if keys.is_empty() {
                        String::new()
                    } else {
                        format!("[{}]", keys.join(", "))
                    };
                    let what = if pd.series { "series" } else { "parameter" };
                    let n = pd.versions.len();
                    format!(
                        "{what} `{}{keyed}`: {} ({n} version{})",
                        pd.name,
                        ty(&pd.ty),
                        if n == 1 { "" } else { "s" }
                    )
                }
                None => "a parameter".to_string(),
            },
            Target::Rule(r) => match prog.rules.get(r) {
                Some(rd) => {
                    let kind = self.item(target).map(|i| i.kind).unwrap_or("rule");
                    let of = rd
                        .param
                        .and_then(|(_, rec)| prog.records.get(rec))
                        .map(|rec| format!(" of a `{}`", rec.name))
                        .unwrap_or_default();
                    format!("{kind} `{}`{of}: {}", rd.name, ty(&rd.ret))
                }
                None => "a rule".to_string(),
            },
            Target::Column(o, c) => {
                let od = prog.outputs.get(o);
                let cd = od.and_then(|od| od.columns.get(c as usize));
                match (od, cd) {
                    (Some(od), Some(cd)) => {
                        format!("column `{}` of `{}`: {}", cd.name, od.name, ty(&cd.expr.ty))
                    }
                    _ => "a column".to_string(),
                }
            }
            Target::Record(_) | Target::Output(_) | Target::Programme(_) | Target::Assert(_) => {
                match self.item(target) {
                    Some(it) => format!("{} `{}`", it.kind, it.name),
                    None => "a declaration".to_string(),
                }
            }
            Target::Module(_) => {
                let file = self.definition(target).map(|s| s.file);
                let md = prog.modules.iter().find(|m| Some(m.file) == file);
                format!(
                    "module `{}`",
                    md.map(|m| m.name.as_str()).unwrap_or_default()
                )
            }
            Target::Local(l) => match prog.locals.get(l) {
                Some(li) => format!("local `{}`: {}", li.name, ty(&li.ty)),
                None => "a local".to_string(),
            },
        }
    }

    /// What a hover at this offset shows: for a name, what it stands for,
    /// with its doc comment and citation; elsewhere in an expression, its
    /// type.
    pub fn hover(&self, prog: &Program, file: FileId, offset: usize) -> Option<Hover> {
        if let Some(target) = self.target_at(file, offset) {
            let span = self
                .refs
                .iter()
                .filter(|(s, t)| *t == target && covers(s, file, offset))
                .map(|(s, _)| *s)
                .min_by_key(|s| s.len())
                .or_else(|| self.definition(target))?;
            let mut text = self.describe(prog, target);
            let (doc, source) = match self.item(target) {
                Some(it) => (it.doc.clone(), it.source.clone()),
                None => (self.part_doc(prog, target), None),
            };
            if let Some(doc) = doc {
                text.push_str("\n\n");
                text.push_str(doc.trim());
            }
            if let Some(source) = source {
                text.push_str("\n\nsource: ");
                text.push_str(&source);
            }
            return Some(Hover { span, text });
        }
        let (span, ty) = self.type_at(file, offset)?;
        Some(Hover {
            span,
            text: prog.show(ty),
        })
    }

    /// The doc comment of a field or a variant.
    fn part_doc(&self, prog: &Program, target: Target) -> Option<String> {
        match target {
            Target::Field(r, f) => prog.records.get(r)?.fields.get(f)?.doc.clone(),
            Target::Variant(e, v) => prog.enums.get(e)?.variants.get(v as usize)?.doc.clone(),
            _ => None,
        }
    }
}
