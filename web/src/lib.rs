//! clusterlab-web: the page. Everything it shows is computed by `clusterlab-sim`; the
//! page draws it (the stage and charts on canvases, the panels as markup built from the
//! state, `dom` and `views`) and sends the reader's actions back.

pub mod bench;
pub mod charts;
mod checkpoints;
pub mod dom;
mod export;
mod frame;
pub mod fatal;
mod keys;
mod listen;
mod million;
mod page;
pub mod runner;
mod shell;
pub mod stage;
mod stats;
pub mod theme;
mod views;

pub use page::mount_page;
pub use shell::{mount_app, mount_catalogue};
