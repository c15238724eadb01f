//! The whole site: the index, the tests page, every item's page, the
//! stylesheet and the search script with its index.

use super::SiteFile;
use super::ctx::Doc;
use super::html::{esc, list, page, section, summary, zh};
use super::items;
use weft_check::model::Target;

/// Every file of the site, `index.html` first.
pub(crate) fn render(d: &Doc) -> Vec<SiteFile> {
    let mut files = vec![
        SiteFile {
            path: "index.html".into(),
            text: index(d),
        },
        SiteFile {
            path: "tests.html".into(),
            text: tests(d),
        },
    ];
    let mut add = |p: Option<(String, String)>| {
        if let Some((path, text)) = p {
            files.push(SiteFile { path, text });
        }
    };
    for i in 0..d.prog.programmes.len() {
        add(items::programme(d, i as u32));
    }
    for i in d.prog.rules.ids() {
        add(items::rule(d, i));
    }
    for i in d.prog.params.ids() {
        add(items::param(d, i));
    }
    let readers = d.field_readers();
    for i in d.prog.records.ids() {
        add(items::record(d, i, &readers));
    }
    for i in d.prog.enums.ids() {
        add(items::enumeration(d, i));
    }
    for i in d.prog.outputs.ids() {
        add(items::output(d, i));
    }
    files.push(SiteFile {
        path: "style.css".into(),
        text: STYLE.to_string(),
    });
    files.push(SiteFile {
        path: "search.js".into(),
        text: search_js(d),
    });
    files
}

/// A table of items: name (linked), what it is, citation, summary.
fn item_table(d: &Doc, targets: &[Target]) -> String {
    let mut out = String::from("<table class=\"items\">\n<tbody>\n");
    for t in targets {
        let Some(it) = d.model.item(*t) else {
            continue;
        };
        out.push_str(&format!(
            "<tr><td>{}</td><td class=\"kind\">{}</td><td class=\"src\">{}</td><td>{}</td></tr>\n",
            d.link(*t),
            esc(it.kind),
            it.source.as_deref().map(zh).unwrap_or_default(),
            summary(it.doc.as_deref())
        ));
    }
    out.push_str("</tbody>\n</table>\n");
    out
}

fn index(d: &Doc) -> String {
    let p = d.prog;
    let mut body = format!(
        "<p class=\"sig\">{} programmes, {} rules, {} parameters, {} records, {} tests, from {} files.</p>\n",
        p.programmes.len(),
        p.rules.len(),
        p.params.len(),
        p.records.len(),
        p.tests.len(),
        d.files
    );
    // Programmes first: what the pack pays.
    let mut pr = String::from(
        "<table class=\"items\">\n<thead><tr><th>programme</th><th>source</th><th>amounts</th><th>for each</th></tr></thead>\n<tbody>\n",
    );
    for (i, pd) in p.programmes.iter().enumerate() {
        let out = p.outputs.get(pd.output);
        let amounts: Vec<String> = pd
            .amounts
            .iter()
            .filter_map(|c| out.and_then(|o| o.columns.get(*c)))
            .map(|c| format!("<code>{}</code>", esc(&c.name)))
            .collect();
        pr.push_str(&format!(
            "<tr><td>{}</td><td class=\"src\">{}</td><td>{}</td><td>{}</td></tr>\n",
            d.link(Target::Programme(i as u32)),
            pd.source.as_deref().map(zh).unwrap_or_default(),
            amounts.join(", "),
            out.map(|o| d.link(Target::Record(o.record)))
                .unwrap_or_default()
        ));
    }
    pr.push_str("</tbody>\n</table>\n");
    body.push_str(&section("programmes", "Programmes", &pr));
    // Rules by module.
    let mut rules = String::new();
    for (m, md) in p.modules.iter_enumerated() {
        let ts: Vec<Target> = p
            .rules
            .iter_enumerated()
            .filter(|(_, r)| r.module == m)
            .map(|(i, _)| Target::Rule(i))
            .collect();
        if ts.is_empty() {
            continue;
        }
        rules.push_str(&format!(
            "<h3 id=\"module-{}\">{}</h3>\n",
            esc(&md.name),
            esc(&md.name)
        ));
        rules.push_str(&item_table(d, &ts));
    }
    // Modules without rules still have an anchor (links name modules).
    for md in &p.modules {
        if !p
            .rules
            .iter()
            .any(|r| p.modules.get(r.module).map(|x| &x.name) == Some(&md.name))
        {
            rules.push_str(&format!(
                "<p id=\"module-{}\" class=\"none\">Module <code>{}</code> declares no rule.</p>\n",
                esc(&md.name),
                esc(&md.name)
            ));
        }
    }
    body.push_str(&section("rules", "Rules", &rules));
    let params: Vec<Target> = p.params.ids().map(Target::Param).collect();
    body.push_str(&section(
        "parameters",
        "Parameters",
        &item_table(d, &params),
    ));
    let records: Vec<Target> = p.records.ids().map(Target::Record).collect();
    let enums: Vec<Target> = p.enums.ids().map(Target::Enum).collect();
    let mut rec = item_table(d, &records);
    rec.push_str("<h3>Enums</h3>\n");
    rec.push_str(&item_table(d, &enums));
    body.push_str(&section("records", "Records and enums", &rec));
    let outputs: Vec<Target> = p.outputs.ids().map(Target::Output).collect();
    body.push_str(&section("outputs", "Outputs", &item_table(d, &outputs)));
    let c = d.coverage;
    let cov = format!(
        "<p>{} of {} rules, {} of {} table rows and {} of {} exceptions are exercised by the pack's tests. <a href=\"tests.html\">The tests</a>.</p>\n",
        c.rules_total.saturating_sub(c.rules_missed.len()),
        c.rules_total,
        c.rows_total.saturating_sub(c.rows_missed.len()),
        c.rows_total,
        c.exceptions_total.saturating_sub(c.exceptions_missed.len()),
        c.exceptions_total
    );
    body.push_str(&section("coverage", "Coverage", &cov));
    page(&d.title, "Policy", "policy pack", &esc(&d.title), &body)
}

fn tests(d: &Doc) -> String {
    let passed = d
        .tests
        .iter()
        .filter(|t| t.failures.as_ref().is_some_and(|f| f.is_empty()))
        .count();
    let mut body = format!(
        "<p class=\"sig\">{passed} of {} tests pass (interpreter; <code>weft test</code> runs both engines).</p>\n",
        d.tests.len()
    );
    let mut t = String::from(
        "<table class=\"rows\">\n<thead><tr><th>#</th><th>test</th><th>as of</th><th>module</th><th>checks</th><th>outcome</th></tr></thead>\n<tbody>\n",
    );
    for (i, ti) in d.tests.iter().enumerate() {
        let rules: Vec<String> = ti.rules.iter().map(|r| d.link(Target::Rule(*r))).collect();
        let failures = match ti.failures.as_deref() {
            Some(f) if !f.is_empty() => format!(
                "<ul class=\"failures\">{}</ul>",
                f.iter()
                    .map(|x| format!("<li>{}</li>", esc(x)))
                    .collect::<String>()
            ),
            _ => String::new(),
        };
        t.push_str(&format!(
            "<tr id=\"test-{}\"><td class=\"n\">{}</td><td>{}<br><span class=\"where\">{} expectation{}</span>{failures}</td><td class=\"date\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            i + 1,
            i + 1,
            esc(&ti.name),
            ti.expectations,
            if ti.expectations == 1 { "" } else { "s" },
            weft_syntax::num::format_date(ti.as_of),
            esc(&ti.module),
            rules.join(", "),
            items::outcome_badge(ti.failures.as_deref())
        ));
    }
    t.push_str("</tbody>\n</table>\n");
    body.push_str(&section("tests", "Tests", &t));
    let c = d.coverage;
    let rule_link = |name: &str, anchor: Option<String>| -> String {
        match d.prog.rule_by_name(name) {
            Some(r) => {
                let href = d.href(Target::Rule(r)).unwrap_or_default();
                match anchor {
                    Some(a) => format!("<a href=\"{href}#{a}\"><code>{}</code></a>", esc(name)),
                    None => format!("<a href=\"{href}\"><code>{}</code></a>", esc(name)),
                }
            }
            None => format!("<code>{}</code>", esc(name)),
        }
    };
    let missed_rules: Vec<String> = c
        .rules_missed
        .iter()
        .map(|m| rule_link(&m.rule, None))
        .collect();
    let missed_rows: Vec<String> = c
        .rows_missed
        .iter()
        .map(|m| {
            let row = m.part.clone().unwrap_or_default();
            format!(
                "{} row {} <code>{}</code>",
                rule_link(&m.rule, Some(format!("row-{row}"))),
                esc(&row),
                esc(m.text.as_deref().unwrap_or_default())
            )
        })
        .collect();
    let missed_exc: Vec<String> = c
        .exceptions_missed
        .iter()
        .map(|m| {
            let label = m.part.clone().unwrap_or_default();
            format!(
                "{} exception <code>{}</code>",
                rule_link(&m.rule, Some(format!("exception-{label}"))),
                esc(&label)
            )
        })
        .collect();
    let mut cov = String::from("<h3>Rules no test evaluates</h3>\n");
    cov.push_str(&list(
        &missed_rules,
        "None: every rule is evaluated by a test.",
    ));
    cov.push_str("<h3>Table rows no test applies</h3>\n");
    cov.push_str(&list(&missed_rows, "None."));
    cov.push_str("<h3>Exceptions no test applies</h3>\n");
    cov.push_str(&list(&missed_exc, "None."));
    body.push_str(&section("coverage", "Coverage", &cov));
    page(&d.title, "Tests", "", "Tests", &body)
}

/// The search script: the index of every item, then the code that
/// filters it as the reader types (names, Chinese names, citations and
/// doc comments; every word must match).
fn search_js(d: &Doc) -> String {
    let mut entries = Vec::new();
    for it in d.model.items() {
        let Some(href) = d.href(it.target) else {
            continue;
        };
        let mut extra = String::new();
        if let Target::Enum(e) = it.target {
            if let Some(ed) = d.prog.enums.get(e) {
                for v in &ed.variants {
                    extra.push(' ');
                    extra.push_str(&v.name);
                    if let Some(z) = &v.display {
                        extra.push(' ');
                        extra.push_str(z);
                    }
                }
            }
        }
        entries.push(serde_json::json!({
            "n": it.name,
            "k": it.kind,
            "z": d.display(it.target).unwrap_or_default(),
            "s": it.source.clone().unwrap_or_default(),
            "d": summary(it.doc.as_deref()),
            "x": extra,
            "u": href,
        }));
    }
    let index = serde_json::to_string(&entries).unwrap_or_else(|_| "[]".into());
    format!(
        "// The search index of this site: every item of the policy.\nconst WEFT_INDEX = {index};\n{SEARCH}"
    )
}

const SEARCH: &str = r#"
(function () {
  var input = document.getElementById("search");
  var out = document.getElementById("results");
  if (!input || !out) return;
  function esc(s) {
    return s.replace(/[&<>"]/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c];
    });
  }
  function search(q) {
    var words = q.toLowerCase().split(/\s+/).filter(function (w) { return w; });
    if (!words.length) return [];
    var hits = [];
    WEFT_INDEX.forEach(function (e) {
      var name = e.n.toLowerCase();
      var hay = [name, e.z, e.k, e.s, e.d, e.x].join(" ").toLowerCase();
      if (!words.every(function (w) { return hay.indexOf(w) >= 0; })) return;
      var joined = words.join("_");
      var score = name === joined ? 0 : name.indexOf(joined) === 0 ? 1 : name.indexOf(words[0]) === 0 ? 2 : name.indexOf(words[0]) >= 0 ? 3 : 4;
      hits.push([score, e]);
    });
    hits.sort(function (a, b) { return a[0] - b[0] || a[1].n.localeCompare(b[1].n); });
    return hits.slice(0, 20).map(function (h) { return h[1]; });
  }
  function show() {
    var hits = search(input.value);
    if (!hits.length) {
      out.hidden = input.value.trim() === "";
      out.innerHTML = input.value.trim() === "" ? "" : "<li class=\"none\">No match.</li>";
      return;
    }
    out.innerHTML = hits.map(function (e) {
      return "<li><a href=\"" + e.u + "\"><code>" + esc(e.n) + "</code>" +
        (e.z ? " <span class=\"zh\" lang=\"zh-CN\">" + esc(e.z) + "</span>" : "") +
        " <span class=\"kind\">" + esc(e.k) + "</span>" +
        (e.d ? "<br><small>" + e.d + "</small>" : "") + "</a></li>";
    }).join("");
    out.hidden = false;
  }
  // `page.html?q=words` opens with that search shown (links to a search).
  var asked = /[?&]q=([^&]*)/.exec(window.location.search || "");
  if (asked) {
    try { input.value = decodeURIComponent(asked[1].replace(/\+/g, " ")); } catch (e) {}
    show();
  }
  input.addEventListener("input", show);
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter") {
      var first = out.querySelector("a");
      if (first) window.location.href = first.getAttribute("href");
    } else if (ev.key === "Escape") {
      input.value = "";
      show();
    }
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "/" && document.activeElement !== input) {
      ev.preventDefault();
      input.focus();
    }
  });
})();
"#;

/// The stylesheet. Fonts: the system's sans-serif, then the common CJK
/// families (Noto Sans CJK SC — Debian's `fonts-noto-cjk` —, Source Han
/// Sans SC, PingFang SC, Microsoft YaHei, WenQuanYi Micro Hei), so
/// Chinese renders with what the reader's system has; nothing is
/// downloaded.
const STYLE: &str = r#"/* weft doc */
:root {
  --fg: #1d2329; --muted: #5b6670; --line: #d9dee3; --bg-soft: #f5f7f9;
  --accent: #1b6ca8; --ok: #2e7d32; --miss: #b03a2e;
  --sans: system-ui, -apple-system, "Segoe UI", "Noto Sans", "Helvetica Neue", Arial,
    "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Hiragino Sans GB",
    "Microsoft YaHei", "WenQuanYi Micro Hei", sans-serif;
  --mono: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, Consolas,
    "Noto Sans Mono CJK SC", "Noto Sans CJK SC", monospace;
}
* { box-sizing: border-box; }
body { margin: 0; font-family: var(--sans); color: var(--fg); line-height: 1.5; font-size: 15px; }
.zh, :lang(zh-CN) { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "WenQuanYi Micro Hei", var(--sans); }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
code, pre { font-family: var(--mono); font-size: 13px; }
header.top { display: flex; align-items: center; gap: 24px; padding: 10px 32px; border-bottom: 1px solid var(--line); background: var(--bg-soft); position: sticky; top: 0; z-index: 2; }
header.top .home { font-weight: 700; font-size: 17px; color: var(--fg); }
header.top nav a { margin-right: 14px; }
.search { position: relative; margin-left: auto; }
.search input { width: 300px; padding: 6px 10px; border: 1px solid var(--line); border-radius: 6px; font: inherit; }
#results { position: absolute; right: 0; top: 38px; width: 460px; max-height: 70vh; overflow: auto; margin: 0; padding: 4px 0; list-style: none; background: #fff; border: 1px solid var(--line); border-radius: 6px; box-shadow: 0 4px 14px rgba(0,0,0,.12); }
#results li a { display: block; padding: 5px 12px; color: var(--fg); }
#results li a:hover { background: var(--bg-soft); text-decoration: none; }
#results li.none { padding: 5px 12px; color: var(--muted); }
#results .kind { color: var(--muted); font-size: 12px; }
main { max-width: 1100px; padding: 8px 32px 40px; }
h1 { font-size: 26px; margin: 4px 0 8px; }
h1 code { font-size: 24px; }
h2 { font-size: 19px; border-bottom: 1px solid var(--line); padding-bottom: 4px; margin-top: 30px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
p.kind { margin: 18px 0 0; color: var(--muted); text-transform: uppercase; letter-spacing: .06em; font-size: 12px; }
.sig { color: var(--muted); }
.where { color: var(--muted); font-size: 13px; }
.citation .tag, .tag { display: inline-block; background: #e8eef4; color: #34495e; border-radius: 4px; padding: 0 6px; font-size: 12px; margin-right: 4px; }
.doc p { margin: 6px 0; }
pre.code { background: var(--bg-soft); border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; overflow-x: auto; white-space: pre-wrap; }
td pre.code { margin: 0; padding: 4px 8px; }
table { border-collapse: collapse; margin: 8px 0; }
th, td { border: 1px solid var(--line); padding: 5px 9px; text-align: left; vertical-align: top; }
th { background: var(--bg-soft); font-weight: 600; font-size: 13px; }
td.date, td.src { white-space: nowrap; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.items { width: 100%; }
table.items td { border-left: none; border-right: none; }
table.items td:first-child { width: 30%; }
table.items td.kind { width: 6%; }
table.items td.kind { color: var(--muted); font-size: 13px; }
.wide { overflow-x: auto; }
table.versions td, table.versions th { font-size: 13px; }
.origin { color: var(--muted); font-size: 12px; }
.ok { color: var(--ok); font-weight: 600; }
.miss { color: var(--miss); font-weight: 600; }
.none { color: var(--muted); }
ul.links { columns: 2; padding-left: 20px; }
ul.failures { color: var(--miss); margin: 4px 0; }
svg.chart { max-width: 100%; height: auto; background: #fff; border: 1px solid var(--line); border-radius: 6px; }
svg.chart .grid { stroke: #eceff2; }
svg.chart .axis { stroke: #7f8c8d; }
svg.chart .step { stroke: #eceff2; stroke-dasharray: 3 3; }
svg.chart .tick { font-family: var(--sans); font-size: 11px; fill: var(--muted); }
ul.legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 4px 16px; font-size: 13px; }
.swatch { display: inline-block; width: 18px; border-top: 3px solid; margin-right: 6px; vertical-align: middle; }
.swatch.dashed { border-top-style: dashed; }
:target { background: #fff6d6; }
footer { max-width: 1100px; padding: 16px 32px 32px; color: var(--muted); font-size: 12px; border-top: 1px solid var(--line); }
"#;
