//! The expression checker.
//!
//! Each expression is checked against an optional expected type, which is
//! what lets a bare variant name (`rural`) or an integer literal (`0` where
//! a Decimal is needed) find its type. Operators are resolved here to the
//! exact arithmetic of `docs/language.md` ([`ArithOp`]); enum types are
//! narrowed under conditions (`if l != none then insurance_ratio[l]`) and in
//! `match` arms, so that a table keyed by a subset of an enum can be indexed
//! only where the key is known to be in the subset.

use crate::ModuleSource;
use crate::hir::*;
use crate::names::{Def, DefKind, Lookup};
use crate::resolve::{Checker, ItemRef, dur_unit, item, per_of};
use crate::ty::{DurUnit, Per, Ty, full_set};
use std::collections::HashMap;
use weft_syntax::ast::{self, AggKind, BinOp, CmpOp, ExprKind as A, Item};
use weft_syntax::num::{FEN, MICRO};
use weft_syntax::{Diagnostic, Span};

/// What names mean where an expression is checked.
#[derive(Default)]
pub struct Scope {
    pub module: u32,
    pub locals: Vec<(String, LocalId)>,
    pub remains: Option<LocalId>,
    /// In a record check: bare names are fields of this record.
    pub fields_of: Option<(u32, LocalId)>,
    /// In a test: record ids.
    pub test: Option<HashMap<String, (usize, u32)>>,
    /// The rule being checked, for the dependency graph.
    pub rule: Option<RuleId>,
    /// Whether record values may appear (not in assertions).
    pub no_records: bool,
    /// Narrowed enum places: key → allowed variants.
    pub narrow: Vec<(String, u64)>,
}

impl Scope {
    fn local(&self, name: &str) -> Option<LocalId> {
        self.locals
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, l)| *l)
    }

    fn narrowed(&self, key: &str) -> Option<u64> {
        let mut out: Option<u64> = None;
        for (k, s) in &self.narrow {
            if k == key {
                out = Some(out.map(|o| o & s).unwrap_or(*s));
            }
        }
        out
    }
}

fn bx(e: Expr) -> Box<Expr> {
    Box::new(e)
}

// ------------------------------------------------------------ the phases

pub fn bodies(c: &mut Checker<'_>, modules: &[ModuleSource]) {
    for ri in 0..c.rule_items.len() {
        let at = c.rule_items[ri];
        rule_body(c, modules, ri as RuleId, at);
    }
    exceptions(c, modules);
    for ri in 0..c.record_items.len() {
        record_checks(c, modules, ri);
    }
    for (mi, m) in modules.iter().enumerate() {
        for it in &m.ast.items {
            if let Item::Defaults(d) = it {
                defaults(c, d, mi as u32);
            }
        }
    }
    for (mi, m) in modules.iter().enumerate() {
        for it in &m.ast.items {
            match it {
                Item::Assert(a) => assertion(c, a, mi as u32),
                Item::Test(t) => test(c, t, mi as u32),
                _ => {}
            }
        }
    }
    for oi in 0..c.output_items.len() {
        let at = c.output_items[oi];
        output(c, modules, oi, at);
    }
    for (mi, m) in modules.iter().enumerate() {
        for it in &m.ast.items {
            if let Item::Programme(p) = it {
                programme(c, p, mi as u32);
            }
        }
    }
}

fn rule_scope(c: &Checker<'_>, rid: RuleId, module: u32) -> Scope {
    let mut s = Scope {
        module,
        rule: Some(rid),
        ..Scope::default()
    };
    if let Some(Some((l, _))) = c.prog.rules.get(rid as usize).map(|r| r.param) {
        let name = c
            .prog
            .locals
            .get(l as usize)
            .map(|x| x.name.clone())
            .unwrap_or_default();
        s.locals.push((name, l));
    }
    s
}

fn rule_body(c: &mut Checker<'_>, modules: &[ModuleSource], rid: RuleId, at: ItemRef) {
    let module = at.module as u32;
    let ret = c
        .prog
        .rules
        .get(rid as usize)
        .map(|r| r.ret.clone())
        .unwrap_or(Ty::Error);
    let kind = match item(modules, at) {
        Some(Item::Rule(r)) => {
            let mut s = rule_scope(c, rid, module);
            let body = check_against(c, &mut s, &r.body, &ret, "the rule's value");
            let mut versions = vec![(i32::MIN, body)];
            let mut last = i32::MIN;
            for (d, dspan, e) in &r.versions {
                if *d <= last {
                    c.err(
                        Diagnostic::error("E0602", "formula versions must come in date order")
                            .with_label(*dspan, "not after the previous version")
                            .with_help(
                                "list `from DATE = …` versions from the oldest to the newest",
                            ),
                    );
                }
                last = *d;
                let v = check_against(c, &mut s, e, &ret, "the rule's value");
                versions.push((*d, v));
            }
            RuleKind::Plain { versions }
        }
        Some(Item::Table(t)) => RuleKind::Table(table(c, t, rid, module, &ret)),
        Some(Item::Cascade(cd)) => match cascade(c, cd, rid, module, &ret) {
            Some(k) => RuleKind::Cascade(k),
            None => RuleKind::Broken,
        },
        Some(Item::Scale(sd)) => match scale(c, sd, rid, module, &ret) {
            Some(k) => RuleKind::Scale(k),
            None => RuleKind::Broken,
        },
        _ => RuleKind::Broken,
    };
    if let Some(r) = c.prog.rules.get_mut(rid as usize) {
        r.kind = kind;
    }
}

fn table(c: &mut Checker<'_>, t: &ast::TableDecl, rid: RuleId, module: u32, ret: &Ty) -> TableDef {
    let mut s = rule_scope(c, rid, module);
    let mut given = Vec::new();
    for g in &t.given {
        let e = expr(c, &mut s, g, None);
        if !e.ty.is_scalar() || matches!(e.ty, Ty::Text) {
            let shown = c.prog.show(&e.ty);
            c.err(
                Diagnostic::error("E0401", format!("a table cannot decide on a `{shown}`"))
                    .with_label(g.span, "not a plain value")
                    .with_help("give the table numbers, amounts, dates, booleans or enum values"),
            );
        }
        let l = c.new_local(c.sources.slice(g.span), e.ty.settle());
        given.push((l, e));
    }
    let mut rows = Vec::new();
    let mut seen_otherwise = false;
    for (ri, row) in t.rows.iter().enumerate() {
        if seen_otherwise {
            c.err(
                Diagnostic::error("E0402", "a row after `otherwise` can never apply")
                    .with_label(row.span, "unreachable row")
                    .with_help("`otherwise` must be the last row"),
            );
        }
        let cond = match &row.cells {
            None => {
                seen_otherwise = true;
                None
            }
            Some(cells) => {
                if t.given.is_empty() {
                    // Row form: one condition per row.
                    if cells.len() != 1 || cells[0].items.len() != 1 {
                        c.err(
                            Diagnostic::error(
                                "E0403",
                                "this row has cells but the table has no `given` inputs",
                            )
                            .with_label(row.span, "several cells")
                            .with_help(
                                "list the inputs after `given`, or write one condition per row",
                            ),
                        );
                        None
                    } else {
                        match &cells[0].items[0] {
                            ast::CellItem::Expr(e) => {
                                Some(check_against(c, &mut s, e, &Ty::Bool, "a row's condition"))
                            }
                            _ => {
                                c.err(
                                    Diagnostic::error(
                                        "E0403",
                                        "a range or comparison needs a `given` input to apply to",
                                    )
                                    .with_label(cells[0].span, "no input for this cell")
                                    .with_help("list the inputs after `given`"),
                                );
                                None
                            }
                        }
                    }
                } else if cells.len() != given.len() {
                    c.err(
                        Diagnostic::error(
                            "E0403",
                            format!(
                                "this row has {} {} but the table has {} {}",
                                cells.len(),
                                if cells.len() == 1 { "cell" } else { "cells" },
                                given.len(),
                                if given.len() == 1 { "input" } else { "inputs" }
                            ),
                        )
                        .with_label(row.span, "wrong number of cells")
                        .with_help("give one cell per `given` input; `-` means any value"),
                    );
                    None
                } else {
                    let mut conj: Option<Expr> = None;
                    for (cell, (l, g)) in cells.iter().zip(&given) {
                        let subj = Expr::new(ExprKind::Local(*l), g.ty.settle(), g.span);
                        let mut disj: Option<Expr> = None;
                        for ci in &cell.items {
                            let atom = cell_atom(c, &mut s, &subj, ci);
                            disj = Some(match disj {
                                None => atom,
                                Some(d) => {
                                    let sp = d.span.to(atom.span);
                                    Expr::new(ExprKind::Or(bx(d), bx(atom)), Ty::Bool, sp)
                                }
                            });
                        }
                        if let Some(d) = disj {
                            conj = Some(match conj {
                                None => d,
                                Some(a) => {
                                    let sp = a.span.to(d.span);
                                    Expr::new(ExprKind::And(bx(a), bx(d)), Ty::Bool, sp)
                                }
                            });
                        }
                    }
                    Some(conj.unwrap_or_else(|| Expr::new(ExprKind::Const(1), Ty::Bool, row.span)))
                }
            }
        };
        let value = check_against(c, &mut s, &row.value, ret, "a row's value");
        if matches!(
            t.hit,
            ast::HitPolicy::Sum | ast::HitPolicy::Max | ast::HitPolicy::Min
        ) && !ret.is_numeric()
            && !ret.is_ordered()
            && ri == 0
        {
            let shown = c.prog.show(ret);
            c.err(
                Diagnostic::error(
                    "E0404",
                    format!("`hit sum`, `max` and `min` need numbers, not `{shown}`"),
                )
                .with_label(t.hit_span, "collect policy")
                .with_help("use `hit first` or `hit unique`"),
            );
        }
        if matches!(t.hit, ast::HitPolicy::Sum) && matches!(ret, Ty::Date) && ri == 0 {
            c.err(
                Diagnostic::error("E0404", "dates cannot be summed")
                    .with_label(t.hit_span, "`hit sum`")
                    .with_help("use `hit max` or `hit min`"),
            );
        }
        rows.push(TableRowDef {
            from: row.from.map(|(d, _)| d),
            cond,
            value,
            span: row.span,
        });
    }
    TableDef {
        hit: t.hit,
        given,
        rows,
    }
}

fn cell_atom(c: &mut Checker<'_>, s: &mut Scope, subj: &Expr, ci: &ast::CellItem) -> Expr {
    let mk = |op: CmpOp, a: Expr, b: Expr, span: Span| {
        Expr::new(ExprKind::Cmp(op, bx(a), bx(b)), Ty::Bool, span)
    };
    match ci {
        ast::CellItem::Range {
            lo,
            lo_closed,
            hi,
            hi_closed,
            span,
        } => {
            if !subj.ty.is_ordered() && !subj.ty.is_error() {
                let shown = c.prog.show(&subj.ty);
                c.err(
                    Diagnostic::error("E0405", format!("a range cannot apply to a `{shown}`"))
                        .with_label(*span, "range on a value without order"),
                );
                return Expr::error(*span);
            }
            let l = check_against(c, s, lo, &subj.ty, "the lower end of the range");
            let lower = mk(
                if *lo_closed { CmpOp::Le } else { CmpOp::Lt },
                l,
                subj.clone(),
                *span,
            );
            match hi {
                None => lower,
                Some(h) => {
                    let h = check_against(c, s, h, &subj.ty, "the upper end of the range");
                    let upper = mk(
                        if *hi_closed { CmpOp::Le } else { CmpOp::Lt },
                        subj.clone(),
                        h,
                        *span,
                    );
                    Expr::new(ExprKind::And(bx(lower), bx(upper)), Ty::Bool, *span)
                }
            }
        }
        ast::CellItem::Cmp(op, e, span) => {
            let v = check_against(c, s, e, &subj.ty, "the value compared");
            if !matches!(op, CmpOp::Eq | CmpOp::Ne) && !subj.ty.is_ordered() && !subj.ty.is_error()
            {
                let shown = c.prog.show(&subj.ty);
                c.err(
                    Diagnostic::error(
                        "E0405",
                        format!("`{}` cannot compare `{shown}` values", op.symbol()),
                    )
                    .with_label(*span, "values without order"),
                );
            }
            mk(*op, subj.clone(), v, *span)
        }
        ast::CellItem::Expr(e) => {
            let v = check_against(c, s, e, &subj.ty, "the cell's value");
            let sp = e.span;
            mk(CmpOp::Eq, subj.clone(), v, sp)
        }
    }
}

fn cascade(
    c: &mut Checker<'_>,
    cd: &ast::CascadeDecl,
    rid: RuleId,
    module: u32,
    ret: &Ty,
) -> Option<CascadeDef> {
    let Ty::Money(per) = ret else {
        if !ret.is_error() {
            let shown = c.prog.show(ret);
            c.err(
                Diagnostic::error(
                    "E0406",
                    format!("a cascade divides an amount of money, not a `{shown}`"),
                )
                .with_label(cd.ret.span, "not money")
                .with_help("declare it `: Money per year` (or the period of the amount)"),
            );
        }
        return None;
    };
    let mut s = rule_scope(c, rid, module);
    let amount = check_against(c, &mut s, &cd.amount, ret, "the amount the cascade divides");
    let remains = c.new_local("remains", Ty::Money(*per));
    s.remains = Some(remains);
    let mut steps = Vec::new();
    let mut names: Vec<&str> = Vec::new();
    for st in &cd.steps {
        if names.contains(&st.name.name.as_str()) {
            c.err(
                Diagnostic::error(
                    "E0407",
                    format!("the cascade has two steps named `{}`", st.name.name),
                )
                .with_label(st.name.span, "repeated step"),
            );
        }
        names.push(&st.name.name);
        let e = check_against(c, &mut s, &st.expr, ret, "what the step pays");
        steps.push(CascadeStepDef {
            name: st.name.name.clone(),
            doc: st.doc.clone(),
            expr: e,
            span: st.span,
        });
    }
    if names.contains(&cd.remainder.name.as_str()) {
        c.err(
            Diagnostic::error(
                "E0407",
                format!(
                    "the remainder has the name of a step, `{}`",
                    cd.remainder.name
                ),
            )
            .with_label(cd.remainder.span, "repeated name"),
        );
    }
    Some(CascadeDef {
        amount,
        remains,
        steps,
        remainder: cd.remainder.name.clone(),
    })
}

fn scale(
    c: &mut Checker<'_>,
    sd: &ast::ScaleDecl,
    rid: RuleId,
    module: u32,
    ret: &Ty,
) -> Option<ScaleDef> {
    let params = c.scale_params.get(&rid).cloned()?;
    let mut s = Scope {
        module,
        rule: Some(rid),
        ..Scope::default()
    };
    for (p, l) in sd.params.iter().zip(&params) {
        s.locals.push((p.name.name.clone(), *l));
    }
    let amount_ty = params
        .first()
        .and_then(|l| c.prog.locals.get(*l as usize))
        .map(|l| l.ty.clone())
        .unwrap_or(Ty::Error);
    if sd.kind == ast::ScaleKind::Marginal
        && !ret.fits(&amount_ty)
        && !amount_ty.fits(ret)
        && !ret.is_error()
    {
        let (a, r) = (c.prog.show(&amount_ty), c.prog.show(ret));
        c.err(
            Diagnostic::error("E0408", format!("a marginal scale over `{a}` gives `{a}`, not `{r}`"))
                .with_label(sd.ret.span, "result type")
                .with_help("the parts of the amount in each band are multiplied by rates: the result has the amount's type"),
        );
    }
    let adjust = sd.adjust.as_ref().map(|a| {
        if sd.kind == ast::ScaleKind::Flat {
            c.err(
                Diagnostic::error("E0408", "only a marginal scale has rates to adjust")
                    .with_label(a.span, "`adjust rate` on a flat scale"),
            );
        }
        check_against(c, &mut s, a, &Ty::Decimal, "the rate adjustment")
    });
    let bands = match &sd.bands {
        ast::ScaleBands::Param(name) => {
            let pid = match c.names.lookup(module, &name.name) {
                Lookup::Found(Def {
                    kind: DefKind::Param(p),
                    ..
                }) => *p,
                _ => {
                    c.unknown_name(module, name, "parameter");
                    return None;
                }
            };
            let pty = c
                .prog
                .params
                .get(pid as usize)
                .map(|p| p.ty.clone())
                .unwrap_or(Ty::Error);
            match (&pty, &amount_ty) {
                (Ty::Bands(bp), Ty::Money(ap)) if bp == ap || *ap == Per::Any => {}
                (Ty::Error, _) | (_, Ty::Error) => {}
                _ => {
                    let (p, a) = (c.prog.show(&pty), c.prog.show(&amount_ty));
                    c.err(
                        Diagnostic::error(
                            "E0408",
                            format!(
                                "the bands `{}` are `{p}`, but the amount is `{a}`",
                                name.name
                            ),
                        )
                        .with_label(name.span, "bands of another type")
                        .with_help(
                            "bands and the amount they apply to must be money of the same period",
                        ),
                    );
                }
            }
            if sd.kind == ast::ScaleKind::Flat {
                c.err(
                    Diagnostic::error(
                        "E0408",
                        "bands from a parameter hold rates for a marginal scale",
                    )
                    .with_label(name.span, "a flat scale needs its own rows")
                    .with_help("write the flat scale's rows `| lo .. hi => value`"),
                );
            }
            ScaleBands::Param(pid)
        }
        ast::ScaleBands::Rows(rows) => {
            let mut out = Vec::new();
            let mut prev_hi: Option<i64> = None;
            let mut first = true;
            for r in rows {
                let lo = c.const_value(&r.lo, &amount_ty.settle());
                let hi = match &r.hi {
                    Some(h) => c.const_value(h, &amount_ty.settle()).map(Some),
                    None => Some(None),
                };
                let want = if sd.kind == ast::ScaleKind::Marginal {
                    Ty::Decimal
                } else {
                    ret.clone()
                };
                let v = check_against(
                    c,
                    &mut s,
                    &r.value,
                    &want,
                    if sd.kind == ast::ScaleKind::Marginal {
                        "a band's rate"
                    } else {
                        "a band's value"
                    },
                );
                if let (Some(lo), Some(hi)) = (lo, hi) {
                    if !first && prev_hi != Some(lo) {
                        c.err(
                            Diagnostic::error(
                                "E0409",
                                "scale bands must follow each other without gaps",
                            )
                            .with_label(
                                r.span,
                                "this band does not start where the previous one ends",
                            )
                            .with_help("start each band at the end of the one before"),
                        );
                    }
                    if let Some(h) = hi
                        && h <= lo
                    {
                        c.err(
                            Diagnostic::error("E0409", "this band is empty")
                                .with_label(r.span, "its end is not above its start"),
                        );
                    }
                    if prev_hi.is_none() && !first {
                        c.err(
                            Diagnostic::error("E0409", "a band follows the open top band")
                                .with_label(r.span, "never reached"),
                        );
                    }
                    prev_hi = hi;
                    out.push((lo, hi, v));
                }
                first = false;
            }
            ScaleBands::Rows(out)
        }
    };
    Some(ScaleDef {
        kind: sd.kind,
        params,
        round_each_band: sd.round_each_band,
        adjust,
        bands,
    })
}

fn exceptions(c: &mut Checker<'_>, modules: &[ModuleSource]) {
    // (rule, over-labels, span) per exception, to resolve priorities after.
    let mut pending: Vec<(RuleId, Vec<ast::Ident>)> = Vec::new();
    for (mi, m) in modules.iter().enumerate() {
        let module = mi as u32;
        for it in &m.ast.items {
            let Item::Exception(x) = it else { continue };
            let rid = match c.names.lookup(module, &x.rule.name) {
                Lookup::Found(Def {
                    kind: DefKind::Rule(r),
                    ..
                }) => *r,
                Lookup::Found(d) => {
                    let what = d.kind.describe();
                    c.err(
                        Diagnostic::error("E0503", format!("`{}` is not a rule", x.rule.name))
                            .with_label(x.rule.span, format!("this is {what}"))
                            .with_help("an exception changes the value of a rule"),
                    );
                    continue;
                }
                _ => {
                    c.unknown_name(module, &x.rule, "rule");
                    continue;
                }
            };
            let Some(rd) = c.prog.rules.get(rid as usize) else {
                continue;
            };
            if matches!(rd.kind, RuleKind::Cascade(_) | RuleKind::Scale(_)) {
                c.err(
                    Diagnostic::error(
                        "E0503",
                        format!(
                            "`{}` is a cascade or scale; exceptions apply to rules and tables",
                            x.rule.name
                        ),
                    )
                    .with_label(x.rule.span, "cannot take exceptions"),
                );
                continue;
            }
            let ret = rd.ret.clone();
            let param = rd.param;
            let mut s = Scope {
                module,
                rule: Some(rid),
                ..Scope::default()
            };
            match (param, &x.binder) {
                (Some((l, _)), Some(b)) => s.locals.push((b.name.clone(), l)),
                (Some((l, _)), None) => {
                    let name = c
                        .prog
                        .locals
                        .get(l as usize)
                        .map(|x| x.name.clone())
                        .unwrap_or_default();
                    c.err(
                        Diagnostic::error(
                            "E0504",
                            format!("`{}` is defined for a record; name it", x.rule.name),
                        )
                        .with_label(x.rule.span, "missing the record's name")
                        .with_help(format!("write `for {}({name})`", x.rule.name)),
                    );
                    continue;
                }
                (None, Some(b)) => {
                    c.err(
                        Diagnostic::error("E0504", format!("`{}` takes no record", x.rule.name))
                            .with_label(b.span, "remove this name")
                            .with_help(format!("write `for {}()`", x.rule.name)),
                    );
                    continue;
                }
                (None, None) => {}
            }
            if c.prog
                .rules
                .get(rid as usize)
                .is_some_and(|r| r.exceptions.iter().any(|e| e.label == x.label.name))
            {
                c.err(
                    Diagnostic::error(
                        "E0505",
                        format!(
                            "`{}` already has an exception labelled `{}`",
                            x.rule.name, x.label.name
                        ),
                    )
                    .with_label(x.label.span, "repeated label"),
                );
                continue;
            }
            let cond = check_against(c, &mut s, &x.cond, &Ty::Bool, "the exception's condition");
            let value = check_against(c, &mut s, &x.value, &ret, "the exception's value");
            if let Some(r) = c.prog.rules.get_mut(rid as usize) {
                r.exceptions.push(ExceptionDef {
                    label: x.label.name.clone(),
                    module,
                    doc: x.doc.clone(),
                    source: x.source.clone(),
                    cond,
                    value,
                    over: Vec::new(),
                    span: x.label.span,
                });
                pending.push((rid, x.over.clone()));
            }
        }
    }
    // Priorities, now that every label is known.
    let mut counters: HashMap<RuleId, usize> = HashMap::new();
    for (rid, over) in pending {
        let idx = {
            let n = counters.entry(rid).or_insert(0);
            let i = *n;
            *n += 1;
            i
        };
        let labels: Vec<String> = c
            .prog
            .rules
            .get(rid as usize)
            .map(|r| r.exceptions.iter().map(|e| e.label.clone()).collect())
            .unwrap_or_default();
        let mut resolved = Vec::new();
        for o in over {
            match labels.iter().position(|l| *l == o.name) {
                Some(j) if j != idx => resolved.push(j),
                Some(_) => c.err(
                    Diagnostic::error("E0506", "an exception cannot take priority over itself")
                        .with_label(o.span, "its own label"),
                ),
                None => {
                    let sugg = c
                        .suggestions
                        .closest(&o.name, || labels.iter().map(|s| s.as_str()));
                    let mut d = Diagnostic::error(
                        "E0506",
                        format!("no exception of this rule is labelled `{}`", o.name),
                    )
                    .with_label(o.span, "unknown label");
                    if let Some(s) = sugg.first() {
                        d = d.with_help(format!("did you mean `{s}`?"));
                    }
                    c.err(d);
                }
            }
        }
        if let Some(e) = c
            .prog
            .rules
            .get_mut(rid as usize)
            .and_then(|r| r.exceptions.get_mut(idx))
        {
            e.over = resolved;
        }
    }
    // Priority cycles.
    for rid in 0..c.prog.rules.len() {
        let n = c.prog.rules[rid].exceptions.len();
        for start in 0..n {
            // Is `start` reachable from itself?
            let mut stack: Vec<usize> = c.prog.rules[rid].exceptions[start].over.clone();
            let mut seen = vec![false; n];
            let mut cyclic = false;
            while let Some(x) = stack.pop() {
                if x == start {
                    cyclic = true;
                    break;
                }
                if x < n && !seen[x] {
                    seen[x] = true;
                    stack.extend(c.prog.rules[rid].exceptions[x].over.iter().copied());
                }
            }
            if cyclic {
                let e = &c.prog.rules[rid].exceptions[start];
                let d = Diagnostic::error(
                    "E0507",
                    format!(
                        "the priorities of `{}`'s exceptions go round in a circle",
                        c.prog.rules[rid].name
                    ),
                )
                .with_label(
                    e.span,
                    format!("`{}` is, through others, over itself", e.label),
                )
                .with_help("remove one `over` so that priorities run one way");
                c.err(d);
                break;
            }
        }
    }
}

fn record_checks(c: &mut Checker<'_>, modules: &[ModuleSource], ri: usize) {
    let at = c.record_items[ri];
    let Some(Item::Record(r)) = item(modules, at) else {
        return;
    };
    let self_local = c.prog.records[ri].self_local;
    let mut s = Scope {
        module: at.module as u32,
        fields_of: Some((ri as u32, self_local)),
        ..Scope::default()
    };
    let mut checks = Vec::new();
    for ch in &r.checks {
        let cond = check_against(c, &mut s, &ch.cond, &Ty::Bool, "a check");
        let column = match c.prog.records[ri].field(&ch.column.name) {
            Some((f, fd)) if matches!(fd.kind, FieldKind::Column | FieldKind::Link { .. }) => f,
            _ => {
                let fields = &c.prog.records[ri].fields;
                let sugg = c
                    .suggestions
                    .closest(&ch.column.name, || fields.iter().map(|f| f.name.as_str()));
                let mut d = Diagnostic::error(
                    "E0203",
                    format!("`{}` has no column `{}`", r.name.name, ch.column.name),
                )
                .with_label(ch.column.span, "not a column of this record");
                if let Some(s) = sugg.first() {
                    d = d.with_help(format!("did you mean `{s}`?"));
                }
                c.err(d);
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
    c.prog.records[ri].checks = checks;
}

/// A constant value for a field of a test record or a default.
fn field_value(
    c: &mut Checker<'_>,
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
            c.err(
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

fn const_eval(e: &Expr) -> Option<TestValue> {
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

fn defaults(c: &mut Checker<'_>, d: &ast::DefaultsDecl, module: u32) {
    let rid = match c.names.lookup(module, &d.record.name) {
        Lookup::Found(Def {
            kind: DefKind::Record(r),
            ..
        }) => *r,
        _ => {
            c.unknown_name(module, &d.record, "record");
            return;
        }
    };
    let mut s = Scope {
        module,
        no_records: true,
        ..Scope::default()
    };
    let mut map = c.defaults.remove(&rid).unwrap_or_default();
    for (name, e) in &d.fields {
        let Some((fid, fd)) = c.prog.records[rid as usize]
            .field(&name.name)
            .map(|(i, f)| (i, f.clone()))
        else {
            unknown_field(c, rid, name);
            continue;
        };
        if !matches!(fd.kind, FieldKind::Column) {
            c.err(
                Diagnostic::error("E0802", format!("`{}` cannot have a default", name.name))
                    .with_label(name.span, "a link or members list")
                    .with_help("give links in each test record"),
            );
            continue;
        }
        if map.contains_key(&fid) {
            c.err(
                Diagnostic::error("E0803", format!("`{}` is given twice", name.name))
                    .with_label(name.span, "repeated field"),
            );
            continue;
        }
        if let Some(v) = field_value(c, &mut s, &fd, e) {
            map.insert(fid, v);
        }
    }
    c.defaults.insert(rid, map);
}

fn unknown_field(c: &mut Checker<'_>, rid: u32, name: &ast::Ident) {
    let rec = &c.prog.records[rid as usize];
    let sugg = c
        .suggestions
        .closest(&name.name, || rec.fields.iter().map(|f| f.name.as_str()));
    let mut d = Diagnostic::error(
        "E0304",
        format!("`{}` has no field `{}`", rec.name, name.name),
    )
    .with_label(name.span, "unknown field");
    if let Some(s) = sugg.first() {
        d = d.with_help(format!("did you mean `{s}`?"));
    }
    c.err(d);
}

fn assertion(c: &mut Checker<'_>, a: &ast::AssertDecl, module: u32) {
    let pid = match c.names.lookup(module, &a.param.name) {
        Lookup::Found(Def {
            kind: DefKind::Param(p),
            ..
        }) => *p,
        _ => {
            c.unknown_name(module, &a.param, "parameter");
            return;
        }
    };
    let mut s = Scope {
        module,
        no_records: true,
        ..Scope::default()
    };
    let mut every = Vec::new();
    for (v, ks) in &a.every {
        if let Some((e, set)) = c.key_set(ks, module) {
            let l = c.new_local(&v.name, Ty::Enum(e, set));
            s.locals.push((v.name.clone(), l));
            every.push((l, e, set));
        }
    }
    if let Some((from, to)) = a.window
        && to < from
    {
        c.err(
            Diagnostic::error("E0701", "the window `in force` is empty")
                .with_label(a.name.span, "its end is before its start"),
        );
    }
    let cond = check_against(c, &mut s, &a.cond, &Ty::Bool, "the assertion");
    c.prog.asserts.push(AssertDef {
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

fn test(c: &mut Checker<'_>, t: &ast::TestDecl, module: u32) {
    let mut ids: HashMap<String, (usize, u32)> = HashMap::new();
    let mut rec_types = Vec::new();
    for (i, r) in t.records.iter().enumerate() {
        let rid = match c.names.lookup(module, &r.record.name) {
            Lookup::Found(Def {
                kind: DefKind::Record(x),
                ..
            }) => *x,
            _ => {
                c.unknown_name(module, &r.record, "record");
                rec_types.push(None);
                continue;
            }
        };
        if ids.contains_key(&r.id.name) {
            c.err(
                Diagnostic::error(
                    "E0804",
                    format!("this test has two records named `{}`", r.id.name),
                )
                .with_label(r.id.span, "repeated name"),
            );
        }
        ids.insert(r.id.name.clone(), (i, rid));
        rec_types.push(Some(rid));
    }
    let mut s = Scope {
        module,
        test: Some(ids.clone()),
        ..Scope::default()
    };
    let mut records = Vec::new();
    for (r, rid) in t.records.iter().zip(&rec_types) {
        let Some(rid) = *rid else { continue };
        let fields = c.prog.records[rid as usize].fields.clone();
        let key = c.prog.records[rid as usize].key;
        let mut values: Vec<Option<TestValue>> = vec![None; fields.len()];
        for (name, e) in &r.fields {
            let Some((fid, fd)) = c.prog.records[rid as usize]
                .field(&name.name)
                .map(|(i, f)| (i, f.clone()))
            else {
                unknown_field(c, rid, name);
                continue;
            };
            if values[fid as usize].is_some() {
                c.err(
                    Diagnostic::error("E0803", format!("`{}` is given twice", name.name))
                        .with_label(name.span, "repeated field"),
                );
                continue;
            }
            match &fd.kind {
                FieldKind::Members { .. } => {
                    c.err(
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
                                let tn = c.prog.records[target as usize].name.clone();
                                c.err(
                                    Diagnostic::error(
                                        "E0805",
                                        format!("`{}` is not a `{tn}` of this test", id.name),
                                    )
                                    .with_label(id.span, "wrong kind of record"),
                                );
                                None
                            }
                            None => {
                                let tn = c.prog.records[target as usize].name.clone();
                                c.err(
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
                            c.err(
                                Diagnostic::error("E0805", "a link names a record of the test")
                                    .with_label(e.span, "not a record name"),
                            );
                            None
                        }
                    };
                    // A wrong link was reported: not "missing" as well.
                    values[fid as usize] = Some(v.unwrap_or(TestValue::Absent));
                }
                FieldKind::Column => {
                    values[fid as usize] = field_value(c, &mut s, &fd, e);
                    if values[fid as usize].is_none() {
                        values[fid as usize] = Some(TestValue::Absent);
                    }
                }
            }
        }
        // Fill in keys, defaults and absent optionals; report the rest.
        let defaults = c.defaults.get(&rid).cloned().unwrap_or_default();
        let mut missing = Vec::new();
        let mut out = Vec::new();
        for (fi, fd) in fields.iter().enumerate() {
            let v = match values[fi].take() {
                Some(v) => v,
                None => match (&fd.kind, &fd.ty) {
                    (FieldKind::Members { .. }, _) => TestValue::Absent,
                    _ if key == Some(fi as u32) => match fd.ty {
                        Ty::Text => TestValue::Text(r.id.name.clone()),
                        _ => TestValue::Scalar(out.len() as i64),
                    },
                    _ => match defaults.get(&(fi as u32)) {
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
            let rn = c.prog.records[rid as usize].name.clone();
            c.err(
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
            record: rid,
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
            const KINDS: &[&str] = &[
                "overflow",
                "division_by_zero",
                "exception_conflict",
                "no_row",
                "ambiguous_row",
                "empty",
                "date_out_of_range",
                "no_value",
            ];
            if !KINDS.contains(&kind.as_str()) {
                let span = x
                    .fails
                    .as_ref()
                    .and_then(|k| k.as_ref())
                    .map(|k| k.span)
                    .unwrap_or(x.span);
                c.err(
                    Diagnostic::error(
                        "E0807",
                        format!("`{kind}` is not a kind of evaluation error"),
                    )
                    .with_label(span, "unknown kind")
                    .with_help(format!("the kinds are {}", KINDS.join(", "))),
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
        c.err(
            Diagnostic::warning("W0801", format!("the test \"{}\" expects nothing", t.name))
                .with_label(t.name_span, "no `expect`")
                .with_help("add `expect rule(record) == value`"),
        );
    }
    c.prog.tests.push(TestDef {
        name: t.name.clone(),
        module,
        as_of: t.as_of,
        records,
        expects,
        span: t.name_span,
    });
}

fn output(c: &mut Checker<'_>, modules: &[ModuleSource], oi: usize, at: ItemRef) {
    let Some(Item::Output(o)) = item(modules, at) else {
        return;
    };
    let Some(od) = c.prog.outputs.get(oi) else {
        return;
    };
    if od.record == u32::MAX {
        return;
    }
    let (rid, binder) = (od.record, od.binder);
    let mut s = Scope {
        module: at.module as u32,
        ..Scope::default()
    };
    s.locals.push((o.binder.name.clone(), binder));
    let mut cols: Vec<ColumnDef> = Vec::new();
    for (name, e) in &o.columns {
        if cols.iter().any(|c| c.name == name.name) {
            c.err(
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
                let field = c.prog.records[rid as usize]
                    .field(&name.name)
                    .map(|(i, f)| (i, f.clone()));
                match field {
                    Some((fid, fd)) => {
                        let rec = Expr::new(ExprKind::Local(binder), Ty::Record(rid), name.span);
                        Expr::new(ExprKind::Field(bx(rec), rid, fid), fd.ty.clone(), name.span)
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
                        let is_rule = matches!(c.names.lookup(s.module, &name.name), Lookup::Found(Def { kind: DefKind::Rule(r), .. }) if c.prog.rules.get(*r as usize).map(|r| r.param.is_some()).unwrap_or(false));
                        let is_global = matches!(c.names.lookup(s.module, &name.name), Lookup::Found(Def { kind: DefKind::Rule(r), .. }) if c.prog.rules.get(*r as usize).map(|r| r.param.is_none()).unwrap_or(false));
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
                            let rn = c.prog.records[rid as usize].name.clone();
                            let mut d = Diagnostic::error(
                                "E0809",
                                format!("`{}` is neither a field of `{rn}` nor a rule", name.name),
                            )
                            .with_label(name.span, "unknown column");
                            let fields = &c.prog.records[rid as usize].fields;
                            let sugg = c.suggestions.closest(&name.name, || {
                                let mut cands: Vec<&str> =
                                    fields.iter().map(|f| f.name.as_str()).collect();
                                cands.extend(c.names.visible_names(s.module));
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
                            c.err(d);
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
            let shown = c.prog.show(&typed.ty);
            let help = match typed.ty {
                Ty::Record(_) => "write the key, e.g. `p.household.household_id`".to_string(),
                Ty::Cascade(_) => {
                    "choose one of its parts, e.g. `medical(p).out_of_pocket`".to_string()
                }
                _ => "outputs hold single values".to_string(),
            };
            c.err(
                Diagnostic::error("E0810", format!("a column cannot hold `{shown}`"))
                    .with_label(typed.span, "not a single value")
                    .with_help(help),
            );
            continue;
        }
        if matches!(typed.ty, Ty::Text) && !is_field_path(&typed) {
            c.err(
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
    if let Some(od) = c.prog.outputs.get_mut(oi) {
        od.columns = cols;
    }
}

fn is_field_path(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Field(b, _, _) => matches!(b.kind, ExprKind::Local(_)) || is_field_path(b),
        _ => false,
    }
}

fn programme(c: &mut Checker<'_>, p: &ast::ProgrammeDecl, module: u32) {
    let oid = match c.names.lookup(module, &p.output.name) {
        Lookup::Found(Def {
            kind: DefKind::Output(o),
            ..
        }) => *o as usize,
        _ => {
            c.unknown_name(module, &p.output, "output");
            return;
        }
    };
    let cols: Vec<(String, Ty)> = c.prog.outputs[oid]
        .columns
        .iter()
        .map(|c| (c.name.clone(), c.expr.ty.clone()))
        .collect();
    let mut amounts = Vec::new();
    for a in &p.amounts {
        match cols.iter().position(|(n, _)| *n == a.name) {
            Some(i) if matches!(cols[i].1, Ty::Money(_)) => amounts.push(i),
            Some(i) => {
                let shown = c.prog.show(&cols[i].1);
                c.err(
                    Diagnostic::error(
                        "E0811",
                        format!("the amount `{}` is a `{shown}`, not money", a.name),
                    )
                    .with_label(a.span, "not money"),
                );
            }
            None => {
                let sugg = c
                    .suggestions
                    .closest(&a.name, || cols.iter().map(|(n, _)| n.as_str()));
                let mut d = Diagnostic::error(
                    "E0811",
                    format!("the output `{}` has no column `{}`", p.output.name, a.name),
                )
                .with_label(a.span, "unknown column");
                if let Some(s) = sugg.first() {
                    d = d.with_help(format!("did you mean `{s}`?"));
                }
                c.err(d);
            }
        }
    }
    let recipients = match &p.recipients {
        None => None,
        Some(e) => match &e.kind {
            A::Name(n) => match cols.iter().position(|(c, _)| *c == n.name) {
                Some(i) if cols[i].1 == Ty::Bool => Some(i),
                _ => {
                    c.err(
                        Diagnostic::error("E0812", format!("`{}` is not a true/false column of `{}`", n.name, p.output.name))
                            .with_label(n.span, "recipients are counted by a Bool column")
                            .with_help("name a Bool column of the output, or leave `recipients` out to count everyone with an amount above zero"),
                    );
                    None
                }
            },
            _ => {
                c.err(
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
    c.prog.programmes.push(ProgrammeDef {
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

// ---------------------------------------------------------- expressions

/// Check `e` and require its type to fit `want`.
pub fn check_against(
    c: &mut Checker<'_>,
    s: &mut Scope,
    e: &ast::Expr,
    want: &Ty,
    what: &str,
) -> Expr {
    let got = expr(c, s, e, Some(want));
    require(c, got, want, what)
}

fn require(c: &mut Checker<'_>, got: Expr, want: &Ty, what: &str) -> Expr {
    if got.ty.fits(want) {
        return coerce(got, want);
    }
    let (g, w) = (c.prog.show(&got.ty), c.prog.show(want));
    let mut d = Diagnostic::error(
        "E0330",
        format!("{what} should be `{w}`, but this is `{g}`"),
    )
    .with_label(got.span, format!("this is `{g}`"));
    d = match (&got.ty, want) {
        (Ty::Money(_), Ty::Money(_)) => d.with_help("amounts of different periods do not mix: convert with `per_month(…)` or `per_year(…)`, or multiply by a duration (`× 12 months`)"),
        (Ty::Enum(e1, _), Ty::Enum(e2, _)) if e1 == e2 => d.with_help("some variants are not allowed here: narrow the value first with `match` or `if`"),
        (Ty::Opt(_), _) => d.with_help("the value may be absent: decide with `match x { absent => …, v => … }`"),
        (Ty::Cascade(_), _) => d.with_help("use one of the cascade's parts, e.g. `medical(p).out_of_pocket`"),
        (Ty::Int, Ty::Decimal) => d.with_help("convert with `decimal(…)`"),
        (Ty::Int | Ty::IntLit, Ty::Money(_)) => d.with_help("write an amount with `¥`, e.g. `¥0`"),
        (Ty::Decimal, Ty::Money(_)) => d.with_help("multiply a rate by an amount to get money"),
        _ => d,
    };
    c.err(d);
    Expr::error(got.span)
}

/// Give literals the type their context needs.
pub fn coerce(mut e: Expr, want: &Ty) -> Expr {
    match (&e.ty, want) {
        (Ty::IntLit, Ty::Decimal) => {
            scale_lits(&mut e, MICRO, Ty::Decimal);
            e
        }
        (Ty::IntLit, Ty::Dur(u)) => {
            let t = Ty::Dur(*u);
            scale_lits(&mut e, 1, t);
            e
        }
        (Ty::IntLit, Ty::Int) => {
            scale_lits(&mut e, 1, Ty::Int);
            e
        }
        (Ty::Money(Per::Any), Ty::Money(p)) if *p != Per::Any => {
            retype_money(&mut e, *p);
            e
        }
        (Ty::Enum(..), Ty::Enum(..)) => e,
        _ => e,
    }
}

fn scale_lits(e: &mut Expr, factor: i64, ty: Ty) {
    if e.ty != Ty::IntLit {
        return;
    }
    e.ty = ty.clone();
    match &mut e.kind {
        ExprKind::Const(v) => *v = v.saturating_mul(factor),
        ExprKind::Neg(x) => scale_lits(x, factor, ty),
        ExprKind::If(_, a, b) => {
            scale_lits(a, factor, ty.clone());
            scale_lits(b, factor, ty);
        }
        ExprKind::Let(_, _, b) => scale_lits(b, factor, ty),
        ExprKind::Match(_, arms) => {
            for a in arms {
                scale_lits(&mut a.body, factor, ty.clone());
            }
        }
        ExprKind::Arith(op, a, b) => {
            // Only Add/Sub/Mul of literals stay literals.
            match op {
                ArithOp::Add | ArithOp::Sub => {
                    scale_lits(a, factor, ty.clone());
                    scale_lits(b, factor, ty);
                }
                _ => {
                    scale_lits(a, factor, ty.clone());
                    if factor != 1 {
                        // (a × b) in millionths = a_millionths × b
                        scale_lits(b, 1, Ty::Int);
                    } else {
                        scale_lits(b, 1, ty);
                    }
                }
            }
        }
        ExprKind::Builtin(_, args) => {
            for a in args {
                scale_lits(a, factor, ty.clone());
            }
        }
        _ => {}
    }
}

fn retype_money(e: &mut Expr, p: Per) {
    if e.ty != Ty::Money(Per::Any) {
        return;
    }
    e.ty = Ty::Money(p);
    match &mut e.kind {
        ExprKind::Neg(x) => retype_money(x, p),
        ExprKind::If(_, a, b) | ExprKind::Arith(_, a, b) => {
            retype_money(a, p);
            retype_money(b, p);
        }
        ExprKind::Let(_, _, b) => retype_money(b, p),
        ExprKind::Match(_, arms) => {
            for a in arms {
                retype_money(&mut a.body, p);
            }
        }
        ExprKind::Builtin(_, args) => {
            for a in args {
                retype_money(a, p);
            }
        }
        _ => {}
    }
}

fn add_dep(c: &mut Checker<'_>, s: &Scope, target: RuleId, span: Span) {
    if let Some(r) = s.rule
        && let Some(d) = c.deps.get_mut(r as usize)
        && !d.iter().any(|(t, _)| *t == target)
    {
        d.push((target, span));
    }
}

/// A variant named `name`: in the expected enum first, else in the one
/// enum that has it.
fn variant(c: &mut Checker<'_>, id: &ast::Ident, expect: Option<&Ty>) -> Option<Expr> {
    if let Some(Ty::Enum(e, _)) = expect
        && let Some(i) = c
            .prog
            .enums
            .get(*e as usize)
            .and_then(|en| en.variants.iter().position(|v| v.name == id.name))
    {
        return Some(Expr::new(
            ExprKind::Const(i as i64),
            Ty::Enum(*e, 1u64 << i),
            id.span,
        ));
    }
    let hits: Vec<(u32, usize)> = c
        .prog
        .enums
        .iter()
        .enumerate()
        .filter_map(|(ei, en)| {
            en.variants
                .iter()
                .position(|v| v.name == id.name)
                .map(|vi| (ei as u32, vi))
        })
        .collect();
    match hits.as_slice() {
        [] => None,
        [(e, i)] => Some(Expr::new(
            ExprKind::Const(*i as i64),
            Ty::Enum(*e, 1u64 << i),
            id.span,
        )),
        many => {
            let names: Vec<String> = many
                .iter()
                .map(|(e, _)| c.prog.enums[*e as usize].name.clone())
                .collect();
            c.err(
                Diagnostic::error(
                    "E0302",
                    format!(
                        "`{}` is a variant of several enums: {}",
                        id.name,
                        names.join(", ")
                    ),
                )
                .with_label(id.span, "which one?")
                .with_help(format!("write `{}.{}`", names[0], id.name)),
            );
            Some(Expr::error(id.span))
        }
    }
}

/// The key and type of a place (a local or a chain of fields on one).
fn place(c: &Checker<'_>, s: &Scope, e: &ast::Expr) -> Option<(String, Ty)> {
    match &e.kind {
        A::Name(id) => {
            if let Some(l) = s.local(&id.name) {
                let ty = c.prog.locals.get(l as usize)?.ty.clone();
                return Some((format!("#{l}"), ty));
            }
            let (rid, l) = s.fields_of?;
            let (_, fd) = c.prog.records.get(rid as usize)?.field(&id.name)?;
            Some((format!("#{l}.{}", id.name), field_ty(fd)))
        }
        A::Field(base, f) => {
            let (k, t) = place(c, s, base)?;
            let Ty::Record(rid) = t else { return None };
            let (_, fd) = c.prog.records.get(rid as usize)?.field(&f.name)?;
            Some((format!("{k}.{}", f.name), field_ty(fd)))
        }
        _ => None,
    }
}

fn field_ty(fd: &FieldDef) -> Ty {
    match &fd.kind {
        FieldKind::Column => fd.ty.clone(),
        FieldKind::Link { target, .. } => Ty::Record(*target),
        FieldKind::Members { of } => Ty::List(*of),
    }
}

/// How deep `facts` looks into `and`, `or` and `not`: every `and` of a
/// chain asks again about its left side, so an unbounded look would make a
/// chain of n conditions cost n² (a 15,000-long chain took half a minute).
const FACT_DEPTH: usize = 32;

/// What a condition being `positive` tells about enum places.
fn facts(c: &Checker<'_>, s: &Scope, cond: &ast::Expr, positive: bool) -> Vec<(String, u64)> {
    facts_at(c, s, cond, positive, 0)
}

fn facts_at(
    c: &Checker<'_>,
    s: &Scope,
    cond: &ast::Expr,
    positive: bool,
    depth: usize,
) -> Vec<(String, u64)> {
    if depth > FACT_DEPTH {
        return vec![];
    }
    let variant_of = |e: u32, x: &ast::Expr| -> Option<usize> {
        let name = match &x.kind {
            A::Name(id) => &id.name,
            A::Field(b, f) => match &b.kind {
                A::Name(en)
                    if c.prog
                        .enums
                        .get(e as usize)
                        .map(|x| x.name == en.name)
                        .unwrap_or(false) =>
                {
                    &f.name
                }
                _ => return None,
            },
            _ => return None,
        };
        c.prog
            .enums
            .get(e as usize)?
            .variants
            .iter()
            .position(|v| v.name == *name)
    };
    match &cond.kind {
        A::Compare(a, rest) if rest.len() == 1 => {
            let (op, b) = (&rest[0].0, &rest[0].1);
            let (key, e) = match place(c, s, a) {
                Some((k, Ty::Enum(e, _))) => (k, e),
                _ => return vec![],
            };
            let Some(v) = variant_of(e, b) else {
                return vec![];
            };
            let bit = 1u64 << v;
            let eq = match op {
                CmpOp::Eq => true,
                CmpOp::Ne => false,
                _ => return vec![],
            };
            let set = if eq == positive {
                bit
            } else {
                full_set(
                    c.prog
                        .enums
                        .get(e as usize)
                        .map(|x| x.variants.len())
                        .unwrap_or(0),
                ) & !bit
            };
            vec![(key, set)]
        }
        A::InSet(a, items) => {
            let (key, e) = match place(c, s, a) {
                Some((k, Ty::Enum(e, _))) => (k, e),
                _ => return vec![],
            };
            let mut bits = 0u64;
            for i in items {
                match variant_of(e, i) {
                    Some(v) => bits |= 1u64 << v,
                    None => return vec![],
                }
            }
            let n = c
                .prog
                .enums
                .get(e as usize)
                .map(|x| x.variants.len())
                .unwrap_or(0);
            vec![(key, if positive { bits } else { full_set(n) & !bits })]
        }
        A::Not(x) => facts_at(c, s, x, !positive, depth + 1),
        A::Binary(BinOp::And, a, b) if positive => {
            let mut v = facts_at(c, s, a, true, depth + 1);
            v.extend(facts_at(c, s, b, true, depth + 1));
            v
        }
        A::Binary(BinOp::Or, a, b) if !positive => {
            let mut v = facts_at(c, s, a, false, depth + 1);
            v.extend(facts_at(c, s, b, false, depth + 1));
            v
        }
        _ => vec![],
    }
}

fn with_facts<T>(s: &mut Scope, f: Vec<(String, u64)>, body: impl FnOnce(&mut Scope) -> T) -> T {
    let n = s.narrow.len();
    s.narrow.extend(f);
    let out = body(s);
    s.narrow.truncate(n);
    out
}

fn narrow_ty(s: &Scope, key: &str, ty: Ty) -> Ty {
    match (ty, s.narrowed(key)) {
        (Ty::Enum(e, set), Some(n)) => Ty::Enum(e, set & n),
        (t, _) => t,
    }
}

pub fn expr(c: &mut Checker<'_>, s: &mut Scope, e: &ast::Expr, expect: Option<&Ty>) -> Expr {
    let span = e.span;
    match &e.kind {
        A::Error => Expr::error(span),
        // In a test, a record with a quoted id is named by its quoted text
        // where a record is expected.
        A::Lit(ast::LitKind::Text(t))
            if matches!(expect, Some(Ty::Record(_)))
                && s.test.as_ref().is_some_and(|m| m.contains_key(t)) =>
        {
            match (s.test.as_ref().and_then(|m| m.get(t)), expect) {
                (Some((idx, rid)), Some(Ty::Record(want))) if rid == want => {
                    Expr::new(ExprKind::TestRecord(*idx), Ty::Record(*rid), span)
                }
                _ => lit(&ast::LitKind::Text(t.clone()), span),
            }
        }
        A::Lit(l) => lit(l, span),
        A::Per(inner, p) => {
            let x = expr(c, s, inner, None);
            let per = per_of(Some(*p));
            match x.ty {
                Ty::Money(Per::Any) => {
                    let mut x = x;
                    retype_money(&mut x, per);
                    x.span = span;
                    x
                }
                Ty::Money(q) if q == per => x,
                Ty::Error => x,
                _ => {
                    let shown = c.prog.show(&x.ty);
                    c.err(
                        Diagnostic::error(
                            "E0331",
                            format!("`per` gives a period to an amount, not to a `{shown}`"),
                        )
                        .with_label(span, "not an amount without a period")
                        .with_help("write `¥500 per month`"),
                    );
                    Expr::error(span)
                }
            }
        }
        A::AsOf => Expr::new(ExprKind::AsOf, Ty::Date, span),
        A::Remains => {
            match s.remains {
                Some(l) => {
                    let ty = c
                        .prog
                        .locals
                        .get(l as usize)
                        .map(|x| x.ty.clone())
                        .unwrap_or(Ty::Error);
                    Expr::new(ExprKind::Local(l), ty, span)
                }
                None => {
                    c.err(
                    Diagnostic::error("E0332", "`remains` only has a meaning in a step of a cascade")
                        .with_label(span, "outside a cascade")
                        .with_help("in a cascade, `remains` is what the previous payers left of the amount"),
                );
                    Expr::error(span)
                }
            }
        }
        A::Name(id) => name(c, s, id, expect, e),
        A::Field(base, f) => field(c, s, base, f, e),
        A::Index(base, idx) => index(c, s, base, idx, span),
        A::Call(f, args) => call(c, s, f, args, span, expect),
        A::At(x, d) => {
            let inner = expr(c, s, x, expect);
            let ty = inner.ty.clone();
            Expr::new(ExprKind::At(bx(inner), Shift::Date(*d)), ty, span)
        }
        A::Neg(x) => {
            let v = expr(c, s, x, expect);
            match v.ty {
                Ty::Int | Ty::IntLit | Ty::Decimal | Ty::Money(_) | Ty::Dur(_) | Ty::Error => {
                    let ty = v.ty.clone();
                    if let ExprKind::Const(n) = v.kind
                        && let Some(m) = n.checked_neg()
                    {
                        return Expr::new(ExprKind::Const(m), ty, span);
                    }
                    Expr::new(ExprKind::Neg(bx(v)), ty, span)
                }
                _ => {
                    let shown = c.prog.show(&v.ty);
                    c.err(
                        Diagnostic::error("E0333", format!("a `{shown}` cannot be negative"))
                            .with_label(span, "negated here"),
                    );
                    Expr::error(span)
                }
            }
        }
        A::Not(x) => {
            let v = check_against(c, s, x, &Ty::Bool, "the operand of `not`");
            Expr::new(ExprKind::Not(bx(v)), Ty::Bool, span)
        }
        A::Binary(op, a, b) => binary(c, s, *op, a, b, span, expect),
        A::Compare(first, rest) => {
            let mut acc: Option<Expr> = None;
            let mut left = first.as_ref();
            for (op, right) in rest {
                let cmp = compare(c, s, *op, left, right, span);
                acc = Some(match acc {
                    None => cmp,
                    Some(a) => Expr::new(ExprKind::And(bx(a), bx(cmp)), Ty::Bool, span),
                });
                left = right;
            }
            acc.unwrap_or_else(|| Expr::error(span))
        }
        A::InSet(x, items) => {
            let v = expr(c, s, x, None);
            let vt = v.ty.settle();
            if !v.ty.is_scalar() && !v.ty.is_error() {
                let shown = c.prog.show(&v.ty);
                c.err(
                    Diagnostic::error("E0334", format!("`in {{…}}` cannot test a `{shown}`"))
                        .with_label(x.span, "not a plain value"),
                );
                return Expr::error(span);
            }
            let mut acc: Option<Expr> = None;
            for it in items {
                let w = expr(c, s, it, Some(&vt));
                let w = if let (Ty::Enum(a, _), Ty::Enum(b, _)) = (&vt, &w.ty) {
                    if a == b {
                        w
                    } else {
                        require(c, w, &vt, "a member of the set")
                    }
                } else {
                    require(c, w, &vt, "a member of the set")
                };
                let cmp = Expr::new(
                    ExprKind::Cmp(CmpOp::Eq, bx(v.clone()), bx(w)),
                    Ty::Bool,
                    it.span,
                );
                acc = Some(match acc {
                    None => cmp,
                    Some(a) => Expr::new(ExprKind::Or(bx(a), bx(cmp)), Ty::Bool, span),
                });
            }
            let mut out = acc.unwrap_or_else(|| Expr::new(ExprKind::Const(0), Ty::Bool, span));
            out.span = span;
            out
        }
        A::If(cnd, t, f) => {
            let cv = check_against(c, s, cnd, &Ty::Bool, "the condition of `if`");
            let pos = facts(c, s, cnd, true);
            let neg = facts(c, s, cnd, false);
            let tv = with_facts(s, pos, |s| expr(c, s, t, expect));
            let fv = with_facts(s, neg, |s| expr(c, s, f, expect));
            join_branches(c, cv, tv, fv, span, |cv, tv, fv| {
                ExprKind::If(bx(cv), bx(tv), bx(fv))
            })
        }
        A::Let(n, v, b) => {
            let vv = expr(c, s, v, None);
            if matches!(vv.ty, Ty::Cascade(_)) {
                c.err(
                    Diagnostic::error("E0335", "a cascade cannot be named with `let`")
                        .with_label(v.span, "use its parts directly"),
                );
            }
            let l = c.new_local(&n.name, vv.ty.settle());
            s.locals.push((n.name.clone(), l));
            let bv = expr(c, s, b, expect);
            s.locals.pop();
            let ty = bv.ty.clone();
            Expr::new(
                ExprKind::Let(l, bx(coerce(vv.clone(), &vv.ty.settle())), bx(bv)),
                ty,
                span,
            )
        }
        A::Match(scrut, arms) => match_expr(c, s, scrut, arms, span, expect),
        A::Agg {
            kind,
            body,
            var,
            over,
            filter,
        } => agg(
            c,
            s,
            *kind,
            body.as_deref(),
            var,
            over,
            filter.as_deref(),
            span,
        ),
    }
}

fn lit(l: &ast::LitKind, span: Span) -> Expr {
    use ast::LitKind as L;
    match l {
        L::Bool(b) => Expr::new(ExprKind::Const(*b as i64), Ty::Bool, span),
        L::Int(v) => Expr::new(ExprKind::Const(*v), Ty::IntLit, span),
        L::Decimal(v) => Expr::new(ExprKind::Const(*v), Ty::Decimal, span),
        L::Money(v) => Expr::new(ExprKind::Const(*v), Ty::Money(Per::Any), span),
        L::Date(d) => Expr::new(ExprKind::Const(*d as i64), Ty::Date, span),
        L::Text(t) => Expr::new(ExprKind::Text(t.clone()), Ty::Text, span),
        L::Duration(n, u) => Expr::new(ExprKind::Const(*n), Ty::Dur(dur_unit(*u)), span),
    }
}

fn join_branches(
    c: &mut Checker<'_>,
    cv: Expr,
    tv: Expr,
    fv: Expr,
    span: Span,
    mk: impl FnOnce(Expr, Expr, Expr) -> ExprKind,
) -> Expr {
    match tv.ty.join(&fv.ty) {
        Some(ty) => {
            let tv = coerce(tv, &ty);
            let fv = coerce(fv, &ty);
            Expr::new(mk(cv, tv, fv), ty, span)
        }
        None => {
            let (a, b) = (c.prog.show(&tv.ty), c.prog.show(&fv.ty));
            let mut d = Diagnostic::error(
                "E0336",
                format!("the branches give different types: `{a}` and `{b}`"),
            )
            .with_label(tv.span, format!("`{a}`"))
            .with_label(fv.span, format!("`{b}`"));
            if matches!((&tv.ty, &fv.ty), (Ty::Money(_), Ty::Money(_))) {
                d = d.with_help("amounts of different periods do not mix: convert one with `per_month(…)` or `per_year(…)`");
            } else {
                d = d.with_help("both branches of an `if` must give a value of the same type");
            }
            c.err(d);
            Expr::error(span)
        }
    }
}

fn name(
    c: &mut Checker<'_>,
    s: &mut Scope,
    id: &ast::Ident,
    expect: Option<&Ty>,
    whole: &ast::Expr,
) -> Expr {
    let span = id.span;
    if let Some(l) = s.local(&id.name) {
        let ty = c
            .prog
            .locals
            .get(l as usize)
            .map(|x| x.ty.clone())
            .unwrap_or(Ty::Error);
        let ty = match place(c, s, whole) {
            Some((k, _)) => narrow_ty(s, &k, ty),
            None => ty,
        };
        return Expr::new(ExprKind::Local(l), ty, span);
    }
    if let Some((rid, self_l)) = s.fields_of
        && let Some((fid, fd)) = c
            .prog
            .records
            .get(rid as usize)
            .and_then(|r| r.field(&id.name))
    {
        let ty = field_ty(fd);
        let ty = match place(c, s, whole) {
            Some((k, _)) => narrow_ty(s, &k, ty),
            None => ty,
        };
        let rec = Expr::new(ExprKind::Local(self_l), Ty::Record(rid), span);
        return Expr::new(ExprKind::Field(bx(rec), rid, fid), ty, span);
    }
    if let Some(test) = &s.test
        && let Some((idx, rid)) = test.get(&id.name)
    {
        return Expr::new(ExprKind::TestRecord(*idx), Ty::Record(*rid), span);
    }
    // An expected enum's variant wins over a global of the same name.
    if let Some(Ty::Enum(e, _)) = expect
        && c.prog
            .enums
            .get(*e as usize)
            .map(|en| en.variants.iter().any(|v| v.name == id.name))
            .unwrap_or(false)
        && let Some(v) = variant(c, id, expect)
    {
        return v;
    }
    match c.names.lookup(s.module, &id.name) {
        Lookup::Found(d) => {
            let kind = d.kind;
            match kind {
                DefKind::Rule(r) => {
                    let Some(rd) = c.prog.rules.get(r as usize).cloned() else {
                        return Expr::error(span);
                    };
                    if let Some((_, rec)) = rd.param {
                        let rn = c
                            .prog
                            .records
                            .get(rec as usize)
                            .map(|x| x.name.clone())
                            .unwrap_or_default();
                        c.err(
                            Diagnostic::error(
                                "E0337",
                                format!("`{}` is a rule of a `{rn}`: say which one", id.name),
                            )
                            .with_label(span, "missing its record")
                            .with_help(format!("write `{}(…)` with a `{rn}`", id.name)),
                        );
                        return Expr::error(span);
                    }
                    if matches!(rd.kind, RuleKind::Scale(_)) || c.scale_params.contains_key(&r) {
                        c.err(
                            Diagnostic::error(
                                "E0337",
                                format!("the scale `{}` needs its amount", id.name),
                            )
                            .with_label(span, "missing arguments")
                            .with_help(format!("write `{}(amount, …)`", id.name)),
                        );
                        return Expr::error(span);
                    }
                    add_dep(c, s, r, span);
                    let ret = rd.ret.clone();
                    Expr::new(ExprKind::Rule(r, None), ret, span)
                }
                DefKind::Param(p) => {
                    let Some(pd) = c.prog.params.get(p as usize) else {
                        return Expr::error(span);
                    };
                    if !pd.keys.is_empty() {
                        let keys: Vec<String> = pd
                            .keys
                            .iter()
                            .map(|(e, _)| {
                                c.prog
                                    .enums
                                    .get(*e as usize)
                                    .map(|x| x.name.clone())
                                    .unwrap_or_default()
                            })
                            .collect();
                        c.err(
                            Diagnostic::error(
                                "E0338",
                                format!(
                                    "`{}` holds one value per {}: say which",
                                    id.name,
                                    keys.join(" and ")
                                ),
                            )
                            .with_label(span, "missing its keys")
                            .with_help(format!("write `{}[…]`", id.name)),
                        );
                        return Expr::error(span);
                    }
                    let ty = pd.ty.clone();
                    Expr::new(ExprKind::Param(p, vec![]), ty, span)
                }
                other => {
                    let what = other.describe();
                    let help = match other {
                        DefKind::Enum(_) => {
                            format!("write one of its variants, e.g. `{}.…`", id.name)
                        }
                        DefKind::Record(_) => {
                            "records are the input of rules, not values".to_string()
                        }
                        _ => "use a rule or a parameter here".to_string(),
                    };
                    c.err(
                        Diagnostic::error("E0339", format!("`{}` is {what}, not a value", id.name))
                            .with_label(span, "not a value")
                            .with_help(help),
                    );
                    Expr::error(span)
                }
            }
        }
        Lookup::NotImported(..) => {
            c.unknown_name(s.module, id, "value");
            Expr::error(span)
        }
        Lookup::Unknown => {
            if let Some(v) = variant(c, id, expect) {
                return v;
            }
            // Suggest locals too.
            let (names, prog) = (&c.names, &c.prog);
            let sugg = c.suggestions.closest(&id.name, || {
                let mut cands: Vec<&str> = s.locals.iter().map(|(n, _)| n.as_str()).collect();
                cands.extend(names.visible_names(s.module));
                if let Some((rid, _)) = s.fields_of {
                    cands.extend(
                        prog.records[rid as usize]
                            .fields
                            .iter()
                            .map(|f| f.name.as_str()),
                    );
                }
                if let Some(Ty::Enum(e, _)) = expect {
                    cands.extend(
                        prog.enums[*e as usize]
                            .variants
                            .iter()
                            .map(|v| v.name.as_str()),
                    );
                }
                cands
            });
            let mut d =
                Diagnostic::error("E0203", format!("there is no value named `{}`", id.name))
                    .with_label(span, "unknown name");
            if let Some(sg) = sugg.first() {
                d = d.with_help(format!("did you mean `{sg}`?"));
            }
            c.err(d);
            Expr::error(span)
        }
    }
}

fn field(
    c: &mut Checker<'_>,
    s: &mut Scope,
    base: &ast::Expr,
    f: &ast::Ident,
    whole: &ast::Expr,
) -> Expr {
    let span = whole.span;
    // `Enum.variant`
    if let A::Name(en) = &base.kind
        && s.local(&en.name).is_none()
        && let Lookup::Found(Def {
            kind: DefKind::Enum(e),
            ..
        }) = c.names.lookup(s.module, &en.name)
    {
        let e = *e;
        let ed = &c.prog.enums[e as usize];
        return match ed.variants.iter().position(|v| v.name == f.name) {
            Some(i) => Expr::new(ExprKind::Const(i as i64), Ty::Enum(e, 1u64 << i), span),
            None => {
                let names: Vec<String> = ed.variants.iter().map(|v| v.name.clone()).collect();
                let ename = ed.name.clone();
                let sugg = c
                    .suggestions
                    .closest(&f.name, || names.iter().map(|x| x.as_str()));
                let mut d = Diagnostic::error(
                    "E0303",
                    format!("`{}` is not a variant of `{ename}`", f.name),
                )
                .with_label(f.span, "unknown variant");
                d = match sugg.first() {
                    Some(sg) => d.with_help(format!("did you mean `{sg}`?")),
                    None => d.with_help(format!("the variants are {}", names.join(", "))),
                };
                c.err(d);
                Expr::error(span)
            }
        };
    }
    let b = expr(c, s, base, None);
    match b.ty.clone() {
        Ty::Record(rid) => {
            if s.no_records {
                c.err(
                    Diagnostic::error("E0340", "records have no meaning here")
                        .with_label(span, "a record's field"),
                );
                return Expr::error(span);
            }
            let Some((fid, fd)) = c
                .prog
                .records
                .get(rid as usize)
                .and_then(|r| r.field(&f.name))
            else {
                unknown_field(c, rid, f);
                return Expr::error(span);
            };
            let ty = field_ty(fd);
            let ty = match place(c, s, whole) {
                Some((k, _)) => narrow_ty(s, &k, ty),
                None => ty,
            };
            Expr::new(ExprKind::Field(bx(b), rid, fid), ty, span)
        }
        Ty::Cascade(cid) => {
            let (steps, rem): (Vec<String>, String) =
                match c.prog.rules.get(cid as usize).map(|r| &r.kind) {
                    Some(RuleKind::Cascade(cd)) => (
                        cd.steps.iter().map(|s| s.name.clone()).collect(),
                        cd.remainder.clone(),
                    ),
                    _ => return Expr::error(span),
                };
            let idx = if f.name == rem {
                Some(steps.len())
            } else {
                steps.iter().position(|x| *x == f.name)
            };
            let ty = c
                .prog
                .rules
                .get(cid as usize)
                .map(|r| r.ret.clone())
                .unwrap_or(Ty::Error);
            match idx {
                Some(i) => {
                    let arg = match b.kind {
                        ExprKind::Rule(_, a) => a,
                        _ => None,
                    };
                    Expr::new(ExprKind::CascadePart(cid, i, arg), ty, span)
                }
                None => {
                    let mut all = steps.clone();
                    all.push(rem);
                    let sugg = c
                        .suggestions
                        .closest(&f.name, || all.iter().map(|x| x.as_str()));
                    let cname = c.prog.rules[cid as usize].name.clone();
                    let mut d = Diagnostic::error(
                        "E0341",
                        format!("the cascade `{cname}` has no part `{}`", f.name),
                    )
                    .with_label(f.span, "unknown part");
                    d = match sugg.first() {
                        Some(sg) => d.with_help(format!("did you mean `{sg}`?")),
                        None => d.with_help(format!("its parts are {}", all.join(", "))),
                    };
                    c.err(d);
                    Expr::error(span)
                }
            }
        }
        Ty::Error => Expr::error(span),
        other => {
            let shown = c.prog.show(&other);
            c.err(
                Diagnostic::error("E0342", format!("a `{shown}` has no fields"))
                    .with_label(f.span, format!("`.{}` on a `{shown}`", f.name))
                    .with_help("only records and cascades have parts reached with `.`"),
            );
            Expr::error(span)
        }
    }
}

fn index(
    c: &mut Checker<'_>,
    s: &mut Scope,
    base: &ast::Expr,
    idx: &[ast::Expr],
    span: Span,
) -> Expr {
    let A::Name(pn) = &base.kind else {
        c.err(
            Diagnostic::error("E0343", "only a parameter can be indexed")
                .with_label(base.span, "not a parameter name")
                .with_help("write `parameter[key]`"),
        );
        return Expr::error(span);
    };
    let pid = match c.names.lookup(s.module, &pn.name) {
        Lookup::Found(Def {
            kind: DefKind::Param(p),
            ..
        }) => *p,
        Lookup::Found(d) => {
            let what = d.kind.describe();
            c.err(
                Diagnostic::error(
                    "E0343",
                    format!("`{}` is {what}; only a parameter can be indexed", pn.name),
                )
                .with_label(pn.span, "not a parameter"),
            );
            return Expr::error(span);
        }
        _ => {
            if s.local(&pn.name).is_some() {
                c.err(
                    Diagnostic::error("E0343", "only a parameter can be indexed")
                        .with_label(pn.span, "a local value"),
                );
            } else {
                c.unknown_name(s.module, pn, "parameter");
            }
            return Expr::error(span);
        }
    };
    let pd = c.prog.params[pid as usize].clone();
    if pd.keys.len() != idx.len() {
        let msg = if pd.keys.is_empty() {
            format!("`{}` has a single value and no keys", pn.name)
        } else {
            format!(
                "`{}` takes {} key(s), not {}",
                pn.name,
                pd.keys.len(),
                idx.len()
            )
        };
        c.err(Diagnostic::error("E0344", msg).with_label(span, "wrong number of keys"));
        return Expr::error(span);
    }
    let mut keys = Vec::new();
    for ((e, set), k) in pd.keys.iter().zip(idx) {
        let n = c
            .prog
            .enums
            .get(*e as usize)
            .map(|x| x.variants.len())
            .unwrap_or(0);
        let want_any = Ty::Enum(*e, full_set(n));
        let kv = expr(c, s, k, Some(&Ty::Enum(*e, *set)));
        match &kv.ty {
            Ty::Enum(ke, kset) if ke == e => {
                let outside = kset & !set;
                if outside != 0 {
                    let v = outside.trailing_zeros() as usize;
                    let vname = c.prog.enums[*e as usize]
                        .variants
                        .get(v)
                        .map(|x| x.name.clone())
                        .unwrap_or_default();
                    c.err(
                        Diagnostic::error("E0345", format!("`{}` has no value for `{vname}`, which this key may be", pn.name))
                            .with_label(k.span, format!("may be `{vname}`"))
                            .with_help(format!("decide the `{vname}` case first, e.g. `match … {{ {vname} => …, other => {}[other] }}`", pn.name)),
                    );
                }
                keys.push(kv);
            }
            Ty::Error => keys.push(kv),
            _ => {
                keys.push(require(c, kv, &want_any, "the key"));
            }
        }
    }
    let ty = pd.ty.clone();
    Expr::new(ExprKind::Param(pid, keys), ty, span)
}

fn arg_count(
    c: &mut Checker<'_>,
    f: &ast::Ident,
    args: &[ast::Arg],
    n: std::ops::RangeInclusive<usize>,
    span: Span,
) -> bool {
    if n.contains(&args.len()) {
        return true;
    }
    let want = if n.start() == n.end() {
        format!("{}", n.start())
    } else if *n.end() == usize::MAX {
        format!("at least {}", n.start())
    } else {
        format!("{} to {}", n.start(), n.end())
    };
    c.err(
        Diagnostic::error(
            "E0346",
            format!(
                "`{}` takes {want} {}, not {}",
                f.name,
                if want == "1" { "argument" } else { "arguments" },
                args.len()
            ),
        )
        .with_label(span, "wrong number of arguments"),
    );
    false
}

fn positional<'a>(c: &mut Checker<'_>, args: &'a [ast::Arg]) -> Vec<&'a ast::Expr> {
    let mut out = Vec::new();
    for a in args {
        if let Some(n) = &a.name {
            c.err(
                Diagnostic::error(
                    "E0347",
                    format!("this function has no argument named `{}`", n.name),
                )
                .with_label(n.span, "unexpected name")
                .with_help("remove `name:`"),
            );
        }
        out.push(&a.value);
    }
    out
}

fn call(
    c: &mut Checker<'_>,
    s: &mut Scope,
    f: &ast::Ident,
    args: &[ast::Arg],
    span: Span,
    expect: Option<&Ty>,
) -> Expr {
    let builtin = crate::resolve::BUILTINS.contains(&f.name.as_str());
    if builtin {
        return call_builtin(c, s, f, args, span, expect);
    }
    let rid = match c.names.lookup(s.module, &f.name) {
        Lookup::Found(Def {
            kind: DefKind::Rule(r),
            ..
        }) => *r,
        Lookup::Found(d) => {
            let what = d.kind.describe();
            let help = if matches!(d.kind, DefKind::Param(_)) {
                format!("a parameter's keys go in square brackets: `{}[…]`", f.name)
            } else {
                "only rules, tables, scales and cascades are applied with `(…)`".to_string()
            };
            c.err(
                Diagnostic::error(
                    "E0348",
                    format!("`{}` is {what} and cannot be applied", f.name),
                )
                .with_label(f.span, "not a rule")
                .with_help(help),
            );
            return Expr::error(span);
        }
        _ => {
            c.unknown_name(s.module, f, "rule");
            return Expr::error(span);
        }
    };
    add_dep(c, s, rid, f.span);
    let ret = c
        .prog
        .rules
        .get(rid as usize)
        .map(|r| r.ret.clone())
        .unwrap_or(Ty::Error);
    if let Some(params) = c.scale_params.get(&rid).cloned() {
        let pos = positional(c, args);
        if !arg_count(c, f, args, params.len()..=params.len(), span) {
            return Expr::error(span);
        }
        let mut out = Vec::new();
        for (a, l) in pos.into_iter().zip(&params) {
            let t = c
                .prog
                .locals
                .get(*l as usize)
                .map(|x| x.ty.clone())
                .unwrap_or(Ty::Error);
            out.push(check_against(c, s, a, &t, "this argument"));
        }
        // A marginal scale's result has the period of its amount.
        let ty = match (&ret, out.first().map(|a| &a.ty)) {
            (Ty::Money(Per::Any), Some(Ty::Money(p))) => Ty::Money(*p),
            _ => ret,
        };
        return Expr::new(ExprKind::Scale(rid, out), ty, span);
    }
    let param = c.prog.rules.get(rid as usize).and_then(|r| r.param);
    let is_cascade = c.cascade_rules.contains(&rid);
    let pos = positional(c, args);
    let arg = match param {
        None => {
            if !pos.is_empty() {
                c.err(
                    Diagnostic::error("E0346", format!("`{}` takes no record", f.name))
                        .with_label(span, "remove the arguments")
                        .with_help(format!("write `{}`", f.name)),
                );
            }
            None
        }
        Some((_, rec)) => {
            if pos.len() != 1 {
                let rn = c
                    .prog
                    .records
                    .get(rec as usize)
                    .map(|x| x.name.clone())
                    .unwrap_or_default();
                c.err(
                    Diagnostic::error("E0346", format!("`{}` takes one `{rn}`", f.name))
                        .with_label(span, format!("{} argument(s) given", pos.len())),
                );
                return Expr::error(span);
            }
            let a = check_against(c, s, pos[0], &Ty::Record(rec), "the record");
            Some(bx(a))
        }
    };
    if is_cascade {
        return Expr::new(ExprKind::Rule(rid, arg), Ty::Cascade(rid), span);
    }
    Expr::new(ExprKind::Rule(rid, arg), ret, span)
}

fn unit_of(c: &mut Checker<'_>, a: &ast::Arg, ty: &Ty) -> Option<i64> {
    match ty {
        Ty::Money(_) => {
            let A::Name(u) = &a.value.kind else {
                c.err(
                    Diagnostic::error("E0349", "`to:` takes a unit of money")
                        .with_label(a.value.span, "not a unit")
                        .with_help("write `to: yuan`, `to: jiao` or `to: fen`"),
                );
                return None;
            };
            match u.name.as_str() {
                "fen" => Some(1),
                "jiao" => Some(10),
                "yuan" => Some(FEN),
                "ten_yuan" => Some(10 * FEN),
                "hundred_yuan" => Some(100 * FEN),
                _ => {
                    c.err(
                        Diagnostic::error("E0349", format!("`{}` is not a unit of money", u.name))
                            .with_label(u.span, "unknown unit")
                            .with_help("write `to: yuan`, `to: jiao` or `to: fen`"),
                    );
                    None
                }
            }
        }
        Ty::Decimal => {
            let A::Lit(ast::LitKind::Int(n)) = &a.value.kind else {
                c.err(
                    Diagnostic::error("E0349", "`places:` takes a number of decimal places")
                        .with_label(a.value.span, "not a number")
                        .with_help("write `places: 2`"),
                );
                return None;
            };
            if !(0..=6).contains(n) {
                c.err(
                    Diagnostic::error("E0349", "decimals have 0 to 6 places")
                        .with_label(a.value.span, "out of range"),
                );
                return None;
            }
            Some(10i64.pow(6 - *n as u32))
        }
        _ => None,
    }
}

fn call_builtin(
    c: &mut Checker<'_>,
    s: &mut Scope,
    f: &ast::Ident,
    args: &[ast::Arg],
    span: Span,
    expect: Option<&Ty>,
) -> Expr {
    let name = f.name.as_str();
    match name {
        "round" => {
            let Some(first) = args.first() else {
                arg_count(c, f, args, 1..=2, span);
                return Expr::error(span);
            };
            if args.len() > 2 {
                arg_count(c, f, args, 1..=2, span);
                return Expr::error(span);
            }
            let v = expr(c, s, &first.value, expect);
            let unit = match (args.get(1), &v.ty) {
                (None, Ty::Money(_)) => Some(1),
                (None, Ty::Decimal) => Some(1),
                (Some(a), t @ Ty::Money(_))
                    if a.name.as_ref().map(|n| n.name == "to").unwrap_or(false) =>
                {
                    unit_of(c, a, t)
                }
                (Some(a), t @ Ty::Decimal)
                    if a.name.as_ref().map(|n| n.name == "places").unwrap_or(false) =>
                {
                    unit_of(c, a, t)
                }
                (_, Ty::Error) => None,
                (Some(a), Ty::Money(_)) => {
                    c.err(
                        Diagnostic::error("E0349", "money is rounded `to:` a unit")
                            .with_label(a.value.span, "write `to: yuan`"),
                    );
                    None
                }
                (Some(a), Ty::Decimal) => {
                    c.err(
                        Diagnostic::error("E0349", "a decimal is rounded to a number of `places:`")
                            .with_label(a.value.span, "write `places: 2`"),
                    );
                    None
                }
                (_, other) => {
                    let shown = c.prog.show(other);
                    c.err(
                        Diagnostic::error(
                            "E0349",
                            format!("`round` works on money and decimals, not `{shown}`"),
                        )
                        .with_label(first.value.span, "nothing to round"),
                    );
                    None
                }
            };
            let Some(unit) = unit else {
                return Expr::error(span);
            };
            let ty = v.ty.clone();
            // Around a rounding product or quotient: change that operation's
            // unit, so the exact value is rounded once. The result is wrapped
            // in `RoundTo(unit)` (which changes nothing: it is already a
            // multiple of the unit) so that an enclosing `round` rounds this
            // value instead of reaching into the product again.
            let inner = match v.kind {
                ExprKind::Arith(ArithOp::MulRound { den, .. }, a, b) => Expr::new(
                    ExprKind::Arith(ArithOp::MulRound { den, unit }, a, b),
                    ty.clone(),
                    v.span,
                ),
                ExprKind::Arith(ArithOp::DivRound { pre, .. }, a, b) => Expr::new(
                    ExprKind::Arith(ArithOp::DivRound { pre, unit }, a, b),
                    ty.clone(),
                    v.span,
                ),
                kind => Expr::new(kind, ty.clone(), v.span),
            };
            Expr::new(
                ExprKind::Builtin(Builtin::RoundTo(unit), vec![inner]),
                ty,
                span,
            )
        }
        "prior_year" => {
            if !arg_count(c, f, args, 1..=1, span) {
                return Expr::error(span);
            }
            let pos = positional(c, args);
            let v = expr(c, s, pos[0], expect);
            let ty = v.ty.clone();
            Expr::new(ExprKind::At(bx(v), Shift::PriorYear), ty, span)
        }
        "min" | "max" => {
            let pos = positional(c, args);
            if !arg_count(c, f, args, 2..=usize::MAX, span) {
                return Expr::error(span);
            }
            let mut vals: Vec<Expr> = pos.iter().map(|a| expr(c, s, a, expect)).collect();
            let mut ty = vals[0].ty.clone();
            for v in &vals[1..] {
                match ty.join(&v.ty) {
                    Some(t) => ty = t,
                    None => {
                        let (a, b) = (c.prog.show(&ty), c.prog.show(&v.ty));
                        c.err(
                            Diagnostic::error(
                                "E0350",
                                format!(
                                    "`{name}` compares values of one type, not `{a}` and `{b}`"
                                ),
                            )
                            .with_label(v.span, format!("`{b}`"))
                            .with_help("amounts must have the same period"),
                        );
                        return Expr::error(span);
                    }
                }
            }
            if !ty.is_ordered() && !ty.is_error() {
                let shown = c.prog.show(&ty);
                c.err(
                    Diagnostic::error(
                        "E0350",
                        format!("`{name}` needs ordered values, not `{shown}`"),
                    )
                    .with_label(span, "no order"),
                );
                return Expr::error(span);
            }
            vals = vals.into_iter().map(|v| coerce(v, &ty)).collect();
            Expr::new(
                ExprKind::Builtin(
                    if name == "min" {
                        Builtin::Min
                    } else {
                        Builtin::Max
                    },
                    vals,
                ),
                ty,
                span,
            )
        }
        "clamp" => {
            let pos = positional(c, args);
            if !arg_count(c, f, args, 3..=3, span) {
                return Expr::error(span);
            }
            let x = expr(c, s, pos[0], expect);
            let lo = expr(c, s, pos[1], Some(&x.ty));
            let hi = expr(c, s, pos[2], Some(&x.ty));
            // One type for the three (an integer literal takes the bounds'
            // type, as in `min`); a bound that does not fit is reported
            // against the value's type.
            let xt = match x.ty.join(&lo.ty).and_then(|t| t.join(&hi.ty)) {
                Some(t) => t,
                None => x.ty.clone(),
            };
            let x = require(c, x, &xt, "the value");
            let lo = require(c, lo, &xt, "the lower bound");
            let hi = require(c, hi, &xt, "the upper bound");
            if !xt.is_ordered() && !xt.is_error() {
                let shown = c.prog.show(&xt);
                c.err(
                    Diagnostic::error(
                        "E0350",
                        format!("`clamp` needs ordered values, not `{shown}`"),
                    )
                    .with_label(span, "no order"),
                );
                return Expr::error(span);
            }
            Expr::new(ExprKind::Builtin(Builtin::Clamp, vec![x, lo, hi]), xt, span)
        }
        "abs" => {
            let pos = positional(c, args);
            if !arg_count(c, f, args, 1..=1, span) {
                return Expr::error(span);
            }
            let x = expr(c, s, pos[0], expect);
            if !x.ty.is_numeric() && !x.ty.is_error() {
                let shown = c.prog.show(&x.ty);
                c.err(
                    Diagnostic::error("E0351", format!("`abs` needs a number, not `{shown}`"))
                        .with_label(x.span, "not a number"),
                );
                return Expr::error(span);
            }
            let ty = x.ty.clone();
            Expr::new(ExprKind::Builtin(Builtin::Abs, vec![x]), ty, span)
        }
        "per_month" | "per_year" => {
            let pos = positional(c, args);
            if !arg_count(c, f, args, 1..=1, span) {
                return Expr::error(span);
            }
            let (from, to) = if name == "per_month" {
                (Per::Year, Per::Month)
            } else {
                (Per::Month, Per::Year)
            };
            let x = check_against(
                c,
                s,
                pos[0],
                &Ty::Money(from),
                if name == "per_month" {
                    "the yearly amount"
                } else {
                    "the monthly amount"
                },
            );
            let twelve = Expr::new(ExprKind::Const(12), Ty::Int, span);
            let op = if name == "per_month" {
                ArithOp::DivRound { pre: 1, unit: 1 }
            } else {
                ArithOp::Mul
            };
            Expr::new(ExprKind::Arith(op, bx(x), bx(twelve)), Ty::Money(to), span)
        }
        "years_between" | "months_between" | "days_between" => {
            let pos = positional(c, args);
            if !arg_count(c, f, args, 2..=2, span) {
                return Expr::error(span);
            }
            let a = check_against(c, s, pos[0], &Ty::Date, "the first date");
            let b = check_against(c, s, pos[1], &Ty::Date, "the second date");
            let (bi, u) = match name {
                "years_between" => (Builtin::YearsBetween, DurUnit::Years),
                "months_between" => (Builtin::MonthsBetween, DurUnit::Months),
                _ => (Builtin::DaysBetween, DurUnit::Days),
            };
            Expr::new(ExprKind::Builtin(bi, vec![a, b]), Ty::Dur(u), span)
        }
        "add_months" | "add_days" | "add_years" => {
            let pos = positional(c, args);
            if !arg_count(c, f, args, 2..=2, span) {
                return Expr::error(span);
            }
            let d = check_against(c, s, pos[0], &Ty::Date, "the date");
            let unit = match name {
                "add_months" => DurUnit::Months,
                "add_days" => DurUnit::Days,
                _ => DurUnit::Years,
            };
            let n = expr(c, s, pos[1], Some(&Ty::Dur(unit)));
            let n = match n.ty {
                Ty::Int => n,
                _ => require(c, n, &Ty::Dur(unit), "the number to add"),
            };
            let op = match unit {
                DurUnit::Days => ArithOp::AddDays,
                DurUnit::Months => ArithOp::AddMonths { factor: 1 },
                DurUnit::Years => ArithOp::AddMonths { factor: 12 },
            };
            Expr::new(ExprKind::Arith(op, bx(d), bx(n)), Ty::Date, span)
        }
        "year" | "month" | "day" => {
            let pos = positional(c, args);
            if !arg_count(c, f, args, 1..=1, span) {
                return Expr::error(span);
            }
            let d = check_against(c, s, pos[0], &Ty::Date, "the date");
            let b = match name {
                "year" => Builtin::Year,
                "month" => Builtin::Month,
                _ => Builtin::Day,
            };
            Expr::new(ExprKind::Builtin(b, vec![d]), Ty::Int, span)
        }
        "is_set" => {
            let pos = positional(c, args);
            if !arg_count(c, f, args, 1..=1, span) {
                return Expr::error(span);
            }
            let x = expr(c, s, pos[0], None);
            if !matches!(x.ty, Ty::Opt(_) | Ty::Error) {
                let shown = c.prog.show(&x.ty);
                c.err(
                    Diagnostic::error(
                        "E0352",
                        format!(
                            "`is_set` needs an optional value, but this `{shown}` is always present"
                        ),
                    )
                    .with_label(x.span, "not optional")
                    .with_help(
                        "`is_set` applies to fields declared with `?`, such as `job_start: Date?`",
                    ),
                );
                return Expr::error(span);
            }
            Expr::new(ExprKind::IsSet(bx(x)), Ty::Bool, span)
        }
        "decimal" => {
            let pos = positional(c, args);
            if !arg_count(c, f, args, 1..=1, span) {
                return Expr::error(span);
            }
            let x = check_against(c, s, pos[0], &Ty::Int, "the whole number");
            Expr::new(
                ExprKind::Builtin(Builtin::ToDecimal, vec![x]),
                Ty::Decimal,
                span,
            )
        }
        "int" => {
            let pos = positional(c, args);
            if !arg_count(c, f, args, 1..=1, span) {
                return Expr::error(span);
            }
            let x = expr(c, s, pos[0], None);
            if !matches!(x.ty, Ty::Dur(_) | Ty::Error) {
                let shown = c.prog.show(&x.ty);
                c.err(
                    Diagnostic::error(
                        "E0353",
                        format!("`int` turns a duration into a number, not a `{shown}`"),
                    )
                    .with_label(x.span, "not a duration"),
                );
                return Expr::error(span);
            }
            Expr::new(ExprKind::Builtin(Builtin::ToInt, vec![x]), Ty::Int, span)
        }
        "bands_start" | "bands_contiguous" | "min_rate" | "max_rate" => {
            let pos = positional(c, args);
            if !arg_count(c, f, args, 1..=1, span) {
                return Expr::error(span);
            }
            let x = expr(c, s, pos[0], None);
            let per = match x.ty {
                Ty::Bands(p) => p,
                Ty::Error => return Expr::error(span),
                _ => {
                    let shown = c.prog.show(&x.ty);
                    c.err(
                        Diagnostic::error(
                            "E0354",
                            format!("`{name}` looks at bands, not a `{shown}`"),
                        )
                        .with_label(x.span, "not bands"),
                    );
                    return Expr::error(span);
                }
            };
            let (b, ty) = match name {
                "bands_start" => (Builtin::BandsStart, Ty::Money(per)),
                "bands_contiguous" => (Builtin::BandsContiguous, Ty::Bool),
                "min_rate" => (Builtin::MinRate, Ty::Decimal),
                _ => (Builtin::MaxRate, Ty::Decimal),
            };
            Expr::new(ExprKind::Builtin(b, vec![x]), ty, span)
        }
        _ => {
            // sum/count/any/all written without a comprehension.
            c.err(
                Diagnostic::error(
                    "E0355",
                    format!("`{name}` goes over the members of a record"),
                )
                .with_label(span, "not a comprehension")
                .with_help(format!(
                    "write `{name}(m.field for m in h.members where …)`"
                )),
            );
            Expr::error(span)
        }
    }
}

fn binary(
    c: &mut Checker<'_>,
    s: &mut Scope,
    op: BinOp,
    a: &ast::Expr,
    b: &ast::Expr,
    span: Span,
    expect: Option<&Ty>,
) -> Expr {
    match op {
        BinOp::And | BinOp::Or => {
            let av = check_against(
                c,
                s,
                a,
                &Ty::Bool,
                if op == BinOp::And {
                    "an operand of `and`"
                } else {
                    "an operand of `or`"
                },
            );
            let f = facts(c, s, a, op == BinOp::And);
            let bv = with_facts(s, f, |s| {
                check_against(
                    c,
                    s,
                    b,
                    &Ty::Bool,
                    if op == BinOp::And {
                        "an operand of `and`"
                    } else {
                        "an operand of `or`"
                    },
                )
            });
            let k = if op == BinOp::And {
                ExprKind::And(bx(av), bx(bv))
            } else {
                ExprKind::Or(bx(av), bx(bv))
            };
            Expr::new(k, Ty::Bool, span)
        }
        BinOp::Iff => {
            let av = check_against(c, s, a, &Ty::Bool, "an operand of `iff`");
            let bv = check_against(c, s, b, &Ty::Bool, "an operand of `iff`");
            Expr::new(ExprKind::Cmp(CmpOp::Eq, bx(av), bx(bv)), Ty::Bool, span)
        }
        _ => {
            let av = expr(c, s, a, expect);
            let bexp = match (&av.ty, op) {
                (Ty::Money(_) | Ty::Decimal | Ty::Int | Ty::Dur(_), BinOp::Add | BinOp::Sub) => {
                    Some(av.ty.clone())
                }
                _ => None,
            };
            let bv = expr(c, s, b, bexp.as_ref().or(expect));
            arith(c, op, av, bv, span)
        }
    }
}

fn op_word(op: BinOp) -> &'static str {
    match op {
        BinOp::Add => "add",
        BinOp::Sub => "subtract",
        BinOp::Mul => "multiply",
        BinOp::Div => "divide",
        _ => "combine",
    }
}

fn arith(c: &mut Checker<'_>, op: BinOp, a: Expr, b: Expr, span: Span) -> Expr {
    use Ty::*;
    if a.ty.is_error() || b.ty.is_error() {
        return Expr::error(span);
    }
    let mk = |k: ArithOp, a: Expr, b: Expr, ty: Ty| {
        Expr::new(ExprKind::Arith(k, bx(a), bx(b)), ty, span)
    };
    let exact_div = ArithOp::DivRound {
        pre: MICRO,
        unit: 1,
    };
    let (at, bt) = (a.ty.clone(), b.ty.clone());
    let (asp, bsp) = (a.span, b.span);
    let r = match (op, &at, &bt) {
        // Integers and literals.
        (BinOp::Add | BinOp::Sub | BinOp::Mul, IntLit, IntLit) => {
            Some(mk(arith_op(op), a, b, IntLit))
        }
        (BinOp::Add | BinOp::Sub | BinOp::Mul, Int | IntLit, Int | IntLit) => {
            Some(mk(arith_op(op), coerce(a, &Int), coerce(b, &Int), Int))
        }
        (BinOp::Div, Int | IntLit, Int | IntLit) => {
            Some(mk(exact_div, coerce(a, &Int), coerce(b, &Int), Decimal))
        }
        // Decimals.
        (BinOp::Add | BinOp::Sub, Decimal | IntLit, Decimal | IntLit) => Some(mk(
            arith_op(op),
            coerce(a, &Decimal),
            coerce(b, &Decimal),
            Decimal,
        )),
        (BinOp::Mul, Decimal | IntLit, Decimal | IntLit) => Some(mk(
            ArithOp::MulRound {
                den: MICRO,
                unit: 1,
            },
            coerce(a, &Decimal),
            coerce(b, &Decimal),
            Decimal,
        )),
        (BinOp::Div, Decimal | IntLit, Decimal | IntLit) => Some(mk(
            exact_div,
            coerce(a, &Decimal),
            coerce(b, &Decimal),
            Decimal,
        )),
        // Money.
        (BinOp::Add | BinOp::Sub, Money(p), Money(q)) => match p.join(*q) {
            Some(per) => Some(mk(
                arith_op(op),
                coerce(a, &Money(per)),
                coerce(b, &Money(per)),
                Money(per),
            )),
            None => {
                let (x, y) = (c.prog.show(&at), c.prog.show(&bt));
                c.err(
                    Diagnostic::error("E0320", format!("cannot {} `{x}` and `{y}`", op_word(op)))
                        .with_label(a.span, format!("`{x}`"))
                        .with_label(b.span, format!("`{y}`"))
                        .with_help("amounts of different periods do not mix: convert one with `per_month(…)` or `per_year(…)`"),
                );
                return Expr::error(span);
            }
        },
        (BinOp::Mul, Money(p), Int | IntLit) => {
            Some(mk(ArithOp::Mul, a, coerce(b, &Int), Money(*p)))
        }
        (BinOp::Mul, Int | IntLit, Money(p)) => {
            Some(mk(ArithOp::Mul, b, coerce(a, &Int), Money(*p)))
        }
        (BinOp::Mul, Money(p), Decimal) => Some(mk(
            ArithOp::MulRound {
                den: MICRO,
                unit: 1,
            },
            a,
            b,
            Money(*p),
        )),
        (BinOp::Mul, Decimal, Money(p)) => Some(mk(
            ArithOp::MulRound {
                den: MICRO,
                unit: 1,
            },
            b,
            a,
            Money(*p),
        )),
        (BinOp::Mul, Money(Per::Month | Per::Any), Dur(DurUnit::Months)) => {
            Some(mk(ArithOp::Mul, a, b, Money(Per::Once)))
        }
        (BinOp::Mul, Dur(DurUnit::Months), Money(Per::Month | Per::Any)) => {
            Some(mk(ArithOp::Mul, b, a, Money(Per::Once)))
        }
        (BinOp::Mul, Money(Per::Year | Per::Any), Dur(DurUnit::Years)) => {
            Some(mk(ArithOp::Mul, a, b, Money(Per::Once)))
        }
        (BinOp::Mul, Dur(DurUnit::Years), Money(Per::Year | Per::Any)) => {
            Some(mk(ArithOp::Mul, b, a, Money(Per::Once)))
        }
        (BinOp::Div, Money(p), Int | IntLit) => Some(mk(
            ArithOp::DivRound { pre: 1, unit: 1 },
            a,
            coerce(b, &Int),
            Money(*p),
        )),
        (BinOp::Div, Money(p), Decimal) => Some(mk(
            ArithOp::DivRound {
                pre: MICRO,
                unit: 1,
            },
            a,
            b,
            Money(*p),
        )),
        (BinOp::Div, Money(p), Money(q)) if p.join(*q).is_some() => {
            Some(mk(exact_div, a, b, Decimal))
        }
        // Durations and dates.
        (BinOp::Add | BinOp::Sub, Dur(u), Dur(v)) if u == v => {
            Some(mk(arith_op(op), a, b, Dur(*u)))
        }
        (BinOp::Add | BinOp::Sub, Dur(u), IntLit) => {
            Some(mk(arith_op(op), a, coerce(b, &Dur(*u)), Dur(*u)))
        }
        (BinOp::Add | BinOp::Sub, IntLit, Dur(u)) => {
            Some(mk(arith_op(op), coerce(a, &Dur(*u)), b, Dur(*u)))
        }
        (BinOp::Mul, Dur(u), Int | IntLit) => Some(mk(ArithOp::Mul, a, coerce(b, &Int), Dur(*u))),
        (BinOp::Mul, Int | IntLit, Dur(u)) => Some(mk(ArithOp::Mul, b, coerce(a, &Int), Dur(*u))),
        (BinOp::Div, Dur(u), Dur(v)) if u == v => Some(mk(exact_div, a, b, Decimal)),
        (BinOp::Add | BinOp::Sub, Date, Dur(u)) => {
            let b = if op == BinOp::Sub {
                let t = b.ty.clone();
                let sp = b.span;
                Expr::new(ExprKind::Neg(bx(b)), t, sp)
            } else {
                b
            };
            let k = match u {
                DurUnit::Days => ArithOp::AddDays,
                DurUnit::Months => ArithOp::AddMonths { factor: 1 },
                DurUnit::Years => ArithOp::AddMonths { factor: 12 },
            };
            Some(mk(k, a, b, Date))
        }
        (BinOp::Add, Dur(u), Date) => {
            let k = match u {
                DurUnit::Days => ArithOp::AddDays,
                DurUnit::Months => ArithOp::AddMonths { factor: 1 },
                DurUnit::Years => ArithOp::AddMonths { factor: 12 },
            };
            Some(mk(k, b, a, Date))
        }
        (BinOp::Sub, Date, Date) => Some(mk(ArithOp::SubDates, a, b, Dur(DurUnit::Days))),
        _ => None,
    };
    match r {
        Some(e) => e,
        None => {
            let (x, y) = (c.prog.show(&at), c.prog.show(&bt));
            let help = match (op, &at, &bt) {
                (BinOp::Mul, Decimal, Int) | (BinOp::Mul, Int, Decimal) => {
                    "convert the whole number with `decimal(…)`".to_string()
                }
                (_, Money(_), Dur(_)) | (_, Dur(_), Money(_)) => {
                    "an amount per month times months (or per year times years) gives money"
                        .to_string()
                }
                (BinOp::Add | BinOp::Sub, Money(_), Int | IntLit | Decimal)
                | (BinOp::Add | BinOp::Sub, Int | IntLit | Decimal, Money(_)) => {
                    "write amounts of money with `¥`, e.g. `¥100`".to_string()
                }
                (_, Opt(_), _) | (_, _, Opt(_)) => {
                    "the value may be absent: decide with `match x { absent => …, v => … }`"
                        .to_string()
                }
                (BinOp::Mul, Money(_), Money(_)) => {
                    "multiply money by a whole number or a rate (`¥100 × 0.3`), never by money"
                        .to_string()
                }
                _ => "see the table of operations in the language reference".to_string(),
            };
            c.err(
                Diagnostic::error("E0321", format!("cannot {} `{x}` and `{y}`", op_word(op)))
                    .with_label(asp, format!("`{x}`"))
                    .with_label(bsp, format!("`{y}`"))
                    .with_help(help),
            );
            Expr::error(span)
        }
    }
}

fn arith_op(op: BinOp) -> ArithOp {
    match op {
        BinOp::Add => ArithOp::Add,
        BinOp::Sub => ArithOp::Sub,
        _ => ArithOp::Mul,
    }
}

fn compare(
    c: &mut Checker<'_>,
    s: &mut Scope,
    op: CmpOp,
    a: &ast::Expr,
    b: &ast::Expr,
    span: Span,
) -> Expr {
    // Type the side that can stand alone first, so a bare variant name on
    // the other side finds its enum.
    let a_bare = matches!(a.kind, A::Name(_)) && place(c, s, a).is_none();
    let (av, bv) = if a_bare {
        let bv = expr(c, s, b, None);
        let bt = bv.ty.settle();
        let av = expr(c, s, a, Some(&bt));
        (av, bv)
    } else {
        let av = expr(c, s, a, None);
        let at = av.ty.settle();
        let bv = expr(c, s, b, Some(&at));
        (av, bv)
    };
    if av.ty.is_error() || bv.ty.is_error() {
        return Expr::new(ExprKind::Cmp(op, bx(av), bx(bv)), Ty::Bool, span);
    }
    let joined = match (&av.ty, &bv.ty) {
        (Ty::Enum(x, _), Ty::Enum(y, _)) if x == y => Some(av.ty.clone()),
        _ => av.ty.join(&bv.ty),
    };
    let Some(ty) = joined else {
        let (x, y) = (c.prog.show(&av.ty), c.prog.show(&bv.ty));
        let mut d = Diagnostic::error("E0322", format!("cannot compare `{x}` with `{y}`"))
            .with_label(av.span, format!("`{x}`"))
            .with_label(bv.span, format!("`{y}`"));
        d = match (&av.ty, &bv.ty) {
            (Ty::Money(_), Ty::Money(_)) => d.with_help("amounts of different periods do not compare: convert one with `per_month(…)` or `per_year(…)`"),
            (Ty::Money(_), _) | (_, Ty::Money(_)) => d.with_help("write amounts of money with `¥`, e.g. `¥0`"),
            (Ty::Opt(_), _) | (_, Ty::Opt(_)) => d.with_help("the value may be absent: decide with `match x { absent => …, v => … }`"),
            _ => d,
        };
        c.err(d);
        return Expr::error(span);
    };
    let ordered = !matches!(op, CmpOp::Eq | CmpOp::Ne);
    if ordered && !ty.is_ordered() {
        let shown = c.prog.show(&ty);
        c.err(
            Diagnostic::error("E0323", format!("`{}` values have no order", shown))
                .with_label(span, format!("`{}` on `{shown}`", op.symbol()))
                .with_help("only numbers, amounts, durations and dates are ordered; compare with `==` or `!=`"),
        );
        return Expr::error(span);
    }
    if !ty.is_scalar() {
        let shown = c.prog.show(&ty);
        c.err(
            Diagnostic::error("E0323", format!("`{shown}` values cannot be compared"))
                .with_label(span, "not plain values"),
        );
        return Expr::error(span);
    }
    let settled = ty.settle();
    let av = coerce(av, &settled);
    let bv = coerce(bv, &settled);
    Expr::new(ExprKind::Cmp(op, bx(av), bx(bv)), Ty::Bool, span)
}

fn match_expr(
    c: &mut Checker<'_>,
    s: &mut Scope,
    scrut: &ast::Expr,
    arms: &[ast::MatchArm],
    span: Span,
    expect: Option<&Ty>,
) -> Expr {
    let sv = expr(c, s, scrut, None);
    let key = place(c, s, scrut).map(|(k, _)| k);
    let mut out_arms: Vec<Arm> = Vec::new();
    let mut ty: Option<Ty> = None;
    let push_body = |c: &mut Checker<'_>,
                     body: Expr,
                     ty: &mut Option<Ty>,
                     out: &mut Vec<Arm>,
                     pat: Pat,
                     bind: Option<LocalId>| {
        *ty = match ty.take() {
            None => Some(body.ty.clone()),
            Some(t) => match t.join(&body.ty) {
                Some(j) => Some(j),
                None => {
                    let (a, b) = (c.prog.show(&t), c.prog.show(&body.ty));
                    c.err(
                        Diagnostic::error(
                            "E0336",
                            format!("the arms give different types: `{a}` and `{b}`"),
                        )
                        .with_label(body.span, format!("`{b}`, where earlier arms give `{a}`")),
                    );
                    Some(Ty::Error)
                }
            },
        };
        out.push(Arm { pat, bind, body });
    };
    match sv.ty.clone() {
        Ty::Enum(e, set) => {
            let en = c.prog.enums.get(e as usize).cloned();
            let Some(en) = en else {
                return Expr::error(span);
            };
            let mut remaining = set;
            for arm in arms {
                let mut bits = 0u64;
                let mut bind_name: Option<&ast::Ident> = None;
                for p in &arm.patterns {
                    if p.name == "_" {
                        bits |= remaining;
                        continue;
                    }
                    // `Enum.variant` names the scrutinee's enum.
                    let pname = match p.name.split_once('.') {
                        Some((e, v)) if e == en.name => v,
                        Some((e, _)) => {
                            c.err(
                                Diagnostic::error(
                                    "E0303",
                                    format!("`{e}` is not the enum matched here"),
                                )
                                .with_label(p.span, format!("the value matched is a `{}`", en.name))
                                .with_help(format!("write `{}.…` or the variant alone", en.name)),
                            );
                            continue;
                        }
                        None => p.name.as_str(),
                    };
                    match en.variants.iter().position(|v| v.name == pname) {
                        Some(i) => {
                            if set & (1u64 << i) == 0 {
                                c.err(
                                    Diagnostic::error(
                                        "E0356",
                                        format!(
                                            "`{}` cannot be `{}` here",
                                            c.sources.slice(scrut.span),
                                            p.name
                                        ),
                                    )
                                    .with_label(p.span, "excluded earlier")
                                    .with_help("remove this pattern"),
                                );
                            } else if remaining & (1u64 << i) == 0 {
                                c.err(
                                    Diagnostic::error(
                                        "E0357",
                                        format!(
                                            "`{}` is already handled by an earlier arm",
                                            p.name
                                        ),
                                    )
                                    .with_label(p.span, "handled before")
                                    .with_help("remove this pattern"),
                                );
                            }
                            bits |= 1u64 << i;
                        }
                        None if arm.patterns.len() == 1 && !p.name.contains('.') => {
                            bind_name = Some(p);
                            bits |= remaining;
                        }
                        None => {
                            let names: Vec<String> =
                                en.variants.iter().map(|v| v.name.clone()).collect();
                            let sugg = c
                                .suggestions
                                .closest(&p.name, || names.iter().map(|x| x.as_str()));
                            let mut d = Diagnostic::error(
                                "E0303",
                                format!("`{}` is not a variant of `{}`", p.name, en.name),
                            )
                            .with_label(p.span, "unknown variant");
                            if let Some(sg) = sugg.first() {
                                d = d.with_help(format!("did you mean `{sg}`?"));
                            }
                            c.err(d);
                        }
                    }
                }
                let new_bits = bits & remaining;
                if new_bits == 0
                    && !arm.patterns.iter().any(|p| p.name == "_")
                    && bind_name.is_none()
                {
                    // Already reported per pattern.
                } else if new_bits == 0 {
                    c.err(
                        Diagnostic::error("E0357", "this arm can never be chosen")
                            .with_label(arm.span, "every case is handled above")
                            .with_help("remove the arm"),
                    );
                }
                remaining &= !bits;
                let narrow_set = new_bits;
                let mut facts = Vec::new();
                if let Some(k) = &key {
                    facts.push((k.clone(), narrow_set));
                }
                let bind = bind_name.map(|b| {
                    let l = c.new_local(&b.name, Ty::Enum(e, narrow_set));
                    (b.name.clone(), l)
                });
                if let Some((n, l)) = &bind {
                    s.locals.push((n.clone(), *l));
                }
                let body = with_facts(s, facts, |s| expr(c, s, &arm.body, expect));
                if bind.is_some() {
                    s.locals.pop();
                }
                push_body(
                    c,
                    body,
                    &mut ty,
                    &mut out_arms,
                    Pat::Variants(new_bits),
                    bind.map(|(_, l)| l),
                );
            }
            if remaining != 0 {
                let missing: Vec<String> = (0..en.variants.len())
                    .filter(|v| remaining & (1u64 << v) != 0)
                    .map(|v| format!("`{}`", en.variants[v].name))
                    .collect();
                c.err(
                    Diagnostic::error(
                        "E0358",
                        format!("this `match` does not decide {}", missing.join(", ")),
                    )
                    .with_label(scrut.span, "not every case is handled")
                    .with_help(format!(
                        "add an arm for {}, or end with `_ => …`",
                        missing.join(", ")
                    )),
                );
            }
        }
        Ty::Bool => {
            let mut remaining = 3u64;
            for arm in arms {
                let mut bits = 0u64;
                for p in &arm.patterns {
                    match p.name.as_str() {
                        "true" => bits |= 2,
                        "false" => bits |= 1,
                        "_" => bits |= remaining,
                        _ => {
                            c.err(
                                Diagnostic::error(
                                    "E0359",
                                    "a true/false value is matched with `true`, `false` or `_`",
                                )
                                .with_label(p.span, "not a pattern of Bool"),
                            );
                        }
                    }
                }
                if bits & remaining == 0 {
                    c.err(
                        Diagnostic::error("E0357", "this arm can never be chosen")
                            .with_label(arm.span, "every case is handled above"),
                    );
                }
                remaining &= !bits;
                let body = expr(c, s, &arm.body, expect);
                let pat = if bits == 3 {
                    Pat::Any
                } else {
                    Pat::Bool(bits == 2)
                };
                push_body(c, body, &mut ty, &mut out_arms, pat, None);
            }
            if remaining != 0 {
                c.err(
                    Diagnostic::error(
                        "E0358",
                        format!(
                            "this `match` does not decide `{}`",
                            if remaining & 2 != 0 { "true" } else { "false" }
                        ),
                    )
                    .with_label(scrut.span, "not every case is handled"),
                );
            }
        }
        Ty::Opt(inner) => {
            let mut has_absent = false;
            let mut has_value = false;
            for arm in arms {
                let mut bind = None;
                let mut pat = Pat::Any;
                if arm.patterns.len() != 1 {
                    c.err(
                        Diagnostic::error(
                            "E0359",
                            "an optional value is matched with `absent` or a name for the value",
                        )
                        .with_label(arm.span, "one pattern per arm"),
                    );
                    continue;
                }
                let p = &arm.patterns[0];
                match p.name.as_str() {
                    "absent" => {
                        if has_absent {
                            c.err(
                                Diagnostic::error("E0357", "`absent` is already handled")
                                    .with_label(p.span, "handled before"),
                            );
                        }
                        has_absent = true;
                        pat = Pat::Absent;
                    }
                    "_" => {
                        has_absent = true;
                        has_value = true;
                    }
                    n => {
                        if has_value {
                            c.err(
                                Diagnostic::error("E0357", "the present value is already handled")
                                    .with_label(p.span, "handled before"),
                            );
                        }
                        has_value = true;
                        let l = c.new_local(n, (*inner).clone());
                        bind = Some(l);
                    }
                }
                if let Some(l) = bind {
                    s.locals.push((p.name.clone(), l));
                }
                let body = expr(c, s, &arm.body, expect);
                if bind.is_some() {
                    s.locals.pop();
                }
                push_body(c, body, &mut ty, &mut out_arms, pat, bind);
            }
            if !has_absent || !has_value {
                c.err(
                    Diagnostic::error(
                        "E0358",
                        format!(
                            "this `match` does not decide the case where the value is {}",
                            if has_absent { "present" } else { "absent" }
                        ),
                    )
                    .with_label(scrut.span, "not every case is handled")
                    .with_help("match an optional with `absent => …` and `value => …`"),
                );
            }
        }
        Ty::Error => return Expr::error(span),
        other => {
            let shown = c.prog.show(&other);
            c.err(
                Diagnostic::error(
                    "E0359",
                    format!(
                        "`match` decides on enums, true/false and optional values, not `{shown}`"
                    ),
                )
                .with_label(scrut.span, "cannot match on this")
                .with_help("use `if` or a decision table for numbers and amounts"),
            );
            return Expr::error(span);
        }
    }
    let ty = ty.unwrap_or(Ty::Error);
    let arms = out_arms
        .into_iter()
        .map(|a| Arm {
            body: coerce(a.body, &ty),
            ..a
        })
        .collect();
    Expr::new(ExprKind::Match(bx(sv), arms), ty, span)
}

#[allow(clippy::too_many_arguments)]
fn agg(
    c: &mut Checker<'_>,
    s: &mut Scope,
    kind: AggKind,
    body: Option<&ast::Expr>,
    var: &ast::Ident,
    over: &ast::Expr,
    filter: Option<&ast::Expr>,
    span: Span,
) -> Expr {
    let ov = expr(c, s, over, None);
    let rid = match ov.ty {
        Ty::List(r) => r,
        Ty::Error => return Expr::error(span),
        _ => {
            let shown = c.prog.show(&ov.ty);
            c.err(
                Diagnostic::error(
                    "E0360",
                    format!("`{}` goes over members, not a `{shown}`", kind.name()),
                )
                .with_label(over.span, "not a list of members")
                .with_help("write e.g. `h.members`"),
            );
            return Expr::error(span);
        }
    };
    let l = c.new_local(&var.name, Ty::Record(rid));
    s.locals.push((var.name.clone(), l));
    let fv = filter.map(|f| check_against(c, s, f, &Ty::Bool, "the filter"));
    let bv = body.map(|b| expr(c, s, b, None));
    s.locals.pop();
    let ty = match (kind, &bv) {
        (AggKind::Count, None) => Ty::Int,
        (AggKind::Count, Some(b)) => {
            c.err(
                Diagnostic::error("E0361", "`count` counts members; it takes no value")
                    .with_label(b.span, "a value to count")
                    .with_help(format!("write `count({} in … where …)`", var.name)),
            );
            return Expr::error(span);
        }
        (_, None) => {
            c.err(
                Diagnostic::error(
                    "E0361",
                    format!("`{}` needs a value for each member", kind.name()),
                )
                .with_label(span, "no value")
                .with_help(format!(
                    "write `{}(… for {} in … )`",
                    kind.name(),
                    var.name
                )),
            );
            return Expr::error(span);
        }
        (AggKind::Any | AggKind::All, Some(b)) => {
            if !b.ty.fits(&Ty::Bool) {
                let shown = c.prog.show(&b.ty);
                c.err(
                    Diagnostic::error(
                        "E0361",
                        format!("`{}` needs a true/false value, not `{shown}`", kind.name()),
                    )
                    .with_label(b.span, "not true/false"),
                );
                return Expr::error(span);
            }
            Ty::Bool
        }
        (AggKind::Sum, Some(b)) => {
            if !b.ty.is_numeric() && !b.ty.is_error() {
                let shown = c.prog.show(&b.ty);
                c.err(
                    Diagnostic::error(
                        "E0361",
                        format!("`sum` adds numbers or amounts, not `{shown}`"),
                    )
                    .with_label(b.span, "cannot be added"),
                );
                return Expr::error(span);
            }
            b.ty.settle()
        }
        (AggKind::Min | AggKind::Max, Some(b)) => {
            if !b.ty.is_ordered() && !b.ty.is_error() {
                let shown = c.prog.show(&b.ty);
                c.err(
                    Diagnostic::error(
                        "E0361",
                        format!("`{}` needs ordered values, not `{shown}`", kind.name()),
                    )
                    .with_label(b.span, "no order"),
                );
                return Expr::error(span);
            }
            b.ty.settle()
        }
    };
    let bv = bv.map(|b| bx(coerce(b, &ty)));
    Expr::new(
        ExprKind::Agg {
            kind,
            var: l,
            over: bx(ov),
            body: bv,
            filter: fv.map(bx),
        },
        ty,
        span,
    )
}
