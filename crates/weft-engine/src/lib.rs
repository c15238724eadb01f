//! Batch evaluation: a population through an engine, with error rows,
//! summaries and a manifest; and the runner of a policy's tests.
//!
//! This crate owns the files of a run (reading inputs; writing outputs to
//! an owner-only staging directory and swapping it into place whole,
//! under a lock: `commit`, `lock`, `scratch`); the engines it drives do no
//! I/O.

pub mod asserts;
pub mod commit;
mod cpu;
pub mod diff;
pub mod engines;
pub mod explain;
pub mod inputs;
pub mod load;
pub mod lock;
pub mod manifest;
pub mod rows;
pub mod run;
pub mod scratch;
pub mod summary;
pub mod synth;
pub mod testhook;
pub mod testing;
