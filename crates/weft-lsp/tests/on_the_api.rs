//! The language server is a front end on the `weft` crate's public API,
//! like the `weft` command: it depends on `weft` and the LSP crates, and
//! on no crate of the pipeline below the API.

#![allow(clippy::unwrap_used)]

#[test]
fn the_server_depends_on_the_weft_crate_and_nothing_below_it() {
    let toml = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")).unwrap();
    let section = toml
        .split("[dependencies]")
        .nth(1)
        .unwrap()
        .split("\n[")
        .next()
        .unwrap();
    let deps: Vec<&str> = section
        .lines()
        .filter_map(|l| l.split_once('=').map(|(k, _)| k.trim()))
        .filter(|k| !k.is_empty() && !k.starts_with('#'))
        .map(|k| k.split('.').next().unwrap())
        .collect();
    assert!(deps.contains(&"weft"), "{deps:?}");
    let inner: Vec<&&str> = deps.iter().filter(|d| d.starts_with("weft-")).collect();
    assert!(
        inner.is_empty(),
        "weft-lsp reaches past the API into {inner:?}"
    );
    for e in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/src")).unwrap() {
        let p = e.unwrap().path();
        let text = std::fs::read_to_string(&p).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            assert!(!code.contains("weft_"), "{}:{}: {line}", p.display(), n + 1);
        }
    }
}
