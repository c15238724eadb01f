//! The HTML report of `weft diff`: one self-contained page (inline CSS, inline
//! SVG charts built with the `svg` crate, no network resources), with the
//! same numbers as the JSON report.

use svg::Document;
use svg::node::element::{Group, Line, Rectangle, Text, Title};
use weft::run::{BINS, DiffReport, ProgrammeDiff, format_yuan as yuan};

const FONT: &str = "'Noto Sans CJK SC','Noto Sans SC','Source Han Sans SC','PingFang SC','Microsoft YaHei','WenQuanYi Micro Hei',sans-serif";
const BEFORE: &str = "#8da0cb";
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
fn histogram(counts: &[u64]) -> String {
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
        .add(text(
            w / 2.0,
            h - 18.0,
            "change per record and programme, yuan (decreases left, increases right)",
            "middle",
            12,
        ));
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

pub fn page(r: &DiffReport) -> String {
    // Yearly cost on one scale: monthly amounts × 12, one-off amounts as
    // they are (one assessment), yearly amounts as they are.
    let yearly = |t: &[i128; 3]| t[0] + t[1] * 12 + t[2];
    let cost_rows: Vec<(String, Vec<(f64, String)>)> = r
        .programmes
        .iter()
        .filter(|p| yearly(&p.before) != 0 || yearly(&p.after) != 0)
        .map(|p| {
            let (b, a) = (yearly(&p.before), yearly(&p.after));
            (
                label(p),
                vec![
                    (b as f64 / 100.0, format!("¥{}", yuan(b))),
                    (a as f64 / 100.0, format!("¥{}", yuan(a))),
                ],
            )
        })
        .collect();
    let mut hist = vec![0u64; BINS.len()];
    for p in &r.programmes {
        for (h, c) in hist.iter_mut().zip(&p.histogram) {
            *h += c;
        }
    }
    let mut by: Vec<(String, u64, u64)> = Vec::new();
    for p in &r.programmes {
        for b in &p.by {
            match by.iter_mut().find(|x| x.0 == b.value) {
                Some(x) => {
                    x.1 += b.gained;
                    x.2 += b.lost;
                }
                None => by.push((b.value.clone(), b.gained, b.lost)),
            }
        }
    }
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
p.sub {{ color: #555; margin-top: 0; }}
table {{ border-collapse: collapse; font-size: 13px; margin-top: 8px; }}
th, td {{ border-bottom: 1px solid #e4e4e4; padding: 4px 8px; text-align: left; }}
td.n {{ text-align: right; font-variant-numeric: tabular-nums; }}
.facts span {{ display: inline-block; margin-right: 24px; }}
svg {{ max-width: 100%; height: auto; }}
</style>
</head>
<body>
<h1>Who gains, who loses, what it costs</h1>
<p class="sub">before: {before}<br>after: {after}</p>
<p class="facts"><span>{compared} records compared</span><span>{changed} changed</span><span>rejected before {rb}, after {ra}</span><span>left out before {lb}, after {la}</span></p>
<h2>Yearly cost by programme, before and after</h2>
<p class="sub">monthly amounts × 12; one-off amounts (temporary assistance) as assessed once</p>
{cost}
<h2>Per-record changes</h2>
{hist}
<h2>Recipients gained and lost by {by_name}</h2>
{by_chart}
<h2>The numbers</h2>
{table}
</body>
</html>
"#,
        before = esc(&r.before),
        after = esc(&r.after),
        compared = r.records_compared,
        changed = r.records_changed,
        rb = r.rejected_before,
        ra = r.rejected_after,
        lb = r.left_out_before,
        la = r.left_out_after,
        cost = bars(
            &cost_rows,
            &[("before", BEFORE), ("after", AFTER)],
            "yuan per year"
        ),
        hist = histogram(&hist),
        by_name = esc(&by_name),
        by_chart = bars(&by_rows, &[("gained", GAIN), ("lost", LOSS)], "recipients"),
        table = table(r),
    )
}
