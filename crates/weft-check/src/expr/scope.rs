//! The scope an expression is checked in: the locals bound, what bare
//! names mean in record checks and tests, the rule being checked, and the
//! enum places narrowed by enclosing conditions.

use crate::body::Body;
use crate::hir::{LocalId, RuleId};
use crate::ids::ModuleId;
use crate::ty::RecordId;
use std::collections::HashMap;

/// What names mean where an expression is checked.
#[derive(Default)]
pub struct Scope {
    pub module: ModuleId,
    pub locals: Vec<(String, LocalId)>,
    pub remains: Option<LocalId>,
    /// In a record check: bare names are fields of this record.
    pub fields_of: Option<(RecordId, LocalId)>,
    /// In a test: each test record's name → its position and record.
    pub test: Option<HashMap<String, (usize, RecordId)>>,
    /// The rule being checked, for the dependency graph.
    pub rule: Option<RuleId>,
    /// Whether record values may appear (not in assertions).
    pub no_records: bool,
    /// Narrowed enum places: key → allowed variants.
    pub narrow: Vec<(String, u64)>,
}

impl Scope {
    /// The innermost local of that name.
    pub fn local(&self, name: &str) -> Option<LocalId> {
        self.locals
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, l)| *l)
    }

    /// The variants a narrowed place can still be.
    pub fn narrowed(&self, key: &str) -> Option<u64> {
        let mut out: Option<u64> = None;
        for (k, s) in &self.narrow {
            if k == key {
                out = Some(out.map(|o| o & s).unwrap_or(*s));
            }
        }
        out
    }

    /// The scope of a rule's body: its record parameter.
    pub fn of_rule(c: &Body<'_, '_>, rid: RuleId, module: ModuleId) -> Scope {
        let mut s = Scope {
            module,
            rule: Some(rid),
            ..Scope::default()
        };
        if let Some(Some((l, _))) = c.cx.prog.rules.get(rid).map(|r| r.param) {
            let name =
                c.cx.prog
                    .locals
                    .get(l)
                    .map(|x| x.name.clone())
                    .unwrap_or_default();
            s.locals.push((name, l));
        }
        s
    }
}
