//! Phase 4, *bodies*: every declaration's expressions, checked with the
//! expression checker of [`crate::expr`]: rules (plain, tables, cascades,
//! scales), exceptions, record checks and defaults, assertions, tests,
//! outputs and programmes.
//!
//! The phase reads the declarations' places and signatures handed on by
//! the earlier phases, and hands on the rules each rule uses (for the
//! cycle analysis).

use crate::ModuleSource;
use crate::body::Body;
use crate::collect::Collected;
use crate::ctx::{Ctx, ItemRef, item};
use crate::decls::cascade::cascade;
use crate::decls::exception::exceptions;
use crate::decls::output::{output, programme};
use crate::decls::record::{defaults, record_checks};
use crate::decls::scale::scale;
use crate::decls::table::table;
use crate::decls::test::{assertion, test};
use crate::expr::Scope;
use crate::expr::coerce::check_against;
use crate::hir::*;
use crate::ids::ModuleId;
use crate::signatures::Signatures;
use crate::ty::Ty;
use std::collections::HashMap;
use weft_syntax::ast::Item;
use weft_syntax::{Diagnostic, Span};

mod cascade;
mod exception;
mod output;
mod record;
mod scale;
mod table;
mod test;

/// What the bodies hand on to the analyses.
pub struct Bodies {
    /// Rule → the rules it refers to, with the first place it does.
    pub deps: IdVec<RuleId, Vec<(RuleId, Span)>>,
}

/// Check the body of every declaration.
pub fn bodies(
    cx: &mut Ctx<'_>,
    items: &Collected,
    sigs: &Signatures,
    modules: &[ModuleSource],
) -> Bodies {
    let deps = cx.prog.rules.iter().map(|_| Vec::new()).collect();
    let mut c = Body {
        cx,
        items,
        sigs,
        deps,
        defaults: HashMap::new(),
    };
    declarations(&mut c, modules);
    Bodies { deps: c.deps }
}

fn declarations(c: &mut Body<'_, '_>, modules: &[ModuleSource]) {
    for ri in c.items.rules.ids() {
        let at = c.items.rules[ri];
        rule_body(c, modules, ri, at);
    }
    exceptions(c, modules);
    for ri in c.items.records.ids() {
        record_checks(c, modules, ri);
    }
    for (mi, m) in modules.iter().enumerate() {
        for it in &m.ast.items {
            if let Item::Defaults(d) = it {
                defaults(c, d, ModuleId::new(mi));
            }
        }
    }
    for (mi, m) in modules.iter().enumerate() {
        for it in &m.ast.items {
            match it {
                Item::Assert(a) => assertion(c, a, ModuleId::new(mi)),
                Item::Test(t) => test(c, t, ModuleId::new(mi)),
                _ => {}
            }
        }
    }
    for oi in c.items.outputs.ids() {
        let at = c.items.outputs[oi];
        output(c, modules, oi, at);
    }
    for (mi, m) in modules.iter().enumerate() {
        for it in &m.ast.items {
            if let Item::Programme(p) = it {
                programme(c, p, ModuleId::new(mi));
            }
        }
    }
}

pub fn rule_body(c: &mut Body<'_, '_>, modules: &[ModuleSource], rid: RuleId, at: ItemRef) {
    let module = at.module;
    let ret =
        c.cx.prog
            .rules
            .get(rid)
            .map(|r| r.ret.clone())
            .unwrap_or(Ty::Error);
    let kind = match item(modules, at) {
        Some(Item::Rule(r)) => {
            let mut s = Scope::of_rule(c, rid, module);
            let body = check_against(c, &mut s, &r.body, &ret, "the rule's value");
            let mut versions = vec![(i32::MIN, body)];
            let mut last = i32::MIN;
            for (d, dspan, e) in &r.versions {
                if *d <= last {
                    c.cx.err(
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
    if let Some(r) = c.cx.prog.rules.get_mut(rid) {
        r.kind = kind;
    }
}
