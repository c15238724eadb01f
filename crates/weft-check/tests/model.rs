//! The semantic model on the Jilin pack (`policies/jilin`): what a
//! language server and `weft doc` ask of it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure is a panic

use std::path::{Path, PathBuf};
use weft_check::Program;
use weft_check::model::{SemanticModel, Target};
use weft_check::pack::{Compiled, PackSources, compile_pack};
use weft_syntax::{FileId, SourceMap, Span};

fn read_dir(dir: &Path, rel: &str, out: &mut PackSources) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        let rel = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        if p.is_dir() {
            read_dir(&p, &rel, out);
        } else if rel.ends_with(".weft") {
            out.modules
                .push((rel, std::fs::read_to_string(&p).unwrap()));
        } else if rel.ends_with(".toml") || rel.ends_with(".csv") {
            out.params.push((rel, std::fs::read_to_string(&p).unwrap()));
        }
    }
}

fn jilin() -> Compiled {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/jilin");
    let mut src = PackSources::default();
    read_dir(&dir, "", &mut src);
    let c = compile_pack(&src);
    let errors: Vec<_> = c.diagnostics.iter().filter(|d| d.is_error()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    c
}

fn file(sources: &SourceMap, name: &str) -> FileId {
    sources
        .iter()
        .find(|(_, f)| f.name == name)
        .map(|(id, _)| id)
        .unwrap_or_else(|| panic!("no file {name}"))
}

/// The offset of the `nth` occurrence of `needle` in a file, plus `skip`.
fn at(sources: &SourceMap, f: FileId, needle: &str, nth: usize, skip: usize) -> usize {
    let text = sources.text(f);
    let mut from = 0;
    for _ in 0..nth {
        from += text[from..].find(needle).unwrap() + needle.len();
    }
    from + text[from..]
        .find(needle)
        .unwrap_or_else(|| panic!("no {needle}"))
        + skip
}

fn rule(p: &Program, name: &str) -> Target {
    Target::Rule(p.rule_by_name(name).unwrap())
}

fn show(c: &Compiled, s: Span) -> (String, String) {
    (
        c.sources.name(s.file).to_string(),
        c.sources.slice(s).to_string(),
    )
}

#[test]
fn a_rule_used_in_another_module_leads_to_its_declaration() {
    let c = jilin();
    let dibao = file(&c.sources, "dibao.weft");
    let use_at = at(&c.sources, dibao, "< dibao_standard(h)", 0, 3);
    let d = c.model.definition_at(dibao, use_at).unwrap();
    assert_eq!(d.target, rule(&c.program, "dibao_standard"));
    assert_eq!(
        show(&c, d.span),
        ("common.weft".into(), "dibao_standard".into())
    );
    // On the declaration itself, the declaration.
    let decl = c
        .model
        .definition_at(d.span.file, d.span.start as usize)
        .unwrap();
    assert_eq!(decl, d);
}

#[test]
fn a_name_in_an_import_list_leads_to_its_declaration() {
    let c = jilin();
    let dibao = file(&c.sources, "dibao.weft");
    let off = at(&c.sources, dibao, "import tekun.{tekun_eligible}", 0, 14);
    let d = c.model.definition_at(dibao, off).unwrap();
    assert_eq!(d.target, rule(&c.program, "tekun_eligible"));
    assert_eq!(
        show(&c, d.span),
        ("tekun.weft".into(), "tekun_eligible".into())
    );
    // The module: its file.
    let off = at(&c.sources, dibao, "import tekun.{tekun_eligible}", 0, 8);
    let d = c.model.definition_at(dibao, off).unwrap();
    assert!(matches!(d.target, Target::Module(_)), "{d:?}");
    assert_eq!(show(&c, d.span), ("tekun.weft".into(), String::new()));
    let h = c.model.hover(&c.program, dibao, off).unwrap();
    assert_eq!(h.text, "module `tekun`");
    assert_eq!(c.sources.slice(h.span), "tekun");
}

#[test]
fn locals_fields_and_variants_lead_to_their_declarations() {
    let c = jilin();
    let dibao = file(&c.sources, "dibao.weft");
    // `start` bound by a match arm, used in the arm's body.
    let use_at = at(&c.sources, dibao, "start <= as_of", 0, 0);
    let d = c.model.definition_at(dibao, use_at).unwrap();
    assert!(matches!(d.target, Target::Local(_)), "{d:?}");
    assert_eq!(show(&c, d.span), ("dibao.weft".into(), "start".into()));
    assert!((d.span.start as usize) < use_at);
    // A field through a record.
    let off = at(&c.sources, dibao, "h.owns_vehicle", 0, 2);
    let d = c.model.definition_at(dibao, off).unwrap();
    assert!(matches!(d.target, Target::Field(..)), "{d:?}");
    assert_eq!(
        show(&c, d.span),
        ("records.weft".into(), "owns_vehicle".into())
    );
    // A variant as a parameter's key.
    let off = at(&c.sources, dibao, "increment_rate[elderly]", 0, 15);
    let d = c.model.definition_at(dibao, off).unwrap();
    assert!(matches!(d.target, Target::Variant(..)), "{d:?}");
    assert_eq!(show(&c, d.span).1, "elderly");
    // A rule's parameter.
    let off = at(&c.sources, dibao, "not tekun_eligible(p)", 0, 19);
    let d = c.model.definition_at(dibao, off).unwrap();
    assert!(matches!(d.target, Target::Local(_)), "{d:?}");
    assert_eq!(show(&c, d.span), ("dibao.weft".into(), "p".into()));
    let decl = at(&c.sources, dibao, "rule counted(p: Person)", 0, 13);
    assert_eq!(d.span.start as usize, decl);
}

/// Every occurrence of a top-level name in code (not in comments, strings
/// or after a `.`) stands for that declaration.
#[test]
fn every_occurrence_of_an_item_name_resolves_to_it() {
    let c = jilin();
    let mut checked = 0;
    for it in c.model.items() {
        if matches!(it.target, Target::Programme(_) | Target::Assert(_)) {
            continue;
        }
        for (f, sf) in c.sources.iter() {
            if !sf.name.ends_with(".weft") {
                continue;
            }
            let text = sources_text(&c.sources, f);
            for (off, _) in text.match_indices(it.name.as_str()) {
                let before = text[..off].chars().next_back();
                let after = text[off + it.name.len()..].chars().next();
                let word = |ch: Option<char>| ch.is_some_and(|x| x.is_alphanumeric() || x == '_');
                if word(before) || word(after) || before == Some('.') {
                    continue;
                }
                let line_start = text[..off].rfind('\n').map(|i| i + 1).unwrap_or(0);
                let line = &text[line_start..off];
                // `input persons` names an input file, not a declaration.
                if line.contains("//")
                    || line.matches('"').count() % 2 == 1
                    || line.ends_with("input ")
                {
                    continue;
                }
                let got = c.model.target_at(f, off);
                // Columns of outputs, variants and modules may share a
                // rule's name.
                if let Some(Target::Module(_)) = got {
                    let def = c.model.definition(got.unwrap()).unwrap();
                    assert_eq!(c.sources.name(def.file), format!("{}.weft", it.name));
                    continue;
                }
                if let Some(col @ (Target::Column(..) | Target::Variant(..))) = got {
                    let def = c.model.definition(col).unwrap();
                    assert_eq!(c.sources.slice(def), it.name);
                    continue;
                }
                // Programmes have names of their own: one may share a
                // rule's name.
                if let Some(p @ Target::Programme(_)) = got {
                    assert_eq!(c.model.item(p).unwrap().name, it.name);
                    continue;
                }
                assert_eq!(
                    got,
                    Some(it.target),
                    "`{}` at {}:{}",
                    it.name,
                    sf.name,
                    c.sources.line_col(f, off as u32).0
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 300, "only {checked} occurrences");
}

fn sources_text(s: &SourceMap, f: FileId) -> String {
    s.text(f).to_string()
}

#[test]
fn references_are_every_use_of_a_rule() {
    let c = jilin();
    let counted = rule(&c.program, "counted");
    let refs = c.model.references(counted);
    // `counted(` everywhere in code, less the declaration.
    let mut expected = 0;
    for (f, sf) in c.sources.iter() {
        if sf.name.ends_with(".weft") {
            let text = c.sources.text(f);
            expected += text
                .match_indices("counted(")
                .filter(|(i, _)| {
                    !text[..*i].ends_with(|ch: char| ch.is_alphanumeric() || ch == '_')
                })
                .count();
        }
    }
    assert_eq!(refs.len(), expected - 1);
    for r in &refs {
        assert_eq!(c.sources.slice(*r), "counted");
    }
    let decl = c.model.definition(counted).unwrap();
    assert!(!refs.contains(&decl));
}

#[test]
fn types_with_their_periods() {
    let c = jilin();
    let dibao = file(&c.sources, "dibao.weft");
    // The division in `countable_income(h) / counted_members(h)`.
    let off = at(
        &c.sources,
        dibao,
        "countable_income(h) / counted_members(h)",
        0,
        20,
    );
    let (span, ty) = c.model.type_at(dibao, off).unwrap();
    assert_eq!(c.program.show(ty), "Money per month");
    assert_eq!(
        c.sources.slice(span),
        "countable_income(h) / counted_members(h)"
    );
    // Inside it, the call on the right.
    let off = at(&c.sources, dibao, "/ counted_members(h)", 0, 3);
    let (span, ty) = c.model.type_at(dibao, off).unwrap();
    assert_eq!(c.program.show(ty), "Int");
    assert_eq!(c.sources.slice(span), "counted_members(h)");
    // A yearly parameter made monthly.
    let common = file(&c.sources, "common.weft");
    let off = at(&c.sources, common, "dibao_standard_rural[h.region]", 0, 0);
    let (_, ty) = c.model.type_at(common, off).unwrap();
    assert_eq!(c.program.show(ty), "Money per year");
    let off = at(&c.sources, common, "per_month(dibao_standard_rural", 0, 0);
    let (_, ty) = c.model.type_at(common, off).unwrap();
    assert_eq!(c.program.show(ty), "Money per month");
}

#[test]
fn hover_gives_type_doc_and_citation() {
    let c = jilin();
    let dibao = file(&c.sources, "dibao.weft");
    let off = at(&c.sources, dibao, "then countable_income(h)", 0, 6);
    let h = c.model.hover(&c.program, dibao, off).unwrap();
    assert_eq!(c.sources.slice(h.span), "countable_income");
    assert_eq!(
        h.text.lines().next().unwrap(),
        "rule `countable_income` of a `Household`: Money per month"
    );
    assert!(
        h.text.contains("Income of the counted members"),
        "{}",
        h.text
    );
    assert!(h.text.ends_with("source: 二(三)"), "{}", h.text);
    // A parameter: its type and versions.
    let off = at(&c.sources, dibao, "* dibao_asset_months", 0, 3);
    let h = c.model.hover(&c.program, dibao, off).unwrap();
    assert!(
        h.text.starts_with("parameter `dibao_asset_months`"),
        "{}",
        h.text
    );
    assert!(h.text.contains("version"), "{}", h.text);
    // Off any name: the type of the expression.
    let off = at(
        &c.sources,
        dibao,
        "countable_income(h) / counted_members(h)",
        0,
        20,
    );
    let h = c.model.hover(&c.program, dibao, off).unwrap();
    assert_eq!(h.text, "Money per month");
}

#[test]
fn items_have_docs_citations_and_uses_both_ways() {
    let c = jilin();
    let m: &SemanticModel = &c.model;
    // Every rule, parameter, record, enum and output is an item.
    let p = &c.program;
    let n = p.rules.len() + p.params.len() + p.records.len() + p.enums.len() + p.outputs.len();
    let items = m
        .items()
        .iter()
        .filter(|i| !matches!(i.target, Target::Programme(_) | Target::Assert(_)))
        .count();
    assert_eq!(items, n);
    let benefit = m.item(rule(p, "dibao_benefit")).unwrap();
    assert_eq!(benefit.kind, "rule");
    assert_eq!(benefit.source.as_deref(), Some("二(三)"));
    assert!(benefit.doc.as_deref().unwrap().contains("低保金"));
    for used in [
        "dibao_eligible",
        "dibao_standard",
        "per_capita_income",
        "counted_members",
        "increment",
        "counted",
    ] {
        assert!(benefit.uses.contains(&rule(p, used)), "{used}");
    }
    // The record of its parameter is used too; not the rule itself.
    assert!(benefit.uses.iter().any(|t| matches!(t, Target::Record(_))));
    assert!(!benefit.uses.contains(&benefit.target));
    // The other way: dibao_eligible is used in its module and in children.
    let users = m.dependents(rule(p, "dibao_eligible"));
    assert!(users.contains(&benefit.target));
    let in_children = users.iter().any(|t| {
        m.definition(*t)
            .is_some_and(|s| c.sources.name(s.file) == "children.weft")
    });
    assert!(in_children, "{users:?}");
    let table = m.item(rule(p, "increment_rate_of")).unwrap();
    assert_eq!(table.kind, "table");
    // Programmes name their output.
    let prog_uses_output = m.items().iter().any(|i| {
        matches!(i.target, Target::Programme(_))
            && i.uses.iter().any(|t| matches!(t, Target::Output(_)))
    });
    assert!(prog_uses_output);
}

#[test]
fn every_occurrence_has_a_definition_of_the_same_name() {
    let c = jilin();
    let mut n = 0;
    for (span, target) in c.model.occurrences() {
        let def = c
            .model
            .definition(target)
            .unwrap_or_else(|| panic!("{target:?} at {}", c.sources.slice(span)));
        n += 1;
        if matches!(target, Target::Module(_)) {
            continue;
        }
        let (used, declared) = (c.sources.slice(span), c.sources.slice(def));
        // `Enum.variant` in a pattern names the variant.
        assert!(
            used == declared || used.ends_with(&format!(".{declared}")),
            "{used} → {declared}"
        );
    }
    assert!(n > 1000, "{n}");
}

/// Half-typed text (a module cut short anywhere) still gives a model that
/// answers every query without panicking, and names before the cut still
/// resolve.
#[test]
fn half_typed_text_still_answers() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/jilin");
    let mut src = PackSources::default();
    read_dir(&dir, "", &mut src);
    let i = src
        .modules
        .iter()
        .position(|(n, _)| n == "dibao.weft")
        .unwrap();
    let full = src.modules[i].1.clone();
    let use_at = full.find("< dibao_standard(h)").unwrap() + 3;
    for cut in (0..full.len()).step_by(full.len() / 9) {
        let cut = (0..=cut).rev().find(|&c| full.is_char_boundary(c)).unwrap();
        let mut half = src.clone();
        half.modules[i].1 = full[..cut].to_string();
        let c = compile_pack(&half);
        let f = file(&c.sources, "dibao.weft");
        for off in (0..=cut + 1).step_by(3) {
            let _ = c.model.hover(&c.program, f, off);
            let _ = c.model.definition_at(f, off);
            let _ = c.model.type_at(f, off);
        }
        if cut > use_at + "dibao_standard(h)".len() + 10 {
            let d = c.model.definition_at(f, use_at);
            assert_eq!(
                d.map(|d| c.sources.name(d.span.file).to_string()),
                Some("common.weft".to_string()),
                "cut at {cut}"
            );
        }
    }
}
