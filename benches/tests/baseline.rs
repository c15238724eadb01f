//! The hand-written baseline counts only if it computes what the engines
//! compute: identical outputs, cell for cell, on the example population and
//! a synthetic one, at months on both sides of the standards' changes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use weft_bench::{baseline, jilin, prepare, synth};

fn agree(dir: &Path, months: &[&str]) {
    for m in months {
        let p = prepare(
            jilin(),
            dir,
            weft_syntax::num::parse_month(m).unwrap(),
            4096,
        );
        assert!(p.members > 0);
        for chunk in &p.chunks {
            let want = weft_interp::batch::eval_chunk(&p.ir, &p.bound, chunk, &p.plan);
            let got = baseline::eval_chunk(&p.ir, &p.bound, chunk, &p.plan).unwrap();
            assert!(
                want.errors.iter().all(|e| e.is_none()),
                "{m}: the interpreter reported an error"
            );
            assert_eq!(
                got.group_values, want.group_values,
                "{m}: household columns"
            );
            for (c, (a, b)) in got
                .member_values
                .iter()
                .zip(&want.member_values)
                .enumerate()
            {
                if let Some(i) = (0..a.len()).find(|i| a[*i] != b[*i]) {
                    panic!(
                        "{m}: person column {c} row {i}: baseline {} interpreter {}",
                        a[i], b[i]
                    );
                }
            }
        }
    }
}

#[test]
fn on_the_example_population() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/population");
    agree(
        &dir,
        &[
            "2017-06", "2018-06", "2018-07", "2019-06", "2019-08", "2019-12",
        ],
    );
}

#[test]
fn on_a_synthetic_population() {
    let dir = synth(&jilin(), 4000, 42);
    agree(dir.path(), &["2018-01", "2019-07"]);
}
