//! The scenes this binary is built with (each a cargo feature), beside the engine's scene
//! types and traits, which are re-exported here.

pub use clusterlab_engine::scene::*;

/// Every scene built into this binary (each is a cargo feature, all on by default).
pub static SCENES: &[&dyn Scene] = &[
    #[cfg(feature = "load-balancing")]
    &crate::scenes::load_balancing::LoadBalancing,
    #[cfg(feature = "circuit-breaker")]
    &crate::scenes::circuit_breaker::CircuitBreaker,
    #[cfg(feature = "sharding")]
    &crate::scenes::sharding::Sharding,
    #[cfg(feature = "caching")]
    &crate::scenes::caching::Caching,
    #[cfg(feature = "eventual-consistency")]
    &crate::scenes::eventual_consistency::EventualConsistency,
    #[cfg(feature = "cap")]
    &crate::scenes::cap::Cap,
    #[cfg(feature = "partitioning")]
    &crate::scenes::partitioning::Partitioning,
    #[cfg(feature = "rate-limiting")]
    &crate::scenes::rate_limiting::RateLimiting,
    #[cfg(feature = "connection-pooling")]
    &crate::scenes::connection_pooling::ConnectionPooling,
    #[cfg(feature = "idempotency")]
    &crate::scenes::idempotency::Idempotency,
    #[cfg(feature = "throttling")]
    &crate::scenes::throttling::Throttling,
    #[cfg(feature = "monitoring")]
    &crate::scenes::monitoring::Monitoring,
    #[cfg(feature = "scaling")]
    &crate::scenes::scaling::Scaling,
    #[cfg(feature = "two-phase-commit")]
    &crate::scenes::two_phase_commit::TwoPhaseCommit,
    #[cfg(feature = "saga")]
    &crate::scenes::saga::Saga,
    #[cfg(feature = "async-processing")]
    &crate::scenes::async_processing::AsyncProcessing,
    #[cfg(feature = "microservices")]
    &crate::scenes::microservices::Microservices,
    #[cfg(feature = "event-driven")]
    &crate::scenes::event_driven::EventDriven,
    #[cfg(feature = "websockets")]
    &crate::scenes::websockets::WebSockets,
    #[cfg(feature = "sse")]
    &crate::scenes::sse::Sse,
];

pub fn find(id: &str) -> crate::error::Result<&'static dyn Scene> {
    SCENES.iter().copied().find(|s| s.info().id == id).ok_or_else(|| {
        let ids: Vec<&str> = SCENES.iter().map(|s| s.info().id).collect();
        crate::error::Error::new(format!("unknown scene '{id}' (scenes: {})", ids.join(", ")))
    })
}

