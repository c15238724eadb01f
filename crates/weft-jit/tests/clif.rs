//! Snapshots of the CLIF generated for a few small instances, before and
//! after cranelift's optimisations, so that a change of the code generator
//! or a cranelift upgrade shows its effect in review.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure is a panic

mod common;

use common::*;
use weft_jit::JitProgram;

const POLICY: &str = r#"
enum Kind { a b c }

record Household input households {
  household_id: Text key
  members: [Person]
}

record Person input persons {
  person_id: Text key
  household: Household by household_id
  income: Money per month
  rate: Decimal
  flag: Bool
  kind: Kind
}

param standard[Kind]: Money per month
  from 2018-01-01 = { a: ¥100, b: ¥200, c: ¥300 }

/// A rounded product: a fast path when the product fits in 64 bits.
rule share(p: Person): Money per month = p.income * p.rate

/// A filtered sum over members: money amounts of at most 2¹⁶ members,
/// proven not to overflow, so the sum has no overflow check.
rule flagged_income(h: Household): Money per month = sum(m.income for m in h.members where m.flag)

/// A parameter lookup keyed by an enum field (its values compiled in),
/// and a call of another instance (its memo read inline).
rule standard_of(p: Person): Money per month = standard[p.kind] + share(p)

output persons(p: Person) {
  share
  standard_of
}

output households(h: Household) {
  flagged_income
}
"#;

#[test]
fn clif_of_small_instances() {
    let ir = policy(&[("m.weft", POLICY)]);
    let roots: Vec<u32> = (0..ir.instances.len() as u32).collect();
    let bound = bind_roots(&ir, date("2018-08-01") as i32, &roots);
    // The address of a parameter's table of values (a constant in the
    // code) changes from run to run.
    let filters = vec![(
        r"0x(7f|5[56])[0-9a-f]{2}_[0-9a-f]{4}_[0-9a-f]{4}",
        "[table address]",
    )];
    insta::with_settings!({ filters => filters }, {
        for name in ["share", "flagged_income", "standard_of"] {
            let clif = JitProgram::clif(&ir, &bound, rule_inst(&ir, name)).unwrap();
            insta::assert_snapshot!(format!("{name}_generated"), clif.generated);
            insta::assert_snapshot!(format!("{name}_optimized"), clif.optimized);
        }
    });
}
