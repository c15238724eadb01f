//! Renaming a parameter given by a CSV file (`NAME.csv`, named by its
//! file): the editor API says which files to rename, and the server sends
//! the text edits and the file rename as one workspace edit — or, to an
//! editor that cannot rename files, refuses with a message saying what to
//! do instead.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use lsp_server::{Connection, Message, Notification, Request, RequestId};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::Duration;
use weft::editor::{Pack, analyse};

fn pack_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/lang/params_files")
}

/// The byte offset of the first `param wage` name.
fn wage_at(text: &str) -> usize {
    text.find("param wage").unwrap() + "param ".len()
}

#[test]
fn the_editor_api_renames_a_csv_parameters_file() {
    let pack = Pack::read_dir(&pack_dir()).unwrap();
    let a = analyse(&pack);
    let text = pack.text("params.weft").unwrap().to_string();
    let at = wage_at(&text);
    assert_eq!(
        a.renamed_files("params.weft", at, "pay"),
        [("wage.csv".to_string(), "pay.csv".to_string())]
    );
    // Its uses are edited as usual; a TOML parameter renames no file.
    let edits = a.rename("params.weft", at, "pay").unwrap();
    assert!(edits.len() >= 4, "{edits:?}");
    let other = text.find("param limit").expect("a TOML parameter") + "param ".len();
    assert!(a.renamed_files("params.weft", other, "cap").is_empty());
}

struct Session {
    client: Connection,
    server: std::thread::JoinHandle<Result<(), String>>,
    id: i32,
}

impl Session {
    fn start(capabilities: Value) -> Session {
        let (server_conn, client) = Connection::memory();
        let server = std::thread::spawn(move || weft_lsp::run(server_conn));
        let mut s = Session {
            client,
            server,
            id: 0,
        };
        let r = s.request("initialize", json!({ "capabilities": capabilities }));
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
            match self
                .client
                .receiver
                .recv_timeout(Duration::from_secs(60))
                .unwrap()
            {
                Message::Response(r) if r.id == id => return serde_json::to_value(r).unwrap(),
                _ => {}
            }
        }
    }

    fn stop(mut self) {
        let _ = self.request("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        self.server.join().unwrap().unwrap();
    }
}

#[test]
fn the_server_renames_the_file_with_the_parameter() {
    // The pack in a directory of its own (its parent holds no `.weft`
    // file, so the server takes it as the pack's root).
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pack");
    std::fs::create_dir(&dir).unwrap();
    for f in ["params.weft", "values.toml", "wage.csv"] {
        std::fs::copy(pack_dir().join(f), dir.join(f)).unwrap();
    }
    let file = dir.join("params.weft");
    let text = std::fs::read_to_string(&file).unwrap();
    let uri = format!("file://{}", file.display());
    let at = wage_at(&text);
    let line = text[..at].matches('\n').count();
    let col = at - text[..at].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let rename = |s: &mut Session| {
        s.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "weft", "version": 1, "text": text}}),
        );
        s.request(
            "textDocument/rename",
            json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": col},
                   "newName": "pay"}),
        )
    };
    // An editor that renames files gets the edits, then the rename.
    let mut s = Session::start(
        json!({"workspace": {"workspaceEdit": {"documentChanges": true, "resourceOperations": ["rename"]}}}),
    );
    let r = rename(&mut s);
    s.stop();
    let ops = r["result"]["documentChanges"]
        .as_array()
        .unwrap_or_else(|| panic!("{r}"));
    let last = ops.last().unwrap();
    assert_eq!(last["kind"], "rename", "{r}");
    assert!(
        last["oldUri"].as_str().unwrap().ends_with("/wage.csv"),
        "{r}"
    );
    assert!(
        last["newUri"].as_str().unwrap().ends_with("/pay.csv"),
        "{r}"
    );
    assert!(
        ops[..ops.len() - 1].iter().all(|o| o["edits"].is_array()),
        "edits come before the rename: {r}"
    );
    // One that cannot is told what to do instead; nothing is half renamed.
    let mut s = Session::start(json!({}));
    let r = rename(&mut s);
    s.stop();
    let message = r["error"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("{r}"));
    assert!(message.contains("wage.csv"), "{message}");
}
