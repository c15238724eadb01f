//! Weft: load, check, compile and evaluate social-assistance policy.
pub mod engines;
pub mod load;
