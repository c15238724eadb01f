//! Phase 5, *analyses*: over the typed program, decision-table gaps,
//! overlaps and dead rows, exception conflicts ([`tables`]) and dependency
//! cycles among rules ([`cycles`]), each reported with a concrete witness.

mod cycles;
mod tables;

use crate::ctx::Ctx;
use crate::decls::Bodies;

/// Run every analysis.
pub fn analyses(cx: &mut Ctx<'_>, bodies: &Bodies) {
    tables::analyse(cx);
    cycles::cycles(cx, &bodies.deps);
}
