//! The scenes: one pattern each, built from the shared components.

#[cfg(feature = "caching")]
pub mod caching;
#[cfg(feature = "cap")]
pub mod cap;
#[cfg(feature = "circuit-breaker")]
pub mod circuit_breaker;
#[cfg(feature = "connection-pooling")]
pub mod connection_pooling;
#[cfg(feature = "eventual-consistency")]
pub mod eventual_consistency;
#[cfg(any(feature = "caching", feature = "eventual-consistency", feature = "cap"))]
pub mod history;
#[cfg(feature = "cap")]
pub mod linearizable;
#[cfg(feature = "idempotency")]
pub mod idempotency;
#[cfg(feature = "load-balancing")]
pub mod load_balancing;
pub mod measure;
#[cfg(feature = "monitoring")]
pub mod monitoring;
#[cfg(feature = "partitioning")]
pub mod partitioning;
#[cfg(feature = "rate-limiting")]
pub mod rate_limiting;
#[cfg(feature = "saga")]
pub mod saga;
#[cfg(feature = "scaling")]
pub mod scaling;
#[cfg(feature = "sharding")]
pub mod sharding;
pub mod theory;
#[cfg(feature = "throttling")]
pub mod throttling;
#[cfg(feature = "two-phase-commit")]
pub mod two_phase_commit;
