//! Diagnostics: the one error type of every phase before evaluation.
//!
//! A [`Diagnostic`] is plain data (a stable code, a one-sentence message,
//! labelled spans, an optional help line). It is rendered with miette only at
//! the edge, through [`Diagnostic::report`], which pairs it with the text of
//! its file.

use crate::span::{Lines, SourceMap, Span};
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
        let (name, text, lines) = match self
            .span()
            .and_then(|s| Some((s.file, sources.get(s.file)?)))
        {
            Some((id, f)) => (f.name.clone(), f.text.clone(), sources.lines(id)),
            None => (String::new(), Arc::from(""), Arc::default()),
        };
        let mut help = match (&self.help, self.notes.is_empty()) {
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
        let mut labels: Vec<miette::LabeledSpan> = self
            .labels
            .iter()
            .filter(|l| Some(l.span.file) == self.span().map(|s| s.file))
            .map(|l| {
                let start = (l.span.start as usize).min(text.len());
                let len = l.span.len().min(text.len() - start);
                miette::LabeledSpan::new(Some(l.text.clone()), start, len)
            })
            .collect();
        let too_long = labels.iter().any(|l| {
            let end = l.offset() + l.len();
            lines.longest(l.offset(), end, SNIPPET_CONTEXT, text.len()) > MAX_SHOWN_LINE
        });
        if too_long {
            // No snippet: each place as `file:line:col: label`.
            let mut places: Vec<String> = labels
                .iter()
                .map(|l| {
                    let (line, col) = sources.line_col(
                        self.span().map(|s| s.file).unwrap_or_default(),
                        u32::try_from(l.offset()).unwrap_or(u32::MAX),
                    );
                    format!("{name}:{line}:{col}: {}", l.label().unwrap_or(""))
                })
                .collect();
            places.extend(help);
            help = Some(places.join("\n"));
            labels.clear();
        }
        Report {
            code: self.code,
            level: self.level,
            message: self.message.clone(),
            help,
            labels,
            source: Source { name, text, lines },
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

/// Lines of context miette shows above and below a label (its default).
const SNIPPET_CONTEXT: usize = 1;

/// Longest line shown in a snippet, in bytes. miette panics when it
/// underlines beyond column 65,535 of a line (and a byte can be four
/// columns wide: a tab), and a long line shown again for each of its
/// diagnostics would make the output quadratic; a diagnostic with a label
/// on or next to a longer line gives its places as `file:line:col`
/// instead.
const MAX_SHOWN_LINE: usize = 16_000;

/// A diagnostic with its source text, ready for miette.
#[derive(Debug)]
pub struct Report {
    code: &'static str,
    level: Level,
    message: String,
    help: Option<String>,
    labels: Vec<miette::LabeledSpan>,
    source: Source,
}

/// A file's name and text for miette, with its line index.
///
/// miette's own `SourceCode` for text finds a span's line by reading from
/// the start of the file, so rendering N diagnostics of one file took
/// O(N × file length): minutes for a long file with an error on every
/// line. This one starts reading a few lines above the span instead and
/// adds the lines skipped, giving miette exactly what it would have found.
#[derive(Debug)]
struct Source {
    name: String,
    text: Arc<str>,
    lines: Arc<Lines>,
}

impl miette::SourceCode for Source {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        // One line more than the context: miette's reader also looks at
        // the byte before an empty span, which must be in the window too.
        let (start, lines_before) = self
            .lines
            .start_above(span.offset(), context_lines_before.saturating_add(1));
        let window = self.text.as_bytes().get(start..).unwrap_or_default();
        let local = miette::SourceSpan::new(span.offset().saturating_sub(start).into(), span.len());
        let inner = window.read_span(&local, context_lines_before, context_lines_after)?;
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            miette::SourceSpan::new((inner.span().offset() + start).into(), inner.span().len()),
            inner.line() + lines_before,
            inner.column(),
            inner.line_count() + lines_before,
        )))
    }
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use miette::{SourceCode, SourceSpan};

    type Contents = (Vec<u8>, usize, usize, usize, usize, usize, Option<String>);

    fn contents(c: &dyn miette::SpanContents<'_>) -> Contents {
        (
            c.data().to_vec(),
            c.span().offset(),
            c.span().len(),
            c.line(),
            c.column(),
            c.line_count(),
            c.name().map(str::to_string),
        )
    }

    /// The windowed reader gives miette what its own reader of the whole
    /// text gives, for every span and amount of context, whatever the line
    /// ends.
    #[test]
    fn source_reads_spans_as_miette_does() {
        let texts = [
            "",
            "a",
            "\n",
            "rule a: Int = 1\nrule b: Int = (2\n\nrule c: Int = 3",
            "one\r\ntwo\r\n\r\nthree\rfour\n\rfive\r\r\nsix\n",
            "长\n长长\n\n长长长\n",
            "x\n\n\n\n\n\ny\nz\n",
        ];
        for text in texts {
            let mut sources = SourceMap::new();
            let id = sources.add("f.weft", text);
            let source = Source {
                name: "f.weft".into(),
                text: Arc::from(text),
                lines: sources.lines(id),
            };
            let named = miette::NamedSource::new("f.weft", text);
            for offset in 0..=text.len() {
                for len in 0..=(text.len() - offset).min(12) {
                    for before in 0..4 {
                        for after in 0..4 {
                            let span = SourceSpan::new(offset.into(), len);
                            let ours = source.read_span(&span, before, after);
                            let theirs = named.read_span(&span, before, after);
                            match (ours, theirs) {
                                (Ok(a), Ok(b)) => assert_eq!(
                                    contents(&*a),
                                    contents(&*b),
                                    "{text:?} at {offset}+{len}, context {before}/{after}"
                                ),
                                (a, b) => assert_eq!(a.is_ok(), b.is_ok(), "{text:?} at {offset}"),
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn line_col_counts_lines_and_characters() {
        let mut sources = SourceMap::new();
        // Lines longer than the blocks of characters counted ahead.
        let text = format!("ab\n长x\n\ny{}\n{}z", "长a".repeat(700), "b".repeat(2100));
        let text = text.as_str();
        let id = sources.add("f.weft", text);
        let want = |offset: usize| {
            let before = text.get(..offset).unwrap_or("");
            (
                before.matches('\n').count() + 1,
                before.rsplit('\n').next().unwrap().chars().count() + 1,
            )
        };
        for offset in 0..=text.len() + 2 {
            let o = offset.min(text.len());
            let expected = if text.is_char_boundary(o) {
                want(o)
            } else {
                (1, 1)
            };
            assert_eq!(sources.line_col(id, offset as u32), expected, "{offset}");
        }
    }
}
