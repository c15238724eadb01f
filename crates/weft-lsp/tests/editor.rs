//! The editor API the server is built on (`weft::editor`), on small packs:
//! quick fixes that add an import, applied and re-checked; renames it
//! refuses; completion in a TOML parameter file and in text that does not
//! parse yet.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use weft::editor::{Analysis, Edit, Kind, Pack, analyse};

fn pack(files: &[(&str, &str)]) -> Pack {
    let mut p = Pack::new();
    for (f, t) in files {
        p.set_file(f, t);
    }
    p
}

fn apply(pack: &mut Pack, edits: &[Edit]) {
    let mut by_file: Vec<&Edit> = edits.iter().collect();
    by_file.sort_by_key(|e| std::cmp::Reverse(e.place.start));
    for e in by_file {
        let mut t = pack.text(&e.place.file).unwrap().to_string();
        t.replace_range(e.place.start..e.place.end, &e.text);
        pack.set_file(&e.place.file, &t);
    }
}

fn errors(a: &Analysis) -> Vec<String> {
    a.diagnostics()
        .iter()
        .filter(|d| d.is_error)
        .map(|d| format!("{} {}", d.code, d.message))
        .collect()
}

const A: &str = "rule x: Int = 1\nrule z: Int = 2\n";

#[test]
fn a_name_not_imported_is_fixed_by_adding_the_import() {
    for (b, want) in [
        (
            "// b\n\nrule y: Int = x\n",
            "// b\n\nimport a.{x}\nrule y: Int = x\n",
        ),
        (
            "import a.{z}\n\nrule y: Int = x + z\n",
            "import a.{z, x}\n\nrule y: Int = x + z\n",
        ),
    ] {
        let mut p = pack(&[("a.weft", A), ("b.weft", b)]);
        let a = analyse(&p);
        let d = a
            .diagnostics()
            .into_iter()
            .find(|d| d.code == "E0202")
            .unwrap();
        assert_eq!(d.fixes[0].title, "import `x` from `a`");
        apply(&mut p, &d.fixes[0].edits);
        assert_eq!(p.text("b.weft").unwrap(), want);
        assert!(
            errors(&analyse(&p)).is_empty(),
            "{:?}",
            errors(&analyse(&p))
        );
    }
}

#[test]
fn every_full_width_mark_of_a_file_is_fixed_at_once() {
    let mut p = pack(&[("a.weft", "rule x（）: Int = max（1，2）\n")]);
    let a = analyse(&p);
    let d = a
        .diagnostics()
        .into_iter()
        .find(|d| d.code == "E0102")
        .unwrap();
    let all = d.fixes.iter().find(|f| f.title.contains("all")).unwrap();
    apply(&mut p, &all.edits);
    assert_eq!(p.text("a.weft").unwrap(), "rule x(): Int = max(1,2)\n");
    let a = analyse(&p);
    assert!(a.diagnostics().iter().all(|d| d.code != "E0102"));
}

#[test]
fn renames_that_would_change_data_or_files_are_refused() {
    let rec = "record Person input persons {\n  person_id: Text key\n  income: Money per month\n}\n\
               enum Kind { a, b \"B\" code \"bb\" }\n\
               rule r(p: Person): Money per month = p.income\n";
    let p = pack(&[("m.weft", rec)]);
    let a = analyse(&p);
    let at = |s: &str| rec.find(s).unwrap();
    let e = a.rename("m.weft", at("income:"), "pay").unwrap_err();
    assert!(e.contains("column"), "{e}");
    let e = a.rename("m.weft", at("a, b"), "c").unwrap_err();
    assert!(e.contains("code"), "{e}");
    // A variant with a code of its own can be renamed; a rule too, not to
    // a keyword.
    assert_eq!(a.rename("m.weft", at("b \"B\""), "c").unwrap().len(), 1);
    let edits = a.rename("m.weft", at("r(p"), "income_of").unwrap();
    assert_eq!(edits.len(), 1);
    assert!(a.rename("m.weft", at("r(p"), "match").is_err());
}

#[test]
fn completion_in_a_toml_file_offers_parameters_and_their_keys() {
    let src = "enum Region { north, south }\nparam rate[Region]: Decimal\n";
    let toml = "[rate]\n\n[[rate.version]]\neffective = 2020-01-01\nnorth = 0.1\nsouth = 0.2\n";
    let p = pack(&[("m.weft", src), ("params.toml", toml)]);
    let a = analyse(&p);
    assert!(errors(&a).is_empty(), "{:?}", errors(&a));
    let labels = |text: &str| -> Vec<String> {
        a.completions("params.toml", text, text.len())
            .into_iter()
            .map(|c| c.label)
            .collect()
    };
    assert_eq!(labels("[ra"), ["rate"]);
    let keys = labels("[[rate.version]]\nno");
    for k in ["effective", "value", "north", "south"] {
        assert!(keys.contains(&k.to_string()), "{keys:?}");
    }
    // And in a rule, after `rate[`, the variants of its key first.
    let rule = format!("{src}rule r: Decimal = rate[");
    let c = a.completions("m.weft", &rule, rule.len());
    let first: Vec<&str> = c.iter().take(2).map(|c| c.label.as_str()).collect();
    assert_eq!(first, ["north", "south"]);
    assert_eq!(c[0].kind, Kind::Variant);
}

#[test]
fn fields_complete_in_an_item_that_does_not_parse_yet() {
    let text = "record Person input persons {\n  person_id: Text key\n  age: Int\n}\n\
                rule old(p: Person): Bool = p.";
    let p = pack(&[("m.weft", text)]);
    let a = analyse(&p);
    let c = a.completions("m.weft", text, text.len());
    let fields: Vec<&str> = c
        .iter()
        .filter(|c| c.kind == Kind::Field)
        .map(|c| c.label.as_str())
        .collect();
    assert_eq!(fields, ["person_id", "age"]);
}
