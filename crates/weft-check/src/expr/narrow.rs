//! Narrowing: what a condition says about an enum-valued place (`l !=
//! none`, `r in {a, b}`) holds in the branch it guards, so the place's type
//! there is the subset of variants it can still be.

use crate::body::Body;
use crate::expr::Scope;
use crate::hir::*;
use crate::ty::{Ty, full_set};
use weft_syntax::ast::{self, BinOp, CmpOp, ExprKind as A};

/// The key and type of a place (a local or a chain of fields on one).
pub fn place(c: &Body<'_, '_>, s: &Scope, e: &ast::Expr) -> Option<(String, Ty)> {
    match &e.kind {
        A::Name(id) => {
            if let Some(l) = s.local(&id.name) {
                let ty = c.cx.prog.locals.get(l)?.ty.clone();
                return Some((format!("#{l}"), ty));
            }
            let (rec_id, l) = s.fields_of?;
            let (_, fd) = c.cx.prog.records.get(rec_id)?.field(&id.name)?;
            Some((format!("#{l}.{}", id.name), field_ty(fd)))
        }
        A::Field(base, f) => {
            let (k, t) = place(c, s, base)?;
            let Ty::Record(rec_id) = t else { return None };
            let (_, fd) = c.cx.prog.records.get(rec_id)?.field(&f.name)?;
            Some((format!("{k}.{}", f.name), field_ty(fd)))
        }
        _ => None,
    }
}

pub fn field_ty(fd: &FieldDef) -> Ty {
    match &fd.kind {
        FieldKind::Column => fd.ty.clone(),
        FieldKind::Link { target, .. } => Ty::Record(*target),
        FieldKind::Members { of } => Ty::List(*of),
    }
}

/// How deep `facts` looks into `and`, `or` and `not`: every `and` of a
/// chain asks again about its left side, so an unbounded look would make a
/// chain of n conditions cost n² (a 15,000-long chain took half a minute).
pub const FACT_DEPTH: usize = 32;

/// What a condition being `positive` tells about enum places.
pub fn facts(c: &Body<'_, '_>, s: &Scope, cond: &ast::Expr, positive: bool) -> Vec<(String, u64)> {
    facts_at(c, s, cond, positive, 0)
}

pub fn facts_at(
    c: &Body<'_, '_>,
    s: &Scope,
    cond: &ast::Expr,
    positive: bool,
    depth: usize,
) -> Vec<(String, u64)> {
    if depth > FACT_DEPTH {
        return vec![];
    }
    let variant_of = |e: EnumId, x: &ast::Expr| -> Option<usize> {
        let name = match &x.kind {
            A::Name(id) => &id.name,
            A::Field(b, f) => match &b.kind {
                A::Name(en)
                    if c.cx
                        .prog
                        .enums
                        .get(e)
                        .map(|x| x.name == en.name)
                        .unwrap_or(false) =>
                {
                    &f.name
                }
                _ => return None,
            },
            _ => return None,
        };
        c.cx.prog
            .enums
            .get(e)?
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
                    c.cx.prog
                        .enums
                        .get(e)
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
            let n =
                c.cx.prog
                    .enums
                    .get(e)
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

pub fn with_facts<T>(
    s: &mut Scope,
    f: Vec<(String, u64)>,
    body: impl FnOnce(&mut Scope) -> T,
) -> T {
    let n = s.narrow.len();
    s.narrow.extend(f);
    let out = body(s);
    s.narrow.truncate(n);
    out
}

pub fn narrow_ty(s: &Scope, key: &str, ty: Ty) -> Ty {
    match (ty, s.narrowed(key)) {
        (Ty::Enum(e, set), Some(n)) => Ty::Enum(e, set & n),
        (t, _) => t,
    }
}
