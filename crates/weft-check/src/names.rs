//! Declarations by name, and what each module can see.
//!
//! Top-level names are unique across a whole policy (so an error row's
//! `rule:<name>` is never ambiguous); a module sees its own declarations and
//! the ones it imports.

use std::collections::{HashMap, HashSet};
use weft_syntax::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DefKind {
    Enum(u32),
    Record(u32),
    Param(u32),
    Rule(u32),
    Output(u32),
    Programme(u32),
    Assert(u32),
}

impl DefKind {
    pub fn describe(self) -> &'static str {
        match self {
            DefKind::Enum(_) => "an enum",
            DefKind::Record(_) => "a record",
            DefKind::Param(_) => "a parameter",
            DefKind::Rule(_) => "a rule",
            DefKind::Output(_) => "an output",
            DefKind::Programme(_) => "a programme",
            DefKind::Assert(_) => "an assertion",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Def {
    pub kind: DefKind,
    pub module: u32,
    pub span: Span,
}

#[derive(Debug, Default)]
pub struct Names {
    pub defs: HashMap<String, Def>,
    /// Module name → module index.
    pub modules: HashMap<String, u32>,
    /// Per module: the names it may use (own and imported).
    pub visible: Vec<HashSet<String>>,
}

pub enum Lookup<'a> {
    Found(&'a Def),
    /// Defined in another module that is not imported here.
    NotImported(&'a Def, String),
    Unknown,
}

impl Names {
    pub fn lookup(&self, module: u32, name: &str) -> Lookup<'_> {
        match self.defs.get(name) {
            Some(d) => {
                let visible = d.module == module
                    || self
                        .visible
                        .get(module as usize)
                        .map(|v| v.contains(name))
                        .unwrap_or(false);
                if visible {
                    Lookup::Found(d)
                } else {
                    let m = self
                        .modules
                        .iter()
                        .find(|(_, i)| **i == d.module)
                        .map(|(n, _)| n.clone())
                        .unwrap_or_default();
                    Lookup::NotImported(d, m)
                }
            }
            None => Lookup::Unknown,
        }
    }

    /// Names visible in a module, for suggestions.
    pub fn visible_names(&self, module: u32) -> Vec<&str> {
        let mut out: Vec<&str> = self
            .defs
            .iter()
            .filter(|(n, d)| {
                d.module == module
                    || self
                        .visible
                        .get(module as usize)
                        .map(|v| v.contains(*n))
                        .unwrap_or(false)
            })
            .map(|(n, _)| n.as_str())
            .collect();
        out.sort();
        out
    }
}
