//! Records' checks (rejecting or excluding input rows) and the `defaults`
//! of test records.

use crate::ModuleSource;
use crate::body::Body;
use crate::ctx::{WrongKind, item};
use crate::expr::Scope;
use crate::expr::coerce::check_against;
use crate::expr::name::{FieldUse, unknown_field};
use crate::hir::*;
use crate::ids::ModuleId;
use crate::names::DefKind;
use crate::ty::{RecordId, Ty};
use weft_syntax::Diagnostic;
use weft_syntax::ast::{self, Item};

pub fn record_checks(c: &mut Body<'_, '_>, modules: &[ModuleSource], ri: RecordId) {
    let at = c.items.records[ri];
    let Some(Item::Record(r)) = item(modules, at) else {
        return;
    };
    let self_local = c.cx.prog.records[ri].self_local;
    let mut s = Scope {
        module: at.module,
        fields_of: Some((ri, self_local)),
        ..Scope::default()
    };
    let mut checks = Vec::new();
    for ch in &r.checks {
        let cond = check_against(c, &mut s, &ch.cond, &Ty::Bool, "a check");
        let column = match c.cx.prog.records[ri].field(&ch.column.name) {
            Some((f, fd)) if matches!(fd.kind, FieldKind::Column | FieldKind::Link { .. }) => f,
            _ => {
                let fields = &c.cx.prog.records[ri].fields;
                let sugg =
                    c.cx.suggestions
                        .closest(&ch.column.name, || fields.iter().map(|f| f.name.as_str()));
                let mut d = Diagnostic::error(
                    "E0203",
                    format!("`{}` has no column `{}`", r.name.name, ch.column.name),
                )
                .with_label(ch.column.span, "not a column of this record");
                if let Some(s) = sugg.first() {
                    d = d.with_help(format!("did you mean `{s}`?"));
                }
                c.cx.err(d);
                continue;
            }
        };
        checks.push(CheckDef {
            cond,
            column,
            message: ch.message.clone(),
            exclude: ch.exclude,
            span: ch.span,
        });
    }
    c.cx.prog.records[ri].checks = checks;
}

/// A constant value for a field of a test record or a default.
pub fn field_value(
    c: &mut Body<'_, '_>,
    s: &mut Scope,
    fd: &FieldDef,
    e: &ast::Expr,
) -> Option<TestValue> {
    let want = match &fd.ty {
        Ty::Opt(t) => (**t).clone(),
        t => t.clone(),
    };
    let typed = check_against(c, s, e, &want, "the field's value");
    if typed.ty.is_error() {
        return None;
    }
    match const_eval(&typed) {
        Some(v) => Some(v),
        None => {
            c.cx.err(
                Diagnostic::error("E0801", "a record in a test takes plain values")
                    .with_label(e.span, "not a constant")
                    .with_help(
                        "write a literal such as `¥1,200`, `2019-07-01`, `true` or a variant name",
                    ),
            );
            None
        }
    }
}

pub fn const_eval(e: &Expr) -> Option<TestValue> {
    match &e.kind {
        ExprKind::Const(v) => Some(TestValue::Scalar(*v)),
        ExprKind::Text(t) => Some(TestValue::Text(t.clone())),
        ExprKind::TestRecord(i) => Some(TestValue::Link(*i)),
        ExprKind::Neg(x) => match const_eval(x)? {
            TestValue::Scalar(v) => Some(TestValue::Scalar(v.checked_neg()?)),
            _ => None,
        },
        _ => None,
    }
}

pub fn defaults(c: &mut Body<'_, '_>, d: &ast::DefaultsDecl, module: ModuleId) {
    let Some(rec_id) = c.cx.find(
        module,
        &d.record,
        "record",
        DefKind::record,
        WrongKind::Unknown,
    ) else {
        return;
    };
    let mut s = Scope {
        module,
        no_records: true,
        ..Scope::default()
    };
    let mut map = c.defaults.remove(&rec_id).unwrap_or_default();
    for (name, e) in &d.fields {
        let Some((fid, fd)) = c.cx.prog.records[rec_id]
            .field(&name.name)
            .map(|(i, f)| (i, f.clone()))
        else {
            unknown_field(c, rec_id, name, FieldUse::Defaults);
            continue;
        };
        if !matches!(fd.kind, FieldKind::Column) {
            c.cx.err(
                Diagnostic::error("E0802", format!("`{}` cannot have a default", name.name))
                    .with_label(name.span, "a link or members list")
                    .with_help("give links in each test record"),
            );
            continue;
        }
        if map.contains_key(&fid) {
            c.cx.err(
                Diagnostic::error("E0803", format!("`{}` is given twice", name.name))
                    .with_label(name.span, "repeated field"),
            );
            continue;
        }
        if let Some(v) = field_value(c, &mut s, &fd, e) {
            map.insert(fid, v);
        }
    }
    c.defaults.insert(rec_id, map);
}
