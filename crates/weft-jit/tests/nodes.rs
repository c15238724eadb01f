//! (b) Small hand-written policies that exercise every IR node kind, at the
//! edges (i64 limits, half-fen ties, month ends, empty groups), compared
//! between the interpreter and the JIT on every instance and row.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure is a panic

mod common;

use common::*;
use weft_ir::ErrKind;

const RECORDS: &str = r#"
enum Kind { a b c }

record Household input households {
  household_id: Text key
  kind: Kind
  assets: Money
  members: [Person]
}

record Person input persons {
  person_id: Text key
  household: Household by household_id
  birth: Date
  income: Money per month
  other: Money per month
  yearly: Money per year
  n: Int
  m: Int
  d: Decimal
  flag: Bool
  kind: Kind
  start: Date?
  bonus: Money per month?
  name: Text
}
"#;

const EDGE: [i64; 11] = [0, 1, -1, 2, -2, 5, -5, 3, i64::MAX, i64::MIN, 44_500];
const DEC: [i64; 8] = [
    500_000,
    -500_000,
    1_000_000,
    2_000_000,
    91_000,
    0,
    i64::MAX,
    i64::MIN,
];

fn p(fields: Row<'static>) -> Row<'static> {
    fields
}

/// Outputs naming every rule of `m` (rules of a person, then of a
/// household), so that lowering creates their instances.
fn outputs(m: &str) -> String {
    let mut persons = Vec::new();
    let mut households = Vec::new();
    for line in m.lines() {
        let words: Vec<&str> = line
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .filter(|w| !w.is_empty())
            .collect();
        if let [kw, name, arg, rec, ..] = words.as_slice()
            && matches!(*kw, "rule" | "table")
            && arg.len() == 1
        {
            match *rec {
                "Person" => persons.push(name.to_string()),
                "Household" => households.push(name.to_string()),
                _ => {}
            }
        }
    }
    let mut out = String::from("import records\nimport m\n");
    out.push_str(&format!(
        "output persons(p: Person) {{\n  {}\n}}\n",
        persons.join("\n  ")
    ));
    if !households.is_empty() {
        out.push_str(&format!(
            "output households(h: Household) {{\n  {}\n}}\n",
            households.join("\n  ")
        ));
    }
    out
}

fn run(m: &str, as_of: &str, groups: &[Group<'_>]) -> (weft_ir::Ir, Results) {
    let outs = outputs(m);
    let all = vec![
        ("records.weft", RECORDS),
        ("m.weft", m),
        ("outputs.weft", outs.as_str()),
    ];
    let ir = policy(&all);
    let chunk = grouped_chunk(&ir, "Household", "Person", groups);
    let res = check_policy(&ir, date(as_of) as i32, &chunk);
    (ir, res)
}

fn value(ir: &weft_ir::Ir, res: &Results, rule: &str, row: usize) -> Result<i64, ErrKind> {
    let i = rule_inst(ir, rule);
    res.iter()
        .find(|((x, r), _)| *x == i && *r == row)
        .map(|(_, v)| v.clone().map_err(|e| e.kind))
        .unwrap_or_else(|| panic!("no result for {rule} row {row}"))
}

/// One household per person, the persons built from the cross product of
/// a few fields.
fn people(rows: Vec<Row<'static>>) -> Vec<Group<'static>> {
    rows.into_iter().map(|r| (vec![], vec![r])).collect()
}

#[test]
fn arithmetic_at_the_limits() {
    let m = r#"
import records
rule add(p: Person): Money per month = p.income + p.other
rule sub(p: Person): Money per month = p.income - p.other
rule mul(p: Person): Money per month = p.income * p.n
rule neg(p: Person): Money per month = -p.income
rule absv(p: Person): Money per month = abs(p.income)
rule mr(p: Person): Money per month = p.income * p.d
rule mr_yuan(p: Person): Money per month = round(p.income * p.d, to: yuan)
rule dd(p: Person): Decimal = p.d * p.d
rule div_int(p: Person): Money per month = p.income / p.n
rule div_dec(p: Person): Money per month = p.income / p.d
rule div_yuan(p: Person): Money per month = round(p.income / p.n, to: yuan)
rule int_div(p: Person): Decimal = p.n / p.m
rule ratio(p: Person): Decimal = p.income / p.other
rule round_ten(p: Person): Money per month = round(p.income, to: ten_yuan)
rule dec_places(p: Person): Decimal = round(p.d, places: 2)
rule to_dec(p: Person): Decimal = decimal(p.n)
rule cl(p: Person): Int = clamp(p.n, -2, p.m)
rule mn(p: Person): Int = min(p.n, p.m, 3)
rule mx(p: Person): Int = max(p.n, p.m)
rule pm(p: Person): Money per month = per_month(p.yearly)
rule py(p: Person): Money per year = per_year(p.income)
rule cmp(p: Person): Bool = p.n < p.m and p.n <= p.m or p.n > p.m and p.n >= p.m or p.n == p.m and not (p.n != p.m)
rule lets(p: Person): Int = let x = p.n * 2 in let y = x + p.m in x - y
"#;
    let mut rows = Vec::new();
    for (i, x) in EDGE.iter().enumerate() {
        for (j, y) in EDGE.iter().enumerate() {
            rows.push(p(vec![
                ("income", V::I(*x)),
                ("other", V::I(*y)),
                ("yearly", V::I(x.wrapping_mul(7))),
                ("n", V::I(*y)),
                ("m", V::I(EDGE[(i + j) % EDGE.len()])),
                ("d", V::I(DEC[(i * 3 + j) % DEC.len()])),
            ]));
        }
    }
    // Half-fen and half-yuan ties, both signs.
    for (x, d) in [
        (5, 500_000),
        (-5, 500_000),
        (5, -500_000),
        (44_500, 91_000),
        (-44_500, 91_000),
        (15, 100_000),
        (-15, 100_000),
        (150, 10_000_000),
    ] {
        rows.push(p(vec![
            ("income", V::I(x)),
            ("other", V::I(2)),
            ("n", V::I(2)),
            ("m", V::I(-2)),
            ("d", V::I(d)),
            ("yearly", V::I(x * 6)),
        ]));
    }
    // Products beyond 64 bits whose rounded result fits, and does not.
    for (x, d) in [
        (i64::MAX, 500_000),
        (i64::MIN, 500_000),
        (i64::MAX, 2_000_000),
        (i64::MAX / 3, 2_999_999),
        (i64::MIN, -1_000_000),
        (i64::MIN, 1_000_000),
    ] {
        rows.push(p(vec![
            ("income", V::I(x)),
            ("other", V::I(-1)),
            ("n", V::I(-1)),
            ("m", V::I(3)),
            ("d", V::I(d)),
        ]));
    }
    let (ir, res) = run(m, "2018-08-01", &people(rows.clone()));
    let base = EDGE.len() * EDGE.len();
    // ¥0.05 × 0.5 = 2.5 fen → 3; −2.5 → −3.
    assert_eq!(value(&ir, &res, "mr", base), Ok(3));
    assert_eq!(value(&ir, &res, "mr", base + 1), Ok(-3));
    assert_eq!(value(&ir, &res, "mr", base + 2), Ok(-3));
    assert_eq!(value(&ir, &res, "mr_yuan", base + 3), Ok(4_000));
    assert_eq!(value(&ir, &res, "mr", base + 3), Ok(4_050));
    assert_eq!(value(&ir, &res, "mr", base + 4), Ok(-4_050));
    assert_eq!(value(&ir, &res, "mr_yuan", base + 4), Ok(-4_000));
    // 15 ÷ 2 = 7.5 → 8, −15 ÷ 2 → −8 (div_int with n = 2).
    assert_eq!(value(&ir, &res, "div_int", base + 5), Ok(8));
    assert_eq!(value(&ir, &res, "div_int", base + 6), Ok(-8));
    let big = base + 8;
    assert_eq!(value(&ir, &res, "mr", big), Ok(i64::MAX / 2 + 1));
    assert_eq!(value(&ir, &res, "mr", big + 1), Ok(i64::MIN / 2));
    assert_eq!(value(&ir, &res, "mr", big + 2), Err(ErrKind::Overflow));
    assert_eq!(value(&ir, &res, "mr", big + 4), Err(ErrKind::Overflow));
    assert_eq!(value(&ir, &res, "neg", big + 1), Err(ErrKind::Overflow));
    assert_eq!(value(&ir, &res, "div_int", big + 1), Err(ErrKind::Overflow));
    // Division by zero (n = 0 in the first rows).
    assert_eq!(value(&ir, &res, "div_int", 0), Err(ErrKind::DivisionByZero));
    let errors = res.iter().filter(|(_, r)| r.is_err()).count();
    assert!(errors > 50, "the edges should fail often ({errors})");
}

#[test]
fn dates_at_month_ends() {
    let m = r#"
import records
rule age(p: Person): Years = years_between(p.birth, as_of)
rule months(p: Person): Months = months_between(p.birth, as_of)
rule back(p: Person): Years = years_between(as_of, p.birth)
rule days(p: Person): Days = days_between(p.birth, as_of)
rule plus_months(p: Person): Date = add_months(p.birth, p.n)
rule plus_years(p: Person): Date = add_years(p.birth, p.n)
rule plus_days(p: Person): Date = add_days(p.birth, p.n)
rule plus_lit(p: Person): Date = p.birth + 1 month
rule minus_lit(p: Person): Date = p.birth - 1 year
rule diff(p: Person): Days = as_of - p.birth
rule ymd(p: Person): Int = year(p.birth) * 10000 + month(p.birth) * 100 + day(p.birth)
rule n_years(p: Person): Int = int(years_between(p.birth, as_of))
rule before(p: Person): Bool = p.birth <= as_of < add_months(p.birth, 3)
"#;
    let dates = [
        "2016-01-31",
        "2016-02-29",
        "2015-02-28",
        "2000-02-29",
        "1999-12-31",
        "2018-08-01",
        "2018-07-31",
        "2018-09-01",
        "0001-01-01",
        "9999-12-31",
        "1900-02-28",
        "2017-08-01",
    ];
    // Not i64::MAX or MIN: the interpreter panics on them (see
    // `date_arithmetic_near_i64_limits_is_out_of_range`).
    let ns = [
        1,
        -1,
        12,
        13,
        -25,
        0,
        120_000,
        -120_000,
        1 << 40,
        -(1 << 40),
        2_932_896,
        1 << 50,
    ];
    let mut rows = Vec::new();
    for (i, d) in dates.iter().enumerate() {
        for n in ns.iter().skip(i % 3).step_by(2) {
            rows.push(p(vec![("birth", V::I(date(d))), ("n", V::I(*n))]));
        }
    }
    // Day numbers outside i32 and outside years 1–9999.
    for b in [i64::MAX, i64::MIN, i32::MAX as i64 + 1, -719_163, 2_932_897] {
        rows.push(p(vec![("birth", V::I(b)), ("n", V::I(1))]));
    }
    let (ir, res) = run(m, "2018-08-01", &people(rows));
    // 2016-01-31 + 1 month = 2016-02-29.
    assert_eq!(value(&ir, &res, "plus_lit", 0), Ok(date("2016-02-29")));
    // Born 2016-02-29: 2 full years on 2018-08-01.
    let idx = res
        .iter()
        .filter(|((i, _), _)| *i == rule_inst(&ir, "age"))
        .count();
    assert!(idx > 40);
    let fails = res
        .iter()
        .filter(|(_, r)| matches!(r, Err(e) if e.kind == ErrKind::DateOutOfRange))
        .count();
    assert!(fails > 10, "dates out of range ({fails})");
}

/// The date builtins (generated inline) on day numbers of every era:
/// both arguments read at run time, or one a constant, against the
/// interpreter.
#[test]
fn date_builtins_on_random_day_numbers() {
    use rand::{Rng, SeedableRng};
    let m = r#"
import records
rule other(p: Person): Date = match p.start { absent => as_of  s => s }
rule months(p: Person): Months = months_between(p.birth, other(p))
rule years(p: Person): Years = years_between(other(p), p.birth)
rule age(p: Person): Years = years_between(p.birth, as_of)
rule ago(p: Person): Months = months_between(as_of, p.birth)
rule ymd(p: Person): Int = year(p.birth) * 10000 + month(p.birth) * 100 + day(p.birth)
"#;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let day = |rng: &mut rand_chacha::ChaCha8Rng| -> i64 {
        match rng.gen_range(0..10) {
            0 => rng.gen_range(i32::MIN as i64..=i32::MAX as i64),
            1 => *[
                i32::MIN as i64,
                i32::MAX as i64,
                i32::MAX as i64 + 1,
                i32::MIN as i64 - 1,
                -719_468,
                -719_469,
                -719_162,
                2_932_896,
                0,
                -1,
            ]
            .get(rng.gen_range(0..10))
            .unwrap_or(&0),
            _ => rng.gen_range(-800_000..3_000_000),
        }
    };
    let mut rows = Vec::new();
    for _ in 0..400 {
        let b = day(&mut rng);
        let s = day(&mut rng);
        let start = if rng.gen_range(0..4) == 0 {
            V::Absent
        } else {
            V::I(s)
        };
        rows.push(p(vec![("birth", V::I(b)), ("start", start)]));
    }
    // Month ends and 29 February against each other.
    for a in [
        "2016-02-29",
        "2015-02-28",
        "2016-01-31",
        "2000-02-29",
        "1900-02-28",
    ] {
        for b in [
            "2017-02-28",
            "2016-02-29",
            "2018-03-31",
            "2019-02-28",
            "2100-02-28",
        ] {
            rows.push(p(vec![("birth", V::I(date(a))), ("start", V::I(date(b)))]));
            rows.push(p(vec![("birth", V::I(date(b))), ("start", V::I(date(a)))]));
        }
    }
    for as_of in ["2018-08-01", "2016-02-29", "2019-12-31"] {
        let (ir, res) = run(m, as_of, &people(rows.clone()));
        let fails = res
            .iter()
            .filter(|(_, r)| matches!(r, Err(e) if e.kind == ErrKind::DateOutOfRange))
            .count();
        assert!(fails > 10, "dates out of range ({fails})");
        assert!(value(&ir, &res, "age", 0).is_ok() || value(&ir, &res, "age", 1).is_ok());
    }
}

#[test]
fn tables_of_every_hit_policy() {
    let m = r#"
import records
rule neg(p: Person): Bool = p.n < 0
rule small(p: Person): Bool = p.n < 10
rule big(p: Person): Bool = p.n >= 5

table t_first(p: Person): Int
  hit first
  | neg(p) => 1
  | small(p) => p.n * p.m
  | otherwise => 3
table t_first_no_otherwise(p: Person): Int
  hit first
  | p.n < p.m => 1
  | from 2019-01-01: small(p) => 2
  | p.n + 0 > 3 => 3
table t_unique(p: Person): Int
  hit unique
  | p.n < p.m => 1
  | p.n + 0 >= 10 => 2
  | p.n * 1 < 5 => p.n * p.m
table t_sum(p: Person): Int
  hit sum
  | p.flag => p.n
  | small(p) => 10
  | big(p) => p.m
table t_sum_otherwise(p: Person): Money per month
  hit sum
  | p.flag => p.income
  | otherwise => ¥1
table t_max(p: Person): Int
  hit max
  | p.flag => p.n
  | p.n < p.m => p.m
table t_min(p: Person): Decimal
  hit min
  | p.flag => p.d
  | big(p) => 0.5
  | otherwise => 2
table t_given(p: Person): Int
  hit first
  given p.kind, p.n
  | a | [0, 10) => 1
  | b, c | >= 10 => 2
  | - | - => 3
table t_kind(p: Person): Kind
  hit unique
  given p.kind
  | a => b
  | b => c
  | c => a
"#;
    let mut rows = Vec::new();
    for (i, n) in EDGE.iter().chain([7, 10, 12].iter()).enumerate() {
        for (j, mm) in [0i64, 1, 3, i64::MAX].iter().enumerate() {
            rows.push(p(vec![
                ("n", V::I(*n)),
                ("m", V::I(*mm)),
                ("flag", V::I(((i + j) % 2) as i64)),
                ("kind", V::I(((i + j) % 3) as i64)),
                ("income", V::I(EDGE[(i * 7 + j) % EDGE.len()])),
                ("d", V::I(DEC[(i + j) % DEC.len()])),
            ]));
        }
    }
    // Enum values outside the enum (data that escaped validation).
    rows.push(p(vec![("kind", V::I(3)), ("n", V::I(1))]));
    rows.push(p(vec![("kind", V::I(-1)), ("n", V::I(1))]));
    rows.push(p(vec![("kind", V::I(64)), ("n", V::I(1))]));
    let (_ir, res) = run(m, "2018-08-01", &people(rows));
    for k in [ErrKind::NoRow, ErrKind::AmbiguousRow, ErrKind::Overflow] {
        assert!(
            res.iter().any(|(_, r)| matches!(r, Err(e) if e.kind == k)),
            "no {k:?}"
        );
    }
}

#[test]
fn exceptions_with_priorities_and_a_conflict() {
    let m = r#"
import records
rule is_flag(p: Person): Bool = p.flag
rule pos(p: Person): Bool = p.n > 0
rule many(p: Person): Bool = p.n > 5
rule base(p: Person): Int = 1
exception flagged for base(p) when is_flag(p) = 2
exception positive for base(p) when pos(p) = 3
exception lots for base(p) over positive when many(p) = 4
exception tiny for base(p) over lots, flagged when p.n == 7 = 5
rule guarded(p: Person): Money per month = p.income / p.n
exception zero for guarded(p) when p.n == 0 = ¥0
"#;
    let mut rows = Vec::new();
    for n in [-1i64, 0, 1, 5, 6, 7, 8] {
        for f in [0, 1] {
            rows.push(p(vec![
                ("n", V::I(n)),
                ("flag", V::I(f)),
                ("income", V::I(1000)),
            ]));
        }
    }
    let (ir, res) = run(m, "2018-08-01", &people(rows));
    let conflict = res
        .iter()
        .find(|(_, r)| matches!(r, Err(e) if e.kind == ErrKind::ExceptionConflict));
    let Some((_, Err(e))) = conflict else {
        panic!("no conflict")
    };
    assert!(e.detail.contains("base"), "{}", e.detail);
    assert_eq!(value(&ir, &res, "guarded", 2), Ok(0));
}

#[test]
fn cascades_scales_and_bands() {
    let m = r#"
import records
param rate: Decimal
  from 2017-01-01 = 0.2
  from 2018-01-01 = 0.25
param bands1: Bands of Money per month
  from 2017-01-01 = [¥0..¥100: 10%, ¥100..¥1,000: 20%, ¥1,000..: 50%]
  from 2018-06-01 = [¥0..¥200: 15%, ¥200..: 35%]

cascade pay(p: Person): Money per month
  on p.income
  | first pays min(remains, ¥100)
  | second pays remains * p.d
  | third pays remains - ¥10
  remainder left

rule c_first(p: Person): Money per month = pay(p).first
rule c_second(p: Person): Money per month = pay(p).second
rule c_third(p: Person): Money per month = pay(p).third
rule c_left(p: Person): Money per month = pay(p).left

scale by_param(x: Money per month, bonus: Decimal): Money per month
  marginal
  round each band
  adjust rate + bonus
  bands bands1
scale by_param_total(x: Money per month): Money per month
  marginal
  round total
  bands bands1
scale inline(x: Money per month, r: Decimal): Money per month
  marginal
  round each band
  | ¥0 .. ¥0.01 => 50%
  | ¥0.01 .. ¥0.02 => r
  | ¥0.02 .. => 50%
scale inline_total(x: Money per month, r: Decimal): Money per month
  marginal
  round total
  | ¥0 .. ¥0.01 => 50%
  | ¥0.01 .. ¥0.02 => r
  | ¥0.02 .. => 50%
scale steps(x: Int): Int
  flat
  | 0 .. 10 => 1
  | 10 .. 20 => 2
  | 20 .. => 3

rule s1(p: Person): Money per month = by_param(p.income, p.d)
rule s2(p: Person): Money per month = by_param_total(p.income)
rule s3(p: Person): Money per month = inline(p.income, p.d)
rule s4(p: Person): Money per month = inline_total(p.income, rate)
rule s5(p: Person): Int = steps(p.n)
rule s6(p: Person): Money per month = prior_year(by_param(p.income, rate))

assert bands_shape on bands1
  : bands_start(bands1) == ¥0 and bands_contiguous(bands1)
    and 0 <= min_rate(bands1) and max_rate(bands1) <= 1
assert rate_share on rate
  : rate <= max_rate(bands1)
"#;
    let mut rows = Vec::new();
    for (i, x) in [
        0i64,
        1,
        2,
        3,
        150,
        10_000,
        12_345,
        99_999,
        100_000,
        250_000,
        -5,
        i64::MAX,
        i64::MIN,
    ]
    .iter()
    .enumerate()
    {
        for d in [500_000i64, 0, -2_000_000, 1_000_000, i64::MAX] {
            rows.push(p(vec![
                ("income", V::I(*x)),
                ("d", V::I(d)),
                ("n", V::I(EDGE[i % EDGE.len()] % 30)),
            ]));
        }
    }
    // Three bands, the last two bounded.
    run(m, "2018-03-01", &people(rows.clone()));
    let (ir, res) = run(m, "2018-08-01", &people(rows));
    // 3 fen in three bands of 50%: per band 1 + 1 + 1 = 3; once: 1.5 → 2.
    let row = 3 * 5;
    assert_eq!(value(&ir, &res, "s3", row), Ok(3));
    assert_eq!(value(&ir, &res, "s4", row), Ok(1));
    assert!(
        res.iter()
            .any(|(_, r)| matches!(r, Err(e) if e.kind == ErrKind::NoBand))
    );
}

#[test]
fn aggregations_over_members() {
    let m = r#"
import records
rule h_sum(h: Household): Money per month = sum(m.income for m in h.members)
rule h_count(h: Household): Int = count(m in h.members where m.flag)
rule h_size(h: Household): Int = count(m in h.members)
rule h_any(h: Household): Bool = any(m.n > 5 for m in h.members)
rule h_any_err(h: Household): Bool = any(m.income / m.n > ¥1 for m in h.members)
rule h_all(h: Household): Bool = all(m.flag for m in h.members where m.n > 0)
rule h_all_err(h: Household): Bool = all(m.income / m.n > ¥1 for m in h.members)
rule h_min(h: Household): Int = min(m.n for m in h.members)
rule h_max(h: Household): Int = max(m.n for m in h.members where m.flag)
rule h_min_money(h: Household): Money per month = min(m.income for m in h.members where m.n != 0)
rule h_nested(h: Household): Int = sum(count(o in h.members where o.n < m.n) for m in h.members)
rule share(p: Person): Money per month = h_sum(p.household) / h_size(p.household)
rule rank(p: Person): Int = count(o in p.household.members where o.n < p.n)
"#;
    let mut groups = Vec::new();
    groups.push((vec![], vec![]));
    for size in 1..=4usize {
        for k in 0..6usize {
            let ms = (0..size)
                .map(|j| {
                    let e = EDGE[(k * 5 + j * 3) % EDGE.len()];
                    p(vec![
                        ("n", V::I(if k == 5 { i64::MAX } else { e % 9 })),
                        ("flag", V::I(((j + k) % 2) as i64)),
                        ("income", V::I(if k == 4 { i64::MAX } else { e })),
                    ])
                })
                .collect();
            groups.push((vec![], ms));
        }
    }
    groups.push((vec![], vec![]));
    let (ir, res) = run(m, "2018-08-01", &groups);
    assert_eq!(value(&ir, &res, "h_min", 0), Err(ErrKind::Empty));
    assert_eq!(value(&ir, &res, "h_sum", 0), Ok(0));
    assert_eq!(value(&ir, &res, "h_any", 0), Ok(0));
    assert_eq!(value(&ir, &res, "h_all", 0), Ok(1));
    assert!(
        res.iter()
            .any(|(_, r)| matches!(r, Err(e) if e.kind == ErrKind::Overflow))
    );
    assert!(
        res.iter()
            .any(|(_, r)| matches!(r, Err(e) if e.kind == ErrKind::DivisionByZero))
    );
}

#[test]
fn optional_fields_text_matches_and_links() {
    let m = r#"
import records
rule has_start(p: Person): Bool = is_set(p.start)
rule started(p: Person): Date = match p.start { absent => as_of  s => s }
rule running(p: Person): Bool = match p.start { absent => false  s => s <= as_of < add_months(s, p.n) }
rule bonus_or(p: Person): Money per month = match p.bonus { absent => ¥0  b => b * 2 }
rule bonus_any(p: Person): Money per month = match p.bonus { _ => ¥5 }
rule named_bob(p: Person): Bool = p.name == "bob"
rule not_bob(p: Person): Bool = p.name != "bob"
rule same_as_home(p: Person): Bool = p.name == p.household.household_id
rule by_kind(p: Person): Int = match p.kind { a => 1  b, c => p.n * 2 }
rule by_kind_bind(p: Person): Int = match p.kind { a => 0  k => match k { b => 1  c => 2 } }
rule by_flag(p: Person): Int = match p.flag { true => 1  false => 2 }
rule home_kind(p: Person): Int = match p.household.kind { a => 10  b => 20  c => p.n * 3 }
rule assets(p: Person): Money = p.household.assets
"#;
    let mut groups = Vec::new();
    for (k, name) in ["bob", "alice", "", "H1", "bob "].iter().enumerate() {
        let ms = (0..3)
            .map(|j| {
                let mut f = vec![
                    (
                        "name",
                        V::T(if j == 0 {
                            name.to_string()
                        } else {
                            format!("H{k}")
                        }),
                    ),
                    ("kind", V::I(((k + j) % 3) as i64)),
                    ("n", V::I([0, 3, -1, 40, 1 << 50][k])),
                    (
                        "start",
                        if (k + j) % 2 == 0 {
                            V::I(date("2018-06-30") + j as i64 * 40)
                        } else {
                            V::Absent
                        },
                    ),
                ];
                if j != 1 {
                    f.push(("bonus", V::I(EDGE[(k + j) % EDGE.len()])));
                }
                p(f)
            })
            .collect();
        groups.push((
            vec![
                ("household_id", V::T(format!("H{k}"))),
                ("kind", V::I((k % 3) as i64)),
                ("assets", V::I(EDGE[k * 2])),
            ],
            ms,
        ));
    }
    let (ir, res) = run(m, "2018-08-01", &groups);
    assert_eq!(value(&ir, &res, "named_bob", 0), Ok(1));
    assert_eq!(value(&ir, &res, "not_bob", 12), Ok(1));
    assert_eq!(value(&ir, &res, "same_as_home", 10), Ok(1));
}

#[test]
fn parameters_prior_year_and_dated_versions() {
    let m = r#"
import records
param standard[Kind]: Money per month
  from 2016-01-01 = { a: ¥100, b: ¥200, c: ¥300 }
  from 2017-07-01 = { a: ¥110, b: ¥220, c: ¥330 }
  from 2018-07-01 = { a: ¥121, b: ¥242, c: ¥363 }
param partial[Kind except c]: Decimal
  from 2016-01-01 = { a: 0.5, b: 1.5 }
param grid[Kind, Kind except a]: Int
  from 2016-01-01 = { a: { b: 1, c: 2 }, b: { b: 3, c: 4 }, c: { b: 5, c: 6 } }
param limit: Money
  from 2016-01-01 = ¥1,000
param flat[Kind]: Int
  from 2016-01-01 = { a: 7, b: 7, c: 7 }
series cpi: Decimal
  2018-08 = 0.031
  2017-12 = 0.02

rule std(p: Person): Money per month = standard[p.kind]
rule std_last_year(p: Person): Money per month = prior_year(standard[p.kind])
rule std_two_back(p: Person): Money per month = prior_year(prior_year(standard[p.kind]))
rule std_fixed(p: Person): Money per month = standard[p.kind] at 2017-01-01
rule part(p: Person): Decimal = match p.kind { c => 0  k => partial[k] }
rule cell(p: Person): Int = match p.household.kind { a => 0  k => grid[p.kind, k] }
rule versioned(p: Person): Int = 1
  from 2018-01-01 = 2
rule versioned_prior(p: Person): Int = prior_year(versioned(p))
rule global_limit: Money = limit
rule over_limit(p: Person): Bool = p.household.assets > global_limit
rule inflation: Decimal = cpi
rule when_(p: Person): Date = prior_year(as_of)
rule flat_(p: Person): Int = flat[p.kind]
"#;
    let mut groups = Vec::new();
    for k in 0..5i64 {
        let ms = (0..3)
            .map(|j| {
                p(vec![(
                    "kind",
                    // Keys outside the enum (5, −1): `no_band` in a
                    // table lookup and in a constant one (`flat`).
                    V::I(match (k, j) {
                        (4, 2) => 5,
                        (3, 1) => -1,
                        _ => (k + j) % 3,
                    }),
                )])
            })
            .collect();
        groups.push((
            vec![("kind", V::I(k % 3)), ("assets", V::I(k * 40_000))],
            ms,
        ));
    }
    let (ir, res) = run(m, "2018-08-01", &groups);
    assert_eq!(value(&ir, &res, "std", 0), Ok(12_100));
    assert_eq!(value(&ir, &res, "std_last_year", 0), Ok(11_000));
    assert_eq!(value(&ir, &res, "std_two_back", 0), Ok(10_000));
    assert_eq!(value(&ir, &res, "versioned_prior", 0), Ok(1));
    assert_eq!(value(&ir, &res, "versioned", 0), Ok(2));
    assert_eq!(value(&ir, &res, "flat_", 0), Ok(7));
    assert!(
        res.iter()
            .any(|(_, r)| matches!(r, Err(e) if e.kind == ErrKind::NoBand))
    );
}

/// `num::add_days` and `num::add_months` add in i64 without a check, so the
/// interpreter panics (overflow) on a day or month count near the i64
/// limits. The JIT reports those dates as out of range: compared here with
/// what the interpreter would say if the sum were checked.
#[test]
fn date_arithmetic_near_i64_limits_is_out_of_range() {
    let m = r#"
import records
rule plus_months(p: Person): Date = add_months(p.birth, p.n)
rule plus_days(p: Person): Date = add_days(p.birth, p.n)
"#;
    let outs = outputs(m);
    let ir = policy(&[
        ("records.weft", RECORDS),
        ("m.weft", m),
        ("outputs.weft", outs.as_str()),
    ]);
    let rows: Vec<_> = [i64::MAX, i64::MIN, i64::MAX - 100, i64::MIN + 100]
        .iter()
        .map(|n| p(vec![("birth", V::I(date("2018-01-31"))), ("n", V::I(*n))]))
        .collect();
    let chunk = grouped_chunk(&ir, "Household", "Person", &people(rows));
    let (roots, pairs) = all_pairs(&ir, &chunk);
    let bound = bind_roots(&ir, date("2018-08-01") as i32, &roots);
    let jit = weft_jit::JitProgram::compile(&ir, &bound).unwrap();
    for r in jit.eval_insts(&ir, &bound, &chunk, &pairs) {
        let e = r.unwrap_err();
        assert_eq!(e.kind, ErrKind::DateOutOfRange);
        assert_eq!(
            e.detail,
            weft_interp::default_detail(ErrKind::DateOutOfRange)
        );
    }
}

/// Chunks that escaped validation (links to no row, missing columns,
/// columns of the wrong kind, short member offsets): both engines report
/// the same internal errors.
#[test]
fn malformed_chunks_fail_the_same_way() {
    use weft_ir::data::Column;
    let m = r#"
import records
rule home_kind(p: Person): Kind = p.household.kind
rule home_assets(p: Person): Money = p.household.assets
rule size(h: Household): Int = count(m in h.members)
rule total(h: Household): Money per month = sum(m.income for m in h.members)
rule first_size(p: Person): Int = size(p.household)
rule has_start(p: Person): Bool = is_set(p.start)
rule named(p: Person): Bool = p.name == "x"
rule home_named(p: Person): Bool = p.household.household_id == p.name
rule started(p: Person): Date = match p.start { absent => as_of  s => s }
"#;
    let outs = outputs(m);
    let ir = policy(&[
        ("records.weft", RECORDS),
        ("m.weft", m),
        ("outputs.weft", outs.as_str()),
    ]);
    let groups: Vec<Group<'static>> = (0..4)
        .map(|g| {
            (
                vec![
                    ("household_id", V::T(format!("H{g}"))),
                    ("kind", V::I(g % 3)),
                ],
                (0..2)
                    .map(|j| {
                        p(vec![
                            ("income", V::I(100 * (g + j))),
                            (
                                "name",
                                V::T(if j == 0 { "x".into() } else { format!("H{g}") }),
                            ),
                            ("start", if j == 0 { V::I(17_000) } else { V::Absent }),
                        ])
                    })
                    .collect(),
            )
        })
        .collect();
    let base = grouped_chunk(&ir, "Household", "Person", &groups);
    let hh = ir.hir.record_by_name("Household").unwrap().index();
    let pp = ir.hir.record_by_name("Person").unwrap().index();
    let field = |rec: usize, name: &str| {
        ir.hir.records.as_slice()[rec]
            .field(name)
            .unwrap()
            .0
            .index()
    };
    let mut variants: Vec<(&str, weft_ir::data::Chunk)> = Vec::new();
    let mut c = base.clone();
    if let Column::I64(v) = &mut c.tables[pp].cols[field(pp, "household")] {
        v[0] = -1;
        v[3] = 99;
    }
    variants.push(("bad links", c));
    let mut c = base.clone();
    c.tables[hh].cols[field(hh, "kind")] = Column::Absent;
    c.tables[pp].cols[field(pp, "start")] = Column::I64(vec![5; 8]);
    c.tables[pp].cols[field(pp, "name")] = Column::I64(vec![5; 8]);
    variants.push(("absent and wrong columns", c));
    let mut c = base.clone();
    c.tables[hh].cols[field(hh, "members")] = Column::Members(vec![0, 2, 4]);
    c.tables[pp].cols[field(pp, "income")] = Column::I64(vec![1; 3]);
    c.tables[pp].cols[field(pp, "start")] = Column::Opt(vec![1; 3], vec![true; 3]);
    variants.push(("short columns", c));
    let mut c = base.clone();
    c.tables[hh].cols[field(hh, "members")] = Column::I64(vec![0; 4]);
    c.tables[hh].cols[field(hh, "household_id")] = Column::Absent;
    c.tables.truncate(1);
    variants.push(("members not loaded, a table missing", c));
    for (what, chunk) in &variants {
        let (roots, _) = all_pairs(&ir, &base);
        let bound = bind_roots(&ir, date("2018-08-01") as i32, &roots);
        let pairs = reachable_pairs(&ir, &base, &roots);
        let jit = jit_engine(&ir, &bound);
        assert_agree(&jit, &ir, &bound, chunk, &pairs, what);
        assert_agree_each(&jit, &ir, &bound, chunk, &pairs, what);
        // Whole chunks: through the group driver (the output plan) and
        // through the generic loop (another plan).
        let plan = output_plan(&ir);
        let mut reversed = plan.clone();
        if let Some((_, cols)) = &mut reversed.member {
            cols.reverse();
        }
        reversed.group.1.reverse();
        for plan in [&plan, &reversed] {
            let a = weft_interp::batch::eval_chunk(&ir, &bound, chunk, plan);
            let b = jit.program().eval_chunk(&ir, &bound, chunk, plan);
            assert_same_chunk_result(&ir, chunk, plan, &a, &b, what);
            assert!(a.errors.iter().any(|e| e.is_some()), "{what}: no error");
        }
        let internal = interp(&ir, &bound, chunk, &pairs)
            .into_iter()
            .filter(|r| matches!(r, Err(e) if e.detail.starts_with("internal error")))
            .count();
        assert!(internal > 0, "{what}: no internal error");
    }
}

/// An expression nested deeper than the code generator follows is a
/// plain error naming the rule, never a crash.
#[test]
fn too_deep_an_expression_is_an_error() {
    let m = "import records\nrule deep(p: Person): Int = -p.n\n";
    let outs = outputs(m);
    let mut ir = policy(&[
        ("records.weft", RECORDS),
        ("m.weft", m),
        ("outputs.weft", outs.as_str()),
    ]);
    let inst = rule_inst(&ir, "deep");
    let (_, body) = ir.instances[inst as usize].versions[0];
    let mut top = body;
    for _ in 0..30_000 {
        ir.nodes.push(weft_ir::Node::Not(top));
        top = (ir.nodes.len() - 1) as u32;
    }
    ir.instances[inst as usize].versions[0].1 = top;
    let bound = bind_roots(&ir, date("2018-08-01") as i32, &[inst]);
    let err = weft_jit::JitProgram::compile(&ir, &bound).unwrap_err();
    assert!(matches!(err, weft_jit::JitError::TooDeep { .. }), "{err:?}");
    assert!(err.to_string().contains("`deep`"), "{err}");
}

/// A cycle of calls (which the checker rejects, made here in the IR): both
/// engines report "a rule depends on itself" for the same instance and
/// row, whichever instance is entered first, through the memo of every
/// instance on the cycle — and instances off the cycle that call into it
/// agree too.
#[test]
fn a_cycle_of_calls_fails_the_same_way() {
    let m = r#"
import records
rule a(p: Person): Int = b(p) + 1
rule b(p: Person): Int = c(p) * 2
rule c(p: Person): Int = p.n
rule top(p: Person): Int = a(p) + c(p)
rule via_home(h: Household): Int = sum(top(m) for m in h.members)
"#;
    let outs = outputs(m);
    let mut ir = policy(&[
        ("records.weft", RECORDS),
        ("m.weft", m),
        ("outputs.weft", outs.as_str()),
    ]);
    // c(p) = a(p) + p.n: a → b → c → a.
    let (a, c) = (rule_inst(&ir, "a"), rule_inst(&ir, "c"));
    let (_, body) = ir.instances[c as usize].versions[0];
    ir.nodes.push(weft_ir::Node::Local(0));
    let row = (ir.nodes.len() - 1) as u32;
    ir.nodes.push(weft_ir::Node::Call {
        inst: a,
        rec: Some(row),
    });
    let call = (ir.nodes.len() - 1) as u32;
    ir.nodes
        .push(weft_ir::Node::Arith(weft_ir::ArithOp::Add, call, body));
    ir.instances[c as usize].versions[0].1 = (ir.nodes.len() - 1) as u32;
    let groups = people((0..3).map(|n| p(vec![("n", V::I(n))])).collect());
    let chunk = grouped_chunk(&ir, "Household", "Person", &groups);
    let res = check_policy(&ir, date("2018-08-01") as i32, &chunk);
    let cycles = res
        .iter()
        .filter(|(_, r)| matches!(r, Err(e) if e.detail.contains("depends on itself")))
        .count();
    assert!(cycles > 0, "no cycle found");
}
