//! clusterlab-web: the Leptos (CSR) page. Everything it shows is computed by
//! `clusterlab-sim`; the page draws it and sends the reader's actions back.

pub mod bench;
pub mod fatal;
mod shell;

pub use shell::{App, Catalogue};
