//! Outputs (the columns written for each record) and programmes (which
//! output columns are a programme's amounts and recipients).

use crate::ModuleSource;
use crate::body::Body;
use crate::ctx::{ItemRef, WrongKind, item};
use crate::expr::{Scope, bx, expr};
use crate::hir::*;
use crate::ids::ModuleId;
use crate::model::Target;
use crate::names::{DefKind, Lookup};
use crate::ty::Ty;
use weft_syntax::Diagnostic;
use weft_syntax::ast::{self, ExprKind as A, Item};

pub fn output(c: &mut Body<'_, '_>, modules: &[ModuleSource], oi: OutputId, at: ItemRef) {
    let Some(Item::Output(o)) = item(modules, at) else {
        return;
    };
    let Some(od) = c.cx.prog.outputs.get(oi) else {
        return;
    };
    if od.record == RecordId::NONE {
        return;
    }
    let (rec_id, binder) = (od.record, od.binder);
    let mut s = Scope {
        module: at.module,
        ..Scope::default()
    };
    s.locals.push((o.binder.name.clone(), binder));
    let mut cols: Vec<ColumnDef> = Vec::new();
    for (name, e) in &o.columns {
        if cols.iter().any(|c| c.name == name.name) {
            c.cx.err(
                Diagnostic::error(
                    "E0808",
                    format!("the output has two columns named `{}`", name.name),
                )
                .with_label(name.span, "repeated column"),
            );
            continue;
        }
        let typed = match e {
            Some(e) => expr(c, &mut s, e, None),
            None => {
                // A field of the record, or a rule applied to it.
                let field = c.cx.prog.records[rec_id]
                    .field(&name.name)
                    .map(|(i, f)| (i, f.clone()));
                match field {
                    Some((fid, fd)) => {
                        let rec = Expr::new(ExprKind::Local(binder), Ty::Record(rec_id), name.span);
                        Expr::new(
                            ExprKind::Field(bx(rec), rec_id, fid),
                            fd.ty.clone(),
                            name.span,
                        )
                    }
                    None => {
                        let call = ast::Expr {
                            kind: A::Call(
                                name.clone(),
                                vec![ast::Arg {
                                    name: None,
                                    value: ast::Expr {
                                        kind: A::Name(o.binder.clone()),
                                        span: name.span,
                                    },
                                }],
                            ),
                            span: name.span,
                        };
                        // A rule of the record, or one of no record.
                        let rule_of = match c.cx.names.lookup(s.module, &name.name) {
                            Lookup::Found(d) => d
                                .kind
                                .rule()
                                .and_then(|r| c.cx.prog.rules.get(r))
                                .map(|r| r.param.is_some()),
                            _ => None,
                        };
                        let is_rule = rule_of == Some(true);
                        let is_global = rule_of == Some(false);
                        if is_rule {
                            expr(c, &mut s, &call, None)
                        } else if is_global {
                            expr(
                                c,
                                &mut s,
                                &ast::Expr {
                                    kind: A::Name(name.clone()),
                                    span: name.span,
                                },
                                None,
                            )
                        } else {
                            let rn = c.cx.prog.records[rec_id].name.clone();
                            let mut d = Diagnostic::error(
                                "E0809",
                                format!("`{}` is neither a field of `{rn}` nor a rule", name.name),
                            )
                            .with_label(name.span, "unknown column");
                            let fields = &c.cx.prog.records[rec_id].fields;
                            let sugg = c.cx.suggestions.closest(&name.name, || {
                                let mut cands: Vec<&str> =
                                    fields.iter().map(|f| f.name.as_str()).collect();
                                cands.extend(c.cx.names.visible_names(s.module));
                                cands
                            });
                            if let Some(sg) = sugg.first() {
                                d = d.with_help(format!("did you mean `{sg}`?"));
                            } else {
                                d = d.with_help(format!(
                                    "write `{}: EXPRESSION` to compute it",
                                    name.name
                                ));
                            }
                            c.cx.err(d);
                            continue;
                        }
                    }
                }
            }
        };
        let ok = match &typed.ty {
            Ty::Opt(t) => t.is_scalar(),
            t => t.is_scalar(),
        };
        if !ok && !typed.ty.is_error() {
            let shown = c.cx.prog.show(&typed.ty);
            let help = match typed.ty {
                Ty::Record(_) => "write the key, e.g. `p.household.household_id`".to_string(),
                Ty::Cascade(_) => {
                    "choose one of its parts, e.g. `medical(p).out_of_pocket`".to_string()
                }
                _ => "outputs hold single values".to_string(),
            };
            c.cx.err(
                Diagnostic::error("E0810", format!("a column cannot hold `{shown}`"))
                    .with_label(typed.span, "not a single value")
                    .with_help(help),
            );
            continue;
        }
        if matches!(typed.ty, Ty::Text) && !is_field_path(&typed) {
            c.cx.err(
                Diagnostic::error("E0810", "a text column must be a field of the records")
                    .with_label(typed.span, "computed text")
                    .with_help("Weft computes numbers, amounts, dates and categories; copy ids from fields"),
            );
            continue;
        }
        cols.push(ColumnDef {
            name: name.name.clone(),
            expr: typed,
            span: name.span,
        });
    }
    if let Some(od) = c.cx.prog.outputs.get_mut(oi) {
        od.columns = cols;
    }
}

pub fn is_field_path(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Field(b, _, _) => matches!(b.kind, ExprKind::Local(_)) || is_field_path(b),
        _ => false,
    }
}

pub fn programme(c: &mut Body<'_, '_>, p: &ast::ProgrammeDecl, module: ModuleId) {
    let Some(oid) = c.cx.find(
        module,
        &p.output,
        "output",
        DefKind::output,
        WrongKind::Unknown,
    ) else {
        return;
    };
    let cols: Vec<(String, Ty)> = c.cx.prog.outputs[oid]
        .columns
        .iter()
        .map(|c| (c.name.clone(), c.expr.ty.clone()))
        .collect();
    let mut amounts = Vec::new();
    let column = |i: usize| Target::Column(oid, i as u32);
    for a in &p.amounts {
        let found = cols.iter().position(|(n, _)| *n == a.name);
        if let Some(i) = found {
            c.cx.model.refer_to(a.span, column(i));
        }
        match found {
            Some(i) if matches!(cols[i].1, Ty::Money(_)) => amounts.push(i),
            Some(i) => {
                let shown = c.cx.prog.show(&cols[i].1);
                c.cx.err(
                    Diagnostic::error(
                        "E0811",
                        format!("the amount `{}` is a `{shown}`, not money", a.name),
                    )
                    .with_label(a.span, "not money"),
                );
            }
            None => {
                let sugg =
                    c.cx.suggestions
                        .closest(&a.name, || cols.iter().map(|(n, _)| n.as_str()));
                let mut d = Diagnostic::error(
                    "E0811",
                    format!("the output `{}` has no column `{}`", p.output.name, a.name),
                )
                .with_label(a.span, "unknown column");
                if let Some(s) = sugg.first() {
                    d = d.with_help(format!("did you mean `{s}`?"));
                }
                c.cx.err(d);
            }
        }
    }
    let recipients = match &p.recipients {
        None => None,
        Some(e) => match &e.kind {
            A::Name(n) => match cols.iter().position(|(c, _)| *c == n.name) {
                Some(i) if cols[i].1 == Ty::Bool => {
                    c.cx.model.refer_to(n.span, column(i));
                    Some(i)
                }
                _ => {
                    c.cx.err(
                        Diagnostic::error("E0812", format!("`{}` is not a true/false column of `{}`", n.name, p.output.name))
                            .with_label(n.span, "recipients are counted by a Bool column")
                            .with_help("name a Bool column of the output, or leave `recipients` out to count everyone with an amount above zero"),
                    );
                    None
                }
            },
            _ => {
                c.cx.err(
                    Diagnostic::error("E0812", "recipients are counted by a column")
                        .with_label(e.span, "not a column name")
                        .with_help(
                            "add the condition as a Bool column of the output and name it here",
                        ),
                );
                None
            }
        },
    };
    let id = c.cx.prog.programmes.len() as u32;
    c.cx.model.extent(Target::Programme(id), p.span);
    c.cx.prog.programmes.push(ProgrammeDef {
        name: p.name.name.clone(),
        display: p.display.clone(),
        source: p.source.clone(),
        doc: p.doc.clone(),
        output: oid,
        amounts,
        recipients,
        span: p.name.span,
    });
}
