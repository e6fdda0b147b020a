//! How a scene is drawn, as plain data the page reads: where its nodes stand and which
//! links join them, what each chart plots (series columns, titles, units, and the theory
//! line beside the measurement), and which measures its compare table shows. The page
//! has no code of its own for any scene; what each node shows comes from its component
//! (`NodeView`: queue, load, a state word and its tone, a fill level, a note).

/// Where a scene's nodes stand on the stage.
pub struct StageView {
    /// Node roles, column by column from left to right (who calls whom); a role in no
    /// column stands in the middle one.
    pub columns: &'static [&'static [&'static str]],
    /// `(from role, to role)`: the links drawn between every node of one role and every
    /// node of the other.
    pub links: &'static [(&'static str, &'static str)],
    /// `(from role, to role)`: links drawn only between nodes of the same region, the
    /// part of their names after the last '-' (client-a to replica-a).
    pub paired: &'static [(&'static str, &'static str)],
}

/// The page's palette, by name; the page picks the exact shades for its theme.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Colour {
    Blue,
    Green,
    Orange,
    Red,
    Yellow,
    Purple,
    White,
}

impl Colour {
    /// Colours for lines that come one per column (`Source::Prefixed`).
    pub const CYCLE: [Colour; 6] = [Colour::Blue, Colour::Green, Colour::Orange, Colour::Red, Colour::Yellow, Colour::Purple];
}

/// Where a chart line's points come from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Source {
    /// One column of the run's time series (`Sim::series`).
    Column(&'static str),
    /// Every column whose name starts with this prefix, a line each, labelled by the rest
    /// of its name (`queue:` gives `server-1`, `server-2`, ...).
    Prefixed(&'static str),
    /// A value of the scene's theory (`Probe::theory`), times a scale (e.g. 1e-3 from µs
    /// to ms), drawn flat across the chart; absent when theory does not apply.
    Theory(&'static str, f64),
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Line {
    pub label: &'static str,
    pub source: Source,
    pub colour: Colour,
    /// Theory and limits are dashed; measurements are solid.
    pub dashed: bool,
    /// In the compare view, the other side's line is drawn too.
    pub compared: bool,
}

impl Line {
    pub const fn measured(label: &'static str, column: &'static str, colour: Colour) -> Line {
        Line { label, source: Source::Column(column), colour, dashed: false, compared: false }
    }
    pub const fn theory(label: &'static str, name: &'static str, scale: f64, colour: Colour) -> Line {
        Line { label, source: Source::Theory(name, scale), colour, dashed: true, compared: false }
    }
    /// A line for every column whose name starts with `prefix` (`Source::Prefixed`).
    pub const fn each(prefix: &'static str, colour: Colour) -> Line {
        Line { label: "", source: Source::Prefixed(prefix), colour, dashed: false, compared: false }
    }
    pub const fn compared(self) -> Line {
        Line { compared: true, ..self }
    }
}

pub struct Chart {
    pub title: &'static str,
    pub unit: &'static str,
    pub lines: &'static [Line],
}

/// A row of the compare table: a measure from the report's `metrics`, read alike on
/// both sides. Numbers are shown as they are; lists are joined.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Row {
    pub label: &'static str,
    pub metric: &'static str,
}

/// Measures side by side: one column per item of the list measure `columns` (the
/// algorithms fed the same traffic, say), one row per list measure of the same length.
pub struct Table {
    pub caption: &'static str,
    pub columns: &'static str,
    pub rows: &'static [Row],
}

pub struct SceneView {
    pub stage: StageView,
    pub charts: &'static [Chart],
    /// The scene's own rows of the compare table, after the common ones (time, counts,
    /// latency): the measures that tell its lesson and its price.
    pub compare: &'static [Row],
    /// Tables of measures side by side, under the compare table.
    pub tables: &'static [Table],
}

/// Latency percentiles, with the theory's mean and p99 dashed beside them where the
/// scene's theory gives them (`latency_mean_us`, `latency_p99_us`).
pub const LATENCY_CHART: Chart = Chart {
    title: "Latency (ms)",
    unit: "ms",
    lines: &[
        Line::measured("p50", "p50_ms", Colour::Green),
        Line::measured("p95", "p95_ms", Colour::Orange),
        Line::measured("p99", "p99_ms", Colour::Red).compared(),
        Line::theory("theory mean", "latency_mean_us", 1e-3, Colour::White),
        Line::theory("theory p99", "latency_p99_us", 1e-3, Colour::Red),
    ],
};

/// The offered, completed and error rates, and a scene's own lines after them (a macro,
/// so that the chart stays a constant: scene descriptions are data, not code that builds
/// them).
#[macro_export]
macro_rules! traffic_chart {
    ($($extra:expr),* $(,)?) => {
        $crate::view::Chart {
            title: "Throughput and errors",
            unit: "req/s",
            lines: &[
                $crate::view::Line::measured("offered/s", "offered_rps", $crate::view::Colour::Blue),
                $crate::view::Line::measured("completed/s", "throughput_rps", $crate::view::Colour::Green).compared(),
                $crate::view::Line::measured("errors/s", "errors_rps", $crate::view::Colour::Red).compared(),
                $($extra),*
            ],
        }
    };
}
