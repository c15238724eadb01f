//! Assertions on parameters and `test` blocks: their records, values and
//! expectations.

use crate::body::Body;
use crate::ctx::WrongKind;
use crate::decls::record::field_value;
use crate::expr::coerce::check_against;
use crate::expr::name::{FieldUse, unknown_field};
use crate::expr::{Scope, expr};
use crate::hir::*;
use crate::ids::ModuleId;
use crate::model::Target;
use crate::names::DefKind;
use crate::ty::{RecordId, Ty};
use std::collections::HashMap;
use weft_syntax::Diagnostic;
use weft_syntax::ast::{self, ExprKind as A};

pub fn assertion(c: &mut Body<'_, '_>, a: &ast::AssertDecl, module: ModuleId) {
    let Some(pid) = c.cx.find(
        module,
        &a.param,
        "parameter",
        DefKind::param,
        WrongKind::Unknown,
    ) else {
        return;
    };
    let mut s = Scope {
        module,
        no_records: true,
        ..Scope::default()
    };
    let mut every = Vec::new();
    for (v, ks) in &a.every {
        if let Some((e, set)) = c.cx.key_set(ks, module) {
            let l = c.cx.bind_local(v, Ty::Enum(e, set));
            s.locals.push((v.name.clone(), l));
            every.push((l, e, set));
        }
    }
    if let Some((from, to)) = a.window
        && to < from
    {
        c.cx.err(
            Diagnostic::error("E0701", "the window `in force` is empty")
                .with_label(a.name.span, "its end is before its start"),
        );
    }
    let cond = check_against(c, &mut s, &a.cond, &Ty::Bool, "the assertion");
    let id = c.cx.prog.asserts.len() as u32;
    c.cx.model.extent(Target::Assert(id), a.span);
    c.cx.prog.asserts.push(AssertDef {
        name: a.name.name.clone(),
        param: pid,
        severity: a.severity,
        every,
        window: a.window,
        cond,
        source: a.source.clone(),
        doc: a.doc.clone(),
        span: a.name.span,
    });
}

pub fn test(c: &mut Body<'_, '_>, t: &ast::TestDecl, module: ModuleId) {
    let mut ids: HashMap<String, (usize, RecordId)> = HashMap::new();
    let mut rec_types = Vec::new();
    for (i, r) in t.records.iter().enumerate() {
        let Some(rec_id) = c.cx.find(
            module,
            &r.record,
            "record",
            DefKind::record,
            WrongKind::Unknown,
        ) else {
            rec_types.push(None);
            continue;
        };
        if ids.contains_key(&r.id.name) {
            c.cx.err(
                Diagnostic::error(
                    "E0804",
                    format!("this test has two records named `{}`", r.id.name),
                )
                .with_label(r.id.span, "repeated name"),
            );
        }
        ids.insert(r.id.name.clone(), (i, rec_id));
        rec_types.push(Some(rec_id));
    }
    let mut s = Scope {
        module,
        test: Some(ids.clone()),
        ..Scope::default()
    };
    let mut records = Vec::new();
    for (r, rec_id) in t.records.iter().zip(&rec_types) {
        let Some(rec_id) = *rec_id else { continue };
        let fields = c.cx.prog.records[rec_id].fields.clone();
        let key = c.cx.prog.records[rec_id].key;
        let mut values: IdVec<FieldId, Option<TestValue>> = vec![None; fields.len()].into();
        for (name, e) in &r.fields {
            let Some((fid, fd)) = c.cx.prog.records[rec_id]
                .field(&name.name)
                .map(|(i, f)| (i, f.clone()))
            else {
                unknown_field(c, rec_id, name, FieldUse::Test);
                continue;
            };
            if values[fid].is_some() {
                c.cx.err(
                    Diagnostic::error("E0803", format!("`{}` is given twice", name.name))
                        .with_label(name.span, "repeated field"),
                );
                continue;
            }
            match &fd.kind {
                FieldKind::Members { .. } => {
                    c.cx.err(
                        Diagnostic::error(
                            "E0802",
                            format!("`{}` is filled from the records that link here", name.name),
                        )
                        .with_label(name.span, "cannot be given")
                        .with_help("give each member a link to this record instead"),
                    );
                }
                FieldKind::Link { target, .. } => {
                    let target = *target;
                    // A record with a quoted id (`Household "户 1" { … }`) is
                    // named by the same quoted text.
                    let quoted = match &e.kind {
                        A::Lit(weft_syntax::ast::LitKind::Text(t)) => {
                            Some(weft_syntax::ast::Ident {
                                name: t.clone(),
                                span: e.span,
                            })
                        }
                        _ => None,
                    };
                    let named = match &e.kind {
                        A::Name(id) => Some(id),
                        _ => quoted.as_ref(),
                    };
                    let v = match named {
                        Some(id) => match ids.get(&id.name) {
                            Some((idx, trid)) if *trid == target => Some(TestValue::Link(*idx)),
                            Some(_) => {
                                let tn = c.cx.prog.records[target].name.clone();
                                c.cx.err(
                                    Diagnostic::error(
                                        "E0805",
                                        format!("`{}` is not a `{tn}` of this test", id.name),
                                    )
                                    .with_label(id.span, "wrong kind of record"),
                                );
                                None
                            }
                            None => {
                                let tn = c.cx.prog.records[target].name.clone();
                                c.cx.err(
                                    Diagnostic::error(
                                        "E0805",
                                        format!("this test has no record `{}`", id.name),
                                    )
                                    .with_label(id.span, "unknown record")
                                    .with_help(
                                        if quoted.is_some() {
                                            format!(
                                                "declare it first: `{tn} \"{}\" {{ … }}`",
                                                id.name
                                            )
                                        } else {
                                            format!("declare it first: `{tn} {} {{ … }}`", id.name)
                                        },
                                    ),
                                );
                                None
                            }
                        },
                        _ => {
                            c.cx.err(
                                Diagnostic::error("E0805", "a link names a record of the test")
                                    .with_label(e.span, "not a record name"),
                            );
                            None
                        }
                    };
                    // A wrong link was reported: not "missing" as well.
                    values[fid] = Some(v.unwrap_or(TestValue::Absent));
                }
                FieldKind::Column => {
                    values[fid] = field_value(c, &mut s, &fd, e);
                    if values[fid].is_none() {
                        values[fid] = Some(TestValue::Absent);
                    }
                }
            }
        }
        // Fill in keys, defaults and absent optionals; report the rest.
        let defaults = c.defaults.get(&rec_id).cloned().unwrap_or_default();
        let mut missing = Vec::new();
        let mut out: IdVec<FieldId, TestValue> = IdVec::new();
        for (fi, fd) in fields.iter_enumerated() {
            let v = match values[fi].take() {
                Some(v) => v,
                None => match (&fd.kind, &fd.ty) {
                    (FieldKind::Members { .. }, _) => TestValue::Absent,
                    _ if key == Some(fi) => match fd.ty {
                        Ty::Text => TestValue::Text(r.id.name.clone()),
                        _ => TestValue::Scalar(out.len() as i64),
                    },
                    _ => match defaults.get(&fi) {
                        Some(v) => v.clone(),
                        None if matches!(fd.ty, Ty::Opt(_)) => TestValue::Absent,
                        None => {
                            missing.push(fd.name.clone());
                            TestValue::Absent
                        }
                    },
                },
            };
            out.push(v);
        }
        if !missing.is_empty() {
            let rn = c.cx.prog.records[rec_id].name.clone();
            c.cx.err(
                Diagnostic::error(
                    "E0806",
                    format!(
                        "`{}` does not give {}",
                        r.id.name,
                        missing
                            .iter()
                            .map(|m| format!("`{m}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
                .with_label(r.id.span, "missing fields")
                .with_help(format!(
                    "give them here, or once for every test with `defaults {rn} {{ … }}`"
                )),
            );
        }
        records.push(TestRecordDef {
            record: rec_id,
            id: r.id.name.clone(),
            values: out,
            span: r.span,
        });
    }
    let mut expects = Vec::new();
    for x in &t.expects {
        let e = match &x.fails {
            None => check_against(c, &mut s, &x.expr, &Ty::Bool, "an expectation"),
            Some(_) => expr(c, &mut s, &x.expr, None),
        };
        let fails = x.fails.as_ref().map(|k| k.as_ref().map(|k| k.name.clone()));
        if let Some(Some(kind)) = &fails {
            if !crate::builtins::error_kind_names().any(|k| k == kind) {
                let span = x
                    .fails
                    .as_ref()
                    .and_then(|k| k.as_ref())
                    .map(|k| k.span)
                    .unwrap_or(x.span);
                c.cx.err(
                    Diagnostic::error(
                        "E0807",
                        format!("`{kind}` is not a kind of evaluation error"),
                    )
                    .with_label(span, "unknown kind")
                    .with_help(format!(
                        "the kinds are {}",
                        crate::builtins::error_kind_names()
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                );
            }
        }
        expects.push(ExpectDef {
            expr: e,
            fails,
            span: x.span,
        });
    }
    if t.expects.is_empty() {
        c.cx.err(
            Diagnostic::warning("W0801", format!("the test \"{}\" expects nothing", t.name))
                .with_label(t.name_span, "no `expect`")
                .with_help("add `expect rule(record) == value`"),
        );
    }
    c.cx.prog.tests.push(TestDef {
        name: t.name.clone(),
        module,
        as_of: t.as_of,
        records,
        expects,
        span: t.name_span,
    });
}
