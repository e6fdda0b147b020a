//! Charts (plotters-canvas): lines over virtual time, with theory drawn beside the
//! measurement where theory gives a number.

use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use web_sys::HtmlCanvasElement;

pub struct Line {
    pub label: String,
    pub colour: RGBColor,
    pub points: Vec<(f64, f64)>,
    /// Theory: drawn dashed.
    pub dashed: bool,
}

const BG: RGBColor = RGBColor(11, 16, 21);
const GRID: RGBColor = RGBColor(38, 50, 65);
const INK: RGBColor = RGBColor(139, 152, 165);
pub const BLUE: RGBColor = RGBColor(76, 194, 255);
pub const GREEN: RGBColor = RGBColor(61, 220, 132);
pub const ORANGE: RGBColor = RGBColor(255, 159, 67);
pub const RED: RGBColor = RGBColor(255, 92, 92);
pub const YELLOW: RGBColor = RGBColor(255, 212, 59);
pub const WHITE: RGBColor = RGBColor(230, 237, 243);
pub const PURPLE: RGBColor = RGBColor(199, 125, 255);

/// The shade of a colour the scene's view names.
pub fn colour(c: clusterlab_sim::view::Colour) -> RGBColor {
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

/// Draws `lines` on `canvas` (already sized in device pixels; `scale` = devicePixelRatio).
pub fn draw(canvas: HtmlCanvasElement, title: &str, y_desc: &str, lines: &[Line], scale: f64) -> Result<(), String> {
    let backend = CanvasBackend::with_canvas_object(canvas).ok_or("no 2D context for a chart")?;
    let root = backend.into_drawing_area();
    let err = |e: DrawingAreaErrorKind<_>| format!("chart '{title}': {e:?}");
    root.fill(&BG).map_err(err)?;
    let x_max = lines.iter().flat_map(|l| l.points.iter().map(|p| p.0)).fold(1.0, f64::max);
    let x_min = lines.iter().flat_map(|l| l.points.iter().map(|p| p.0)).fold(x_max, f64::min).min(x_max - 1.0).max(0.0);
    let y_max = lines.iter().flat_map(|l| l.points.iter().map(|p| p.1)).filter(|y| y.is_finite()).fold(0.0, f64::max).max(1e-9) * 1.15;
    let px = |v: f64| (v * scale) as u32;
    let font = |size: f64| ("system-ui, sans-serif", size * scale).into_font().color(&INK);
    let mut chart = ChartBuilder::on(&root)
        .margin(px(6.0))
        .caption(title, ("system-ui, sans-serif", 12.0 * scale).into_font().color(&WHITE))
        .x_label_area_size(px(18.0))
        .y_label_area_size(px(40.0))
        .build_cartesian_2d(x_min..x_max, 0.0..y_max)
        .map_err(err)?;
    chart
        .configure_mesh()
        .light_line_style(GRID.mix(0.4))
        .bold_line_style(GRID)
        .axis_style(GRID)
        .label_style(font(10.0))
        .x_labels(5)
        .y_labels(4)
        .x_label_formatter(&|x| if x_max - x_min < 10.0 { format!("{x:.1}s") } else { format!("{x:.0}s") })
        .y_label_formatter(&|y| format_value(*y))
        .y_desc(y_desc)
        .draw()
        .map_err(err)?;
    for l in lines {
        let style = ShapeStyle { color: l.colour.to_rgba(), filled: false, stroke_width: px(if l.dashed { 1.0 } else { 1.6 }).max(1) };
        let legend = move |(x, y): (i32, i32)| PathElement::new(vec![(x, y), (x + 14, y)], style);
        if l.dashed {
            chart
                .draw_series(DashedLineSeries::new(l.points.iter().copied(), px(6.0), px(4.0), style))
                .map_err(err)?
                .label(l.label.clone())
                .legend(legend);
        } else {
            chart.draw_series(LineSeries::new(l.points.iter().copied(), style)).map_err(err)?.label(l.label.clone()).legend(legend);
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(BG.mix(0.8))
        .border_style(GRID)
        .label_font(font(10.0))
        .draw()
        .map_err(err)?;
    root.present().map_err(err)
}

fn format_value(y: f64) -> String {
    if y >= 1000.0 { format!("{:.0}k", y / 1000.0) } else if y >= 10.0 { format!("{y:.0}") } else { format!("{y:.1}") }
}
