//! clusterlab-web: the Leptos (CSR) page. Everything it shows is computed by
//! `clusterlab-sim`; the page draws it and sends the reader's actions back.

pub mod bench;
pub mod charts;
mod event_log;
mod export;
mod keys;
mod million;
pub mod fatal;
mod page;
mod panels;
pub mod runner;
mod shell;
mod story;
pub mod stage;

pub use page::Page;
pub use shell::{App, Catalogue};
