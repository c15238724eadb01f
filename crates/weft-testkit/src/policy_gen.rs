//! A generator of random well-typed policies and of random records for
//! them, for the differential test of the two engines
//! (`tests/engines_random.rs`).
//!
//! Both are *decoded* from a stream of choices (`u32`s): each choice is
//! taken modulo the number of alternatives, and alternative 0 is always the
//! simplest (a literal, no optional part, the first variant); a stream that
//! runs out reads as zeros. Proptest shrinks a `Vec<u32>` by dropping and
//! lowering its elements, which shrinks the policy toward fewer items and
//! literals, so a failure is reported with a small policy.
//!
//! The policy has a fixed schema — a `Household` with `members: [Person]`,
//! fields of every type (ranged `Int`, money of each period, `Decimal`,
//! `Date`, `Months`, `Bool`, two enums, optionals) — and random
//! parameters (unkeyed, keyed by an enum, by a subset, by two enums, bands;
//! dated versions), rules (dated versions), decision tables (every hit
//! policy; `given` columns partitioning the inputs, free conditions,
//! conditions only checkable at run time, dated rows), exceptions (with
//! priorities, or conflicting at run time), marginal and flat scales and
//! cascades, and two outputs. Every construct is generated only in a form
//! the checker accepts.

use std::fmt::Write as _;
use weft_check::hir::FieldKind;
use weft_ir::Ir;
use weft_ir::data::{Chunk, Column, Table};
use weft_syntax::num;

/// A stream of choices.
pub struct Choices<'a> {
    data: &'a [u32],
    pos: usize,
}

impl<'a> Choices<'a> {
    pub fn new(data: &'a [u32]) -> Choices<'a> {
        Choices { data, pos: 0 }
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        let v = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        if n == 0 { 0 } else { v as usize % n }
    }

    /// True with probability `pct`% (false on a zero choice).
    pub fn chance(&mut self, pct: usize) -> bool {
        self.below(100) >= 100 - pct.min(100)
    }

    /// One of `xs` (which must not be empty).
    pub fn pick<X: Clone>(&mut self, xs: &[X]) -> X {
        xs[self.below(xs.len())].clone()
    }

    /// An index chosen with the given weights.
    pub fn weighted(&mut self, w: &[u32]) -> usize {
        let total: u32 = w.iter().sum();
        let mut v = self.below(total as usize) as u32;
        for (i, x) in w.iter().enumerate() {
            if v < *x {
                return i;
            }
            v -= x;
        }
        0
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Per {
    Stock,
    Month,
    Year,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Unit {
    Days,
    Months,
    Years,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum En {
    Region,
    Level,
}

/// The types the generator writes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum T {
    Int,
    Dec,
    Money(Per),
    Date,
    Dur(Unit),
    Bool,
    Enum(En),
    /// `Level` known not to be `none` (a `match` binder after a `none`
    /// arm): only used as the key of a subset-keyed parameter.
    LevelSome,
}

impl T {
    pub fn text(self) -> String {
        match self {
            T::Int => "Int".into(),
            T::Dec => "Decimal".into(),
            T::Money(Per::Stock) => "Money".into(),
            T::Money(Per::Month) => "Money per month".into(),
            T::Money(Per::Year) => "Money per year".into(),
            T::Date => "Date".into(),
            T::Dur(Unit::Days) => "Days".into(),
            T::Dur(Unit::Months) => "Months".into(),
            T::Dur(Unit::Years) => "Years".into(),
            T::Bool => "Bool".into(),
            T::Enum(En::Region) => "Region".into(),
            T::Enum(En::Level) | T::LevelSome => "Level".into(),
        }
    }
    fn ordered(self) -> bool {
        matches!(self, T::Int | T::Dec | T::Money(_) | T::Date | T::Dur(_))
    }
    fn summable(self) -> bool {
        matches!(self, T::Int | T::Dec | T::Money(_) | T::Dur(_))
    }
}

pub fn variants(e: En) -> &'static [&'static str] {
    match e {
        En::Region => &["north", "south", "east"],
        En::Level => &["none", "low", "high"],
    }
}

fn en_name(e: En) -> &'static str {
    match e {
        En::Region => "Region",
        En::Level => "Level",
    }
}

/// A field of the fixed schema (besides keys, links and members).
#[derive(Clone, Copy, Debug)]
pub struct FieldDef {
    pub name: &'static str,
    pub ty: T,
    pub opt: bool,
    /// `in LO..=HI` or `in LO..`.
    pub range: Option<(i64, Option<i64>)>,
}

const fn fd(name: &'static str, ty: T, opt: bool, range: Option<(i64, Option<i64>)>) -> FieldDef {
    FieldDef {
        name,
        ty,
        opt,
        range,
    }
}

pub const HOUSE: &[FieldDef] = &[
    fd("region", T::Enum(En::Region), false, None),
    fd("assets", T::Money(Per::Stock), false, None),
    fd("rent", T::Money(Per::Month), false, None),
    fd("rural", T::Bool, false, None),
    fd("moved", T::Date, true, None),
];

pub const PERSON: &[FieldDef] = &[
    fd("age", T::Int, false, Some((0, Some(120)))),
    fd("n", T::Int, false, None),
    fd("income", T::Money(Per::Month), false, None),
    fd("yearly", T::Money(Per::Year), false, None),
    fd("rate", T::Dec, false, None),
    fd("birth", T::Date, false, None),
    fd("level", T::Enum(En::Level), false, None),
    fd("flag", T::Bool, false, None),
    fd("served", T::Dur(Unit::Months), false, Some((0, None))),
    fd("start", T::Date, true, None),
    fd("pension", T::Money(Per::Month), true, None),
    fd("k", T::Int, true, None),
    // Declared ranges at the edge of what the JIT's proofs allow: the
    // square of `small` fits in 64 bits (3,037,000,499² < 2⁶³), that of
    // `big` does not; `bonus` bounds money products.
    fd("small", T::Int, false, Some((0, Some(3_037_000_499)))),
    fd("big", T::Int, false, Some((0, Some(3_037_000_500)))),
    fd(
        "bonus",
        T::Money(Per::Month),
        false,
        Some((0, Some(1_000_000))),
    ),
];

/// The fields ranged at the edge of the JIT's proofs.
const EDGE_FIELDS: &[&str] = &["small", "big", "bonus"];

fn field_decl(f: &FieldDef) -> String {
    let mut s = format!("  {}: {}", f.name, f.ty.text());
    if f.opt {
        s.push('?');
    }
    if let Some((lo, hi)) = f.range {
        let lit = |v: i64| match f.ty {
            T::Dur(u) => dur_raw(v, u),
            T::Money(_) => money_raw(v, true),
            _ => v.to_string(),
        };
        match hi {
            Some(hi) => {
                let _ = write!(s, " in {}..={}", lit(lo), lit(hi));
            }
            None => {
                let _ = write!(s, " in {}..", lit(lo));
            }
        }
    }
    s.push('\n');
    s
}

/// The enums and records every generated policy starts with.
pub fn schema() -> String {
    let mut s = String::new();
    for e in [En::Region, En::Level] {
        let _ = writeln!(s, "enum {} {{", en_name(e));
        for v in variants(e) {
            let _ = writeln!(s, "  {v}");
        }
        s.push_str("}\n\n");
    }
    s.push_str("record Household input households {\n  hid: Text key\n");
    for f in HOUSE {
        s.push_str(&field_decl(f));
    }
    s.push_str("  members: [Person]\n}\n\n");
    s.push_str("record Person input persons {\n  pid: Text key\n  household: Household by hid\n");
    for f in PERSON {
        s.push_str(&field_decl(f));
    }
    s.push_str("}\n\n");
    s
}

// ---------------------------------------------------------------------------
// Literals and boundary values.

const INTS: &[i64] = &[
    0,
    1,
    -1,
    2,
    3,
    7,
    10,
    12,
    18,
    60,
    100,
    1000,
    3_037_000_499,
    3_037_000_500,
    -3_037_000_500,
    4_294_967_296,
    4_611_686_018_427_387_904,
    i64::MAX,
    i64::MAX - 1,
    -i64::MAX,
    i64::MIN,
];

/// Millionths.
const DECS: &[i64] = &[
    0,
    1_000_000,
    500_000,
    5,
    1,
    -500_000,
    333_333,
    666_667,
    1_500_000,
    125_000,
    100_400,
    200_400,
    5_000,
    50_000,
    91_000,
    1_300_000,
    -1,
    999_999,
    2_000_000,
    i64::MAX,
    -i64::MAX,
    4_611_686_018_427_387_904,
];

/// Fen.
const MONEYS: &[i64] = &[
    0,
    1,
    5,
    50,
    99,
    100,
    299,
    500,
    10_000,
    44_500,
    123_456,
    1_000_000,
    100_000_000_000_000,
    9_000_000_000_000_000_000,
    i64::MAX,
    i64::MAX / 2,
    i64::MAX / 12,
    768_614_336_404_564_650,
    -5,
    -1,
    -100,
];

const DATES: &[&str] = &[
    "2019-01-31",
    "2020-01-31",
    "2020-02-29",
    "2019-02-28",
    "2019-12-31",
    "2000-02-29",
    "2100-02-28",
    "0001-01-01",
    "9999-12-31",
    "2019-03-31",
    "2019-08-31",
    "2018-01-01",
    "1970-01-01",
    "1900-02-28",
    "2019-07-01",
    "2024-02-29",
    "9999-12-01",
    "0001-12-31",
];

const DURS: &[i64] = &[
    0,
    1,
    -1,
    2,
    3,
    6,
    11,
    12,
    13,
    29,
    31,
    59,
    365,
    1200,
    120_000,
    3_652_059,
    i64::MAX,
    -i64::MAX,
];

/// Dates of dated versions and rows (after the first version, 1990-01-01).
const VERSION_DATES: &[&str] = &[
    "2019-03-01",
    "2019-07-01",
    "2020-02-29",
    "2020-03-01",
    "2021-01-31",
    "1995-06-15",
];

/// The months evaluated.
pub const MONTHS: &[&str] = &[
    "2019-07-01",
    "2020-03-01",
    "2019-01-01",
    "2020-02-01",
    "2024-02-01",
    "1991-01-01",
    "9999-12-01",
    "2000-02-01",
];

fn date_days(s: &str) -> i64 {
    num::parse_date(s).map(i64::from).unwrap_or(0)
}

fn group3(mut v: u64) -> String {
    let digits = v.to_string();
    if v < 1000 {
        return digits;
    }
    let mut parts = Vec::new();
    while v >= 1000 {
        parts.push(format!("{:03}", v % 1000));
        v /= 1000;
    }
    parts.push(v.to_string());
    parts.reverse();
    parts.join(",")
}

/// An integer as a literal (negative ones without brackets).
fn int_raw(v: i64) -> String {
    v.to_string()
}

/// An integer in an expression.
fn int_expr(v: i64) -> String {
    if v == i64::MIN {
        "(-9223372036854775807 - 1)".into()
    } else if v < 0 {
        format!("({v})")
    } else {
        v.to_string()
    }
}

fn dec_raw(m: i64, pct: bool) -> String {
    let sign = if m < 0 { "-" } else { "" };
    let a = m.unsigned_abs();
    if pct && a.is_multiple_of(100) {
        let whole = a / 10_000;
        let frac = a % 10_000;
        if frac == 0 {
            return format!("{sign}{whole}%");
        }
        let f = format!("{frac:04}");
        return format!("{sign}{whole}.{}%", f.trim_end_matches('0'));
    }
    let whole = a / 1_000_000;
    let frac = a % 1_000_000;
    let f = format!("{frac:06}");
    let f = f.trim_end_matches('0');
    format!("{sign}{whole}.{}", if f.is_empty() { "0" } else { f })
}

fn money_raw(fen: i64, group: bool) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let a = fen.unsigned_abs();
    let yuan = if group {
        group3(a / 100)
    } else {
        (a / 100).to_string()
    };
    let f = a % 100;
    if f == 0 && group {
        format!("{sign}¥{yuan}")
    } else {
        format!("{sign}¥{yuan}.{f:02}")
    }
}

fn per_suffix(per: Per) -> &'static str {
    match per {
        Per::Stock => "",
        Per::Month => " per month",
        Per::Year => " per year",
    }
}

fn unit_word(u: Unit, n: i64) -> &'static str {
    match (u, n == 1) {
        (Unit::Days, true) => "day",
        (Unit::Days, false) => "days",
        (Unit::Months, true) => "month",
        (Unit::Months, false) => "months",
        (Unit::Years, true) => "year",
        (Unit::Years, false) => "years",
    }
}

fn dur_raw(n: i64, u: Unit) -> String {
    format!("{n} {}", unit_word(u, n))
}

// ---------------------------------------------------------------------------
// Declarations.

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Rec {
    Global,
    Person,
    House,
}

#[derive(Clone, Debug)]
enum Kind {
    Rule,
    Table,
    /// A scale: its amount type and whether it takes a decimal bonus.
    Scale {
        amount: T,
        extra: bool,
    },
    Cascade {
        parts: Vec<String>,
    },
}

#[derive(Clone, Debug)]
struct Sig {
    name: String,
    rec: Rec,
    ty: T,
    kind: Kind,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Keys {
    None,
    Region,
    LevelSome,
    RegionLevel,
}

#[derive(Clone, Debug)]
struct Param {
    name: String,
    ty: T,
    keys: Keys,
}

/// Where an expression is written.
#[derive(Clone, Debug)]
struct Ctx {
    /// How the person is written (`p`, `m`), if there is one.
    person: Option<String>,
    /// How the household is written (`h`, `p.household`), if there is one.
    house: Option<String>,
    /// Aggregations over the household's members allowed.
    agg: bool,
    locals: Vec<(String, T)>,
    /// In a cascade step: the type of `remains`.
    remains: Option<T>,
    /// Rules `0..callable` may be used.
    callable: usize,
    /// Enum fields may be narrowed here: no `match` or comparison on them.
    narrowed: bool,
}

impl Ctx {
    fn of(rec: Rec, callable: usize) -> Ctx {
        let (person, house) = match rec {
            Rec::Global => (None, None),
            Rec::Person => (Some("p".to_string()), Some("p.household".to_string())),
            Rec::House => (None, Some("h".to_string())),
        };
        Ctx {
            agg: house.is_some(),
            person,
            house,
            locals: Vec::new(),
            remains: None,
            callable,
            narrowed: false,
        }
    }
}

fn mentions_enum(s: &str) -> bool {
    s.contains("level") || s.contains("region")
}

enum Leaf {
    Lit,
    Text(String),
    Param(usize),
    Call(usize),
}

/// The generator of one policy.
pub struct Gen<'a> {
    c: Choices<'a>,
    params: Vec<Param>,
    /// Bands parameters by period.
    bands: Vec<(String, Per)>,
    sigs: Vec<Sig>,
    fresh: usize,
    out: String,
}

/// The text of a random policy (one module).
pub fn policy(data: &[u32]) -> String {
    let mut g = Gen {
        c: Choices::new(data),
        params: Vec::new(),
        bands: Vec::new(),
        sigs: Vec::new(),
        fresh: 0,
        out: schema(),
    };
    g.policy();
    g.out
}

const SIMPLE_TYPES: &[T] = &[
    T::Int,
    T::Money(Per::Month),
    T::Bool,
    T::Dec,
    T::Date,
    T::Money(Per::Year),
    T::Money(Per::Stock),
    T::Enum(En::Level),
    T::Dur(Unit::Months),
    T::Dur(Unit::Days),
    T::Dur(Unit::Years),
    T::Enum(En::Region),
];

impl Gen<'_> {
    fn fresh(&mut self, p: &str) -> String {
        self.fresh += 1;
        format!("{p}{}", self.fresh)
    }

    fn policy(&mut self) {
        let nparams = self.c.below(6);
        for i in 0..nparams {
            self.param(i);
        }
        let nsigs = 1 + self.c.below(9);
        for i in 0..nsigs {
            self.sig(i);
        }
        for i in 0..nsigs {
            self.body(i);
        }
        self.outputs();
    }

    // -- parameters ---------------------------------------------------------

    fn param_value(&mut self, ty: T) -> String {
        match ty {
            T::Int => {
                let v = self.lit_int();
                int_raw(if v == i64::MIN { -i64::MAX } else { v })
            }
            T::Dec => {
                let v = self.c.pick(DECS);
                let pct = self.c.chance(30);
                dec_raw(v, pct)
            }
            T::Money(_) => {
                let v = self.c.pick(MONEYS);
                let g = self.c.chance(50);
                money_raw(v, g)
            }
            T::Date => self.c.pick(DATES).to_string(),
            T::Dur(u) => dur_raw(self.c.pick(DURS), u),
            T::Bool => ["false", "true"][self.c.below(2)].to_string(),
            T::Enum(_) | T::LevelSome => "0".into(),
        }
    }

    fn keyed_value(&mut self, ty: T, keys: Keys) -> String {
        let lv = ["low", "high"];
        match keys {
            Keys::None => self.param_value(ty),
            Keys::Region => {
                let vs: Vec<String> = variants(En::Region)
                    .iter()
                    .map(|v| format!("{v}: {}", self.param_value(ty)))
                    .collect();
                format!("{{ {} }}", vs.join(", "))
            }
            Keys::LevelSome => {
                let vs: Vec<String> = lv
                    .iter()
                    .map(|v| format!("{v}: {}", self.param_value(ty)))
                    .collect();
                format!("{{ {} }}", vs.join(", "))
            }
            Keys::RegionLevel => {
                let mut rows = Vec::new();
                for r in variants(En::Region) {
                    let vs: Vec<String> = variants(En::Level)
                        .iter()
                        .map(|v| format!("{v}: {}", self.param_value(ty)))
                        .collect();
                    rows.push(format!("{r}: {{ {} }}", vs.join(", ")));
                }
                format!("{{ {} }}", rows.join(", "))
            }
        }
    }

    fn version_dates(&mut self, max: usize) -> Vec<&'static str> {
        let n = self.c.below(max + 1);
        let mut ds: Vec<&'static str> = Vec::new();
        for _ in 0..n {
            let d = self.c.pick(VERSION_DATES);
            if !ds.contains(&d) {
                ds.push(d);
            }
        }
        ds.sort_by_key(|d| date_days(d));
        ds
    }

    fn param(&mut self, i: usize) {
        let name = format!("k{i}");
        if self.c.chance(15) {
            // Bands of money.
            let per = if self.c.chance(50) {
                Per::Month
            } else {
                Per::Year
            };
            let _ = write!(self.out, "param {name}: Bands of {}", T::Money(per).text());
            let mut dates = vec!["1990-01-01"];
            dates.extend(self.version_dates(1));
            for d in dates {
                let b = self.bands_text(true);
                let _ = write!(self.out, "\n  from {d} = [{b}]");
            }
            self.out.push_str("\n\n");
            self.bands.push((name, per));
            return;
        }
        let ty = self.c.pick(&[
            T::Money(Per::Month),
            T::Int,
            T::Dec,
            T::Money(Per::Year),
            T::Date,
            T::Bool,
            T::Dur(Unit::Months),
            T::Money(Per::Stock),
            T::Dur(Unit::Days),
        ]);
        let keys = self
            .c
            .pick(&[Keys::None, Keys::Region, Keys::LevelSome, Keys::RegionLevel]);
        let kt = match keys {
            Keys::None => String::new(),
            Keys::Region => "[Region]".into(),
            Keys::LevelSome => "[Level except none]".into(),
            Keys::RegionLevel => "[Region, Level]".into(),
        };
        let _ = write!(self.out, "param {name}{kt}: {}", ty.text());
        let mut dates = vec!["1990-01-01"];
        dates.extend(self.version_dates(2));
        for d in dates {
            let v = self.keyed_value(ty, keys);
            let _ = write!(self.out, "\n  from {d} = {v}");
        }
        self.out.push_str("\n\n");
        self.params.push(Param { name, ty, keys });
    }

    /// Band rows: `¥0..¥10: 50%` (a parameter) or `| ¥0..¥10 => 0.5`.
    fn bands_text(&mut self, param: bool) -> String {
        let n = 1 + self.c.below(3);
        let mut bounds: Vec<i64> = vec![if self.c.chance(20) {
            self.c.pick(&[100, 1_000_000, -1_000])
        } else {
            0
        }];
        for _ in 0..n {
            let last = *bounds.last().unwrap_or(&0);
            let step = self
                .c
                .pick(&[1_000, 1_000_000, 5_000_000, 1, 100_000_000_000_000]);
            bounds.push(last.saturating_add(step));
        }
        let open = !self.c.chance(20);
        let mut rows = Vec::new();
        for w in 0..n {
            let lo = money_raw(bounds[w], true);
            let hi = if w + 1 == n && open {
                String::new()
            } else {
                money_raw(bounds[w + 1], true)
            };
            let rate = self.c.pick(&[
                500_000, 600_000, 100_400, 200_400, 1_000_000, 0, 350_000, 1_500_000, 5,
            ]);
            let pct = self.c.chance(40);
            let r = dec_raw(rate, pct);
            if param {
                rows.push(format!("{lo}..{hi}: {r}"));
            } else {
                rows.push(format!("  | {lo}..{hi} => {r}"));
            }
        }
        if param {
            rows.join(", ")
        } else {
            rows.join("\n")
        }
    }

    // -- signatures ---------------------------------------------------------

    fn sig(&mut self, i: usize) {
        let k = self.c.weighted(&[10, 5, 2, 2]);
        let rec = self
            .c
            .pick(&[Rec::Person, Rec::House, Rec::Global, Rec::Person]);
        let sig = match k {
            1 => Sig {
                name: format!("t{i}"),
                rec,
                ty: self.c.pick(SIMPLE_TYPES),
                kind: Kind::Table,
            },
            2 => {
                let flat = self.c.chance(40);
                let amount = self.c.pick(&[
                    T::Money(Per::Year),
                    T::Money(Per::Month),
                    T::Money(Per::Stock),
                ]);
                let ty = if flat {
                    self.c.pick(&[amount, T::Int, T::Dec, T::Bool])
                } else {
                    amount
                };
                // The bonus marks a marginal scale; a flat one may take it as
                // a plain argument.
                let extra = self.c.chance(40);
                Sig {
                    name: format!("s{i}"),
                    rec: Rec::Global,
                    ty,
                    kind: Kind::Scale { amount, extra },
                }
            }
            3 => {
                let per = self.c.pick(&[Per::Year, Per::Month, Per::Stock]);
                let n = 1 + self.c.below(3);
                Sig {
                    name: format!("c{i}"),
                    rec: if rec == Rec::House {
                        Rec::House
                    } else {
                        Rec::Person
                    },
                    ty: T::Money(per),
                    kind: Kind::Cascade {
                        parts: (0..n).map(|j| format!("a{j}")).collect(),
                    },
                }
            }
            _ => Sig {
                name: format!("r{i}"),
                rec,
                ty: self.c.pick(SIMPLE_TYPES),
                kind: Kind::Rule,
            },
        };
        self.sigs.push(sig);
    }

    fn header(&self, s: &Sig) -> String {
        match s.rec {
            Rec::Global => s.name.clone(),
            Rec::Person => format!("{}(p: Person)", s.name),
            Rec::House => format!("{}(h: Household)", s.name),
        }
    }

    fn var(s: &Sig) -> &'static str {
        match s.rec {
            Rec::Global => "",
            Rec::Person => "p",
            Rec::House => "h",
        }
    }

    fn depth(&mut self) -> u32 {
        1 + self.c.below(4) as u32
    }

    fn body(&mut self, i: usize) {
        let s = self.sigs[i].clone();
        let cx = Ctx::of(s.rec, i);
        match &s.kind {
            Kind::Rule => {
                let d = self.depth();
                let e = self.expr(s.ty, &cx, d);
                let _ = write!(
                    self.out,
                    "rule {}: {} =\n  {e}",
                    self.header(&s),
                    s.ty.text()
                );
                for date in self.version_dates(2) {
                    let d = self.depth();
                    let e = self.expr(s.ty, &cx, d);
                    let _ = write!(self.out, "\n  from {date} = {e}");
                }
                self.out.push_str("\n\n");
                self.exceptions(&s, &cx);
            }
            Kind::Table => {
                self.table(&s, &cx);
                self.exceptions(&s, &cx);
            }
            Kind::Scale { amount, extra } => self.scale(&s, *amount, *extra, i),
            Kind::Cascade { parts } => self.cascade(&s, parts, &cx),
        }
    }

    fn exceptions(&mut self, s: &Sig, cx: &Ctx) {
        let n = self.c.weighted(&[6, 3, 2, 1]);
        if n == 0 {
            return;
        }
        // Bool rules of the same record, to make the conditions depend on
        // rules' values (a conflict is then checked at run time).
        let bool_rules: Vec<String> = self.sigs[..cx.callable]
            .iter()
            .filter(|g| g.ty == T::Bool && g.rec == s.rec && matches!(g.kind, Kind::Rule))
            .map(|g| self.call_text(g, cx).unwrap_or_default())
            .collect();
        let ordered = bool_rules.is_empty() || !self.c.chance(40);
        let target = match s.rec {
            Rec::Global => format!("{}()", s.name),
            _ => format!("{}({})", s.name, Self::var(s)),
        };
        for j in 0..n {
            let d = self.depth().min(3);
            let mut cond = self.expr(T::Bool, cx, d);
            if !ordered {
                let r = self.c.pick(&bool_rules);
                cond = if self.c.chance(50) {
                    format!("({r} and {cond})")
                } else {
                    format!("({r} or {cond})")
                };
            }
            let d = self.depth();
            let val = self.expr(s.ty, cx, d);
            let over = if ordered && j > 0 {
                format!(
                    " over {}",
                    (0..j)
                        .map(|k| format!("x{k}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            } else {
                String::new()
            };
            let _ = write!(
                self.out,
                "exception x{j} for {target}{over}\n  when {cond} = {val}\n\n"
            );
        }
    }

    // -- tables -------------------------------------------------------------

    fn table(&mut self, s: &Sig, cx: &Ctx) {
        let ty = s.ty;
        let numeric = ty.summable();
        let ordered = ty.ordered();
        let mode = self.c.weighted(&[4, 3, 3]);
        let _ = write!(self.out, "table {}: {}", self.header(s), ty.text());
        match mode {
            // `given` columns that partition every input.
            0 => {
                let hits: Vec<&str> = if numeric {
                    vec!["unique", "first", "sum", "max", "min"]
                } else if ordered {
                    vec!["unique", "first", "max", "min"]
                } else {
                    vec!["unique", "first"]
                };
                let hit = self.c.pick(&hits);
                let ninputs = 1 + self.c.below(2);
                let mut inputs = Vec::new();
                let mut parts: Vec<Vec<String>> = Vec::new();
                for _ in 0..ninputs {
                    let (text, cells) = self.table_input(cx);
                    // One input twice is not independent of itself.
                    if !inputs.contains(&text) {
                        inputs.push(text);
                        parts.push(cells);
                    }
                }
                let mut rows: Vec<Vec<String>> = vec![Vec::new()];
                for cells in &parts {
                    let mut next = Vec::new();
                    for r in &rows {
                        for c in cells {
                            let mut r2 = r.clone();
                            r2.push(c.clone());
                            next.push(r2);
                        }
                    }
                    rows = next;
                }
                // A random order of rows.
                let mut ordered_rows = Vec::new();
                while !rows.is_empty() {
                    let k = self.c.below(rows.len());
                    ordered_rows.push(rows.remove(k));
                }
                let _ = write!(self.out, "\n  hit {hit}\n  given {}", inputs.join(", "));
                for r in ordered_rows {
                    let d = self.depth().min(3);
                    let v = self.expr(ty, cx, d);
                    let _ = write!(self.out, "\n  | {} => {v}", r.join(" | "));
                }
            }
            // Free conditions: `sum` (no static claim), or `first` with
            // `otherwise`.
            1 => {
                let hit = if numeric && self.c.chance(50) {
                    "sum"
                } else {
                    "first"
                };
                let _ = write!(self.out, "\n  hit {hit}");
                let n = 1 + self.c.below(4);
                for _ in 0..n {
                    let dated = if self.c.chance(20) {
                        format!("from {}: ", self.c.pick(VERSION_DATES))
                    } else {
                        String::new()
                    };
                    let d = self.depth().min(3);
                    let mut cond = self.expr(T::Bool, cx, d);
                    if hit == "first" {
                        // A row that earlier rows shadow, or whose condition
                        // cannot hold, is rejected (E0412): add an alternative
                        // the analysis cannot read.
                        // (After `or`, the condition narrows enum fields.)
                        let mut ocx = cx.clone();
                        ocx.narrowed |= mentions_enum(&cond);
                        let o = self.opaque_cond(&ocx);
                        cond = format!("({cond} or {o})");
                    }
                    let d = self.depth().min(3);
                    let v = self.expr(ty, cx, d);
                    let _ = write!(self.out, "\n  | {dated}{cond} => {v}");
                }
                if hit == "first" || self.c.chance(50) {
                    let d = self.depth().min(3);
                    let v = self.expr(ty, cx, d);
                    let _ = write!(self.out, "\n  | otherwise => {v}");
                }
            }
            // Conditions the analysis cannot read (two inputs compared):
            // checked at run time (`no_row`, `ambiguous_row`).
            _ => {
                let hits: Vec<&str> = if ordered {
                    vec!["unique", "max", "min", "first"]
                } else {
                    vec!["unique", "first"]
                };
                let hit = self.c.pick(&hits);
                let _ = write!(self.out, "\n  hit {hit}");
                let n = 1 + self.c.below(4);
                for _ in 0..n {
                    let dated = if self.c.chance(15) {
                        format!("from {}: ", self.c.pick(VERSION_DATES))
                    } else {
                        String::new()
                    };
                    let cond = self.opaque_cond(cx);
                    let d = self.depth().min(3);
                    let v = self.expr(ty, cx, d);
                    let _ = write!(self.out, "\n  | {dated}{cond} => {v}");
                }
                if self.c.chance(40) {
                    let d = self.depth().min(3);
                    let v = self.expr(ty, cx, d);
                    let _ = write!(self.out, "\n  | otherwise => {v}");
                }
            }
        }
        self.out.push_str("\n\n");
    }

    /// A condition that compares two non-constant values.
    fn opaque_cond(&mut self, cx: &Ctx) -> String {
        let t = self
            .c
            .pick(&[T::Int, T::Money(Per::Month), T::Date, T::Dec]);
        let a = self.nonconst(t, cx);
        let b = self.nonconst(t, cx);
        let op = self.c.pick(&["<", "<=", ">", ">=", "==", "!="]);
        format!("({a}) {op} ({b})")
    }

    /// A value of `t` that is not a constant for the table analysis.
    fn nonconst(&mut self, t: T, cx: &Ctx) -> String {
        let d = self.c.below(3) as u32;
        let e = self.expr(t, cx, d);
        match t {
            T::Int => format!("{e} + 0 * {}", self.int_source(cx)),
            T::Dec => format!("{e} + 0.0 * decimal({})", self.int_source(cx)),
            T::Money(p) => format!("{e} + ¥0{} * {}", per_suffix(p), self.int_source(cx)),
            T::Date => format!("add_days({e}, 0 * {})", self.int_source(cx)),
            _ => e,
        }
    }

    /// An Int that is an input of the record (or `year(as_of)`).
    fn int_source(&mut self, cx: &Ctx) -> String {
        match &cx.person {
            Some(p) if self.c.chance(70) => format!("{p}.age"),
            _ => "year(as_of)".into(),
        }
    }

    /// A `given` input and cells that partition its values.
    fn table_input(&mut self, cx: &Ctx) -> (String, Vec<String>) {
        // Candidates: (text, type, lower bound of its domain).
        let mut cands: Vec<(String, T, Option<i64>)> = Vec::new();
        if let Some(p) = &cx.person {
            // Not the fields ranged for the JIT's proofs: their thresholds
            // would fall outside their declared ranges (E0412).
            for f in PERSON.iter().filter(|f| !EDGE_FIELDS.contains(&f.name)) {
                if !f.opt && f.ty != T::Dec {
                    let lo = match (f.ty, f.range) {
                        (_, Some((lo, _))) => Some(lo),
                        (T::Money(_), _) => Some(0),
                        _ => None,
                    };
                    cands.push((format!("{p}.{}", f.name), f.ty, lo));
                }
            }
        }
        if let Some(h) = &cx.house {
            for f in HOUSE {
                if !f.opt {
                    let lo = matches!(f.ty, T::Money(_)).then_some(0);
                    cands.push((format!("{h}.{}", f.name), f.ty, lo));
                }
            }
        }
        for s in self.sigs[..cx.callable].iter() {
            if matches!(s.kind, Kind::Rule | Kind::Table) && s.ty != T::Dec {
                if let Some(t) = self.call_text(s, cx) {
                    cands.push((t, s.ty, None));
                }
            }
        }
        if cands.is_empty() {
            cands.push(("year(as_of)".into(), T::Int, Some(1)));
        }
        let (text, ty, lo) = self.c.pick(&cands);
        let cells = match ty {
            T::Bool => {
                if self.c.chance(30) {
                    vec!["-".into()]
                } else {
                    vec!["true".into(), "false".into()]
                }
            }
            T::Enum(e) => {
                let vs = variants(e);
                let mut groups: Vec<Vec<&str>> = Vec::new();
                for v in vs {
                    if groups.is_empty() || self.c.chance(50) {
                        groups.push(vec![v]);
                    } else if let Some(g) = groups.last_mut() {
                        g.push(v);
                    }
                }
                groups.into_iter().map(|g| g.join(", ")).collect()
            }
            _ => {
                let lo = lo.unwrap_or(i64::MIN);
                // Thresholds inside the domain (above its lower bound).
                let k = 1 + self.c.below(3);
                let mut ts: Vec<i64> = Vec::new();
                for _ in 0..k {
                    let v = match ty {
                        T::Date => date_days(self.c.pick(DATES)),
                        T::Money(_) => self.c.pick(MONEYS),
                        T::Dur(_) => self.c.pick(DURS),
                        _ if text.ends_with(".age") => 1 + self.c.below(120) as i64,
                        _ if text == "year(as_of)" => 1 + self.c.below(9999) as i64,
                        _ => self.lit_int(),
                    };
                    // Thresholds at the i64 limits included: the table
                    // analysis covers every i64.
                    if v > lo && !ts.contains(&v) && (ty != T::Date || v > 0) {
                        ts.push(v);
                    }
                }
                ts.sort();
                let lit = |v: i64| -> String {
                    match ty {
                        T::Date => num::format_date(v as i32),
                        T::Money(p) => format!("{}{}", money_raw(v, true), per_suffix(p)),
                        T::Dur(u) => dur_raw(v, u),
                        _ => int_raw(v),
                    }
                };
                if ts.is_empty() {
                    vec!["-".into()]
                } else if ts.len() == 1 && self.c.chance(30) {
                    vec![lit(ts[0]), format!("!= {}", lit(ts[0]))]
                } else {
                    let mut cells = vec![format!("< {}", lit(ts[0]))];
                    for w in ts.windows(2) {
                        cells.push(format!("[{}, {})", lit(w[0]), lit(w[1])));
                    }
                    let last = lit(ts[ts.len() - 1]);
                    cells.push(if self.c.chance(50) {
                        format!(">= {last}")
                    } else {
                        format!("[{last}, )")
                    });
                    cells
                }
            }
        };
        (text, cells)
    }

    // -- scales and cascades ------------------------------------------------

    fn scale(&mut self, s: &Sig, amount: T, extra: bool, i: usize) {
        let per = match amount {
            T::Money(p) => p,
            _ => Per::Stock,
        };
        let flat = s.ty != amount || self.c.chance(30);
        let args = if extra {
            format!("x: {}, b: Decimal", amount.text())
        } else {
            format!("x: {}", amount.text())
        };
        let _ = write!(self.out, "scale {}({args}): {}", s.name, s.ty.text());
        let mut cx = Ctx::of(Rec::Global, i);
        cx.locals.push(("x".into(), amount));
        if extra {
            cx.locals.push(("b".into(), T::Dec));
        }
        if flat {
            self.out.push_str("\n  flat");
            let n = 1 + self.c.below(3);
            let mut lo: i64 = self.c.pick(&[0, 0, 100, -100_000, 1_000_000]);
            for w in 0..n {
                let step = self
                    .c
                    .pick(&[100_000, 1, 50_000_000, 10_000_000_000_000_000]);
                let hi = lo.saturating_add(step);
                let top = if w + 1 == n && !self.c.chance(20) {
                    String::new()
                } else {
                    money_raw(hi, true)
                };
                let d = self.depth().min(3);
                let v = self.expr(s.ty, &cx, d);
                let _ = write!(self.out, "\n  | {}..{top} => {v}", money_raw(lo, true));
                lo = hi;
            }
        } else {
            self.out.push_str("\n  marginal");
            match self.c.below(3) {
                1 => self.out.push_str("\n  round each band"),
                2 => self.out.push_str("\n  round total"),
                _ => {}
            }
            if extra {
                self.out.push_str("\n  adjust rate + b");
            }
            let params: Vec<String> = self
                .bands
                .iter()
                .filter(|(_, p)| *p == per)
                .map(|(n, _)| n.clone())
                .collect();
            if !params.is_empty() && self.c.chance(50) {
                let b = self.c.pick(&params);
                let _ = write!(self.out, "\n  bands {b}");
            } else {
                let b = self.bands_text(false);
                let _ = write!(self.out, "\n{b}");
            }
        }
        self.out.push_str("\n\n");
    }

    fn cascade(&mut self, s: &Sig, parts: &[String], cx: &Ctx) {
        let d = self.depth();
        let on = self.expr(s.ty, cx, d);
        let _ = write!(
            self.out,
            "cascade {}: {}\n  on {on}",
            self.header(s),
            s.ty.text()
        );
        let mut scx = cx.clone();
        scx.remains = Some(s.ty);
        for (j, part) in parts.iter().enumerate() {
            let d = self.depth();
            let e = self.expr(s.ty, &scx, d);
            let last = j + 1 == parts.len();
            let _ = write!(self.out, "\n  | {part} pays {e}");
            if last {
                self.out.push_str("\n  remainder rest");
            }
        }
        self.out.push_str("\n\n");
    }

    // -- outputs ------------------------------------------------------------

    fn outputs(&mut self) {
        let mut person = String::from("output persons(p: Person) {\n  pid\n");
        let mut house = String::from("output households(h: Household) {\n  hid\n");
        let sigs = self.sigs.clone();
        for s in &sigs {
            match (&s.kind, s.rec) {
                (Kind::Rule | Kind::Table, Rec::Person) => {
                    if self.c.chance(50) {
                        let _ = writeln!(person, "  {}", s.name);
                    } else {
                        let _ = writeln!(person, "  o_{0}: {0}(p)", s.name);
                    }
                }
                (Kind::Rule | Kind::Table, Rec::House) => {
                    let _ = writeln!(house, "  o_{0}: {0}(h)", s.name);
                }
                (Kind::Rule | Kind::Table, Rec::Global) => {
                    let _ = writeln!(person, "  o_{0}: {0}", s.name);
                    let _ = writeln!(house, "  o_{0}: {0}", s.name);
                }
                (Kind::Cascade { parts }, rec) => {
                    let (out, v) = if rec == Rec::House {
                        (&mut house, "h")
                    } else {
                        (&mut person, "p")
                    };
                    for part in parts.iter().chain(std::iter::once(&"rest".to_string())) {
                        let _ = writeln!(out, "  o_{0}_{part}: {0}({v}).{part}", s.name);
                    }
                }
                (Kind::Scale { .. }, _) => {}
            }
        }
        person.push_str("}\n\n");
        house.push_str("}\n");
        self.out.push_str(&person);
        self.out.push_str(&house);
    }

    // -- expressions --------------------------------------------------------

    fn lit_int(&mut self) -> i64 {
        if self.c.chance(30) {
            self.c.below(200) as i64 - 50
        } else {
            self.c.pick(INTS)
        }
    }

    fn lit(&mut self, t: T) -> String {
        match t {
            T::Int => {
                let v = self.lit_int();
                int_expr(v)
            }
            T::Dec => {
                let v = self.c.pick(DECS);
                let pct = self.c.chance(25);
                let s = dec_raw(v, pct);
                if v < 0 { format!("({s})") } else { s }
            }
            T::Money(p) => {
                let v = self.c.pick(MONEYS);
                let g = self.c.chance(50);
                let s = format!("{}{}", money_raw(v, g), per_suffix(p));
                if v < 0 { format!("({s})") } else { s }
            }
            T::Date => self.c.pick(DATES).to_string(),
            T::Dur(u) => {
                let v = self.c.pick(DURS);
                let s = dur_raw(v, u);
                if v < 0 { format!("({s})") } else { s }
            }
            T::Bool => ["false", "true"][self.c.below(2)].to_string(),
            T::Enum(e) => {
                let v = self.c.pick(variants(e));
                if self.c.chance(30) {
                    format!("{}.{v}", en_name(e))
                } else {
                    v.to_string()
                }
            }
            T::LevelSome => ["low", "high"][self.c.below(2)].to_string(),
        }
    }

    /// How a rule, table or cascade is called here, if it can be.
    fn call_text(&self, s: &Sig, cx: &Ctx) -> Option<String> {
        let arg = match s.rec {
            Rec::Global => None,
            Rec::Person => Some(cx.person.clone()?),
            Rec::House => Some(cx.house.clone()?),
        };
        Some(match arg {
            None => s.name.clone(),
            Some(a) => format!("{}({a})", s.name),
        })
    }

    fn leaf(&mut self, t: T, cx: &Ctx) -> String {
        let mut cands: Vec<Leaf> = vec![Leaf::Lit];
        if let Some(p) = &cx.person {
            for f in PERSON {
                if !f.opt && f.ty == t {
                    cands.push(Leaf::Text(format!("{p}.{}", f.name)));
                }
            }
        }
        if let Some(h) = &cx.house {
            for f in HOUSE {
                if !f.opt && f.ty == t {
                    cands.push(Leaf::Text(format!("{h}.{}", f.name)));
                }
            }
        }
        for (n, lt) in &cx.locals {
            if *lt == t {
                cands.push(Leaf::Text(n.clone()));
            }
        }
        if t == T::Date {
            cands.push(Leaf::Text("as_of".into()));
        }
        if cx.remains == Some(t) {
            cands.push(Leaf::Text("remains".into()));
            cands.push(Leaf::Text("remains".into()));
        }
        for (i, p) in self.params.iter().enumerate() {
            if p.ty == t {
                cands.push(Leaf::Param(i));
            }
        }
        for (i, s) in self.sigs[..cx.callable].iter().enumerate() {
            let ok = match &s.kind {
                Kind::Rule | Kind::Table => s.ty == t,
                Kind::Cascade { .. } => s.ty == t,
                Kind::Scale { .. } => false,
            };
            if ok && self.call_text(s, cx).is_some() {
                cands.push(Leaf::Call(i));
            }
        }
        let k = self.c.below(cands.len());
        match cands.swap_remove(k) {
            Leaf::Lit => self.lit(t),
            Leaf::Text(s) => s,
            Leaf::Param(i) => {
                let e = self.param_ref(i, cx);
                self.maybe_other_date(e)
            }
            Leaf::Call(i) => {
                let s = self.sigs[i].clone();
                let base = self.call_text(&s, cx).unwrap_or_default();
                match &s.kind {
                    Kind::Cascade { parts } => {
                        let mut all = parts.clone();
                        all.push("rest".into());
                        let part = self.c.pick(&all);
                        format!("{base}.{part}")
                    }
                    _ => self.maybe_other_date(base),
                }
            }
        }
    }

    /// `e`, or `e` as of another date.
    fn maybe_other_date(&mut self, e: String) -> String {
        match self.c.weighted(&[16, 2, 2]) {
            1 => format!("prior_year({e})"),
            2 => format!("({e} at {})", self.c.pick(&DATES[..6])),
            _ => e,
        }
    }

    fn param_ref(&mut self, i: usize, cx: &Ctx) -> String {
        let p = self.params[i].clone();
        let region = |g: &mut Self| g.leaf_enum(En::Region, cx);
        let level_some = |g: &mut Self| {
            let locals: Vec<String> = cx
                .locals
                .iter()
                .filter(|(_, t)| *t == T::LevelSome)
                .map(|(n, _)| n.clone())
                .collect();
            if !locals.is_empty() && !g.c.chance(20) {
                g.c.pick(&locals)
            } else {
                g.lit(T::LevelSome)
            }
        };
        match p.keys {
            Keys::None => p.name,
            Keys::Region => format!("{}[{}]", p.name, region(self)),
            Keys::LevelSome => format!("{}[{}]", p.name, level_some(self)),
            Keys::RegionLevel => {
                let r = region(self);
                let l = self.leaf_enum(En::Level, cx);
                format!("{}[{r}, {l}]", p.name)
            }
        }
    }

    fn leaf_enum(&mut self, e: En, cx: &Ctx) -> String {
        self.leaf(T::Enum(e), cx)
    }

    fn expr(&mut self, t: T, cx: &Ctx, d: u32) -> String {
        if d == 0 {
            return self.leaf(t, cx);
        }
        let d1 = d - 1;
        // Productions common to every type.
        const LEAF: usize = 0;
        const IF: usize = 1;
        const LET: usize = 2;
        const MATCH: usize = 3;
        let k = self.c.weighted(&[3, 2, 1, 2, 6]);
        match k {
            LEAF => self.leaf(t, cx),
            IF => {
                let c = self.expr(T::Bool, cx, d1);
                let mut bcx = cx.clone();
                bcx.narrowed |= mentions_enum(&c);
                let a = self.expr(t, &bcx, d1);
                let b = self.expr(t, &bcx, d1);
                format!("(if {c} then {a} else {b})")
            }
            LET => {
                let lt = self.c.pick(&SIMPLE_TYPES[..11]);
                let lt = if matches!(lt, T::Enum(_)) { T::Int } else { lt };
                let v = self.expr(lt, cx, d1);
                let name = self.fresh("v");
                let mut bcx = cx.clone();
                bcx.locals.push((name.clone(), lt));
                let body = self.expr(t, &bcx, d1);
                format!("(let {name} = {v} in {body})")
            }
            MATCH => self.matcher(t, cx, d1),
            _ => self.specific(t, cx, d1),
        }
    }

    fn matcher(&mut self, t: T, cx: &Ctx, d: u32) -> String {
        let kind = self.c.below(3);
        match kind {
            // An enum.
            1 => {
                let e = self.c.pick(&[En::Level, En::Region]);
                let mut scx = cx.clone();
                let scrut = if cx.narrowed {
                    // A rule's value is never narrowed.
                    let calls: Vec<String> = self.sigs[..cx.callable]
                        .iter()
                        .filter(|s| s.ty == T::Enum(e) && !matches!(s.kind, Kind::Scale { .. }))
                        .filter_map(|s| self.call_text(s, cx))
                        .collect();
                    if calls.is_empty() {
                        self.lit(T::Enum(e))
                    } else {
                        self.c.pick(&calls)
                    }
                } else {
                    self.leaf(T::Enum(e), cx)
                };
                let literal = scrut.starts_with("Level.")
                    || scrut.starts_with("Region.")
                    || variants(e).contains(&scrut.as_str());
                if literal {
                    // A variant: its type is that variant alone, so the other
                    // arms could never be chosen. Decide on a boolean.
                    return self.matcher_bool(t, cx, d);
                }
                scx.narrowed |= mentions_enum(&scrut);
                let vs = variants(e);
                // Arms: groups of variants in order; the rest by a binder or `_`.
                let mut arms = Vec::new();
                let mut i = 0;
                let mut covered_none = false;
                while i < vs.len() {
                    let rest = vs.len() - i;
                    if i > 0 && self.c.chance(30) {
                        // The rest at once.
                        let binder = if e == En::Level && covered_none && self.c.chance(60) {
                            let n = self.fresh("l");
                            let mut bcx = scx.clone();
                            bcx.locals.push((n.clone(), T::LevelSome));
                            let v = self.expr(t, &bcx, d);
                            arms.push(format!("{n} => {v}"));
                            true
                        } else {
                            false
                        };
                        if !binder {
                            let v = self.expr(t, &scx, d);
                            arms.push(format!("_ => {v}"));
                        }
                        break;
                    }
                    let take = 1 + self.c.below(rest.min(2));
                    let group = &vs[i..i + take];
                    if group.contains(&"none") {
                        covered_none = true;
                    }
                    let v = self.expr(t, &scx, d);
                    arms.push(format!("{} => {v}", group.join(", ")));
                    i += take;
                }
                format!("(match {scrut} {{ {} }})", arms.join(", "))
            }
            // An optional field.
            2 if cx.person.is_some() || cx.house.is_some() => {
                let mut opts: Vec<(String, T)> = Vec::new();
                if let Some(p) = &cx.person {
                    for f in PERSON.iter().filter(|f| f.opt) {
                        opts.push((format!("{p}.{}", f.name), f.ty));
                    }
                }
                if let Some(h) = &cx.house {
                    for f in HOUSE.iter().filter(|f| f.opt) {
                        opts.push((format!("{h}.{}", f.name), f.ty));
                    }
                }
                let (scrut, ft) = self.c.pick(&opts);
                let a = self.expr(t, cx, d);
                let n = self.fresh("v");
                let mut bcx = cx.clone();
                bcx.locals.push((n.clone(), ft));
                let b = self.expr(t, &bcx, d);
                if self.c.chance(50) {
                    format!("(match {scrut} {{ absent => {a}, {n} => {b} }})")
                } else {
                    format!("(match {scrut} {{\n    {n} => {b}\n    absent => {a}\n  }})")
                }
            }
            _ => self.matcher_bool(t, cx, d),
        }
    }

    fn matcher_bool(&mut self, t: T, cx: &Ctx, d: u32) -> String {
        let c = self.expr(T::Bool, cx, d);
        let mut bcx = cx.clone();
        bcx.narrowed |= mentions_enum(&c);
        let a = self.expr(t, &bcx, d);
        let b = self.expr(t, &bcx, d);
        match self.c.below(3) {
            0 => format!("(match {c} {{ true => {a}, false => {b} }})"),
            1 => format!("(match {c} {{ false => {a}, _ => {b} }})"),
            _ => format!("(match {c} {{ true => {a}, _ => {b} }})"),
        }
    }

    /// `min`, `max`, `clamp`, `abs` of an ordered type.
    fn minmax(&mut self, t: T, cx: &Ctx, d: u32) -> String {
        let k = self.c.below(if t == T::Date { 3 } else { 4 });
        let a = self.expr(t, cx, d);
        match k {
            0 => {
                let b = self.expr(t, cx, d);
                format!("min({a}, {b})")
            }
            1 => {
                let b = self.expr(t, cx, d);
                if self.c.chance(30) {
                    let c = self.expr(t, cx, d);
                    format!("max({a}, {b}, {c})")
                } else {
                    format!("max({a}, {b})")
                }
            }
            2 => {
                let lo = self.expr(t, cx, d);
                let hi = self.expr(t, cx, d);
                // An integer literal as the value with `Int` bounds too.
                format!("clamp({a}, {lo}, {hi})")
            }
            _ => format!("abs({a})"),
        }
    }

    /// An aggregation over the members, if allowed here.
    fn aggregate(&mut self, t: T, cx: &Ctx, d: u32) -> Option<String> {
        if !cx.agg {
            return None;
        }
        let h = cx.house.clone()?;
        let mut mcx = cx.clone();
        mcx.person = Some("m".into());
        mcx.agg = false;
        mcx.remains = None;
        let filter = if self.c.chance(50) {
            let c = self.expr(T::Bool, &mcx, d);
            format!(" where {c}")
        } else {
            String::new()
        };
        let mut kinds: Vec<&str> = Vec::new();
        if t.summable() {
            kinds.push("sum");
        }
        if t == T::Int {
            kinds.push("count");
        }
        if t.ordered() {
            kinds.push("min");
            kinds.push("max");
        }
        if t == T::Bool {
            kinds.push("any");
            kinds.push("all");
        }
        if kinds.is_empty() {
            return None;
        }
        let k = self.c.pick(&kinds);
        if k == "count" {
            return Some(format!("count(m in {h}.members{filter})"));
        }
        let v = self.expr(t, &mcx, d);
        Some(format!("{k}({v} for m in {h}.members{filter})"))
    }

    fn specific(&mut self, t: T, cx: &Ctx, d: u32) -> String {
        // Aggregations and min/max now and then, for every type they fit.
        if self.c.chance(12) {
            if let Some(s) = self.aggregate(t, cx, d) {
                return s;
            }
        }
        if t.ordered() && self.c.chance(12) {
            return self.minmax(t, cx, d);
        }
        match t {
            T::Int => match self.c.below(6) {
                0 => {
                    let op = self.c.pick(&["+", "-", "*"]);
                    let a = self.expr(T::Int, cx, d);
                    let b = self.expr(T::Int, cx, d);
                    format!("({a} {op} {b})")
                }
                1 => {
                    let a = self.expr(T::Int, cx, d);
                    format!("(-{a})")
                }
                2 => {
                    let f = self.c.pick(&["year", "month", "day"]);
                    let a = self.expr(T::Date, cx, d);
                    format!("{f}({a})")
                }
                3 => {
                    let u = self.c.pick(&[Unit::Days, Unit::Months, Unit::Years]);
                    let a = self.expr(T::Dur(u), cx, d);
                    format!("int({a})")
                }
                4 => {
                    let a = self.expr(T::Int, cx, d);
                    let b = self.expr(T::Int, cx, d);
                    format!("({a} * {b} - {b})")
                }
                _ => {
                    let a = self.expr(T::Int, cx, d);
                    let b = self.lit(T::Int);
                    format!("({a} + {b})")
                }
            },
            T::Dec => match self.c.below(8) {
                0 => {
                    let op = self.c.pick(&["+", "-", "*", "/"]);
                    let a = self.expr(T::Dec, cx, d);
                    let b = self.expr(T::Dec, cx, d);
                    format!("({a} {op} {b})")
                }
                1 => {
                    let a = self.expr(T::Int, cx, d);
                    let b = self.expr(T::Int, cx, d);
                    format!("({a} / {b})")
                }
                2 => {
                    let p = self.c.pick(&[Per::Month, Per::Year, Per::Stock]);
                    let a = self.expr(T::Money(p), cx, d);
                    let b = self.expr(T::Money(p), cx, d);
                    format!("({a} / {b})")
                }
                3 => {
                    let u = self.c.pick(&[Unit::Days, Unit::Months, Unit::Years]);
                    let a = self.expr(T::Dur(u), cx, d);
                    let b = self.expr(T::Dur(u), cx, d);
                    format!("({a} / {b})")
                }
                4 => {
                    let a = self.expr(T::Int, cx, d);
                    format!("decimal({a})")
                }
                5 => {
                    let a = self.expr(T::Dec, cx, d);
                    let n = self.c.below(7);
                    format!("round({a}, places: {n})")
                }
                6 => {
                    // A product rounded once to fewer places.
                    let a = self.expr(T::Dec, cx, d);
                    let b = self.expr(T::Dec, cx, d);
                    let n = self.c.below(7);
                    format!("round({a} * {b}, places: {n})")
                }
                _ => {
                    let a = self.expr(T::Dec, cx, d);
                    format!("(-{a})")
                }
            },
            T::Money(p) => self.money(p, cx, d),
            T::Date => match self.c.below(4) {
                0 => {
                    let u = self.c.pick(&[Unit::Days, Unit::Months, Unit::Years]);
                    let op = self.c.pick(&["+", "-"]);
                    let a = self.expr(T::Date, cx, d);
                    let b = self.expr(T::Dur(u), cx, d);
                    format!("({a} {op} {b})")
                }
                1 => {
                    let f = self.c.pick(&["add_days", "add_months", "add_years"]);
                    let a = self.expr(T::Date, cx, d);
                    let b = if self.c.chance(50) {
                        self.expr(T::Int, cx, d)
                    } else {
                        let u = match f {
                            "add_days" => Unit::Days,
                            "add_months" => Unit::Months,
                            _ => Unit::Years,
                        };
                        self.expr(T::Dur(u), cx, d)
                    };
                    format!("{f}({a}, {b})")
                }
                2 => {
                    // Month ends: the last day of a month plus months.
                    let a = self.c.pick(&[
                        "2019-01-31",
                        "2020-02-29",
                        "2019-03-31",
                        "2020-01-31",
                        "2019-08-31",
                        "2000-02-29",
                    ]);
                    let b = self.expr(T::Int, cx, d);
                    format!("add_months({a}, {b})")
                }
                _ => {
                    let a = self.expr(T::Date, cx, d);
                    let b = self.lit(T::Dur(Unit::Months));
                    format!("({a} + {b})")
                }
            },
            T::Dur(u) => match self.c.below(5) {
                0 => {
                    let op = self.c.pick(&["+", "-"]);
                    let a = self.expr(t, cx, d);
                    let b = self.expr(t, cx, d);
                    format!("({a} {op} {b})")
                }
                1 => {
                    let a = self.expr(t, cx, d);
                    let b = self.expr(T::Int, cx, d);
                    format!("({a} * {b})")
                }
                2 => {
                    let a = self.expr(T::Date, cx, d);
                    let b = self.expr(T::Date, cx, d);
                    let f = match u {
                        Unit::Days => {
                            if self.c.chance(50) {
                                return format!("({a} - {b})");
                            }
                            "days_between"
                        }
                        Unit::Months => "months_between",
                        Unit::Years => "years_between",
                    };
                    format!("{f}({a}, {b})")
                }
                3 => {
                    let a = self.expr(t, cx, d);
                    format!("(-{a})")
                }
                _ => {
                    let a = self.expr(T::Date, cx, d);
                    let f = match u {
                        Unit::Days => "days_between",
                        Unit::Months => "months_between",
                        Unit::Years => "years_between",
                    };
                    format!("{f}({a}, as_of)")
                }
            },
            T::Bool => self.boolean(cx, d),
            T::Enum(_) | T::LevelSome => self.leaf(t, cx),
        }
    }

    fn money(&mut self, p: Per, cx: &Ctx, d: u32) -> String {
        let t = T::Money(p);
        // Scales and cascades of this type.
        if self.c.chance(15) {
            let scales: Vec<Sig> = self.sigs[..cx.callable]
                .iter()
                .filter(|s| s.ty == t && matches!(s.kind, Kind::Scale { .. }))
                .cloned()
                .collect();
            if !scales.is_empty() {
                let s = self.c.pick(&scales);
                if let Kind::Scale { amount, extra } = s.kind {
                    let a = self.expr(amount, cx, d);
                    if extra {
                        let b = self.expr(T::Dec, cx, d);
                        return format!("{}({a}, {b})", s.name);
                    }
                    return format!("{}({a})", s.name);
                }
            }
        }
        match self.c.below(12) {
            0 => {
                let op = self.c.pick(&["+", "-"]);
                let a = self.expr(t, cx, d);
                let b = self.expr(t, cx, d);
                format!("({a} {op} {b})")
            }
            1 => {
                let a = self.expr(t, cx, d);
                let b = self.expr(T::Int, cx, d);
                if self.c.chance(50) {
                    format!("({a} * {b})")
                } else {
                    format!("({b} * {a})")
                }
            }
            2 => {
                let a = self.expr(t, cx, d);
                let b = self.expr(T::Dec, cx, d);
                if self.c.chance(50) {
                    format!("({a} * {b})")
                } else {
                    format!("({b} * {a})")
                }
            }
            3 => {
                let a = self.expr(t, cx, d);
                let b = self.expr(T::Int, cx, d);
                format!("({a} / {b})")
            }
            4 => {
                let a = self.expr(t, cx, d);
                let b = self.expr(T::Dec, cx, d);
                format!("({a} / {b})")
            }
            5 => match p {
                Per::Month => {
                    let a = self.expr(T::Money(Per::Year), cx, d);
                    format!("per_month({a})")
                }
                Per::Year => {
                    let a = self.expr(T::Money(Per::Month), cx, d);
                    format!("per_year({a})")
                }
                Per::Stock => {
                    if self.c.chance(50) {
                        let a = self.expr(T::Money(Per::Month), cx, d);
                        let b = self.expr(T::Dur(Unit::Months), cx, d);
                        format!("({a} * {b})")
                    } else {
                        let a = self.expr(T::Money(Per::Year), cx, d);
                        let b = self.expr(T::Dur(Unit::Years), cx, d);
                        format!("({a} * {b})")
                    }
                }
            },
            6 => {
                let a = self.expr(t, cx, d);
                if self.c.chance(40) {
                    format!("round({a})")
                } else {
                    let u = self
                        .c
                        .pick(&["fen", "jiao", "yuan", "ten_yuan", "hundred_yuan"]);
                    format!("round({a}, to: {u})")
                }
            }
            7 => {
                // A product or quotient rounded once (half-fen ties).
                let a = self.expr(t, cx, d);
                let u = self
                    .c
                    .pick(&["fen", "jiao", "yuan", "ten_yuan", "hundred_yuan"]);
                let r = self
                    .c
                    .pick(&[500_000, 91_000, 5_000, 50_000, 1_500_000, 333_333]);
                let r = dec_raw(r, false);
                match self.c.below(4) {
                    0 => format!("round({a} * {r}, to: {u})"),
                    1 => format!("round({a} / 3, to: {u})"),
                    2 => format!("round({a} / {r})"),
                    _ => format!("round(round({a} * {r}), to: {u})"),
                }
            }
            8 => {
                // Exact half fens: odd fen times 0.5, divided by 2.
                let a = self.expr(t, cx, d);
                match self.c.below(3) {
                    0 => format!("({a} * 0.5)"),
                    1 => format!("({a} / 2)"),
                    _ => format!("({a} * 1.5)"),
                }
            }
            9 => {
                let a = self.expr(t, cx, d);
                format!("(-{a})")
            }
            10 => {
                // An amount without a period takes the one its context needs.
                let a = self.expr(t, cx, d);
                let v = self.c.pick(MONEYS);
                let op = self.c.pick(&["+", "-"]);
                format!("({a} {op} {})", money_raw(v.max(0), true))
            }
            _ => self.leaf(t, cx),
        }
    }

    fn boolean(&mut self, cx: &Ctx, d: u32) -> String {
        match self.c.below(11) {
            0 => {
                let t = self.c.pick(&[
                    T::Int,
                    T::Money(Per::Month),
                    T::Date,
                    T::Dec,
                    T::Dur(Unit::Months),
                    T::Money(Per::Year),
                    T::Money(Per::Stock),
                    T::Dur(Unit::Days),
                    T::Dur(Unit::Years),
                    T::Bool,
                ]);
                let a = self.expr(t, cx, d);
                let b = self.expr(t, cx, d);
                let op = if t == T::Bool {
                    self.c.pick(&["==", "!="])
                } else {
                    self.c.pick(&["<", "<=", ">", ">=", "==", "!="])
                };
                format!("({a} {op} {b})")
            }
            1 => {
                // A chained comparison.
                let t = self.c.pick(&[T::Int, T::Date, T::Money(Per::Month)]);
                let a = self.expr(t, cx, d);
                let b = self.expr(t, cx, d);
                let c = self.expr(t, cx, d);
                let o1 = self.c.pick(&["<", "<="]);
                let o2 = self.c.pick(&["<", "<="]);
                format!("({a} {o1} {b} {o2} {c})")
            }
            2 => {
                // An enum compared with a variant, or in a set.
                let e = self.c.pick(&[En::Level, En::Region]);
                let scrut = if cx.narrowed {
                    let calls: Vec<String> = self.sigs[..cx.callable]
                        .iter()
                        .filter(|s| s.ty == T::Enum(e) && !matches!(s.kind, Kind::Scale { .. }))
                        .filter_map(|s| self.call_text(s, cx))
                        .collect();
                    if calls.is_empty() {
                        return self.leaf(T::Bool, cx);
                    }
                    self.c.pick(&calls)
                } else {
                    self.leaf(T::Enum(e), cx)
                };
                let vs = variants(e);
                if self.c.chance(40) {
                    let a = self.c.pick(vs);
                    let b = self.c.pick(vs);
                    if a == b {
                        format!("({scrut} in {{{a}}})")
                    } else {
                        format!("({scrut} in {{{a}, {b}}})")
                    }
                } else {
                    let op = self.c.pick(&["==", "!="]);
                    let v = self.c.pick(vs);
                    format!("({scrut} {op} {v})")
                }
            }
            3 | 4 => {
                let op = self.c.pick(&["and", "or"]);
                let a = self.expr(T::Bool, cx, d);
                let mut bcx = cx.clone();
                bcx.narrowed |= mentions_enum(&a);
                let b = self.expr(T::Bool, &bcx, d);
                format!("({a} {op} {b})")
            }
            5 => {
                let a = self.expr(T::Bool, cx, d);
                format!("(not {a})")
            }
            6 => {
                let a = self.expr(T::Bool, cx, d);
                let b = self.expr(T::Bool, cx, d);
                format!("({a} iff {b})")
            }
            7 => {
                let mut opts: Vec<String> = Vec::new();
                if let Some(p) = &cx.person {
                    for f in PERSON.iter().filter(|f| f.opt) {
                        opts.push(format!("{p}.{}", f.name));
                    }
                }
                if let Some(h) = &cx.house {
                    for f in HOUSE.iter().filter(|f| f.opt) {
                        opts.push(format!("{h}.{}", f.name));
                    }
                }
                if opts.is_empty() {
                    return self.leaf(T::Bool, cx);
                }
                format!("is_set({})", self.c.pick(&opts))
            }
            8 => self
                .aggregate(T::Bool, cx, d)
                .unwrap_or_else(|| "true".into()),
            9 => {
                // Text: the ids, compared with a literal.
                let mut ids: Vec<(String, &str)> = Vec::new();
                if let Some(p) = &cx.person {
                    ids.push((format!("{p}.pid"), "P"));
                }
                if let Some(h) = &cx.house {
                    ids.push((format!("{h}.hid"), "H"));
                }
                if ids.is_empty() {
                    return self.leaf(T::Bool, cx);
                }
                let (id, prefix) = self.c.pick(&ids);
                let op = self.c.pick(&["==", "!="]);
                let n = self.c.below(5);
                format!("({id} {op} \"{prefix}{n}\")")
            }
            _ => self.leaf(T::Bool, cx),
        }
    }
}

// ---------------------------------------------------------------------------
// Records.

/// A record's values in the order of its field list; `None` is absent.
pub type Row = Vec<Option<i64>>;

/// Random records for the schema, and the months to evaluate.
#[derive(Clone)]
pub struct Records {
    /// Per household: its values (in `HOUSE` order) and its members' (in
    /// `PERSON` order); `None` is absent.
    pub houses: Vec<(Row, Vec<Row>)>,
    /// Evaluation dates (first days of months), as days.
    pub months: Vec<i32>,
}

fn value(c: &mut Choices<'_>, f: &FieldDef) -> Option<i64> {
    if f.opt && c.below(3) == 0 {
        return None;
    }
    let wild = c.chance(3);
    Some(match f.ty {
        T::Bool => c.below(2) as i64,
        T::Enum(e) => c.below(variants(e).len()) as i64,
        T::Int => match f.range {
            Some((lo, Some(hi))) => {
                let b = [lo, hi, 18, 60, 16, 59];
                if c.chance(40) {
                    c.pick(&b).clamp(lo, hi)
                } else {
                    lo + c.below((hi - lo + 1) as usize) as i64
                }
            }
            _ => {
                if c.chance(50) {
                    c.pick(INTS)
                } else {
                    c.below(2000) as i64 - 1000
                }
            }
        },
        T::Money(_) => {
            if wild {
                c.pick(&[-1, -100, i64::MIN, -i64::MAX])
            } else {
                match c.below(4) {
                    0 => c.pick(&MONEYS[..18]),
                    1 => c.below(100_000) as i64,
                    2 => c.below(1 << 30) as i64 * 1000 + c.below(1000) as i64,
                    _ => c.pick(&[0, 1, 5, 50, 44_500, 100_000_000_000_000, i64::MAX]),
                }
            }
        }
        T::Dec => {
            if c.chance(50) {
                c.pick(DECS)
            } else {
                c.below(4_000_000) as i64 - 1_000_000
            }
        }
        T::Date => {
            if c.chance(50) {
                date_days(c.pick(DATES))
            } else {
                // A random day, often the last of its month.
                let y = 1900 + c.below(201) as i32;
                let m = 1 + c.below(12) as u32;
                let last = num::days_in_month(y, m);
                let dd = if c.chance(50) {
                    last
                } else {
                    1 + c.below(last as usize) as u32
                };
                i64::from(num::days_from_civil(y, m, dd))
            }
        }
        T::Dur(_) => {
            let lo = f.range.map(|r| r.0).unwrap_or(i64::MIN);
            let v = if c.chance(50) {
                c.pick(DURS)
            } else {
                c.below(600) as i64
            };
            if v < lo && !wild { lo } else { v }
        }
        T::LevelSome => 1,
    })
}

/// `v` moved into what a batch accepts for the field (validation rejects
/// anything else): whole numbers, durations and money not negative,
/// money at most ¥1,000,000,000,000.00, within the declared range. The
/// JIT's proofs rely on exactly this; the edges stay reachable.
fn validated(f: &FieldDef, v: i64) -> i64 {
    let (mut lo, mut hi) = match f.ty {
        T::Int | T::Dur(_) => (0, i64::MAX),
        T::Money(_) => (0, 100_000_000_000_000),
        _ => return v,
    };
    if let Some((l, h)) = f.range {
        lo = lo.max(l);
        hi = hi.min(h.unwrap_or(i64::MAX));
    }
    v.clamp(lo, hi.max(lo))
}

/// Decode random records (1 to 4 households of 0 to 4 members) and 1 to 3
/// months. Most record sets hold only values a batch accepts (as
/// `weft run` and the API give the engines); the others also hold values
/// validation would reject (negative money, 64-bit extremes), which the
/// engines must handle alike too.
pub fn records(data: &[u32]) -> Records {
    let mut c = Choices::new(data);
    let nm = 1 + c.below(3);
    let mut months = Vec::new();
    for _ in 0..nm {
        let m = date_days(c.pick(MONTHS)) as i32;
        if !months.contains(&m) {
            months.push(m);
        }
    }
    let tame = c.chance(60);
    let value = |c: &mut Choices<'_>, f: &FieldDef| {
        let v = value(c, f);
        if tame { v.map(|v| validated(f, v)) } else { v }
    };
    let nh = 1 + c.below(4);
    let mut houses = Vec::new();
    for _ in 0..nh {
        let hv: Vec<Option<i64>> = HOUSE.iter().map(|f| value(&mut c, f)).collect();
        let np = c.weighted(&[1, 3, 3, 2, 1]);
        let ps = (0..np)
            .map(|_| PERSON.iter().map(|f| value(&mut c, f)).collect())
            .collect();
        houses.push((hv, ps));
    }
    Records { houses, months }
}

fn show(f: &FieldDef, v: Option<i64>) -> String {
    let Some(v) = v else {
        return "absent".into();
    };
    match f.ty {
        T::Bool => (v != 0).to_string(),
        T::Enum(e) => variants(e)
            .get(v as usize)
            .map(|s| s.to_string())
            .unwrap_or_else(|| v.to_string()),
        T::Money(p) => format!("{}{}", money_raw(v, true), per_suffix(p)),
        T::Dec => dec_raw(v, false),
        T::Date => num::format_date(v as i32),
        T::Dur(u) => dur_raw(v, u),
        _ => v.to_string(),
    }
}

impl std::fmt::Debug for Records {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let months: Vec<String> = self.months.iter().map(|m| num::format_month(*m)).collect();
        writeln!(f, "as of {}", months.join(", "))?;
        let mut pi = 0;
        for (hi, (hv, ps)) in self.houses.iter().enumerate() {
            let vals: Vec<String> = HOUSE
                .iter()
                .zip(hv)
                .map(|(fd, v)| format!("{}: {}", fd.name, show(fd, *v)))
                .collect();
            writeln!(f, "Household H{hi} {{ {} }}", vals.join(", "))?;
            for p in ps {
                let vals: Vec<String> = PERSON
                    .iter()
                    .zip(p)
                    .map(|(fd, v)| format!("{}: {}", fd.name, show(fd, *v)))
                    .collect();
                writeln!(
                    f,
                    "  Person P{pi} {{ household: H{hi}, {} }}",
                    vals.join(", ")
                )?;
                pi += 1;
            }
        }
        Ok(())
    }
}

/// The chunk of the records for a lowered policy of the schema. Ids are
/// `H0`, `H1`, … and `P0`, `P1`, …
pub fn chunk(ir: &Ir, recs: &Records) -> Option<Chunk> {
    let prog = &ir.hir;
    let (grec, mrec) = ir.hierarchy()?;
    let mut chunk = Chunk {
        tables: prog.records.iter().map(|_| Table::default()).collect(),
    };
    let nh = recs.houses.len();
    let members: Vec<(usize, &Vec<Option<i64>>)> = recs
        .houses
        .iter()
        .enumerate()
        .flat_map(|(g, (_, ps))| ps.iter().map(move |p| (g, p)))
        .collect();
    let np = members.len();
    for (rid, defs, n) in [(grec, HOUSE, nh), (mrec, PERSON, np)] {
        let rec = prog.records.get(rid as usize)?;
        let mut cols = Vec::new();
        for fdef in &rec.fields {
            let col = match &fdef.kind {
                FieldKind::Members { .. } => {
                    let mut off = vec![0i64; nh + 1];
                    for (g, (_, ps)) in recs.houses.iter().enumerate() {
                        off[g + 1] = off[g] + ps.len() as i64;
                    }
                    Column::Members(off)
                }
                FieldKind::Link { .. } => {
                    Column::I64(members.iter().map(|(g, _)| *g as i64).collect())
                }
                FieldKind::Column => {
                    if let Some(i) = defs.iter().position(|d| d.name == fdef.name) {
                        let vals: Vec<Option<i64>> = if rid == grec {
                            recs.houses.iter().map(|(h, _)| h[i]).collect()
                        } else {
                            members.iter().map(|(_, p)| p[i]).collect()
                        };
                        if defs[i].opt {
                            Column::Opt(
                                vals.iter().map(|v| v.unwrap_or(0)).collect(),
                                vals.iter().map(|v| v.is_some()).collect(),
                            )
                        } else {
                            Column::I64(vals.iter().map(|v| v.unwrap_or(0)).collect())
                        }
                    } else {
                        let p = if rid == grec { "H" } else { "P" };
                        Column::Text((0..n).map(|i| format!("{p}{i}")).collect())
                    }
                }
            };
            cols.push(col);
        }
        chunk.tables[rid as usize] = Table { rows: n, cols };
    }
    Some(chunk)
}
