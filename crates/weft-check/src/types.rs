//! Types written in the text and constant values of a type: resolving a
//! type expression, a parameter's key set, a literal or a word (a variant,
//! `true`) against a type. Used by the signatures, parameter and body
//! phases.

use crate::builtins;
use crate::ctx::{Ctx, Resolved, WrongKind};
use crate::ids::ModuleId;
use crate::model::Target;
use crate::names::DefKind;
use crate::ty::{DurUnit, EnumId, Per, Ty, VariantSet, full_set};
use weft_syntax::Diagnostic;
use weft_syntax::ast;

impl Ctx<'_> {
    pub fn resolve_type(&mut self, t: &ast::TypeExpr, module: ModuleId) -> Ty {
        let base = match &t.kind {
            ast::TypeKind::Money(p) => Ty::Money(per_of(*p)),
            ast::TypeKind::Bands(p) => Ty::Bands(per_of(*p)),
            ast::TypeKind::Unparsed => return Ty::Error,
            ast::TypeKind::List(r) => {
                let wrong = |k: DefKind| {
                    Diagnostic::error("E0301", format!("`{}` is not a record", r.name))
                        .with_label(r.span, format!("this is {}", k.describe()))
                        .with_help("a list holds the members of a record, e.g. `[Person]`")
                };
                match self.find(
                    module,
                    r,
                    "record",
                    DefKind::record,
                    WrongKind::Report(&wrong),
                ) {
                    Some(id) => Ty::List(id),
                    None => Ty::Error,
                }
            }
            ast::TypeKind::Named(n) => match n.name.as_str() {
                "Bool" => Ty::Bool,
                "Int" => Ty::Int,
                "Decimal" => Ty::Decimal,
                "Text" => Ty::Text,
                "Date" => Ty::Date,
                "Days" => Ty::Dur(DurUnit::Days),
                "Months" => Ty::Dur(DurUnit::Months),
                "Years" => Ty::Dur(DurUnit::Years),
                _ => match self.lookup(module, n) {
                    Resolved::Found(DefKind::Enum(id)) => {
                        let n = self
                            .prog
                            .enums
                            .get(id)
                            .map(|e| e.variants.len())
                            .unwrap_or(0);
                        Ty::Enum(id, full_set(n))
                    }
                    Resolved::Found(DefKind::Record(id)) => Ty::Record(id),
                    Resolved::Found(kind) => {
                        let what = kind.describe();
                        self.err(
                            Diagnostic::error("E0301", format!("`{}` is not a type", n.name))
                                .with_label(n.span, format!("this is {what}"))
                                .with_help("types are Bool, Int, Decimal, Money, Text, Date, Days, Months, Years, enums and records"),
                        );
                        Ty::Error
                    }
                    Resolved::NotImported => {
                        self.unknown_name(module, n, "type");
                        Ty::Error
                    }
                    Resolved::Unknown => {
                        let sugg = self.suggestions.closest(&n.name, || {
                            let mut cands: Vec<&str> = builtins::TYPE_NAMES.to_vec();
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

    /// `Enum except a, b` → (enum, set).
    pub fn key_set(&mut self, ks: &ast::KeySet, module: ModuleId) -> Option<(EnumId, VariantSet)> {
        let wrong = |k: DefKind| {
            Diagnostic::error("E0316", format!("`{}` is not an enum", ks.enum_name.name))
                .with_label(ks.enum_name.span, format!("this is {}", k.describe()))
                .with_help("parameters are keyed by enums, e.g. `[Region]`")
        };
        let eid = self.find(
            module,
            &ks.enum_name,
            "enum",
            DefKind::enum_id,
            WrongKind::Report(&wrong),
        )?;
        let e = self.prog.enums.get(eid)?;
        let mut set = full_set(e.variants.len());
        let mut bad = Vec::new();
        let mut variants = Vec::new();
        for x in &ks.except {
            match e.variants.iter().position(|v| v.name == x.name) {
                Some(i) => {
                    set &= !(1u64 << i);
                    variants.push((x.span, i as u32));
                }
                None => bad.push(x.clone()),
            }
        }
        for (span, i) in variants {
            self.model.refer_to(span, Target::Variant(eid, i));
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
        if got.is_none() && !ty.is_error() {
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
                let en = self.prog.enums.get(*e)?;
                match en.variants.iter().position(|v| v.name == w.name) {
                    Some(i) => {
                        self.model.refer_to(w.span, Target::Variant(*e, i as u32));
                        Some(i as i64)
                    }
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
            // The type did not check (and was reported).
            Ty::Error => None,
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
