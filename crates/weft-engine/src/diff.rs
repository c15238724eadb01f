//! `weft diff`: who gains, who loses and what it costs when a standard
//! changes.
//!
//! Both situations are evaluated over the same input in one pass (when the
//! two policies read the same records): [`crate::run::run_sides`] hands each
//! batch's results of both sides to a [`DiffObserver`], which compares them
//! row by row (rows are matched by their position in the input files).
//! Per programme it counts recipients before and after, those gained, lost
//! and unchanged, the totals per period, the distribution of per-record
//! changes and the same broken down by an enum field (the region by
//! default). Every changed cell can be written to a file.

use crate::run::{Evaluated, Observer};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use weft_check::ty::{Per, Ty};
use weft_data::OutCell;
use weft_ir::Ir;

/// Bounds (in yuan) of the histogram of per-record changes.
pub const BINS: &[(i64, i64, &str)] = &[
    (i64::MIN, -100_000, "≤ −1,000"),
    (-100_000, -10_000, "−1,000 … −100"),
    (-10_000, -1_000, "−100 … −10"),
    (-1_000, 0, "−10 … 0"),
    (1, 1_000, "0 … 10"),
    (1_000, 10_000, "10 … 100"),
    (10_000, 100_000, "100 … 1,000"),
    (100_000, i64::MAX, "≥ 1,000"),
];

/// The bounds of bin `i` of [`BINS`] in fen, as [`bin_of`] places
/// changes: `(lower, lower inclusive, upper, upper inclusive)`, `None`
/// where the bin is open.
pub fn bin_bounds(i: usize) -> (Option<i64>, bool, Option<i64>, bool) {
    match i {
        0 => (None, false, Some(-100_000), true),
        1 => (Some(-100_000), false, Some(-10_000), true),
        2 => (Some(-10_000), false, Some(-1_000), true),
        3 => (Some(-1_000), false, Some(0), false),
        4 => (Some(0), false, Some(1_000), false),
        5 => (Some(1_000), true, Some(10_000), false),
        6 => (Some(10_000), true, Some(100_000), false),
        _ => (Some(100_000), true, None, false),
    }
}

fn bin_of(change: i64) -> Option<usize> {
    Some(match change {
        0 => return None,
        c if c <= -100_000 => 0,
        c if c <= -10_000 => 1,
        c if c <= -1_000 => 2,
        c if c < 0 => 3,
        c if c < 1_000 => 4,
        c if c < 10_000 => 5,
        c if c < 100_000 => 6,
        _ => 7,
    })
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ByRow {
    /// The enum code (or `?`).
    pub value: String,
    pub recipients_before: u64,
    pub recipients_after: u64,
    pub gained: u64,
    pub lost: u64,
    /// Fen, in the programme's period.
    pub amount_before: i128,
    pub amount_after: i128,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ProgrammeDiff {
    pub programme: String,
    pub name: Option<String>,
    /// The period of the amounts compared per record (`per month`, …).
    pub period: String,
    pub recipients_before: u64,
    pub recipients_after: u64,
    pub gained: u64,
    pub lost: u64,
    pub unchanged: u64,
    /// Fen per period: `[once, per month, per year]`, before and after.
    pub before: [i128; 3],
    pub after: [i128; 3],
    /// Records whose amount went up, down.
    pub increased: u64,
    pub decreased: u64,
    /// Counts per bin of [`BINS`].
    pub histogram: Vec<u64>,
    pub by: Vec<ByRow>,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct DiffReport {
    pub before: String,
    pub after: String,
    pub by: Option<String>,
    pub records_compared: u64,
    pub records_changed: u64,
    pub cells_changed: u64,
    /// Rows rejected (bad data) on each side.
    pub rejected_before: u64,
    pub rejected_after: u64,
    /// Rows left out (an `exclude` check: persons not yet born) on each
    /// side.
    pub left_out_before: u64,
    pub left_out_after: u64,
    /// Parameters whose version or values differ between the sides.
    pub parameters_changed: Vec<ParamChange>,
    /// Records gained and lost, per output and value of the breakdown.
    pub records_by: Vec<RecordsBy>,
    /// The records that lose most (at most [`LOSERS`], the most first).
    pub losers: Vec<Loser>,
    pub programmes: Vec<ProgrammeDiff>,
    pub changes_file: Option<String>,
}

type Row = (Vec<OutCell>, Option<i64>);

/// Where the changes file goes: a writer that can start again empty (a
/// run that finds duplicate ids late evaluates the population again).
pub trait ChangeSink: Write {
    fn truncate(&mut self) -> std::io::Result<()>;
}

impl ChangeSink for std::io::BufWriter<std::fs::File> {
    fn truncate(&mut self) -> std::io::Result<()> {
        use std::io::Seek;
        self.flush()?;
        self.get_mut().set_len(0)?;
        self.get_mut().rewind()?;
        Ok(())
    }
}

impl ChangeSink for Vec<u8> {
    fn truncate(&mut self) -> std::io::Result<()> {
        self.clear();
        Ok(())
    }
}

/// Compares the two sides of a diff batch by batch.
pub struct DiffObserver<'a> {
    ir: &'a Ir,
    pending: HashMap<(usize, u64), Row>,
    rejected_pending: Vec<(bool, u64)>,
    /// Member seqs left out, before and after, in the current batch.
    left_pending: [std::collections::HashSet<u64>; 2],
    /// Per output: it is of a group record (members are left out, never
    /// groups).
    group_output: Vec<bool>,
    /// Variant names of the `by` field.
    by_names: Vec<String>,
    pub report: DiffReport,
    changes: Option<Box<dyn ChangeSink + 'a>>,
    /// Per output: the column holding the record's id.
    id_col: Vec<Option<usize>>,
    error: Option<String>,
    /// The report as it was before any batch (for a restart).
    initial: Option<DiffReport>,
}

fn amount(c: Option<&OutCell>) -> i64 {
    match c {
        Some(OutCell::Money(v)) => *v,
        _ => 0,
    }
}

fn per_index(p: Per) -> usize {
    match p {
        Per::Month => 1,
        Per::Year => 2,
        _ => 0,
    }
}

fn text(c: &OutCell) -> String {
    let mut s = String::new();
    weft_data::csvio::cell_text(c, &mut s);
    s
}

impl<'a> DiffObserver<'a> {
    pub fn new(
        ir: &'a Ir,
        by_names: Vec<String>,
        changes: Option<Box<dyn ChangeSink + 'a>>,
    ) -> DiffObserver<'a> {
        let programmes = ir
            .hir
            .programmes
            .iter()
            .map(|p| {
                let per = p
                    .amounts
                    .first()
                    .and_then(|a| {
                        ir.outputs
                            .get(p.output.index())
                            .and_then(|o| o.columns.get(*a))
                    })
                    .map(|c| match c.ty {
                        Ty::Money(p) => p,
                        _ => Per::Once,
                    })
                    .unwrap_or(Per::Once);
                ProgrammeDiff {
                    programme: p.name.clone(),
                    name: p.display.clone(),
                    period: match per {
                        Per::Month => "per month",
                        Per::Year => "per year",
                        _ => "once",
                    }
                    .into(),
                    histogram: vec![0; BINS.len()],
                    ..ProgrammeDiff::default()
                }
            })
            .collect();
        let id_col = ir
            .outputs
            .iter()
            .map(|o| {
                let key = ir.hir.records.get(o.record as usize).and_then(|r| r.key).map(|k| k.raw());
                o.columns.iter().position(|c| matches!(&c.value, weft_ir::ColumnValue::Text(p) if p.len() == 1 && Some(p[0].1) == key && p[0].0 == o.record))
            })
            .collect();
        let mut changes = changes;
        if let Some(w) = changes.as_mut() {
            let _ = writeln!(w, "output,record_id,column,before,after");
        }
        DiffObserver {
            ir,
            pending: HashMap::new(),
            rejected_pending: Vec::new(),
            left_pending: Default::default(),
            group_output: ir
                .outputs
                .iter()
                .map(|o| {
                    ir.hir
                        .records
                        .get(o.record as usize)
                        .map(|r| r.members().is_some())
                        .unwrap_or(false)
                })
                .collect(),
            by_names,
            report: DiffReport {
                programmes,
                ..DiffReport::default()
            },
            changes,
            id_col,
            error: None,
            initial: None,
        }
    }

    /// A problem writing the changes file, if any.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    pub fn finish(&mut self) {
        if let Some(w) = self.changes.as_mut() {
            if let Err(e) = w.flush() {
                self.error = Some(e.to_string());
            }
        }
    }

    fn write_change(&mut self, output: usize, id: &str, column: &str, before: &str, after: &str) {
        let Some(w) = self.changes.as_mut() else {
            return;
        };
        let name = self
            .ir
            .outputs
            .get(output)
            .map(|o| o.name.as_str())
            .unwrap_or("");
        let q = |s: &str| {
            if s.contains([',', '"', '\n']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s.to_string()
            }
        };
        if let Err(e) = writeln!(
            w,
            "{},{},{},{},{}",
            q(name),
            q(id),
            q(column),
            q(before),
            q(after)
        ) {
            self.error = Some(e.to_string());
        }
    }

    /// What became of a row not evaluated on one side.
    fn fate(&self, side: usize, output: usize, seq: u64) -> &'static str {
        let member = !self.group_output.get(output).copied().unwrap_or(true);
        if member && self.left_pending[side].contains(&seq) {
            "left out"
        } else {
            "rejected"
        }
    }

    fn compare(&mut self, output: usize, seq: u64, before: Option<&Row>, after: Option<&Row>) {
        let ir = self.ir;
        let Some(out) = ir.outputs.get(output) else {
            return;
        };
        self.report.records_compared += 1;
        let id = self.id_col[output]
            .and_then(|c| before.or(after).and_then(|r| r.0.get(c)))
            .map(text)
            .unwrap_or_default();
        // Cells.
        let mut changed = false;
        match (before, after) {
            (Some(b), Some(a)) => {
                for (ci, c) in out.columns.iter().enumerate() {
                    let (x, y) = (b.0.get(ci), a.0.get(ci));
                    if x != y {
                        changed = true;
                        self.report.cells_changed += 1;
                        let (xs, ys) = (
                            x.map(text).unwrap_or_default(),
                            y.map(text).unwrap_or_default(),
                        );
                        self.write_change(output, &id, &c.name, &xs, &ys);
                    }
                }
            }
            (Some(_), None) => {
                changed = true;
                let fate = self.fate(1, output, seq);
                self.write_change(output, &id, "", "evaluated", fate);
            }
            (None, Some(_)) => {
                changed = true;
                let fate = self.fate(0, output, seq);
                self.write_change(output, &id, "", fate, "evaluated");
            }
            (None, None) => {}
        }
        if changed {
            self.report.records_changed += 1;
        }
        // Programmes.
        let mut any_gained = false;
        let mut any_lost = false;
        let mut change_by_period = [0i128; 3];
        let by = before.or(after).and_then(|r| r.1);
        let by_name = by
            .and_then(|v| usize::try_from(v).ok())
            .and_then(|v| self.by_names.get(v).cloned())
            .unwrap_or_else(|| "?".into());
        for (pi, p) in ir.hir.programmes.iter().enumerate() {
            if p.output.index() != output {
                continue;
            }
            let Some(pd) = self.report.programmes.get_mut(pi) else {
                continue;
            };
            let main = pd.period.clone();
            let side = |r: Option<&Row>| -> (bool, i64, [i128; 3]) {
                let Some(r) = r else {
                    return (false, 0, [0; 3]);
                };
                let mut totals = [0i128; 3];
                let mut positive = false;
                let mut same_period = 0i64;
                for &a in &p.amounts {
                    let v = amount(r.0.get(a));
                    let per = out.columns.get(a).map(|c| match c.ty {
                        Ty::Money(p) => p,
                        _ => Per::Once,
                    });
                    let pi = per_index(per.unwrap_or(Per::Once));
                    totals[pi] += v as i128;
                    if v > 0 {
                        positive = true;
                    }
                    let label = match per {
                        Some(Per::Month) => "per month",
                        Some(Per::Year) => "per year",
                        _ => "once",
                    };
                    if label == main {
                        same_period = same_period.saturating_add(v);
                    }
                }
                let recipient = match p.recipients {
                    Some(c) => matches!(r.0.get(c), Some(OutCell::Bool(true))),
                    None => positive,
                };
                (recipient, same_period, totals)
            };
            let (rb, ab, tb) = side(before);
            let (ra, aa, ta) = side(after);
            for i in 0..3 {
                pd.before[i] += tb[i];
                pd.after[i] += ta[i];
                change_by_period[i] += ta[i] - tb[i];
            }
            any_gained |= !rb && ra;
            any_lost |= rb && !ra;
            pd.recipients_before += rb as u64;
            pd.recipients_after += ra as u64;
            match (rb, ra) {
                (false, true) => pd.gained += 1,
                (true, false) => pd.lost += 1,
                (true, true) => pd.unchanged += 1,
                _ => {}
            }
            let change = aa.saturating_sub(ab);
            if change > 0 {
                pd.increased += 1;
            } else if change < 0 {
                pd.decreased += 1;
            }
            if let Some(b) = bin_of(change) {
                if let Some(h) = pd.histogram.get_mut(b) {
                    *h += 1;
                }
            }
            let row = match pd.by.iter_mut().position(|r| r.value == by_name) {
                Some(i) => &mut pd.by[i],
                None => {
                    pd.by.push(ByRow {
                        value: by_name.clone(),
                        ..ByRow::default()
                    });
                    let n = pd.by.len() - 1;
                    &mut pd.by[n]
                }
            };
            row.recipients_before += rb as u64;
            row.recipients_after += ra as u64;
            row.gained += (!rb && ra) as u64;
            row.lost += (rb && !ra) as u64;
            row.amount_before += ab as i128;
            row.amount_after += aa as i128;
        }
        // Records (not programme memberships) that gained or lost any.
        let oname = out.name.clone();
        let rrow = match self
            .report
            .records_by
            .iter()
            .position(|r| r.output == oname && r.value == by_name)
        {
            Some(i) => &mut self.report.records_by[i],
            None => {
                self.report.records_by.push(RecordsBy {
                    output: oname.clone(),
                    value: by_name.clone(),
                    ..RecordsBy::default()
                });
                let n = self.report.records_by.len() - 1;
                &mut self.report.records_by[n]
            }
        };
        rrow.records += 1;
        rrow.gained += any_gained as u64;
        rrow.lost += any_lost as u64;
        // The records that lose most (a year's worth: monthly × 12 +
        // yearly + one-off).
        let annual = change_by_period[1] * 12 + change_by_period[2] + change_by_period[0];
        if annual < 0 {
            let l = &mut self.report.losers;
            let full = l.len() >= LOSERS;
            if !full || l.last().map(|x| annual < x.annual).unwrap_or(true) {
                let at = l.partition_point(|x| x.annual <= annual);
                l.insert(
                    at,
                    Loser {
                        output: oname,
                        id,
                        region: by_name,
                        change: change_by_period,
                        annual,
                    },
                );
                l.truncate(LOSERS);
            }
        }
    }
}

impl Observer for DiffObserver<'_> {
    fn restart(&mut self) {
        if let Some(r) = self.initial.clone() {
            self.report = r;
        }
        self.pending.clear();
        self.rejected_pending.clear();
        self.left_pending = Default::default();
        if let Some(w) = self.changes.as_mut() {
            let r = w
                .truncate()
                .and_then(|_| writeln!(w, "output,record_id,column,before,after"));
            if let Err(e) = r {
                self.error = Some(e.to_string());
            }
        }
    }

    fn observe(
        &mut self,
        side: usize,
        evaluated: &[Evaluated<'_>],
        rejected: &[(bool, u64)],
        left_out: &[u64],
    ) {
        if self.initial.is_none() {
            self.initial = Some(self.report.clone());
        }
        if side == 0 {
            self.pending = evaluated
                .iter()
                .map(|e| ((e.output, e.seq), (e.cells.to_vec(), e.by)))
                .collect();
            self.rejected_pending = rejected.to_vec();
            self.report.rejected_before += rejected.len() as u64;
            self.report.left_out_before += left_out.len() as u64;
            self.left_pending[0] = left_out.iter().copied().collect();
            return;
        }
        self.report.rejected_after += rejected.len() as u64;
        self.report.left_out_after += left_out.len() as u64;
        self.left_pending[1] = left_out.iter().copied().collect();
        let mut before = std::mem::take(&mut self.pending);
        // Rows in input order, per output.
        let mut keys: BTreeMap<(usize, u64), (Option<Row>, Option<Row>)> = BTreeMap::new();
        for e in evaluated {
            keys.entry((e.output, e.seq)).or_default().1 = Some((e.cells.to_vec(), e.by));
        }
        for (k, v) in before.drain() {
            keys.entry(k).or_default().0 = Some(v);
        }
        for ((o, seq), (b, a)) in keys {
            self.compare(o, seq, b.as_ref(), a.as_ref());
        }
        self.rejected_pending.clear();
        self.left_pending = Default::default();
    }
}

/// Fen as yuan with separators.
pub fn yuan(v: i128) -> String {
    crate::summary::yuan(v)
}

/// The report as text for a terminal.
pub fn render_text(r: &DiffReport) -> String {
    let mut s = format!("weft diff: {}  →  {}\n", r.before, r.after);
    s.push_str(&format!(
        "  {} records compared, {} changed ({} cells); rejected before {}, after {}; left out before {}, after {}\n",
        r.records_compared,
        r.records_changed,
        r.cells_changed,
        r.rejected_before,
        r.rejected_after,
        r.left_out_before,
        r.left_out_after
    ));
    for p in &r.programmes {
        let idx = match p.period.as_str() {
            "per month" => 1,
            "per year" => 2,
            _ => 0,
        };
        s.push_str(&format!(
            "\n{}{}\n  recipients {} → {} (gained {}, lost {}, unchanged {})\n  total {} {} → {}  (difference {})\n  amounts up for {}, down for {}\n",
            p.programme,
            p.name.as_ref().map(|n| format!(" {n}")).unwrap_or_default(),
            p.recipients_before,
            p.recipients_after,
            p.gained,
            p.lost,
            p.unchanged,
            p.period,
            yuan(p.before[idx]),
            yuan(p.after[idx]),
            yuan(p.after[idx] - p.before[idx]),
            p.increased,
            p.decreased
        ));
        if p.histogram.iter().any(|x| *x > 0) {
            s.push_str("  changes per record (yuan):");
            for (i, (_, _, label)) in BINS.iter().enumerate() {
                if p.histogram[i] > 0 {
                    s.push_str(&format!("  [{label}] {}", p.histogram[i]));
                }
            }
            s.push('\n');
        }
        let moved: Vec<&ByRow> =
            p.by.iter()
                .filter(|b| b.gained > 0 || b.lost > 0 || b.amount_before != b.amount_after)
                .collect();
        if !moved.is_empty() {
            if let Some(by) = &r.by {
                s.push_str(&format!("  by {by}:\n"));
            }
            let mut rows = moved.clone();
            rows.sort_by(|a, b| a.value.cmp(&b.value));
            for b in rows {
                s.push_str(&format!(
                    "    {:<16} recipients {:>6} → {:<6} gained {:>5} lost {:>5}  {} → {}\n",
                    b.value,
                    b.recipients_before,
                    b.recipients_after,
                    b.gained,
                    b.lost,
                    yuan(b.amount_before),
                    yuan(b.amount_after)
                ));
            }
        }
    }
    if !r.parameters_changed.is_empty() {
        s.push_str("\nparameters changed:\n");
        let side = |v: &Option<ParamVersion>| match v {
            Some(v) => format!("{} (from {}, {})", v.value, v.effective, v.origin),
            None => "not used".to_string(),
        };
        for p in &r.parameters_changed {
            s.push_str(&format!(
                "  {}\n    before: {}\n    after:  {}\n",
                p.name,
                side(&p.before),
                side(&p.after)
            ));
        }
    }
    if let Some(f) = &r.changes_file {
        s.push_str(&format!("\nchanged cells written to {f}\n"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bin_bounds_hold_the_changes_bin_of_places() {
        for c in (-200_500..=200_500).step_by(250).chain([
            -100_001, -100_000, -99_999, -10_000, -1_000, -1, 1, 999, 1_000, 9_999, 10_000, 100_000,
        ]) {
            let Some(i) = bin_of(c) else {
                assert_eq!(c, 0);
                continue;
            };
            let (lo, lo_in, hi, hi_in) = bin_bounds(i);
            let above = lo
                .map(|l| if lo_in { c >= l } else { c > l })
                .unwrap_or(true);
            let below = hi
                .map(|h| if hi_in { c <= h } else { c < h })
                .unwrap_or(true);
            assert!(above && below, "{c} in bin {i}");
        }
        assert_eq!(BINS.len(), 8);
    }
}

/// How many of the records that lose most a report keeps.
pub const LOSERS: usize = 20;

/// Records of one output with one value of the breakdown field that
/// gained or lost any programme.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct RecordsBy {
    pub output: String,
    pub value: String,
    /// Records compared.
    pub records: u64,
    /// Records that became recipients of at least one programme.
    pub gained: u64,
    /// Records that stopped being recipients of at least one programme.
    pub lost: u64,
}

/// A record that loses.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Loser {
    pub output: String,
    pub id: String,
    /// The value of the breakdown field.
    pub region: String,
    /// Fen per period: once, per month, per year (after − before).
    pub change: [i128; 3],
    /// A year's worth: per month × 12 + per year + once.
    pub annual: i128,
}

/// A parameter as one side of a comparison binds it.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ParamVersion {
    /// The effective date (month, for a series) of the version in force.
    pub effective: String,
    /// Where it was given (a file of the pack, or an overlay).
    pub origin: String,
    /// The values in force, as text (`jilin 550.00, siping 500.00, …`).
    pub value: String,
}

/// A parameter whose version or values differ between the two sides.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ParamChange {
    pub name: String,
    /// `None`: the side does not use it.
    pub before: Option<ParamVersion>,
    pub after: Option<ParamVersion>,
}

/// Every parameter a bound program reads, by name (the first context
/// that reads it: the evaluation month's, unless only a prior-year or a
/// fixed date reads it).
pub fn parameter_versions(ir: &Ir, bound: &weft_ir::bind::Bound) -> BTreeMap<String, ParamVersion> {
    use weft_syntax::num;
    let mut out: BTreeMap<String, (bool, ParamVersion)> = BTreeMap::new();
    for (i, pr) in ir.param_refs.iter().enumerate() {
        let Some(Some(bp)) = bound.params.get(i) else {
            continue;
        };
        let Some(pd) = ir.hir.params.get(pr.param as usize) else {
            continue;
        };
        let at_as_of = matches!(
            ir.contexts.get(pr.ctx as usize),
            Some(weft_ir::Ctx::AsOf) | None
        );
        if out
            .get(&pd.name)
            .map(|(a, _)| *a || !at_as_of)
            .unwrap_or(false)
        {
            continue;
        }
        let on = bound
            .ctx_dates
            .get(pr.ctx as usize)
            .copied()
            .unwrap_or(bound.as_of);
        let effective = if pd.series {
            num::format_month(bp.effective)
        } else {
            num::format_date(bp.effective)
        };
        let origin = pd
            .version_at(bp.effective)
            .or_else(|| pd.version_at(on))
            .map(|v| v.origin.clone())
            .unwrap_or_default();
        out.insert(
            pd.name.clone(),
            (
                at_as_of,
                ParamVersion {
                    effective,
                    origin,
                    value: param_text(ir, pd, bp),
                },
            ),
        );
    }
    out.into_iter().map(|(k, (_, v))| (k, v)).collect()
}

/// A bound parameter's values as text.
pub fn param_text(
    ir: &Ir,
    pd: &weft_check::hir::ParamDef,
    bp: &weft_ir::bind::BoundParam,
) -> String {
    use weft_ir::value::{display_value, group_thousands};
    use weft_syntax::num;
    if matches!(pd.ty, Ty::Bands(_)) {
        return bp
            .bands
            .iter()
            .map(|x| {
                let hi =
                    x.hi.map(|h| group_thousands(&num::format_money(h)))
                        .unwrap_or_default();
                format!(
                    "{}..{hi}: {}",
                    group_thousands(&num::format_money(x.lo)),
                    num::format_decimal(x.rate)
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
    }
    if pd.keys.is_empty() {
        return bp
            .values
            .first()
            .map(|v| display_value(&ir.hir, &pd.ty, *v))
            .unwrap_or_default();
    }
    bp.values
        .iter()
        .enumerate()
        .map(|(slot, v)| {
            let key: Vec<String> = pd
                .keys
                .iter()
                .zip(pd.key_of(slot))
                .map(|((e, _), k)| {
                    ir.hir
                        .enums
                        .get(*e)
                        .and_then(|en| en.variants.get(k as usize))
                        .map(|x| x.code.clone())
                        .unwrap_or_default()
                })
                .collect();
            format!("{} {}", key.join("/"), display_value(&ir.hir, &pd.ty, *v))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The parameters whose version or values differ between two bound
/// programs.
pub fn parameters_changed(
    before: (&Ir, &weft_ir::bind::Bound),
    after: (&Ir, &weft_ir::bind::Bound),
) -> Vec<ParamChange> {
    let b = parameter_versions(before.0, before.1);
    let a = parameter_versions(after.0, after.1);
    let mut names: Vec<&String> = b.keys().chain(a.keys()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter_map(|n| {
            let (x, y) = (b.get(n), a.get(n));
            let same = match (x, y) {
                (Some(x), Some(y)) => x.value == y.value && x.effective == y.effective,
                _ => false,
            };
            (!same).then(|| ParamChange {
                name: n.clone(),
                before: x.cloned(),
                after: y.cloned(),
            })
        })
        .collect()
}
