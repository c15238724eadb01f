//! The canonical layout of policy text (`weft fmt`).

use crate::Diagnostics;
use std::sync::Arc;

/// Why a text could not be formatted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// The text does not parse; its diagnostics.
    #[error("the text does not parse")]
    Syntax(Diagnostics),
    /// The formatter could not format the text without risk of changing
    /// its meaning (a bug in the formatter); leave the text as it is.
    #[error("the formatter could not format it safely ({0})")]
    Internal(String),
}

/// Format the text of one `.weft` file; `name` names it in diagnostics.
///
/// ```
/// let text = weft::fmt::format_source("a.weft", "rule   x: Int = 1\n").unwrap();
/// assert_eq!(text, "rule x: Int = 1\n");
/// ```
pub fn format_source(name: &str, text: &str) -> Result<String, FormatError> {
    use weft_syntax::fmt::FmtError;
    match weft_syntax::fmt::format_source(text) {
        Ok(t) => Ok(t),
        Err(FmtError::Internal(m)) => Err(FormatError::Internal(m)),
        Err(FmtError::Syntax(diags)) => {
            let mut sources = weft_syntax::SourceMap::new();
            let id = sources.add(name.to_string(), text);
            // Diagnostics of a file parsed alone carry file 0; re-home them.
            let diags: Vec<_> = diags
                .into_iter()
                .map(|mut d| {
                    for l in &mut d.labels {
                        l.span.file = id;
                    }
                    d
                })
                .collect();
            Err(FormatError::Syntax(Diagnostics::new(
                diags,
                Arc::new(sources),
            )))
        }
    }
}
