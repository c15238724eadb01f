//! Editor support: what a language server (`weft lsp`) asks of a policy
//! while a drafter types it.
//!
//! A [`Pack`] is the text of a policy pack in memory — the files on disk
//! with the editor's unsaved buffers laid over them. [`analyse`] parses and
//! checks it whole (never failing: broken text gives diagnostics and a
//! best-effort model) and returns an [`Analysis`], which answers questions
//! by file and **byte offset**: diagnostics with their places and quick
//! fixes, hover, definition, references, rename edits, completion,
//! symbols and semantic tokens. Files are named by their path relative to
//! the pack, as in diagnostics (`tests/dibao.weft`); converting to lines and
//! UTF-16 columns is the server's business.
//!
//! Everything here is built on the checker's semantic model
//! (`weft_check::model`); what the model does not know is worked out from
//! the text, and says so where it does (the imports a file has, a local's
//! record type in an item that does not parse yet, parameter names in TOML
//! files). Nothing here panics on any text.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use weft_check::hir::{PVal, Program};
use weft_check::model::Target;
use weft_check::pack::{Compiled, PackSources, module_name};
use weft_check::ty::Ty;
use weft_engine::load::PackFiles;
use weft_syntax::{FileId, Span};

/// The text of a policy pack held in memory.
#[derive(Debug, Clone, Default)]
pub struct Pack {
    src: PackSources,
}

impl Pack {
    /// An empty pack.
    pub fn new() -> Pack {
        Pack::default()
    }

    /// Every `.weft`, `.toml` and `.csv` file below `dir`, as `weft check`
    /// reads them.
    pub fn read_dir(dir: &Path) -> std::io::Result<Pack> {
        Ok(Pack {
            src: PackSources::from_dir(dir)?,
        })
    }

    /// Set the text of a file (`path` relative to the pack): a `.weft`
    /// module, or a `.toml`/`.csv` parameter file. Other files are ignored.
    pub fn set_file(&mut self, path: &str, text: &str) {
        self.src.unreadable.retain(|(p, _)| p != path);
        let list = if path.ends_with(".weft") {
            &mut self.src.modules
        } else if path.ends_with(".toml") || path.ends_with(".csv") {
            &mut self.src.params
        } else {
            return;
        };
        match list.iter_mut().find(|(p, _)| p == path) {
            Some(entry) => entry.1 = text.to_string(),
            None => {
                list.push((path.to_string(), text.to_string()));
                list.sort_by(|a, b| a.0.cmp(&b.0));
            }
        }
    }

    /// Forget a file (it was deleted).
    pub fn remove_file(&mut self, path: &str) {
        self.src.modules.retain(|(p, _)| p != path);
        self.src.params.retain(|(p, _)| p != path);
        self.src.unreadable.retain(|(p, _)| p != path);
    }

    /// The text of a file of the pack.
    pub fn text(&self, path: &str) -> Option<&str> {
        self.src
            .modules
            .iter()
            .chain(&self.src.params)
            .find(|(p, _)| p == path)
            .map(|(_, t)| t.as_str())
    }

    /// The paths of the pack's files.
    pub fn files(&self) -> Vec<String> {
        self.src
            .modules
            .iter()
            .chain(&self.src.params)
            .map(|(p, _)| p.clone())
            .collect()
    }
}

/// Parse and check a whole pack, keeping the semantic model.
pub fn analyse(pack: &Pack) -> Analysis {
    let c = weft_check::pack::compile_pack(&pack.src);
    let mut files = HashMap::new();
    for (id, f) in c.sources.iter() {
        let _ = f;
        files.insert(c.sources.name(id).to_string(), id);
    }
    Analysis { c, files }
}

/// Format the text of one `.weft` file as `weft fmt` does (`None` when it
/// does not parse, or cannot be formatted safely).
pub fn format(text: &str) -> Option<String> {
    // On a thread with a large stack, as checking runs, so that deeply
    // nested input cannot overflow it.
    let text = text.to_string();
    std::thread::Builder::new()
        .name("weft-format".into())
        .stack_size(256 * 1024 * 1024)
        .spawn(move || weft_syntax::fmt::format_source(&text).ok())
        .ok()?
        .join()
        .ok()
        .flatten()
}

/// A byte range in a file of the pack.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Place {
    /// The file's path relative to the pack.
    pub file: String,
    /// The first byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

/// Replace the text of a place.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Edit {
    /// What is replaced (empty to insert).
    pub place: Place,
    /// The new text.
    pub text: String,
}

/// A quick fix: edits that resolve a diagnostic.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Fix {
    /// What it does, for the menu: "replace `，` by `,`".
    pub title: String,
    /// The edits, in any file of the pack.
    pub edits: Vec<Edit>,
}

/// A diagnostic, with its place in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EditorDiagnostic {
    /// The stable code (`E0202`).
    pub code: String,
    /// An error (otherwise a warning).
    pub is_error: bool,
    /// One sentence.
    pub message: String,
    /// The primary label's place and text; a diagnostic without a place is
    /// put at the start of the pack's first file.
    pub place: Place,
    /// The primary label's text.
    pub label: String,
    /// The other labels.
    pub related: Vec<(Place, String)>,
    /// What to do.
    pub help: Option<String>,
    /// Notes naming places in other files.
    pub notes: Vec<String>,
    /// Quick fixes.
    pub fixes: Vec<Fix>,
}

/// What a name or an expression is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// An enum.
    Enum,
    /// A variant of an enum.
    Variant,
    /// A record.
    Record,
    /// A field of a record.
    Field,
    /// A parameter or series.
    Parameter,
    /// A rule (a formula, table, scale or cascade).
    Rule,
    /// An output.
    Output,
    /// A column of an output.
    Column,
    /// A programme.
    Programme,
    /// An assertion.
    Assertion,
    /// A module.
    Module,
    /// A local: a rule's parameter, a `let` or another binding.
    Local,
    /// A built-in function.
    Function,
    /// A keyword.
    Keyword,
    /// A built-in type.
    Type,
}

/// A declaration, for outlines and symbol search.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Symbol {
    /// Its name.
    pub name: String,
    /// What it is.
    pub kind: Kind,
    /// "rule `dibao` of a `Household`: Money per month".
    pub detail: String,
    /// Its name in the declaration.
    pub place: Place,
    /// The whole declaration (from its first line to the next item).
    pub extent: Place,
    /// Its parts (variants, fields, columns).
    pub children: Vec<Symbol>,
}

/// What a hover shows.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HoverInfo {
    /// The text hovered.
    pub place: Place,
    /// Markdown: the thing and its type, doc comment, citation and, for a
    /// parameter, its versions and the value in force.
    pub markdown: String,
}

/// A completion.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Completion {
    /// The name offered.
    pub label: String,
    /// What it is.
    pub kind: Kind,
    /// Its description.
    pub detail: String,
    /// Edits elsewhere that go with it (the import it needs).
    pub extra: Vec<Edit>,
}

/// A name in the text, for semantic highlighting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Token {
    /// Its first byte.
    pub start: usize,
    /// One past its last byte.
    pub end: usize,
    /// What it names.
    pub kind: Kind,
    /// It is the declaration itself.
    pub declaration: bool,
}

/// A pack parsed and checked, with its semantic model. See the
/// [module](self) doc.
pub struct Analysis {
    c: Compiled,
    files: HashMap<String, FileId>,
}

impl std::fmt::Debug for Analysis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analysis")
            .field("files", &self.files.len())
            .field("diagnostics", &self.c.diagnostics.len())
            .finish()
    }
}

fn kind_of(t: Target) -> Kind {
    match t {
        Target::Enum(_) => Kind::Enum,
        Target::Variant(..) => Kind::Variant,
        Target::Record(_) => Kind::Record,
        Target::Field(..) => Kind::Field,
        Target::Param(_) => Kind::Parameter,
        Target::Rule(_) => Kind::Rule,
        Target::Output(_) => Kind::Output,
        Target::Column(..) => Kind::Column,
        Target::Programme(_) => Kind::Programme,
        Target::Assert(_) => Kind::Assertion,
        Target::Module(_) => Kind::Module,
        Target::Local(_) => Kind::Local,
    }
}

/// The keywords of the language, for completion (the parser's list).
pub const KEYWORDS: &[&str] = weft_syntax::parse::KEYWORDS;

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Whether `name` can be a Weft name (not a keyword or a built-in).
pub fn is_valid_name(name: &str) -> bool {
    let mut cs = name.chars();
    match cs.next() {
        Some(c) if c.is_alphabetic() || c == '_' => {}
        _ => return false,
    }
    cs.all(is_ident_char) && !KEYWORDS.contains(&name) && !weft_check::builtins::is_reserved(name)
}

/// The largest char boundary at or before `offset` in `text`.
fn floor(text: &str, offset: usize) -> usize {
    let mut o = offset.min(text.len());
    while o > 0 && !text.is_char_boundary(o) {
        o -= 1;
    }
    o
}

/// The imports of a file, from its text: whole modules, and names by
/// module (`import m.{a, b}`), with the place of the closing brace.
struct Imports {
    whole: HashSet<String>,
    names: HashMap<String, (HashSet<String>, usize)>,
    /// Where a new import line goes.
    insert_at: usize,
}

fn imports(text: &str) -> Imports {
    let mut out = Imports {
        whole: HashSet::new(),
        names: HashMap::new(),
        insert_at: 0,
    };
    let mut pos = 0;
    let mut seen_code = false;
    for line in text.split_inclusive('\n') {
        let start = pos;
        pos += line.len();
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("import ") {
            let rest = rest.split("//").next().unwrap_or("").trim();
            match rest.split_once('{') {
                Some((m, names)) => {
                    let m = m.trim().trim_end_matches('.').trim().to_string();
                    let close = line.find('}').map(|i| start + i);
                    let set: HashSet<String> = names
                        .trim_end_matches('}')
                        .split(',')
                        .map(|n| n.trim().to_string())
                        .filter(|n| !n.is_empty())
                        .collect();
                    if let Some(close) = close {
                        let entry = out.names.entry(m).or_insert((HashSet::new(), close));
                        entry.0.extend(set);
                        entry.1 = close;
                    }
                }
                None => {
                    out.whole.insert(rest.to_string());
                }
            }
            out.insert_at = pos;
            seen_code = true;
        } else if !seen_code && (t.is_empty() || t.starts_with("//") && !t.starts_with("///")) {
            out.insert_at = pos;
        } else {
            seen_code = true;
        }
    }
    out
}

impl Analysis {
    fn file(&self, name: &str) -> Option<FileId> {
        self.files.get(name).copied()
    }

    fn name(&self, id: FileId) -> String {
        self.c.sources.name(id).to_string()
    }

    fn place(&self, s: Span) -> Place {
        Place {
            file: self.name(s.file),
            start: s.start as usize,
            end: s.end as usize,
        }
    }

    fn text(&self, id: FileId) -> &str {
        self.c.sources.text(id)
    }

    fn program(&self) -> &Program {
        &self.c.program
    }

    /// The files checked (their paths relative to the pack).
    pub fn files(&self) -> Vec<String> {
        let mut v: Vec<String> = self.files.keys().cloned().collect();
        v.sort();
        v
    }

    /// Every diagnostic of the pack, sorted by file and place, with its
    /// quick fixes.
    pub fn diagnostics(&self) -> Vec<EditorDiagnostic> {
        let first = self
            .c
            .sources
            .iter()
            .next()
            .map(|(id, _)| self.name(id))
            .unwrap_or_default();
        self.c
            .diagnostics
            .iter()
            .map(|d| {
                let (place, label) = match d.labels.first() {
                    Some(l) => (self.place(l.span), l.text.clone()),
                    None => (
                        Place {
                            file: first.clone(),
                            start: 0,
                            end: 0,
                        },
                        String::new(),
                    ),
                };
                let related = d
                    .labels
                    .iter()
                    .skip(1)
                    .map(|l| (self.place(l.span), l.text.clone()))
                    .collect();
                EditorDiagnostic {
                    code: d.code.to_string(),
                    is_error: d.is_error(),
                    message: d.message.clone(),
                    fixes: self.fixes(d),
                    place,
                    label,
                    related,
                    help: d.help.clone(),
                    notes: d.notes.clone(),
                }
            })
            .collect()
    }

    /// The quick fixes of a diagnostic.
    fn fixes(&self, d: &weft_syntax::Diagnostic) -> Vec<Fix> {
        let Some(span) = d.span() else {
            return Vec::new();
        };
        let text = self.text(span.file);
        let here = text
            .get(span.start as usize..span.end as usize)
            .unwrap_or("");
        match d.code {
            "E0102" => {
                let Some(c) = here.chars().next() else {
                    return Vec::new();
                };
                let a = if c == '\u{3000}' {
                    ' '
                } else {
                    match weft_syntax::scan::ascii_for(c) {
                        Some(a) => a,
                        None => return Vec::new(),
                    }
                };
                let mut fixes = vec![Fix {
                    title: format!("replace `{c}` by `{a}`"),
                    edits: vec![Edit {
                        place: self.place(span),
                        text: a.to_string(),
                    }],
                }];
                let all = fullwidth_edits(text);
                if all.len() > 1 {
                    let file = self.name(span.file);
                    fixes.push(Fix {
                        title: "replace all full-width punctuation in this file".to_string(),
                        edits: all
                            .into_iter()
                            .map(|(start, end, a)| Edit {
                                place: Place {
                                    file: file.clone(),
                                    start,
                                    end,
                                },
                                text: a.to_string(),
                            })
                            .collect(),
                    });
                }
                fixes
            }
            "E0202" => match self.import_edit(span.file, here) {
                Some((m, e)) => vec![Fix {
                    title: format!("import `{here}` from `{m}`"),
                    edits: vec![e],
                }],
                None => Vec::new(),
            },
            "E0203" => {
                let Some(s) = d
                    .help
                    .as_deref()
                    .and_then(|h| h.strip_prefix("did you mean `"))
                    .and_then(|h| h.split('`').next())
                else {
                    return Vec::new();
                };
                let mut edits = vec![Edit {
                    place: self.place(span),
                    text: s.to_string(),
                }];
                let mut title = format!("change to `{s}`");
                if let Some((m, e)) = self.import_edit(span.file, s) {
                    title = format!("change to `{s}` and import it from `{m}`");
                    edits.push(e);
                }
                vec![Fix { title, edits }]
            }
            _ => Vec::new(),
        }
    }

    /// The module declaring a top-level `name`, and the edit that imports it
    /// into `file` (`None` if it is declared nowhere or already visible).
    fn import_edit(&self, file: FileId, name: &str) -> Option<(String, Edit)> {
        let it = self.c.model.items().iter().find(|i| i.name == name)?;
        if it.span.file == file {
            return None;
        }
        let m = module_name(&self.name(it.span.file));
        let imp = imports(self.text(file));
        if imp.whole.contains(&m) {
            return None;
        }
        let fname = self.name(file);
        let edit = match imp.names.get(&m) {
            Some((names, _)) if names.contains(name) => return None,
            Some((_, close)) => Edit {
                place: Place {
                    file: fname,
                    start: *close,
                    end: *close,
                },
                text: format!(", {name}"),
            },
            None => Edit {
                place: Place {
                    file: fname,
                    start: imp.insert_at,
                    end: imp.insert_at,
                },
                text: format!("import {m}.{{{name}}}\n"),
            },
        };
        Some((m, edit))
    }

    /// What the name or expression at `offset` is: its kind and type, doc
    /// comment, citation, and for a parameter its versions and the value in
    /// force on `as_of`.
    pub fn hover(&self, file: &str, offset: usize, as_of: crate::Date) -> Option<HoverInfo> {
        let id = self.file(file)?;
        let prog = self.program();
        let h = self.c.model.hover(prog, id, offset)?;
        let mut lines = h.text.split("\n\n");
        let head = lines.next().unwrap_or_default();
        let mut md = format!("```weft\n{head}\n```");
        for rest in lines {
            md.push_str("\n\n");
            md.push_str(rest);
        }
        if let Some(Target::Param(p)) = self.c.model.target_at(id, offset) {
            md.push_str(&self.param_versions(p.index(), as_of));
        }
        Some(HoverInfo {
            place: self.place(h.span),
            markdown: md,
        })
    }

    /// A parameter's versions and the values in force on `as_of`.
    fn param_versions(&self, p: usize, as_of: crate::Date) -> String {
        let prog = self.program();
        let Some(pd) = prog.params.get(p) else {
            return String::new();
        };
        let date = weft_syntax::num::format_date(as_of.days());
        let mut s = String::from("\n\n**versions**: ");
        let dates: Vec<String> = pd
            .versions
            .iter()
            .map(|v| weft_syntax::num::format_date(v.effective))
            .collect();
        const SHOWN: usize = 12;
        if dates.len() > SHOWN {
            let skip = dates.len() - SHOWN;
            s.push_str(&format!("… ({skip} earlier), "));
            s.push_str(&dates[skip..].join(", "));
        } else {
            s.push_str(&dates.join(", "));
        }
        let Some(v) = pd.version_at(as_of.days()) else {
            s.push_str(&format!("\n\nno version in force on {date}"));
            return s;
        };
        s.push_str(&format!(
            "\n\n**in force on {date}** (from {}, {}):",
            weft_syntax::num::format_date(v.effective),
            v.origin
        ));
        let show = |pv: &Option<PVal>| -> String {
            match pv {
                Some(PVal::Scalar(x)) => weft_ir::value::display_value(prog, &pd.ty, *x),
                Some(PVal::Bands(b)) => b
                    .iter()
                    .map(|b| {
                        let hi =
                            b.hi.map(weft_syntax::num::format_money)
                                .unwrap_or_else(|| "…".to_string());
                        format!(
                            "[{}, {hi}) at {}",
                            weft_syntax::num::format_money(b.lo),
                            weft_syntax::num::format_decimal(b.rate)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
                None => "(missing)".to_string(),
            }
        };
        if pd.keys.is_empty() {
            let value = v.values.first().map(show).unwrap_or_default();
            s.push_str(&format!(" {value}"));
            return s;
        }
        const ROWS: usize = 40;
        for (slot, pv) in v.values.iter().enumerate().take(ROWS) {
            let key: Vec<String> = pd
                .key_of(slot)
                .iter()
                .zip(&pd.keys)
                .map(|(var, (e, _))| {
                    prog.enums
                        .get(*e)
                        .and_then(|en| en.variants.get(*var as usize))
                        .map(|x| x.name.clone())
                        .unwrap_or_default()
                })
                .collect();
            s.push_str(&format!("\n- {}: {}", key.join(", "), show(pv)));
        }
        if v.values.len() > ROWS {
            s.push_str(&format!("\n- … ({} more)", v.values.len() - ROWS));
        }
        s
    }

    /// Where the name at `offset` is declared.
    pub fn definition(&self, file: &str, offset: usize) -> Option<Place> {
        let id = self.file(file)?;
        let d = self.c.model.definition_at(id, offset)?;
        Some(self.place(d.span))
    }

    /// Every place naming what the name at `offset` names (with its
    /// declaration if asked), including a parameter's tables in TOML files.
    pub fn references(&self, file: &str, offset: usize, declaration: bool) -> Vec<Place> {
        let Some(id) = self.file(file) else {
            return Vec::new();
        };
        let Some(t) = self.c.model.target_at(id, offset) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        if declaration {
            if let Some(s) = self.c.model.definition(t) {
                out.push(self.place(s));
            }
        }
        out.extend(
            self.c
                .model
                .references(t)
                .into_iter()
                .map(|s| self.place(s)),
        );
        if let Target::Param(p) = t {
            if let Some(pd) = self.program().params.get(p) {
                out.extend(self.toml_mentions(&pd.name));
            }
        }
        out.dedup();
        out
    }

    /// The headers of a parameter's tables in the pack's TOML files
    /// (`[name]`, `[[name.version]]`): the places of `name`.
    fn toml_mentions(&self, name: &str) -> Vec<Place> {
        let mut out = Vec::new();
        for (id, _) in self.c.sources.iter() {
            let fname = self.name(id);
            if !fname.ends_with(".toml") {
                continue;
            }
            let mut pos = 0;
            for line in self.text(id).split_inclusive('\n') {
                let start = pos;
                pos += line.len();
                let lead = line.len() - line.trim_start().len();
                let t = line.trim_start();
                if !t.starts_with('[') {
                    continue;
                }
                let open = t.len() - t.trim_start_matches('[').len();
                let rest = &t[open..];
                let head_len = rest.find(['.', ']']).unwrap_or(rest.len());
                if rest[..head_len].trim() == name && rest[..head_len].len() == name.len() {
                    let s = start + lead + open;
                    out.push(Place {
                        file: fname.clone(),
                        start: s,
                        end: s + name.len(),
                    });
                }
            }
        }
        out
    }

    /// The edits that rename what the name at `offset` names, everywhere
    /// in the pack; an error sentence when it cannot be renamed.
    pub fn rename(&self, file: &str, offset: usize, new_name: &str) -> Result<Vec<Edit>, String> {
        let id = self.file(file).ok_or("this file is not part of the pack")?;
        let t = self
            .c
            .model
            .target_at(id, offset)
            .ok_or("there is no name here to rename")?;
        if !is_valid_name(new_name) {
            return Err(format!(
                "`{new_name}` cannot be a name (a keyword, a built-in, or not an identifier)"
            ));
        }
        let prog = self.program();
        match t {
            Target::Module(_) => {
                return Err("a module is named by its file: rename the file".to_string());
            }
            Target::Variant(e, v) => {
                if let Some(var) = prog.enums.get(e).and_then(|en| en.variants.get(v as usize)) {
                    if var.code == var.name {
                        return Err(format!(
                            "`{}` is also the variant's code in data files; give it an explicit code before renaming it",
                            var.name
                        ));
                    }
                }
            }
            Target::Field(r, f) => {
                let fd = prog.records.get(r).and_then(|rd| rd.fields.get(f));
                if fd.is_some_and(|fd| {
                    !matches!(fd.kind, weft_check::hir::FieldKind::Members { .. })
                }) {
                    return Err(
                        "a field's name is the column read from input files; renaming it would change the data the policy reads"
                            .to_string(),
                    );
                }
            }
            _ => {}
        }
        let places = self.references(file, offset, true);
        Ok(places
            .into_iter()
            .map(|place| Edit {
                place,
                text: new_name.to_string(),
            })
            .collect())
    }

    /// The files a rename at `offset` renames too, as `(old, new)` paths
    /// relative to the pack: a parameter given by a file `NAME.csv` is named
    /// by that file, which [`Analysis::rename`]'s edits cannot change.
    pub fn renamed_files(
        &self,
        file: &str,
        offset: usize,
        new_name: &str,
    ) -> Vec<(String, String)> {
        let Some(id) = self.file(file) else {
            return Vec::new();
        };
        let Some(Target::Param(p)) = self.c.model.target_at(id, offset) else {
            return Vec::new();
        };
        let Some(pd) = self.program().params.get(p) else {
            return Vec::new();
        };
        let want = format!("{}.csv", pd.name);
        let mut out = Vec::new();
        for (sid, _) in self.c.sources.iter() {
            let fname = self.name(sid);
            let base = fname.rsplit('/').next().unwrap_or(&fname);
            if base == want {
                let dir = &fname[..fname.len() - base.len()];
                out.push((fname.clone(), format!("{dir}{new_name}.csv")));
            }
        }
        out
    }

    /// Names that can be typed at `offset` in `file` (whose current text is
    /// `text`; the analysis may be of an older text): after `x.`, the
    /// fields of `x`'s record or the variants of enum `x`; elsewhere the
    /// locals, items (with the import each needs), built-in functions and
    /// types and keywords.
    pub fn completions(&self, file: &str, text: &str, offset: usize) -> Vec<Completion> {
        let offset = floor(text, offset);
        if file.ends_with(".toml") {
            return self.toml_completions(&text[..offset]);
        }
        let before = &text[..offset];
        let prefix_len = before
            .chars()
            .rev()
            .take_while(|c| is_ident_char(*c))
            .map(char::len_utf8)
            .sum::<usize>();
        let head = &before[..before.len() - prefix_len];
        if let Some(base_text) = head.strip_suffix('.') {
            let base_len = base_text
                .chars()
                .rev()
                .take_while(|c| is_ident_char(*c))
                .map(char::len_utf8)
                .sum::<usize>();
            let base = &base_text[base_text.len() - base_len..];
            let base_start = base_text.len() - base_len;
            return self.member_completions(file, text, base, base_start);
        }
        // `param[` or `param[a, `: the variants of the parameter's keys.
        if let Some(open) = head.rfind('[') {
            let inside = &head[open + 1..];
            if inside
                .chars()
                .all(|c| is_ident_char(c) || c == ',' || c == ' ')
            {
                let name: String = head[..open]
                    .chars()
                    .rev()
                    .take_while(|c| is_ident_char(*c))
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                let prog = self.program();
                if let Some(pd) = prog.params.iter().find(|p| p.name == name) {
                    let n = inside.matches(',').count();
                    let mut out = Vec::new();
                    if let Some((e, set)) = pd.keys.get(n) {
                        if let Some(en) = prog.enums.get(*e) {
                            for (v, vd) in en.variants.iter().enumerate() {
                                if v < 64 && set & (1u64 << v) != 0 {
                                    out.push(Completion {
                                        label: vd.name.clone(),
                                        kind: Kind::Variant,
                                        detail: format!(
                                            "key of `{}`: `{}.{}`",
                                            pd.name, en.name, vd.name
                                        ),
                                        extra: Vec::new(),
                                    });
                                }
                            }
                        }
                    }
                    // A key may also be a name of that enum's type in scope.
                    out.extend(self.name_completions(file, text, offset));
                    return out;
                }
            }
        }
        self.name_completions(file, text, offset)
    }

    /// In a TOML parameter file: in a table header, the parameters; in a
    /// parameter's table, `effective`, `value` and the variants of its
    /// keys.
    fn toml_completions(&self, before: &str) -> Vec<Completion> {
        let prog = self.program();
        let line = before.rsplit('\n').next().unwrap_or("");
        let params = || {
            prog.params.iter().map(|p| Completion {
                label: p.name.clone(),
                kind: Kind::Parameter,
                detail: format!("parameter `{}`: {}", p.name, prog.show(&p.ty)),
                extra: Vec::new(),
            })
        };
        if line.trim_start().starts_with('[') {
            return params().collect();
        }
        let header = before
            .lines()
            .rev()
            .map(str::trim)
            .find(|l| l.starts_with('['))
            .map(|l| l.trim_start_matches('['))
            .and_then(|l| l.split(['.', ']']).next())
            .map(str::trim);
        let Some(pd) = header.and_then(|h| prog.params.iter().find(|p| p.name == h)) else {
            return params().collect();
        };
        let mut out: Vec<Completion> = ["effective", "value"]
            .iter()
            .map(|k| Completion {
                label: k.to_string(),
                kind: Kind::Keyword,
                detail: format!("a version of `{}`", pd.name),
                extra: Vec::new(),
            })
            .collect();
        for (e, set) in &pd.keys {
            let Some(en) = prog.enums.get(*e) else {
                continue;
            };
            for (v, vd) in en.variants.iter().enumerate() {
                if v < 64 && set & (1u64 << v) != 0 {
                    out.push(Completion {
                        label: vd.code.clone(),
                        kind: Kind::Variant,
                        detail: format!("key of `{}`: `{}.{}`", pd.name, en.name, vd.name),
                        extra: Vec::new(),
                    });
                }
            }
        }
        out
    }

    fn member_completions(
        &self,
        file: &str,
        text: &str,
        base: &str,
        base_start: usize,
    ) -> Vec<Completion> {
        let prog = self.program();
        if let Some(e) = prog.enums.iter().find(|e| e.name == base) {
            return e
                .variants
                .iter()
                .map(|v| Completion {
                    label: v.name.clone(),
                    kind: Kind::Variant,
                    detail: format!("variant of `{}` (code `{}`)", e.name, v.code),
                    extra: Vec::new(),
                })
                .collect();
        }
        let Some(r) = self.record_of(file, text, base, base_start) else {
            return Vec::new();
        };
        let Some(rd) = prog.records.get(r) else {
            return Vec::new();
        };
        rd.fields
            .iter()
            .map(|f| Completion {
                label: f.name.clone(),
                kind: Kind::Field,
                detail: format!("field `{}.{}`: {}", rd.name, f.name, prog.show(&f.ty)),
                extra: Vec::new(),
            })
            .collect()
    }

    /// The record of the value named `base` before a `.` at `base_start`.
    fn record_of(&self, file: &str, text: &str, base: &str, base_start: usize) -> Option<usize> {
        let prog = self.program();
        let rec = |ty: &Ty| match ty {
            Ty::Record(r) => Some(r.index()),
            Ty::Opt(t) => match **t {
                Ty::Record(r) => Some(r.index()),
                _ => None,
            },
            _ => None,
        };
        // The model's type of the expression, when the text there checked.
        if let Some(id) = self.file(file) {
            if let Some((span, ty)) = self.c.model.type_at(id, base_start) {
                if span.start as usize == base_start {
                    if let Some(r) = rec(ty) {
                        return Some(r);
                    }
                }
            }
            // A local of that name declared before, in this file.
            let mut best: Option<(u32, usize)> = None;
            for (l, li) in prog.locals.iter_enumerated() {
                if li.name != base {
                    continue;
                }
                let Some(s) = self.c.model.definition(Target::Local(l)) else {
                    continue;
                };
                if s.file == id && (s.start as usize) < base_start {
                    if let Some(r) = rec(&li.ty) {
                        if best.is_none_or(|(b, _)| s.start > b) {
                            best = Some((s.start, r));
                        }
                    }
                }
            }
            if let Some((_, r)) = best {
                return Some(r);
            }
        }
        // In text that does not parse yet: the nearest `base: Record`
        // before it.
        let before = text.get(..base_start)?;
        let pat = format!("{base}:");
        let mut search = before;
        while let Some(i) = search.rfind(&pat) {
            let ok_start = search[..i]
                .chars()
                .next_back()
                .is_none_or(|c| !is_ident_char(c));
            let after = search[i + pat.len()..].trim_start();
            let ty: String = after.chars().take_while(|c| is_ident_char(*c)).collect();
            if ok_start {
                if let Some(r) = prog.records.iter().position(|r| r.name == ty) {
                    return Some(r);
                }
            }
            search = &search[..i];
        }
        None
    }

    fn name_completions(&self, file: &str, text: &str, offset: usize) -> Vec<Completion> {
        let prog = self.program();
        let model = &self.c.model;
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        let id = self.file(file);
        // Locals declared earlier in the item around the cursor.
        if let Some(id) = id {
            let item_start = model
                .items()
                .iter()
                .filter(|i| i.span.file == id && (i.span.start as usize) <= offset)
                .map(|i| i.span.start)
                .max()
                .unwrap_or(0);
            for (l, li) in prog.locals.iter_enumerated() {
                let Some(s) = model.definition(Target::Local(l)) else {
                    continue;
                };
                if s.file == id
                    && s.start >= item_start
                    && (s.start as usize) < offset
                    && seen.insert(li.name.clone())
                {
                    out.push(Completion {
                        label: li.name.clone(),
                        kind: Kind::Local,
                        detail: format!("local `{}`: {}", li.name, prog.show(&li.ty)),
                        extra: Vec::new(),
                    });
                }
            }
        }
        let imp = imports(text);
        let this_module = module_name(file);
        for it in model.items() {
            if !seen.insert(it.name.clone()) {
                continue;
            }
            let m = module_name(&self.name(it.span.file));
            let visible = m == this_module
                || imp.whole.contains(&m)
                || imp.names.get(&m).is_some_and(|(n, _)| n.contains(&it.name));
            let mut extra = Vec::new();
            if !visible && id.is_some() {
                let edit = match imp.names.get(&m) {
                    Some((_, close)) => Edit {
                        place: Place {
                            file: file.to_string(),
                            start: *close,
                            end: *close,
                        },
                        text: format!(", {}", it.name),
                    },
                    None => Edit {
                        place: Place {
                            file: file.to_string(),
                            start: imp.insert_at,
                            end: imp.insert_at,
                        },
                        text: format!("import {m}.{{{}}}\n", it.name),
                    },
                };
                extra.push(edit);
            }
            let mut detail = model.describe(prog, it.target);
            if !visible {
                detail.push_str(&format!(" (from `{m}`)"));
            }
            out.push(Completion {
                label: it.name.clone(),
                kind: kind_of(it.target),
                detail,
                extra,
            });
        }
        for f in weft_check::builtins::FUNCTIONS {
            if seen.insert(f.name.to_string()) {
                out.push(Completion {
                    label: f.name.to_string(),
                    kind: Kind::Function,
                    detail: f.signature.to_string(),
                    extra: Vec::new(),
                });
            }
        }
        for t in weft_check::builtins::TYPE_NAMES {
            if seen.insert(t.to_string()) {
                out.push(Completion {
                    label: t.to_string(),
                    kind: Kind::Type,
                    detail: "built-in type".to_string(),
                    extra: Vec::new(),
                });
            }
        }
        for k in KEYWORDS {
            if seen.insert(k.to_string()) {
                out.push(Completion {
                    label: k.to_string(),
                    kind: Kind::Keyword,
                    detail: "keyword".to_string(),
                    extra: Vec::new(),
                });
            }
        }
        out
    }

    /// The declarations of a file, in order, with their parts.
    pub fn symbols(&self, file: &str) -> Vec<Symbol> {
        let Some(id) = self.file(file) else {
            return Vec::new();
        };
        let mut items: Vec<_> = self
            .c
            .model
            .items()
            .iter()
            .filter(|i| i.span.file == id)
            .collect();
        items.sort_by_key(|i| i.span.start);
        let text = self.text(id);
        let starts: Vec<usize> = items
            .iter()
            .map(|i| line_start(text, i.span.start as usize))
            .collect();
        items
            .iter()
            .enumerate()
            .map(|(n, it)| {
                let start = starts.get(n).copied().unwrap_or(0);
                let end = starts
                    .get(n + 1)
                    .copied()
                    .unwrap_or(text.len())
                    .max(it.span.end as usize);
                let end = start + text.get(start..end).unwrap_or("").trim_end().len();
                let extent = Place {
                    file: file.to_string(),
                    start,
                    end: end.max(it.span.end as usize),
                };
                self.symbol(it.target, &it.name, it.span, extent)
            })
            .collect()
    }

    fn symbol(&self, t: Target, name: &str, span: Span, extent: Place) -> Symbol {
        let prog = self.program();
        let model = &self.c.model;
        let part = |t: Target, name: &str| -> Option<Symbol> {
            let s = model.definition(t)?;
            (s.file == span.file).then(|| Symbol {
                name: name.to_string(),
                kind: kind_of(t),
                detail: model.describe(prog, t),
                place: self.place(s),
                extent: self.place(s),
                children: Vec::new(),
            })
        };
        let children = match t {
            Target::Enum(e) => prog
                .enums
                .get(e)
                .map(|en| {
                    en.variants
                        .iter()
                        .enumerate()
                        .filter_map(|(v, vd)| part(Target::Variant(e, v as u32), &vd.name))
                        .collect()
                })
                .unwrap_or_default(),
            Target::Record(r) => prog
                .records
                .get(r)
                .map(|rd| {
                    rd.fields
                        .iter_enumerated()
                        .filter_map(|(f, fd)| part(Target::Field(r, f), &fd.name))
                        .collect()
                })
                .unwrap_or_default(),
            Target::Output(o) => prog
                .outputs
                .get(o)
                .map(|od| {
                    od.columns
                        .iter()
                        .enumerate()
                        .filter_map(|(c, cd)| part(Target::Column(o, c as u32), &cd.name))
                        .collect()
                })
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        Symbol {
            name: name.to_string(),
            kind: kind_of(t),
            detail: model.describe(prog, t),
            place: self.place(span),
            extent,
            children,
        }
    }

    /// Every top-level declaration of the pack whose name contains `query`
    /// (all of them for an empty query).
    pub fn workspace_symbols(&self, query: &str) -> Vec<Symbol> {
        let q = query.to_lowercase();
        self.c
            .model
            .items()
            .iter()
            .filter(|it| it.name.to_lowercase().contains(&q))
            .map(|it| {
                let place = self.place(it.span);
                self.symbol(it.target, &it.name, it.span, place)
            })
            .collect()
    }

    /// The names in a file, in order: every use and every declaration.
    pub fn tokens(&self, file: &str) -> Vec<Token> {
        let Some(id) = self.file(file) else {
            return Vec::new();
        };
        let model = &self.c.model;
        let prog = self.program();
        let mut out: Vec<Token> = model
            .occurrences()
            .filter(|(s, _)| s.file == id)
            .map(|(s, t)| Token {
                start: s.start as usize,
                end: s.end as usize,
                kind: kind_of(t),
                declaration: false,
            })
            .collect();
        let mut targets: Vec<Target> = model.items().iter().map(|i| i.target).collect();
        for (e, en) in prog.enums.iter_enumerated() {
            targets.extend((0..en.variants.len()).map(|v| Target::Variant(e, v as u32)));
        }
        for (r, rd) in prog.records.iter_enumerated() {
            targets.extend(rd.fields.ids().map(|f| Target::Field(r, f)));
        }
        for (o, od) in prog.outputs.iter_enumerated() {
            targets.extend((0..od.columns.len()).map(|c| Target::Column(o, c as u32)));
        }
        targets.extend(prog.locals.ids().map(Target::Local));
        for t in targets {
            if let Some(s) = model.definition(t) {
                if s.file == id && !s.is_empty() {
                    out.push(Token {
                        start: s.start as usize,
                        end: s.end as usize,
                        kind: kind_of(t),
                        declaration: true,
                    });
                }
            }
        }
        out.sort_by_key(|t| (t.start, t.end));
        // Tokens must not overlap: keep the first of any that do.
        let mut kept: Vec<Token> = Vec::with_capacity(out.len());
        for t in out {
            if kept.last().is_none_or(|k| t.start >= k.end) && t.end > t.start {
                kept.push(t);
            }
        }
        kept
    }
}

/// The start of the line holding `offset`.
fn line_start(text: &str, offset: usize) -> usize {
    let o = floor(text, offset);
    text[..o].rfind('\n').map(|i| i + 1).unwrap_or(0)
}

/// Every full-width punctuation mark in a text outside strings and
/// comments: its place and the ASCII character meant.
fn fullwidth_edits(text: &str) -> Vec<(usize, usize, char)> {
    let mut out = Vec::new();
    let mut in_str = false;
    let mut in_comment = false;
    let mut prev = '\0';
    for (i, c) in text.char_indices() {
        if in_comment {
            if c == '\n' {
                in_comment = false;
            }
        } else if in_str {
            if c == '"' || c == '\n' {
                in_str = false;
            }
        } else if c == '"' {
            in_str = true;
        } else if c == '/' && prev == '/' {
            in_comment = true;
        } else if c == '\u{3000}' {
            out.push((i, i + c.len_utf8(), ' '));
        } else if let Some(a) = weft_syntax::scan::ascii_for(c) {
            out.push((i, i + c.len_utf8(), a));
        }
        prev = c;
    }
    out
}
