//! The stage: one `<canvas>` where nodes stand where their scene's view puts them and
//! requests fly between them as dots, at positions interpolated from the trace's virtual
//! times. Nothing here knows any scene: the arrangement comes from `SceneView`, what a
//! node shows from its `NodeView`.

use crate::theme;
use clusterlab_sim::num::{Fixed, Short};
use crate::runner::{Dot, End, Runner};
use clusterlab_sim::component::{NodeView, Tone};
use clusterlab_sim::view::StageView;
use clusterlab_sim::world::Node;
use web_sys::CanvasRenderingContext2d as Ctx2d;

pub struct Layout {
    pub centres: Vec<(f64, f64)>,
    pub box_w: f64,
    /// Each node's box height: a column of few nodes gets taller boxes than a crowded one.
    pub box_h: Vec<f64>,
}

impl Layout {
    pub fn new(view: &StageView, nodes: &[Node], width: f64, height: f64) -> Layout {
        let columns = view.columns.len().max(1);
        let column_of = |role: &str| view.columns.iter().position(|c| c.contains(&role)).unwrap_or(columns / 2);
        let used: Vec<usize> = (0..columns).filter(|c| nodes.iter().any(|n| column_of(n.role) == *c)).collect();
        let per_column: Vec<usize> = used.iter().map(|c| nodes.iter().filter(|n| column_of(n.role) == *c).count()).collect();
        let box_w = (width / (used.len() as f64 * 2.2)).clamp(56.0, 130.0);
        // Room for half a box at each edge, whatever the width.
        let margin_x = box_w / 2.0 + (width * 0.04).clamp(6.0, 40.0);
        let mut seen = vec![0usize; columns];
        let mut box_h = Vec::with_capacity(nodes.len());
        let centres = nodes
            .iter()
            .map(|n| {
                let c = column_of(n.role);
                let slot = used.iter().position(|u| *u == c).unwrap_or(0);
                let count = per_column[slot] as f64;
                let i = seen[c] as f64;
                seen[c] += 1;
                let mut x = if used.len() == 1 { width / 2.0 } else { margin_x + slot as f64 * (width - 2.0 * margin_x) / (used.len() - 1) as f64 };
                // Nodes of a role that talk among themselves zigzag, so that their links
                // do not lie on top of one another.
                if view.links.iter().any(|(a, b)| a == b && *a == n.role) && count > 1.0 && seen[c] % 2 == 0 {
                    x += if x > width / 2.0 { -box_w * 1.1 } else { box_w * 1.1 };
                }
                let y = height * (i + 0.5) / count;
                box_h.push(((height - 16.0) / count * 0.78).clamp(7.0, 46.0));
                (x, y)
            })
            .collect();
        Layout { centres, box_w, box_h }
    }

    /// The node under a point, if any.
    pub fn node_at(&self, x: f64, y: f64) -> Option<usize> {
        self.centres.iter().zip(&self.box_h).position(|((cx, cy), h)| (x - cx).abs() <= self.box_w / 2.0 + 4.0 && (y - cy).abs() <= h / 2.0 + 4.0)
    }
}

/// A node's fill when up, dead, hung or slowed; and the colours of the words written on it
/// (its name, its note, a dead node's word, then the tones of its state).
pub const FILLS: [&str; 4] = ["#1f2b38", "#4a1519", "#3a1f4f", "#3a2a0a"];
pub const WORDS: [&str; 7] = ["#e6edf3", "#8b98a5", "#ffb3b3", "#3ddc84", "#ffd43b", "#ff5c5c", "#ff9f43"];
/// The stage's ground.
pub const GROUND: &str = "#0b1015";

/// What a node looks like: a word and a colour for its condition.
pub fn condition(n: &Node) -> (&'static str, &'static str) {
    if !n.alive {
        ("dead", FILLS[1])
    } else if n.hung {
        ("hung", FILLS[2])
    } else if n.slow != 1.0 {
        ("slowed", FILLS[3])
    } else {
        ("up", FILLS[0])
    }
}

/// The colour of a node's own state word, by the tone its component gives it.
pub fn tone_colour(tone: Tone) -> &'static str {
    match tone {
        Tone::Good => WORDS[3],
        Tone::Warn => WORDS[4],
        Tone::Bad => WORDS[5],
        Tone::Neutral => WORDS[6],
    }
}

/// Draws one frame. `speed` sets how long a hop stays visible.
pub fn draw(ctx: &Ctx2d, runner: &Runner, width: f64, height: f64, speed: f64, hover: Option<usize>) -> Layout {
    let nodes = runner.sim.world.nodes();
    let view = &runner.sim.scene.info().view.stage;
    // Nodes of linked roles are joined, all to all; a `paired` link joins only nodes of
    // the same region (the same name after the last '-': client-a and replica-a).
    let region = |n: &Node| n.name.rsplit('-').next().unwrap_or("").to_string();
    let calls = |a: &Node, b: &Node| {
        view.links.iter().any(|(x, y)| *x == a.role && *y == b.role) || view.paired.iter().any(|(x, y)| *x == a.role && *y == b.role && region(a) == region(b))
    };
    let layout = Layout::new(view, nodes, width, height);
    theme::fill(ctx, GROUND);
    ctx.fill_rect(0.0, 0.0, width, height);

    // Links between neighbouring columns; a link a partition cuts is drawn cut: a red
    // stroke across it.
    let world = &runner.sim.world;
    let mut cuts = Vec::new();
    theme::stroke(ctx, "#263241");
    ctx.set_line_width(1.0);
    ctx.begin_path();
    for (a, na) in nodes.iter().enumerate() {
        for (b, nb) in nodes.iter().enumerate() {
            if calls(na, nb) {
                let (pa, pb) = (layout.centres[a], layout.centres[b]);
                ctx.move_to(pa.0, pa.1);
                ctx.line_to(pb.0, pb.1);
                if world.partitioned(a as u32, b as u32) {
                    cuts.push((pa, pb));
                }
            }
        }
    }
    ctx.stroke();
    theme::stroke(ctx, "#ff5c5c");
    ctx.set_line_width(3.0);
    ctx.begin_path();
    for ((x0, y0), (x1, y1)) in cuts {
        let (mx, my) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
        let len = (x1 - x0).hypot(y1 - y0).max(1.0);
        // Across the link, 16 px long.
        let (nx, ny) = (-(y1 - y0) / len * 8.0, (x1 - x0) / len * 8.0);
        ctx.move_to(mx - nx, my - ny);
        ctx.line_to(mx + nx, my + ny);
    }
    ctx.stroke();

    // Key rings (a router's placement of keys), under the dots; their owners get a swatch.
    let views: Vec<NodeView> = nodes.iter().map(Node::view).collect();
    let mut owners = vec![false; nodes.len()];
    for (i, v) in views.iter().enumerate().filter(|(_, v)| !v.ring.is_empty()) {
        draw_ring(ctx, &v.ring, &layout, i, width, height);
        for (owner, _) in &v.ring {
            if let Some(o) = owners.get_mut(*owner as usize) {
                *o = true;
            }
        }
    }

    let still = theme::still();
    if !still {
        draw_dots(ctx, runner, &layout, speed);
    }

    for (i, n) in nodes.iter().enumerate() {
        let box_h = layout.box_h[i];
        draw_node(ctx, n, &views[i], layout.centres[i], layout.box_w, box_h, hover == Some(i));
        if owners[i] {
            let (cx, cy) = layout.centres[i];
            let side = (box_h / 3.0).clamp(4.0, 10.0);
            theme::fill(ctx, owner_colour(i as u32));
            // Bottom right, clear of the name and above the load bar.
            ctx.fill_rect(cx + layout.box_w / 2.0 - side - 2.0, cy + box_h / 2.0 - side - 5.0, side, side);
        }
    }
    if still {
        draw_link_counts(ctx, runner, &layout);
    }
    layout
}

pub const OWNERS: [&str; 10] = ["#4cc2ff", "#3ddc84", "#ff9f43", "#c792ea", "#ffd43b", "#ff6b9a", "#2ec4b6", "#a3be8c", "#f78c6c", "#82aaff"];

/// With reduced motion, no dot moves: each link says, at its middle, how many messages
/// are on it now and how many crossed it (either way) in the last virtual second. Counted
/// from the stage's sample, scaled up (≈) when it animates one request in several.
fn draw_link_counts(ctx: &Ctx2d, runner: &Runner, layout: &Layout) {
    let now = runner.now();
    let k = u64::from(runner.sample_every.max(1));
    let mut links: Vec<((u32, u32), u64, u64)> = Vec::new();
    let mut count = |a: &crate::runner::Arrow, on: bool| {
        let pair = (a.from.min(a.to), a.from.max(a.to));
        let i = links.iter().position(|l| l.0 == pair).unwrap_or_else(|| {
            links.push((pair, 0, 0));
            links.len() - 1
        });
        if on { links[i].1 += k } else { links[i].2 += k }
    };
    runner.flights.iter().filter(|f| f.end == End::Arrived && f.t0 <= now && now < f.t1).for_each(|f| count(f, true));
    runner.recent.iter().rev().take_while(|a| a.t0 + 1_000_000 > now).for_each(|a| count(a, false));
    let about = if k > 1 { "≈" } else { "" };
    ctx.set_font("11px system-ui, sans-serif");
    ctx.set_text_align("center");
    for ((a, b), on, per_s) in links {
        let ((x0, y0), (x1, y1)) = (layout.centres[a as usize], layout.centres[b as usize]);
        let (mx, my) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
        let text = format!("{about}{on} in flight · {about}{per_s}/s");
        let w = ctx.measure_text(&text).map_or(60.0, |m| m.width()) + 6.0;
        theme::fill(ctx, GROUND);
        ctx.fill_rect(mx - w / 2.0, my - 8.0, w, 15.0);
        theme::fill(ctx, WORDS[0]);
        let _ = ctx.fill_text(&text, mx, my + 3.5);
    }
    ctx.set_text_align("start");
}

/// The colour of the keys a node holds, on a ring and on the node's swatch.
pub fn owner_colour(node: u32) -> &'static str {
    OWNERS[node as usize % OWNERS.len()]
}

/// The key space as a ring round node `i`: equal arcs coloured by the node that holds
/// them, and a white rim on those that moved at the last resize.
fn draw_ring(ctx: &Ctx2d, ring: &[(u32, bool)], layout: &Layout, i: usize, width: f64, height: f64) {
    let (cx, cy) = layout.centres[i];
    let gap = layout.centres.iter().map(|(x, _)| (x - cx).abs()).filter(|d| *d > 1.0).fold(width, f64::min);
    let radius = (gap * 0.45).min(height * 0.44).min(cx).max(layout.box_w * 0.6);
    let thick = (radius * 0.16).clamp(5.0, 16.0);
    let step = std::f64::consts::TAU / ring.len() as f64;
    let start = -std::f64::consts::FRAC_PI_2;
    ctx.set_line_width(thick);
    for (k, (owner, _)) in ring.iter().enumerate() {
        theme::stroke(ctx, owner_colour(*owner));
        ctx.begin_path();
        let _ = ctx.arc(cx, cy, radius, start + k as f64 * step, start + (k + 1) as f64 * step + 0.004);
        ctx.stroke();
    }
    ctx.set_line_width(3.0);
    theme::stroke(ctx, "#ffffff");
    for (k, _) in ring.iter().enumerate().filter(|(_, (_, moved))| *moved) {
        ctx.begin_path();
        let _ = ctx.arc(cx, cy, radius + thick / 2.0 + 3.0, start + k as f64 * step, start + (k + 1) as f64 * step);
        ctx.stroke();
    }
}

fn draw_dots(ctx: &Ctx2d, runner: &Runner, layout: &Layout, speed: f64) {
    let now = runner.now();
    let min = Runner::visible_us(speed).max(1);
    let r = if runner.flights.len() > 3_000 { 1.5 } else { 2.5 };
    for dot in Dot::ALL {
        theme::fill(ctx, dot.colour());
        ctx.begin_path();
        // At most twice the runner's mark: a sampled request can carry hundreds of messages
        // (a chat message fanned out to every device), more than sampling alone keeps down.
        for f in runner.flights.iter().take(2 * runner.dots_high).filter(|f| f.shown() == dot) {
            let shown = (f.t1 - f.t0).max(min);
            let p = (now.saturating_sub(f.t0) as f64 / shown as f64).clamp(0.0, 1.0);
            // A refused call comes back to its sender from the dead node.
            let (from, to) = if f.end == End::Refused { (f.to, f.from) } else { (f.from, f.to) };
            let (a, b) = (layout.centres[from as usize], layout.centres[to as usize]);
            let (x, y) = if dot == Dot::Dropped {
                // A lost message falls from its sender, midway to where it was going.
                (a.0 + (b.0 - a.0) * 0.4, a.1 + (b.1 - a.1) * 0.4 + p * 18.0)
            } else {
                (a.0 + (b.0 - a.0) * p, a.1 + (b.1 - a.1) * p)
            };
            ctx.rect(x - r, y - r, 2.0 * r, 2.0 * r);
        }
        ctx.fill();
    }
}

fn draw_node(ctx: &Ctx2d, n: &Node, view: &NodeView, (cx, cy): (f64, f64), w: f64, h: f64, hovered: bool) {
    let (word, fill) = condition(n);
    let (x, y) = (cx - w / 2.0, cy - h / 2.0);
    theme::fill(ctx, fill);
    ctx.fill_rect(x, y, w, h);
    // Load bar: busy workers, then the queue on a log scale, along the bottom.
    if view.workers > 0 {
        let busy = f64::from(view.busy) / f64::from(view.workers);
        let queued = (1.0 + f64::from(view.queue)).log10() / 3.0;
        let load = (busy * 0.4 + queued.min(1.0) * 0.6).min(1.0);
        theme::fill(ctx, if load > 0.8 { "#ff5c5c" } else if load > 0.4 { "#ff9f43" } else { "#3ddc84" });
        ctx.fill_rect(x, y + h - 3.0_f64.min(h / 3.0), w * load, 3.0_f64.min(h / 3.0));
    }
    draw_fill(ctx, view, x, y, w, h);
    theme::stroke(ctx, if hovered { "#ffffff" } else if view.state.is_empty() { "#4a5b6e" } else { tone_colour(view.tone) });
    ctx.set_line_width(if hovered || !view.state.is_empty() { 2.0 } else { 1.0 });
    ctx.stroke_rect(x, y, w, h);
    if h >= 14.0 {
        // Three lines (name, state, note) must fit inside the box: each is squeezed to its width.
        let lines = if view.note.is_empty() { 2.0 } else { 3.0 };
        let size = (h * 0.34).min((h - 10.0) / lines).clamp(9.0, 13.0);
        ctx.set_font(&format!("{}px system-ui, sans-serif", Fixed(size, 0)));
        theme::fill(ctx, WORDS[0]);
        let queue = if view.workers > 0 { format!("q{}", view.queue) } else { String::new() };
        // Wide boxes put the queue beside the name; narrow ones on the second line.
        let wide = w >= 100.0;
        let label = if wide && !queue.is_empty() { format!("{}  {queue}", n.name) } else { n.name.clone() };
        let _ = ctx.fill_text_with_max_width(&label, x + 4.0, y + size + 2.0, w - 8.0);
        let word = match (word, view.state) {
            ("up", "") => String::new(),
            ("up", s) => s.to_string(),
            ("slowed", _) => format!("slowed x{}", Short(n.slow)),
            (w, _) => w.to_string(),
        };
        let status = if wide || queue.is_empty() { word } else { format!("{queue} {word}") };
        if !status.is_empty() && h >= 28.0 {
            theme::fill(ctx, if view.state.is_empty() { WORDS[2] } else { tone_colour(view.tone) });
            let _ = ctx.fill_text_with_max_width(&status, x + 4.0, y + 2.0 * size + 5.0, w - 8.0);
        }
        if !view.note.is_empty() && h >= 40.0 {
            theme::fill(ctx, WORDS[1]);
            let _ = ctx.fill_text_with_max_width(&view.note, x + 4.0, y + 3.0 * size + 8.0, w - 8.0);
        }
    }
    if !n.alive {
        theme::stroke(ctx, "#ff5c5c");
        ctx.begin_path();
        ctx.move_to(x, y);
        ctx.line_to(x + w, y + h);
        ctx.move_to(x + w, y);
        ctx.line_to(x, y + h);
        ctx.stroke();
    }
}

/// A fill level (a cache's fill, a bucket's tokens): a gauge up the box's right edge.
fn draw_fill(ctx: &Ctx2d, view: &NodeView, x: f64, y: f64, w: f64, h: f64) {
    let Some(level) = view.fill else { return };
    let level = level.clamp(0.0, 1.0);
    let gauge = 4.0_f64.min(w / 8.0);
    theme::fill(ctx, "#263241");
    ctx.fill_rect(x + w - gauge - 1.0, y + 1.0, gauge, h - 2.0);
    theme::fill(ctx, "#4cc2ff");
    ctx.fill_rect(x + w - gauge - 1.0, y + 1.0 + (h - 2.0) * (1.0 - level), gauge, (h - 2.0) * level);
}
