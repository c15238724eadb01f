//! Cascades: an amount handed down named steps, each taking from what
//! remains.

use crate::body::Body;
use crate::expr::Scope;
use crate::expr::coerce::check_against;
use crate::hir::*;
use crate::ids::ModuleId;
use crate::ty::Ty;
use weft_syntax::Diagnostic;
use weft_syntax::ast::{self};

pub fn cascade(
    c: &mut Body<'_, '_>,
    cd: &ast::CascadeDecl,
    rid: RuleId,
    module: ModuleId,
    ret: &Ty,
) -> Option<CascadeDef> {
    let Ty::Money(per) = ret else {
        if !ret.is_error() {
            let shown = c.cx.prog.show(ret);
            c.cx.err(
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
    let mut s = Scope::of_rule(c, rid, module);
    let amount = check_against(c, &mut s, &cd.amount, ret, "the amount the cascade divides");
    let remains = c.cx.new_local("remains", Ty::Money(*per));
    s.remains = Some(remains);
    let mut steps = Vec::new();
    let mut names: Vec<&str> = Vec::new();
    for st in &cd.steps {
        if names.contains(&st.name.name.as_str()) {
            c.cx.err(
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
        c.cx.err(
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
