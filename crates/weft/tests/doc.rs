//! `weft::doc`: the documentation site of a policy, rendered for a tiny
//! pack (pages snapshot-tested) and written to a directory whole.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use weft::doc::Site;
use weft::{Policy, Sources};

const TINY: &str = r#"
/// 城乡 — where a person lives.
enum Residence "城乡" {
  urban "城镇"
  rural "农村"
}

record Person "个人" input persons {
  id: Text key
  residence: Residence
  /// Monthly income.
  income: Money per month
}

defaults Person { residence: urban, income: ¥0 }

/// 低保标准, per person per month.
param standard[Residence]: Money per month
  source "notice 二(三)"
  from 2017-01-01 = { urban: ¥500, rural: ¥300 }
  from 2018-07-01 = { urban: ¥560, rural: ¥320 }

/// The gap to the standard, as a decision table.
table grant(p: Person): Money per month
  source "二(三)"
  hit first
  | p.income < standard[p.residence] => standard[p.residence] - p.income
  | otherwise                        => ¥0

output persons(p: Person) {
  id
  grant
}

programme dibao "最低生活保障" source "二(三)"
  for persons amounts grant

test "a rural person without income gets the standard" as of 2018-08 {
  Person P { residence: rural }
  expect grant(P) == ¥320
}
"#;

fn tiny() -> Site {
    let policy = Policy::from_sources(Sources::new().module("dibao.weft", TINY)).unwrap();
    Site::build(&policy, "tiny").unwrap()
}

#[test]
fn the_pages_of_a_tiny_pack() {
    let site = tiny();
    let names: Vec<&str> = site.files().iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        names,
        [
            "index.html",
            "tests.html",
            "programme.dibao.html",
            "rule.grant.html",
            "param.standard.html",
            "record.Person.html",
            "enum.Residence.html",
            "output.persons.html",
            "style.css",
            "search.js"
        ]
    );
    assert_eq!(site.broken_links(), vec![]);
    insta::assert_snapshot!("rule_page", site.file("rule.grant.html").unwrap());
    insta::assert_snapshot!("param_page", site.file("param.standard.html").unwrap());
}

#[test]
fn a_site_is_written_whole_and_replaces_only_an_earlier_site() {
    let site = tiny();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("site");
    site.write(&out).unwrap();
    for f in site.files() {
        assert_eq!(std::fs::read_to_string(out.join(&f.path)).unwrap(), f.text);
    }
    // Again: the earlier site is replaced, and nothing is left beside it.
    std::fs::write(out.join("rule.gone.html"), "<p>old</p>").unwrap();
    site.write(&out).unwrap();
    assert!(!out.join("rule.gone.html").exists());
    let beside: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(beside, ["site"]);
    // A directory of other files is refused and left alone.
    let other = dir.path().join("notes");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("notes.txt"), "mine").unwrap();
    let err = site.write(&other).unwrap_err();
    assert!(matches!(err, weft::Error::Usage(_)), "{err}");
    assert!(
        err.to_string().contains("not a site written by `weft doc`"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(other.join("notes.txt")).unwrap(),
        "mine"
    );
    assert!(!other.join("index.html").exists());
    // A symbolic link is refused, not replaced by a directory.
    #[cfg(unix)]
    {
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&out, &link).unwrap();
        let err = site.write(&link).unwrap_err();
        assert!(err.to_string().contains("is a symbolic link"), "{err}");
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
    }
}
