//! Batch evaluation: chunks of records through an engine, error rows,
//! summaries; and the runner of a policy's tests.
pub mod testing;
