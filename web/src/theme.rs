//! The canvases' colours in the light theme. The stage and the charts are drawn with the
//! dark theme's colours; in the light theme each is swapped for its light counterpart
//! here, chosen so that every text the stage writes on a node's fill is at least 4.5:1
//! and every dot, line and arc at least 3:1 against the ground, in both themes (WCAG
//! AA; `web/tests/web.rs` computes them). The space-time diagram is a picture of its own,
//! dark in both themes.

use std::cell::Cell;
use web_sys::CanvasRenderingContext2d as Ctx2d;

thread_local! {
    static LIGHT: Cell<bool> = const { Cell::new(false) };
    static STILL: Cell<bool> = const { Cell::new(false) };
}

/// Dark colour, and what the light theme draws instead.
pub const PAIRS: [(&str, &str); 23] = [
    // Grounds and lines.
    ("#0b1015", "#ffffff"),
    ("#263241", "#d0d7de"),
    ("#4a5b6e", "#8c959f"),
    // A node's fill: up, dead, hung, slowed.
    ("#1f2b38", "#eef2f6"),
    ("#4a1519", "#ffe3e3"),
    ("#3a1f4f", "#efe3ff"),
    ("#3a2a0a", "#fff0d0"),
    // Texts, and the white rim of moved keys.
    ("#e6edf3", "#1f2328"),
    ("#8b98a5", "#57606a"),
    ("#ffb3b3", "#a40e26"),
    ("#ffffff", "#000000"),
    // Dots, tones and lines of charts.
    ("#3ddc84", "#116329"),
    ("#ffd43b", "#7d4e00"),
    ("#ff5c5c", "#b31d28"),
    ("#ff9f43", "#a33c00"),
    ("#4cc2ff", "#0969da"),
    ("#c77dff", "#8250df"),
    ("#ff6b9a", "#bf3989"),
    // The rest of the owners' palette (a shard's keys).
    ("#c792ea", "#8250df"),
    ("#2ec4b6", "#0e7c72"),
    ("#a3be8c", "#4d7a2e"),
    ("#f78c6c", "#b3471f"),
    ("#82aaff", "#3b5fd9"),
];

/// Whether the page shows the light theme (the reader's pick, or else the system's), and
/// whether the reader asked for reduced motion.
pub fn detect() {
    STILL.set(crate::shell::media("(prefers-reduced-motion: reduce)"));
    let chosen = crate::dom::document().document_element().and_then(|e| e.get_attribute("data-theme"));
    LIGHT.set(chosen.map_or_else(|| crate::shell::media("(prefers-color-scheme: light)"), |t| t == "light"));
}

/// Reduced motion: the stage shows counts on its links instead of moving dots.
pub fn still() -> bool {
    STILL.get()
}

/// Colour `c` of the dark palette as the current theme draws it.
pub fn ink(c: &'static str) -> &'static str {
    if !LIGHT.get() {
        return c;
    }
    PAIRS.iter().find(|(dark, _)| *dark == c).map_or(c, |(_, light)| light)
}

pub fn fill(ctx: &Ctx2d, c: &'static str) {
    ctx.set_fill_style_str(ink(c));
}

pub fn stroke(ctx: &Ctx2d, c: &'static str) {
    ctx.set_stroke_style_str(ink(c));
}
