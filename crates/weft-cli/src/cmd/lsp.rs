//! `weft lsp`: the language server on standard input and output, for
//! editors (`editors/vscode`, or any LSP client). The server is the
//! `weft-lsp` crate, itself a front end on the `weft` API.

use crate::error::CliError;

pub fn lsp() -> Result<(), CliError> {
    weft_lsp::run_stdio().map_err(|e| CliError::Failed(format!("the language server stopped: {e}")))
}
