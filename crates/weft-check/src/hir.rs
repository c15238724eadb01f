//! The typed, resolved program (HIR): what the checker hands to lowering.
//!
//! Every name is resolved to an id, every expression carries its type, and
//! every operator is resolved to the exact arithmetic it performs (which
//! rounding, which scale), so later phases never look at types to decide
//! what an operator means.

use crate::ty::{Ty, VariantSet};
use weft_syntax::Span;
use weft_syntax::ast::{AggKind, CmpOp, HitPolicy, ScaleKind, Severity};

pub use crate::ids::{
    EnumId, FieldId, IdVec, LocalId, ModuleId, OutputId, ParamId, RecordId, RuleId,
};

#[derive(Debug, Clone, Default)]
pub struct Program {
    pub modules: IdVec<ModuleId, ModuleInfo>,
    pub enums: IdVec<EnumId, EnumDef>,
    pub records: IdVec<RecordId, RecordDef>,
    pub params: IdVec<ParamId, ParamDef>,
    pub rules: IdVec<RuleId, RuleDef>,
    pub asserts: Vec<AssertDef>,
    pub tests: Vec<TestDef>,
    pub outputs: IdVec<OutputId, OutputDef>,
    pub programmes: Vec<ProgrammeDef>,
    /// Every local variable of the program (rule parameters, `let`,
    /// aggregation and match bindings), by [`LocalId`].
    pub locals: IdVec<LocalId, LocalInfo>,
}

#[derive(Debug, Clone)]
pub struct ModuleInfo {
    pub name: String,
    pub file: weft_syntax::FileId,
}

#[derive(Debug, Clone)]
pub struct LocalInfo {
    pub name: String,
    pub ty: Ty,
}

#[derive(Debug, Clone)]
pub struct EnumDef {
    pub name: String,
    pub display: Option<String>,
    pub doc: Option<String>,
    pub variants: Vec<VariantDef>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct VariantDef {
    pub name: String,
    /// The code used in data files.
    pub code: String,
    pub display: Option<String>,
    pub doc: Option<String>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct RecordDef {
    pub name: String,
    pub display: Option<String>,
    pub doc: Option<String>,
    /// The name of the input file/flag (`persons`).
    pub input: Option<String>,
    pub fields: IdVec<FieldId, FieldDef>,
    pub checks: Vec<CheckDef>,
    /// The key field, if one is declared.
    pub key: Option<FieldId>,
    /// The local that stands for the record in its checks.
    pub self_local: LocalId,
    pub span: Span,
}

impl RecordDef {
    pub fn field(&self, name: &str) -> Option<(FieldId, &FieldDef)> {
        self.fields.iter_enumerated().find(|(_, f)| f.name == name)
    }

    /// The field that links this record to a group record, if any.
    pub fn link(&self) -> Option<(FieldId, RecordId, &str)> {
        self.fields
            .iter_enumerated()
            .find_map(|(i, f)| match &f.kind {
                FieldKind::Link { target, column } => Some((i, *target, column.as_str())),
                _ => None,
            })
    }

    /// The members list field of a group record, if any.
    pub fn members(&self) -> Option<(FieldId, RecordId)> {
        self.fields
            .iter_enumerated()
            .find_map(|(i, f)| match &f.kind {
                FieldKind::Members { of } => Some((i, *of)),
                _ => None,
            })
    }

    /// The column name of a field in data files.
    pub fn column(&self, f: FieldId) -> &str {
        match self.fields.get(f) {
            Some(FieldDef {
                kind: FieldKind::Link { column, .. },
                ..
            }) => column,
            Some(fd) => &fd.name,
            None => "",
        }
    }
}

#[derive(Debug, Clone)]
pub struct FieldDef {
    pub name: String,
    pub ty: Ty,
    pub kind: FieldKind,
    /// Allowed range, inclusive at both ends where given.
    pub range: Option<(Option<i64>, Option<i64>)>,
    pub synth: Option<Vec<(SynthAlt, u64)>>,
    pub doc: Option<String>,
    pub span: Span,
}

/// A field's allowed range as written in the policy: `0..=10`, `0..` (no
/// upper end), `..=10` (no lower end); each end shown by `show`.
pub fn range_text(range: (Option<i64>, Option<i64>), show: impl Fn(i64) -> String) -> String {
    match range {
        (Some(lo), Some(hi)) => format!("{}..={}", show(lo), show(hi)),
        (Some(lo), None) => format!("{}..", show(lo)),
        (None, Some(hi)) => format!("..={}", show(hi)),
        (None, None) => "..".to_string(),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldKind {
    /// A column of the record's input file.
    Column,
    /// `household: Household by household_id`: the column names the key of
    /// a record of another kind.
    Link { target: RecordId, column: String },
    /// `members: [Person]`: the records that link to this one.
    Members { of: RecordId },
}

/// One way to generate a field's value in `weft synth`.
#[derive(Debug, Clone, PartialEq)]
pub enum SynthAlt {
    Absent,
    Value(i64),
    /// Inclusive range.
    Range(i64, i64),
}

#[derive(Debug, Clone)]
pub struct CheckDef {
    pub cond: Expr,
    pub column: FieldId,
    pub message: String,
    pub exclude: bool,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct ParamDef {
    pub name: String,
    /// Key sets: an enum and the variants it is keyed by.
    pub keys: Vec<(EnumId, VariantSet)>,
    /// The value type: a scalar type or `Ty::Bands`.
    pub ty: Ty,
    /// A monthly series: each value holds for its own month only.
    pub series: bool,
    pub source: Option<String>,
    pub doc: Option<String>,
    /// Sorted by effective date, no two on the same date.
    pub versions: Vec<ParamVersion>,
    pub module: ModuleId,
    pub span: Span,
}

impl ParamDef {
    /// Number of key combinations.
    pub fn slots(&self) -> usize {
        self.keys
            .iter()
            .map(|(_, s)| s.count_ones() as usize)
            .product()
    }

    /// The dense index of a key combination (variant indices), if every
    /// variant is in its key set.
    pub fn slot_of(&self, variants: &[u32]) -> Option<usize> {
        let mut idx = 0usize;
        for ((_, set), &v) in self.keys.iter().zip(variants) {
            if v >= 64 || set & (1u64 << v) == 0 {
                return None;
            }
            let rank = (set & ((1u64 << v) - 1)).count_ones() as usize;
            idx = idx * set.count_ones() as usize + rank;
        }
        Some(idx)
    }

    /// The key combination (variant indices) of a dense index.
    pub fn key_of(&self, mut slot: usize) -> Vec<u32> {
        let mut out = vec![0u32; self.keys.len()];
        for (i, (_, set)) in self.keys.iter().enumerate().rev() {
            let n = set.count_ones() as usize;
            let rank = slot % n.max(1);
            slot /= n.max(1);
            let mut seen = 0;
            for v in 0..64u32 {
                if set & (1u64 << v) != 0 {
                    if seen == rank {
                        out[i] = v;
                        break;
                    }
                    seen += 1;
                }
            }
        }
        out
    }

    /// The version in force on `date`: the latest effective on or before it
    /// (for a series, the one of that very month).
    pub fn version_at(&self, date: i32) -> Option<&ParamVersion> {
        if self.series {
            let month = weft_syntax::num::format_month(date);
            return self
                .versions
                .iter()
                .find(|v| weft_syntax::num::format_month(v.effective) == month);
        }
        self.versions.iter().rev().find(|v| v.effective <= date)
    }
}

#[derive(Debug, Clone)]
pub struct ParamVersion {
    pub effective: i32,
    /// One value per key combination ([`ParamDef::slot_of`]); `None` where
    /// the source gave none (a checker error).
    pub values: Vec<Option<PVal>>,
    /// Where the version came from (a file name), for explanations.
    pub origin: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PVal {
    Scalar(i64),
    Bands(Vec<Band>),
}

/// One marginal band `[lo, hi)` with its rate (millionths).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Band {
    pub lo: i64,
    pub hi: Option<i64>,
    pub rate: i64,
}

#[derive(Debug, Clone)]
pub struct RuleDef {
    pub name: String,
    pub module: ModuleId,
    pub doc: Option<String>,
    pub source: Option<String>,
    /// The record the rule is defined for, and the local that names it.
    pub param: Option<(LocalId, RecordId)>,
    pub ret: Ty,
    pub kind: RuleKind,
    pub exceptions: Vec<ExceptionDef>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum RuleKind {
    /// A formula, possibly replaced from later dates: `(from, body)`, the
    /// first with `from = i32::MIN`. Sorted by date.
    Plain {
        versions: Vec<(i32, Expr)>,
    },
    Table(TableDef),
    Cascade(CascadeDef),
    Scale(ScaleDef),
    /// Declared but failed to check; never lowered.
    Broken,
}

#[derive(Debug, Clone)]
pub struct TableDef {
    pub hit: HitPolicy,
    /// `given` inputs, bound to locals before the rows are tried.
    pub given: Vec<(LocalId, Expr)>,
    pub rows: Vec<TableRowDef>,
}

#[derive(Debug, Clone)]
pub struct TableRowDef {
    pub from: Option<i32>,
    /// `None` for `otherwise`.
    pub cond: Option<Expr>,
    pub value: Expr,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct CascadeDef {
    pub amount: Expr,
    /// The local that `remains` reads in each step.
    pub remains: LocalId,
    pub steps: Vec<CascadeStepDef>,
    pub remainder: String,
}

#[derive(Debug, Clone)]
pub struct CascadeStepDef {
    pub name: String,
    pub doc: Option<String>,
    pub expr: Expr,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct ScaleDef {
    pub kind: ScaleKind,
    /// The locals of the scale's parameters; the first is the amount.
    pub params: Vec<LocalId>,
    pub round_each_band: bool,
    pub adjust: Option<Expr>,
    pub bands: ScaleBands,
}

#[derive(Debug, Clone)]
pub enum ScaleBands {
    Param(ParamId),
    /// `(lo, hi, value)`.
    Rows(Vec<(i64, Option<i64>, Expr)>),
}

#[derive(Debug, Clone)]
pub struct ExceptionDef {
    pub label: String,
    pub module: ModuleId,
    pub doc: Option<String>,
    pub source: Option<String>,
    pub cond: Expr,
    pub value: Expr,
    /// Indices (into the rule's exceptions) of the exceptions this one
    /// takes priority over.
    pub over: Vec<usize>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct AssertDef {
    pub name: String,
    pub param: ParamId,
    pub severity: Severity,
    pub every: Vec<(LocalId, EnumId, VariantSet)>,
    pub window: Option<(i32, i32)>,
    pub cond: Expr,
    pub source: Option<String>,
    pub doc: Option<String>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct TestDef {
    pub name: String,
    pub module: ModuleId,
    pub as_of: i32,
    pub records: Vec<TestRecordDef>,
    pub expects: Vec<ExpectDef>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct TestRecordDef {
    pub record: RecordId,
    pub id: String,
    /// One value per field.
    pub values: IdVec<FieldId, TestValue>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TestValue {
    Scalar(i64),
    Text(String),
    /// The index (among the test's records) of the linked record.
    Link(usize),
    /// An absent optional, or a members list (filled from the links).
    Absent,
}

#[derive(Debug, Clone)]
pub struct ExpectDef {
    pub expr: Expr,
    /// `fails` (`Some(None)`) or `fails with kind` (`Some(Some(kind))`).
    pub fails: Option<Option<String>>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct OutputDef {
    pub name: String,
    pub record: RecordId,
    pub binder: LocalId,
    pub columns: Vec<ColumnDef>,
    pub doc: Option<String>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct ColumnDef {
    pub name: String,
    pub expr: Expr,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct ProgrammeDef {
    pub name: String,
    pub display: Option<String>,
    pub source: Option<String>,
    pub doc: Option<String>,
    pub output: OutputId,
    pub amounts: Vec<usize>,
    pub recipients: Option<usize>,
    pub span: Span,
}

// ------------------------------------------------------------ expressions

#[derive(Debug, Clone)]
pub struct Expr {
    pub kind: ExprKind,
    pub ty: Ty,
    pub span: Span,
}

/// Exact arithmetic, resolved from the operand types. Every operation is
/// checked: a result outside `i64` is an overflow, a zero divisor a
/// division by zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArithOp {
    Add,
    Sub,
    /// Exact product (Int × Int, Money × Int, duration × Int).
    Mul,
    /// `round(a × b ÷ den, to: unit) `: the exact product divided by `den`
    /// and rounded half away from zero to a multiple of `unit`.
    MulRound {
        den: i64,
        unit: i64,
    },
    /// `round(a × pre ÷ b, to: unit)`.
    DivRound {
        pre: i64,
        unit: i64,
    },
    /// Date + days.
    AddDays,
    /// Date + months × factor (factor 12 for years), day clamped to the
    /// month's end.
    AddMonths {
        factor: i64,
    },
    /// Date − date, in days.
    SubDates,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Builtin {
    Min,
    Max,
    /// `clamp(x, lo, hi)`.
    Clamp,
    Abs,
    /// Round a value to a multiple of the unit, half away from zero.
    RoundTo(i64),
    YearsBetween,
    MonthsBetween,
    DaysBetween,
    Year,
    Month,
    Day,
    /// Int → Decimal.
    ToDecimal,
    /// Duration → Int.
    ToInt,
    BandsStart,
    BandsContiguous,
    MinRate,
    MaxRate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shift {
    /// 31 December of the year before the evaluation date.
    PriorYear,
    /// A fixed date.
    Date(i32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pat {
    /// Any of these variants.
    Variants(VariantSet),
    Bool(bool),
    Absent,
    /// Anything (a wildcard or a binding).
    Any,
}

#[derive(Debug, Clone)]
pub struct Arm {
    pub pat: Pat,
    /// The local a binding arm binds (the scrutinee, narrowed or unwrapped).
    pub bind: Option<LocalId>,
    pub body: Expr,
}

#[derive(Debug, Clone)]
pub enum ExprKind {
    /// Any scalar value (the type says how to read it).
    Const(i64),
    Text(String),
    Local(LocalId),
    AsOf,
    /// A field of a record value.
    Field(Box<Expr>, RecordId, FieldId),
    /// `is_set(x)` on an optional field.
    IsSet(Box<Expr>),
    /// The value of an optional known to be present.
    Unwrap(Box<Expr>),
    /// A rule applied to its record (or to nothing for a global rule).
    Rule(RuleId, Option<Box<Expr>>),
    /// Part `i` of a cascade (its steps, then the remainder at
    /// `steps.len()`).
    CascadePart(RuleId, usize, Option<Box<Expr>>),
    /// A scale applied to its arguments.
    Scale(RuleId, Vec<Expr>),
    Param(ParamId, Vec<Expr>),
    Neg(Box<Expr>),
    Not(Box<Expr>),
    Arith(ArithOp, Box<Expr>, Box<Expr>),
    Cmp(CmpOp, Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    Let(LocalId, Box<Expr>, Box<Expr>),
    Match(Box<Expr>, Vec<Arm>),
    Agg {
        kind: AggKind,
        var: LocalId,
        over: Box<Expr>,
        body: Option<Box<Expr>>,
        filter: Option<Box<Expr>>,
    },
    Builtin(Builtin, Vec<Expr>),
    /// Evaluate with parameters and dated rule choices as of another date.
    At(Box<Expr>, Shift),
    /// A record of a test, by its index among the test's records.
    TestRecord(usize),
}

impl Expr {
    pub fn new(kind: ExprKind, ty: Ty, span: Span) -> Expr {
        Expr { kind, ty, span }
    }

    pub fn error(span: Span) -> Expr {
        Expr {
            kind: ExprKind::Const(0),
            ty: Ty::Error,
            span,
        }
    }

    /// Visit every direct sub-expression.
    pub fn children(&self) -> Vec<&Expr> {
        use ExprKind::*;
        match &self.kind {
            Const(_) | Text(_) | Local(_) | AsOf | TestRecord(_) => vec![],
            Field(e, _, _) | IsSet(e) | Unwrap(e) | Neg(e) | Not(e) | At(e, _) => vec![e],
            Rule(_, a) | CascadePart(_, _, a) => a.iter().map(|b| &**b).collect(),
            Scale(_, args) | Param(_, args) | Builtin(_, args) => args.iter().collect(),
            Arith(_, a, b) | Cmp(_, a, b) | And(a, b) | Or(a, b) | Let(_, a, b) => vec![a, b],
            If(a, b, c) => vec![a, b, c],
            Match(s, arms) => {
                let mut v = vec![&**s];
                v.extend(arms.iter().map(|a| &a.body));
                v
            }
            Agg {
                over, body, filter, ..
            } => {
                let mut v = vec![&**over];
                if let Some(b) = body {
                    v.push(b);
                }
                if let Some(f) = filter {
                    v.push(f);
                }
                v
            }
        }
    }
}

pub use weft_syntax::ast::{AggKind as Agg, HitPolicy as Hit, ScaleKind as ScaleK};

/// Names for printing types of this program.
impl crate::ty::TyNames for Program {
    fn enum_name(&self, id: EnumId) -> String {
        self.enums
            .get(id)
            .map(|e| e.name.clone())
            .unwrap_or_default()
    }
    fn enum_len(&self, id: EnumId) -> usize {
        self.enums.get(id).map(|e| e.variants.len()).unwrap_or(0)
    }
    fn variant_name(&self, id: EnumId, v: usize) -> String {
        self.enums
            .get(id)
            .and_then(|e| e.variants.get(v))
            .map(|v| v.name.clone())
            .unwrap_or_default()
    }
    fn record_name(&self, id: RecordId) -> String {
        self.records
            .get(id)
            .map(|r| r.name.clone())
            .unwrap_or_default()
    }
    fn cascade_name(&self, id: RuleId) -> String {
        self.rules
            .get(id)
            .map(|r| r.name.clone())
            .unwrap_or_default()
    }
}

impl Program {
    pub fn show(&self, ty: &Ty) -> String {
        crate::ty::Show(ty, self).to_string()
    }

    pub fn rule_by_name(&self, name: &str) -> Option<RuleId> {
        self.rules
            .iter_enumerated()
            .find(|(_, r)| r.name == name)
            .map(|(i, _)| i)
    }

    pub fn param_by_name(&self, name: &str) -> Option<ParamId> {
        self.params
            .iter_enumerated()
            .find(|(_, r)| r.name == name)
            .map(|(i, _)| i)
    }

    pub fn record_by_name(&self, name: &str) -> Option<RecordId> {
        self.records
            .iter_enumerated()
            .find(|(_, r)| r.name == name)
            .map(|(i, _)| i)
    }
}

/// Why a record's evaluation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrKind {
    Overflow,
    DivisionByZero,
    /// Two exceptions applied with no priority between them.
    ExceptionConflict,
    /// No row of a table applied (and it has no `otherwise`).
    NoRow,
    /// Two rows of a unique table applied.
    AmbiguousRow,
    /// `min`/`max` over no members.
    Empty,
    /// A date outside years 1–9999.
    DateOutOfRange,
    /// An amount below every band of a flat scale.
    NoBand,
}

impl ErrKind {
    /// Every kind, in the order of [`ErrKind::index`].
    pub const ALL: [ErrKind; 8] = [
        ErrKind::Overflow,
        ErrKind::DivisionByZero,
        ErrKind::ExceptionConflict,
        ErrKind::NoRow,
        ErrKind::AmbiguousRow,
        ErrKind::Empty,
        ErrKind::DateOutOfRange,
        ErrKind::NoBand,
    ];

    /// The name used in `expect … fails with NAME` and error rows.
    pub fn code(self) -> &'static str {
        match self {
            ErrKind::Overflow => "overflow",
            ErrKind::DivisionByZero => "division_by_zero",
            ErrKind::ExceptionConflict => "exception_conflict",
            ErrKind::NoRow => "no_row",
            ErrKind::AmbiguousRow => "ambiguous_row",
            ErrKind::Empty => "empty",
            ErrKind::DateOutOfRange => "date_out_of_range",
            ErrKind::NoBand => "no_value",
        }
    }

    pub fn index(self) -> u8 {
        self as u8
    }

    pub fn from_index(i: u8) -> Option<ErrKind> {
        ErrKind::ALL.get(usize::from(i)).copied()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn open_ranges_print_as_written() {
        let show = |v: i64| v.to_string();
        assert_eq!(super::range_text((Some(0), Some(10)), show), "0..=10");
        assert_eq!(super::range_text((Some(0), None), show), "0..");
        assert_eq!(super::range_text((None, Some(10)), show), "..=10");
    }
}
