//! The abstract syntax tree of one policy file.
//!
//! Every node carries the [`Span`] of the text it came from. Names are
//! NFC-normalised when the tree is built. The tree is a faithful picture of
//! the text: nothing is resolved or checked here.

use crate::span::Span;

/// A name with its place in the source.
#[derive(Debug, Clone)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// One parsed file: its items in source order.
#[derive(Debug, Clone, Default)]
pub struct Module {
    pub items: Vec<Item>,
}

#[derive(Debug, Clone)]
pub enum Item {
    Import(Import),
    Enum(EnumDecl),
    Record(RecordDecl),
    Param(ParamDecl),
    Series(SeriesDecl),
    Rule(RuleDecl),
    Table(TableDecl),
    Scale(ScaleDecl),
    Cascade(CascadeDecl),
    Exception(ExceptionDecl),
    Assert(AssertDecl),
    Test(TestDecl),
    Defaults(DefaultsDecl),
    Output(OutputDecl),
    Programme(ProgrammeDecl),
}

impl Item {
    /// The span of the whole item.
    pub fn span(&self) -> Span {
        match self {
            Item::Import(i) => i.span,
            Item::Enum(i) => i.span,
            Item::Record(i) => i.span,
            Item::Param(i) => i.span,
            Item::Series(i) => i.span,
            Item::Rule(i) => i.span,
            Item::Table(i) => i.span,
            Item::Scale(i) => i.span,
            Item::Cascade(i) => i.span,
            Item::Exception(i) => i.span,
            Item::Assert(i) => i.span,
            Item::Test(i) => i.span,
            Item::Defaults(i) => i.span,
            Item::Output(i) => i.span,
            Item::Programme(i) => i.span,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Import {
    /// The module path, e.g. `jilin.records`.
    pub module: Ident,
    /// `import m.{a, b}`: the names imported; `None` imports every name.
    pub names: Option<Vec<Ident>>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct EnumDecl {
    pub doc: Option<String>,
    pub name: Ident,
    pub display: Option<String>,
    pub variants: Vec<Variant>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Variant {
    pub doc: Option<String>,
    pub name: Ident,
    pub display: Option<String>,
    /// The code used in data; defaults to the name.
    pub code: Option<(String, Span)>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct RecordDecl {
    pub doc: Option<String>,
    pub name: Ident,
    pub display: Option<String>,
    /// `input persons`: the name of the input file/flag this record is read from.
    pub input: Option<Ident>,
    pub fields: Vec<FieldDecl>,
    pub checks: Vec<RecordCheck>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct FieldDecl {
    pub doc: Option<String>,
    pub name: Ident,
    pub ty: TypeExpr,
    pub key: bool,
    /// `by column`: a link to another record, read from `column`.
    pub by: Option<Ident>,
    pub range: Option<RangeLit>,
    pub synth: Option<Synth>,
    pub span: Span,
}

/// `lo..hi` or `lo..=hi` in a field declaration.
#[derive(Debug, Clone)]
pub struct RangeLit {
    pub lo: Lit,
    pub hi: Option<Lit>,
    pub inclusive: bool,
    pub span: Span,
}

/// How `weft synth` generates a field.
#[derive(Debug, Clone)]
pub enum Synth {
    One(SynthAlt),
    Weighted(Vec<(SynthAlt, u64, Span)>),
}

#[derive(Debug, Clone)]
pub enum SynthAlt {
    Absent(Span),
    Range(RangeLit),
    Value(Lit),
    Word(Ident),
}

#[derive(Debug, Clone)]
pub struct RecordCheck {
    pub cond: Expr,
    pub column: Ident,
    pub message: String,
    /// `exclude`: a failing row is left out alone instead of rejecting its group.
    pub exclude: bool,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct TypeExpr {
    pub kind: TypeKind,
    pub optional: bool,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    Month,
    Year,
}

#[derive(Debug, Clone)]
pub enum TypeKind {
    Named(Ident),
    List(Ident),
    Money(Option<Period>),
    Bands(Option<Period>),
    /// The type of a declaration whose text did not parse, recovered so
    /// that the declaration still exists (its syntax error is reported
    /// once; its uses are not reported again).
    Unparsed,
}

/// A literal, as written.
#[derive(Debug, Clone)]
pub struct Lit {
    pub kind: LitKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LitKind {
    Bool(bool),
    Int(i64),
    /// Millionths.
    Decimal(i64),
    /// Fen.
    Money(i64),
    /// Days since 1970-01-01.
    Date(i32),
    Text(String),
    Duration(i64, DurationUnit),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DurationUnit {
    Days,
    Months,
    Years,
}

#[derive(Debug, Clone)]
pub struct ParamDecl {
    pub doc: Option<String>,
    pub name: Ident,
    pub keys: Vec<KeySet>,
    pub ty: TypeExpr,
    pub source: Option<String>,
    pub versions: Vec<ParamVersion>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct KeySet {
    pub enum_name: Ident,
    pub except: Vec<Ident>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct ParamVersion {
    pub effective: i32,
    pub effective_span: Span,
    pub value: PValue,
    pub span: Span,
}

/// A parameter value as written in source or a data file.
#[derive(Debug, Clone)]
pub enum PValue {
    Scalar(Lit),
    Map(Vec<(Ident, PValue)>, Span),
    Bands(Vec<BandLit>, Span),
}

impl PValue {
    pub fn span(&self) -> Span {
        match self {
            PValue::Scalar(l) => l.span,
            PValue::Map(_, s) | PValue::Bands(_, s) => *s,
        }
    }
}

#[derive(Debug, Clone)]
pub struct BandLit {
    pub lo: Lit,
    pub hi: Option<Lit>,
    pub rate: Lit,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct SeriesDecl {
    pub doc: Option<String>,
    pub name: Ident,
    pub ty: TypeExpr,
    pub source: Option<String>,
    /// (year, month, value)
    pub entries: Vec<(i32, u32, Lit, Span)>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Param {
    pub name: Ident,
    pub ty: TypeExpr,
}

#[derive(Debug, Clone)]
pub struct RuleDecl {
    pub doc: Option<String>,
    pub name: Ident,
    pub params: Vec<Param>,
    pub ret: TypeExpr,
    pub source: Option<String>,
    pub body: Expr,
    /// Later formulas, each in force from its date.
    pub versions: Vec<(i32, Span, Expr)>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct ExceptionDecl {
    pub doc: Option<String>,
    pub label: Ident,
    pub rule: Ident,
    pub binder: Option<Ident>,
    pub over: Vec<Ident>,
    pub source: Option<String>,
    pub cond: Expr,
    pub value: Expr,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HitPolicy {
    Unique,
    First,
    Sum,
    Max,
    Min,
}

#[derive(Debug, Clone)]
pub struct TableDecl {
    pub doc: Option<String>,
    pub name: Ident,
    pub params: Vec<Param>,
    pub ret: TypeExpr,
    pub source: Option<String>,
    pub hit: HitPolicy,
    pub hit_span: Span,
    pub given: Vec<Expr>,
    pub rows: Vec<TableRow>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct TableRow {
    pub from: Option<(i32, Span)>,
    /// `None` for `otherwise`.
    pub cells: Option<Vec<Cell>>,
    pub value: Expr,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Cell {
    /// Empty for `-` (any value).
    pub items: Vec<CellItem>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum CellItem {
    /// `[lo, hi)` and friends; `hi` is `None` for an open top.
    Range {
        lo: Expr,
        lo_closed: bool,
        hi: Option<Expr>,
        hi_closed: bool,
        span: Span,
    },
    Cmp(CmpOp, Expr, Span),
    Expr(Expr),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScaleKind {
    Marginal,
    Flat,
}

#[derive(Debug, Clone)]
pub struct ScaleDecl {
    pub doc: Option<String>,
    pub name: Ident,
    pub params: Vec<Param>,
    pub ret: TypeExpr,
    pub source: Option<String>,
    pub kind: ScaleKind,
    pub round_each_band: bool,
    pub adjust: Option<Expr>,
    pub bands: ScaleBands,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum ScaleBands {
    Param(Ident),
    Rows(Vec<ScaleRow>),
}

#[derive(Debug, Clone)]
pub struct ScaleRow {
    pub lo: Lit,
    pub hi: Option<Lit>,
    pub value: Expr,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct CascadeDecl {
    pub doc: Option<String>,
    pub name: Ident,
    pub params: Vec<Param>,
    pub ret: TypeExpr,
    pub source: Option<String>,
    pub amount: Expr,
    pub steps: Vec<CascadeStep>,
    pub remainder: Ident,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct CascadeStep {
    pub doc: Option<String>,
    pub name: Ident,
    pub expr: Expr,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone)]
pub struct AssertDecl {
    pub doc: Option<String>,
    pub name: Ident,
    pub param: Ident,
    pub severity: Severity,
    pub every: Vec<(Ident, KeySet)>,
    pub window: Option<(i32, i32)>,
    pub source: Option<String>,
    pub cond: Expr,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct TestDecl {
    pub doc: Option<String>,
    pub name: String,
    pub name_span: Span,
    /// The first day of the month evaluated.
    pub as_of: i32,
    pub records: Vec<TestRecord>,
    pub expects: Vec<TestExpect>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct TestRecord {
    pub record: Ident,
    pub id: Ident,
    pub fields: Vec<(Ident, Expr)>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct TestExpect {
    pub expr: Expr,
    /// `fails` / `fails with kind`.
    pub fails: Option<Option<Ident>>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct DefaultsDecl {
    pub record: Ident,
    pub fields: Vec<(Ident, Expr)>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct OutputDecl {
    pub doc: Option<String>,
    pub name: Ident,
    pub binder: Ident,
    pub record: Ident,
    pub columns: Vec<(Ident, Option<Expr>)>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct ProgrammeDecl {
    pub doc: Option<String>,
    pub name: Ident,
    pub display: Option<String>,
    pub source: Option<String>,
    pub output: Ident,
    pub amounts: Vec<Ident>,
    pub recipients: Option<Expr>,
    pub span: Span,
}

// ------------------------------------------------------------ expressions

#[derive(Debug, Clone)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    And,
    Or,
    Iff,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::And => "and",
            BinOp::Or => "or",
            BinOp::Iff => "iff",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggKind {
    Sum,
    Count,
    Any,
    All,
    Min,
    Max,
}

impl AggKind {
    pub fn name(self) -> &'static str {
        match self {
            AggKind::Sum => "sum",
            AggKind::Count => "count",
            AggKind::Any => "any",
            AggKind::All => "all",
            AggKind::Min => "min",
            AggKind::Max => "max",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Arg {
    pub name: Option<Ident>,
    pub value: Expr,
}

#[derive(Debug, Clone)]
pub struct MatchArm {
    pub patterns: Vec<Ident>,
    pub body: Expr,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum ExprKind {
    Lit(LitKind),
    /// A literal with an explicit period: `¥500 per month`.
    Per(Box<Expr>, Period),
    Name(Ident),
    AsOf,
    Remains,
    Field(Box<Expr>, Ident),
    Index(Box<Expr>, Vec<Expr>),
    Call(Ident, Vec<Arg>),
    At(Box<Expr>, i32),
    Neg(Box<Expr>),
    Not(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `x in {a, b}`.
    InSet(Box<Expr>, Vec<Expr>),
    /// `a < b <= c`: each comparison in turn, the middle evaluated once.
    Compare(Box<Expr>, Vec<(CmpOp, Expr)>),
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    Let(Ident, Box<Expr>, Box<Expr>),
    Match(Box<Expr>, Vec<MatchArm>),
    Agg {
        kind: AggKind,
        /// `None` for `count(m in xs)`.
        body: Option<Box<Expr>>,
        var: Ident,
        over: Box<Expr>,
        filter: Option<Box<Expr>>,
    },
    /// Stands in for an expression that failed to parse.
    Error,
}
