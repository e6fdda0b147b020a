//! clusterlab-web: the Leptos (CSR) page. Everything it shows is computed by
//! `clusterlab-sim`; the page draws it and sends the reader's actions back.

pub mod bench;
pub mod charts;
mod export;
mod keys;
pub mod fatal;
mod page;
mod panels;
pub mod runner;
mod shell;
pub mod stage;

pub use page::Page;
pub use shell::{App, Catalogue};
