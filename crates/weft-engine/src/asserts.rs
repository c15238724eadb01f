//! Checking a policy's assertions on its parameters (`weft check`).
//!
//! An assertion is checked as of each date on which a version of the
//! parameter it is `on` takes effect (within its `in force` window), for
//! every combination of its `every` keys; other parameters take their
//! values as of that date. A failure names the parameter, the key, the
//! version's date and both sides of the comparison that failed. An
//! assertion that cannot be evaluated (a parameter with no version on that
//! date) fails too.

use weft_interp::Interp;
use weft_ir::bind::bind;
use weft_ir::data::{Chunk, Table};
use weft_ir::value::display_value;
use weft_ir::{InstId, Ir};
use weft_syntax::ast::Severity;
use weft_syntax::num;
use weft_syntax::{Diagnostic, SourceMap};

fn combos(every: &[(u32, u32, u64)]) -> Vec<Vec<i64>> {
    let mut out: Vec<Vec<i64>> = vec![Vec::new()];
    for (_, _, set) in every {
        let mut next = Vec::new();
        for prefix in &out {
            for v in 0..64i64 {
                if set & (1u64 << v) != 0 {
                    let mut p = prefix.clone();
                    p.push(v);
                    next.push(p);
                }
            }
        }
        out = next;
    }
    out
}

pub fn check_assertions(ir: &Ir, sources: &SourceMap) -> Vec<Diagnostic> {
    let prog = &ir.hir;
    let mut diags = Vec::new();
    let chunk = Chunk {
        tables: prog.records.iter().map(|_| Table::default()).collect(),
    };
    for (ai, a) in prog.asserts.iter().enumerate() {
        let Some(&inst) = ir.asserts.get(ai) else {
            continue;
        };
        let atoms = ir.assert_atoms.get(ai).cloned().unwrap_or_default();
        let Some(pd) = prog.params.get(a.param) else {
            continue;
        };
        let every: Vec<(u32, u32, u64)> = a
            .every
            .iter()
            .map(|(l, e, s)| (l.raw(), e.raw(), *s))
            .collect();
        let keys = combos(&every);
        let mut roots: Vec<InstId> = vec![inst];
        roots.extend(atoms.iter().flat_map(|x| [x.cond, x.left, x.right]));
        let warning = a.severity == Severity::Warning;
        let mk = |msg: String| {
            if warning {
                Diagnostic::warning("W0701", msg)
            } else {
                Diagnostic::error("E0701", msg)
            }
        };
        for v in &pd.versions {
            let d = v.effective;
            if let Some((from, to)) = a.window {
                if d < from || d > to {
                    continue;
                }
            }
            let when = if pd.series {
                num::format_month(d)
            } else {
                num::format_date(d)
            };
            let (l, c) = sources.line_col(v.span.file, v.span.start);
            let version_at = format!("{}:{l}:{c}", sources.name(v.span.file));
            let bound = match bind(ir, d, &roots) {
                Ok(b) => b,
                Err(e) => {
                    diags.push(
                        mk(format!("assertion `{}` cannot be evaluated for the version of `{}` from {when}", a.name, pd.name))
                            .with_label(a.span, format!("{e}"))
                            .with_note(format!("{version_at}: the version from {when}"))
                            .with_help("give the parameters it uses a version in force on that date"),
                    );
                    continue;
                }
            };
            let mut it = Interp::new(ir, &bound, &chunk);
            for k in &keys {
                let key_text: Vec<String> = every
                    .iter()
                    .zip(k)
                    .map(|((_, e, _), v)| {
                        prog.enums
                            .get(*e as usize)
                            .and_then(|en| en.variants.get(*v as usize))
                            .map(|x| x.code.clone())
                            .unwrap_or_default()
                    })
                    .collect();
                let key_s = if key_text.is_empty() {
                    String::new()
                } else {
                    format!("[{}]", key_text.join(", "))
                };
                match it.eval_inst_with(inst, 0, k) {
                    Ok(1) => {}
                    Ok(_) => {
                        // Which comparison failed, with both sides.
                        let mut shown = None;
                        for atom in &atoms {
                            if let Ok(0) = it.eval_inst_with(atom.cond, 0, k) {
                                let side = |it: &mut Interp<'_>, i: InstId| match it
                                    .eval_inst_with(i, 0, k)
                                {
                                    Ok(x) => display_value(
                                        prog,
                                        &ir.inst(i)
                                            .map(|d| d.ty.clone())
                                            .unwrap_or(weft_check::ty::Ty::Int),
                                        x,
                                    ),
                                    Err(e) => format!("an error ({})", e.kind.code()),
                                };
                                let lv = side(&mut it, atom.left);
                                let rv = side(&mut it, atom.right);
                                shown = Some((atom.span, lv, rv));
                                break;
                            }
                        }
                        let mut d = mk(format!(
                            "assertion `{}` fails for `{}{key_s}` in the version from {when}",
                            a.name, pd.name
                        ));
                        d = match shown {
                            Some((span, lv, rv)) => d.with_label(
                                span,
                                format!("false: the left side is {lv}, the right side {rv}"),
                            ),
                            None => d.with_label(a.span, "false"),
                        };
                        d = d.with_note(format!("{version_at}: the version from {when}"));
                        d = d.with_help(if warning {
                            "a warning: `weft check` still succeeds; check the parameter's value"
                        } else {
                            "correct the parameter's value in that version (or the assertion, if the standard is right)"
                        });
                        diags.push(d);
                    }
                    Err(e) => {
                        diags.push(
                            mk(format!("assertion `{}` cannot be evaluated for `{}{key_s}` in the version from {when}", a.name, pd.name))
                                .with_label(a.span, format!("{}: {}", e.kind.code(), e.detail))
                                .with_note(format!("{version_at}: the version from {when}")),
                        );
                    }
                }
            }
        }
    }
    diags
}
