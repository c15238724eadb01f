//! Error sites: every way an evaluation can fail, numbered.
//!
//! Generated code names an error by a *site*: sites `0..8` are the error
//! kinds with their default sentence ([`weft_interp::default_detail`]),
//! then come the interpreter's internal errors ([`Internal`]), then one
//! site per [`weft_ir::FailSite`] of the program.

use weft_ir::{ErrKind, Ir};

/// A site: the kind and sentence of the error it raises.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Site {
    pub kind: ErrKind,
    pub detail: String,
}

const KINDS: [ErrKind; 8] = [
    ErrKind::Overflow,
    ErrKind::DivisionByZero,
    ErrKind::ExceptionConflict,
    ErrKind::NoRow,
    ErrKind::AmbiguousRow,
    ErrKind::Empty,
    ErrKind::DateOutOfRange,
    ErrKind::NoBand,
];

/// The interpreter's internal errors (inconsistent input, never a policy's
/// meaning), reported as `no_row` with `internal error: …`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Internal {
    UnknownInstance,
    RowOutOfRange,
    DependsOnItself,
    UnknownNode,
    ColumnNotLoaded,
    UnknownText,
    TextNotText,
    NegativeRow,
    FieldNotNumber,
    PresenceOfNonOptional,
    SlotOutOfRange,
    ParamNotBound,
    ParamSlotOutOfRange,
    NoArm,
    BandsNotBound,
    RecordWithoutMembers,
    MembersNotLoaded,
    LostError,
}

const INTERNALS: [Internal; 18] = [
    Internal::UnknownInstance,
    Internal::RowOutOfRange,
    Internal::DependsOnItself,
    Internal::UnknownNode,
    Internal::ColumnNotLoaded,
    Internal::UnknownText,
    Internal::TextNotText,
    Internal::NegativeRow,
    Internal::FieldNotNumber,
    Internal::PresenceOfNonOptional,
    Internal::SlotOutOfRange,
    Internal::ParamNotBound,
    Internal::ParamSlotOutOfRange,
    Internal::NoArm,
    Internal::BandsNotBound,
    Internal::RecordWithoutMembers,
    Internal::MembersNotLoaded,
    Internal::LostError,
];

impl Internal {
    /// The interpreter's wording.
    pub fn what(self) -> &'static str {
        match self {
            Internal::UnknownInstance => "unknown instance",
            Internal::RowOutOfRange => "row out of range",
            Internal::DependsOnItself => "a rule depends on itself",
            Internal::UnknownNode => "unknown node",
            Internal::ColumnNotLoaded => "a column that was not loaded",
            Internal::UnknownText => "unknown text",
            Internal::TextNotText => "a text field that is not text",
            Internal::NegativeRow => "negative row",
            Internal::FieldNotNumber => "a field read as a number",
            Internal::PresenceOfNonOptional => "presence of a non-optional field",
            Internal::SlotOutOfRange => "slot out of range",
            Internal::ParamNotBound => "a parameter that was not bound",
            Internal::ParamSlotOutOfRange => "parameter slot out of range",
            Internal::NoArm => "no arm of a match applies",
            Internal::BandsNotBound => "bands that were not bound",
            Internal::RecordWithoutMembers => "a record without members",
            Internal::MembersNotLoaded => "members that were not loaded",
            Internal::LostError => "lost error",
        }
    }

    pub fn detail(self) -> String {
        format!("internal error: {}", self.what())
    }

    pub fn site(self) -> u32 {
        KINDS.len() as u32 + INTERNALS.iter().position(|i| *i == self).unwrap_or(0) as u32
    }
}

pub(crate) fn kind_site(k: ErrKind) -> u32 {
    k.index() as u32
}

/// The site of `Node::Fail(i)`.
pub(crate) fn fail_site(i: u32) -> u32 {
    (KINDS.len() + INTERNALS.len()) as u32 + i
}

/// Every site of a program, in site order.
pub(crate) fn table(ir: &Ir) -> Vec<Site> {
    let mut out: Vec<Site> = KINDS
        .iter()
        .map(|k| Site {
            kind: *k,
            detail: weft_interp::default_detail(*k),
        })
        .collect();
    out.extend(INTERNALS.iter().map(|i| Site {
        kind: ErrKind::NoRow,
        detail: i.detail(),
    }));
    out.extend(ir.fails.iter().map(|f| Site {
        kind: f.kind,
        detail: f.detail.clone(),
    }));
    out
}

/// The kind and sentence of a site; a `Fail` node whose site is missing
/// fails as the interpreter does (`no_row`, empty sentence).
pub(crate) fn resolve(sites: &[Site], site: u32) -> (ErrKind, String) {
    match sites.get(site as usize) {
        Some(s) => (s.kind, s.detail.clone()),
        None if site >= fail_site(0) => (ErrKind::NoRow, String::new()),
        None => (ErrKind::NoRow, Internal::LostError.detail()),
    }
}
