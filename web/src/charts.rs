//! Charts, drawn straight on a canvas: lines over virtual time, theory dashed beside the
//! measurement, axes with round ticks, and the legend under the plot so that it never
//! covers a line.

use crate::theme;
use clusterlab_sim::num::Fixed;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{CanvasRenderingContext2d as Ctx2d, HtmlCanvasElement};

pub struct Line {
    pub label: String,
    pub colour: &'static str,
    pub points: Vec<(f64, f64)>,
    /// Theory: drawn dashed.
    pub dashed: bool,
}

const BG: &str = "#0b1015";
const GRID: &str = "#263241";
const INK: &str = "#8b98a5";
pub const BLUE: &str = "#4cc2ff";
pub const GREEN: &str = "#3ddc84";
pub const ORANGE: &str = "#ff9f43";
pub const RED: &str = "#ff5c5c";
pub const YELLOW: &str = "#ffd43b";
pub const WHITE: &str = "#e6edf3";
pub const PURPLE: &str = "#c77dff";

/// The shade of a colour the scene's view names.
pub fn colour(c: clusterlab_sim::view::Colour) -> &'static str {
    use clusterlab_sim::view::Colour as C;
    match c {
        C::Blue => BLUE,
        C::Green => GREEN,
        C::Orange => ORANGE,
        C::Red => RED,
        C::Yellow => YELLOW,
        C::Purple => PURPLE,
        C::White => WHITE,
    }
}

const FONT: &str = "10px system-ui, sans-serif";
const SAMPLE_W: f64 = 16.0;

/// Draws `lines` on `canvas` (already sized in device pixels; `scale` = devicePixelRatio).
pub fn draw(canvas: HtmlCanvasElement, title: &str, unit: &str, lines: &[Line], scale: f64) -> Result<(), String> {
    let ctx: Ctx2d = canvas
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into().ok())
        .ok_or_else(|| format!("chart '{title}': no 2D context"))?;
    let (w, h) = (f64::from(canvas.width()) / scale, f64::from(canvas.height()) / scale);
    let _ = ctx.set_transform(scale, 0.0, 0.0, scale, 0.0, 0.0);
    theme::fill(&ctx, BG);
    ctx.fill_rect(0.0, 0.0, w, h);
    ctx.set_font(FONT);

    // The legend under the plot, wrapped to the width: where each entry goes.
    let mut entries = Vec::with_capacity(lines.len());
    let (mut x, mut rows) = (8.0, 1.0);
    for l in lines {
        let width = SAMPLE_W + 4.0 + ctx.measure_text(&l.label).map(|m| m.width()).unwrap_or(40.0) + 10.0;
        if x + width > w - 4.0 && x > 8.0 {
            x = 8.0;
            rows += 1.0;
        }
        entries.push((x, rows));
        x += width;
    }
    let legend_h = rows * 13.0 + 2.0;

    // The plot area and its scales.
    let (left, right, top, bottom) = (40.0, w - 8.0, 20.0, h - 16.0 - legend_h);
    if right - left < 20.0 || bottom - top < 20.0 {
        return Ok(());
    }
    let xs = || lines.iter().flat_map(|l| l.points.iter().map(|p| p.0));
    let x_max = xs().fold(1.0, f64::max);
    let x_min = xs().fold(x_max, f64::min).min(x_max - 1.0).max(0.0);
    let (y_max, y_step) = y_axis(lines.iter().flat_map(|l| l.points.iter().map(|p| p.1)));
    let px = |t: f64| left + (t - x_min) / (x_max - x_min) * (right - left);
    let py = |v: f64| bottom - v / y_max * (bottom - top);

    theme::fill(&ctx, WHITE);
    ctx.set_font("12px system-ui, sans-serif");
    ctx.set_text_align("center");
    let _ = ctx.fill_text(title, w / 2.0, 13.0);
    let title_w = ctx.measure_text(title).map(|m| m.width()).unwrap_or(w);
    ctx.set_font(FONT);
    // The unit in the top-left corner, where the title leaves room for it.
    let unit_w = ctx.measure_text(unit).map(|m| m.width()).unwrap_or(w);
    let show_unit = unit_w + 8.0 < (w - title_w) / 2.0;

    // Grid and ticks.
    theme::stroke(&ctx, GRID);
    ctx.set_line_width(1.0);
    theme::fill(&ctx, INK);
    ctx.set_text_align("right");
    let mut v = 0.0;
    while v <= y_max * 1.0001 {
        let y = py(v).round() + 0.5;
        ctx.begin_path();
        ctx.move_to(left, y);
        ctx.line_to(right, y);
        ctx.stroke();
        let _ = ctx.fill_text(&format_tick(v, y_step), left - 4.0, y + 3.5);
        v += y_step;
    }
    ctx.set_text_align("left");
    if show_unit {
        let _ = ctx.fill_text(unit, 2.0, top - 8.0);
    }
    ctx.set_text_align("center");
    let x_step = round_step((x_max - x_min) / 5.0);
    let mut t = (x_min / x_step).ceil() * x_step;
    while t <= x_max + 1e-9 {
        let x = px(t).round() + 0.5;
        ctx.begin_path();
        ctx.move_to(x, top);
        ctx.line_to(x, bottom);
        ctx.stroke();
        let label = format!("{}s", Fixed(t, u8::from(x_step < 1.0)));
        let _ = ctx.fill_text(&label, x, bottom + 12.0);
        t += x_step;
    }

    // The lines, then the legend.
    let dash = dash_pattern();
    let solid = js_sys::Array::new();
    ctx.save();
    ctx.begin_path();
    ctx.rect(left, top - 1.0, right - left, bottom - top + 2.0);
    ctx.clip();
    for l in lines {
        stroke_style(&ctx, l, &dash, &solid);
        ctx.begin_path();
        for (i, (t, v)) in l.points.iter().filter(|p| p.1.is_finite()).enumerate() {
            if i == 0 {
                ctx.move_to(px(*t), py(*v));
            } else {
                ctx.line_to(px(*t), py(*v));
            }
        }
        ctx.stroke();
    }
    ctx.restore();
    ctx.set_text_align("left");
    for (l, (x, row)) in lines.iter().zip(entries) {
        let y = bottom + 16.0 + row * 13.0 - 4.0;
        stroke_style(&ctx, l, &dash, &solid);
        ctx.begin_path();
        ctx.move_to(x, y - 3.0);
        ctx.line_to(x + SAMPLE_W, y - 3.0);
        ctx.stroke();
        theme::fill(&ctx, INK);
        let _ = ctx.fill_text(&l.label, x + SAMPLE_W + 4.0, y);
    }
    let _ = ctx.set_line_dash(&solid);
    Ok(())
}

fn dash_pattern() -> js_sys::Array {
    let a = js_sys::Array::new();
    a.push(&JsValue::from_f64(5.0));
    a.push(&JsValue::from_f64(4.0));
    a
}

fn stroke_style(ctx: &Ctx2d, l: &Line, dash: &js_sys::Array, solid: &js_sys::Array) {
    theme::stroke(&ctx, l.colour);
    ctx.set_line_width(if l.dashed { 1.2 } else { 1.6 });
    let _ = ctx.set_line_dash(if l.dashed { dash } else { solid });
}

/// The value axis for these values: its top and the step between its ticks (round, about
/// four ticks, some room above the highest value). With nothing above zero (a count still
/// at 0, a theory of 1e-127) it runs from 0 to 1, rather than in ticks a billionth apart
/// that would all read 0.0.
pub fn y_axis(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let top = values.filter(|y| y.is_finite()).fold(0.0, f64::max);
    let top = if top > 1e-9 { top * 1.15 } else { 1.0 };
    let step = round_step(top / 4.0);
    ((top / step).ceil() * step, step)
}

/// A round step (1, 2 or 5 times a power of ten) near `raw`.
fn round_step(raw: f64) -> f64 {
    if !(raw > 0.0) || !raw.is_finite() {
        return 1.0;
    }
    let base = libm::pow(10.0, raw.log10().floor());
    let m = raw / base;
    base * if m <= 1.0 { 1.0 } else if m <= 2.0 { 2.0 } else if m <= 5.0 { 5.0 } else { 10.0 }
}

/// A tick's label: as many decimals as the step between ticks needs (0.005 apart is
/// shown as 0.005, 0.010, ...), so that neighbouring ticks never read the same.
fn format_tick(v: f64, step: f64) -> String {
    if step >= 1.0 {
        return format_value(v);
    }
    let decimals = (1..=6).find(|d| ((step * 10f64.powi(*d)).round() - step * 10f64.powi(*d)).abs() < 1e-6).unwrap_or(6) as u8;
    Fixed(v, decimals).to_string()
}

fn format_value(y: f64) -> String {
    if y >= 1000.0 {
        let k = y / 1000.0;
        format!("{}k", Fixed(k, u8::from(k.fract() != 0.0)))
    } else {
        Fixed(y, if y >= 10.0 || y == 0.0 { 0 } else if y >= 0.1 { 1 } else { 2 }).to_string()
    }
}
