//! Snapshots of rendered diagnostics, Gleam style: each snapshot holds the
//! source it was produced from and the error as a drafter sees it
//! (`weft_syntax::diag::render_plain`: no colour, 80 columns).
//!
//! One test per situation; the name says what is wrong. Review a changed
//! snapshot as a drafter would read it: one lowercase sentence, user text
//! in backticks, a label on the right place, a help line saying what to do.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use weft_check::pack::{PackSources, compile_sources};
use weft_syntax::diag::render_plain;

const RECORDS: &str = "\
enum Level {
  none \"未就医\"
  primary \"一级\"
  tertiary \"三级\"
}

record Person input persons {
  id: Text key
  age: Int
  level: Level
  income: Money per month
  medical: Money per year
  disabled: Bool
}
";

fn pack(files: &[(&str, &str)]) -> PackSources {
    let mut p = PackSources::default();
    for (name, text) in files {
        let entry = (name.to_string(), text.to_string());
        if name.starts_with("overlay/") {
            p.overlays.push(entry);
        } else if name.ends_with(".weft") {
            p.modules.push(entry);
        } else {
            p.params.push(entry);
        }
    }
    p
}

fn source_section(files: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (name, text) in files {
        if *text == RECORDS {
            out.push_str(&format!(
                "----- SOURCE CODE -- {name} (the shared records, not shown)\n\n"
            ));
            continue;
        }
        out.push_str(&format!("----- SOURCE CODE -- {name}\n{text}"));
        if !text.ends_with('\n') {
            out.push('\n');
        }
        out.push('\n');
    }
    out
}

/// Compile the files and return the source and every rendered diagnostic.
fn render(files: &[(&str, &str)]) -> String {
    let (sources, _, diags) = compile_sources(&pack(files));
    assert!(!diags.is_empty(), "expected a diagnostic");
    assert!(
        diags.iter().all(|d| d.code != "E0002" && d.code != "E0199"),
        "internal error:\n{}",
        render_plain(&diags, &sources)
    );
    format!(
        "{}----- ERROR\n{}",
        source_section(files),
        render_plain(&diags, &sources)
    )
}

macro_rules! snap {
    ($name:ident, $files:expr) => {
        #[test]
        fn $name() {
            insta::assert_snapshot!(stringify!($name), render($files));
        }
    };
}

/// `main.weft` (which imports the shared records) and `records.weft`.
fn main_with_records(main: &str) -> Vec<(&'static str, &'static str)> {
    let main: &'static str = Box::leak(format!("import records\n\n{main}").into_boxed_str());
    vec![("records.weft", RECORDS), ("main.weft", main)]
}

// ------------------------------------------------------------ syntax

snap!(
    syntax_missing_equals_in_rule,
    &[("main.weft", "rule limit: Int 100\n")]
);
snap!(
    syntax_single_equals_in_comparison,
    &[("main.weft", "rule a: Int = 1\nrule same: Bool = a = 1\n")]
);
snap!(
    syntax_semicolon_at_end,
    &[("main.weft", "rule a: Int = 1;\nrule b: Int = 2\n")]
);
snap!(
    syntax_unclosed_parenthesis,
    &[("main.weft", "rule a: Int = (1 + 2\n\nrule b: Int = 3\n")]
);
snap!(
    syntax_single_quoted_text,
    &[("main.weft", "rule name: Text = 'Zhang'\n")]
);
snap!(
    syntax_period_in_scale_row,
    &[(
        "main.weft",
        "scale s(x: Money per year): Money per year\n  marginal\n  | ¥0 per year..¥100 per year => 0.5\n  | ¥100.. => 0.6\n"
    )]
);
snap!(
    syntax_qualified_call,
    &[(
        "main.weft",
        "rule a: Int = 1\nrule b: Int = other.helper(a)\n"
    )]
);
snap!(
    syntax_text_before_first_item,
    &[("main.weft", "the dibao rules\nrule a: Int = 1\n")]
);
snap!(syntax_missing_type, &[("main.weft", "rule a = 1\n")]);
snap!(
    syntax_keyword_as_name,
    &[("main.weft", "rule match: Int = 1\nrule b: Int = 2\n")]
);
snap!(
    syntax_each_item_reports_its_own_error,
    &[(
        "main.weft",
        "rule a: Int = 1 +\nrule b: Int = 2\nrule c Int = 3\nrule d: Int = 4\n"
    )]
);
snap!(
    syntax_full_width_punctuation,
    &[("main.weft", "rule a: Int = max（1， 2）\n")]
);
snap!(
    syntax_full_width_quotes_and_colon,
    &[("main.weft", "rule a： Bool = “张三” == \"李四\"\n")]
);
snap!(
    syntax_unclosed_text,
    &[("main.weft", "rule a: Bool = \"open\nrule b: Int = 1\n")]
);
snap!(
    syntax_not_a_date,
    &[("main.weft", "param p: Int\n  from 2019-02-30 = 1\n")]
);
snap!(
    syntax_number_too_large,
    &[("main.weft", "rule a: Int = 99999999999999999999\n")]
);
snap!(
    syntax_decimal_too_precise,
    &[("main.weft", "rule a: Decimal = 0.1234567\n")]
);
snap!(
    syntax_money_grouping,
    &[("main.weft", "rule a: Money = ¥1,23.00\n")]
);
snap!(
    syntax_nesting_too_deep,
    &[(
        "main.weft",
        Box::leak(
            format!("rule a: Int = {}1{}\n", "(".repeat(70), ")".repeat(70)).into_boxed_str()
        )
    )]
);

snap!(
    syntax_unclosed_bracket_at_end,
    &[("main.weft", "rule a: Int = 1\nrule b: Int = max(1, 2\n")]
);

// ------------------------------------------------------------- names

snap!(
    name_unknown_with_suggestion,
    &main_with_records(
        "rule elderly(p: Person): Bool = p.age >= 60\nrule a(p: Person): Bool = elderli(p)\n"
    )
);
snap!(
    name_unknown_in_module_not_imported,
    &[
        ("records.weft", RECORDS),
        (
            "other.weft",
            "import records\nrule helper(p: Person): Int = p.age\n"
        ),
        (
            "main.weft",
            "import records\nrule a(p: Person): Int = helpr(p)\n"
        ),
    ]
);
snap!(
    name_not_imported,
    &[
        ("records.weft", RECORDS),
        (
            "other.weft",
            "import records\nrule helper(p: Person): Int = p.age\n"
        ),
        (
            "main.weft",
            "import records\nrule a(p: Person): Int = helper(p)\n"
        ),
    ]
);
snap!(
    name_no_such_module,
    &[("main.weft", "import standards\nrule a: Int = 1\n")]
);
snap!(
    name_module_lacks_declaration,
    &[
        ("other.weft", "rule helper: Int = 1\n"),
        ("main.weft", "import other.{helpr}\nrule a: Int = 1\n")
    ]
);
snap!(
    name_defined_twice,
    &[
        ("a.weft", "rule total: Int = 1\n"),
        ("b.weft", "rule total: Int = 2\n")
    ]
);
snap!(
    name_builtin_shadowed,
    &[("main.weft", "rule round: Int = 1\n")]
);
snap!(
    name_no_such_field,
    &main_with_records("rule a(p: Person): Bool = p.dissabled\n")
);
snap!(
    name_variant_twice,
    &[(
        "main.weft",
        "enum E {\n  a \"A\"\n  b \"B\"\n  a \"C\"\n}\n"
    )]
);

// ------------------------------------------------------------- types

snap!(
    type_period_mismatch,
    &main_with_records("rule a(p: Person): Money per month = p.income + p.medical\n")
);
snap!(
    type_money_compared_with_number,
    &main_with_records("rule a(p: Person): Bool = p.income > 1000\n")
);
snap!(
    type_wrong_result_type,
    &main_with_records("rule a(p: Person): Money per year = p.income\n")
);
snap!(
    type_money_times_money,
    &main_with_records("rule a(p: Person): Money per month = p.income * p.income\n")
);
snap!(
    type_enum_subset_index,
    &main_with_records(
        "param deductible[Level except none]: Money per year\n  from 2017-01-01 = { primary: ¥200, tertiary: ¥1,000 }\n\nrule a(p: Person): Money per year = deductible[p.level]\n"
    )
);
snap!(
    type_match_not_exhaustive,
    &main_with_records(
        "rule a(p: Person): Int =\n  match p.level {\n    primary => 1\n    tertiary => 2\n  }\n"
    )
);
snap!(
    type_match_arm_repeated,
    &main_with_records(
        "rule a(p: Person): Int =\n  match p.level {\n    none => 0\n    primary, tertiary => 1\n    primary => 2\n  }\n"
    )
);
snap!(
    type_branches_differ,
    &main_with_records("rule a(p: Person): Int = if p.disabled then 1 else ¥1\n")
);
snap!(
    type_remains_outside_cascade,
    &main_with_records("rule a(p: Person): Money per month = remains\n")
);
snap!(
    type_wrong_argument_count,
    &main_with_records("rule a(p: Person): Int = max(p.age)\n")
);
snap!(
    type_is_set_on_plain_value,
    &main_with_records("rule a(p: Person): Bool = is_set(p.age)\n")
);
snap!(
    type_rule_needs_its_record,
    &main_with_records("rule old(p: Person): Bool = p.age >= 60\nrule a(p: Person): Bool = old\n")
);
snap!(
    type_unknown_variant,
    &main_with_records("rule a(p: Person): Bool = p.level == secondary\n")
);

// ------------------------------------------------------------ tables

snap!(
    table_gap,
    &main_with_records(
        "table tier(p: Person): Int\n  hit unique\n  given p.age, p.level\n  | <= 15 | -        => 0\n  | >= 16 | none     => 1\n  | >= 16 | tertiary => 2\n"
    )
);
snap!(
    table_overlap,
    &main_with_records(
        "table tier(p: Person): Int\n  hit unique\n  given p.age, p.disabled\n  | < 18  | -     => 0\n  | >= 16 | true  => 1\n  | >= 18 | false => 2\n"
    )
);
snap!(
    table_unreachable_row,
    &main_with_records(
        "table band(p: Person): Int\n  hit first\n  given p.age\n  | >= 0  => 1\n  | >= 60 => 2\n  | < 0   => 0\n"
    )
);
snap!(
    table_cell_count,
    &main_with_records(
        "table band(p: Person): Int\n  hit first\n  given p.age, p.level\n  | >= 0 => 1\n  | otherwise => 0\n"
    )
);

// ---------------------------------------------- exceptions and cycles

snap!(
    exception_conflict,
    &main_with_records(
        "rule allowance(p: Person): Money per month = ¥100 per month\n\nexception elderly for allowance(p) when p.age >= 60 = ¥200 per month\nexception disabled for allowance(p) when p.disabled = ¥300 per month\n"
    )
);
snap!(
    exception_conflict_checked_at_run_time,
    &main_with_records(
        "rule old(p: Person): Bool = p.age >= 60\nrule poor(p: Person): Bool = p.income < ¥100 per month\nrule bonus(p: Person): Int = 0\n\nexception for_old for bonus(p) when old(p) = 1\nexception for_poor for bonus(p) when poor(p) = 2\n"
    )
);
snap!(
    cycle,
    &main_with_records(
        "rule a(p: Person): Int = b(p) + 1\nrule b(p: Person): Int = c(p)\nrule c(p: Person): Int = a(p)\n"
    )
);

// -------------------------------------------------- parameter files

const PARAMS: &str = "\
enum Region {
  north \"北\"
  south \"南\"
}

param standard[Region]: Money per month
";

const RATIO: &str = "param ratio: Decimal\n";

snap!(
    param_file_unknown_parameter,
    &[
        ("params.weft", PARAMS),
        (
            "values.toml",
            "[standrad]\n[[standrad.version]]\neffective = 2018-01-01\nnorth = 500\nsouth = 400\n"
        ),
    ]
);
snap!(
    param_file_missing_key,
    &[
        ("params.weft", PARAMS),
        (
            "values.toml",
            "[standard]\n[[standard.version]]\neffective = 2018-01-01\nnorth = 500\n"
        )
    ]
);
snap!(
    param_file_unknown_key,
    &[
        ("params.weft", PARAMS),
        (
            "values.toml",
            "[standard]\n[[standard.version]]\neffective = 2018-01-01\nnorth = 500\nsouth = 400\neast = 300\n"
        ),
    ]
);
snap!(
    param_file_bad_value,
    &[
        ("params.weft", RATIO),
        (
            "values.toml",
            "[ratio]\n[[ratio.version]]\neffective = 2018-01-01\nvalue = \"1.3x\"\n"
        )
    ]
);
snap!(
    param_file_duplicate_date,
    &[
        ("params.weft", RATIO),
        (
            "values.toml",
            "[ratio]\n[[ratio.version]]\neffective = 2018-01-01\nvalue = 1.3\n\n[[ratio.version]]\neffective = 2018-01-01\nvalue = 1.4\n"
        ),
    ]
);
snap!(
    param_file_toml_syntax,
    &[
        ("params.weft", RATIO),
        (
            "values.toml",
            "[ratio]\n[[ratio.version]]\neffective = 2018-01-01\nvalue = 1.3.\n"
        )
    ]
);
snap!(
    param_file_csv_header,
    &[
        ("params.weft", PARAMS),
        ("standard.csv", "date,north,south\n2018-01-01,500,400\n")
    ]
);
snap!(
    param_file_no_effective_date,
    &[
        ("params.weft", RATIO),
        ("values.toml", "[ratio]\n[[ratio.version]]\nvalue = 1.3\n")
    ]
);
snap!(
    param_inline_missing_key,
    &[(
        "params.weft",
        "enum Region {\n  north \"北\"\n  south \"南\"\n}\n\nparam standard[Region]: Money per month\n  from 2018-01-01 = { north: ¥500 }\n"
    )]
);

// --------------------------------------------------------------- tests

snap!(
    test_unknown_record,
    &main_with_records(
        "rule old(p: Person): Bool = p.age >= 60\n\ntest \"old\" as of 2020-01 {\n  expect old(P)\n}\n"
    )
);
snap!(
    test_missing_fields,
    &main_with_records(
        "rule old(p: Person): Bool = p.age >= 60\n\ntest \"old\" as of 2020-01 {\n  Person P { age: 70 }\n  expect old(P)\n}\n"
    )
);
snap!(
    test_unknown_error_kind,
    &main_with_records(
        "rule a: Int = 1\n\ntest \"fails\" as of 2020-01 {\n  expect a == 1 fails with overflw\n}\n"
    )
);
snap!(
    test_field_given_twice,
    &main_with_records(
        "defaults Person { level: none, income: ¥0 per month, medical: ¥0 per year, disabled: false }\nrule old(p: Person): Bool = p.age >= 60\n\ntest \"old\" as of 2020-01 {\n  Person P { age: 70, age: 71 }\n  expect old(P)\n}\n"
    )
);
snap!(
    test_expects_nothing,
    &main_with_records("test \"nothing\" as of 2020-01 {\n}\n")
);
snap!(
    test_link_to_unknown_quoted_record,
    &[(
        "main.weft",
        "record Household input households {\n  id: Text key\n  members: [Person]\n}\n\nrecord Person input persons {\n  id: Text key\n  household: Household by household_id\n}\n\nrule size(h: Household): Int = count(m in h.members)\n\ntest \"quoted ids\" as of 2020-01 {\n  Household \"户 0001\" {}\n  Person \"张 三\" { household: \"户 0002\" }\n  expect size(\"户 0001\") == 1\n}\n"
    )]
);

// ---------------------------------------------------------- assertions

#[test]
fn assertion_fails() {
    let files: &[(&str, &str)] = &[(
        "params.weft",
        "enum Region {\n  north \"北\"\n  south \"南\"\n}\n\nparam standard[Region]: Money per month\n  from 2017-01-01 = { north: ¥520, south: ¥380 }\n  from 2018-01-01 = { north: ¥560, south: ¥500 }\n\nparam floor: Money per month\n  from 2016-01-01 = ¥400\n\n/// 不低于省定最低指导标准.\nassert above_floor on standard\n  every r: Region\n  : standard[r] >= floor\n",
    )];
    let (sources, program, diags) = compile_sources(&pack(files));
    assert!(diags.is_empty(), "{}", render_plain(&diags, &sources));
    let ir = weft_ir::lower::lower(Arc::new(program)).unwrap();
    let diags = weft_engine::asserts::check_assertions(&ir, &sources);
    assert!(!diags.is_empty());
    insta::assert_snapshot!(
        "assertion_fails",
        format!(
            "{}----- ERROR\n{}",
            source_section(files),
            render_plain(&diags, &sources)
        )
    );
}
