//! What every page reads: the checked program, its semantic model, the
//! tests' outcomes and coverage, and how an item is named and linked.

use super::html::{esc, zh};
use crate::testing::{Coverage, TestOutcome};
use std::collections::{BTreeSet, HashMap};
use weft_check::hir::{Expr, ExprKind, Program, RuleDef, RuleId, RuleKind, ScaleBands};
use weft_check::model::{SemanticModel, Target};
use weft_check::pack::Compiled;
use weft_syntax::{SourceMap, Span};

/// A test of the pack, with what it checks and how it went.
pub(crate) struct TestInfo {
    pub name: String,
    pub module: String,
    pub as_of: i32,
    pub expectations: usize,
    /// `None` when the test did not run (no outcome matched it).
    pub failures: Option<Vec<String>>,
    /// The rules its expectations name, in declaration order.
    pub rules: Vec<RuleId>,
}

/// The site's view of a checked pack.
pub(crate) struct Doc<'a> {
    pub prog: &'a Program,
    pub model: &'a SemanticModel,
    pub sources: &'a SourceMap,
    pub title: String,
    /// Every name occurrence, sorted by file and start.
    occ: Vec<(Span, Target)>,
    pub tests: Vec<TestInfo>,
    pub coverage: &'a Coverage,
    /// The number of files of the pack (modules and parameter files).
    pub files: usize,
}

/// Visit an expression and every expression inside it.
pub(crate) fn walk<'e>(e: &'e Expr, f: &mut dyn FnMut(&'e Expr)) {
    f(e);
    for c in e.children() {
        walk(c, f);
    }
}

/// Every expression of a rule's definition and exceptions.
pub(crate) fn rule_exprs(rd: &RuleDef) -> Vec<&Expr> {
    let mut out: Vec<&Expr> = Vec::new();
    match &rd.kind {
        RuleKind::Plain { versions } => out.extend(versions.iter().map(|(_, e)| e)),
        RuleKind::Table(t) => {
            out.extend(t.given.iter().map(|(_, e)| e));
            for r in &t.rows {
                out.extend(r.cond.iter());
                out.push(&r.value);
            }
        }
        RuleKind::Cascade(c) => {
            out.push(&c.amount);
            out.extend(c.steps.iter().map(|s| &s.expr));
        }
        RuleKind::Scale(s) => {
            out.extend(s.adjust.iter());
            if let ScaleBands::Rows(rows) = &s.bands {
                out.extend(rows.iter().map(|(_, _, e)| e));
            }
        }
        RuleKind::Broken => {}
    }
    for x in &rd.exceptions {
        out.push(&x.cond);
        out.push(&x.value);
    }
    out
}

/// The rules an expression calls.
pub(crate) fn rules_in(e: &Expr, out: &mut BTreeSet<RuleId>) {
    walk(e, &mut |x| match &x.kind {
        ExprKind::Rule(r, _) | ExprKind::CascadePart(r, _, _) | ExprKind::Scale(r, _) => {
            out.insert(*r);
        }
        _ => {}
    });
}

/// The end of a span's text without the blank lines and `//` comments
/// that trail it (an expression's span can reach the comments of the
/// next item).
fn trimmed_end(text: &str, start: usize, end: usize) -> usize {
    let Some(slice) = text.get(start..end) else {
        return end;
    };
    let mut keep = slice.len();
    loop {
        let body = slice.get(..keep).unwrap_or_default();
        let trimmed = body.trim_end();
        let line_start = trimmed.rfind('\n').map(|i| i + 1).unwrap_or(0);
        let last = trimmed.get(line_start..).unwrap_or_default();
        if last.trim_start().starts_with("//") && line_start > 0 {
            keep = line_start;
        } else {
            keep = trimmed.len();
            break;
        }
    }
    start + keep
}

/// Text of several lines, as it would stand alone: its first line put
/// back at its column, then the indentation all lines share removed.
fn dedent(text: &str, start: usize, html: &str) -> String {
    if !html.contains('\n') {
        return html.to_string();
    }
    let line_start = text
        .get(..start)
        .and_then(|t| t.rfind('\n'))
        .map(|i| i + 1)
        .unwrap_or(0);
    let column = text
        .get(line_start..start)
        .map(|t| t.chars().count())
        .unwrap_or(0);
    let padded = format!("{}{html}", " ".repeat(column));
    let indent = padded
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start_matches(' ').len())
        .min()
        .unwrap_or(0);
    padded
        .lines()
        .map(|l| {
            l.get(indent.min(l.len() - l.trim_start_matches(' ').len())..)
                .unwrap_or(l)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `%XX` for every byte of a file name that is not `[A-Za-z0-9._-]`.
fn encode(name: &str) -> String {
    let mut s = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-') {
            s.push(char::from(b));
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s
}

impl<'a> Doc<'a> {
    pub fn new(
        c: &'a Compiled,
        title: &str,
        files: usize,
        outcomes: &[TestOutcome],
        coverage: &'a Coverage,
    ) -> Doc<'a> {
        let prog = &c.program;
        let mut occ: Vec<(Span, Target)> = c.model.occurrences().collect();
        occ.sort_by_key(|(s, _)| (s.file, s.start, s.end));
        let module_name = |m: u32| {
            prog.modules
                .get(m as usize)
                .map(|m| m.name.clone())
                .unwrap_or_default()
        };
        let mut used: Vec<bool> = vec![false; outcomes.len()];
        let tests = prog
            .tests
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let module = module_name(t.module.raw());
                // Outcomes come in the program's order; match by name and
                // module as well, so a skipped test is never misattributed.
                let pick = outcomes
                    .get(i)
                    .filter(|o| o.name == t.name && o.module == module)
                    .map(|_| i)
                    .or_else(|| {
                        outcomes.iter().enumerate().position(|(j, o)| {
                            !used.get(j).copied().unwrap_or(true)
                                && o.name == t.name
                                && o.module == module
                        })
                    });
                let outcome = pick.and_then(|j| {
                    if let Some(u) = used.get_mut(j) {
                        *u = true;
                    }
                    outcomes.get(j)
                });
                let mut rules = BTreeSet::new();
                for x in &t.expects {
                    rules_in(&x.expr, &mut rules);
                }
                TestInfo {
                    name: t.name.clone(),
                    module,
                    as_of: t.as_of,
                    expectations: t.expects.len(),
                    failures: outcome.map(|o| {
                        o.failures
                            .iter()
                            .map(|f| format!("{}: {}", f.location, f.message))
                            .collect()
                    }),
                    rules: rules.into_iter().collect(),
                }
            })
            .collect();
        Doc {
            prog,
            model: &c.model,
            sources: &c.sources,
            title: title.to_string(),
            occ,
            tests,
            coverage,
            files,
        }
    }

    /// The module a declaration's text is in.
    pub fn module_of(&self, span: Span) -> String {
        self.prog
            .modules
            .iter()
            .find(|m| m.file == span.file)
            .map(|m| m.name.clone())
            .unwrap_or_else(|| self.sources.name(span.file).to_string())
    }

    /// The page of an item (and of its parts and locals: the page of the
    /// item they belong to), as a file name.
    pub fn page(&self, t: Target) -> Option<String> {
        let (kind, name) = match t {
            Target::Enum(e) | Target::Variant(e, _) => ("enum", &self.prog.enums.get(e)?.name),
            Target::Record(r) | Target::Field(r, _) => ("record", &self.prog.records.get(r)?.name),
            Target::Param(p) => ("param", &self.prog.params.get(p)?.name),
            Target::Rule(r) => ("rule", &self.prog.rules.get(r)?.name),
            Target::Output(o) | Target::Column(o, _) => ("output", &self.prog.outputs.get(o)?.name),
            Target::Programme(p) => ("programme", &self.prog.programmes.get(p as usize)?.name),
            Target::Assert(a) => {
                let p = self.prog.asserts.get(a as usize)?.param;
                ("param", &self.prog.params.get(p)?.name)
            }
            Target::Module(_) => return Some("index.html".into()),
            Target::Local(_) => return None,
        };
        Some(format!("{kind}.{name}.html"))
    }

    /// The file name of an item's page, as a link target.
    pub fn href(&self, t: Target) -> Option<String> {
        let page = encode(&self.page(t)?);
        let anchor = match t {
            Target::Variant(e, v) => {
                let name = &self.prog.enums.get(e)?.variants.get(v as usize)?.name;
                Some(format!("variant-{name}"))
            }
            Target::Field(r, f) => {
                let name = &self.prog.records.get(r)?.fields.get(f)?.name;
                Some(format!("field-{name}"))
            }
            Target::Column(o, c) => {
                let name = &self.prog.outputs.get(o)?.columns.get(c as usize)?.name;
                Some(format!("column-{name}"))
            }
            Target::Assert(a) => Some(format!(
                "assert-{}",
                self.prog.asserts.get(a as usize)?.name
            )),
            Target::Module(m) => Some(format!("module-{}", self.prog.modules.get(m)?.name)),
            _ => None,
        };
        Some(match anchor {
            Some(a) => format!("{page}#{}", encode(&a)),
            None => page,
        })
    }

    /// An item's name (for a part, `Record.field`).
    pub fn name(&self, t: Target) -> String {
        let p = self.prog;
        let n = match t {
            Target::Enum(e) => p.enums.get(e).map(|x| x.name.clone()),
            Target::Variant(e, v) => p.enums.get(e).and_then(|x| {
                x.variants
                    .get(v as usize)
                    .map(|v| format!("{}.{}", x.name, v.name))
            }),
            Target::Record(r) => p.records.get(r).map(|x| x.name.clone()),
            Target::Field(r, f) => p
                .records
                .get(r)
                .and_then(|x| x.fields.get(f).map(|f| format!("{}.{}", x.name, f.name))),
            Target::Param(i) => p.params.get(i).map(|x| x.name.clone()),
            Target::Rule(i) => p.rules.get(i).map(|x| x.name.clone()),
            Target::Output(i) => p.outputs.get(i).map(|x| x.name.clone()),
            Target::Column(o, c) => p.outputs.get(o).and_then(|x| {
                x.columns
                    .get(c as usize)
                    .map(|c| format!("{}.{}", x.name, c.name))
            }),
            Target::Programme(i) => p.programmes.get(i as usize).map(|x| x.name.clone()),
            Target::Assert(i) => p.asserts.get(i as usize).map(|x| x.name.clone()),
            Target::Module(m) => p.modules.get(m).map(|x| x.name.clone()),
            Target::Local(l) => p.locals.get(l).map(|x| x.name.clone()),
        };
        n.unwrap_or_default()
    }

    /// An item's display name (Chinese in the Jilin pack), when it has one.
    pub fn display(&self, t: Target) -> Option<&str> {
        let p = self.prog;
        match t {
            Target::Enum(e) => p.enums.get(e)?.display.as_deref(),
            Target::Variant(e, v) => p.enums.get(e)?.variants.get(v as usize)?.display.as_deref(),
            Target::Record(r) => p.records.get(r)?.display.as_deref(),
            Target::Programme(i) => p.programmes.get(i as usize)?.display.as_deref(),
            _ => None,
        }
    }

    /// A link to an item: its name in code, and its display name.
    pub fn link(&self, t: Target) -> String {
        let name = format!("<code>{}</code>", esc(&self.name(t)));
        let label = match self.display(t) {
            Some(d) => format!("{name} {}", zh(d)),
            None => name,
        };
        match self.href(t) {
            Some(h) => format!("<a href=\"{h}\">{label}</a>"),
            None => label,
        }
    }

    /// The source text of a span, with every name in it linked to what it
    /// stands for.
    pub fn code(&self, span: Span) -> String {
        let text = self.sources.text(span.file);
        let start = span.start as usize;
        let end = trimmed_end(text, start, span.end as usize);
        let first = self
            .occ
            .partition_point(|(s, _)| (s.file, s.start) < (span.file, span.start));
        let mut out = String::new();
        let mut at = start;
        for (s, t) in self.occ.iter().skip(first) {
            if s.file != span.file || s.start as usize >= end {
                break;
            }
            let (a, b) = (s.start as usize, s.end as usize);
            if a < at || b > end {
                continue;
            }
            let Some(href) = self.href(*t) else {
                continue;
            };
            let (Some(before), Some(name)) = (text.get(at..a), text.get(a..b)) else {
                continue;
            };
            out.push_str(&esc(before));
            out.push_str(&format!(
                "<a href=\"{href}\" title=\"{}\">{}</a>",
                esc(&self.model.describe(self.prog, *t)),
                esc(name)
            ));
            at = b;
        }
        out.push_str(&esc(text.get(at..end).unwrap_or_default()));
        dedent(text, start, &out)
    }

    /// `file:line` of a span.
    pub fn location(&self, span: Span) -> String {
        let (l, _) = self.sources.line_col(span.file, span.start);
        format!("{}:{l}", self.sources.name(span.file))
    }

    /// The rules a target is used by, transitively (for a programme: the
    /// rules its amounts depend on), in declaration order.
    pub fn rules_below(&self, roots: &BTreeSet<RuleId>) -> Vec<RuleId> {
        let mut seen: BTreeSet<RuleId> = BTreeSet::new();
        let mut stack: Vec<RuleId> = roots.iter().copied().collect();
        while let Some(r) = stack.pop() {
            if !seen.insert(r) {
                continue;
            }
            if let Some(it) = self.model.item(Target::Rule(r)) {
                for u in &it.uses {
                    if let Target::Rule(x) = u {
                        stack.push(*x);
                    }
                }
            }
        }
        seen.into_iter().collect()
    }

    /// The programmes whose amounts or recipients depend on a rule.
    pub fn programmes_of(&self, r: RuleId) -> Vec<u32> {
        let mut out = Vec::new();
        for (i, pd) in self.prog.programmes.iter().enumerate() {
            let Some(od) = self.prog.outputs.get(pd.output) else {
                continue;
            };
            let mut roots = BTreeSet::new();
            for c in pd.amounts.iter().chain(pd.recipients.iter()) {
                if let Some(cd) = od.columns.get(*c) {
                    rules_in(&cd.expr, &mut roots);
                }
            }
            if self.rules_below(&roots).contains(&r) {
                out.push(i as u32);
            }
        }
        out
    }

    /// For every field of every record, the rules that read it.
    pub fn field_readers(&self) -> HashMap<Target, Vec<RuleId>> {
        let mut map: HashMap<Target, Vec<RuleId>> = HashMap::new();
        for (i, rd) in self.prog.rules.iter_enumerated() {
            let mut fields = BTreeSet::new();
            for e in rule_exprs(rd) {
                walk(e, &mut |x| {
                    if let ExprKind::Field(_, r, f) = &x.kind {
                        fields.insert(Target::Field(*r, *f));
                    }
                });
            }
            for f in fields {
                map.entry(f).or_default().push(i);
            }
        }
        map
    }
}
