//! `weft lsp` over stdio, driven as an editor drives it: a session on a
//! copy of the Jilin pack — open a file, type an error, see the
//! diagnostic, fix it with a quick fix and see it cleared; hover a
//! parameter, jump to a definition in another module, find references,
//! rename across modules and a TOML parameter file, complete names, fields
//! and imports, symbols, formatting and semantic tokens.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(60);

struct Client {
    child: Child,
    stdin: ChildStdin,
    rx: Receiver<Value>,
    next_id: i64,
    /// Notifications read while waiting for a response.
    pending: Vec<Value>,
}

impl Client {
    fn start() -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_weft"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            loop {
                let mut len = None;
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(n) = line.strip_prefix("Content-Length: ") {
                        len = n.parse::<usize>().ok();
                    }
                }
                let mut body = vec![0; len.unwrap()];
                if r.read_exact(&mut body).is_err() {
                    return;
                }
                if tx.send(serde_json::from_slice(&body).unwrap()).is_err() {
                    return;
                }
            }
        });
        Client {
            child,
            stdin,
            rx,
            next_id: 0,
            pending: Vec::new(),
        }
    }

    fn write(&mut self, msg: Value) {
        let body = msg.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.write(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Send a request and wait for its answer (`result`, or panic with the
    /// error).
    fn request(&mut self, method: &str, params: Value) -> Value {
        let r = self.request_raw(method, params);
        match r.get("error") {
            Some(e) => panic!("{method} failed: {e}"),
            None => r["result"].clone(),
        }
    }

    fn request_raw(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.write(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let m = self.rx.recv_timeout(WAIT).expect("no answer from weft lsp");
            if m.get("id") == Some(&json!(id)) {
                return m;
            }
            self.pending.push(m);
        }
    }

    /// The next diagnostics published for `uri`.
    fn diagnostics(&mut self, uri: &str) -> Vec<Value> {
        let is_it = |m: &Value| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri
        };
        if let Some(i) = self.pending.iter().position(is_it) {
            let m = self.pending.remove(i);
            return m["params"]["diagnostics"].as_array().unwrap().clone();
        }
        loop {
            let m = self
                .rx
                .recv_timeout(WAIT)
                .expect("no diagnostics from weft lsp");
            if is_it(&m) {
                return m["params"]["diagnostics"].as_array().unwrap().clone();
            }
            self.pending.push(m);
        }
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let dest = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_dir(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).unwrap();
        }
    }
}

fn uri(p: &Path) -> String {
    format!("file://{}", p.display())
}

/// The byte offset of an LSP position (UTF-16 columns).
fn offset(text: &str, pos: &Value) -> usize {
    let (line, col) = (
        pos["line"].as_u64().unwrap(),
        pos["character"].as_u64().unwrap(),
    );
    let start: usize = text
        .split_inclusive('\n')
        .take(line as usize)
        .map(str::len)
        .sum();
    let mut units = 0;
    for (i, c) in text[start..].char_indices() {
        if units >= col as usize || c == '\n' {
            return start + i;
        }
        units += c.len_utf16();
    }
    text.len()
}

/// The LSP position of the `nth` occurrence of `needle` (plus `delta`
/// characters, ASCII text assumed on that line before it).
fn pos(text: &str, needle: &str, nth: usize, delta: usize) -> Value {
    let at = text.match_indices(needle).nth(nth).unwrap().0 + delta;
    let line = text[..at].matches('\n').count();
    let start = text[..at].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let col: usize = text[start..at].chars().map(char::len_utf16).sum();
    json!({"line": line, "character": col})
}

fn apply(text: &str, edits: &[Value]) -> String {
    let mut spans: Vec<(usize, usize, String)> = edits
        .iter()
        .map(|e| {
            (
                offset(text, &e["range"]["start"]),
                offset(text, &e["range"]["end"]),
                e["newText"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    spans.sort_by_key(|s| std::cmp::Reverse(s.0));
    let mut out = text.to_string();
    for (s, e, t) in spans {
        out.replace_range(s..e, &t);
    }
    out
}

fn errors(diags: &[Value]) -> Vec<&Value> {
    diags.iter().filter(|d| d["severity"] == 1).collect()
}

#[test]
fn an_editing_session_on_the_jilin_pack() {
    let tmp = tempfile::tempdir().unwrap();
    let root: PathBuf = tmp.path().join("jilin");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/jilin"),
        &root,
    );
    let dibao_path = root.join("dibao.weft");
    let dibao = uri(&dibao_path);
    let mut text = std::fs::read_to_string(&dibao_path).unwrap();

    let mut c = Client::start();
    let init = c.request(
        "initialize",
        json!({
            "processId": null,
            "rootUri": uri(&root),
            "capabilities": {},
            "initializationOptions": {"asOf": "2019-08-01"}
        }),
    );
    assert!(init["capabilities"]["hoverProvider"] == true, "{init}");
    assert!(init["capabilities"]["semanticTokensProvider"]["legend"]["tokenTypes"].is_array());
    c.notify("initialized", json!({}));

    // Open: the pack checks cleanly.
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": dibao, "languageId": "weft", "version": 1, "text": text}}),
    );
    assert!(errors(&c.diagnostics(&dibao)).is_empty());

    // Type an error: a misspelt rule name.
    let good = text.clone();
    text = text.replacen("where counted(m))", "where countedd(m))", 1);
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": dibao, "version": 2}, "contentChanges": [{"text": text}]}),
    );
    let diags = c.diagnostics(&dibao);
    let errs = errors(&diags);
    assert_eq!(errs.len(), 1, "{diags:?}");
    let e = errs[0].clone();
    assert_eq!(e["code"], "E0203", "{e}");
    assert_eq!(e["range"]["start"], pos(&text, "countedd", 0, 0), "{e}");
    assert!(e["message"].as_str().unwrap().contains("countedd"), "{e}");

    // Its quick fix, applied, clears it.
    let actions = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": dibao}, "range": e["range"], "context": {"diagnostics": [e]}}),
    );
    let fix = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "quickfix")
        .unwrap_or_else(|| panic!("no quick fix in {actions}"));
    assert_eq!(fix["title"], "change to `counted`", "{fix}");
    let edits = fix["edit"]["changes"][&dibao].as_array().unwrap().clone();
    text = apply(&text, &edits);
    assert_eq!(text, good);
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": dibao, "version": 3}, "contentChanges": [{"text": text}]}),
    );
    assert!(errors(&c.diagnostics(&dibao)).is_empty());

    // Full-width punctuation typed with a Chinese input method: E0102 and
    // a quick fix that puts the ASCII character.
    text = good.replacen("max(sum(", "max（sum(", 1);
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": dibao, "version": 4}, "contentChanges": [{"text": text}]}),
    );
    let diags = c.diagnostics(&dibao);
    let e = errors(&diags)
        .into_iter()
        .find(|d| d["code"] == "E0102")
        .unwrap_or_else(|| panic!("no E0102 in {diags:?}"))
        .clone();
    let actions = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": dibao}, "range": e["range"], "context": {"diagnostics": [e]}}),
    );
    let fix = &actions[0];
    assert_eq!(fix["title"], "replace `（` by `(`", "{actions}");
    text = apply(&text, fix["edit"]["changes"][&dibao].as_array().unwrap());
    assert_eq!(text, good);
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": dibao, "version": 5}, "contentChanges": [{"text": text}]}),
    );
    assert!(errors(&c.diagnostics(&dibao)).is_empty());

    // Hover a parameter: its type, versions and the value in force on the
    // date set in the initialisation options.
    let h = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": dibao}, "position": pos(&text, "dibao_asset_months", 0, 3)}),
    );
    let md = h["contents"]["value"].as_str().unwrap();
    assert!(
        md.contains("parameter `dibao_asset_months`: Months"),
        "{md}"
    );
    assert!(md.contains("**versions**: 2016-01-01"), "{md}");
    assert!(md.contains("in force on 2019-08-01"), "{md}");
    assert!(md.contains("24 months"), "{md}");
    assert_eq!(h["range"]["start"], pos(&text, "dibao_asset_months", 0, 0));

    // Hover a rule: its citation and doc comment.
    let h = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": dibao}, "position": pos(&text, "per_capita_income(h) <", 0, 1)}),
    );
    let md = h["contents"]["value"].as_str().unwrap();
    assert!(
        md.contains("rule `per_capita_income` of a `Household`: Money per month"),
        "{md}"
    );
    assert!(md.contains("source: 二(三)"), "{md}");

    // Go to a definition in another module.
    let d = c.request(
        "textDocument/definition",
        json!({"textDocument": {"uri": dibao}, "position": pos(&text, "tekun_eligible(p)", 0, 2)}),
    );
    let tekun_path = root.join("tekun.weft");
    let tekun_text = std::fs::read_to_string(&tekun_path).unwrap();
    assert_eq!(d["uri"], uri(&tekun_path), "{d}");
    assert_eq!(
        d["range"]["start"],
        pos(&tekun_text, "rule tekun_eligible", 0, 5)
    );

    // References across modules.
    let refs = c.request(
        "textDocument/references",
        json!({"textDocument": {"uri": dibao}, "position": pos(&text, "tekun_eligible(p)", 0, 2),
               "context": {"includeDeclaration": true}}),
    );
    let files: std::collections::BTreeSet<String> = refs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["uri"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    for f in ["dibao.weft", "tekun.weft", "children.weft"] {
        assert!(files.contains(f), "{f} not in {files:?}");
    }

    // Rename a parameter: its declaration, its uses in two modules and its
    // tables in the TOML parameter file.
    let r = c.request(
        "textDocument/rename",
        json!({"textDocument": {"uri": dibao}, "position": pos(&text, "dibao_asset_months", 0, 0),
               "newName": "asset_months"}),
    );
    let changes = r["changes"].as_object().unwrap();
    let count = |f: &str| {
        changes
            .iter()
            .find(|(u, _)| u.ends_with(f))
            .map(|(_, e)| e.as_array().unwrap().len())
            .unwrap_or(0)
    };
    assert_eq!(count("/dibao.weft"), 1, "{r}");
    assert_eq!(count("/params.weft"), 1, "{r}");
    assert_eq!(count("/medical.weft"), 1, "{r}");
    assert_eq!(count("params/dibao.toml"), 2, "{r}");
    let toml_path = root.join("params/dibao.toml");
    let toml = std::fs::read_to_string(&toml_path).unwrap();
    let renamed = apply(&toml, changes[&uri(&toml_path)].as_array().unwrap());
    assert!(renamed.contains("[asset_months]\n") && renamed.contains("[[asset_months.version]]"));
    assert!(!renamed.contains("dibao_asset_months"));
    // A keyword is refused.
    let bad = c.request_raw(
        "textDocument/rename",
        json!({"textDocument": {"uri": dibao}, "position": pos(&text, "dibao_asset_months", 0, 0),
               "newName": "match"}),
    );
    assert!(bad.get("error").is_some(), "{bad}");

    // Completion: fields after `p.`, with the text half-typed.
    let half = text.replacen(
        "= counted(p) and dibao_eligible(p.household)",
        "= counted(p) and p.",
        1,
    );
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": dibao, "version": 6}, "contentChanges": [{"text": half}]}),
    );
    let items = c.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": dibao}, "position": pos(&half, "counted(p) and p.", 0, 17)}),
    );
    let labels: Vec<&str> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["label"].as_str().unwrap())
        .collect();
    assert!(
        labels.contains(&"disability_grade") && labels.contains(&"household"),
        "{labels:?}"
    );
    assert!(!labels.contains(&"dibao_benefit"), "{labels:?}");
    // Names in scope, and one from a module not imported, with its import.
    let items = c.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": dibao}, "position": pos(&half, "counted(p) and p.", 0, 16)}),
    );
    let all = items.as_array().unwrap();
    let find = |l: &str| {
        all.iter()
            .find(|i| i["label"] == l)
            .unwrap_or_else(|| panic!("no {l}"))
    };
    assert_eq!(find("dibao_benefit")["kind"], 3); // a function: a rule
    assert_eq!(find("per_month")["kind"], 3);
    assert_eq!(find("rule")["kind"], 14); // a keyword
    let priority = find("priority");
    let add = priority["additionalTextEdits"].as_array().unwrap();
    assert_eq!(
        add[0]["newText"], "import medical.{priority}\n",
        "{priority}"
    );
    assert_eq!(
        add[0]["range"]["start"],
        pos(&half, "\n\n/// Tekun-eligible", 0, 1)
    );
    // Enum variants after `Enum.`.
    let half = text.replacen(
        "= counted(p) and dibao_eligible(p.household)",
        "= Region.",
        1,
    );
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": dibao, "version": 7}, "contentChanges": [{"text": half}]}),
    );
    let items = c.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": dibao}, "position": pos(&half, "= Region.", 0, 9)}),
    );
    let labels: Vec<&str> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["label"].as_str().unwrap())
        .collect();
    assert!(labels.contains(&"changchun"), "{labels:?}");
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": dibao, "version": 8}, "contentChanges": [{"text": text}]}),
    );

    // Symbols of the file and of the pack.
    let syms = c.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": dibao}}),
    );
    assert!(
        syms.as_array()
            .unwrap()
            .iter()
            .any(|s| s["name"] == "counted_members")
    );
    let ws = c.request("workspace/symbol", json!({"query": "tekun_"}));
    assert!(
        ws.as_array()
            .unwrap()
            .iter()
            .any(|s| s["name"] == "tekun_eligible" && s["location"]["uri"] == uri(&tekun_path))
    );

    // Formatting: the pack is formatted, so no edit.
    let f = c.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": dibao}, "options": {"tabSize": 2, "insertSpaces": true}}),
    );
    assert_eq!(f, json!([]));

    // Semantic tokens: `counted` declared on the line of `rule counted`,
    // as a function with the declaration modifier.
    let t = c.request(
        "textDocument/semanticTokens/full",
        json!({"textDocument": {"uri": dibao}}),
    );
    let data: Vec<u64> = t["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert!(!data.is_empty() && data.len().is_multiple_of(5));
    let want = pos(&text, "rule counted(", 0, 5);
    let (mut line, mut col) = (0, 0);
    let mut found = false;
    for tok in data.chunks(5) {
        line += tok[0];
        col = if tok[0] == 0 { col + tok[1] } else { tok[1] };
        if line == want["line"].as_u64().unwrap() && col == want["character"].as_u64().unwrap() {
            assert_eq!((tok[2], tok[3], tok[4] & 1), (7, 5, 1), "{tok:?}");
            found = true;
        }
    }
    assert!(found, "no token at {want}");

    // Shut down cleanly.
    let _ = c.request("shutdown", Value::Null);
    c.notify("exit", Value::Null);
    let status = c.child.wait().unwrap();
    assert!(status.success(), "{status}");
}
