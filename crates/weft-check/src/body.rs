//! The state of phase 4, *bodies*, shared by the declaration checker
//! ([`crate::decls`]) and the expression checker ([`crate::expr`]): the
//! context, what the earlier phases handed on, and what this phase gathers.

use crate::collect::Collected;
use crate::ctx::Ctx;
use crate::hir::{FieldId, IdVec, RuleId, TestValue};
use crate::signatures::Signatures;
use crate::ty::RecordId;
use std::collections::HashMap;
use weft_syntax::Span;

/// The body phase's state: the context, what the earlier phases handed
/// on, and what this phase gathers.
pub struct Body<'a, 's> {
    pub cx: &'a mut Ctx<'s>,
    pub items: &'a Collected,
    pub sigs: &'a Signatures,
    /// Rule → the rules it refers to, with the first place it does.
    pub deps: IdVec<RuleId, Vec<(RuleId, Span)>>,
    /// Typed `defaults` per record: field → value.
    pub defaults: HashMap<RecordId, HashMap<FieldId, TestValue>>,
}
