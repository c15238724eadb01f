//! Parsing and checking a generated policy of about 5,000 lines in the
//! style of the Jilin pack: enums and records, keyed parameters with dated
//! versions (inline and in a TOML file), rules with doc comments and
//! citations, decision tables, exceptions, a marginal scale, cascades,
//! assertions and tests, spread over several modules.
//!
//! Then broken policies of 120,000 lines, checked and their diagnostics
//! rendered as `weft check` does: the same policy with the rules of 222
//! modules in one file and three rules in four broken (a bracket not
//! closed, a text without its closing quote, a misspelt name), and a file
//! whose every line is an item with a bracket not closed.
//!
//! `cargo bench -p weft-check --bench parse_check`

use criterion::{Criterion, criterion_group, criterion_main};
use std::fmt::Write;
use weft_check::pack::{PackSources, compile_sources};

const REGIONS: &[&str] = &[
    "changchun",
    "jilin",
    "siping",
    "liaoyuan",
    "tonghua",
    "baishan",
    "songyuan",
    "baicheng",
    "yanbian",
    "changbaishan",
];

fn records() -> String {
    let mut s = String::from("// Records and enums.\n\n/// 地区\nenum Region \"地区\" {\n");
    for r in REGIONS {
        let _ = writeln!(s, "  {r} \"{r}\"");
    }
    s.push_str(
        "}\n\nenum Residence \"城乡\" {\n  urban \"城镇\"\n  rural \"农村\"\n}\n\n\
         enum SelfCare \"生活自理能力\" {\n  full \"完全自理\"\n  partial \"部分失能\"\n  none \"完全失能\"\n}\n\n\
         enum Level \"医院等级\" {\n  none \"未就医\"\n  primary \"一级\"\n  secondary \"二级\"\n  tertiary \"三级\"\n}\n\n\
         /// 家庭\nrecord Household \"家庭\" input households {\n  household_id: Text key\n  region: Region\n  residence: Residence\n  \
         financial_assets: Money\n  owns_vehicle: Bool\n  members: [Person]\n}\n\n\
         /// 个人\nrecord Person \"个人\" input persons {\n  person_id: Text key\n  household: Household by household_id\n  \
         birth_date: Date\n  disability_grade: Int in 0..=4\n  self_care: SelfCare\n  serious_illness: Bool\n  \
         monthly_income: Money per month\n  rigid_expense: Money per month\n  capable_supporter: Bool\n  \
         hospital_level: Level\n  medical_expense: Money per year\n  employment_start: Date?\n  \
         check birth_date <= as_of\n    on birth_date \"born after the evaluation date\" exclude\n}\n\n\
         defaults Person {\n  disability_grade: 0,\n  self_care: full,\n  serious_illness: false,\n  monthly_income: ¥0,\n  \
         rigid_expense: ¥0,\n  capable_supporter: true,\n  hospital_level: none,\n  medical_expense: ¥0,\n}\n\n\
         defaults Household {\n  region: changchun,\n  residence: urban,\n  financial_assets: ¥0,\n  owns_vehicle: false,\n}\n\n\
         rule age(p: Person): Years = years_between(p.birth_date, as_of)\n\
         rule household_size(h: Household): Int = count(m in h.members)\n",
    );
    s
}

fn params(n: usize) -> (String, String) {
    let mut weft = String::from("// Parameters.\n\nimport records\n\n");
    let mut toml = String::from("# Parameter values.\n\n");
    for i in 0..n {
        let _ = write!(
            weft,
            "/// Standard {i} by region, per month.\nparam standard_{i}[Region]: Money per month\n  source \"notice {i}\"\n"
        );
        for (y, base) in [(2016, 400), (2017, 450), (2018, 500)] {
            let _ = write!(weft, "  from {y}-01-01 = {{ ");
            let vals: Vec<String> = REGIONS
                .iter()
                .enumerate()
                .map(|(k, r)| format!("{r}: ¥{}", base + 10 * k + i))
                .collect();
            let _ = writeln!(weft, "{} }}", vals.join(", "));
        }
        let _ = writeln!(
            weft,
            "\n/// Ratio {i}.\nparam ratio_{i}: Decimal\n\n/// Deductible {i}.\nparam deductible_{i}[Level except none]: Money per year\n"
        );
        let _ = write!(
            toml,
            "[ratio_{i}]\nsource = \"illustrative\"\n\n[[ratio_{i}.version]]\neffective = 2016-01-01\nvalue = 0.{:02}\n\n[[ratio_{i}.version]]\neffective = 2018-07-01\nvalue = \"{}%\"\n\n\
             [deductible_{i}]\n[[deductible_{i}.version]]\neffective = 2016-01-01\nprimary = {}\nsecondary = {}\ntertiary = {}\n\n",
            10 + i % 80,
            20 + i % 70,
            200 + i,
            500 + i,
            1000 + i
        );
    }
    weft.push_str("param bands: Bands of Money per year\n  from 2016-01-01 = [¥0..¥50,000: 50%, ¥50,000..¥100,000: 60%, ¥100,000..: 70%]\n\n");
    weft.push_str("assert standard_0_floor on standard_0\n  every r: Region\n  : standard_0[r] >= ¥100 per month\n");
    (weft, toml)
}

/// A module of `rules` benefit rules and the tables, exceptions, scale,
/// cascade and test around them; with `broken`, three benefit rules in four
/// have a mistake.
fn module(m: usize, rules: usize, nparams: usize, broken: bool) -> String {
    let mut s = format!("// Module {m}.\n\nimport records\nimport params\n\n");
    for r in 0..rules {
        let p = (m * rules + r) % nparams;
        let prev = if r == 0 {
            "¥0 per month".to_string()
        } else {
            format!("benefit_{m}_{}(p)", r - 1)
        };
        let (close, quote, ratio) = match r % 4 {
            1 if broken => ("", "\"", "ratio"),
            2 if broken => (")", "", "ratio"),
            3 if broken => (")", "\"", "ratoi"),
            _ => (")", "\"", "ratio"),
        };
        let _ = write!(
            s,
            "/// Benefit {r} of module {m}: the gap to the standard, with an\n/// increment for those who cannot care for themselves.\n\
             rule benefit_{m}_{r}(p: Person): Money per month\n  source \"{m}.{r}{quote}\n  \
             = if p.monthly_income < standard_{p}[p.household.region]\n    \
             then (standard_{p}[p.household.region] - p.monthly_income{close} * {ratio}_{p} + {prev}\n    \
             else max({prev}, ¥0 per month)\n\n"
        );
        if r % 5 == 0 {
            let _ = write!(
                s,
                "/// Tier {r}.\ntable tier_{m}_{r}(p: Person): Int\n  source \"{m}.{r}\"\n  hit unique\n  given age(p), p.self_care\n  \
                 | < 16 | - => 0\n  | [16, 60) | full => 1\n  | [16, 60) | partial, none => 2\n  | >= 60 | full, partial => 3\n  | >= 60 | none => 4\n\n\
                 table first_{m}_{r}(p: Person): Decimal\n  hit first\n  | p.disability_grade >= 3 => 0.3\n  | p.serious_illness => 0.2\n  | otherwise => 0\n\n"
            );
        }
        if r % 10 == 0 {
            let _ = write!(
                s,
                "exception severe_{m}_{r} for benefit_{m}_{r}(p)\n  source \"{m}.{r}.1\"\n  when 1 <= p.disability_grade <= 2 = ¥100 per month\n\n\
                 exception institution_{m}_{r} for benefit_{m}_{r}(p) over severe_{m}_{r}\n  when p.self_care == none = ¥200 per month\n\n\
                 rule deductible_{m}_{r}(p: Person): Money per year =\n  match p.hospital_level {{\n    none => ¥0 per year\n    l => deductible_{p}[l]\n  }}\n\n"
            );
        }
    }
    let _ = write!(
        s,
        "scale major_{m}(x: Money per year, bonus: Decimal): Money per year\n  marginal\n  round each band\n  adjust rate + bonus\n  bands bands\n\n\
         cascade medical_{m}(p: Person): Money per year\n  on p.medical_expense\n  \
         | insurance pays min(remains * 0.6, ¥150,000 per year)\n  \
         | major pays major_{m}(max(remains - ¥13,000 per year, ¥0 per year), 0.05)\n  \
         | aid pays match p.hospital_level {{\n      none => ¥0 per year\n      l => min(remains * 0.7, ¥30,000 per year)\n    }}\n  \
         remainder out_of_pocket\n\n\
         rule household_total_{m}(h: Household): Money per month =\n  sum(benefit_{m}_{}(x) for x in h.members where x.disability_grade > 0)\n\n\
         test \"module {m}\" as of 2018-08 {{\n  Household H {{ region: jilin }}\n  Person P {{ household: H, birth_date: 1950-01-01, monthly_income: ¥100 }}\n  \
         expect benefit_{m}_0(P) >= ¥0 per month\n  expect tier_{m}_0(P) == 3\n  expect medical_{m}(P).out_of_pocket == ¥0 per year\n}}\n",
        rules - 1
    );
    s
}

const NPARAMS: usize = 30;

/// Records and parameters, without rules.
fn base() -> PackSources {
    let (pw, pt) = params(NPARAMS);
    PackSources {
        modules: vec![
            ("records.weft".into(), records()),
            ("params.weft".into(), pw),
        ],
        params: vec![("params/values.toml".into(), pt)],
        ..PackSources::default()
    }
}

/// A policy of about 5,000 lines.
pub fn generate() -> PackSources {
    let mut pack = base();
    for m in 0..8 {
        pack.modules
            .push((format!("rules/m{m}.weft"), module(m, 40, NPARAMS, false)));
    }
    pack
}

/// The policy of [`generate`] with the rules of 222 modules (about 540
/// lines each) in one file, three benefit rules in four broken.
fn broken_policy() -> PackSources {
    let mut pack = base();
    let mut rules = String::new();
    for m in 0..222 {
        let text = module(m, 40, NPARAMS, true);
        if m == 0 {
            rules.push_str(&text);
        } else {
            rules.push_str(&text.replacen("import records\nimport params\n", "", 1));
        }
    }
    pack.modules.push(("rules.weft".into(), rules));
    pack
}

/// One file of `lines` items, each with a bracket never closed.
fn unclosed(lines: usize) -> PackSources {
    let text: String = (0..lines)
        .map(|i| format!("rule r{i}(p: Person): Money = (p.income + {i}\n"))
        .collect();
    PackSources {
        modules: vec![("main.weft".into(), text)],
        ..PackSources::default()
    }
}

fn line_count(pack: &PackSources) -> usize {
    pack.modules
        .iter()
        .chain(&pack.params)
        .map(|(_, t)| t.lines().count())
        .sum()
}

/// What `weft check` does: check, then render every diagnostic.
fn check_and_render(pack: &PackSources) -> String {
    let (sources, _, diags) = compile_sources(pack);
    weft_syntax::diag::render_plain(&diags, &sources)
}

fn bench(c: &mut Criterion) {
    let pack = generate();
    let lines = line_count(&pack);
    let (_, _, diags) = compile_sources(&pack);
    let errors: Vec<&str> = diags
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.message.as_str())
        .collect();
    assert!(
        errors.is_empty(),
        "the generated policy has errors: {errors:?}"
    );
    eprintln!(
        "generated policy: {lines} lines in {} files",
        pack.modules.len() + pack.params.len()
    );
    let mut g = c.benchmark_group("parse_check");
    g.sample_size(20);
    g.bench_function(format!("{lines}_lines"), |b| {
        b.iter(|| compile_sources(&pack))
    });
    g.finish();

    let mut g = c.benchmark_group("parse_check_broken");
    g.sample_size(10);
    for (name, pack) in [("policy", broken_policy()), ("unclosed", unclosed(120_000))] {
        let lines = line_count(&pack);
        let (_, _, diags) = compile_sources(&pack);
        let errors = diags.iter().filter(|d| d.is_error()).count();
        eprintln!("broken {name}: {lines} lines, {errors} errors");
        g.bench_function(format!("{name}_{lines}_lines"), |b| {
            b.iter(|| check_and_render(&pack))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
