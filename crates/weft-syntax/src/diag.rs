//! Diagnostics: the one error type of every phase before evaluation.
//!
//! A [`Diagnostic`] is plain data (a stable code, a one-sentence message,
//! labelled spans, an optional help line). It is rendered with miette only at
//! the edge, through [`Diagnostic::report`], which pairs it with the text of
//! its file.

use crate::span::{SourceMap, Span};
use std::fmt;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Error,
    Warning,
}

/// A labelled place in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// A stable code such as `E0301`; listed in `docs/language.md`.
    pub code: &'static str,
    pub level: Level,
    /// One lowercase sentence; user text in backticks.
    pub message: String,
    /// The primary label first; every label is in the primary label's file.
    pub labels: Vec<Label>,
    pub help: Option<String>,
    /// Places in other files, as `file:line:col: text` notes.
    pub notes: Vec<String>,
}

impl Diagnostic {
    pub fn error(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            level: Level::Error,
            message: message.into(),
            labels: Vec::new(),
            help: None,
            notes: Vec::new(),
        }
    }

    pub fn warning(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            level: Level::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    pub fn with_label(mut self, span: Span, text: impl Into<String>) -> Diagnostic {
        self.labels.push(Label {
            span,
            text: text.into(),
        });
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    /// The primary span, if any.
    pub fn span(&self) -> Option<Span> {
        self.labels.first().map(|l| l.span)
    }

    pub fn is_error(&self) -> bool {
        self.level == Level::Error
    }

    /// Pair with the source text so miette can render it.
    pub fn report(&self, sources: &SourceMap) -> Report {
        let (name, text) = match self.span().and_then(|s| sources.get(s.file)) {
            Some(f) => (f.name.clone(), f.text.clone()),
            None => (String::new(), Arc::from("")),
        };
        let help = match (&self.help, self.notes.is_empty()) {
            (h, true) => h.clone(),
            (h, false) => {
                let mut s = h.clone().unwrap_or_default();
                for n in &self.notes {
                    if !s.is_empty() {
                        s.push('\n');
                    }
                    s.push_str(n);
                }
                Some(s)
            }
        };
        let labels = self
            .labels
            .iter()
            .filter(|l| Some(l.span.file) == self.span().map(|s| s.file))
            .map(|l| {
                let start = (l.span.start as usize).min(text.len());
                let len = l.span.len().min(text.len() - start);
                miette::LabeledSpan::new(Some(l.text.clone()), start, len)
            })
            .collect();
        Report {
            code: self.code,
            level: self.level,
            message: self.message.clone(),
            help,
            labels,
            source: miette::NamedSource::new(name, text),
        }
    }

    /// `file:line:col` of the primary span.
    pub fn location(&self, sources: &SourceMap) -> String {
        match self.span() {
            Some(s) => {
                let (l, c) = sources.line_col(s.file, s.start);
                format!("{}:{}:{}", sources.name(s.file), l, c)
            }
            None => String::new(),
        }
    }
}

/// A diagnostic with its source text, ready for miette.
#[derive(Debug)]
pub struct Report {
    code: &'static str,
    level: Level,
    message: String,
    help: Option<String>,
    labels: Vec<miette::LabeledSpan>,
    source: miette::NamedSource<Arc<str>>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Report {}

impl miette::Diagnostic for Report {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.level {
            Level::Error => miette::Severity::Error,
            Level::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h.as_str()) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        if self.labels.is_empty() {
            None
        } else {
            Some(&self.source)
        }
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            None
        } else {
            Some(Box::new(self.labels.iter().cloned()))
        }
    }
}

/// Render diagnostics as plain text (no colour, 80 columns): what snapshot
/// tests and non-terminal output use.
pub fn render_plain(diags: &[Diagnostic], sources: &SourceMap) -> String {
    let handler =
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
            .with_width(80);
    let mut out = String::new();
    for d in diags {
        let report = d.report(sources);
        let mut s = String::new();
        if handler.render_report(&mut s, &report).is_err() {
            s = format!("{}: {}\n", d.code, d.message);
        }
        out.push_str(&s);
    }
    out
}

/// Render with colours for a terminal.
pub fn render_color(diags: &[Diagnostic], sources: &SourceMap) -> String {
    let handler = miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode())
        .with_width(100);
    let mut out = String::new();
    for d in diags {
        let report = d.report(sources);
        let mut s = String::new();
        if handler.render_report(&mut s, &report).is_err() {
            s = format!("{}: {}\n", d.code, d.message);
        }
        out.push_str(&s);
    }
    out
}
