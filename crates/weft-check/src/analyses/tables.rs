//! Decision-table and exception analysis.
//!
//! Conditions are read as disjunctions of *boxes*: each box constrains some
//! *subjects* (a field, a rule's value, a `given` input, the evaluation
//! date for dated rows) to sets of values. Every type is an integer domain
//! (booleans 0/1, enum variants by index, money in fen, dates in days,
//! decimals in millionths), with its step (1), so `age ≤ 15 | age ≥ 16`
//! leaves no gap. The analysis splits each subject's domain at the
//! boundaries the rows mention and walks the product of the pieces,
//! pruning as soon as no box constrains the remaining subjects. Each piece
//! it reaches gives a concrete witness: a gap, two unique rows that both
//! apply, a `first` row that can never fire.
//!
//! Subjects are treated as independent: a witness may combine values that
//! other rules make impossible (an orphan aged 40). The help says what to
//! do then (`otherwise`, `hit first`). A condition the analysis cannot read
//! (arithmetic on inputs, comparisons of two inputs) makes no claim: the
//! table gets a warning and a run-time check instead.

use crate::ctx::Ctx;
use crate::hir::*;
use crate::ty::Ty;
use std::collections::HashMap;
use weft_syntax::ast::{CmpOp, HitPolicy};
use weft_syntax::num;
use weft_syntax::{Diagnostic, Span};

/// Inclusive intervals, sorted and disjoint.
type ISet = Vec<(i64, i64)>;

fn iset_intersect(a: &ISet, b: &ISet) -> ISet {
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let lo = a[i].0.max(b[j].0);
        let hi = a[i].1.min(b[j].1);
        if lo <= hi {
            out.push((lo, hi));
        }
        if a[i].1 < b[j].1 { i += 1 } else { j += 1 }
    }
    out
}

fn iset_contains(a: &ISet, lo: i64, hi: i64) -> bool {
    a.iter().any(|&(x, y)| x <= lo && hi <= y)
}

/// Subject index → allowed values; a missing subject is unconstrained.
#[derive(Clone, Debug, Default)]
struct BoxC(HashMap<usize, ISet>);

impl BoxC {
    fn intersect(&self, other: &BoxC) -> Option<BoxC> {
        let mut out = self.clone();
        for (k, v) in &other.0 {
            let nv = match out.0.get(k) {
                Some(cur) => iset_intersect(cur, v),
                None => v.clone(),
            };
            if nv.is_empty() {
                return None;
            }
            out.0.insert(*k, nv);
        }
        Some(out)
    }
}

struct Subject {
    key: String,
    display: String,
    ty: Ty,
    domain: ISet,
    /// A plain input field (witnesses over fields alone are certain).
    is_field: bool,
}

const EVAL_DATE: &str = "#as_of";
const MAX_BOXES: usize = 256;
const BUDGET: usize = 200_000;

struct Analyzer<'a, 'c> {
    c: &'a Ctx<'c>,
    subjects: Vec<Subject>,
    /// Given locals of the table: local → its expression.
    given: HashMap<LocalId, &'a Expr>,
}

impl<'a, 'c> Analyzer<'a, 'c> {
    fn new(c: &'a Ctx<'c>) -> Self {
        Analyzer {
            c,
            subjects: Vec::new(),
            given: HashMap::new(),
        }
    }

    /// A canonical key for a subject expression, if it is simple enough.
    fn key(&self, e: &Expr) -> Option<String> {
        match &e.kind {
            ExprKind::Local(l) => Some(format!("L{l}")),
            ExprKind::Field(b, _, f) => Some(format!("{}.{f}", self.key(b)?)),
            ExprKind::Rule(r, a) => Some(format!(
                "R{r}({})",
                match a {
                    Some(a) => self.key(a)?,
                    None => String::new(),
                }
            )),
            ExprKind::CascadePart(r, i, a) => Some(format!(
                "C{r}.{i}({})",
                match a {
                    Some(a) => self.key(a)?,
                    None => String::new(),
                }
            )),
            ExprKind::Param(p, keys) if keys.is_empty() => Some(format!("P{p}")),
            ExprKind::Param(p, keys) => {
                let ks: Option<Vec<String>> = keys
                    .iter()
                    .map(|k| match &k.kind {
                        ExprKind::Const(v) => Some(format!("{v}")),
                        _ => self.key(k),
                    })
                    .collect();
                Some(format!("P{p}[{}]", ks?.join(",")))
            }
            ExprKind::AsOf => Some("#asof_value".into()),
            _ => None,
        }
    }

    fn domain(&self, e: &Expr) -> ISet {
        // Every i64: an `Int` field can hold either limit, and a rule's
        // value can be any of them.
        let full = vec![(i64::MIN, i64::MAX)];
        match &e.ty {
            Ty::Bool => vec![(0, 1)],
            Ty::Enum(_, set) => (0..64)
                .filter(|v| set & (1u64 << v) != 0)
                .map(|v| (v, v))
                .collect(),
            Ty::Date => vec![(num::MIN_DATE as i64, num::MAX_DATE as i64)],
            _ => {
                let target = match &e.kind {
                    ExprKind::Local(l) => match self.given.get(l) {
                        Some(g) => g,
                        None => e,
                    },
                    _ => e,
                };
                if let ExprKind::Field(_, r, f) = &target.kind
                    && let Some(fd) = self.c.prog.records.get(*r).and_then(|r| r.fields.get(*f))
                {
                    if let Some((lo, hi)) = fd.range {
                        return vec![(lo.unwrap_or(i64::MIN), hi.unwrap_or(i64::MAX))];
                    }
                    if matches!(fd.ty, Ty::Money(_)) {
                        // Input money is never negative.
                        return vec![(0, i64::MAX)];
                    }
                }
                full
            }
        }
    }

    fn subject(&mut self, e: &Expr) -> Option<usize> {
        if !e.ty.is_scalar() || matches!(e.ty, Ty::Text) {
            return None;
        }
        let key = self.key(e)?;
        if let Some(i) = self.subjects.iter().position(|s| s.key == key) {
            return Some(i);
        }
        let display_expr = match &e.kind {
            ExprKind::Local(l) => self.given.get(l).copied().unwrap_or(e),
            _ => e,
        };
        let display = self.c.sources.slice(display_expr.span).to_string();
        let is_field = matches!(display_expr.kind, ExprKind::Field(..));
        let domain = self.domain(e);
        self.subjects.push(Subject {
            key,
            display,
            ty: e.ty.clone(),
            domain,
            is_field,
        });
        Some(self.subjects.len() - 1)
    }

    fn date_subject(&mut self) -> usize {
        if let Some(i) = self.subjects.iter().position(|s| s.key == EVAL_DATE) {
            return i;
        }
        self.subjects.push(Subject {
            key: EVAL_DATE.into(),
            display: "the evaluation date".into(),
            ty: Ty::Date,
            domain: vec![(num::MIN_DATE as i64, num::MAX_DATE as i64)],
            is_field: true,
        });
        self.subjects.len() - 1
    }

    fn atom(&mut self, op: CmpOp, subj: usize, v: i64) -> Option<BoxC> {
        let dom = self.subjects.get(subj)?.domain.clone();
        // Below and above `v`, empty at the i64 limits.
        let below = v.checked_sub(1).map(|b| (i64::MIN, b));
        let above = v.checked_add(1).map(|a| (a, i64::MAX));
        let set: ISet = match op {
            CmpOp::Eq => vec![(v, v)],
            CmpOp::Ne => below.into_iter().chain(above).collect(),
            CmpOp::Lt => below.into_iter().collect(),
            CmpOp::Le => vec![(i64::MIN, v)],
            CmpOp::Gt => above.into_iter().collect(),
            CmpOp::Ge => vec![(v, i64::MAX)],
        };
        let set: ISet = set.into_iter().filter(|(a, b)| a <= b).collect();
        let mut b = BoxC::default();
        b.0.insert(subj, iset_intersect(&dom, &set));
        Some(b)
    }

    /// The condition (negated if `neg`) as a disjunction of boxes; `None` if
    /// it cannot be read.
    fn dnf(&mut self, e: &Expr, neg: bool) -> Option<Vec<BoxC>> {
        match &e.kind {
            ExprKind::Const(v) if e.ty == Ty::Bool => Some(if (*v != 0) != neg {
                vec![BoxC::default()]
            } else {
                vec![]
            }),
            ExprKind::Not(x) => self.dnf(x, !neg),
            ExprKind::And(a, b) | ExprKind::Or(a, b) => {
                let is_and = matches!(e.kind, ExprKind::And(..)) != neg;
                let da = self.dnf(a, neg)?;
                let db = self.dnf(b, neg)?;
                if is_and {
                    let mut out = Vec::new();
                    for x in &da {
                        for y in &db {
                            if let Some(z) = x.intersect(y) {
                                out.push(z);
                                if out.len() > MAX_BOXES {
                                    return None;
                                }
                            }
                        }
                    }
                    Some(out)
                } else {
                    let mut out = da;
                    out.extend(db);
                    if out.len() > MAX_BOXES {
                        return None;
                    }
                    Some(out)
                }
            }
            ExprKind::Cmp(op, a, b) => {
                let op = if neg { negate(*op) } else { *op };
                match (&a.kind, &b.kind) {
                    (_, ExprKind::Const(v)) if !matches!(a.kind, ExprKind::Const(_)) => {
                        if a.ty == Ty::Bool
                            && matches!(b.kind, ExprKind::Const(_))
                            && !matches!(op, CmpOp::Eq | CmpOp::Ne)
                        {
                            return None;
                        }
                        let s = self.subject(a)?;
                        Some(
                            self.atom(op, s, *v)
                                .into_iter()
                                .filter(|b| b.0.values().all(|v| !v.is_empty()))
                                .collect(),
                        )
                    }
                    (ExprKind::Const(v), _) if !matches!(b.kind, ExprKind::Const(_)) => {
                        let s = self.subject(b)?;
                        Some(
                            self.atom(flip(op), s, *v)
                                .into_iter()
                                .filter(|b| b.0.values().all(|v| !v.is_empty()))
                                .collect(),
                        )
                    }
                    _ => None,
                }
            }
            _ if e.ty == Ty::Bool => {
                let s = self.subject(e)?;
                Some(
                    self.atom(CmpOp::Eq, s, if neg { 0 } else { 1 })
                        .into_iter()
                        .collect(),
                )
            }
            _ => None,
        }
    }

    fn show_value(&self, subj: usize, v: i64) -> String {
        let Some(s) = self.subjects.get(subj) else {
            return v.to_string();
        };
        match &s.ty {
            Ty::Bool => {
                if v != 0 {
                    "true".into()
                } else {
                    "false".into()
                }
            }
            Ty::Enum(e, _) => self
                .c
                .prog
                .enums
                .get(*e)
                .and_then(|en| en.variants.get(v as usize))
                .map(|x| x.name.clone())
                .unwrap_or_default(),
            Ty::Money(_) => format!("¥{}", num::format_money(v)),
            Ty::Decimal => num::format_decimal(v),
            Ty::Date => num::format_date(v as i32),
            _ => v.to_string(),
        }
    }

    /// "age(p) = 16 with p.self_care = partial".
    fn witness(&self, path: &[(usize, i64, i64)]) -> String {
        let mut parts: Vec<String> = Vec::new();
        let mut date = None;
        for &(s, lo, hi) in path {
            let Some(sub) = self.subjects.get(s) else {
                continue;
            };
            let domain_lo = sub.domain.first().map(|d| d.0).unwrap_or(i64::MIN);
            let domain_hi = sub.domain.last().map(|d| d.1).unwrap_or(i64::MAX);
            if lo == domain_lo && hi == domain_hi {
                continue;
            }
            // A representative: the end of the piece nearest a boundary the
            // rows mention.
            let v = if lo <= domain_lo { hi } else { lo };
            if sub.key == EVAL_DATE {
                date = Some(self.show_value(s, v));
                continue;
            }
            parts.push(format!("`{} = {}`", sub.display, self.show_value(s, v)));
        }
        let mut out = if parts.is_empty() {
            "any input".to_string()
        } else {
            parts.join(" with ")
        };
        if let Some(d) = date {
            out.push_str(&format!(", as of {d}"));
        }
        out
    }
}

fn negate(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Eq => CmpOp::Ne,
        CmpOp::Ne => CmpOp::Eq,
        CmpOp::Lt => CmpOp::Ge,
        CmpOp::Le => CmpOp::Gt,
        CmpOp::Gt => CmpOp::Le,
        CmpOp::Ge => CmpOp::Lt,
    }
}

fn flip(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Lt => CmpOp::Gt,
        CmpOp::Le => CmpOp::Ge,
        CmpOp::Gt => CmpOp::Lt,
        CmpOp::Ge => CmpOp::Le,
        o => o,
    }
}

/// A path through the pieces: `(subject, lo, hi)` per subject decided.
type Path = Vec<(usize, i64, i64)>;

/// What walking the pieces found.
#[derive(Default)]
struct Walk {
    gap: Option<Path>,
    overlap: Option<(usize, usize, Path)>,
    /// Rows that are the first to apply somewhere.
    fires: Vec<bool>,
    nodes: usize,
    gave_up: bool,
}

fn walk(
    an: &Analyzer<'_, '_>,
    depth: usize,
    boxes: &[(usize, &BoxC)],
    path: &mut Vec<(usize, i64, i64)>,
    w: &mut Walk,
) {
    w.nodes += 1;
    if w.nodes > BUDGET {
        w.gave_up = true;
        return;
    }
    if boxes.is_empty() {
        if w.gap.is_none() {
            w.gap = Some(path.clone());
        }
        return;
    }
    let n = an.subjects.len();
    let constrained_rest = (depth..n).any(|s| boxes.iter().any(|(_, b)| b.0.contains_key(&s)));
    if depth >= n || !constrained_rest {
        let first = boxes.iter().map(|(r, _)| *r).min().unwrap_or(0);
        if let Some(f) = w.fires.get_mut(first) {
            *f = true;
        }
        if w.overlap.is_none()
            && let Some((r2, _)) = boxes.iter().find(|(r, _)| *r != first)
        {
            w.overlap = Some((first, *r2, path.clone()));
        }
        return;
    }
    if !boxes.iter().any(|(_, b)| b.0.contains_key(&depth)) {
        walk(an, depth + 1, boxes, path, w);
        return;
    }
    // Elementary pieces of this subject's domain.
    let dom = &an.subjects[depth].domain;
    let mut cuts: Vec<i64> = Vec::new();
    for (_, b) in boxes {
        if let Some(set) = b.0.get(&depth) {
            for &(lo, hi) in set {
                cuts.push(lo);
                if hi < i64::MAX {
                    cuts.push(hi + 1);
                }
            }
        }
    }
    for &(lo, hi) in dom {
        cuts.push(lo);
        if hi < i64::MAX {
            cuts.push(hi + 1);
        }
    }
    cuts.sort_unstable();
    cuts.dedup();
    for (i, &start) in cuts.iter().enumerate() {
        let end = cuts.get(i + 1).map(|x| x - 1).unwrap_or(i64::MAX);
        if end < start || !iset_contains(dom, start, end) {
            continue;
        }
        let sub: Vec<(usize, &BoxC)> = boxes
            .iter()
            .filter(|(_, b)| {
                b.0.get(&depth)
                    .map(|s| iset_contains(s, start, end))
                    .unwrap_or(true)
            })
            .map(|(r, b)| (*r, *b))
            .collect();
        path.push((depth, start, end));
        walk(an, depth + 1, &sub, path, w);
        path.pop();
        if w.gave_up {
            return;
        }
    }
}

pub fn analyse(c: &mut Ctx<'_>) {
    let mut diags = Vec::new();
    for rule in &c.prog.rules {
        if let RuleKind::Table(t) = &rule.kind {
            table(c, rule, t, &mut diags);
        }
        if rule.exceptions.len() > 1 {
            exceptions(c, rule, &mut diags);
        }
    }
    c.diags.extend(diags);
}

fn row_label(i: usize) -> String {
    format!("row {}", i + 1)
}

/// `rows 1, 2 and 4` (0-based indices in).
fn rows_label(rows: &[usize]) -> String {
    let n: Vec<String> = rows.iter().map(|i| (i + 1).to_string()).collect();
    match n.split_last() {
        None => "the rows above".to_string(),
        Some((last, [])) => format!("row {last}"),
        Some((last, head)) => format!("rows {} and {last}", head.join(", ")),
    }
}

fn table(c: &Ctx<'_>, rule: &RuleDef, t: &TableDef, diags: &mut Vec<Diagnostic>) {
    let mut an = Analyzer::new(c);
    for (l, e) in &t.given {
        an.given.insert(*l, e);
    }
    let mut rows: Vec<Option<Vec<BoxC>>> = Vec::new();
    let mut otherwise: Option<Span> = None;
    for r in &t.rows {
        let Some(cond) = &r.cond else {
            otherwise = Some(r.span);
            rows.push(Some(vec![]));
            continue;
        };
        let mut boxes = an.dnf(cond, false);
        if let (Some(from), Some(bs)) = (r.from, boxes.as_mut()) {
            let ds = an.date_subject();
            let lim: ISet = vec![(from as i64, num::MAX_DATE as i64)];
            for b in bs.iter_mut() {
                b.0.insert(ds, lim.clone());
            }
        }
        rows.push(boxes);
    }
    let analysable: Vec<(usize, &BoxC)> = rows
        .iter()
        .enumerate()
        .filter(|(i, _)| t.rows.get(*i).map(|r| r.cond.is_some()).unwrap_or(false))
        .filter_map(|(i, b)| b.as_ref().map(|bs| bs.iter().map(move |b| (i, b))))
        .flatten()
        .collect();
    let opaque: Vec<usize> = rows
        .iter()
        .enumerate()
        .filter(|(_, b)| b.is_none())
        .map(|(i, _)| i)
        .collect();
    let mut w = Walk {
        fires: vec![false; rows.len()],
        ..Walk::default()
    };
    walk(&an, 0, &analysable, &mut Vec::new(), &mut w);
    let name = &rule.name;
    if w.gave_up {
        diags.push(
            Diagnostic::warning(
                "W0404",
                format!("the table `{name}` is too large to check for gaps and overlaps"),
            )
            .with_label(rule.span, "not analysed")
            .with_help("each evaluation is checked at run time instead"),
        );
        return;
    }
    let complete_claim = otherwise.is_none() && !matches!(t.hit, HitPolicy::Sum);
    if complete_claim {
        if !opaque.is_empty() {
            let r = opaque[0];
            diags.push(
                Diagnostic::warning("W0401", format!("cannot prove that a row of `{name}` always applies"))
                    .with_label(t.rows[r].span, "this row's condition cannot be analysed")
                    .with_help("end the table with `| otherwise => …`; until then a record no row decides is an error at run time"),
            );
        } else if let Some(gap) = &w.gap {
            let witness = an.witness(gap);
            diags.push(
                Diagnostic::error(
                    "E0410",
                    format!(
                        "the table `{name}` does not decide every case: {witness} is not covered"
                    ),
                )
                .with_label(rule.span, "incomplete table")
                .with_help("add a row for it, or end the table with `| otherwise => …`"),
            );
        }
    } else if let (Some(sp), true, None) = (otherwise, opaque.is_empty(), &w.gap)
        && matches!(t.hit, HitPolicy::First | HitPolicy::Unique)
    {
        diags.push(
            Diagnostic::warning(
                "W0403",
                format!("`otherwise` in `{name}` is never used: the rows above cover every case"),
            )
            .with_label(sp, "never applies")
            .with_help("remove it, or keep it as a safeguard"),
        );
    }
    match t.hit {
        HitPolicy::Unique => {
            if let Some((a, b, path)) = &w.overlap {
                let witness = an.witness(path);
                diags.push(
                    Diagnostic::error(
                        "E0411",
                        format!("two rows of the unique table `{name}` apply to {witness}"),
                    )
                    .with_label(t.rows[*b].span, format!("{} applies", row_label(*b)))
                    .with_label(t.rows[*a].span, format!("and so does {}", row_label(*a)))
                    .with_help(
                        "make the rows exclusive, or use `hit first` if the earlier row should win",
                    ),
                );
            } else if !opaque.is_empty() {
                diags.push(
                    Diagnostic::warning(
                        "W0402",
                        format!("cannot prove that at most one row of `{name}` applies"),
                    )
                    .with_label(
                        t.rows[opaque[0]].span,
                        "this row's condition cannot be analysed",
                    )
                    .with_help("a record to which two rows apply is an error at run time"),
                );
            }
        }
        HitPolicy::First => {
            for (i, r) in t.rows.iter().enumerate() {
                if r.cond.is_none() || rows[i].is_none() {
                    continue;
                }
                if !w.fires[i] {
                    let covered: Vec<usize> = (0..i)
                        .filter(|j| rows[*j].is_some() && t.rows[*j].cond.is_some())
                        .collect();
                    let why = if rows[i].as_ref().map(|b| b.is_empty()).unwrap_or(false) {
                        "its condition can never hold".to_string()
                    } else {
                        match covered.as_slice() {
                            [one] => {
                                format!("{} already decides every case it covers", row_label(*one))
                            }
                            _ => format!(
                                "{} already decide every case it covers",
                                rows_label(&covered)
                            ),
                        }
                    };
                    diags.push(
                        Diagnostic::error(
                            "E0412",
                            format!("{} of `{name}` can never apply: {why}", row_label(i)),
                        )
                        .with_label(r.span, "unreachable row")
                        .with_help("remove the row or move it above the rows that shadow it"),
                    );
                }
            }
        }
        _ => {}
    }
}

fn dominates(rule: &RuleDef, a: usize, b: usize) -> bool {
    let mut stack = vec![a];
    let mut seen = vec![false; rule.exceptions.len()];
    while let Some(x) = stack.pop() {
        if x >= seen.len() || seen[x] {
            continue;
        }
        seen[x] = true;
        for &o in &rule.exceptions[x].over {
            if o == b {
                return true;
            }
            stack.push(o);
        }
    }
    false
}

fn exceptions(c: &Ctx<'_>, rule: &RuleDef, diags: &mut Vec<Diagnostic>) {
    let mut an = Analyzer::new(c);
    let dnfs: Vec<Option<Vec<BoxC>>> = rule
        .exceptions
        .iter()
        .map(|e| an.dnf(&e.cond, false))
        .collect();
    for i in 0..rule.exceptions.len() {
        for j in (i + 1)..rule.exceptions.len() {
            if dominates(rule, i, j) || dominates(rule, j, i) {
                continue;
            }
            let (ei, ej) = (&rule.exceptions[i], &rule.exceptions[j]);
            let (Some(a), Some(b)) = (&dnfs[i], &dnfs[j]) else {
                diags.push(
                    Diagnostic::warning("W0502", format!("cannot prove that the exceptions `{}` and `{}` of `{}` never apply together", ei.label, ej.label, rule.name))
                        .with_label(ej.span, "no priority over the other")
                        .with_help(format!("if both can apply, say which wins: `exception {} for {}(…) over {}`; a record to which both apply is an error at run time", ej.label, rule.name, ei.label)),
                );
                continue;
            };
            let mut found = None;
            'outer: for x in a {
                for y in b {
                    if let Some(z) = x.intersect(y) {
                        found = Some(z);
                        break 'outer;
                    }
                }
            }
            if let Some(z) = found {
                let mut keys: Vec<usize> = z.0.keys().copied().collect();
                keys.sort_unstable();
                let path: Vec<(usize, i64, i64)> = keys
                    .iter()
                    .filter_map(|k| {
                        z.0.get(k)
                            .and_then(|s| s.first())
                            .map(|&(lo, hi)| (*k, lo, hi))
                    })
                    .collect();
                let witness = an.witness(&path);
                let certain = keys
                    .iter()
                    .all(|k| an.subjects.get(*k).map(|s| s.is_field).unwrap_or(false));
                let msg = format!(
                    "the exceptions `{}` and `{}` of `{}` both apply to {witness}",
                    ei.label, ej.label, rule.name
                );
                let help = format!(
                    "say which wins with `over`, e.g. `exception {} for {}(…) over {}`",
                    ej.label, rule.name, ei.label
                );
                let d = if certain {
                    Diagnostic::error("E0502", msg)
                } else {
                    Diagnostic::warning("W0503", format!("{msg}, if that can happen"))
                };
                diags.push(
                    d.with_label(ej.span, "applies")
                        .with_label(ei.span, "so does this one")
                        .with_help(help),
                );
            }
        }
    }
}
