//! What runs over files and comparisons report: plain data owned by this
//! crate (converted from the engine's own), so the engine can change
//! without breaking callers.

use std::path::Path;
use std::time::Duration;

/// A data file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// Comma-separated values with a header row (UTF-8).
    Csv,
    /// JSON Lines: one object per line.
    Jsonl,
    /// Apache Parquet.
    Parquet,
}

impl Format {
    /// `csv`, `jsonl` (also `ndjson`, `json`), `parquet` (also `pq`), in
    /// any case.
    ///
    /// ```
    /// assert_eq!(weft::run::Format::from_name("PQ"), Some(weft::run::Format::Parquet));
    /// ```
    pub fn from_name(name: &str) -> Option<Format> {
        weft_data::Format::from_name(name).map(Format::from_inner)
    }

    /// The format a file's extension names.
    pub fn from_path(path: &Path) -> Option<Format> {
        weft_data::Format::from_path(path).map(Format::from_inner)
    }

    /// The extension of files in this format (`csv`, `jsonl`, `parquet`).
    pub fn extension(self) -> &'static str {
        self.inner().extension()
    }

    fn from_inner(f: weft_data::Format) -> Format {
        match f {
            weft_data::Format::Csv => Format::Csv,
            weft_data::Format::Jsonl => Format::Jsonl,
            weft_data::Format::Parquet => Format::Parquet,
        }
    }

    pub(crate) fn inner(self) -> weft_data::Format {
        match self {
            Format::Csv => weft_data::Format::Csv,
            Format::Jsonl => weft_data::Format::Jsonl,
            Format::Parquet => weft_data::Format::Parquet,
        }
    }
}

/// Progress of a run, in bytes of input read. Called from the run's
/// threads.
pub trait Progress: Sync {
    /// The bytes to read (once known).
    fn total(&self, _bytes: u64) {}
    /// `bytes` more were read.
    fn advance(&self, _bytes: u64) {}
    /// `rows` more input rows were evaluated (or rejected, or left out).
    fn rows(&self, _rows: u64) {}
}

/// No progress reported.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}

/// A [`Progress`] as the engine's.
pub(crate) struct ProgressAdapter<'a>(pub(crate) &'a dyn Progress);

impl weft_engine::run::Progress for ProgressAdapter<'_> {
    fn total(&self, bytes: u64) {
        self.0.total(bytes);
    }
    fn advance(&self, bytes: u64) {
        self.0.advance(bytes);
    }
    fn rows(&self, rows: u64) {
        self.0.rows(rows);
    }
}

/// The rows of one input file of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FileCounts {
    /// The input's name (`persons`).
    pub input: String,
    /// The file's name.
    pub file: String,
    /// Rows read.
    pub rows: u64,
    /// Rows evaluated.
    pub evaluated: u64,
    /// Rows rejected: bad data, or a member of a rejected group (in
    /// `errors`, with the reason).
    pub rejected: u64,
    /// Rows left out by the policy (an `exclude` check, such as a person
    /// not yet born): not errors of the data; in `errors` with the reason.
    pub left_out: u64,
}

/// Where a run's time went. Reading, evaluation and writing overlap.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Timings {
    /// Finding duplicate ids and resolving links.
    pub index: Duration,
    /// Reading and parsing the inputs (the reader thread's time).
    pub read: Duration,
    /// Record checks, chunk building and evaluation (wall time).
    pub eval: Duration,
    /// CPU time of building chunks and running the record checks.
    pub check_cpu: Duration,
    /// CPU time of the engine.
    pub eval_cpu: Duration,
    /// Writing outputs, errors and the manifest.
    pub write: Duration,
}

/// One programme's recipients and totals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProgrammeTotals {
    /// The programme's name in the policy.
    pub name: String,
    /// Its name for people, when the policy gives one.
    pub display: Option<String>,
    /// Records receiving it.
    pub recipients: u64,
    /// Fen paid once.
    pub once: i128,
    /// Fen per month.
    pub per_month: i128,
    /// Fen per year.
    pub per_year: i128,
}

impl ProgrammeTotals {
    fn of(p: &weft_engine::summary::ProgrammeTotals) -> ProgrammeTotals {
        ProgrammeTotals {
            name: p.name.clone(),
            display: p.display.clone(),
            recipients: p.recipients,
            once: p.once,
            per_month: p.per_month,
            per_year: p.per_year,
        }
    }
}

/// What a run over files did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RunReport {
    /// Per input file (groups first).
    pub files: Vec<FileCounts>,
    /// Where the time went.
    pub timings: Timings,
    /// Per programme of the policy.
    pub programmes: Vec<ProgrammeTotals>,
    /// Things worth knowing (members held in memory, …).
    pub warnings: Vec<String>,
}

impl RunReport {
    pub(crate) fn of(r: weft_engine::run::RunReport) -> RunReport {
        let t = r.timings;
        RunReport {
            files: r
                .files
                .into_iter()
                .map(|f| FileCounts {
                    input: f.input,
                    file: f.file,
                    rows: f.rows,
                    evaluated: f.evaluated,
                    rejected: f.rejected,
                    left_out: f.left_out,
                })
                .collect(),
            timings: Timings {
                index: t.index,
                read: t.read,
                eval: t.eval,
                check_cpu: t.check_cpu,
                eval_cpu: t.eval_cpu,
                write: t.write,
            },
            programmes: r
                .summary
                .programmes
                .iter()
                .map(ProgrammeTotals::of)
                .collect(),
            warnings: r.warnings,
        }
    }
}

/// The bins of a comparison's histogram of changes per record: `(from,
/// to, label)` in fen, `from` inclusive.
pub const BINS: &[(i64, i64, &str)] = weft_engine::diff::BINS;

/// A comparison of one programme, broken down by one value of the
/// breakdown field.
#[derive(Debug, Clone, Default, serde::Serialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct ByRow {
    /// The enum code (or `?`).
    pub value: String,
    /// Recipients before.
    pub recipients_before: u64,
    /// Recipients after.
    pub recipients_after: u64,
    /// Records that became recipients.
    pub gained: u64,
    /// Records that stopped being recipients.
    pub lost: u64,
    /// Fen, in the programme's period, before.
    pub amount_before: i128,
    /// Fen, in the programme's period, after.
    pub amount_after: i128,
}

/// A comparison of one programme.
#[derive(Debug, Clone, Default, serde::Serialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProgrammeDiff {
    /// The programme's name in the policy.
    pub programme: String,
    /// Its name for people.
    pub name: Option<String>,
    /// The period of the amounts compared per record (`per month`, …).
    pub period: String,
    /// Recipients before.
    pub recipients_before: u64,
    /// Recipients after.
    pub recipients_after: u64,
    /// Records that became recipients.
    pub gained: u64,
    /// Records that stopped being recipients.
    pub lost: u64,
    /// Records whose amount did not change.
    pub unchanged: u64,
    /// Fen per period, `[once, per month, per year]`, before.
    pub before: [i128; 3],
    /// Fen per period, `[once, per month, per year]`, after.
    pub after: [i128; 3],
    /// Records whose amount went up.
    pub increased: u64,
    /// Records whose amount went down.
    pub decreased: u64,
    /// Counts per bin of [`BINS`].
    pub histogram: Vec<u64>,
    /// The breakdown.
    pub by: Vec<ByRow>,
}

/// A parameter as one side of a comparison binds it.
#[derive(Debug, Clone, Default, serde::Serialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParameterVersion {
    /// The effective date (the month, for a series) of the version in force.
    pub effective: String,
    /// Where the version was given: a file of the pack or an overlay.
    pub origin: String,
    /// Its values in force, as text.
    pub value: String,
}

impl ParameterVersion {
    fn of(v: weft_engine::diff::ParamVersion) -> ParameterVersion {
        ParameterVersion {
            effective: v.effective,
            origin: v.origin,
            value: v.value,
        }
    }
    fn inner(&self) -> weft_engine::diff::ParamVersion {
        weft_engine::diff::ParamVersion {
            effective: self.effective.clone(),
            origin: self.origin.clone(),
            value: self.value.clone(),
        }
    }
}

/// Records of one output and one value of the breakdown field that
/// gained or lost any programme.
#[derive(Debug, Clone, Default, serde::Serialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordsBy {
    /// The output (`persons`, `households`).
    pub output: String,
    /// The breakdown field's value (`changchun`).
    pub value: String,
    /// Records compared.
    pub records: u64,
    /// Records that became recipients of at least one programme.
    pub gained: u64,
    /// Records that stopped being recipients of at least one programme.
    pub lost: u64,
}

/// A record that loses.
#[derive(Debug, Clone, Default, serde::Serialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct Loser {
    /// The output it is a row of.
    pub output: String,
    /// Its id.
    pub id: String,
    /// The breakdown field's value.
    pub value: String,
    /// Fen, after − before, `[once, per month, per year]`.
    pub change: [i128; 3],
    /// A year's worth in fen: per month × 12 + per year + once.
    pub annual: i128,
}

/// A parameter whose version or values differ between the two sides of a
/// comparison.
#[derive(Debug, Clone, Default, serde::Serialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParameterChange {
    /// The parameter's name.
    pub name: String,
    /// Before (`None`: that side does not read it).
    pub before: Option<ParameterVersion>,
    /// After.
    pub after: Option<ParameterVersion>,
}

/// Two situations compared over one population.
#[derive(Debug, Clone, Default, serde::Serialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct DiffReport {
    /// How the situation before is described.
    pub before: String,
    /// How the situation after is described.
    pub after: String,
    /// The breakdown field.
    pub by: Option<String>,
    /// Records evaluated on both sides.
    pub records_compared: u64,
    /// Records with a changed output.
    pub records_changed: u64,
    /// Output cells changed.
    pub cells_changed: u64,
    /// Rows rejected before.
    pub rejected_before: u64,
    /// Rows rejected after.
    pub rejected_after: u64,
    /// Rows left out before (not yet born, …).
    pub left_out_before: u64,
    /// Rows left out after.
    pub left_out_after: u64,
    /// Parameters whose version or values differ between the two sides.
    pub parameters_changed: Vec<ParameterChange>,
    /// Records (not programme memberships) that gained or lost any
    /// programme, per output and value of the breakdown field.
    pub records_by: Vec<RecordsBy>,
    /// The records that lose most, the most first (at most 20).
    pub losers: Vec<Loser>,
    /// The SHA-256 of the policy's files before and after (as the
    /// manifest's `policy.sha256`).
    pub policy_sha256: (String, String),
    /// The Weft version that compared.
    pub version: String,
    /// Per programme.
    pub programmes: Vec<ProgrammeDiff>,
    /// The changes file written, if any.
    pub changes_file: Option<String>,
}

impl DiffReport {
    pub(crate) fn of(r: weft_engine::diff::DiffReport) -> DiffReport {
        DiffReport {
            before: r.before,
            after: r.after,
            by: r.by,
            records_compared: r.records_compared,
            records_changed: r.records_changed,
            cells_changed: r.cells_changed,
            rejected_before: r.rejected_before,
            rejected_after: r.rejected_after,
            left_out_before: r.left_out_before,
            left_out_after: r.left_out_after,
            parameters_changed: r
                .parameters_changed
                .into_iter()
                .map(|p| ParameterChange {
                    name: p.name,
                    before: p.before.map(ParameterVersion::of),
                    after: p.after.map(ParameterVersion::of),
                })
                .collect(),
            records_by: r
                .records_by
                .into_iter()
                .map(|x| RecordsBy {
                    output: x.output,
                    value: x.value,
                    records: x.records,
                    gained: x.gained,
                    lost: x.lost,
                })
                .collect(),
            losers: r
                .losers
                .into_iter()
                .map(|x| Loser {
                    output: x.output,
                    id: x.id,
                    value: x.region,
                    change: x.change,
                    annual: x.annual,
                })
                .collect(),
            policy_sha256: Default::default(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            programmes: r
                .programmes
                .into_iter()
                .map(|p| ProgrammeDiff {
                    programme: p.programme,
                    name: p.name,
                    period: p.period,
                    recipients_before: p.recipients_before,
                    recipients_after: p.recipients_after,
                    gained: p.gained,
                    lost: p.lost,
                    unchanged: p.unchanged,
                    before: p.before,
                    after: p.after,
                    increased: p.increased,
                    decreased: p.decreased,
                    histogram: p.histogram,
                    by: p
                        .by
                        .into_iter()
                        .map(|b| ByRow {
                            value: b.value,
                            recipients_before: b.recipients_before,
                            recipients_after: b.recipients_after,
                            gained: b.gained,
                            lost: b.lost,
                            amount_before: b.amount_before,
                            amount_after: b.amount_after,
                        })
                        .collect(),
                })
                .collect(),
            changes_file: r.changes_file,
        }
    }

    fn inner(&self) -> weft_engine::diff::DiffReport {
        weft_engine::diff::DiffReport {
            before: self.before.clone(),
            after: self.after.clone(),
            by: self.by.clone(),
            records_compared: self.records_compared,
            records_changed: self.records_changed,
            cells_changed: self.cells_changed,
            rejected_before: self.rejected_before,
            rejected_after: self.rejected_after,
            left_out_before: self.left_out_before,
            left_out_after: self.left_out_after,
            parameters_changed: self
                .parameters_changed
                .iter()
                .map(|p| weft_engine::diff::ParamChange {
                    name: p.name.clone(),
                    before: p.before.as_ref().map(ParameterVersion::inner),
                    after: p.after.as_ref().map(ParameterVersion::inner),
                })
                .collect(),
            records_by: self
                .records_by
                .iter()
                .map(|x| weft_engine::diff::RecordsBy {
                    output: x.output.clone(),
                    value: x.value.clone(),
                    records: x.records,
                    gained: x.gained,
                    lost: x.lost,
                })
                .collect(),
            losers: self
                .losers
                .iter()
                .map(|x| weft_engine::diff::Loser {
                    output: x.output.clone(),
                    id: x.id.clone(),
                    region: x.value.clone(),
                    change: x.change,
                    annual: x.annual,
                })
                .collect(),
            programmes: self
                .programmes
                .iter()
                .map(|p| weft_engine::diff::ProgrammeDiff {
                    programme: p.programme.clone(),
                    name: p.name.clone(),
                    period: p.period.clone(),
                    recipients_before: p.recipients_before,
                    recipients_after: p.recipients_after,
                    gained: p.gained,
                    lost: p.lost,
                    unchanged: p.unchanged,
                    before: p.before,
                    after: p.after,
                    increased: p.increased,
                    decreased: p.decreased,
                    histogram: p.histogram.clone(),
                    by: p
                        .by
                        .iter()
                        .map(|b| weft_engine::diff::ByRow {
                            value: b.value.clone(),
                            recipients_before: b.recipients_before,
                            recipients_after: b.recipients_after,
                            gained: b.gained,
                            lost: b.lost,
                            amount_before: b.amount_before,
                            amount_after: b.amount_after,
                        })
                        .collect(),
                })
                .collect(),
            changes_file: self.changes_file.clone(),
        }
    }

    /// The report as text for a terminal, as `weft diff` prints it.
    pub fn to_text(&self) -> String {
        weft_engine::diff::render_text(&self.inner())
    }

    /// The report for programs, as `weft diff --format json` prints it
    /// (`docs/schema/diff.schema.json`): labelled objects only, money as
    /// exact decimal strings of yuan without separators, the histogram's
    /// bins with their bounds.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        let programmes: Vec<serde_json::Value> = self
            .programmes
            .iter()
            .map(|p| {
                let per = |v: &[i128; 3]| {
                    json!({"once": exact_yuan(v[0]), "per_month": exact_yuan(v[1]), "per_year": exact_yuan(v[2])})
                };
                let diff = [
                    p.after[0] - p.before[0],
                    p.after[1] - p.before[1],
                    p.after[2] - p.before[2],
                ];
                let histogram: Vec<serde_json::Value> = BINS
                    .iter()
                    .enumerate()
                    .map(|(i, (_, _, label))| {
                        let (lo, lo_in, hi, hi_in) = weft_engine::diff::bin_bounds(i);
                        json!({
                            "label": label,
                            "min": lo.map(|v| exact_yuan(v as i128)),
                            "min_inclusive": lo_in,
                            "max": hi.map(|v| exact_yuan(v as i128)),
                            "max_inclusive": hi_in,
                            "records": p.histogram.get(i).copied().unwrap_or(0),
                        })
                    })
                    .collect();
                let by: Vec<serde_json::Value> = p
                    .by
                    .iter()
                    .map(|b| {
                        json!({
                            "value": b.value,
                            "recipients_before": b.recipients_before,
                            "recipients_after": b.recipients_after,
                            "gained": b.gained,
                            "lost": b.lost,
                            "amount_before": exact_yuan(b.amount_before),
                            "amount_after": exact_yuan(b.amount_after),
                        })
                    })
                    .collect();
                json!({
                    "programme": p.programme,
                    "name": p.name,
                    "period": p.period,
                    "recipients_before": p.recipients_before,
                    "recipients_after": p.recipients_after,
                    "gained": p.gained,
                    "lost": p.lost,
                    "unchanged": p.unchanged,
                    "increased": p.increased,
                    "decreased": p.decreased,
                    "total_before": per(&p.before),
                    "total_after": per(&p.after),
                    "total_difference": per(&diff),
                    "histogram": histogram,
                    "by": by,
                })
            })
            .collect();
        json!({
            "before": self.before,
            "after": self.after,
            "by": self.by,
            "records_compared": self.records_compared,
            "records_changed": self.records_changed,
            "cells_changed": self.cells_changed,
            "rejected_before": self.rejected_before,
            "rejected_after": self.rejected_after,
            "left_out_before": self.left_out_before,
            "left_out_after": self.left_out_after,
            "policy": {"sha256_before": self.policy_sha256.0, "sha256_after": self.policy_sha256.1, "weft_version": self.version},
            "records_by": self.records_by.iter().map(|x| json!({"output": x.output, "value": x.value, "records": x.records, "gained": x.gained, "lost": x.lost})).collect::<Vec<_>>(),
            "losers": self.losers.iter().map(|x| json!({"output": x.output, "id": x.id, "value": x.value, "change": {"once": exact_yuan(x.change[0]), "per_month": exact_yuan(x.change[1]), "per_year": exact_yuan(x.change[2])}, "annual": exact_yuan(x.annual)})).collect::<Vec<_>>(),
            "parameters_changed": self.parameters_changed.iter().map(|p| {
                let v = |x: &Option<ParameterVersion>| x.as_ref().map(|x| json!({"effective": x.effective, "origin": x.origin, "value": x.value}));
                json!({"name": p.name, "before": v(&p.before), "after": v(&p.after)})
            }).collect::<Vec<_>>(),
            "programmes": programmes,
            "changes_file": self.changes_file,
        })
    }
}

/// Fen as an exact decimal string of yuan, without separators
/// (`"423223.89"`, `"-0.05"`): what a program reading JSON can parse.
pub fn exact_yuan(fen: i128) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let a = fen.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

impl ProgrammeTotals {
    /// As JSON (`docs/schema/run-summary.schema.json`'s programme).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "programme": self.name,
            "name": self.display,
            "recipients": self.recipients,
            "total_per_month": exact_yuan(self.per_month),
            "total_per_year": exact_yuan(self.per_year),
            "total_once": exact_yuan(self.once),
        })
    }
}

impl FileCounts {
    /// As JSON (`docs/schema/run-summary.schema.json`'s file).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "input": self.input,
            "file": self.file,
            "read": self.rows,
            "evaluated": self.evaluated,
            "rejected": self.rejected,
            "left_out": self.left_out,
        })
    }
}

/// What a synthetic population holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SynthReport {
    /// `(file name, rows)` of each file written.
    pub files: Vec<(String, u64)>,
    /// `(programme, recipients in the sample, records in the sample)`.
    pub hit_rates: Vec<(String, u64, u64)>,
    /// Records drawn again to pass their checks.
    pub redraws: u64,
}

/// One programme over a range of months (`weft run --as-of A..B`).
///
/// The rule: monthly amounts are summed over the months; one-off amounts
/// (paid in the month evaluated) are summed too; a yearly amount is an
/// annual figure, of which each month evaluated contributes a twelfth — the
/// range's yearly total is the sum of the months' yearly totals divided by
/// 12, rounded half away from zero to the fen (for twelve months with the
/// same yearly amounts, that amount).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RangeTotals {
    /// The programme's name in the policy.
    pub name: String,
    /// Its name for people.
    pub display: Option<String>,
    /// Record-months: the sum over the months of the recipients.
    pub recipient_months: u64,
    /// Fen: the monthly amounts summed over the months.
    pub per_month: i128,
    /// Fen: a twelfth of each month's yearly amounts.
    pub per_year: i128,
    /// Fen: one-off amounts summed over the months.
    pub once: i128,
}

impl RangeTotals {
    /// The totals of a range from the reports of its months (in any
    /// order; all of one policy).
    pub fn of_months(months: &[&RunReport]) -> Vec<RangeTotals> {
        RangeTotals::sum(months.iter().map(|r| {
            r.programmes
                .iter()
                .map(|p| {
                    (
                        &p.name,
                        &p.display,
                        p.recipients,
                        [p.once, p.per_month, p.per_year],
                    )
                })
                .collect()
        }))
    }

    /// The totals of a range from the comparisons of its months: the side
    /// before (`after` false) or after, by the same rule.
    pub fn of_diffs(months: &[&DiffReport], after: bool) -> Vec<RangeTotals> {
        RangeTotals::sum(months.iter().map(|r| {
            r.programmes
                .iter()
                .map(|p| {
                    if after {
                        (&p.programme, &p.name, p.recipients_after, p.after)
                    } else {
                        (&p.programme, &p.name, p.recipients_before, p.before)
                    }
                })
                .collect()
        }))
    }

    /// Per month, per programme: name, display name, recipients, fen
    /// `[once, per month, per year]`.
    #[allow(clippy::type_complexity)]
    fn sum<'a>(
        months: impl Iterator<Item = Vec<(&'a String, &'a Option<String>, u64, [i128; 3])>>,
    ) -> Vec<RangeTotals> {
        let mut out: Vec<RangeTotals> = Vec::new();
        let mut yearly: Vec<i128> = Vec::new();
        for progs in months {
            for (i, (name, display, recipients, t3)) in progs.into_iter().enumerate() {
                if out.len() <= i {
                    out.push(RangeTotals {
                        name: name.clone(),
                        display: display.clone(),
                        ..RangeTotals::default()
                    });
                    yearly.push(0);
                }
                let t = &mut out[i];
                t.recipient_months += recipients;
                t.once += t3[0];
                t.per_month += t3[1];
                yearly[i] += t3[2];
            }
        }
        for (t, y) in out.iter_mut().zip(yearly) {
            t.per_year = div_round(y, 12);
        }
        out
    }

    /// Everything paid over the range, in fen.
    pub fn total(&self) -> i128 {
        self.per_month + self.per_year + self.once
    }

    /// As JSON (`docs/schema/run-summary.schema.json`'s programme).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "programme": self.name,
            "name": self.display,
            "recipients": self.recipient_months,
            "total_per_month": exact_yuan(self.per_month),
            "total_per_year": exact_yuan(self.per_year),
            "total_once": exact_yuan(self.once),
            "total": exact_yuan(self.total()),
        })
    }
}

/// `a / b` rounded half away from zero (`b > 0`).
fn div_round(a: i128, b: i128) -> i128 {
    let (q, r) = (a / b, a % b);
    if 2 * r.abs() >= b { q + a.signum() } else { q }
}

/// The months of `A..B` (`2018-01..2018-12`, both included) or of one
/// month `A`.
pub fn parse_months(text: &str) -> Result<Vec<crate::Month>, crate::Error> {
    let bad = || crate::Error::BadMonth {
        text: text.to_string(),
    };
    let (a, b) = match text.split_once("..") {
        Some((a, b)) => (a.trim(), b.trim()),
        None => (text.trim(), text.trim()),
    };
    let ym = |s: &str| -> Option<(i32, u32)> {
        let (y, m) = s.split_once('-')?;
        Some((y.parse().ok()?, m.parse().ok()?))
    };
    // Each end must be a month Weft accepts.
    a.parse::<crate::Month>()?;
    b.parse::<crate::Month>()?;
    let (mut y, mut m) = ym(a).ok_or_else(bad)?;
    let end = ym(b).ok_or_else(bad)?;
    if (y, m) > end {
        return Err(bad());
    }
    let mut out = Vec::new();
    while (y, m) <= end {
        out.push(crate::Month::new(y, m).ok_or_else(bad)?);
        (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        if out.len() > 12 * 200 {
            return Err(bad());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_of_a_range() {
        let m = parse_months("2018-11..2019-02").unwrap();
        let s: Vec<String> = m.iter().map(|m| m.to_string()).collect();
        assert_eq!(s, ["2018-11", "2018-12", "2019-01", "2019-02"]);
        assert_eq!(parse_months("2018-03").unwrap().len(), 1);
        assert!(parse_months("2018-03..2018-01").is_err());
        assert!(parse_months("2018-13..2019-01").is_err());
    }

    #[test]
    fn a_yearly_amount_counts_a_twelfth_per_month() {
        let month = |per_year: i128, per_month: i128| RunReport {
            programmes: vec![ProgrammeTotals {
                name: "p".into(),
                recipients: 2,
                per_year,
                per_month,
                ..ProgrammeTotals::default()
            }],
            ..RunReport::default()
        };
        let ms: Vec<RunReport> = (0..12).map(|_| month(120_001, 5)).collect();
        let refs: Vec<&RunReport> = ms.iter().collect();
        let t = &RangeTotals::of_months(&refs)[0];
        assert_eq!(
            (t.per_year, t.per_month, t.recipient_months),
            (120_001, 60, 24)
        );
        let three: Vec<&RunReport> = ms.iter().take(3).collect();
        // 3 × 120,001 / 12 = 30,000.25 → 30,000.
        assert_eq!(RangeTotals::of_months(&three)[0].per_year, 30_000);
        assert_eq!(div_round(-18, 12), -2);
        assert_eq!(div_round(-17, 12), -1);
    }
}
