//! Diagnostics about a policy, as data and as rendered text.

use std::sync::Arc;

/// One diagnostic, as data.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DiagnosticInfo {
    /// A stable code (`E0330`), listed in the language reference.
    pub code: String,
    /// Whether it is an error (otherwise a warning).
    pub is_error: bool,
    /// One lowercase sentence.
    pub message: String,
    /// The file it points into (its path in the pack), when it has a place.
    pub file: Option<String>,
    /// The 1-based line, when it has a place.
    pub line: Option<usize>,
    /// The 1-based column (in characters), when it has a place.
    pub column: Option<usize>,
    /// `file:line:column`, when the diagnostic has a place.
    pub location: Option<String>,
    /// What to do about it.
    pub help: Option<String>,
}

/// Diagnostics about a policy, with the text they point into.
///
/// Acts as one [`miette::Diagnostic`] whose `related` diagnostics are the
/// items, each with its source snippet.
///
/// ```
/// let err = weft::Policy::from_sources(weft::Sources::new().module("a.weft", "rule x: Int = y"))
///     .unwrap_err();
/// let weft::Error::Policy(d) = err else { panic!() };
/// let first = d.iter().next().unwrap();
/// assert_eq!((first.file.as_deref(), first.line), (Some("a.weft"), Some(1)));
/// ```
#[derive(Clone)]
pub struct Diagnostics {
    items: Vec<weft_syntax::Diagnostic>,
    sources: Arc<weft_syntax::SourceMap>,
    /// The items as miette reports, built when first asked for.
    reports: Arc<std::sync::OnceLock<Vec<weft_syntax::diag::Report>>>,
}

impl Diagnostics {
    pub(crate) fn new(
        items: Vec<weft_syntax::Diagnostic>,
        sources: Arc<weft_syntax::SourceMap>,
    ) -> Diagnostics {
        Diagnostics {
            items,
            sources,
            reports: Arc::default(),
        }
    }

    /// Each diagnostic as data.
    pub fn iter(&self) -> impl Iterator<Item = DiagnosticInfo> + '_ {
        self.items.iter().map(|d| {
            let place = d.span().map(|s| {
                let (l, c) = self.sources.line_col(s.file, s.start);
                (self.sources.name(s.file).to_string(), l, c)
            });
            DiagnosticInfo {
                code: d.code.to_string(),
                is_error: d.is_error(),
                message: d.message.clone(),
                file: place.as_ref().map(|p| p.0.clone()),
                line: place.as_ref().map(|p| p.1),
                column: place.as_ref().map(|p| p.2),
                location: d.span().map(|_| d.location(&self.sources)),
                help: d.help.clone(),
            }
        })
    }

    /// How many diagnostics there are.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Whether any is an error.
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.is_error())
    }

    /// How many are errors.
    pub fn error_count(&self) -> usize {
        self.items.iter().filter(|d| d.is_error()).count()
    }

    /// Rendered by miette, without colours, 80 columns wide.
    pub fn render(&self) -> String {
        weft_syntax::diag::render_plain(&self.items, &self.sources)
    }

    /// Rendered by miette with colours, for a terminal.
    pub fn render_color(&self) -> String {
        weft_syntax::diag::render_color(&self.items, &self.sources)
    }

    /// Each diagnostic as a miette report (source code attached).
    pub fn reports(&self) -> Vec<miette::Report> {
        self.items
            .iter()
            .map(|d| miette::Report::new(d.report(&self.sources)))
            .collect()
    }

    /// The same diagnostics in file order (by file, then place), as
    /// `weft check` prints them.
    pub fn sorted(&self) -> Diagnostics {
        let mut items = self.items.clone();
        weft_check::sort_diagnostics(&mut items);
        Diagnostics::new(items, self.sources.clone())
    }

    /// These diagnostics followed by `more` (which must point into the same
    /// policy), in the order `weft check` prints them: by file and place.
    pub(crate) fn sorted_with(&self, more: Diagnostics) -> Diagnostics {
        let mut items = self.items.clone();
        items.extend(more.items);
        weft_check::sort_diagnostics(&mut items);
        Diagnostics::new(items, self.sources.clone())
    }
}

impl std::fmt::Debug for Diagnostics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl std::fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render())
    }
}

impl std::error::Error for Diagnostics {}

impl miette::Diagnostic for Diagnostics {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        let first = self.items.iter().find(|d| d.is_error())?;
        Some(Box::new(first.code))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        let reports = self
            .reports
            .get_or_init(|| self.items.iter().map(|d| d.report(&self.sources)).collect());
        Some(Box::new(
            reports.iter().map(|r| r as &dyn miette::Diagnostic),
        ))
    }
}
