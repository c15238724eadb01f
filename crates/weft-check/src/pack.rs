//! A policy pack held in memory, and compiling it: parse every module,
//! then check the whole program. No I/O: the caller reads the files.

use crate::{ModuleSource, ParamSource, SemanticModel};
use weft_syntax::{Diagnostic, SourceMap, Span};

/// The text of a policy pack, before parsing.
#[derive(Debug, Clone, Default)]
pub struct PackSources {
    /// `(path relative to the pack, text)` of each `.weft` file.
    pub modules: Vec<(String, String)>,
    /// `(path, text)` of each parameter file shipped with the pack.
    pub params: Vec<(String, String)>,
    /// `(path, text)` of parameter files given for one run.
    pub overlays: Vec<(String, String)>,
    /// Files that could not be read as text: `(path, problem)`.
    pub unreadable: Vec<(String, String)>,
}

/// The module name of a file path: `sub/dibao.weft` → `sub.dibao`.
pub fn module_name(path: &str) -> String {
    path.trim_end_matches(".weft").replace('/', ".")
}

/// A pack parsed and checked, with its semantic model.
pub struct Compiled {
    pub sources: SourceMap,
    pub program: crate::Program,
    /// Sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
    pub model: SemanticModel,
}

/// Parse and check a pack. Runs on a thread with a large stack, so that
/// deeply nested (but within the pre-scan's limits) input cannot overflow.
pub fn compile_sources(src: &PackSources) -> (SourceMap, crate::Program, Vec<Diagnostic>) {
    let c = compile(src, false);
    (c.sources, c.program, c.diagnostics)
}

/// [`compile_sources`], keeping the semantic model (for a language server
/// or `weft doc`).
pub fn compile_pack(src: &PackSources) -> Compiled {
    compile(src, true)
}

/// Parse and check, building the semantic model if asked (an empty one
/// otherwise).
fn compile(src: &PackSources, keep_model: bool) -> Compiled {
    let src = src.clone();
    let run = move || {
        let mut sources = SourceMap::new();
        let mut diags = Vec::new();
        for (name, problem) in &src.unreadable {
            let id = sources.add(name.clone(), "");
            diags.push(
                Diagnostic::error("E0001", format!("cannot read `{name}`"))
                    .with_label(Span::new(id, 0, 0), "unreadable file")
                    .with_help(problem.clone()),
            );
        }
        let mut modules = Vec::new();
        for (name, text) in &src.modules {
            let id = sources.add(name.clone(), text.as_str());
            let (ast, d) = weft_syntax::parse_module(id, text);
            diags.extend(d);
            modules.push(ModuleSource {
                name: module_name(name),
                file: id,
                ast,
            });
        }
        let mut params = Vec::new();
        for (name, text) in &src.params {
            let id = sources.add(name.clone(), text.as_str());
            params.push(ParamSource {
                file: id,
                overlay: false,
            });
        }
        for (name, text) in &src.overlays {
            let id = sources.add(name.clone(), text.as_str());
            params.push(ParamSource {
                file: id,
                overlay: true,
            });
        }
        let (program, d, model) = if keep_model {
            let c = crate::check_model(&sources, modules, &params);
            (c.program, c.diagnostics, c.model)
        } else {
            let (p, d) = crate::check(&sources, modules, &params);
            (p, d, SemanticModel::default())
        };
        diags.extend(d);
        crate::sort_diagnostics(&mut diags);
        Compiled {
            sources,
            program,
            diagnostics: diags,
            model,
        }
    };
    // The messages in the language of the caller's thread.
    let lang = weft_msg::lang();
    match std::thread::Builder::new()
        .name("weft-compile".into())
        .stack_size(256 * 1024 * 1024)
        .spawn(move || weft_msg::with_lang(lang, run))
    {
        Ok(h) => match h.join() {
            Ok(r) => r,
            Err(_) => internal_failure(),
        },
        Err(_) => internal_failure(),
    }
}

fn internal_failure() -> Compiled {
    Compiled {
        sources: SourceMap::new(),
        program: crate::Program::default(),
        diagnostics: vec![
            Diagnostic::error("E0002", "internal error: the compiler stopped unexpectedly")
                .with_help("please report this with the policy that caused it"),
        ],
        model: SemanticModel::default(),
    }
}
