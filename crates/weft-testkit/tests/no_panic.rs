//! No input makes the parser or the checker panic or abort.
//!
//! Each test feeds `weft_check::pack::compile_sources` something hostile
//! and asserts that it comes back with diagnostics (or a program), never
//! with the internal-error diagnostic `E0002` that a caught panic becomes.
//! A stack overflow would abort the whole test binary, so passing at all
//! shows that the pre-scan's caps and the compile thread's large stack
//! work. What a compiled program is then used for (lowering, the
//! interpreter) runs on a thread with the 8 MB stack of a CLI main thread,
//! and the program is dropped there too.
//!
//! Nor does any broken file take more than linear time to check and to
//! report, however many errors it has.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};
use weft_check::pack::{PackSources, compile_sources};
use weft_syntax::Diagnostic;
use weft_testkit::Rng;

fn one(text: &str) -> PackSources {
    PackSources {
        modules: vec![("main.weft".into(), text.into())],
        ..PackSources::default()
    }
}

/// Compile, then lower and drop on an 8 MB thread; return the diagnostics.
fn compile(pack: PackSources) -> Vec<Diagnostic> {
    let (sources, program, diags) = compile_sources(&pack);
    assert!(
        diags.iter().all(|d| d.code != "E0002" && d.code != "E0199"),
        "internal error: {}",
        weft_syntax::diag::render_plain(&diags, &sources)
    );
    let clean = !diags.iter().any(|d| d.is_error());
    let h = std::thread::Builder::new()
        .stack_size(8 * 1024 * 1024)
        .spawn(move || {
            if clean {
                if let Ok(ir) = weft_ir::lower::lower(Arc::new(program)) {
                    drop(ir);
                }
            } else {
                drop(program);
            }
        })
        .unwrap();
    h.join().expect("lowering or dropping the program panicked");
    diags
}

fn has(diags: &[Diagnostic], code: &str) -> bool {
    diags.iter().any(|d| d.code == code)
}

#[test]
fn empty_file() {
    let d = compile(one(""));
    assert!(!d.iter().any(|d| d.is_error()), "{d:?}");
    let d = compile(one("\n\n   \n// only a comment\n/// a doc comment\n"));
    assert!(!d.iter().any(|d| d.is_error()), "{d:?}");
}

#[test]
fn empty_pack() {
    compile(PackSources::default());
}

#[test]
fn random_bytes_as_lossy_text() {
    let mut rng = Rng::new(7);
    for i in 0..300 {
        let len = rng.below(if i % 10 == 0 { 20_000 } else { 400 });
        let bytes: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        compile(one(&text));
    }
}

#[test]
fn random_tokens() {
    // Random sequences of Weft's own words and punctuation reach deeper
    // than random bytes.
    const WORDS: &[&str] = &[
        "rule",
        "table",
        "param",
        "record",
        "enum",
        "test",
        "if",
        "then",
        "else",
        "match",
        "let",
        "in",
        "(",
        ")",
        "[",
        "]",
        "{",
        "}",
        "|",
        "=>",
        "=",
        "==",
        ":",
        ",",
        ".",
        "..",
        "+",
        "-",
        "*",
        "/",
        "¥1,000",
        "1",
        "0.5",
        "30%",
        "2019-07-01",
        "2019-07",
        "x",
        "p",
        "Person",
        "Money",
        "per",
        "month",
        "year",
        "hit",
        "first",
        "unique",
        "given",
        "from",
        "expect",
        "fails",
        "with",
        "\"t\"",
        "\n",
        "as",
        "of",
        "otherwise",
        "-",
        "scale",
        "marginal",
        "cascade",
        "pays",
        "remainder",
        "exception",
        "for",
        "when",
        "over",
        "assert",
        "on",
    ];
    let mut rng = Rng::new(11);
    for _ in 0..300 {
        let n = rng.below(300);
        let text: Vec<&str> = (0..n).map(|_| WORDS[rng.below(WORDS.len())]).collect();
        compile(one(&text.join(" ")));
    }
}

#[test]
fn invalid_utf8_through_the_directory_loader() {
    use weft_engine::load::PackFiles;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("good.weft"), "rule a: Int = 1\n").unwrap();
    std::fs::write(
        dir.path().join("bad.weft"),
        b"rule b: Int = \xff\xfe 2\n\xc3\x28\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("bad.toml"), b"[a]\nvalue = \"\xe2\x82\"\n").unwrap();
    let pack = PackSources::from_dir(dir.path()).unwrap();
    assert_eq!(pack.unreadable.len(), 2);
    let d = compile(pack);
    assert_eq!(d.iter().filter(|d| d.code == "E0001").count(), 2, "{d:?}");
    // The same bytes as lossy text through the text path.
    let d = compile(one(&String::from_utf8_lossy(
        b"rule b: Int = \xff\xfe 2\n\xc3\x28\n",
    )));
    assert!(d.iter().any(|d| d.is_error()));
}

#[test]
fn ten_thousand_nested_parentheses() {
    for (open, close) in [("(", ")"), ("[", "]"), ("{", "}"), ("（", "）")] {
        let text = format!(
            "rule a: Int = {}1{}\n",
            open.repeat(10_000),
            close.repeat(10_000)
        );
        let d = compile(one(&text));
        assert!(has(&d, "E0103"), "{open}: {d:?}");
        // Unclosed.
        let d = compile(one(&format!("rule a: Int = {}1\n", open.repeat(10_000))));
        assert!(d.iter().any(|d| d.is_error()));
        // Only closing.
        compile(one(&format!("rule a: Int = 1{}\n", close.repeat(10_000))));
    }
}

#[test]
fn nesting_at_the_cap_still_checks() {
    let depth = weft_syntax::scan::MAX_DEPTH;
    let text = format!(
        "rule a: Int = {}1{}\n",
        "(".repeat(depth),
        ")".repeat(depth)
    );
    let d = compile(one(&text));
    assert!(d.is_empty(), "{d:?}");
    let text = format!(
        "rule a: Int = {}1{}\n",
        "(".repeat(depth + 1),
        ")".repeat(depth + 1)
    );
    assert!(has(&compile(one(&text)), "E0103"));
}

#[test]
fn nested_calls_and_aggregates_at_the_cap() {
    // `min(min(…), …)` was parsed as an aggregate, then again as a call, at
    // every level: 2^depth. Nested to the cap, valid and broken.
    let depth = weft_syntax::scan::MAX_DEPTH;
    let texts = [
        format!(
            "rule a: Int = {}1{}\n",
            "min(".repeat(depth),
            ", 2)".repeat(depth)
        ),
        format!(
            "rule a: Int = {}1{}\n",
            "sum(".repeat(depth),
            ")".repeat(depth)
        ),
        format!(
            "rule a: Int = {}x for x in y){}\n",
            "sum(".repeat(depth),
            " for y in z)".repeat(depth - 1)
        ),
        // The innermost aggregate has one `for` too many.
        format!(
            "rule a: Int = {}x for x in y{})\n",
            "sum(".repeat(depth),
            " for y in z)".repeat(depth - 1)
        ),
        format!(
            "rule a: Int = {}1 +{}\n",
            "max(".repeat(depth),
            ", 2)".repeat(depth)
        ),
    ];
    for text in texts {
        let (send, receive) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = send.send(compile(one(&text)));
        });
        let diags = receive.recv_timeout(Duration::from_secs(20));
        assert!(diags.is_ok(), "parsing nested calls took more than 20 s");
    }
}

#[test]
fn a_five_megabyte_file() {
    let mut text = String::new();
    let mut i = 0;
    while text.len() < 5 * 1024 * 1024 {
        text.push_str(&format!(
            "/// Rule {i}.\nrule r{i}: Money per month\n  source \"art. {i}\"\n  = if {i} > 3 then ¥{i}.50 per month * 0.3 else ¥0 per month\n\n"
        ));
        i += 1;
    }
    let d = compile(one(&text));
    assert!(d.is_empty(), "{:?}", d.first());
    // The same size of nonsense.
    let junk: String = "+-*/()[]{}|=><,.:x1¥"
        .chars()
        .cycle()
        .take(5 * 1024 * 1024)
        .collect();
    assert!(compile(one(&junk)).iter().any(|d| d.is_error()));
}

#[test]
fn very_long_lines() {
    // One expression with more operators than the cap.
    let sum = vec!["1"; 30_000].join(" + ");
    let d = compile(one(&format!("rule a: Int = {sum}\n")));
    assert!(has(&d, "E0104"), "{d:?}");
    // Just under the cap: parsed, checked and lowered.
    let sum = vec!["1"; 19_000].join(" + ");
    let d = compile(one(&format!("rule a: Int = {sum}\n")));
    assert!(d.is_empty(), "{d:?}");
    // A very long name and a very long text.
    let name = "x".repeat(1_000_000);
    compile(one(&format!("rule {name}: Int = {name}\n")));
    let text = "长".repeat(500_000);
    let d = compile(one(&format!("enum E \"{text}\" {{\n  a \"{text}\"\n}}\n")));
    assert!(d.is_empty(), "{d:?}");
    // Rules cannot compute text, however long.
    let d = compile(one(&format!("rule a: Text = \"{text}\"\n")));
    assert!(has(&d, "E0314"), "{d:?}");
    // A long line of digits.
    compile(one(&format!("rule a: Int = {}\n", "9".repeat(1_000_000))));
}

#[test]
fn diagnostics_on_very_long_lines_render() {
    // An unknown name 68,000 columns into a line, where miette cannot
    // underline; and one at the start of a long line, which would be
    // shown again for each diagnostic.
    let sum = "1 + ".repeat(17_000);
    let text = format!("rule a: Int = {sum}q\nrule b: Int = r + {sum}1\n\n\nrule c: Int = q\n");
    let (sources, _, diags) = compile_sources(&one(&text));
    assert_eq!(diags.len(), 3, "{diags:?}");
    let rendered = weft_syntax::diag::render_plain(&diags, &sources);
    assert!(
        rendered.contains("main.weft:1:68015: unknown name"),
        "{rendered}"
    );
    assert!(
        rendered.contains("main.weft:2:15: unknown name"),
        "{rendered}"
    );
    // A short line two lines from them is still shown with its neighbours.
    assert!(rendered.contains("[main.weft:5:15]"), "{rendered}");
    assert!(rendered.len() < 5_000, "{rendered}");
}

#[test]
fn deep_if_else_chains() {
    let n = 15_000;
    let mut text = String::from("rule a: Int =");
    for i in 0..n {
        text.push_str(&format!(" if {i} > 2 then {i} else"));
    }
    text.push_str(" 0\n");
    let d = compile(one(&text));
    assert!(d.iter().all(|d| d.code != "E0002"), "{d:?}");
    // Over the operator cap.
    let mut text = String::from("rule a: Int =");
    for i in 0..30_000 {
        text.push_str(&format!(" if true then {i} else"));
    }
    text.push_str(" 0\n");
    assert!(has(&compile(one(&text)), "E0104"));
}

#[test]
fn deep_prefix_operators_and_lets() {
    compile(one(&format!(
        "rule a: Bool = {}true\n",
        "not ".repeat(15_000)
    )));
    compile(one(&format!("rule a: Int = {}1\n", "- ".repeat(15_000))));
    let mut text = String::from("rule a: Int =");
    for i in 0..10_000 {
        text.push_str(&format!(" let x{i} = {i} in"));
    }
    text.push_str(" 0\n");
    compile(one(&text));
    let chain = vec!["a"; 15_000].join(" and ");
    compile(one(&format!(
        "rule a: Bool = true\nrule b: Bool = {chain}\n"
    )));
}

#[test]
fn many_items_and_many_errors() {
    let mut text = String::new();
    for i in 0..20_000 {
        text.push_str(&format!("rule r{i} Int = {i}\n"));
    }
    let d = compile(one(&text));
    assert_eq!(d.iter().filter(|d| d.code == "E0101").count(), 20_000);
    let fullwidth = "（，）：；“”".repeat(10_000);
    assert!(has(&compile(one(&fullwidth)), "E0102"));
}

#[test]
fn hostile_parameter_files() {
    let weft = "enum R {\n  a \"A\"\n  b \"B\"\n}\nparam p[R]: Money per month\nparam q: Decimal\nseries s: Decimal\n";
    let tomls = [
        "",
        "[",
        "[p]\nversion = 3\n",
        "[p]\n[[p.version]]\neffective = \"x\"\n",
        "[p]\n[[p.version]]\neffective = 2018-01-01\na = { b = 1 }\nb = [1, 2]\n",
        "[q]\n[[q.version]]\neffective = 2018-01-01\nvalue = 1e400\n",
        "[q]\n[[q.version]]\neffective = 9999-12-31\nvalue = \"99999999999999999999%\"\n",
        "[s]\n[s.months]\n2018-13 = 1\n0000-01 = 2\n",
        "[s]\nmonths = 3\nreplace = true\n",
        &format!(
            "[q]\n{}",
            "[[q.version]]\neffective = 2018-01-01\nvalue = 1\n".repeat(2_000)
        ),
        &"[[a]]\n".repeat(10_000),
        &format!("x = {}1{}", "[".repeat(10_000), "]".repeat(10_000)),
        &format!("x = {}", "{a=".repeat(5_000)),
    ];
    for t in tomls {
        let mut pack = one(weft);
        pack.params.push(("values.toml".into(), t.to_string()));
        compile(pack.clone());
        pack.overlays = std::mem::take(&mut pack.params);
        compile(pack);
    }
    let csvs = [
        "",
        "effective",
        "effective,a,b\n2018-01-01,1\n",
        "\"",
        "effective,a,b\nx,y,z\n",
        "month,value\n2018-01,1\n",
    ];
    for (name, t) in csvs
        .iter()
        .flat_map(|t| [("p.csv", *t), ("s.csv", *t), ("nope.csv", *t)])
    {
        let mut pack = one(weft);
        pack.params.push((name.into(), t.to_string()));
        compile(pack);
    }
}

#[test]
fn deep_asts_are_dropped_safely() {
    // Parse only: the AST of a chain just under the operator cap is
    // dropped on this (2 MB) test thread.
    let sum = vec!["1"; 19_000].join(" + ");
    let (module, diags) =
        weft_syntax::parse_module(weft_syntax::FileId(0), &format!("rule a: Int = {sum}\n"));
    assert!(diags.is_empty());
    drop(module);
}

/// One way of breaking an item, and the one diagnostic it gets.
struct Broken {
    what: &'static str,
    code: &'static str,
    /// The first line of the `i`th item.
    first_line: fn(usize) -> String,
}

const BROKEN: &[Broken] = &[
    Broken {
        what: "an unclosed `(`",
        code: "E0107",
        first_line: |i| format!("rule r{i}: Int = (1 + {i}"),
    },
    Broken {
        what: "an unclosed `[`",
        code: "E0107",
        first_line: |i| format!("rule r{i}: Int = r0[{i}"),
    },
    Broken {
        what: "an unclosed `{`",
        code: "E0107",
        first_line: |i| format!("rule r{i}: Int = match x {{"),
    },
    Broken {
        what: "text without its closing quote",
        code: "E0105",
        first_line: |i| format!("rule r{i}: Int = \"{i}"),
    },
    Broken {
        what: "a stray `}`",
        code: "E0101",
        first_line: |i| format!("rule r{i}: Int = {i} }}"),
    },
    Broken {
        what: "a name that is not declared",
        code: "E0203",
        first_line: |i| format!("rule r{i}: Int = q{i}"),
    },
];

/// Lines of each item of [`broken_file`].
const ITEM_LINES: usize = 10;

/// A file of `items` items broken as `b` says, each of [`ITEM_LINES`] lines.
fn broken_file(b: &Broken, items: usize) -> String {
    let mut text = String::new();
    for i in 0..items {
        text.push_str(&(b.first_line)(i));
        text.push('\n');
        for j in 1..ITEM_LINES {
            text.push_str(&format!("  + {j}\n"));
        }
    }
    text
}

/// What `weft check` does with a file: parse, check, and render every
/// diagnostic with its line. Returns how many diagnostics have `code`.
fn check_and_render(text: &str, code: &str) -> usize {
    let (sources, _, diags) = compile_sources(&one(text));
    let rendered = weft_syntax::diag::render_plain(&diags, &sources);
    let located: usize = diags.iter().map(|d| d.location(&sources).len()).sum();
    assert!(rendered.len() > diags.len() && located >= diags.len());
    diags.iter().filter(|d| d.code == code).count()
}

/// Whether checking `text` takes less than `deadline`; if not, the check
/// is left running on its thread rather than waited for.
fn finishes_within(text: String, code: &'static str, deadline: Duration) -> bool {
    let (send, receive) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        check_and_render(&text, code);
        let _ = send.send(());
    });
    receive.recv_timeout(deadline).is_ok()
}

/// Fails if checking `make(4 * items)` (which gives `4 * items`
/// diagnostics of `code`) takes more than ten times as long as checking
/// `make(items)`. Linear work takes four times as long on four times the
/// items, quadratic work sixteen times; ten allows for a busy machine.
fn assert_linear(what: &str, code: &'static str, make: impl Fn(usize) -> String, items: usize) {
    let small = make(items);
    let mut base = Duration::MAX;
    for _ in 0..2 {
        let start = Instant::now();
        assert_eq!(check_and_render(&small, code), items, "{what}");
        base = base.min(start.elapsed());
    }
    let deadline = base * 10 + Duration::from_millis(50);
    let large = make(4 * items);
    let finished = (0..2).any(|_| finishes_within(large.clone(), code, deadline));
    assert!(
        finished,
        "{what}: {} lines took {base:?}, four times as many more than {deadline:?}",
        small.lines().count()
    );
}

#[test]
fn broken_files_check_in_linear_time() {
    // Each diagnostic was once rendered by reading the file from its
    // start, and each unknown name compared with every declared name.
    for b in BROKEN {
        assert_linear(b.what, b.code, |n| broken_file(b, n), 500);
    }
    // And a line with many diagnostics was shown once for each of them.
    assert_linear(
        "items on one line",
        "E0203",
        |n| {
            let items: Vec<String> = (0..n).map(|i| format!("rule a{i}: Int = q{i}")).collect();
            items.join(" ")
        },
        300,
    );
}

#[test]
fn broken_files_of_a_hundred_thousand_lines() {
    // One diagnostic for each broken item, however many there are.
    const ITEMS: usize = 10_000;
    for b in BROKEN {
        let text = broken_file(b, ITEMS);
        assert!(text.lines().count() >= 100_000);
        let (sources, _, diags) = compile_sources(&one(&text));
        assert_eq!(diags.len(), ITEMS, "{}", b.what);
        assert!(diags.iter().all(|d| d.code == b.code), "{}", b.what);
        // The last ones, a hundred thousand lines into the file.
        let last = &diags[diags.len() - 100..];
        let rendered = weft_syntax::diag::render_plain(last, &sources);
        assert!(
            rendered.contains(&format!(
                "main.weft:{}:",
                ITEMS * ITEM_LINES - ITEM_LINES + 1
            )),
            "{}",
            b.what
        );
    }
}
