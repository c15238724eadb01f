//! Declarations by name, and what each module can see.
//!
//! Top-level names are unique across a whole policy (so an error row's
//! `rule:<name>` is never ambiguous); a module sees its own declarations and
//! the ones it imports.

use std::cell::OnceCell;
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
    modules: HashMap<String, u32>,
    /// Module index → module name, for the modules in `modules`.
    module_names: HashMap<u32, String>,
    /// Per module: the names it imports.
    pub visible: Vec<HashSet<String>>,
    /// Per module: the names it may use (own and imported), in no
    /// particular order; built on first use, once `visible` is complete.
    scopes: OnceCell<Vec<Vec<String>>>,
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
                        .module_names
                        .get(&d.module)
                        .cloned()
                        .unwrap_or_default();
                    Lookup::NotImported(d, m)
                }
            }
            None => Lookup::Unknown,
        }
    }

    /// Add a module; false if one of that name is already there.
    pub fn add_module(&mut self, name: &str, index: u32) -> bool {
        if self.modules.contains_key(name) {
            return false;
        }
        self.modules.insert(name.to_string(), index);
        self.module_names.insert(index, name.to_string());
        true
    }

    /// The index of the module of that name.
    pub fn module(&self, name: &str) -> Option<u32> {
        self.modules.get(name).copied()
    }

    /// The names of the modules, in no particular order.
    pub fn module_names(&self) -> impl Iterator<Item = &str> {
        self.modules.keys().map(|s| s.as_str())
    }

    /// Names visible in a module, in no particular order, for suggestions.
    /// The first call builds every module's list, so that each call costs
    /// the length of its list, not the number of names in the policy.
    pub fn visible_names(&self, module: u32) -> impl Iterator<Item = &str> {
        let scopes = self.scopes.get_or_init(|| {
            let mut scopes: Vec<Vec<String>> = self
                .visible
                .iter()
                .map(|v| v.iter().cloned().collect())
                .collect();
            for (n, d) in &self.defs {
                let imported = self
                    .visible
                    .get(d.module as usize)
                    .is_some_and(|v| v.contains(n));
                if !imported && let Some(s) = scopes.get_mut(d.module as usize) {
                    s.push(n.clone());
                }
            }
            scopes
        });
        scopes
            .get(module as usize)
            .into_iter()
            .flatten()
            .map(|s| s.as_str())
    }
}
