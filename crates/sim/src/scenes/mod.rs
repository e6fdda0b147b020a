//! The scenes: one pattern each, built from the shared components.

pub mod circuit_breaker;
pub mod load_balancing;
pub mod theory;
