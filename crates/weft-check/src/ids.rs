//! Ids of the checker's own that cannot be mixed with other numbers.
//!
//! The ids of the typed program (rules, records, parameters, locals) are
//! those of [`crate::hir`], shared with lowering and both engines; the
//! semantic model names declarations through [`crate::model::Target`],
//! whose variants keep each kind of id apart.

/// A module of the policy, by its position in the list given to
/// [`crate::check`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ModuleId(u32);

impl ModuleId {
    pub fn new(index: usize) -> ModuleId {
        ModuleId(u32::try_from(index).unwrap_or(u32::MAX))
    }

    /// The module's position in the list of modules.
    pub fn index(self) -> usize {
        self.0 as usize
    }

    /// The number the typed program stores (`RuleDef::module` and the like).
    pub fn raw(self) -> u32 {
        self.0
    }
}
