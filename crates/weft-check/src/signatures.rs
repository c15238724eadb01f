//! Phase 2, *signatures*: the types of record fields, parameters and
//! rules, the records of outputs, and the parameters of scales.

use crate::ModuleSource;
use crate::collect::Collected;
use crate::ctx::{Ctx, WrongKind, item};
use crate::hir::*;
use crate::names::DefKind;
use crate::ty::Ty;
use std::collections::HashMap;
use weft_syntax::ast::{self, Item};
use weft_syntax::{Diagnostic, Span};

/// What the signatures hand on to the bodies.
#[derive(Default)]
pub struct Signatures {
    /// The parameter locals of each scale.
    pub scale_params: HashMap<RuleId, Vec<LocalId>>,
}

/// Resolve the signatures of every declaration collected.
pub fn signatures(cx: &mut Ctx<'_>, items: &Collected, modules: &[ModuleSource]) -> Signatures {
    let mut s = Signer {
        cx,
        items,
        out: Signatures::default(),
    };
    s.signatures(modules);
    s.out
}

struct Signer<'a, 's> {
    cx: &'a mut Ctx<'s>,
    items: &'a Collected,
    out: Signatures,
}

impl Signer<'_, '_> {
    fn signatures(&mut self, modules: &[ModuleSource]) {
        // Records: field types and kinds.
        for ri in self.items.records.ids() {
            let at = self.items.records[ri];
            let Some(Item::Record(r)) = item(modules, at) else {
                continue;
            };
            let module = at.module;
            let mut fields: IdVec<FieldId, FieldDef> = IdVec::new();
            let mut key = None;
            for f in &r.fields {
                if fields.iter().any(|o| o.name == f.name.name) {
                    self.cx.err(
                        Diagnostic::error(
                            "E0209",
                            format!("`{}` has the field `{}` twice", r.name.name, f.name.name),
                        )
                        .with_label(f.name.span, "repeated field")
                        .with_help("remove or rename one of them"),
                    );
                    continue;
                }
                let ty = self.cx.resolve_type(&f.ty, module);
                let kind = match (&ty, &f.by) {
                    (Ty::Record(target), Some(col)) => FieldKind::Link {
                        target: *target,
                        column: col.name.clone(),
                    },
                    (Ty::Record(_), None) => {
                        self.cx.err(
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
                                self.cx.sources.slice(f.ty.span)
                            )),
                        );
                        FieldKind::Column
                    }
                    (Ty::List(of), _) => FieldKind::Members { of: *of },
                    (_, Some(col)) => {
                        self.cx.err(
                            Diagnostic::error("E0310", "`by` only goes with a link to a record")
                                .with_label(col.span, "not a link")
                                .with_help("remove `by …`, or give the field a record type"),
                        );
                        FieldKind::Column
                    }
                    _ => FieldKind::Column,
                };
                if matches!(ty, Ty::Bands(_)) {
                    self.cx.err(
                        Diagnostic::error("E0311", "a record field cannot hold bands")
                            .with_label(f.ty.span, "bands are for parameters")
                            .with_help("declare the bands as a parameter"),
                    );
                }
                if let Ty::Opt(inner) = &ty
                    && !inner.is_scalar()
                {
                    self.cx.err(
                        Diagnostic::error("E0311", "only a value can be optional")
                            .with_label(f.ty.span, "a link or list cannot be optional")
                            .with_help("remove the `?`"),
                    );
                }
                if f.key {
                    if key.is_some() {
                        self.cx.err(
                            Diagnostic::error("E0312", format!("`{}` has two keys", r.name.name))
                                .with_label(f.name.span, "second key")
                                .with_help("a record has at most one key field"),
                        );
                    } else if !matches!(ty, Ty::Text | Ty::Int) {
                        self.cx.err(
                            Diagnostic::error("E0312", "a key must be Text or Int")
                                .with_label(f.ty.span, "not Text or Int")
                                .with_help("ids are usually `Text`"),
                        );
                    } else {
                        key = Some(fields.next_id());
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
            if let Some(rec) = self.cx.prog.records.get_mut(ri) {
                rec.fields = fields;
                rec.key = key;
            }
        }
        // Members lists need exactly one link back.
        for ri in self.cx.prog.records.ids() {
            let rec = &self.cx.prog.records[ri];
            let members: Vec<(String, RecordId, Span)> = rec
                .fields
                .iter()
                .filter_map(|f| match f.kind {
                    FieldKind::Members { of } => Some((f.name.clone(), of, f.span)),
                    _ => None,
                })
                .collect();
            for (name, of, span) in members {
                let links = self
                    .cx.prog
                    .records
                    .get(of)
                    .map(|o| {
                        o.fields
                            .iter()
                            .filter(|f| matches!(f.kind, FieldKind::Link { target, .. } if target == ri))
                            .count()
                    })
                    .unwrap_or(0);
                if links != 1 {
                    let other = self
                        .cx
                        .prog
                        .records
                        .get(of)
                        .map(|o| o.name.clone())
                        .unwrap_or_default();
                    let this = self.cx.prog.records[ri].name.clone();
                    self.cx.err(
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
        for pi in self.items.params.ids() {
            let at = self.items.params[pi];
            let module = at.module;
            match item(modules, at) {
                Some(Item::Param(p)) => {
                    let mut keys = Vec::new();
                    for ks in &p.keys {
                        if let Some(k) = self.cx.key_set(ks, module) {
                            keys.push(k);
                        }
                    }
                    let ty = self.cx.resolve_type(&p.ty, module);
                    let ty = self.param_type(ty, &p.ty);
                    if let Some(pd) = self.cx.prog.params.get_mut(pi) {
                        pd.keys = keys;
                        pd.ty = ty;
                    }
                }
                Some(Item::Series(s)) => {
                    let ty = self.cx.resolve_type(&s.ty, module);
                    let ty = self.param_type(ty, &s.ty);
                    if matches!(ty, Ty::Bands(_)) {
                        self.cx.err(
                            Diagnostic::error(
                                "E0311",
                                "a series holds one value per month, not bands",
                            )
                            .with_label(s.ty.span, "bands here")
                            .with_help("declare bands with `param`"),
                        );
                    }
                    if let Some(pd) = self.cx.prog.params.get_mut(pi) {
                        pd.ty = ty;
                    }
                }
                _ => {}
            }
        }
        // Rule signatures.
        for ri in self.items.rules.ids() {
            let at = self.items.rules[ri];
            let module = at.module;
            let (params, ret, is_scale, name_span): (&[ast::Param], &ast::TypeExpr, bool, Span) =
                match item(modules, at) {
                    Some(Item::Rule(r)) => (&r.params, &r.ret, false, r.name.span),
                    Some(Item::Table(t)) => (&t.params, &t.ret, false, t.name.span),
                    Some(Item::Cascade(c)) => (&c.params, &c.ret, false, c.name.span),
                    Some(Item::Scale(s)) => (&s.params, &s.ret, true, s.name.span),
                    _ => continue,
                };
            let ret_ty = self.cx.resolve_type(ret, module);
            if ret_ty == Ty::Text {
                self.cx.err(
                    Diagnostic::error("E0314", "a rule cannot compute text")
                        .with_label(ret.span, "text")
                        .with_help("Weft computes numbers, amounts, dates, true/false and categories (enums); copy ids from fields in an output instead"),
                );
            } else if !ret_ty.is_scalar() && !ret_ty.is_error() {
                let shown = self.cx.prog.show(&ret_ty);
                self.cx.err(
                    Diagnostic::error("E0314", format!("a rule cannot return `{shown}`"))
                        .with_label(ret.span, "not a single value")
                        .with_help("rules return Bool, Int, Decimal, Money, Text, Date, a duration or an enum"),
                );
            }
            let mut param = None;
            if !is_scale {
                if params.len() > 1 {
                    self.cx.err(
                        Diagnostic::error("E0315", "a rule takes at most one record")
                            .with_label(params[1].name.span, "a second parameter")
                            .with_help("read other values through the record, e.g. `p.household`"),
                    );
                }
                if let Some(p) = params.first() {
                    let t = self.cx.resolve_type(&p.ty, module);
                    match t {
                        Ty::Record(rec_id) => {
                            let l = self.cx.bind_local(&p.name, Ty::Record(rec_id));
                            param = Some((l, rec_id));
                        }
                        Ty::Error => {}
                        other => {
                            let shown = self.cx.prog.show(&other);
                            self.cx.err(
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
                self.cx.err(
                    Diagnostic::error("E0315", "a scale needs the amount it applies to")
                        .with_label(name_span, "no parameters")
                        .with_help("write `scale name(amount: Money per year): Money per year`"),
                );
            } else {
                let mut locals = Vec::new();
                for (i, p) in params.iter().enumerate() {
                    let t = self.cx.resolve_type(&p.ty, module);
                    let ok = if i == 0 {
                        matches!(
                            t,
                            Ty::Int | Ty::Decimal | Ty::Money(_) | Ty::Dur(_) | Ty::Error
                        )
                    } else {
                        t.is_scalar()
                    };
                    if !ok {
                        let shown = self.cx.prog.show(&t);
                        self.cx.err(
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
                    locals.push(self.cx.bind_local(&p.name, t));
                }
                self.out.scale_params.insert(ri, locals);
            }
            if let Some(rd) = self.cx.prog.rules.get_mut(ri) {
                rd.ret = ret_ty;
                rd.param = param;
            }
        }
        // Outputs: their records.
        for oi in self.items.outputs.ids() {
            let at = self.items.outputs[oi];
            let Some(Item::Output(o)) = item(modules, at) else {
                continue;
            };
            let module = at.module;
            let found = self.cx.find(
                module,
                &o.record,
                "record",
                DefKind::record,
                WrongKind::Unknown,
            );
            let binder = found.map(|rec_id| self.cx.bind_local(&o.binder, Ty::Record(rec_id)));
            if let Some(od) = self.cx.prog.outputs.get_mut(oi) {
                match (found, binder) {
                    (Some(rec_id), Some(l)) => {
                        od.record = rec_id;
                        od.binder = l;
                    }
                    _ => od.record = RecordId::NONE,
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
                let shown = self.cx.prog.show(other);
                let help = match other {
                    Ty::Opt(inner) => {
                        weft_msg::t!("param-optional", ty = self.cx.prog.show(inner))
                    }
                    _ => weft_msg::t!("param-type.help"),
                };
                self.cx.err(
                    Diagnostic::error("E0311", weft_msg::t!("param-type", ty = &shown))
                        .with_label(t.span, weft_msg::t!("param-type.label"))
                        .with_help(help),
                );
                Ty::Error
            }
        }
    }

    fn field_range(&mut self, rg: &ast::RangeLit, ty: &Ty) -> Option<(Option<i64>, Option<i64>)> {
        if !ty.is_ordered() {
            let shown = self.cx.prog.show(ty);
            self.cx.err(
                Diagnostic::error("E0318", format!("a `{shown}` field cannot have a range"))
                    .with_label(rg.span, "ranges need numbers, amounts or dates"),
            );
            return None;
        }
        let lo = self.cx.const_value(&rg.lo, ty)?;
        let hi = match &rg.hi {
            Some(h) => {
                let v = self.cx.const_value(h, ty)?;
                Some(if rg.inclusive { v } else { v.checked_sub(1)? })
            }
            None => None,
        };
        if let Some(h) = hi
            && h < lo
        {
            self.cx.err(
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
                        self.cx.err(
                            Diagnostic::error("E0319", "only an optional field can be absent")
                                .with_label(*span, "this field always has a value"),
                        );
                        continue;
                    }
                    SynthAlt::Absent
                }
                ast::SynthAlt::Value(l) => match (&l.kind, &inner) {
                    (ast::LitKind::Bool(b), Ty::Bool) => SynthAlt::Value(*b as i64),
                    _ => SynthAlt::Value(self.cx.const_value(l, &inner)?),
                },
                ast::SynthAlt::Word(w) => SynthAlt::Value(self.cx.word_value(w, &inner)?),
                ast::SynthAlt::Range(r) => {
                    let lo = self.cx.const_value(&r.lo, &inner)?;
                    let hi = match &r.hi {
                        Some(h) => {
                            let v = self.cx.const_value(h, &inner)?;
                            if r.inclusive { v } else { v.checked_sub(1)? }
                        }
                        None => {
                            self.cx.err(
                                Diagnostic::error("E0319", "a generated range needs an upper end")
                                    .with_label(r.span, "open range"),
                            );
                            continue;
                        }
                    };
                    if hi < lo {
                        self.cx.err(
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
}
