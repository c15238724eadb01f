//! The page of each item: rule, parameter, programme, record, enum and
//! output.

use super::chart;
use super::ctx::{Doc, rule_exprs, rules_in, walk};
use super::html::{citation, doc, esc, list, page, section, summary, zh};
use std::collections::BTreeSet;
use weft_check::hir::{
    EnumId, ExprKind, OutputId, PVal, ParamId, RecordId, RuleId, RuleKind, ScaleBands,
};
use weft_check::model::Target;
use weft_syntax::ast::{HitPolicy, ScaleKind};
use weft_syntax::num;

fn date(d: i32) -> String {
    num::format_date(d)
}

/// Whether a target is of one kind.
type IsKind = fn(&Target) -> bool;

/// Links to targets, grouped under small headings by kind.
fn grouped(d: &Doc, targets: &[Target], none: &str) -> String {
    if targets.is_empty() {
        return format!("<p class=\"none\">{}</p>\n", esc(none));
    }
    let groups: [(&str, IsKind); 7] = [
        ("Programmes", |t| matches!(t, Target::Programme(_))),
        ("Outputs", |t| matches!(t, Target::Output(_))),
        ("Rules", |t| matches!(t, Target::Rule(_))),
        ("Parameters", |t| matches!(t, Target::Param(_))),
        ("Assertions", |t| matches!(t, Target::Assert(_))),
        ("Records", |t| matches!(t, Target::Record(_))),
        ("Enums", |t| matches!(t, Target::Enum(_))),
    ];
    let mut out = String::new();
    for (title, is) in groups {
        let items: Vec<String> = targets
            .iter()
            .filter(|t| is(t))
            .map(|t| d.link(*t))
            .collect();
        if !items.is_empty() {
            out.push_str(&format!("<h3>{title}</h3>\n"));
            out.push_str(&list(&items, ""));
        }
    }
    out
}

fn kind_of(d: &Doc, t: Target) -> &'static str {
    d.model.item(t).map(|i| i.kind).unwrap_or("rule")
}

/// A table's hit policy in words.
fn hit_words(h: &HitPolicy) -> &'static str {
    match h {
        HitPolicy::Unique => "unique: exactly one row applies",
        HitPolicy::First => "first: the first row that applies, from the top",
        HitPolicy::Sum => "sum: the sum of the rows that apply",
        HitPolicy::Max => "max: the largest value of the rows that apply",
        HitPolicy::Min => "min: the smallest value of the rows that apply",
    }
}

/// The definition of a rule: its formula (by date), table, cascade or
/// scale, with every name linked.
fn definition(d: &Doc, r: RuleId) -> String {
    let Some(rd) = d.prog.rules.get(r) else {
        return String::new();
    };
    let missed_rows: BTreeSet<String> = d
        .coverage
        .rows_missed
        .iter()
        .filter(|m| m.rule == rd.name)
        .filter_map(|m| m.part.clone())
        .collect();
    let mut out = String::new();
    match &rd.kind {
        RuleKind::Plain { versions } => {
            for (i, (from, e)) in versions.iter().enumerate() {
                if versions.len() > 1 {
                    let when = if i == 0 {
                        match versions.get(1) {
                            Some((next, _)) => format!("until {}", date(num_prev_day(*next))),
                            None => String::new(),
                        }
                    } else {
                        format!("from {}", date(*from))
                    };
                    out.push_str(&format!("<p class=\"when\">{when}</p>\n"));
                }
                out.push_str(&format!("<pre class=\"code\">{}</pre>\n", d.code(e.span)));
            }
        }
        RuleKind::Table(t) => {
            out.push_str(&format!(
                "<p>Decision table, hit policy <strong>{}</strong>.</p>\n",
                esc(hit_words(&t.hit))
            ));
            if !t.given.is_empty() {
                out.push_str("<p>Given:</p><ul>\n");
                for (l, e) in &t.given {
                    out.push_str(&format!(
                        "<li><code>{}</code> = <code>{}</code></li>\n",
                        esc(&d.name(Target::Local(*l))),
                        d.code(e.span)
                    ));
                }
                out.push_str("</ul>\n");
            }
            out.push_str("<table class=\"rows\">\n<thead><tr><th>#</th><th>when</th><th>then</th><th>in force</th><th>tested</th></tr></thead>\n<tbody>\n");
            for (i, row) in t.rows.iter().enumerate() {
                let n = (i + 1).to_string();
                let cond = match &row.cond {
                    Some(c) => format!("<code>{}</code>", d.code(c.span)),
                    None => "<em>otherwise</em>".to_string(),
                };
                let from = row
                    .from
                    .map(|f| format!("from {}", date(f)))
                    .unwrap_or_default();
                let tested = if row.cond.is_none() {
                    // Coverage does not track `otherwise`.
                    "—"
                } else if missed_rows.contains(&n) {
                    "<span class=\"miss\">no test</span>"
                } else {
                    "<span class=\"ok\">yes</span>"
                };
                out.push_str(&format!(
                    "<tr id=\"row-{n}\"><td class=\"n\">{n}</td><td>{cond}</td><td><code>{}</code></td><td>{from}</td><td>{tested}</td></tr>\n",
                    d.code(row.value.span)
                ));
            }
            out.push_str("</tbody>\n</table>\n");
        }
        RuleKind::Cascade(c) => {
            out.push_str(&format!(
                "<p>Cascade: the amount <code>{}</code> passes through each payer in order; each takes what its formula says of what <code>remains</code>, never less than ¥0 nor more than remains. The parts and the remainder add up to the amount exactly.</p>\n",
                d.code(c.amount.span)
            ));
            out.push_str("<table class=\"rows\">\n<thead><tr><th>#</th><th>part</th><th>pays</th><th>about</th></tr></thead>\n<tbody>\n");
            for (i, s) in c.steps.iter().enumerate() {
                out.push_str(&format!(
                    "<tr id=\"step-{}\"><td class=\"n\">{}</td><td><code>{}</code></td><td><pre class=\"code\">{}</pre></td><td>{}</td></tr>\n",
                    esc(&s.name),
                    i + 1,
                    esc(&s.name),
                    d.code(s.expr.span),
                    summary(s.doc.as_deref())
                ));
            }
            out.push_str(&format!(
                "<tr id=\"step-{}\"><td class=\"n\"></td><td><code>{}</code></td><td><em>what remains</em></td><td>the remainder</td></tr>\n</tbody>\n</table>\n",
                esc(&c.remainder),
                esc(&c.remainder)
            ));
        }
        RuleKind::Scale(s) => {
            let kind = match s.kind {
                ScaleKind::Marginal => {
                    "Marginal scale: each band's rate applies to the part of the amount within the band."
                }
                ScaleKind::Flat => "Flat scale: the value of the band the amount falls in.",
            };
            out.push_str(&format!("<p>{kind}"));
            if s.round_each_band {
                out.push_str(" Each band's part is rounded to the fen.");
            }
            out.push_str("</p>\n");
            if let Some(a) = &s.adjust {
                out.push_str(&format!(
                    "<p>Rate adjusted: <code>{}</code></p>\n",
                    d.code(a.span)
                ));
            }
            match &s.bands {
                ScaleBands::Param(p) => out.push_str(&format!(
                    "<p>Bands: the parameter {} (its bands by date are on its page).</p>\n",
                    d.link(Target::Param(*p))
                )),
                ScaleBands::Rows(rows) => {
                    let ty = s
                        .params
                        .first()
                        .and_then(|l| d.prog.locals.get(*l))
                        .map(|l| l.ty.clone())
                        .unwrap_or(weft_check::ty::Ty::Int);
                    out.push_str("<table class=\"rows\">\n<thead><tr><th>from</th><th>below</th><th>value</th></tr></thead>\n<tbody>\n");
                    for (lo, hi, e) in rows {
                        out.push_str(&format!(
                            "<tr><td class=\"n\">{}</td><td class=\"n\">{}</td><td><code>{}</code></td></tr>\n",
                            esc(&chart::plain(&ty, *lo)),
                            hi.map(|h| esc(&chart::plain(&ty, h))).unwrap_or_else(|| "—".into()),
                            d.code(e.span)
                        ));
                    }
                    out.push_str("</tbody>\n</table>\n");
                }
            }
        }
        RuleKind::Broken => out.push_str("<p class=\"none\">This rule did not check.</p>\n"),
    }
    out
}

/// A type, with a link to the enum or record it names.
fn ty_html(d: &Doc, ty: &weft_check::ty::Ty) -> String {
    use weft_check::ty::Ty;
    let shown = esc(&d.prog.show(ty));
    let target = match ty {
        Ty::Enum(e, _) => Some(Target::Enum(*e)),
        Ty::Record(r) | Ty::List(r) => Some(Target::Record(*r)),
        Ty::Opt(inner) => match &**inner {
            Ty::Enum(e, _) => Some(Target::Enum(*e)),
            Ty::Record(r) => Some(Target::Record(*r)),
            _ => None,
        },
        _ => None,
    };
    match target.and_then(|t| d.href(t)) {
        Some(h) => format!("<a href=\"{h}\">{shown}</a>"),
        None => shown,
    }
}

/// A parameter's value in a table whose heading says its type: money
/// without its period.
fn value(d: &Doc, ty: &weft_check::ty::Ty, v: i64) -> String {
    match ty {
        weft_check::ty::Ty::Money(_) => format!("¥{}", chart::plain(ty, v)),
        _ => weft_ir::value::display_value(d.prog, ty, v),
    }
}

fn num_prev_day(d: i32) -> i32 {
    d.saturating_sub(1)
}

/// A rule's page.
pub(crate) fn rule(d: &Doc, r: RuleId) -> Option<(String, String)> {
    let rd = d.prog.rules.get(r)?;
    let t = Target::Rule(r);
    let kind = kind_of(d, t);
    let sig = match rd.param {
        Some((_, rec)) => format!(
            "of a {}: {}",
            d.link(Target::Record(rec)),
            esc(&d.prog.show(&rd.ret))
        ),
        None => format!("for the whole pack: {}", esc(&d.prog.show(&rd.ret))),
    };
    let mut body = format!(
        "<p class=\"sig\">{} {sig} <span class=\"where\">in module <a href=\"index.html#module-{}\">{}</a>, {}</span></p>\n",
        esc(kind),
        esc(&d.module_of(rd.span)),
        esc(&d.module_of(rd.span)),
        esc(&d.location(rd.span))
    );
    body.push_str(&citation(rd.source.as_deref()));
    body.push_str(&doc(rd.doc.as_deref()));
    body.push_str(&section("definition", "Definition", &definition(d, r)));
    if !rd.exceptions.is_empty() {
        let missed: BTreeSet<&str> = d
            .coverage
            .exceptions_missed
            .iter()
            .filter(|m| m.rule == rd.name)
            .filter_map(|m| m.part.as_deref())
            .collect();
        let mut x = String::from(
            "<table class=\"rows\">\n<thead><tr><th>exception</th><th>applies when</th><th>value</th><th>over</th><th>tested</th></tr></thead>\n<tbody>\n",
        );
        for e in &rd.exceptions {
            let over: Vec<String> = e
                .over
                .iter()
                .filter_map(|i| rd.exceptions.get(*i))
                .map(|o| format!("<a href=\"#exception-{0}\">{0}</a>", esc(&o.label)))
                .collect();
            let tested = if missed.contains(e.label.as_str()) {
                "<span class=\"miss\">no test</span>"
            } else {
                "<span class=\"ok\">yes</span>"
            };
            x.push_str(&format!(
                "<tr id=\"exception-{}\"><td><code>{}</code>{}{}</td><td><code>{}</code></td><td><code>{}</code></td><td>{}</td><td>{tested}</td></tr>\n",
                esc(&e.label),
                esc(&e.label),
                e.source.as_deref().map(|s| format!("<br>source {}", zh(s))).unwrap_or_default(),
                e.doc.as_deref().map(|s| format!("<br>{}", summary(Some(s)))).unwrap_or_default(),
                d.code(e.cond.span),
                d.code(e.value.span),
                over.join(", ")
            ));
        }
        x.push_str("</tbody>\n</table>\n");
        body.push_str(&section("exceptions", "Exceptions", &x));
    }
    // What it uses: the inputs (fields of records), then items.
    let mut fields = BTreeSet::new();
    for e in rule_exprs(rd) {
        walk(e, &mut |x| {
            if let ExprKind::Field(_, rec, f) = &x.kind {
                fields.insert(Target::Field(*rec, *f));
            }
        });
    }
    let inputs: Vec<String> = fields.iter().map(|f| d.link(*f)).collect();
    let uses: Vec<Target> = d.model.item(t).map(|i| i.uses.clone()).unwrap_or_default();
    let mut u = String::from("<h3>Inputs</h3>\n");
    u.push_str(&list(&inputs, "No input field."));
    if !uses.is_empty() {
        u.push_str(&grouped(d, &uses, ""));
    }
    body.push_str(&section("uses", "Uses", &u));
    let mut users = d.model.dependents(t);
    users.extend(d.programmes_of(r).into_iter().map(Target::Programme));
    body.push_str(&section(
        "used-by",
        "Used by",
        &grouped(d, &users, "Nothing in the pack uses it."),
    ));
    // Tests naming it, and coverage.
    let mut tx = String::new();
    let exercised = !d.coverage.rules_missed.iter().any(|m| m.rule == rd.name);
    tx.push_str(if matches!(rd.kind, RuleKind::Scale(_)) {
        "<p class=\"none\">Coverage is not tracked for scales; the rules calling it are covered.</p>\n"
    } else if exercised {
        "<p><span class=\"ok\">Exercised</span> by the pack's tests.</p>\n"
    } else {
        "<p><span class=\"miss\">No test exercises this rule.</span></p>\n"
    });
    let tests: Vec<String> = d
        .tests
        .iter()
        .enumerate()
        .filter(|(_, ti)| ti.rules.contains(&r))
        .map(|(i, ti)| {
            format!(
                "{} <a href=\"tests.html#test-{}\">{}</a>",
                outcome_badge(ti.failures.as_deref()),
                i + 1,
                esc(&ti.name)
            )
        })
        .collect();
    tx.push_str(&list(&tests, "No test names this rule in an expectation."));
    body.push_str(&section("tests", "Tests", &tx));
    let heading = format!("<code>{}</code>", esc(&rd.name));
    Some((d.page(t)?, page(&d.title, &rd.name, kind, &heading, &body)))
}

/// A test's outcome as a badge.
pub(crate) fn outcome_badge(failures: Option<&[String]>) -> &'static str {
    match failures {
        Some([]) => "<span class=\"ok\">pass</span>",
        Some(_) => "<span class=\"miss\">fail</span>",
        None => "<span class=\"none\">not run</span>",
    }
}

/// The labels of a parameter's key combinations (`changchun 长春市 ×
/// urban`), by slot.
fn key_labels(d: &Doc, p: ParamId, html: bool) -> Vec<String> {
    let Some(pd) = d.prog.params.get(p) else {
        return Vec::new();
    };
    let slots = pd.slots();
    (0..slots)
        .map(|s| {
            let vs = pd.key_of(s);
            let parts: Vec<String> = pd
                .keys
                .iter()
                .zip(vs)
                .map(|((e, _), v)| {
                    let t = Target::Variant(*e, v);
                    let name = d
                        .prog
                        .enums
                        .get(*e)
                        .and_then(|en| en.variants.get(v as usize))
                        .map(|x| x.name.clone())
                        .unwrap_or_default();
                    match (html, d.display(t)) {
                        (true, Some(z)) => format!("<code>{}</code> {}", esc(&name), zh(z)),
                        (true, None) => format!("<code>{}</code>", esc(&name)),
                        (false, Some(z)) => format!("{name} {z}"),
                        (false, None) => name,
                    }
                })
                .collect();
            if parts.is_empty() {
                if html {
                    "<em>value</em>".to_string()
                } else {
                    "value".to_string()
                }
            } else {
                parts.join(" × ")
            }
        })
        .collect()
}

/// A parameter's page.
pub(crate) fn param(d: &Doc, p: ParamId) -> Option<(String, String)> {
    let pd = d.prog.params.get(p)?;
    let t = Target::Param(p);
    let keys: Vec<String> = pd
        .keys
        .iter()
        .map(|(e, set)| {
            let all = d
                .prog
                .enums
                .get(*e)
                .map(|en| en.variants.len())
                .unwrap_or(0);
            let part = if (set.count_ones() as usize) < all {
                " (a subset)"
            } else {
                ""
            };
            format!("{}{part}", d.link(Target::Enum(*e)))
        })
        .collect();
    let keyed = if keys.is_empty() {
        String::new()
    } else {
        format!(", keyed by {}", keys.join(" × "))
    };
    let what = if pd.series {
        "a monthly series: each value holds for its own month only"
    } else {
        "versioned by effective date: a value holds until the next version"
    };
    let mut body = format!(
        "<p class=\"sig\">{}{keyed}; {what}. <span class=\"where\">{}</span></p>\n",
        esc(&d.prog.show(&pd.ty)),
        esc(&d.location(pd.span))
    );
    body.push_str(&citation(pd.source.as_deref()));
    body.push_str(&doc(pd.doc.as_deref()));
    let labels = key_labels(d, p, false);
    let html_labels = key_labels(d, p, true);
    if let Some(svg) = chart::step_chart(pd, &labels) {
        let mut c = svg;
        if labels.len() > 1 {
            c.push_str("<ul class=\"legend\">\n");
            for (i, l) in html_labels.iter().enumerate() {
                let colour = chart::PALETTE
                    .get(i % chart::PALETTE.len())
                    .copied()
                    .unwrap_or("#333");
                let dashed = if i >= chart::PALETTE.len() {
                    " dashed"
                } else {
                    ""
                };
                c.push_str(&format!(
                    "<li><span class=\"swatch{dashed}\" style=\"border-color:{colour}\"></span>{l}</li>\n"
                ));
            }
            c.push_str("</ul>\n");
        }
        body.push_str(&section("chart", "Over time", &c));
    }
    // The versions as a table: one row per version, one column per key
    // combination (bands: one row per band).
    let mut v = String::new();
    let bands = matches!(pd.ty, weft_check::ty::Ty::Bands(_));
    if bands {
        for ver in &pd.versions {
            v.push_str(&format!(
                "<h3 id=\"version-{}\">In force from {} <span class=\"origin\">({})</span></h3>\n",
                date(ver.effective),
                date(ver.effective),
                esc(&ver.origin)
            ));
            for (s, val) in ver.values.iter().enumerate() {
                if pd.slots() > 1 {
                    v.push_str(&format!(
                        "<p>{}</p>\n",
                        html_labels.get(s).cloned().unwrap_or_default()
                    ));
                }
                if let Some(PVal::Bands(bs)) = val {
                    v.push_str("<table class=\"rows\">\n<thead><tr><th>from</th><th>below</th><th>rate</th></tr></thead>\n<tbody>\n");
                    for b in bs {
                        v.push_str(&format!(
                            "<tr><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>\n",
                            esc(&chart::plain(&weft_check::ty::Ty::Money(weft_check::ty::Per::Any), b.lo)),
                            b.hi
                                .map(|h| esc(&chart::plain(&weft_check::ty::Ty::Money(weft_check::ty::Per::Any), h)))
                                .unwrap_or_else(|| "—".into()),
                            esc(&num::format_decimal(b.rate))
                        ));
                    }
                    v.push_str("</tbody>\n</table>\n");
                }
            }
        }
    } else {
        let when = |e: i32| {
            if pd.series {
                num::format_month(e)
            } else {
                date(e)
            }
        };
        let cell = |val: &Option<PVal>| match val {
            Some(PVal::Scalar(x)) => esc(&value(d, &pd.ty, *x)),
            _ => "—".to_string(),
        };
        if pd.slots() > 1 {
            // One row per key combination, one column per version.
            v.push_str(
                "<div class=\"wide\"><table class=\"rows versions\">\n<thead><tr><th>from</th>",
            );
            for ver in &pd.versions {
                v.push_str(&format!(
                    "<th id=\"version-{}\">{}<br><span class=\"origin\">{}</span></th>",
                    date(ver.effective),
                    when(ver.effective),
                    esc(&ver.origin)
                ));
            }
            v.push_str("</tr></thead>\n<tbody>\n");
            for (s, l) in html_labels.iter().enumerate() {
                v.push_str(&format!("<tr><td>{l}</td>"));
                for ver in &pd.versions {
                    let c = ver.values.get(s).map(cell).unwrap_or_else(|| "—".into());
                    v.push_str(&format!("<td class=\"n\">{c}</td>"));
                }
                v.push_str("</tr>\n");
            }
            v.push_str("</tbody>\n</table></div>\n");
        } else {
            v.push_str("<table class=\"rows versions\">\n<thead><tr><th>from</th><th>value</th><th>source file</th></tr></thead>\n<tbody>\n");
            for ver in &pd.versions {
                let c = ver.values.first().map(cell).unwrap_or_else(|| "—".into());
                v.push_str(&format!(
                    "<tr id=\"version-{}\"><td>{}</td><td class=\"n\">{c}</td><td class=\"origin\">{}</td></tr>\n",
                    date(ver.effective),
                    when(ver.effective),
                    esc(&ver.origin)
                ));
            }
            v.push_str("</tbody>\n</table>\n");
        }
    }
    body.push_str(&section("versions", "Versions and sources", &v));
    // Assertions on it.
    let mut a = String::new();
    for ad in &d.prog.asserts {
        if ad.param != p {
            continue;
        }
        let window = ad
            .window
            .map(|(f, t)| format!(", in force {}..{}", date(f), date(t)))
            .unwrap_or_default();
        a.push_str(&format!(
            "<div class=\"assert\" id=\"assert-{}\"><h3><code>{}</code> <span class=\"tag\">{}{window}</span></h3>\n{}{}<pre class=\"code\">{}</pre></div>\n",
            esc(&ad.name),
            esc(&ad.name),
            format!("{:?}", ad.severity).to_lowercase(),
            citation(ad.source.as_deref()),
            doc(ad.doc.as_deref()),
            d.code(ad.cond.span)
        ));
    }
    body.push_str(&section("assertions", "Assertions", &a));
    let users: Vec<Target> = d
        .model
        .dependents(t)
        .into_iter()
        .filter(|u| !matches!(u, Target::Assert(_)))
        .collect();
    body.push_str(&section(
        "used-by",
        "Used by",
        &grouped(d, &users, "No rule reads it."),
    ));
    let heading = format!("<code>{}</code>", esc(&pd.name));
    let kind = if pd.series { "series" } else { "parameter" };
    Some((d.page(t)?, page(&d.title, &pd.name, kind, &heading, &body)))
}

/// A programme's page: its amounts and recipients, and every rule and
/// parameter they depend on.
pub(crate) fn programme(d: &Doc, i: u32) -> Option<(String, String)> {
    let pd = d.prog.programmes.get(i as usize)?;
    let t = Target::Programme(i);
    let od = d.prog.outputs.get(pd.output)?;
    let out_t = Target::Output(pd.output);
    let mut body = format!(
        "<p class=\"sig\">Reported from the output {} (one row per {}).</p>\n",
        d.link(out_t),
        d.link(Target::Record(od.record))
    );
    body.push_str(&citation(pd.source.as_deref()));
    body.push_str(&doc(pd.doc.as_deref()));
    let col = |c: usize| -> String {
        match od.columns.get(c) {
            Some(cd) => {
                let href = d
                    .href(Target::Column(pd.output, c as u32))
                    .unwrap_or_default();
                let column = format!("<a href=\"{href}\"><code>{}</code></a>", esc(&cd.name));
                if d.sources.slice(cd.expr.span).trim() == cd.name {
                    // The column is a rule of the same name.
                    let mut rules = BTreeSet::new();
                    rules_in(&cd.expr, &mut rules);
                    match rules.first() {
                        Some(r) => format!("{column} (the rule {})", d.link(Target::Rule(*r))),
                        None => column,
                    }
                } else {
                    format!("{column} = <code>{}</code>", d.code(cd.expr.span))
                }
            }
            None => String::new(),
        }
    };
    let amounts: Vec<String> = pd.amounts.iter().map(|c| col(*c)).collect();
    let mut a = list(&amounts, "No amount.");
    a.push_str("<h3>Recipients</h3>\n");
    a.push_str(&match pd.recipients {
        Some(c) => format!("<p>Those for whom {} holds.</p>\n", col(c)),
        None => "<p>Those with an amount above zero.</p>\n".to_string(),
    });
    body.push_str(&section("amounts", "Amounts", &a));
    let mut roots = BTreeSet::new();
    for c in pd.amounts.iter().chain(pd.recipients.iter()) {
        if let Some(cd) = od.columns.get(*c) {
            rules_in(&cd.expr, &mut roots);
        }
    }
    let rules = d.rules_below(&roots);
    let mut params: BTreeSet<Target> = BTreeSet::new();
    let mut r = String::from(
        "<table class=\"rows\">\n<thead><tr><th>rule</th><th>source</th><th>what it says</th></tr></thead>\n<tbody>\n",
    );
    for rid in &rules {
        let Some(rd) = d.prog.rules.get(*rid) else {
            continue;
        };
        if let Some(it) = d.model.item(Target::Rule(*rid)) {
            params.extend(it.uses.iter().filter(|u| matches!(u, Target::Param(_))));
        }
        r.push_str(&format!(
            "<tr><td>{}</td><td class=\"src\">{}</td><td>{}</td></tr>\n",
            d.link(Target::Rule(*rid)),
            rd.source.as_deref().map(zh).unwrap_or_default(),
            summary(rd.doc.as_deref())
        ));
    }
    r.push_str("</tbody>\n</table>\n");
    body.push_str(&section("rules", "Rules", &r));
    let ps: Vec<String> = params.into_iter().map(|p| d.link(p)).collect();
    body.push_str(&section(
        "parameters",
        "Parameters",
        &list(&ps, "No parameter."),
    ));
    let mut heading = format!("<code>{}</code>", esc(&pd.name));
    if let Some(z) = &pd.display {
        heading.push(' ');
        heading.push_str(&zh(z));
    }
    Some((
        d.page(t)?,
        page(&d.title, &pd.name, "programme", &heading, &body),
    ))
}

/// A record's page: its fields (with the rules reading each) and checks.
pub(crate) fn record(
    d: &Doc,
    r: RecordId,
    readers: &std::collections::HashMap<Target, Vec<RuleId>>,
) -> Option<(String, String)> {
    let rd = d.prog.records.get(r)?;
    let t = Target::Record(r);
    let input = match &rd.input {
        Some(i) => format!(
            "Read from the input <code>{}</code> (<code>--{}</code>).",
            esc(i),
            esc(i)
        ),
        None => "Not read from a file.".to_string(),
    };
    let mut body = format!(
        "<p class=\"sig\">{input} <span class=\"where\">{}</span></p>\n",
        esc(&d.location(rd.span))
    );
    body.push_str(&doc(rd.doc.as_deref()));
    let mut f = String::from(
        "<table class=\"rows\">\n<thead><tr><th>field</th><th>type</th><th>allowed</th><th>about</th><th>read by</th></tr></thead>\n<tbody>\n",
    );
    for (i, fd) in rd.fields.iter_enumerated() {
        let ft = Target::Field(r, i);
        let show = |v: i64| chart::plain(&fd.ty, v);
        let range = match fd.range {
            Some((Some(lo), Some(hi))) => format!("{} to {}", show(lo), show(hi)),
            Some((Some(lo), None)) => format!("≥ {}", show(lo)),
            Some((None, Some(hi))) => format!("≤ {}", show(hi)),
            _ => String::new(),
        };
        let key = if rd.key == Some(i) {
            " <span class=\"tag\">key</span>"
        } else {
            ""
        };
        let by: Vec<String> = readers
            .get(&ft)
            .map(|v| v.iter().map(|x| d.link(Target::Rule(*x))).collect())
            .unwrap_or_default();
        f.push_str(&format!(
            "<tr id=\"field-{}\"><td><code>{}</code>{key}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            esc(&fd.name),
            esc(&fd.name),
            ty_html(d, &fd.ty),
            esc(&range),
            summary(fd.doc.as_deref()),
            by.join(", ")
        ));
    }
    f.push_str("</tbody>\n</table>\n");
    body.push_str(&section("fields", "Fields", &f));
    let checks: Vec<String> = rd
        .checks
        .iter()
        .map(|c| {
            format!(
                "<code>{}</code> — {}{}",
                d.code(c.cond.span),
                esc(&c.message),
                if c.exclude {
                    " (a record failing it is left out)"
                } else {
                    ""
                }
            )
        })
        .collect();
    if !checks.is_empty() {
        body.push_str(&section("checks", "Checks on input", &list(&checks, "")));
    }
    let users = d.model.dependents(t);
    body.push_str(&section(
        "used-by",
        "Used by",
        &grouped(d, &users, "Nothing names it."),
    ));
    let mut heading = format!("<code>{}</code>", esc(&rd.name));
    if let Some(z) = &rd.display {
        heading.push(' ');
        heading.push_str(&zh(z));
    }
    Some((
        d.page(t)?,
        page(&d.title, &rd.name, "record", &heading, &body),
    ))
}

/// An enum's page: its variants with their codes and display names.
pub(crate) fn enumeration(d: &Doc, e: EnumId) -> Option<(String, String)> {
    let ed = d.prog.enums.get(e)?;
    let t = Target::Enum(e);
    let mut body = format!(
        "<p class=\"sig\"><span class=\"where\">{}</span></p>\n",
        esc(&d.location(ed.span))
    );
    body.push_str(&doc(ed.doc.as_deref()));
    let mut v = String::from(
        "<table class=\"rows\">\n<thead><tr><th>variant</th><th>code in data</th><th>name</th><th>about</th></tr></thead>\n<tbody>\n",
    );
    for vd in &ed.variants {
        v.push_str(&format!(
            "<tr id=\"variant-{}\"><td><code>{}</code></td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>\n",
            esc(&vd.name),
            esc(&vd.name),
            esc(&vd.code),
            vd.display.as_deref().map(zh).unwrap_or_default(),
            summary(vd.doc.as_deref())
        ));
    }
    v.push_str("</tbody>\n</table>\n");
    body.push_str(&section("variants", "Variants", &v));
    let users = d.model.dependents(t);
    body.push_str(&section(
        "used-by",
        "Used by",
        &grouped(d, &users, "Nothing names it."),
    ));
    let mut heading = format!("<code>{}</code>", esc(&ed.name));
    if let Some(z) = &ed.display {
        heading.push(' ');
        heading.push_str(&zh(z));
    }
    Some((
        d.page(t)?,
        page(&d.title, &ed.name, "enum", &heading, &body),
    ))
}

/// An output's page: its columns and the programmes reported from it.
pub(crate) fn output(d: &Doc, o: OutputId) -> Option<(String, String)> {
    let od = d.prog.outputs.get(o)?;
    let t = Target::Output(o);
    let mut body = format!(
        "<p class=\"sig\">One row per {}, written as <code>{}.csv</code> (or <code>.jsonl</code>, <code>.parquet</code>) by <code>weft run</code>. <span class=\"where\">{}</span></p>\n",
        d.link(Target::Record(od.record)),
        esc(&od.name),
        esc(&d.location(od.span))
    );
    body.push_str(&doc(od.doc.as_deref()));
    let mut c = String::from(
        "<table class=\"rows\">\n<thead><tr><th>#</th><th>column</th><th>value</th><th>type</th></tr></thead>\n<tbody>\n",
    );
    for (i, cd) in od.columns.iter().enumerate() {
        c.push_str(&format!(
            "<tr id=\"column-{}\"><td class=\"n\">{}</td><td><code>{}</code></td><td><code>{}</code></td><td>{}</td></tr>\n",
            esc(&cd.name),
            i + 1,
            esc(&cd.name),
            d.code(cd.expr.span),
            esc(&d.prog.show(&cd.expr.ty))
        ));
    }
    c.push_str("</tbody>\n</table>\n");
    body.push_str(&section("columns", "Columns", &c));
    let progs: Vec<Target> = d
        .prog
        .programmes
        .iter()
        .enumerate()
        .filter(|(_, p)| p.output == o)
        .map(|(i, _)| Target::Programme(i as u32))
        .collect();
    body.push_str(&section(
        "programmes",
        "Programmes",
        &grouped(d, &progs, "No programme is reported from it."),
    ));
    let heading = format!("<code>{}</code>", esc(&od.name));
    Some((
        d.page(t)?,
        page(&d.title, &od.name, "output", &heading, &body),
    ))
}
