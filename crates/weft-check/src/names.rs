//! Declarations by name, and what each module can see.
//!
//! Top-level names are unique across a whole policy (so an error row's
//! `rule:<name>` is never ambiguous); a module sees its own declarations and
//! the ones it imports.

use crate::hir::{ParamId, RuleId};
use crate::ids::ModuleId;
use crate::ty::{EnumId, RecordId};

pub use crate::ids::OutputId;
use std::cell::OnceCell;
use std::collections::{HashMap, HashSet};
use weft_syntax::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DefKind {
    Enum(EnumId),
    Record(RecordId),
    Param(ParamId),
    Rule(RuleId),
    Output(OutputId),
}

impl DefKind {
    /// The enum it declares, if it is one (for [`crate::ctx::Ctx::find`]).
    pub fn enum_id(self) -> Option<EnumId> {
        match self {
            DefKind::Enum(e) => Some(e),
            _ => None,
        }
    }

    pub fn record(self) -> Option<RecordId> {
        match self {
            DefKind::Record(r) => Some(r),
            _ => None,
        }
    }

    pub fn param(self) -> Option<ParamId> {
        match self {
            DefKind::Param(p) => Some(p),
            _ => None,
        }
    }

    pub fn rule(self) -> Option<RuleId> {
        match self {
            DefKind::Rule(r) => Some(r),
            _ => None,
        }
    }

    pub fn output(self) -> Option<OutputId> {
        match self {
            DefKind::Output(o) => Some(o),
            _ => None,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            DefKind::Enum(_) => "an enum",
            DefKind::Record(_) => "a record",
            DefKind::Param(_) => "a parameter",
            DefKind::Rule(_) => "a rule",
            DefKind::Output(_) => "an output",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Def {
    pub kind: DefKind,
    pub module: ModuleId,
    pub span: Span,
}

#[derive(Debug, Default)]
pub struct Names {
    pub defs: HashMap<String, Def>,
    /// Module name → module index.
    modules: HashMap<String, ModuleId>,
    /// Module index → module name, for the modules in `modules`.
    module_names: HashMap<ModuleId, String>,
    /// Per module: the names it imports.
    pub visible: Vec<HashSet<String>>,
    /// Per module: the names it may use (own and imported), in no
    /// particular order; built on first use, once `visible` is complete.
    scopes: OnceCell<Vec<Vec<String>>>,
}

pub enum Lookup<'a> {
    Found(&'a Def),
    /// Defined in another module that is not imported here.
    NotImported(String),
    Unknown,
}

impl Names {
    pub fn lookup(&self, module: ModuleId, name: &str) -> Lookup<'_> {
        match self.defs.get(name) {
            Some(d) => {
                let visible = d.module == module
                    || self
                        .visible
                        .get(module.index())
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
                    Lookup::NotImported(m)
                }
            }
            None => Lookup::Unknown,
        }
    }

    /// Add a module; false if one of that name is already there.
    pub fn add_module(&mut self, name: &str, index: ModuleId) -> bool {
        if self.modules.contains_key(name) {
            return false;
        }
        self.modules.insert(name.to_string(), index);
        self.module_names.insert(index, name.to_string());
        true
    }

    /// The index of the module of that name.
    pub fn module(&self, name: &str) -> Option<ModuleId> {
        self.modules.get(name).copied()
    }

    /// The names of the modules, in no particular order.
    pub fn module_names(&self) -> impl Iterator<Item = &str> {
        self.modules.keys().map(|s| s.as_str())
    }

    /// Names visible in a module, in no particular order, for suggestions.
    /// The first call builds every module's list, so that each call costs
    /// the length of its list, not the number of names in the policy.
    pub fn visible_names(&self, module: ModuleId) -> impl Iterator<Item = &str> {
        let scopes = self.scopes.get_or_init(|| {
            let mut scopes: Vec<Vec<String>> = self
                .visible
                .iter()
                .map(|v| v.iter().cloned().collect())
                .collect();
            for (n, d) in &self.defs {
                let imported = self
                    .visible
                    .get(d.module.index())
                    .is_some_and(|v| v.contains(n));
                if !imported && let Some(s) = scopes.get_mut(d.module.index()) {
                    s.push(n.clone());
                }
            }
            scopes
        });
        scopes
            .get(module.index())
            .into_iter()
            .flatten()
            .map(|s| s.as_str())
    }
}
