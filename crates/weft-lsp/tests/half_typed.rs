//! The server never crashes on half-typed text: every file of the
//! parser's corpora (the formatter's messy files, the language tests) cut
//! at many points, and with a slice taken out of its middle, is opened in
//! the server, which is then asked every question it answers at positions
//! all over the text (and past its end). Every request must be answered,
//! none by a handler that failed, and the server must still shut down
//! cleanly.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use lsp_server::{Connection, Message, Notification, Request, RequestId};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn corpus() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut out = Vec::new();
    let mut stack = vec![
        root.join("crates/weft-syntax/tests/fmt_corpus"),
        root.join("tests/lang"),
    ];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "weft") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Cut points: `n` places spread over the text, on character boundaries.
fn cuts(text: &str, n: usize) -> Vec<usize> {
    let mut v: Vec<usize> = (1..n)
        .map(|i| {
            let mut o = text.len() * i / n;
            while !text.is_char_boundary(o) {
                o -= 1;
            }
            o
        })
        .collect();
    v.dedup();
    v
}

struct Session {
    client: Connection,
    server: std::thread::JoinHandle<Result<(), String>>,
    id: i32,
    /// Diagnostics published while waiting for responses.
    published: Vec<Value>,
}

impl Session {
    fn start() -> Session {
        let (server_conn, client) = Connection::memory();
        let server = std::thread::spawn(move || weft_lsp::run(server_conn));
        let mut s = Session {
            client,
            server,
            id: 0,
            published: Vec::new(),
        };
        let r = s.request("initialize", json!({"capabilities": {}}));
        assert!(r.get("error").is_none(), "{r}");
        s.notify("initialized", json!({}));
        s
    }

    fn notify(&self, method: &str, params: Value) {
        self.client
            .sender
            .send(Message::Notification(Notification::new(
                method.to_string(),
                params,
            )))
            .unwrap();
    }

    /// The whole response (result or error).
    fn request(&mut self, method: &str, params: Value) -> Value {
        self.id += 1;
        let id = RequestId::from(self.id);
        self.client
            .sender
            .send(Message::Request(Request::new(
                id.clone(),
                method.to_string(),
                params,
            )))
            .unwrap();
        loop {
            let m = self
                .client
                .receiver
                .recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|_| panic!("no answer to {method}: the server is gone or stuck"));
            match m {
                Message::Response(r) if r.id == id => return serde_json::to_value(r).unwrap(),
                Message::Notification(n) if n.method == "textDocument/publishDiagnostics" => {
                    self.published.push(n.params)
                }
                _ => {}
            }
        }
    }

    /// The diagnostics published for `uri` last, once the server has read
    /// everything sent so far.
    fn last_diagnostics(&mut self, uri: &str) -> Value {
        // A request is answered from the text as it is now: anything to
        // publish is published before its answer.
        let _ = self.request("workspace/symbol", json!({"query": ""}));
        let last = self
            .published
            .iter()
            .rev()
            .find(|p| p["uri"] == uri)
            .cloned()
            .unwrap_or_else(|| panic!("nothing published for {uri}"));
        self.published.clear();
        last
    }

    fn stop(mut self) {
        let r = self.request("shutdown", Value::Null);
        assert!(r.get("error").is_none(), "{r}");
        self.notify("exit", Value::Null);
        self.server.join().unwrap().unwrap();
    }
}

#[test]
fn every_request_on_half_typed_text_is_answered() {
    let mut s = Session::start();
    let uri = "file:///nonexistent-weft-lsp-test/pack/half.weft";
    let files = corpus();
    assert!(files.len() > 20, "{files:?}");
    let mut version = 0;
    let mut asked = 0;
    for f in &files {
        let full = std::fs::read_to_string(f).unwrap();
        let mut texts: Vec<String> = cuts(&full, 12)
            .into_iter()
            .map(|c| full[..c].to_string())
            .collect();
        // A slice taken out of the middle (a half-deleted line or item).
        let c = cuts(&full, 5);
        if let [a, _, b, ..] = c[..] {
            texts.push(format!("{}{}", &full[..a], &full[b..]));
        }
        texts.push(full.clone());
        for text in texts {
            version += 1;
            if version == 1 {
                s.notify(
                    "textDocument/didOpen",
                    json!({"textDocument": {"uri": uri, "languageId": "weft", "version": 1, "text": text}}),
                );
            } else {
                s.notify(
                    "textDocument/didChange",
                    json!({"textDocument": {"uri": uri, "version": version},
                           "contentChanges": [{"text": text}]}),
                );
            }
            let lines = text.lines().count() as u32;
            let doc = json!({"uri": uri});
            let mut positions: Vec<Value> = (0..6)
                .map(|i| json!({"line": lines * i / 6, "character": (i * 7) % 40}))
                .collect();
            positions.push(json!({"line": lines + 3, "character": 0}));
            positions.push(json!({"line": 0, "character": 10_000}));
            for p in &positions {
                let tp = json!({"textDocument": doc, "position": p});
                let mut reqs = vec![
                    ("textDocument/hover", tp.clone()),
                    ("textDocument/definition", tp.clone()),
                    ("textDocument/completion", tp.clone()),
                    ("textDocument/prepareRename", tp.clone()),
                ];
                let mut refs = tp.clone();
                refs["context"] = json!({"includeDeclaration": true});
                reqs.push(("textDocument/references", refs));
                let mut rename = tp.clone();
                rename["newName"] = json!("renamed");
                reqs.push(("textDocument/rename", rename));
                reqs.push((
                    "textDocument/codeAction",
                    json!({"textDocument": doc, "range": {"start": p, "end": p},
                           "context": {"diagnostics": []}}),
                ));
                for (method, params) in reqs {
                    let r = s.request(method, params);
                    asked += 1;
                    if let Some(e) = r.get("error") {
                        // A refusal (nothing to rename here) is an answer;
                        // a handler that failed is not.
                        assert_ne!(
                            e["code"],
                            -32603,
                            "{method} on a cut of {}: {r}",
                            f.display()
                        );
                    }
                }
            }
            for (method, params) in [
                ("textDocument/documentSymbol", json!({"textDocument": doc})),
                (
                    "textDocument/semanticTokens/full",
                    json!({"textDocument": doc}),
                ),
                (
                    "textDocument/formatting",
                    json!({"textDocument": doc, "options": {"tabSize": 2, "insertSpaces": true}}),
                ),
                ("workspace/symbol", json!({"query": "a"})),
            ] {
                let r = s.request(method, params);
                asked += 1;
                assert!(
                    r.get("error").is_none(),
                    "{method} on a cut of {}: {r}",
                    f.display()
                );
            }
        }
    }
    assert!(asked > 5_000, "{asked}");
    s.stop();
}

#[test]
fn diagnostics_follow_the_text_and_clear() {
    let mut s = Session::start();
    let uri = "file:///nonexistent-weft-lsp-test/small/a.weft";
    s.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "weft", "version": 1,
                                "text": "rule x: Int = y\n"}}),
    );
    let last = s.last_diagnostics(uri);
    assert_eq!(last["diagnostics"][0]["code"], "E0203", "{last}");
    assert_eq!(
        last["diagnostics"][0]["range"],
        json!({"start": {"line": 0, "character": 14}, "end": {"line": 0, "character": 15}})
    );
    s.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": "rule x: Int = 1\n"}]}),
    );
    let last = s.last_diagnostics(uri);
    assert_eq!(last["diagnostics"], json!([]), "{last}");
    s.stop();
}
