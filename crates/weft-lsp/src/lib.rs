//! The Weft language server (`weft lsp`): diagnostics as a drafter types,
//! hover, go to definition, references, rename, completion, symbols,
//! formatting, semantic tokens and quick fixes, over the Language Server
//! Protocol on stdio.
//!
//! It is a front end on the `weft` crate's editor API
//! ([`weft::editor`]) and depends on nothing below it. It holds, per
//! policy pack, the files on disk with the editor's open buffers laid over
//! them ([`weft::editor::Pack`]), and re-checks the **whole pack** after a
//! change — once the messages waiting have been read, so a burst of
//! keystrokes costs one check — then publishes the diagnostics of every
//! file of the pack. Requests are answered from the latest check.
//!
//! The pack of a file is found from its directory: the highest directory
//! above it such that it and every directory between hold `.weft` files
//! (`policies/jilin/tests/dibao.weft` belongs to `policies/jilin`).
//!
//! It must never crash on what an editor sends: broken text is the normal
//! case, positions may be anywhere, and a handler that failed anyway
//! answers with an error instead of taking the server down.

mod lines;

pub use lines::LineIndex;

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types as lt;
use lsp_types::notification::Notification as _;
use lsp_types::request::Request as _;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use weft::editor::{self, Analysis, Kind, Pack};

/// Run the server on stdin and stdout until the client says `exit`.
pub fn run_stdio() -> Result<(), String> {
    let (connection, io) = Connection::stdio();
    run(connection)?;
    io.join().map_err(|e| e.to_string())
}

/// Run the server on a connection (stdio, or in memory for tests) until
/// the client says `exit`.
pub fn run(connection: Connection) -> Result<(), String> {
    let caps = serde_json::to_value(capabilities()).map_err(|e| e.to_string())?;
    let init = connection.initialize(caps).map_err(|e| e.to_string())?;
    let params: lt::InitializeParams = serde_json::from_value(init).unwrap_or_default();
    // Diagnostics in the editor's language when it says one Weft speaks;
    // otherwise the language the process was started with.
    if let Some(lang) = params.locale.as_deref().and_then(weft::lang::Lang::parse) {
        weft::lang::set_lang(lang);
    }
    let mut server = Server::new(&connection);
    // Whether the editor can rename files in a workspace edit (a parameter
    // given by `NAME.csv` is renamed with its file).
    server.rename_files = params
        .capabilities
        .workspace
        .as_ref()
        .and_then(|w| w.workspace_edit.as_ref())
        .and_then(|e| e.resource_operations.as_ref())
        .is_some_and(|ops| ops.contains(&lt::ResourceOperationKind::Rename));
    if let Some(opts) = &params.initialization_options {
        server.configure(opts);
    }
    server.main_loop()
}

/// The token types of semantic highlighting, by index.
pub const TOKEN_TYPES: &[lt::SemanticTokenType] = &[
    lt::SemanticTokenType::ENUM,
    lt::SemanticTokenType::ENUM_MEMBER,
    lt::SemanticTokenType::STRUCT,
    lt::SemanticTokenType::PROPERTY,
    lt::SemanticTokenType::VARIABLE,
    lt::SemanticTokenType::FUNCTION,
    lt::SemanticTokenType::CLASS,
    lt::SemanticTokenType::NAMESPACE,
    lt::SemanticTokenType::PARAMETER,
    lt::SemanticTokenType::TYPE,
    lt::SemanticTokenType::KEYWORD,
];

/// The token modifiers, by bit.
pub const TOKEN_MODIFIERS: &[lt::SemanticTokenModifier] = &[
    lt::SemanticTokenModifier::DECLARATION,
    lt::SemanticTokenModifier::READONLY,
];

fn token_type(k: Kind) -> (u32, u32) {
    // (type index, modifier bits besides `declaration`)
    match k {
        Kind::Enum => (0, 0),
        Kind::Variant => (1, 0),
        Kind::Record => (2, 0),
        Kind::Field | Kind::Column => (3, 0),
        Kind::Parameter => (4, 2),
        Kind::Rule | Kind::Function | Kind::Assertion => (5, 0),
        Kind::Output | Kind::Programme => (6, 0),
        Kind::Module => (7, 0),
        Kind::Local => (8, 0),
        Kind::Type => (9, 0),
        _ => (10, 0),
    }
}

/// What the server offers.
pub fn capabilities() -> lt::ServerCapabilities {
    lt::ServerCapabilities {
        text_document_sync: Some(lt::TextDocumentSyncCapability::Kind(
            lt::TextDocumentSyncKind::FULL,
        )),
        hover_provider: Some(lt::HoverProviderCapability::Simple(true)),
        definition_provider: Some(lt::OneOf::Left(true)),
        references_provider: Some(lt::OneOf::Left(true)),
        rename_provider: Some(lt::OneOf::Right(lt::RenameOptions {
            prepare_provider: Some(true),
            work_done_progress_options: Default::default(),
        })),
        completion_provider: Some(lt::CompletionOptions {
            trigger_characters: Some(vec![".".to_string()]),
            ..Default::default()
        }),
        document_symbol_provider: Some(lt::OneOf::Left(true)),
        workspace_symbol_provider: Some(lt::OneOf::Left(true)),
        document_formatting_provider: Some(lt::OneOf::Left(true)),
        code_action_provider: Some(lt::CodeActionProviderCapability::Options(
            lt::CodeActionOptions {
                code_action_kinds: Some(vec![lt::CodeActionKind::QUICKFIX]),
                ..Default::default()
            },
        )),
        semantic_tokens_provider: Some(
            lt::SemanticTokensServerCapabilities::SemanticTokensOptions(
                lt::SemanticTokensOptions {
                    legend: lt::SemanticTokensLegend {
                        token_types: TOKEN_TYPES.to_vec(),
                        token_modifiers: TOKEN_MODIFIERS.to_vec(),
                    },
                    full: Some(lt::SemanticTokensFullOptions::Bool(true)),
                    range: None,
                    work_done_progress_options: Default::default(),
                },
            ),
        ),
        ..Default::default()
    }
}

/// One policy pack: its files, the latest check, and which of its files
/// were last sent diagnostics.
struct PackState {
    pack: Pack,
    analysis: Option<Analysis>,
    published: HashSet<String>,
}

/// The server's state.
struct Server<'c> {
    conn: &'c Connection,
    packs: BTreeMap<PathBuf, PackState>,
    /// Open documents: their pack and path in it.
    open: HashMap<lt::Url, (PathBuf, String)>,
    /// The date hover shows parameter values on.
    as_of: weft::Date,
    /// The editor applies file renames in workspace edits.
    rename_files: bool,
}

fn today() -> weft::Date {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    weft::Date::from_days(i32::try_from(secs / 86_400).unwrap_or(0))
}

/// The pack a file belongs to, and its path in the pack.
pub fn locate(path: &Path) -> Option<(PathBuf, String)> {
    let has_weft = |d: &Path| {
        std::fs::read_dir(d).is_ok_and(|rd| {
            rd.filter_map(|e| e.ok())
                .any(|e| e.path().extension().is_some_and(|x| x == "weft"))
        })
    };
    let mut root = path.parent()?.to_path_buf();
    while let Some(up) = root.parent() {
        if up.as_os_str().is_empty() || !has_weft(up) {
            break;
        }
        root = up.to_path_buf();
    }
    let rel = path
        .strip_prefix(&root)
        .ok()?
        .to_string_lossy()
        .replace('\\', "/");
    Some((root, rel))
}

type Answer = Result<serde_json::Value, (ErrorCode, String)>;

fn json<T: serde::Serialize>(v: T) -> Answer {
    serde_json::to_value(v).map_err(|e| (ErrorCode::InternalError, e.to_string()))
}

fn params<T: serde::de::DeserializeOwned>(req: &Request) -> Result<T, (ErrorCode, String)> {
    serde_json::from_value(req.params.clone())
        .map_err(|e| (ErrorCode::InvalidParams, e.to_string()))
}

fn symbol_kind(k: Kind) -> lt::SymbolKind {
    match k {
        Kind::Enum => lt::SymbolKind::ENUM,
        Kind::Variant => lt::SymbolKind::ENUM_MEMBER,
        Kind::Record => lt::SymbolKind::STRUCT,
        Kind::Field | Kind::Column => lt::SymbolKind::FIELD,
        Kind::Parameter => lt::SymbolKind::CONSTANT,
        Kind::Rule | Kind::Function => lt::SymbolKind::FUNCTION,
        Kind::Output | Kind::Programme => lt::SymbolKind::CLASS,
        Kind::Module => lt::SymbolKind::MODULE,
        Kind::Local => lt::SymbolKind::VARIABLE,
        Kind::Assertion => lt::SymbolKind::EVENT,
        _ => lt::SymbolKind::KEY,
    }
}

fn completion_kind(k: Kind) -> lt::CompletionItemKind {
    match k {
        Kind::Enum => lt::CompletionItemKind::ENUM,
        Kind::Variant => lt::CompletionItemKind::ENUM_MEMBER,
        Kind::Record => lt::CompletionItemKind::STRUCT,
        Kind::Field | Kind::Column => lt::CompletionItemKind::FIELD,
        Kind::Parameter => lt::CompletionItemKind::CONSTANT,
        Kind::Rule | Kind::Function => lt::CompletionItemKind::FUNCTION,
        Kind::Output | Kind::Programme | Kind::Assertion => lt::CompletionItemKind::CLASS,
        Kind::Module => lt::CompletionItemKind::MODULE,
        Kind::Local => lt::CompletionItemKind::VARIABLE,
        Kind::Type => lt::CompletionItemKind::TYPE_PARAMETER,
        _ => lt::CompletionItemKind::KEYWORD,
    }
}

impl<'c> Server<'c> {
    fn new(conn: &'c Connection) -> Server<'c> {
        Server {
            conn,
            packs: BTreeMap::new(),
            open: HashMap::new(),
            as_of: today(),
            rename_files: false,
        }
    }

    /// Settings: `{"asOf": "2019-08-01"}` (the date hover shows parameter
    /// values on), from the initialisation options or the `weft` section of
    /// the configuration.
    fn configure(&mut self, v: &serde_json::Value) {
        let v = v.get("weft").unwrap_or(v);
        if let Some(d) = v.get("asOf").and_then(|d| d.as_str()) {
            let mut parts = d.trim().splitn(3, '-').map(|p| p.parse::<u32>().ok());
            let (y, m, day) = (parts.next(), parts.next(), parts.next());
            if let (Some(Some(y)), Some(Some(m))) = (y, m) {
                let day = day.flatten().unwrap_or(1);
                if let Some(date) = weft::Date::new(y as i32, m, day) {
                    self.as_of = date;
                }
            }
        }
    }

    fn send(&self, m: Message) {
        // A closed connection ends the main loop on the next receive.
        let _ = self.conn.sender.send(m);
    }

    fn main_loop(&mut self) -> Result<(), String> {
        loop {
            let Ok(msg) = self.conn.receiver.recv() else {
                return Ok(());
            };
            match msg {
                Message::Request(req) => {
                    if self.conn.handle_shutdown(&req).map_err(|e| e.to_string())? {
                        return Ok(());
                    }
                    // Answer from the text as it is now.
                    self.refresh();
                    let id = req.id.clone();
                    let answer = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        self.request(&req)
                    }))
                    .unwrap_or_else(|_| {
                        Err((
                            ErrorCode::InternalError,
                            "the Weft server failed on this request".to_string(),
                        ))
                    });
                    self.respond(id, answer);
                }
                Message::Notification(n) => {
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        self.notification(n)
                    }));
                }
                Message::Response(_) => {}
            }
            if self.conn.receiver.is_empty() {
                self.refresh();
            }
        }
    }

    fn respond(&self, id: RequestId, answer: Answer) {
        let resp = match answer {
            Ok(v) => Response::new_ok(id, v),
            Err((code, msg)) => Response::new_err(id, code as i32, msg),
        };
        self.send(Message::Response(resp));
    }

    /// Check every pack changed since its last check and publish its
    /// diagnostics.
    fn refresh(&mut self) {
        let stale: Vec<PathBuf> = self
            .packs
            .iter()
            .filter(|(_, p)| p.analysis.is_none())
            .map(|(r, _)| r.clone())
            .collect();
        for root in stale {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                self.packs.get(&root).map(|p| editor::analyse(&p.pack))
            }));
            if let (Ok(Some(a)), Some(p)) = (outcome, self.packs.get_mut(&root)) {
                p.analysis = Some(a);
            }
            self.publish(&root);
        }
    }

    fn publish(&mut self, root: &Path) {
        let Some(p) = self.packs.get(root) else {
            return;
        };
        let Some(a) = &p.analysis else {
            return;
        };
        let mut by_file: BTreeMap<String, Vec<lt::Diagnostic>> = BTreeMap::new();
        for d in a.diagnostics() {
            let Some(text) = p.pack.text(&d.place.file) else {
                continue;
            };
            let ix = LineIndex::new(text);
            let related: Vec<lt::DiagnosticRelatedInformation> = d
                .related
                .iter()
                .filter_map(|(pl, label)| {
                    let t = p.pack.text(&pl.file)?;
                    let uri = lt::Url::from_file_path(root.join(&pl.file)).ok()?;
                    Some(lt::DiagnosticRelatedInformation {
                        location: lt::Location::new(uri, LineIndex::new(t).range(pl.start, pl.end)),
                        message: label.clone(),
                    })
                })
                .collect();
            let mut message = d.message.clone();
            if !d.label.is_empty() {
                message.push_str(&format!("\n{}", d.label));
            }
            if let Some(h) = &d.help {
                message.push_str(&format!("\nhelp: {h}"));
            }
            for n in &d.notes {
                message.push_str(&format!("\nnote: {n}"));
            }
            by_file
                .entry(d.place.file.clone())
                .or_default()
                .push(lt::Diagnostic {
                    range: ix.range(d.place.start, d.place.end),
                    severity: Some(if d.is_error {
                        lt::DiagnosticSeverity::ERROR
                    } else {
                        lt::DiagnosticSeverity::WARNING
                    }),
                    code: Some(lt::NumberOrString::String(d.code.clone())),
                    source: Some("weft".to_string()),
                    message,
                    related_information: (!related.is_empty()).then_some(related),
                    ..Default::default()
                });
        }
        // Files with diagnostics, files that had some, and open files (an
        // empty list says the file was checked and is clean).
        let mut files: HashSet<String> = by_file.keys().cloned().collect();
        files.extend(p.published.iter().cloned());
        files.extend(
            self.open
                .values()
                .filter(|(r, _)| r == root)
                .map(|(_, f)| f.clone()),
        );
        let mut sent = HashSet::new();
        for f in files {
            let diags = by_file.remove(&f).unwrap_or_default();
            if !diags.is_empty() {
                sent.insert(f.clone());
            }
            let Ok(uri) = lt::Url::from_file_path(root.join(&f)) else {
                continue;
            };
            let params = lt::PublishDiagnosticsParams::new(uri, diags, None);
            if let Ok(v) = serde_json::to_value(params) {
                self.send(Message::Notification(Notification::new(
                    lt::notification::PublishDiagnostics::METHOD.to_string(),
                    v,
                )));
            }
        }
        if let Some(p) = self.packs.get_mut(root) {
            p.published = sent;
        }
    }

    fn notification(&mut self, n: Notification) {
        use lt::notification as ln;
        match n.method.as_str() {
            ln::DidOpenTextDocument::METHOD => {
                if let Ok(p) = serde_json::from_value::<lt::DidOpenTextDocumentParams>(n.params) {
                    self.set_text(&p.text_document.uri, Some(&p.text_document.text));
                }
            }
            ln::DidChangeTextDocument::METHOD => {
                if let Ok(p) = serde_json::from_value::<lt::DidChangeTextDocumentParams>(n.params) {
                    // Full synchronisation: the last change is the whole text.
                    if let Some(c) = p.content_changes.last() {
                        if c.range.is_none() {
                            self.set_text(&p.text_document.uri, Some(&c.text));
                        }
                    }
                }
            }
            ln::DidCloseTextDocument::METHOD => {
                if let Ok(p) = serde_json::from_value::<lt::DidCloseTextDocumentParams>(n.params) {
                    let uri = p.text_document.uri;
                    self.set_text(&uri, None);
                    self.open.remove(&uri);
                }
            }
            ln::DidChangeConfiguration::METHOD => {
                if let Ok(p) = serde_json::from_value::<lt::DidChangeConfigurationParams>(n.params)
                {
                    self.configure(&p.settings);
                }
            }
            ln::DidChangeWatchedFiles::METHOD => {
                if let Ok(p) = serde_json::from_value::<lt::DidChangeWatchedFilesParams>(n.params) {
                    for c in p.changes {
                        if !self.open.contains_key(&c.uri) {
                            self.set_text(&c.uri, None);
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// The pack of a document, loaded from disk the first time.
    fn pack_of(&mut self, uri: &lt::Url) -> Option<(PathBuf, String)> {
        if let Some(x) = self.open.get(uri) {
            return Some(x.clone());
        }
        let path = uri.to_file_path().ok()?;
        let (root, rel) = locate(&path)?;
        if !self.packs.contains_key(&root) {
            let pack = Pack::read_dir(&root).unwrap_or_default();
            self.packs.insert(
                root.clone(),
                PackState {
                    pack,
                    analysis: None,
                    published: HashSet::new(),
                },
            );
        }
        Some((root, rel))
    }

    /// A document's text changed (`None`: use the file on disk).
    fn set_text(&mut self, uri: &lt::Url, text: Option<&str>) {
        let Some((root, rel)) = self.pack_of(uri) else {
            return;
        };
        if text.is_some() {
            self.open.insert(uri.clone(), (root.clone(), rel.clone()));
        }
        let Some(p) = self.packs.get_mut(&root) else {
            return;
        };
        match text {
            Some(t) => p.pack.set_file(&rel, t),
            None => match std::fs::read_to_string(root.join(&rel)) {
                Ok(t) => p.pack.set_file(&rel, &t),
                Err(_) => p.pack.remove_file(&rel),
            },
        }
        p.analysis = None;
    }

    /// A document's pack state, path and text.
    fn doc(&mut self, uri: &lt::Url) -> Result<(PathBuf, String), (ErrorCode, String)> {
        let (root, rel) = self.pack_of(uri).ok_or((
            ErrorCode::InvalidParams,
            format!("{uri} is not a file of a Weft policy"),
        ))?;
        if self.packs.get(&root).is_some_and(|p| p.analysis.is_none()) {
            self.refresh();
        }
        Ok((root, rel))
    }

    fn request(&mut self, req: &Request) -> Answer {
        use lt::request as rq;
        match req.method.as_str() {
            rq::HoverRequest::METHOD => {
                let p: lt::HoverParams = params(req)?;
                let tp = p.text_document_position_params;
                let as_of = self.as_of;
                self.at(&tp, |a, pack, rel, off| {
                    let h = a.hover(rel, off, as_of)?;
                    let text = pack.text(&h.place.file)?;
                    Some(lt::Hover {
                        contents: lt::HoverContents::Markup(lt::MarkupContent {
                            kind: lt::MarkupKind::Markdown,
                            value: h.markdown,
                        }),
                        range: Some(LineIndex::new(text).range(h.place.start, h.place.end)),
                    })
                })
            }
            rq::GotoDefinition::METHOD => {
                let p: lt::GotoDefinitionParams = params(req)?;
                let tp = p.text_document_position_params;
                let root = self.doc(&tp.text_document.uri)?.0;
                self.at(&tp, |a, pack, rel, off| {
                    let d = a.definition(rel, off)?;
                    location(&root, pack, &d).map(lt::GotoDefinitionResponse::Scalar)
                })
            }
            rq::References::METHOD => {
                let p: lt::ReferenceParams = params(req)?;
                let tp = p.text_document_position;
                let root = self.doc(&tp.text_document.uri)?.0;
                let decl = p.context.include_declaration;
                self.at(&tp, |a, pack, rel, off| {
                    let v: Vec<lt::Location> = a
                        .references(rel, off, decl)
                        .iter()
                        .filter_map(|pl| location(&root, pack, pl))
                        .collect();
                    Some(v)
                })
            }
            rq::PrepareRenameRequest::METHOD => {
                let tp: lt::TextDocumentPositionParams = params(req)?;
                let (root, rel) = self.doc(&tp.text_document.uri)?;
                let (a, pack) = self.analysis(&root)?;
                let text = pack.text(&rel).unwrap_or("");
                let ix = LineIndex::new(text);
                let off = ix.offset(tp.position);
                // Renaming to the same name tells whether it can be renamed.
                let here = a
                    .references(&rel, off, true)
                    .into_iter()
                    .find(|pl| pl.file == rel && pl.start <= off && off <= pl.end);
                match (here, a.rename(&rel, off, "x")) {
                    (Some(pl), Ok(_)) => {
                        json(lt::PrepareRenameResponse::Range(ix.range(pl.start, pl.end)))
                    }
                    (_, Err(e)) => Err((ErrorCode::InvalidRequest, e)),
                    (None, Ok(_)) => json(serde_json::Value::Null),
                }
            }
            rq::Rename::METHOD => {
                let p: lt::RenameParams = params(req)?;
                let tp = p.text_document_position;
                let (root, rel) = self.doc(&tp.text_document.uri)?;
                let (a, pack) = self.analysis(&root)?;
                let off = LineIndex::new(pack.text(&rel).unwrap_or("")).offset(tp.position);
                let edits = a
                    .rename(&rel, off, &p.new_name)
                    .map_err(|e| (ErrorCode::InvalidRequest, e))?;
                let files = a.renamed_files(&rel, off, &p.new_name);
                if files.is_empty() {
                    return json(workspace_edit(&root, pack, &edits));
                }
                if !self.rename_files {
                    return Err((
                        ErrorCode::InvalidRequest,
                        format!(
                            "this parameter is named by its file {}, and this editor cannot rename files: rename the file, then its uses",
                            files[0].0
                        ),
                    ));
                }
                json(workspace_edit_renaming(&root, pack, &edits, &files))
            }
            rq::Completion::METHOD => {
                let p: lt::CompletionParams = params(req)?;
                let tp = p.text_document_position;
                let (root, rel) = self.doc(&tp.text_document.uri)?;
                let (a, pack) = self.analysis(&root)?;
                let text = pack.text(&rel).unwrap_or("");
                let ix = LineIndex::new(text);
                let off = ix.offset(tp.position);
                let items: Vec<lt::CompletionItem> = a
                    .completions(&rel, text, off)
                    .into_iter()
                    .map(|c| lt::CompletionItem {
                        label: c.label,
                        kind: Some(completion_kind(c.kind)),
                        detail: Some(c.detail),
                        additional_text_edits: (!c.extra.is_empty()).then(|| {
                            c.extra
                                .iter()
                                .map(|e| {
                                    lt::TextEdit::new(
                                        ix.range(e.place.start, e.place.end),
                                        e.text.clone(),
                                    )
                                })
                                .collect()
                        }),
                        ..Default::default()
                    })
                    .collect();
                json(lt::CompletionResponse::Array(items))
            }
            rq::DocumentSymbolRequest::METHOD => {
                let p: lt::DocumentSymbolParams = params(req)?;
                let (root, rel) = self.doc(&p.text_document.uri)?;
                let (a, pack) = self.analysis(&root)?;
                let ix = LineIndex::new(pack.text(&rel).unwrap_or(""));
                #[allow(deprecated)]
                fn convert(ix: &LineIndex, s: &editor::Symbol) -> lt::DocumentSymbol {
                    lt::DocumentSymbol {
                        name: s.name.clone(),
                        detail: Some(s.detail.clone()),
                        kind: symbol_kind(s.kind),
                        tags: None,
                        deprecated: None,
                        range: ix.range(
                            s.extent.start.min(s.place.start),
                            s.extent.end.max(s.place.end),
                        ),
                        selection_range: ix.range(s.place.start, s.place.end),
                        children: (!s.children.is_empty())
                            .then(|| s.children.iter().map(|c| convert(ix, c)).collect()),
                    }
                }
                let v: Vec<lt::DocumentSymbol> =
                    a.symbols(&rel).iter().map(|s| convert(&ix, s)).collect();
                json(lt::DocumentSymbolResponse::Nested(v))
            }
            rq::WorkspaceSymbolRequest::METHOD => {
                let p: lt::WorkspaceSymbolParams = params(req)?;
                self.refresh();
                let mut out = Vec::new();
                for (root, ps) in &self.packs {
                    let Some(a) = &ps.analysis else { continue };
                    for s in a.workspace_symbols(&p.query) {
                        if let Some(loc) = location(root, &ps.pack, &s.place) {
                            #[allow(deprecated)]
                            out.push(lt::SymbolInformation {
                                name: s.name,
                                kind: symbol_kind(s.kind),
                                tags: None,
                                deprecated: None,
                                location: loc,
                                container_name: Some(s.place.file.clone()),
                            });
                        }
                    }
                }
                json(lt::WorkspaceSymbolResponse::Flat(out))
            }
            rq::Formatting::METHOD => {
                let p: lt::DocumentFormattingParams = params(req)?;
                let (root, rel) = self.doc(&p.text_document.uri)?;
                let (_, pack) = self.analysis(&root)?;
                let text = pack.text(&rel).unwrap_or("");
                if !rel.ends_with(".weft") {
                    return json(serde_json::Value::Null);
                }
                match editor::format(text) {
                    Some(f) if f != text => {
                        let ix = LineIndex::new(text);
                        json(vec![lt::TextEdit::new(ix.range(0, text.len()), f)])
                    }
                    Some(_) => json(Vec::<lt::TextEdit>::new()),
                    // Text that does not parse is left as it is; the
                    // diagnostics say why.
                    None => json(serde_json::Value::Null),
                }
            }
            rq::SemanticTokensFullRequest::METHOD => {
                let p: lt::SemanticTokensParams = params(req)?;
                let (root, rel) = self.doc(&p.text_document.uri)?;
                let (a, pack) = self.analysis(&root)?;
                let ix = LineIndex::new(pack.text(&rel).unwrap_or(""));
                let mut data = Vec::new();
                let (mut line, mut col) = (0u32, 0u32);
                for t in a.tokens(&rel) {
                    let s = ix.position(t.start);
                    let e = ix.position(t.end);
                    if e.line != s.line || e.character <= s.character {
                        continue;
                    }
                    let (ty, mods) = token_type(t.kind);
                    let delta_line = s.line - line;
                    let delta_start = if delta_line == 0 {
                        s.character - col
                    } else {
                        s.character
                    };
                    data.push(lt::SemanticToken {
                        delta_line,
                        delta_start,
                        length: e.character - s.character,
                        token_type: ty,
                        token_modifiers_bitset: mods | u32::from(t.declaration),
                    });
                    line = s.line;
                    col = s.character;
                }
                json(lt::SemanticTokensResult::Tokens(lt::SemanticTokens {
                    result_id: None,
                    data,
                }))
            }
            rq::CodeActionRequest::METHOD => {
                let p: lt::CodeActionParams = params(req)?;
                let (root, rel) = self.doc(&p.text_document.uri)?;
                let (a, pack) = self.analysis(&root)?;
                let ix = LineIndex::new(pack.text(&rel).unwrap_or(""));
                let (lo, hi) = (ix.offset(p.range.start), ix.offset(p.range.end));
                let mut out = Vec::new();
                for d in a.diagnostics() {
                    if d.place.file != rel || d.place.end < lo || d.place.start > hi {
                        continue;
                    }
                    let diag = lt::Diagnostic {
                        range: ix.range(d.place.start, d.place.end),
                        code: Some(lt::NumberOrString::String(d.code.clone())),
                        message: d.message.clone(),
                        source: Some("weft".to_string()),
                        ..Default::default()
                    };
                    for (i, f) in d.fixes.iter().enumerate() {
                        out.push(lt::CodeActionOrCommand::CodeAction(lt::CodeAction {
                            title: f.title.clone(),
                            kind: Some(lt::CodeActionKind::QUICKFIX),
                            diagnostics: Some(vec![diag.clone()]),
                            edit: Some(workspace_edit(&root, pack, &f.edits)),
                            is_preferred: Some(i == 0),
                            ..Default::default()
                        }));
                    }
                }
                json(out)
            }
            _ => Err((
                ErrorCode::MethodNotFound,
                format!("`{}` is not supported", req.method),
            )),
        }
    }

    fn analysis(&self, root: &Path) -> Result<(&Analysis, &Pack), (ErrorCode, String)> {
        let p = self.packs.get(root).ok_or((
            ErrorCode::InternalError,
            "the policy is not loaded".to_string(),
        ))?;
        let a = p.analysis.as_ref().ok_or((
            ErrorCode::InternalError,
            "the policy could not be checked".to_string(),
        ))?;
        Ok((a, &p.pack))
    }

    /// Answer a request about a position with `f(analysis, pack, path,
    /// offset)`; `null` when it has nothing to say.
    fn at<T: serde::Serialize>(
        &mut self,
        tp: &lt::TextDocumentPositionParams,
        f: impl FnOnce(&Analysis, &Pack, &str, usize) -> Option<T>,
    ) -> Answer {
        let (root, rel) = self.doc(&tp.text_document.uri)?;
        let (a, pack) = self.analysis(&root)?;
        let off = LineIndex::new(pack.text(&rel).unwrap_or("")).offset(tp.position);
        match f(a, pack, &rel, off) {
            Some(v) => json(v),
            None => json(serde_json::Value::Null),
        }
    }
}

fn location(root: &Path, pack: &Pack, pl: &editor::Place) -> Option<lt::Location> {
    let text = pack.text(&pl.file)?;
    let uri = lt::Url::from_file_path(root.join(&pl.file)).ok()?;
    Some(lt::Location::new(
        uri,
        LineIndex::new(text).range(pl.start, pl.end),
    ))
}

/// Text edits, then file renames (`(old, new)` relative to the pack), as
/// document changes: the edits apply to the files under their old names.
fn workspace_edit_renaming(
    root: &Path,
    pack: &Pack,
    edits: &[editor::Edit],
    files: &[(String, String)],
) -> lt::WorkspaceEdit {
    let mut ops = Vec::new();
    let changes = workspace_edit(root, pack, edits)
        .changes
        .unwrap_or_default();
    let mut changes: Vec<(lt::Url, Vec<lt::TextEdit>)> = changes.into_iter().collect();
    changes.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
    for (uri, edits) in changes {
        ops.push(lt::DocumentChangeOperation::Edit(lt::TextDocumentEdit {
            text_document: lt::OptionalVersionedTextDocumentIdentifier { uri, version: None },
            edits: edits.into_iter().map(lt::OneOf::Left).collect(),
        }));
    }
    for (old, new) in files {
        let (Ok(old_uri), Ok(new_uri)) = (
            lt::Url::from_file_path(root.join(old)),
            lt::Url::from_file_path(root.join(new)),
        ) else {
            continue;
        };
        ops.push(lt::DocumentChangeOperation::Op(lt::ResourceOp::Rename(
            lt::RenameFile {
                old_uri,
                new_uri,
                options: Some(lt::RenameFileOptions {
                    overwrite: Some(false),
                    ignore_if_exists: Some(false),
                }),
                annotation_id: None,
            },
        )));
    }
    lt::WorkspaceEdit {
        document_changes: Some(lt::DocumentChanges::Operations(ops)),
        ..Default::default()
    }
}

fn workspace_edit(root: &Path, pack: &Pack, edits: &[editor::Edit]) -> lt::WorkspaceEdit {
    let mut changes: HashMap<lt::Url, Vec<lt::TextEdit>> = HashMap::new();
    for e in edits {
        let Some(text) = pack.text(&e.place.file) else {
            continue;
        };
        let Ok(uri) = lt::Url::from_file_path(root.join(&e.place.file)) else {
            continue;
        };
        let ix = LineIndex::new(text);
        changes.entry(uri).or_default().push(lt::TextEdit::new(
            ix.range(e.place.start, e.place.end),
            e.text.clone(),
        ));
    }
    lt::WorkspaceEdit::new(changes)
}
