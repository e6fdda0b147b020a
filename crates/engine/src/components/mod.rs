//! Components shared by the scenes: each a sans-IO state machine. Patterns are policies
//! plugged into these (a balancing policy, a breaker), not copies of them.

pub mod balancer;
pub mod breaker;
pub mod deadlines;
pub mod server;
pub mod service;
pub mod slab;
pub mod source;
