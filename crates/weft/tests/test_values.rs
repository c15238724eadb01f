//! A `test` block's record values are checked as a data file's are: a
//! value a batch could not read (negative money, more than
//! ¥1,000,000,000,000.00) makes the test fail, on both engines.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use weft::{Engine, Policy, Sources};

const POLICY: &str = r#"
record Person input persons {
  person_id: Text key
  income: Money per month
  grade: Int in 0..=4
}

rule pays(p: Person): Money per month = p.income

test "the largest amount a data file holds" as of 2020-01 {
  Person A { income: ¥1,000,000,000,000.00, grade: 0 }
  expect pays(A) == ¥1,000,000,000,000.00
}

test "a fen more" as of 2020-01 {
  Person B { income: ¥1,000,000,000,000.01, grade: 0 }
  expect pays(B) == ¥1,000,000,000,000.01
}

test "a salary of nine quadrillion" as of 2020-01 {
  Person C { income: ¥9,000,000,000,000,000, grade: 0 }
  expect pays(C) == ¥9,000,000,000,000,000
}

test "a negative amount" as of 2020-01 {
  Person D { income: -¥1, grade: 0 }
  expect pays(D) == -¥1
}

test "outside the declared range" as of 2020-01 {
  Person E { income: ¥1, grade: 5 }
  expect pays(E) == ¥1
}
"#;

#[test]
fn test_values_a_data_file_would_refuse_fail_the_test() {
    let policy = Policy::from_sources(Sources::new().module("p.weft", POLICY)).unwrap();
    let report = |engine: Engine| -> String {
        policy
            .run_tests(engine)
            .unwrap()
            .iter()
            .map(|t| {
                let msgs: Vec<&str> = t.failures.iter().map(|f| f.message.as_str()).collect();
                let verdict = if msgs.is_empty() {
                    "ok".to_string()
                } else {
                    msgs.join(" | ")
                };
                format!("{}: {verdict}", t.name)
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let interp = report(Engine::Interpreter);
    assert_eq!(interp, report(Engine::Jit));
    insta::assert_snapshot!(interp);
}
