//! The HTML report of `weft diff`: one self-contained page (inline CSS, inline
//! SVG charts built with the `svg` crate, no network resources), with the
//! same numbers as the JSON report.

use svg::Document;
use svg::node::element::{Group, Line, Rectangle, Text, Title};
use weft::run::{BINS, DiffReport, ProgrammeDiff, format_yuan as yuan};

const FONT: &str = "'Noto Sans CJK SC','Noto Sans SC','Source Han Sans SC','PingFang SC','Microsoft YaHei','WenQuanYi Micro Hei',sans-serif";
const AFTER: &str = "#1b6ca8";
const GAIN: &str = "#2e8b57";
const LOSS: &str = "#c0392b";

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn period_index(p: &ProgrammeDiff) -> usize {
    match p.period.as_str() {
        "per month" => 1,
        "per year" => 2,
        _ => 0,
    }
}

fn label(p: &ProgrammeDiff) -> String {
    match &p.name {
        Some(n) => format!("{n} ({})", p.programme),
        None => p.programme.clone(),
    }
}

fn text(x: f64, y: f64, s: &str, anchor: &str, size: u32) -> Text {
    Text::new(s)
        .set("x", x)
        .set("y", y)
        .set("text-anchor", anchor)
        .set("font-size", size)
        .set("font-family", FONT)
        .set("fill", "#222")
}

/// Horizontal grouped bars: one group per label, bars for each series.
fn bars(rows: &[(String, Vec<(f64, String)>)], series: &[(&str, &str)], unit: &str) -> String {
    let label_w = 300.0;
    let bar_h = 14.0;
    let gap = 10.0;
    let plot_w = 520.0;
    let group_h = bar_h * series.len() as f64 + gap;
    let height = 40.0 + group_h * rows.len() as f64 + 20.0;
    let width = label_w + plot_w + 140.0;
    let max = rows
        .iter()
        .flat_map(|(_, v)| v.iter().map(|(x, _)| x.abs()))
        .fold(0.0f64, f64::max)
        .max(1.0);
    let mut doc = Document::new()
        .set("viewBox", (0, 0, width as i64, height as i64))
        .set("width", width as i64)
        .set("height", height as i64)
        .set("role", "img");
    // Legend.
    let mut lx = label_w;
    for (name, color) in series {
        doc = doc
            .add(
                Rectangle::new()
                    .set("x", lx)
                    .set("y", 8)
                    .set("width", 12)
                    .set("height", 12)
                    .set("fill", *color),
            )
            .add(text(lx + 16.0, 18.0, name, "start", 12));
        lx += 110.0;
    }
    doc = doc.add(text(width - 10.0, 18.0, unit, "end", 11));
    for (i, (name, vals)) in rows.iter().enumerate() {
        let y0 = 34.0 + group_h * i as f64;
        doc = doc.add(text(label_w - 8.0, y0 + group_h / 2.0, name, "end", 12));
        for (j, ((v, shown), (sname, color))) in vals.iter().zip(series).enumerate() {
            let w = (v.abs() / max * plot_w).max(if *v != 0.0 { 1.0 } else { 0.0 });
            let y = y0 + bar_h * j as f64;
            let g = Group::new()
                .add(Title::new(format!("{name}: {sname} {shown}")))
                .add(
                    Rectangle::new()
                        .set("x", label_w)
                        .set("y", y)
                        .set("width", w)
                        .set("height", bar_h - 2.0)
                        .set("fill", *color),
                );
            doc = doc
                .add(g)
                .add(text(label_w + w + 4.0, y + bar_h - 4.0, shown, "start", 11));
        }
    }
    doc = doc.add(
        Line::new()
            .set("x1", label_w)
            .set("x2", label_w)
            .set("y1", 28)
            .set("y2", height - 10.0)
            .set("stroke", "#999"),
    );
    doc.to_string()
}

/// Vertical bars of the histogram of per-record changes.
fn histogram(counts: &[u64], caption: &str) -> String {
    let n = counts.len().max(1) as f64;
    let (w, h) = (820.0, 300.0);
    let (left, bottom, top) = (50.0, 60.0, 20.0);
    let bw = (w - left - 20.0) / n;
    let max = counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    let mut doc = Document::new()
        .set("viewBox", (0, 0, w as i64, h as i64))
        .set("width", w as i64)
        .set("height", h as i64)
        .set("role", "img");
    for (i, c) in counts.iter().enumerate() {
        let bh = *c as f64 / max * (h - bottom - top);
        let x = left + bw * i as f64;
        let color = if i < counts.len() / 2 { LOSS } else { GAIN };
        let lab = BINS.get(i).map(|b| b.2).unwrap_or("");
        doc = doc
            .add(
                Group::new().add(Title::new(format!("{lab}: {c}"))).add(
                    Rectangle::new()
                        .set("x", x + 4.0)
                        .set("y", h - bottom - bh)
                        .set("width", bw - 8.0)
                        .set("height", bh)
                        .set("fill", color),
                ),
            )
            .add(text(
                x + bw / 2.0,
                h - bottom - bh - 4.0,
                &c.to_string(),
                "middle",
                11,
            ))
            .add(text(x + bw / 2.0, h - bottom + 16.0, lab, "middle", 11));
    }
    doc = doc
        .add(
            Line::new()
                .set("x1", left)
                .set("x2", w - 10.0)
                .set("y1", h - bottom)
                .set("y2", h - bottom)
                .set("stroke", "#999"),
        )
        .add(text(w / 2.0, h - 18.0, caption, "middle", 12));
    doc.to_string()
}

fn table(r: &DiffReport) -> String {
    let mut s = String::from(
        "<table><thead><tr><th>programme</th><th>period</th><th>recipients before</th><th>after</th><th>gained</th><th>lost</th><th>unchanged</th><th>total before</th><th>total after</th><th>difference</th></tr></thead><tbody>",
    );
    for p in &r.programmes {
        let i = period_index(p);
        s.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td></tr>",
            esc(&label(p)),
            esc(&p.period),
            p.recipients_before,
            p.recipients_after,
            p.gained,
            p.lost,
            p.unchanged,
            yuan(p.before[i]),
            yuan(p.after[i]),
            yuan(p.after[i] - p.before[i])
        ));
    }
    s.push_str("</tbody></table>");
    s
}

/// Horizontal bars from a zero axis: decreases left (red), increases
/// right (blue), each labelled with its signed amount.
fn diverging(rows: &[(String, i128)], unit: &str) -> String {
    let (label_w, plot_w, bar_h, gap) = (300.0, 560.0, 16.0, 8.0);
    let height = 36.0 + (bar_h + gap) * rows.len() as f64 + 12.0;
    let width = label_w + plot_w + 40.0;
    let max = rows
        .iter()
        .map(|(_, v)| v.unsigned_abs() as f64)
        .fold(0.0f64, f64::max)
        .max(1.0);
    // The zero axis divides the plot in proportion to the largest
    // decrease and increase (one scale for both), leaving room for the
    // amounts' labels on each side that has bars.
    let neg = rows
        .iter()
        .filter(|(_, v)| *v < 0)
        .map(|(_, v)| v.unsigned_abs() as f64)
        .fold(0.0f64, f64::max);
    let pos = rows
        .iter()
        .filter(|(_, v)| *v > 0)
        .map(|(_, v)| *v as f64)
        .fold(0.0f64, f64::max);
    let margin = |x: f64| if x > 0.0 { 95.0 } else { 10.0 };
    let span = (plot_w - margin(neg) - margin(pos)) / ((neg + pos) / max).max(1.0);
    let zero = label_w + margin(neg) + neg / max * span;
    let mut doc = Document::new()
        .set("viewBox", (0, 0, width as i64, height as i64))
        .set("width", width as i64)
        .set("height", height as i64)
        .set("role", "img")
        .add(text(width - 10.0, 18.0, unit, "end", 11));
    for (i, (name, v)) in rows.iter().enumerate() {
        let y = 30.0 + (bar_h + gap) * i as f64;
        let w = (v.unsigned_abs() as f64 / max * span).max(if *v != 0 { 1.0 } else { 0.0 });
        let (x, color, anchor, tx) = if *v < 0 {
            (zero - w, LOSS, "end", zero - w - 4.0)
        } else {
            (zero, AFTER, "start", zero + w + 4.0)
        };
        let shown = signed(*v);
        doc = doc
            .add(text(label_w - 8.0, y + bar_h - 4.0, name, "end", 12))
            .add(
                Group::new()
                    .add(Title::new(format!("{name}: {shown}")))
                    .add(
                        Rectangle::new()
                            .set("x", x)
                            .set("y", y)
                            .set("width", w)
                            .set("height", bar_h)
                            .set("fill", color),
                    ),
            )
            .add(text(tx, y + bar_h - 4.0, &shown, anchor, 11));
    }
    doc = doc.add(
        Line::new()
            .set("x1", zero)
            .set("x2", zero)
            .set("y1", 24)
            .set("y2", height - 6.0)
            .set("stroke", "#666"),
    );
    doc.to_string()
}

/// `+¥1,234.00` / `−¥1,234.00` / `¥0.00`.
fn signed(v: i128) -> String {
    match v.signum() {
        1 => format!("+¥{}", yuan(v)),
        -1 => format!("−¥{}", yuan(-v)),
        _ => "¥0.00".into(),
    }
}

/// A year's worth of a programme's totals: per month × 12 + per year
/// (one-off amounts apart: they are payments of the month compared).
fn annual(t: &[i128; 3]) -> i128 {
    t[1] * 12 + t[2]
}

/// What the report says, in one place (the messages of this page).
const HEADLINE_MORE: &str = "more spending a year";
const HEADLINE_LESS: &str = "savings a year";
const HEADLINE_SAME: &str = "no change in yearly spending";

fn losers_table(r: &DiffReport) -> String {
    if r.losers.is_empty() {
        return "<p class=sub>No record loses.</p>".into();
    }
    let by = r.by.clone().unwrap_or_else(|| "group".into());
    let mut s = format!(
        "<table><thead><tr><th>#</th><th>output</th><th>id</th><th>{}</th><th>per month</th><th>per year</th><th>once</th><th>a year's worth</th></tr></thead><tbody>",
        esc(&by)
    );
    for (i, l) in r.losers.iter().enumerate() {
        s.push_str(&format!(
            "<tr><td class=n>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n><b>{}</b></td></tr>",
            i + 1,
            esc(&l.output),
            esc(&l.id),
            esc(&l.value),
            signed(l.change[1]),
            signed(l.change[2]),
            signed(l.change[0]),
            signed(l.annual)
        ));
    }
    s.push_str("</tbody></table>");
    s
}

fn params_table(r: &DiffReport) -> String {
    if r.parameters_changed.is_empty() {
        return "<p class=sub>No parameter differs.</p>".into();
    }
    let side = |v: &Option<weft::run::ParameterVersion>| match v {
        Some(v) => format!(
            "{}<br><span class=sub>from {}, {}</span>",
            esc(&v.value),
            esc(&v.effective),
            esc(&v.origin)
        ),
        None => "<span class=sub>not used</span>".into(),
    };
    let mut s = String::from(
        "<table class=params><thead><tr><th>parameter</th><th>before</th><th>after</th></tr></thead><tbody>",
    );
    for p in &r.parameters_changed {
        s.push_str(&format!(
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            esc(&p.name),
            side(&p.before),
            side(&p.after)
        ));
    }
    s.push_str("</tbody></table>");
    s
}

pub fn page(r: &DiffReport) -> String {
    // The headline: a year's worth of the change (monthly × 12 + yearly),
    // one-off payments apart.
    let net: i128 = r
        .programmes
        .iter()
        .map(|p| annual(&p.after) - annual(&p.before))
        .sum();
    let once: i128 = r.programmes.iter().map(|p| p.after[0] - p.before[0]).sum();
    let (headline_class, headline_word) = match net.signum() {
        1 => ("more", HEADLINE_MORE),
        -1 => ("less", HEADLINE_LESS),
        _ => ("same", HEADLINE_SAME),
    };
    // Change per programme (only those that change), a year's worth.
    let mut yearly_rows: Vec<(String, i128)> = r
        .programmes
        .iter()
        .map(|p| (label(p), annual(&p.after) - annual(&p.before)))
        .filter(|(_, v)| *v != 0)
        .collect();
    yearly_rows.sort_by_key(|(_, v)| *v);
    let once_rows: Vec<(String, i128)> = r
        .programmes
        .iter()
        .map(|p| (label(p), p.after[0] - p.before[0]))
        .filter(|(_, v)| *v != 0)
        .collect();
    // Per-record changes: one histogram per period, never mixed.
    let mut hists = String::new();
    for (period, caption) in [
        (
            "per month",
            "change per record and programme, yuan per month",
        ),
        ("per year", "change per record and programme, yuan per year"),
        ("once", "change per record and programme, yuan paid once"),
    ] {
        let mut hist = vec![0u64; BINS.len()];
        for p in r.programmes.iter().filter(|p| p.period == period) {
            for (h, c) in hist.iter_mut().zip(&p.histogram) {
                *h += c;
            }
        }
        if hist.iter().any(|c| *c > 0) {
            hists.push_str(&format!("<h3>Amounts {period}</h3>\n"));
            hists.push_str(&histogram(&hist, caption));
        }
    }
    // Records (persons, households) gained and lost, not memberships: the
    // output with the most records (the persons).
    let mut outputs: Vec<(String, u64)> = Vec::new();
    for x in &r.records_by {
        match outputs.iter_mut().find(|o| o.0 == x.output) {
            Some(o) => o.1 += x.records,
            None => outputs.push((x.output.clone(), x.records)),
        }
    }
    let people = outputs
        .iter()
        .max_by_key(|o| o.1)
        .map(|o| o.0.clone())
        .unwrap_or_default();
    let mut by: Vec<(String, u64, u64)> = r
        .records_by
        .iter()
        .filter(|x| x.output == people && (x.gained > 0 || x.lost > 0))
        .map(|x| (x.value.clone(), x.gained, x.lost))
        .collect();
    by.sort();
    let by_rows: Vec<(String, Vec<(f64, String)>)> = by
        .iter()
        .map(|(v, g, l)| {
            (
                v.clone(),
                vec![(*g as f64, g.to_string()), (*l as f64, l.to_string())],
            )
        })
        .collect();
    let by_name = r.by.clone().unwrap_or_else(|| "group".into());
    let policy_line = if r.policy_sha256.0 == r.policy_sha256.1 {
        format!("policy <code>{}</code>", esc(&r.policy_sha256.0))
    } else {
        format!(
            "policy before <code>{}</code>, after <code>{}</code>",
            esc(&r.policy_sha256.0),
            esc(&r.policy_sha256.1)
        )
    };
    format!(
        r#"<!doctype html>
<html lang="zh-Hans">
<head>
<meta charset="utf-8">
<title>weft diff</title>
<style>
body {{ font-family: {FONT}; margin: 24px 32px; color: #222; max-width: 1100px; }}
h1 {{ font-size: 22px; margin-bottom: 4px; }}
h2 {{ font-size: 17px; margin-top: 32px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }}
h3 {{ font-size: 14px; margin: 16px 0 0; color: #444; }}
p.sub, span.sub {{ color: #555; margin-top: 0; font-size: 12px; }}
.headline {{ font-size: 34px; font-weight: 700; margin: 12px 0 2px; font-variant-numeric: tabular-nums; }}
.headline.more {{ color: {AFTER}; }}
.headline.less {{ color: {LOSS}; }}
.headline small {{ font-size: 16px; font-weight: 400; color: #444; }}
table {{ border-collapse: collapse; font-size: 13px; margin-top: 8px; }}
th, td {{ border-bottom: 1px solid #e4e4e4; padding: 4px 8px; text-align: left; vertical-align: top; }}
td.n {{ text-align: right; font-variant-numeric: tabular-nums; }}
table.params td {{ max-width: 420px; }}
.facts span {{ display: inline-block; margin-right: 24px; }}
footer {{ margin-top: 40px; color: #666; font-size: 12px; border-top: 1px solid #ddd; padding-top: 8px; }}
svg {{ max-width: 100%; height: auto; }}
</style>
</head>
<body>
<h1>What this change costs</h1>
<p class="sub">before: {before}<br>after: {after}</p>
<p class="headline {headline_class}">{net} <small>{headline_word} (monthly amounts × 12 + yearly amounts)</small></p>
<p class="sub">one-off payments (as assessed in the month compared): {once}</p>
<p class="facts"><span>{compared} records compared</span><span>{changed} changed</span><span>rejected before {rb}, after {ra}</span><span>left out before {lb}, after {la}</span></p>
<h2>Change per programme, a year's worth</h2>
<p class="sub">after − before: monthly amounts × 12 + yearly amounts; programmes that do not change are not shown</p>
{yearly_chart}
{once_chart}
<h2>Who gains, who loses: {people} by {by_name}</h2>
<p class="sub">{people} that became recipients of at least one programme (gained) or stopped receiving one (lost); each counted once however many programmes; values of {by_name} where nobody gains or loses are not shown</p>
{by_chart}
<h2>Those who lose most</h2>
<p class="sub">the {n_losers} records whose amounts fall most, by a year's worth (per month × 12 + per year + once)</p>
{losers}
<h2>Per-record changes</h2>
{hists}
<h2>Parameters changed</h2>
{params}
<h2>The numbers</h2>
{table}
<footer>{policy_line} · weft {version}</footer>
</body>
</html>
"#,
        before = esc(&r.before),
        after = esc(&r.after),
        net = signed(net),
        once = signed(once),
        compared = r.records_compared,
        changed = r.records_changed,
        rb = r.rejected_before,
        ra = r.rejected_after,
        lb = r.left_out_before,
        la = r.left_out_after,
        yearly_chart = if yearly_rows.is_empty() {
            "<p class=sub>No programme's yearly spending changes.</p>".to_string()
        } else {
            diverging(&yearly_rows, "yuan per year")
        },
        once_chart = if once_rows.is_empty() {
            String::new()
        } else {
            format!(
                "<h3>One-off payments</h3>\n{}",
                diverging(&once_rows, "yuan, paid once")
            )
        },
        people = esc(&people),
        by_name = esc(&by_name),
        by_chart = bars(&by_rows, &[("gained", GAIN), ("lost", LOSS)], &people),
        n_losers = r.losers.len(),
        losers = losers_table(r),
        hists = hists,
        params = params_table(r),
        table = table(r),
        policy_line = policy_line,
        version = esc(&r.version),
    )
}
