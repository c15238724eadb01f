//! The compiled-program cache: programs by the hash of what was bound.
//!
//! A [`JitProgram`] has the binding compiled in (formulas, dates and
//! parameter values), so binding the same program for the same month
//! with the same parameters gives the same machine code. The cache keeps
//! the last [`CAPACITY`] programs compiled through
//! [`JitProgram::compile_cached`] in memory, keyed by a 128-bit hash of
//! the [`Ir`] (all but its explanation notes) and the whole [`Bound`] (their `Debug` text, streamed
//! into two SipHash states with different keys, so nothing is allocated);
//! a hit is also checked with [`JitProgram::fits`]. An overlay changes a
//! parameter value, so its binding hashes differently and is compiled.

use crate::{JitError, JitProgram};
use std::fmt::Write as _;
use std::hash::Hasher;
use std::sync::{Arc, Mutex};
use weft_ir::Ir;
use weft_ir::bind::Bound;

/// Programs kept (least recently used dropped first).
pub const CAPACITY: usize = 8;

type Key = (u64, u64);

static CACHE: Mutex<Vec<(Key, Arc<JitProgram>)>> = Mutex::new(Vec::new());

/// Two independent 64-bit hashes of everything written to it.
struct Hash2(std::hash::DefaultHasher, std::hash::DefaultHasher);

impl std::fmt::Write for Hash2 {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.write(s.as_bytes());
        self.1.write(s.as_bytes());
        Ok(())
    }
}

fn key(ir: &Ir, bound: &Bound) -> Key {
    let mut h = Hash2(
        std::hash::DefaultHasher::new(),
        std::hash::DefaultHasher::new(),
    );
    h.1.write_u64(0x9e37_79b9_7f4a_7c15);
    // `Debug` of these types writes every field (derived), so equal text
    // means equal values. `notes` (for explanations) is left out: code
    // does not depend on it, and a hash map's order is not its value.
    let _ = write!(
        h,
        "{:?}\u{0}{:?}\u{0}{:?}\u{0}{:?}\u{0}{:?}\u{0}{:?}\u{0}{:?}\u{0}{:?}\u{0}{:?}\u{0}{:?}\u{0}{:?}\u{0}{bound:?}",
        ir.hir,
        ir.nodes,
        ir.instances,
        ir.contexts,
        ir.param_refs,
        ir.texts,
        ir.fails,
        ir.outputs,
        ir.checks,
        ir.tests,
        ir.asserts,
    );
    (h.0.finish(), h.1.finish())
}

/// A compiled program for `bound`, and whether it was found in the cache.
pub(crate) fn compile_cached(ir: &Ir, bound: &Bound) -> Result<(Arc<JitProgram>, bool), JitError> {
    let k = key(ir, bound);
    if let Ok(mut c) = CACHE.lock()
        && let Some(pos) = c.iter().position(|(x, p)| *x == k && p.fits(bound))
    {
        let entry = c.remove(pos);
        let p = entry.1.clone();
        c.push(entry);
        return Ok((p, true));
    }
    let p = Arc::new(JitProgram::compile(ir, bound)?);
    if let Ok(mut c) = CACHE.lock() {
        if c.len() >= CAPACITY {
            c.remove(0);
        }
        c.push((k, p.clone()));
    }
    Ok((p, false))
}
